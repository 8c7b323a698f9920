//! Orders: creation (stock + coupon), the forward-only status machine, shipment and tracking.

use super::prelude::*;
use crate::pricing;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/orders", get(list).post(create))
        .route("/api/orders/{id}", get(show).patch(update))
        .route("/api/orders/{id}/shipment", post(ship))
        .route("/api/orders/{id}/track", get(track))
        .route("/api/orders/{id}/cancel", post(cancel))
}

/// Whether `u` manages `o` as a seller of one of its shops (or as an admin).
fn manages(s: &Store, u: &User, o: &Order) -> bool {
    u.is_admin() || o.items.iter().any(|i| s.owns_shop(u, &i.shop_id))
}

fn visible(s: &Store, u: &User, o: &Order) -> bool {
    o.customer_id == u.id || manages(s, u, o)
}

async fn list(State(st): State<Shared>, Auth(u): Auth, q: Params) -> ApiResult {
    let (pg, limit) = q.page()?;
    let status: Option<OrderStatus> = q.parse("status")?;
    let desc = q.desc()?;
    let s = st.lock();
    let v: Vec<&Order> = s
        .orders
        .iter()
        .filter(|o| visible(&s, &u, o))
        .filter(|o| status.is_none_or(|x| o.status == x))
        .filter(|o| {
            q.str("shopId")
                .is_none_or(|x| o.items.iter().any(|i| i.shop_id == x))
        })
        .filter(|o| q.str("customerId").is_none_or(|x| o.customer_id == x))
        .filter(|o| q.str("paymentStatus").is_none_or(|x| o.payment_status == x))
        .collect();
    ok(Sorted::new(v, q.str("sortBy"), desc)
        .by("createdAt", |o| o.created_at)
        .by("updatedAt", |o| o.updated_at)
        .by("total", |o| o.total)
        .by("status", |o| o.status as u8)
        .page(pg, limit)?)
}

fn get_visible<'a>(s: &'a Store, u: &User, id: &str) -> Result<&'a Order, ApiError> {
    let refusal = "this order belongs to another customer";
    get_allowed(&s.orders, id, "order", |o| visible(s, u, o), refusal)
}

