//! Test helpers: a real server on 127.0.0.1:0 and a JSON client.
#![allow(dead_code)]

use marketplace::{Options, Running, start};
use serde_json::Value;

pub const CUSTOMER: &str = "token-test-customer-001";
pub const CUSTOMER2: &str = "token-test-customer-002";
pub const BIDDER: &str = "token-test-bidder-001";
pub const SELLER: &str = "token-test-seller-001";
pub const SELLER2: &str = "token-test-seller-002";
pub const ADMIN: &str = "token-test-admin-001";

pub struct Api {
    pub running: Running,
    pub client: reqwest::Client,
    pub base: String,
}

impl Api {
    pub async fn start() -> Api {
        Api::with(Options::default()).await
    }

    pub async fn with(opts: Options) -> Api {
        let running = start("127.0.0.1:0".parse().unwrap(), opts).await.unwrap();
        let base = running.base_url();
        Api {
            running,
            client: reqwest::Client::new(),
            base,
        }
    }

    /// Sends a raw body; returns status, parsed JSON (or the text as a JSON string) and the
    /// content type.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut rb = self.client.request(m, format!("{}{}", self.base, path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = rb
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: connection error {e}"));
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, v)
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let b = body.map(|b| b.to_string());
        self.raw(method, path, token, b.as_deref()).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        self.call("GET", path, token, None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call("POST", path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call("PATCH", path, Some(token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> (u16, Value) {
        self.call("DELETE", path, Some(token), None).await
    }

    /// Puts `quantity` of `product` in the cart of `token`; asserts 201 and returns the item.
    pub async fn add_to_cart(&self, token: &str, product: &str, quantity: u32) -> Value {
        let body = serde_json::json!({ "productId": product, "quantity": quantity });
        self.post("/api/cart", token, body).await.answers(201)
    }

    /// Registers a fresh user and returns its token.
    pub async fn register(&self, role: &str) -> String {
        let (st, v) = self
            .call(
                "POST",
                "/api/auth/register",
                None,
                Some(serde_json::json!({ "role": role })),
            )
            .await;
        assert_eq!(st, 201, "{v}");
        v["token"].as_str().unwrap().to_string()
    }
}

/// Asserts a JSON error with `status` whose message contains `needle`.
#[track_caller]
pub fn assert_err(got: &(u16, Value), status: u16, needle: &str) {
    assert_eq!(got.0, status, "unexpected status, body {}", got.1);
    let msg = got.1["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error string in {}", got.1));
    assert!(
        msg.contains(needle),
        "error {msg:?} does not mention {needle:?}"
    );
}

/// Asserts `status` and returns the body.
#[track_caller]
pub fn expect(got: (u16, Value), status: u16) -> Value {
    assert_eq!(got.0, status, "unexpected status, body {}", got.1);
    got.1
}

/// Assertions on a reply `(status, body)`, chained after the request:
/// `api.get(path, None).await.answers(200)`, `api.post(path, token, body).await.refused(403, "admin")`.
pub trait Reply {
    /// Asserts `status` and returns the body (see [`expect`]).
    fn answers(self, status: u16) -> Value;
    /// Asserts a JSON error with `status` whose message contains `needle` (see [`assert_err`]).
    fn refused(&self, status: u16, needle: &str);
}

impl Reply for (u16, Value) {
    #[track_caller]
    fn answers(self, status: u16) -> Value {
        expect(self, status)
    }

    #[track_caller]
    fn refused(&self, status: u16, needle: &str) {
        assert_err(self, status, needle)
    }
}
