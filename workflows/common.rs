//! Helpers shared by the seed workflows: users, unique names, test data. Reading and checking
//! JSON is the library's (`JsonExt`, `expect_json!`); assertions shared by several areas are in
//! [`crate::checks`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use workflow_harness::prelude::*;

/// The shop the seeded seller owns (the seed's `TEST_SHOP_ID`).
pub const TEST_SHOP_ID: &str = "test-shop-001";
/// The seeded seller owning [`TEST_SHOP_ID`] (the seed's `SELLER_ID`).
pub const SELLER_ID: &str = "test-seller-001";
/// The seeded admin.
pub const ADMIN_ID: &str = "test-admin-001";
/// The electronics category (the seed's `ELECTRONICS_ID`).
pub const ELECTRONICS_ID: &str = "cat-electronics";
/// The seed's `MINIMUM_BID_INCREMENT`.
pub const MIN_BID_INCREMENT: f64 = 100.0;

/// A user the workflow can act as: for the rest of the workflow (`cx.set_user(&session)`) or
/// for some requests (`cx.as_user(&session).get(…)`).
#[derive(Debug, Clone)]
pub struct Session {
    /// The user's id.
    pub user_id: String,
    /// Its bearer token.
    pub token: String,
}

impl Identity for Session {
    fn bearer_token(&self) -> &str {
        &self.token
    }
}

/// Registers a fresh user of `role` (`customer`, `bidder`, `seller` or `admin`) without acting
/// as it yet: send as it with `cx.as_user(&session)`, or switch with `cx.set_user(&session)`.
pub async fn register(cx: &Ctx, role: &str) -> StepResult<Session> {
    let name = format!("{role} of {}", cx.workflow_id());
    let answer = cx
        .post_value("/api/auth/register", &json!({ "role": role, "name": name }))
        .await?;
    Ok(Session {
        user_id: answer.str_at("/user/id")?.to_owned(),
        token: answer.str_at("token")?.to_owned(),
    })
}

/// Sends `session`'s token with every later request.
pub fn act_as(cx: &mut Ctx, session: &Session) -> StepResult {
    Ok(cx.set_user(session)?)
}

/// [`register`] as a step of its own, `Setup: Register <role>`: a failed registration is a
/// failed step, not a failure outside every step.
pub async fn registered(cx: &mut Ctx, role: &str) -> StepResult<Session> {
    cx.step(&format!("Setup: Register {role}"), async |cx| {
        register(cx, role).await
    })
    .await
}

/// Acts as a freshly registered user of `role` for the rest of the workflow, so parallel
/// workflows and repeated runs never share a cart, favorites, addresses or bids. The
/// registration is a step ([`registered`]).
pub async fn as_new_user(cx: &mut Ctx, role: &str) -> StepResult<Session> {
    let session = registered(cx, role).await?;
    act_as(cx, &session)?;
    Ok(session)
}

/// The session of a seeded user (e.g. [`SELLER_ID`], who owns [`TEST_SHOP_ID`]): seeded users
/// have the fixed token `token-<id>`.
pub fn seeded(user_id: &str) -> Session {
    Session {
        user_id: user_id.to_owned(),
        token: format!("token-{user_id}"),
    }
}

/// Acts as a seeded user for the rest of the workflow.
pub fn as_seeded(cx: &mut Ctx, user_id: &str) -> StepResult<Session> {
    let session = seeded(user_id);
    act_as(cx, &session)?;
    Ok(session)
}

/// `prefix` plus a suffix unique in this process and across runs (time + counter), for
/// slugs, codes and names that must not collide.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{millis}{n}")
}

/// Epoch milliseconds now (the seed's `<ts>`).
pub fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// An RFC 3339 timestamp `days` days from now (negative: in the past).
pub fn iso_in_days(days: i64) -> String {
    let now = chrono::Utc::now() + chrono::Duration::days(days);
    now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The seed's fixed Mumbai test address (`TEST_DATA.SHIPPING_ADDRESS`).
pub fn shipping_address() -> Value {
    json!({
        "name": "Test Customer",
        "phone": "+919876543210",
        "line1": "123 Test Street",
        "line2": "Apt 4B",
        "city": "Mumbai",
        "state": "Maharashtra",
        "pincode": "400001",
        "country": "India"
    })
}
