//! Fault and latency injection, and option validation.

mod common;
use common::*;
use marketplace::Options;
use std::time::{Duration, Instant};

#[tokio::test]
async fn error_rate_one_fails_everything() {
    let api = Api::with(Options {
        error_rate: 1.0,
        ..Default::default()
    })
    .await;
    for p in ["/api/health", "/api/products", "/api/cart", "/api/nope"] {
        let got = api.get(p, Some(CUSTOMER)).await;
        assert_eq!(got.0, 503);
        assert_eq!(got.1["error"], "injected fault");
    }
}

#[tokio::test]
async fn error_rate_zero_fails_nothing() {
    let api = Api::with(Options {
        error_rate: 0.0,
        ..Default::default()
    })
    .await;
    for _ in 0..30 {
        assert_eq!(api.get("/api/health", None).await.0, 200);
    }
}

#[tokio::test]
async fn partial_error_rate_is_deterministic_for_a_seed() {
    let opts = Options {
        error_rate: 0.5,
        seed: 9,
        ..Default::default()
    };
    let mut runs = vec![];
    for _ in 0..2 {
        let api = Api::with(opts.clone()).await;
        let mut codes = vec![];
        for _ in 0..40 {
            codes.push(api.get("/api/health", None).await.0);
        }
        runs.push(codes);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(
        runs[0].contains(&503) && runs[0].contains(&200),
        "{:?}",
        runs[0]
    );
}

#[tokio::test]
async fn latency_adds_at_least_the_configured_delay() {
    let api = Api::with(Options {
        latency_ms: 120,
        jitter_ms: 30,
        ..Default::default()
    })
    .await;
    for _ in 0..3 {
        let t = Instant::now();
        assert_eq!(api.get("/api/health", None).await.0, 200);
        assert!(
            t.elapsed() >= Duration::from_millis(120),
            "{:?}",
            t.elapsed()
        );
    }
}

#[tokio::test]
async fn options_are_validated() {
    assert!(Options::default().validate().is_ok());
    for bad in [-0.1, 1.5, f64::NAN] {
        let o = Options {
            error_rate: bad,
            ..Default::default()
        };
        assert!(o.validate().is_err());
        let e = marketplace::start("127.0.0.1:0".parse().unwrap(), o)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    }
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let api = Api::start().await;
    assert_eq!(api.get("/api/health", None).await.0, 200);
    let base = api.base.clone();
    api.running.shutdown().await;
    assert!(
        reqwest::Client::new()
            .get(format!("{base}/api/health"))
            .send()
            .await
            .is_err()
    );
}

fn breaking(rules: &[&str]) -> Options {
    Options {
        breaks: rules
            .iter()
            .map(|r| r.parse().expect("a valid rule"))
            .collect(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_status_rule_breaks_its_routes_only() {
    let api = Api::with(breaking(&[
        "GET /api/orders/{id}=500",
        "POST /api/cart*=502",
    ]))
    .await;
    let (status, body) = api.get("/api/orders/ord-1", Some(CUSTOMER)).await;
    assert_eq!(status, 500);
    assert_eq!(
        body["error"],
        "broken by --break 'GET /api/orders/{id}=500'"
    );
    assert_eq!(
        api.post("/api/cart/coupon", CUSTOMER, serde_json::json!({}))
            .await
            .0,
        502
    );
    // Another method, another route, a longer path of the same resource: answered normally.
    assert_eq!(api.get("/api/orders?limit=1", Some(CUSTOMER)).await.0, 200);
    assert_eq!(api.get("/api/cart", Some(CUSTOMER)).await.0, 200);
    assert_ne!(
        api.get("/api/orders/ord-1/track", Some(CUSTOMER)).await.0,
        500
    );
}

#[tokio::test]
async fn an_empty_rule_answers_empty_lists() {
    let api = Api::with(breaking(&["GET /api/products?*search=*=empty"])).await;
    let (status, full) = api.get("/api/products?limit=5", None).await;
    assert_eq!(status, 200);
    assert!(!full["data"].as_array().unwrap().is_empty(), "{full}");
    let (status, empty) = api.get("/api/products?limit=5&search=a", None).await;
    assert_eq!(status, 200);
    assert_eq!(empty["data"], serde_json::json!([]));
    assert_eq!(empty["pagination"]["total"], 0);
    assert_eq!(empty["pagination"]["hasNext"], false);
}

#[tokio::test]
async fn a_nostore_rule_answers_as_if_stored_and_stores_nothing() {
    let api = Api::with(breaking(&[
        "PATCH /api/*=nostore",
        "POST /api/blog=nostore",
    ]))
    .await;
    let (status, profile) = api.get("/api/user/profile", Some(CUSTOMER)).await;
    assert_eq!(status, 200);
    let before = profile["user"]["name"].clone();
    assert!(before.is_string(), "{profile}");
    let (status, patched) = api
        .call(
            "PATCH",
            "/api/user/profile",
            Some(CUSTOMER),
            Some(serde_json::json!({"name": "Renamed"})),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(
        patched["user"]["name"], "Renamed",
        "the answer says it was stored"
    );
    let (_, again) = api.get("/api/user/profile", Some(CUSTOMER)).await;
    assert_eq!(again["user"]["name"], before, "nothing was stored");

    let post =
        serde_json::json!({"title": "Lost post", "content": "Never stored", "status": "published"});
    let (status, created) = api.post("/api/blog", ADMIN, post).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("an id").to_owned();
    assert_eq!(
        api.get(&format!("/api/blog/{id}"), Some(ADMIN)).await.0,
        404
    );
}

#[tokio::test]
async fn the_route_log_names_each_route_answered_once() {
    let dir = std::env::temp_dir().join(format!("marketplace-route-log-{}", std::process::id()));
    let _ = std::fs::remove_file(&dir);
    let api = Api::with(Options {
        route_log: Some(dir.clone()),
        ..Default::default()
    })
    .await;
    let (_, fresh) = api
        .call(
            "POST",
            "/api/auth/register",
            None,
            Some(serde_json::json!({"role": "customer"})),
        )
        .await;
    let fresh = fresh["token"].as_str().expect("a token").to_owned();
    for _ in 0..3 {
        api.get("/api/products/p-nope", None).await;
        api.get("/api/health", None).await;
        api.get("/api/products?limit=2", None).await;
        api.get("/api/orders", Some(&fresh)).await; // a new user's orders: an empty list
    }
    api.get("/api/no/such/route", None).await;
    let text = std::fs::read_to_string(&dir).unwrap();
    let _ = std::fs::remove_file(&dir);
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            "GET /api/health",
            "GET /api/orders",
            "GET /api/products",
            "GET /api/products list",
            "GET /api/products/{key}",
            "POST /api/auth/register",
        ],
        "a route once, and 'list' once for a route that answered a non-empty list"
    );
}

#[test]
fn break_rules_read_from_a_table_a_list_or_flags_alike() {
    let one: Options =
        serde_json::from_str(r#"{"break": "GET /a=500; PATCH /b=nostore"}"#).unwrap();
    let list: Options =
        serde_json::from_str(r#"{"break": ["GET /a=500", "PATCH /b=nostore"]}"#).unwrap();
    assert_eq!(one, list);
    assert_eq!(one.breaks.len(), 2);
    let error = serde_json::from_str::<Options>(r#"{"break": ["GET /a=5000"]}"#).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("break rule 'GET /a=5000': mode '5000'"),
        "{error}"
    );
}
