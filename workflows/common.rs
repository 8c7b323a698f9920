//! Helpers shared by the seed workflows: acting as a user, unique names, reading JSON.

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

/// A user the workflow can act as.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user's id.
    pub user_id: String,
    /// Its bearer token.
    pub token: String,
}

/// Registers a fresh user of `role` (`customer`, `bidder`, `seller` or `admin`) without acting
/// as it yet; switch with [`act_as`].
pub async fn register(cx: &Ctx, role: &str) -> StepResult<Session> {
    let name = format!("{role} of {}", cx.workflow_id());
    let answer: Value = cx
        .post_json("/api/auth/register", &json!({ "role": role, "name": name }))
        .await?;
    Ok(Session {
        user_id: answer.at("user")?.id()?,
        token: answer.str_at("token")?.to_owned(),
    })
}

/// Sends `session`'s token with every later request.
pub fn act_as(cx: &mut Ctx, session: &Session) -> StepResult {
    cx.set_bearer(&session.token)?;
    Ok(())
}

/// Acts as a freshly registered user of `role` for the rest of the workflow, so parallel
/// workflows and repeated runs never share a cart, favorites, addresses or bids.
pub async fn as_new_user(cx: &mut Ctx, role: &str) -> StepResult<Session> {
    let session = register(cx, role).await?;
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

/// Reading JSON answers with errors that name the missing key and show the value.
pub trait JsonExt {
    /// The value at `key` (dotted paths like `pagination.total` allowed); an error when absent
    /// or null.
    fn at(&self, key: &str) -> StepResult<&Value>;
    /// The string at `key`.
    fn str_at(&self, key: &str) -> StepResult<&str>;
    /// The number at `key`.
    fn f64_at(&self, key: &str) -> StepResult<f64>;
    /// The boolean at `key`.
    fn bool_at(&self, key: &str) -> StepResult<bool>;
    /// The array at `key`.
    fn array_at(&self, key: &str) -> StepResult<&Vec<Value>>;
    /// The `data` array of a paginated list.
    fn data(&self) -> StepResult<&Vec<Value>> {
        self.array_at("data")
    }
    /// The `id` of an object, as a string.
    fn id(&self) -> StepResult<String> {
        self.str_at("id").map(str::to_owned)
    }
}

impl JsonExt for Value {
    fn at(&self, key: &str) -> StepResult<&Value> {
        let mut value = self;
        for part in key.split('.') {
            value = match value.get(part) {
                Some(v) if !v.is_null() => v,
                _ => bail!("expected a `{key}` field in {}", short(self)),
            };
        }
        Ok(value)
    }

    fn str_at(&self, key: &str) -> StepResult<&str> {
        self.at(key)?
            .as_str()
            .with_context(|| format!("`{key}` is not a string in {}", short(self)))
    }

    fn f64_at(&self, key: &str) -> StepResult<f64> {
        self.at(key)?
            .as_f64()
            .with_context(|| format!("`{key}` is not a number in {}", short(self)))
    }

    fn bool_at(&self, key: &str) -> StepResult<bool> {
        self.at(key)?
            .as_bool()
            .with_context(|| format!("`{key}` is not a boolean in {}", short(self)))
    }

    fn array_at(&self, key: &str) -> StepResult<&Vec<Value>> {
        self.at(key)?
            .as_array()
            .with_context(|| format!("`{key}` is not an array in {}", short(self)))
    }
}

/// A JSON value cut to a readable length for error messages.
pub fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}
