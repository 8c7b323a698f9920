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