async fn show(State(st): State<Shared>, Auth(u): Auth, Path(id): Path<String>) -> ApiResult {
    let s = st.lock();
    ok(get_visible(&s, &u, &id)?)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemBody {
    product_id: String,
    quantity: u32,
    #[serde(default)]
    variant: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderBody {
    items: Option<Vec<ItemBody>>,
    shipping_address: Option<PostalAddress>,
    billing_address: Option<PostalAddress>,
    payment_method: Option<PaymentMethod>,
    coupon_code: Option<String>,
    customer_notes: Option<String>,
}

fn check_address(field: &str, a: &PostalAddress) -> Result<(), ApiError> {
    for (k, v) in [
        ("name", &a.name),
        ("line1", &a.line1),
        ("city", &a.city),
        ("state", &a.state),
        ("pincode", &a.pincode),
        ("country", &a.country),
    ] {
        validate::text(&format!("{field}.{k}"), v, 200)?;
    }
    Ok(())
}

async fn create(
    State(st): State<Shared>,
    Auth(u): Auth,
    JsonBody(b): JsonBody<OrderBody>,
) -> ApiResult {
    let items = b.items.ok_or_else(|| bad("items", "is required"))?;
    if items.is_empty() || items.len() > 100 {
        return Err(bad("items", "must have from 1 to 100 items"));
    }
    for (i, it) in items.iter().enumerate() {
        validate::quantity(&format!("items[{i}].quantity"), it.quantity)?;
    }
    let ship = b
        .shipping_address
        .ok_or_else(|| bad("shippingAddress", "is required"))?;
    check_address("shippingAddress", &ship)?;
    if let Some(a) = &b.billing_address {
        check_address("billingAddress", a)?;
    }
    let notes = validate::optional("customerNotes", b.customer_notes.as_ref(), 2000)?;
    let code = b
        .coupon_code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_uppercase);
    let now = Ts::now();
    let mut s = st.lock();

    // Price every line and check stock against the combined quantity per product/variant
    // before touching anything, so a refused order changes nothing.
    let mut lines = Vec::new();
    let mut wanted: Vec<(String, Option<String>, u32, u32)> = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let field = format!("items[{i}].productId");
        let p = lookup(&s.products, &it.product_id, &format!("{field}: product"))?;
        let (price, stock, variant) = unit(p, it.variant.as_deref(), &field)?;
        match wanted.iter_mut().find(|w| w.0 == p.id && w.1 == variant) {
            Some(w) => w.2 += it.quantity,
            None => wanted.push((p.id.clone(), variant.clone(), it.quantity, stock)),
        }
        lines.push(OrderItem {
            id: format!("oi-{}", i + 1),
            product_id: p.id.clone(),
            product_name: p.name.clone(),
            price,
            quantity: it.quantity,
            total: validate::round2(price * f64::from(it.quantity)),
            variant,
            shop_id: p.shop_id.clone(),
        });
    }
    for (pid, _, qty, stock) in &wanted {
        if qty > stock {
            return Err(bad(
                "items",
                format!(
                    "insufficient stock for product '{pid}': {stock} available, {qty} requested"
                ),
            ));
        }
    }
    let subtotal: f64 = lines.iter().map(|l| l.total).sum();
    let (discount, free) = match &code {
        None => (0.0, false),
        Some(c) => {
            let coupon = s
                .coupons
                .iter()
                .find(|x| &x.code == c)
                .ok_or_else(|| not_found("couponCode: coupon", c))?;
            let claim = pricing::Claim {
                user: Some(&u.id),
                lines: pricing::Claim::of_products(&s, lines.iter().map(|l| l.product_id.as_str())),
            };
            pricing::coupon_restrictions(&s, coupon, &claim).map_err(|e| bad("couponCode", e))?;
            pricing::coupon_discount(coupon, subtotal, now).map_err(|e| bad("couponCode", e))?
        }
    };
    let t = pricing::totals(subtotal, discount, free);

    for (pid, variant, qty, _) in &wanted {
        if let Some(p) = s.products.iter_mut().find(|p| &p.id == pid) {
            p.stock_count -= qty;
            p.sales_count += qty;
            if let Some(v) = p
                .variants
                .iter_mut()
                .find(|v| Some(&v.name) == variant.as_ref())
            {
                v.stock = v.stock.map(|n| n.saturating_sub(*qty));
            }
            if p.stock_count == 0 && p.status == ProductStatus::Published {
                p.status = ProductStatus::OutOfStock;
            }
        }
    }
    if let Some(c) = &code
        && let Some(coupon) = s.coupons.iter_mut().find(|x| &x.code == c)
    {
        coupon.usage_count += 1;
    }
    let id = s.next_id("ord");
    let order = Order {
        order_number: format!("ORD-{}", id.trim_start_matches("ord-")),
        id,
        customer_id: u.id.clone(),
        shop_id: lines[0].shop_id.clone(),
        items: lines,
        subtotal: t.subtotal,
        shipping: t.shipping,
        tax: t.tax,
        discount: t.discount,
        total: t.total,
        coupon_code: code,
        billing_address: b.billing_address.unwrap_or_else(|| ship.clone()),
        shipping_address: ship,
        status: OrderStatus::Pending,
        payment_status: "pending".into(),
        payment_method: b.payment_method.unwrap_or(PaymentMethod::Cod),
        tracking_number: None,
        shipping_provider: None,
        estimated_delivery: None,
        shipped_at: None,
        delivered_at: None,
        cancelled_at: None,
        customer_notes: notes,
        internal_notes: None,
        status_history: vec![StatusChange {
            status: OrderStatus::Pending,
            at: now,
            by: u.id.clone(),
            notes: None,
        }],
        created_at: now,
        updated_at: now,
    };
    s.orders.push(order.clone());
    created(order)
}

use super::cart::unit;

/// The forward-only order machine.
fn allowed(from: OrderStatus, to: OrderStatus) -> bool {
    use OrderStatus::*;
    matches!(
        (from, to),
        (Pending, Confirmed)
            | (Confirmed, Processing)
            | (Processing, Shipped)
            | (Shipped, Delivered)
            | (Pending | Confirmed | Processing, Cancelled)
            | (Delivered, Refunded)
    )
}

