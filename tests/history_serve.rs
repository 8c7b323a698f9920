//! Serve mode on the run history: a restarted server keeps its runs and goes on numbering
//! them, pages through them (`?limit=&before=`), serves their reports from the store, and
//! answers `GET /history`; on SQLite and on a real PostgreSQL server.

mod pg;
mod serve;

use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};
use workflow_harness::history::{Journal, ServeHistory, Target};
use workflow_harness::serve::ServeContext;

use serve::{Server, context, failing, passing};

const RUN: &str = "/api/test-workflows/parallel";

/// A context whose history is `target` (opened off the runtime: the store blocks).
async fn with_history(target: Target) -> ServeContext {
    let history = tokio::task::spawn_blocking(move || {
        let journal = Journal::open_target(target, 1000);
        assert!(journal.is_open(), "{:?}", journal.error());
        Arc::new(ServeHistory::new(journal, "pkg/serve-suite".into()))
    })
    .await
    .unwrap();
    let mut ctx = context(vec![passing("alpha", 2, 1), failing("gamma")]);
    ctx.history = Some(history);
    ctx
}

async fn get(client: &reqwest::Client, url: &str) -> (u16, String) {
    let response = client.get(url).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn get_json(client: &reqwest::Client, url: &str) -> (u16, Value) {
    let (status, text) = get(client, url).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Starts a run of `ids` and waits for it; its id.
async fn run(client: &reqwest::Client, server: &Server, ids: &[&str]) -> String {
    let response = client
        .post(server.url(RUN))
        .json(&json!({ "workflowIds": ids }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.headers()["x-run-id"].to_str().unwrap().to_owned()
}

fn ids(list: &Value) -> Vec<String> {
    list["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["runId"].as_str().unwrap().to_owned())
        .collect()
}

async fn restart_keeps_runs_and_ids(target: Target) {
    let client = reqwest::Client::new();
    let server = Server::start(with_history(target.clone()).await).await;
    let first = run(&client, &server, &["alpha"]).await;
    let second = run(&client, &server, &["gamma"]).await;
    assert_eq!((first.as_str(), second.as_str()), ("run-1", "run-2"));
    let (_, before) = get(
        &client,
        &server.url("/api/test-workflows/runs/run-2/report.csv"),
    )
    .await;
    server.stop().await;

    let server = Server::start(with_history(target.clone()).await).await;
    let third = run(&client, &server, &["alpha"]).await;
    assert_eq!(third, "run-3", "numbering goes on after a restart");

    let (status, list) = get_json(&client, &server.url("/api/test-workflows/runs")).await;
    assert_eq!(status, 200);
    assert_eq!(ids(&list), ["run-3", "run-2", "run-1"]);
    assert_eq!(list["runs"][1]["stored"], true);
    assert_eq!(list["runs"][1]["failed"], 1);

    // The earlier server's runs, from the store.
    let (status, old) = get_json(&client, &server.url("/api/test-workflows/runs/run-2")).await;
    assert_eq!(status, 200, "{old}");
    assert_eq!(old["state"], "finished");
    assert_eq!(old["report"]["failed"], 1);
    assert_eq!(old["report"]["workflows"][0]["workflowId"], "gamma");
    let (status, csv) = get(
        &client,
        &server.url("/api/test-workflows/runs/run-2/report.csv"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(csv, before, "the same report as before the restart");
    let (status, xml) = get(
        &client,
        &server.url("/api/test-workflows/runs/run-1/junit.xml"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(xml.contains("alpha"), "{xml}");
    let (status, _) = get(&client, &server.url("/api/test-workflows/runs/run-99")).await;
    assert_eq!(status, 404);

    // Paging.
    let (_, page) = get_json(&client, &server.url("/api/test-workflows/runs?limit=2")).await;
    assert_eq!(ids(&page), ["run-3", "run-2"]);
    let next = page["next"].as_str().unwrap();
    assert_eq!(next, "/api/test-workflows/runs?limit=2&before=run-2");
    let (_, page) = get_json(&client, &server.url(next)).await;
    assert_eq!(ids(&page), ["run-1"]);
    assert!(page["next"].is_null());
    for bad in ["limit=0", "limit=x", "before=nope"] {
        let url = server.url(&format!("/api/test-workflows/runs?{bad}"));
        let (status, body) = get_json(&client, &url).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains(bad.split('=').next().unwrap())
        );
    }

    // The dashboard's history: every workflow over the recorded runs.
    let (status, history) = get_json(&client, &server.url("/api/test-workflows/history")).await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(history["enabled"], true);
    assert_eq!(history["recorded"], 3);
    let alpha = &history["rows"][0];
    assert_eq!(alpha["id"], "alpha");
    assert_eq!(alpha["statuses"], json!(["completed", "completed"]));
    assert_eq!(alpha["durations"].as_array().unwrap().len(), 2);
    assert_eq!(history["rows"][1]["statuses"], json!(["failed"]));
    server.stop().await;
}

fn main() {
    let outcome = std::panic::catch_unwind(|| {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let sqlite = Target::Sqlite(Path::new(dir.path()).join("serve.sqlite"));
        runtime.block_on(restart_keeps_runs_and_ids(sqlite));
        println!("test restart_keeps_runs_and_ids (SQLite) ... ok");
        if let Some(url) = pg::database() {
            runtime.block_on(restart_keeps_runs_and_ids(Target::Postgres(url)));
            println!("test restart_keeps_runs_and_ids (PostgreSQL) ... ok");
        }
    });
    // Whatever happened, the throwaway PostgreSQL server goes.
    pg::stop();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
