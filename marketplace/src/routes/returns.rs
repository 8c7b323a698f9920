//! Returns and refunds.
//!
//! Machine: `requested → approved | rejected`, `approved → item-received → refund-processed →
//! completed`. An admin may approve a `rejected` or `escalated` return (override) and resolve
//! any open dispute with a full, partial or no refund. `escalated` (from requested or rejected)
//! sets `requiresAdminIntervention`.

use super::prelude::*;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/returns", get(list).post(create))
        .route("/api/returns/stats", get(stats))
        .route("/api/returns/{id}", get(show).patch(update))
        .route("/api/returns/{id}/approve", post(approve))
        .route("/api/returns/{id}/refund", post(refund))
        .route("/api/returns/{id}/resolve", post(resolve))
}

fn visible(s: &Store, u: &User, r: &ReturnRequest) -> bool {
    r.customer_id == u.id || s.owns_shop(u, &r.shop_id)
}

fn manageable<'a>(s: &'a Store, u: &User, id: &str) -> Result<&'a ReturnRequest, ApiError> {
    let refusal = "only the shop's seller or an admin can manage this return";
    get_allowed(
        &s.returns,
        id,
        "return",
        |r| s.owns_shop(u, &r.shop_id),
        refusal,
    )
}

fn scoped<'a>(s: &'a Store, u: &User, q: &Params) -> Result<Vec<&'a ReturnRequest>, ApiError> {
    let shop = match q.str("shopId") {
        Some(k) => {
            let id = id_of(&s.shops, k, "shopId: shop")?;
            ensure(
                u.role != Role::Seller || s.owns_shop(u, &id),
                "sellers can only see their own shop's returns",
            )?;
            Some(id)
        }
        None => None,
    };
    Ok(s.returns
        .iter()
        .filter(|r| visible(s, u, r))
        .filter(|r| shop.as_ref().is_none_or(|x| &r.shop_id == x))
        .collect())
}

async fn list(State(st): State<Shared>, Auth(u): Auth, q: Params) -> ApiResult {
    let (pg, limit) = q.page()?;
    let status: Option<ReturnStatus> = q.parse("status")?;
    let reason: Option<ReturnReason> = q.parse("reason")?;
    let admin = q.bool("requiresAdminIntervention")?;
    let desc = q.desc()?;
    let s = st.lock();
    let v: Vec<&ReturnRequest> = scoped(&s, &u, &q)?
        .into_iter()
        .filter(|r| status.is_none_or(|x| r.status == x))
        .filter(|r| reason.is_none_or(|x| r.reason == x))
        .filter(|r| admin.is_none_or(|x| r.requires_admin_intervention == x))
        .filter(|r| q.str("orderId").is_none_or(|x| r.order_id == x))
        .collect();
    ok(Sorted::new(v, q.str("sortBy"), desc)
        .by("createdAt", |r| r.created_at)
        .by("updatedAt", |r| r.updated_at)
        .by("refundAmount", |r| r.refund_amount.unwrap_or(0.0))
        .page(pg, limit)?)
}

async fn stats(State(st): State<Shared>, Auth(u): Auth, q: Params) -> ApiResult {
    let s = st.lock();
    let v = scoped(&s, &u, &q)?;
    let count = |x: ReturnStatus| v.iter().filter(|r| r.status == x).count();
    let refunds: Vec<f64> = v.iter().filter_map(|r| r.refund_amount).collect();
    let total: f64 = refunds.iter().sum();
    ok(json!({
        "total": v.len(),
        "pending": count(ReturnStatus::Requested),
        "approved": count(ReturnStatus::Approved),
        "rejected": count(ReturnStatus::Rejected),
        "itemReceived": count(ReturnStatus::ItemReceived),
        "refundProcessed": count(ReturnStatus::RefundProcessed),
        "completed": count(ReturnStatus::Completed),
        "escalated": count(ReturnStatus::Escalated),
        "adminIntervention": v.iter().filter(|r| r.requires_admin_intervention).count(),
        "totalRefundAmount": validate::round2(total),
        "averageRefundAmount": if refunds.is_empty() { 0.0 } else { validate::round2(total / refunds.len() as f64) },
    }))
}