/// Applies a transition and its side effects (timestamps, payment status, stock on cancel).
fn transition(
    s: &mut Store,
    id: &str,
    to: OrderStatus,
    by: &str,
    notes: Option<String>,
) -> Result<Order, ApiError> {
    let now = Ts::now();
    let o = lookup_mut(&mut s.orders, id, "order")?;
    // Asking for the status the order already has changes nothing (as for auctions and blog
    // posts): e.g. a PATCH to `shipped` after the shipment call already shipped it.
    if o.status == to {
        return Ok(o.clone());
    }
    if !allowed(o.status, to) {
        return Err(bad_transition("an order", o.status, to));
    }
    o.status = to;
    o.updated_at = now;
    o.status_history.push(StatusChange {
        status: to,
        at: now,
        by: by.to_string(),
        notes: notes.clone(),
    });
    if notes.is_some() {
        o.internal_notes = notes;
    }
    match to {
        OrderStatus::Shipped => o.shipped_at = Some(now),
        OrderStatus::Delivered => {
            o.delivered_at = Some(now);
            o.payment_status = "paid".into();
        }
        OrderStatus::Cancelled => o.cancelled_at = Some(now),
        OrderStatus::Refunded => o.payment_status = "refunded".into(),
        _ => {}
    }
    let out = o.clone();
    if to == OrderStatus::Cancelled {
        for it in &out.items {
            if let Some(p) = s.products.iter_mut().find(|p| p.id == it.product_id) {
                p.stock_count = p.stock_count.saturating_add(it.quantity);
                p.sales_count = p.sales_count.saturating_sub(it.quantity);
                if let Some(v) = p
                    .variants
                    .iter_mut()
                    .find(|v| Some(&v.name) == it.variant.as_ref())
                {
                    v.stock = v.stock.map(|n| n.saturating_add(it.quantity));
                }
                if p.status == ProductStatus::OutOfStock {
                    p.status = ProductStatus::Published;
                }
            }
        }
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PatchBody {
    status: Option<OrderStatus>,
    notes: Option<String>,
    internal_notes: Option<String>,
}

async fn update(
    State(st): State<Shared>,
    Auth(u): Auth,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<PatchBody>,
) -> ApiResult {
    let notes = validate::optional(
        "notes",
        b.notes.as_ref().or(b.internal_notes.as_ref()),
        2000,
    )?;
    let mut s = st.lock();
    let o = get_visible(&s, &u, &id)?;
    let seller = manages(&s, &u, o);
    let oid = o.id.clone();
    match b.status {
        Some(to) => {
            ensure(
                seller || to == OrderStatus::Cancelled,
                "customers can only cancel their orders",
            )?;
            ok(transition(
                &mut s,
                &oid,
                to,
                &u.id,
                if seller { notes } else { None },
            )?)
        }
        None => {
            ensure(
                seller,
                "only the shop's seller or an admin can edit an order",
            )?;
            let o = lookup_mut(&mut s.orders, &oid, "order")?;
            if notes.is_some() {
                o.internal_notes = notes;
                o.updated_at = Ts::now();
            }
            ok(o.clone())
        }
    }
}

async fn cancel(
    State(st): State<Shared>,
    Auth(u): Auth,
    Path(id): Path<String>,
    JsonBody(_): JsonBody<Empty>,
) -> ApiResult {
    let mut s = st.lock();
    let oid = get_visible(&s, &u, &id)?.id.clone();
    ok(transition(
        &mut s,
        &oid,
        OrderStatus::Cancelled,
        &u.id,
        None,
    )?)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShipmentBody {
    carrier: Option<String>,
    #[serde(alias = "tracking_number")]
    tracking_number: Option<String>,
    eta: Option<Ts>,
}

async fn ship(
    State(st): State<Shared>,
    Auth(u): Auth,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ShipmentBody>,
) -> ApiResult {
    let carrier = validate::required("carrier", b.carrier.as_ref(), 100)?;
    let tracking = validate::required("tracking_number", b.tracking_number.as_ref(), 100)?;
    let mut s = st.lock();
    let o = get_visible(&s, &u, &id)?;
    ensure(
        manages(&s, &u, o),
        "only the shop's seller or an admin can ship an order",
    )?;
    let oid = o.id.clone();
    // The shipment call may skip `processing`: confirmed → shipped is allowed here.
    if o.status == OrderStatus::Confirmed {
        transition(&mut s, &oid, OrderStatus::Processing, &u.id, None)?;
    }
    let status = lookup(&s.orders, &oid, "order")?.status;
    if status != OrderStatus::Processing {
        return Err(bad(
            "status",
            format!(
                "only confirmed or processing orders can be shipped (order is {})",
                wire_name(status)
            ),
        ));
    }
    transition(&mut s, &oid, OrderStatus::Shipped, &u.id, None)?;
    let o = lookup_mut(&mut s.orders, &oid, "order")?;
    o.shipping_provider = Some(carrier);
    o.tracking_number = Some(tracking);
    o.estimated_delivery = Some(b.eta.unwrap_or_else(|| Ts::now().plus_days(3)));
    ok(o.clone())
}

async fn track(State(st): State<Shared>, Auth(u): Auth, Path(id): Path<String>) -> ApiResult {
    let s = st.lock();
    let o = get_visible(&s, &u, &id)?;
    let status = match (o.status, &o.tracking_number) {
        (OrderStatus::Shipped, Some(_)) => "in_transit".to_string(),
        (OrderStatus::Pending | OrderStatus::Confirmed | OrderStatus::Processing, None) => {
            "pending_shipment".to_string()
        }
        (st, _) => wire_name(st),
    };
    ok(json!({
        "orderId": o.id,
        "status": status,
        "orderStatus": o.status,
        "carrier": o.shipping_provider,
        "trackingNumber": o.tracking_number,
        "estimatedDelivery": o.estimated_delivery,
        "location": if o.status == OrderStatus::Shipped { Some("In transit") } else { None },
        "lastUpdate": o.updated_at,
        "history": o.status_history,
    }))
}
