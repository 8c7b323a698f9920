//! Support tickets and their messages.
//!
//! Machine: `open → in-progress → resolved → closed` (forward only; `escalated` from any open
//! state, `closed` reachable from every non-closed state). A reply moves `open` to
//! `in-progress` and re-opens a `resolved` or `closed` ticket to `in-progress`.

use super::prelude::*;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/support/tickets", get(list).post(create))
        .route("/api/support/tickets/{id}", get(show).patch(update))
        .route("/api/support/tickets/{id}/assign", post(assign))
        .route("/api/support/tickets/{id}/close", post(close))
        .route(
            "/api/support/tickets/{id}/messages",
            get(messages).post(reply),
        )
        .route("/api/support/tickets/{id}/reply", post(reply))
}

fn visible(s: &Store, u: &User, t: &Ticket) -> bool {
    u.is_admin() || t.user_id == u.id || t.shop_id.as_deref().is_some_and(|sh| s.owns_shop(u, sh))
}

fn get_visible<'a>(s: &'a Store, u: &User, id: &str) -> Result<&'a Ticket, ApiError> {
    let refusal = "this ticket belongs to another user";
    get_allowed(&s.tickets, id, "ticket", |t| visible(s, u, t), refusal)
}

async fn list(State(st): State<Shared>, Auth(u): Auth, q: Params) -> ApiResult {
    let (pg, limit) = q.page()?;
    let status: Option<TicketStatus> = q.parse("status")?;
    let category: Option<TicketCategory> = q.parse("category")?;
    let priority: Option<Priority> = q.parse("priority")?;
    let desc = q.desc()?;
    let s = st.lock();
    let v: Vec<&Ticket> = s
        .tickets
        .iter()
        .filter(|t| visible(&s, &u, t))
        .filter(|t| status.is_none_or(|x| t.status == x))
        .filter(|t| category.is_none_or(|x| t.category == x))
        .filter(|t| priority.is_none_or(|x| t.priority == x))
        .filter(|t| {
            q.str("assignedTo")
                .is_none_or(|x| t.assigned_to.as_deref() == Some(x))
        })
        .collect();
    ok(Sorted::new(v, q.str("sortBy"), desc)
        .by("createdAt", |t| t.created_at)
        .by("updatedAt", |t| t.updated_at)
        .by("priority", |t| t.priority as u8)
        .page(pg, limit)?)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody {
    category: Option<TicketCategory>,
    priority: Option<Priority>,
    subject: Option<String>,
    description: Option<String>,
    attachments: Option<Vec<String>>,
    shop_id: Option<String>,
    order_id: Option<String>,
}

async fn create(
    State(st): State<Shared>,
    Auth(u): Auth,
    JsonBody(b): JsonBody<CreateBody>,
) -> ApiResult {
    let category = b.category.ok_or_else(|| bad("category", "is required"))?;
    let subject = validate::required("subject", b.subject.as_ref(), 200)?;
    if subject.chars().count() < 3 {
        return Err(bad("subject", "must be at least 3 characters"));
    }
    let description = validate::required("description", b.description.as_ref(), 5000)?;
    if description.chars().count() < 10 {
        return Err(bad("description", "must be at least 10 characters"));
    }
    let attachments =
        validate::strings("attachments", b.attachments.as_deref().unwrap_or(&[]), 20)?;
    let mut s = st.lock();
    let shop_id = present(b.shop_id.as_deref(), |k| id_of(&s.shops, k, "shopId: shop"))?;
    let order_id = match b.order_id.as_deref() {
        Some(k) => {
            let o = lookup(&s.orders, k, "orderId: order")?;
            ensure(
                o.customer_id == u.id || u.is_admin(),
                "orderId: this order belongs to another customer",
            )?;
            Some(o.id.clone())
        }
        None => None,
    };
    let now = Ts::now();
    let t = Ticket {
        id: s.next_id("tkt"),
        user_id: u.id.clone(),
        shop_id,
        order_id,
        category,
        priority: b.priority.unwrap_or(Priority::Medium),
        subject,
        description,
        attachments,
        status: TicketStatus::Open,
        assigned_to: None,
        message_count: 0,
        created_at: now,
        updated_at: now,
        resolved_at: None,
    };
    s.tickets.push(t.clone());
    created(t)
}

async fn show(State(st): State<Shared>, Auth(u): Auth, Path(id): Path<String>) -> ApiResult {
    let s = st.lock();
    ok(get_visible(&s, &u, &id)?)
}

fn allowed(from: TicketStatus, to: TicketStatus) -> bool {
    use TicketStatus::*;
    matches!(
        (from, to),
        (Open, InProgress | Resolved | Escalated | Closed)
            | (InProgress, Resolved | Escalated | Closed)
            | (Escalated, InProgress | Resolved | Closed)
            | (Resolved, Closed)
    )
}

fn set_status(t: &mut Ticket, to: TicketStatus) -> Result<(), ApiError> {
    if !allowed(t.status, to) {
        return Err(bad_transition("a ticket", t.status, to));
    }
    let now = Ts::now();
    t.status = to;
    t.updated_at = now;
    if matches!(to, TicketStatus::Resolved | TicketStatus::Closed) && t.resolved_at.is_none() {
        t.resolved_at = Some(now);
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PatchBody {
    status: Option<TicketStatus>,
    priority: Option<Priority>,
    subject: Option<String>,
    assigned_to: Option<String>,
}

async fn update(
    State(st): State<Shared>,
    a: Auth,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<PatchBody>,
) -> ApiResult {
    let subject = present(b.subject.as_deref(), |x| validate::text("subject", x, 200))?;
    let assignee = present(b.assigned_to.as_deref(), |x| {
        validate::text("assignedTo", x, 100)
    })?;
    let mut s = st.lock();
    let tid = get_visible(&s, &a.0, &id)?.id.clone();
    // The owner may resolve or close their own ticket and edit its subject; staff do the rest.
    if !a.is_admin() {
        ensure(
            b.priority.is_none() && assignee.is_none(),
            "only admins can change priority or assignee",
        )?;
        ensure(
            b.status
                .is_none_or(|x| matches!(x, TicketStatus::Resolved | TicketStatus::Closed)),
            "customers can only mark their tickets resolved or closed",
        )?;
    }
    let t = lookup_mut(&mut s.tickets, &tid, "ticket")?;
    let mut next = t.clone();
    if let Some(to) = b.status {
        set_status(&mut next, to)?;
    }
    patch!(next, b: priority);
    set(&mut next.subject, subject);
    set_some(&mut next.assigned_to, assignee);
    next.updated_at = Ts::now();
    *t = next.clone();
    ok(next)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AssignBody {
    assigned_to: Option<String>,
    notes: Option<String>,
}

async fn assign(
    State(st): State<Shared>,
    a: Auth,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<AssignBody>,
) -> ApiResult {
    a.admin()?;
    let who = validate::required("assignedTo", b.assigned_to.as_ref(), 100)?;
    validate::optional("notes", b.notes.as_ref(), 2000)?;
    let mut s = st.lock();
    let t = lookup_mut(&mut s.tickets, &id, "ticket")?;
    t.assigned_to = Some(who);
    if t.status == TicketStatus::Open {
        t.status = TicketStatus::InProgress;
    }
    t.updated_at = Ts::now();
    ok(t.clone())
}

async fn close(
    State(st): State<Shared>,
    Auth(u): Auth,
    Path(id): Path<String>,
    JsonBody(_): JsonBody<Empty>,
) -> ApiResult {
    let mut s = st.lock();
    let tid = get_visible(&s, &u, &id)?.id.clone();
    let t = lookup_mut(&mut s.tickets, &tid, "ticket")?;
    set_status(t, TicketStatus::Closed)?;
    ok(t.clone())
}

async fn messages(
    State(st): State<Shared>,
    Auth(u): Auth,
    Path(id): Path<String>,
    q: Params,
) -> ApiResult {
    let (pg, limit) = q.page()?;
    let s = st.lock();
    let t = get_visible(&s, &u, &id)?;
    let staff = u.is_admin();
    let v: Vec<&Message> = s
        .messages
        .iter()
        .filter(|m| m.ticket_id == t.id && (staff || !m.is_internal))
        .collect();
    ok(page(v, pg, limit))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReplyBody {
    message: Option<String>,
    attachments: Option<Vec<String>>,
    #[serde(default)]
    is_internal: bool,
}

async fn reply(
    State(st): State<Shared>,
    Auth(u): Auth,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ReplyBody>,
) -> ApiResult {
    let text = validate::required("message", b.message.as_ref(), 5000)?;
    let attachments =
        validate::strings("attachments", b.attachments.as_deref().unwrap_or(&[]), 20)?;
    let mut s = st.lock();
    let tid = get_visible(&s, &u, &id)?.id.clone();
    let now = Ts::now();
    let m = Message {
        id: s.next_id("msg"),
        ticket_id: tid.clone(),
        sender_id: u.id.clone(),
        sender_role: u.role,
        message: text,
        attachments,
        // Only staff can write notes the customer does not see.
        is_internal: b.is_internal && u.is_admin(),
        created_at: now,
    };
    s.messages.push(m.clone());
    let t = lookup_mut(&mut s.tickets, &tid, "ticket")?;
    t.message_count += 1;
    t.updated_at = now;
    if !m.is_internal
        && matches!(
            t.status,
            TicketStatus::Open | TicketStatus::Resolved | TicketStatus::Closed
        )
    {
        t.status = TicketStatus::InProgress;
        t.resolved_at = None;
    }
    created(m)
}
