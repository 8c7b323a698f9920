//! The seed's `context`, end to end: the suite's real auction workflows (their source files,
//! compiled into this test) in serve mode against the real marketplace. Workflow 02 bids on
//! the auction its context gives, not on the one it would pick from the list; a context of
//! another shape fails its first step, naming the field.

#[path = "../workflows/auction/mod.rs"]
#[allow(dead_code)]
mod auction;
#[path = "../workflows/checks.rs"]
#[allow(dead_code)]
mod checks;
#[path = "../workflows/common.rs"]
#[allow(dead_code)]
mod common;
mod serve;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde_json::{Value, json};
use workflow_harness::RunReport;

use serve::{Server, context};

/// Every live auction the workflow's list call sees, with its bid count.
async fn live_bid_counts(client: &reqwest::Client, base: &str) -> BTreeMap<String, u64> {
    let page: Value = client
        .get(format!("{base}/api/auctions?status=live&limit=10&page=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut counts = BTreeMap::new();
    for auction in page["data"].as_array().unwrap() {
        let id = auction["id"].as_str().unwrap();
        let fresh: Value = client
            .get(format!("{base}/api/auctions/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let fresh = fresh.get("data").unwrap_or(&fresh).clone();
        counts.insert(id.to_owned(), fresh["bidCount"].as_u64().unwrap());
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workflow_02_bids_on_the_auction_its_context_gives() {
    let market = marketplace::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        marketplace::Options::default(),
    )
    .await
    .unwrap();
    let base = market.base_url();
    let mut ctx = context(workflow_harness::registry::registered());
    ctx.engine.base_url = Some(base.parse().unwrap());
    let server = Server::start(ctx).await;
    let client = reqwest::Client::new();

    let run = async |body: Value| -> RunReport {
        let response = client
            .post(server.url("/api/test-workflows/auction-bidding"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    };
    let bid_on = |before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>| {
        let raised: Vec<String> = before
            .iter()
            .filter(|(id, count)| after.get(*id) != Some(count))
            .map(|(id, _)| id.clone())
            .collect();
        raised
    };

    // Without a context, the workflow picks from the list.
    let before = live_bid_counts(&client, &base).await;
    assert!(
        before.len() >= 2,
        "the seed has several live auctions: {before:?}"
    );
    assert_eq!(run(json!({})).await.completed, 1);
    let picked = bid_on(&before, &live_bid_counts(&client, &base).await);
    assert_eq!(picked.len(), 1, "{picked:?}");

    // With one, it bids on the auction given: another one.
    let before = live_bid_counts(&client, &base).await;
    let given = before.keys().find(|id| **id != picked[0]).unwrap().clone();
    let response = client
        .post(server.url("/api/test-workflows/auction-bidding"))
        .json(&json!({"context": {"auctions": {"live": [{"id": given}]}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let report: RunReport = response.json().await.unwrap();
    let entry = &report.workflows[0];
    assert_eq!(entry.status.as_str(), "completed", "{:?}", entry.error);

    let after = live_bid_counts(&client, &base).await;
    assert_eq!(
        bid_on(&before, &after),
        std::slice::from_ref(&given),
        "bids on the given auction only"
    );

    // A context of another shape: the first step fails, naming the field.
    let response = client
        .post(server.url("/api/test-workflows/auction-bidding"))
        .json(&json!({"context": {"auctions": {"live": given}}}))
        .send()
        .await
        .unwrap();
    let report: RunReport = response.json().await.unwrap();
    let entry = &report.workflows[0];
    assert_eq!(entry.status.as_str(), "failed");
    let error = entry.error.as_deref().unwrap();
    assert!(
        error.starts_with(
            "step \"Browse Live Auctions\" failed: the input of \"auction-bidding\" does not fit: auctions.live: invalid type: string"
        ),
        "{error}"
    );
    market.shutdown().await;
}