async fn show(State(st): State<Shared>, Auth(u): Auth, Path(id): Path<String>) -> ApiResult {
    let s = st.lock();
    let refusal = "this return belongs to another customer";
    ok(get_allowed(
        &s.returns,
        &id,
        "return",
        |r| visible(&s, &u, r),
        refusal,
    )?)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody {
    order_id: Option<String>,
    order_item_id: Option<String>,
    reason: Option<ReturnReason>,
    description: Option<String>,
    media: Option<Vec<String>>,
}

async fn create(
    State(st): State<Shared>,
    Auth(u): Auth,
    JsonBody(b): JsonBody<CreateBody>,
) -> ApiResult {
    let oid = validate::required("orderId", b.order_id.as_ref(), 100)?;
    let reason = b.reason.ok_or_else(|| bad("reason", "is required"))?;
    let description = validate::required("description", b.description.as_ref(), 5000)?;
    let media = validate::strings("media", b.media.as_deref().unwrap_or(&[]), 20)?;
    let mut s = st.lock();
    let refusal = "orderId: returns can only be requested for your own orders";
    let o = get_allowed(
        &s.orders,
        &oid,
        "orderId: order",
        |o| o.customer_id == u.id,
        refusal,
    )?;
    if matches!(o.status, OrderStatus::Cancelled | OrderStatus::Refunded) {
        return Err(bad(
            "orderId",
            format!("a {} order cannot be returned", wire_name(o.status)),
        ));
    }
    let item = match b.order_item_id.as_deref() {
        Some(k) => o
            .items
            .iter()
            .find(|i| i.id == k || i.product_id == k)
            .ok_or_else(|| not_found("orderItemId: order item", k))?,
        None => o
            .items
            .first()
            .ok_or_else(|| bad("orderId", "the order has no items"))?,
    };
    let (order_id, item_id, shop_id) = (o.id.clone(), item.id.clone(), item.shop_id.clone());
    if s.returns.iter().any(|r| {
        r.order_id == order_id && r.order_item_id == item_id && r.status != ReturnStatus::Rejected
    }) {
        return Err(conflict(
            "orderItemId: a return for this item is already open",
        ));
    }
    let now = Ts::now();
    let r = ReturnRequest {
        id: s.next_id("ret"),
        order_id,
        order_item_id: item_id,
        customer_id: u.id.clone(),
        shop_id,
        reason,
        description,
        media,
        status: ReturnStatus::Requested,
        refund_amount: None,
        refund_method: None,
        refund_transaction_id: None,
        refunded_at: None,
        requires_admin_intervention: false,
        resolution: None,
        seller_notes: None,
        admin_notes: None,
        created_at: now,
        updated_at: now,
    };
    s.returns.push(r.clone());
    created(r)
}

/// Moves a return to `to`, enforcing the machine; `admin` unlocks the overrides.
fn transition(r: &mut ReturnRequest, to: ReturnStatus, admin: bool) -> Result<(), ApiError> {
    use ReturnStatus::*;
    let ok = match (r.status, to) {
        (Requested, Approved | Rejected | Escalated) => true,
        (Rejected, Escalated) => true,
        (Rejected | Escalated, Approved | Rejected) => admin,
        (Approved, ItemReceived) => true,
        (ItemReceived, RefundProcessed) => true,
        (RefundProcessed, Completed) => true,
        _ => false,
    };
    if !ok {
        let who = if admin {
            ""
        } else {
            " (admin overrides need an admin)"
        };
        return Err(bad(
            "status",
            format!(
                "cannot move a return from {} to {}{who}",
                wire_name(r.status),
                wire_name(to)
            ),
        ));
    }
    r.status = to;
    r.updated_at = Ts::now();
    if to == Escalated {
        r.requires_admin_intervention = true;
    }
    if admin && matches!(to, Approved | Rejected) {
        r.requires_admin_intervention = false;
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PatchBody {
    status: Option<ReturnStatus>,
    admin_notes: Option<String>,
    seller_notes: Option<String>,
    requires_admin_intervention: Option<bool>,
}

async fn update(
    State(st): State<Shared>,
    a: Auth,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<PatchBody>,
) -> ApiResult {
    let admin_notes = validate::optional("adminNotes", b.admin_notes.as_ref(), 5000)?;
    let seller_notes = validate::optional("sellerNotes", b.seller_notes.as_ref(), 5000)?;
    if b.status == Some(ReturnStatus::RefundProcessed) {
        return Err(bad("status", "use POST /api/returns/{id}/refund to refund"));
    }
    let mut s = st.lock();
    let rid = {
        let r = lookup(&s.returns, &id, "return")?;
        let customer_escalates = r.customer_id == a.0.id
            && b.status == Some(ReturnStatus::Escalated)
            && admin_notes.is_none()
            && seller_notes.is_none();
        if !customer_escalates {
            manageable(&s, &a.0, &id)?;
        }
        r.id.clone()
    };
    let admin = a.is_admin();
    let r = lookup_mut(&mut s.returns, &rid, "return")?;
    let mut next = r.clone();
    if let Some(to) = b.status {
        transition(&mut next, to, admin)?;
    }
    // Sellers' notes go to sellerNotes whatever they call them; adminNotes is the admin's.
    if let Some(n) = admin_notes {
        if admin {
            next.admin_notes = Some(n)
        } else {
            next.seller_notes = Some(n)
        }
    }
    set_some(&mut next.seller_notes, seller_notes);
    patch!(next, b: requires_admin_intervention);
    next.updated_at = Ts::now();
    *r = next.clone();
    ok(next)
}

#[derive(Deserialize)]
struct ApproveBody {
    approved: Option<bool>,
    notes: Option<String>,
}

async fn approve(
    State(st): State<Shared>,
    a: Auth,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ApproveBody>,
) -> ApiResult {
    let approved = b
        .approved
        .ok_or_else(|| bad("approved", "is required (true or false)"))?;
    let notes = validate::optional("notes", b.notes.as_ref(), 5000)?;
    let mut s = st.lock();
    let rid = manageable(&s, &a.0, &id)?.id.clone();
    let admin = a.is_admin();
    let r = lookup_mut(&mut s.returns, &rid, "return")?;
    let mut next = r.clone();
    transition(
        &mut next,
        if approved {
            ReturnStatus::Approved
        } else {
            ReturnStatus::Rejected
        },
        admin,
    )?;
    if notes.is_some() {
        if admin {
            next.admin_notes = notes
        } else {
            next.seller_notes = notes
        }
    }
    *r = next.clone();
    ok(next)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefundBody {
    refund_amount: Option<f64>,
    refund_method: Option<String>,
    refund_transaction_id: Option<String>,
}

fn order_total(s: &Store, r: &ReturnRequest) -> f64 {
    s.orders
        .iter()
        .find(|o| o.id == r.order_id)
        .map_or(0.0, |o| o.total)
}

async fn refund(
    State(st): State<Shared>,
    a: Auth,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<RefundBody>,
) -> ApiResult {
    let amount = validate::positive_money(
        "refundAmount",
        b.refund_amount
            .ok_or_else(|| bad("refundAmount", "is required"))?,
    )?;
    let method = validate::required("refundMethod", b.refund_method.as_ref(), 100)?;
    let txn = validate::optional("refundTransactionId", b.refund_transaction_id.as_ref(), 200)?;
    let mut s = st.lock();
    let r = manageable(&s, &a.0, &id)?;
    let max = order_total(&s, r);
    if amount > max {
        return Err(bad(
            "refundAmount",
            format!("must not exceed the order total {max}"),
        ));
    }
    let rid = r.id.clone();
    let admin = a.is_admin();
    let r = lookup_mut(&mut s.returns, &rid, "return")?;
    let mut next = r.clone();
    // Admins may refund an approved return before the item comes back (manual refund).
    if admin && next.status == ReturnStatus::Approved {
        next.status = ReturnStatus::ItemReceived;
    }
    if next.status != ReturnStatus::ItemReceived {
        return Err(bad(
            "status",
            format!(
                "only a return whose item was received can be refunded (this one is {})",
                wire_name(next.status)
            ),
        ));
    }
    transition(&mut next, ReturnStatus::RefundProcessed, admin)?;
    next.refund_amount = Some(amount);
    next.refund_method = Some(method);
    next.refund_transaction_id = txn;
    next.refunded_at = Some(Ts::now());
    *r = next.clone();
    ok(next)
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
enum Resolution {
    #[serde(rename = "full_refund")]
    Full,
    #[serde(rename = "partial_refund")]
    Partial,
    #[serde(rename = "no_refund")]
    Nothing,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResolveBody {
    resolution: Option<Resolution>,
    refund_amount: Option<f64>,
    notes: Option<String>,
}

async fn resolve(
    State(st): State<Shared>,
    a: Auth,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ResolveBody>,
) -> ApiResult {
    a.admin()?;
    let resolution = b.resolution.ok_or_else(|| {
        bad(
            "resolution",
            "is required (full_refund, partial_refund, no_refund)",
        )
    })?;
    let amount = present(b.refund_amount, |v| {
        validate::positive_money("refundAmount", v)
    })?;
    let notes = validate::optional("notes", b.notes.as_ref(), 5000)?;
    let mut s = st.lock();
    let r = lookup(&s.returns, &id, "return")?;
    if matches!(
        r.status,
        ReturnStatus::RefundProcessed | ReturnStatus::Completed
    ) {
        return Err(bad(
            "status",
            format!("a {} return is already settled", wire_name(r.status)),
        ));
    }
    let max = order_total(&s, r);
    let refund = match resolution {
        Resolution::Nothing => None,
        Resolution::Full => Some(amount.unwrap_or(max)),
        Resolution::Partial => {
            Some(amount.ok_or_else(|| bad("refundAmount", "is required for a partial refund"))?)
        }
    };
    if let Some(v) = refund
        && v > max
    {
        return Err(bad(
            "refundAmount",
            format!("must not exceed the order total {max}"),
        ));
    }
    let rid = r.id.clone();
    let r = lookup_mut(&mut s.returns, &rid, "return")?;
    let now = Ts::now();
    r.resolution = Some(resolution_name(resolution).to_string());
    r.requires_admin_intervention = false;
    r.admin_notes = notes.or(r.admin_notes.take());
    r.updated_at = now;
    match refund {
        Some(v) => {
            r.status = ReturnStatus::RefundProcessed;
            r.refund_amount = Some(v);
            r.refund_method = Some("admin_adjustment".into());
            r.refunded_at = Some(now);
        }
        None => r.status = ReturnStatus::Rejected,
    }
    ok(r.clone())
}

fn resolution_name(r: Resolution) -> &'static str {
    match r {
        Resolution::Full => "full_refund",
        Resolution::Partial => "partial_refund",
        Resolution::Nothing => "no_refund",
    }
}
