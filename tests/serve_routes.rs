//! `POST /api/test-workflows/{workflow}`: one workflow by id with a per-run `config` (which
//! never outlives its run) and a `context` (the workflow's input); the seed's 404, and 400s
//! naming what is wrong.

mod poll;
mod serve;

use reqwest::StatusCode;
use serde_json::{Value, json};
use workflow_harness::prelude::*;
use workflow_harness::serve::ServeContext;
use workflow_harness::{RunReport, WorkflowSpec};

use serve::{Server, context, passing};

/// A workflow whose optional step reports what input it got (as its error), then passes.
fn reader(id: &str) -> WorkflowSpec {
    WorkflowSpec::new(id, format!("Reader {id}"), |cx| {
        Box::pin(async move {
            cx.optional_step("Show the input", async |cx| -> StepResult {
                match cx.input() {
                    Some(input) => bail!("input: {input}"),
                    None => bail!("input: none"),
                }
            })
            .await;
            Ok(())
        })
    })
}

/// A workflow that requests `/ping` from the base URL: its error names the URL it used.
fn fetcher() -> WorkflowSpec {
    WorkflowSpec::new("fetcher", "Fetcher", |cx| {
        Box::pin(async move {
            cx.step("Fetch", async |cx| {
                cx.get("/ping").await?;
                Ok(())
            })
            .await
        })
    })
}

/// A workflow that decodes its input as `{"count": u32}`.
fn typed() -> WorkflowSpec {
    #[derive(serde::Deserialize)]
    struct Input {
        count: u32,
    }
    WorkflowSpec::new("typed", "Typed", |cx| {
        Box::pin(async move {
            cx.step("Decode", async |cx| {
                let input = cx.input_as::<Input>()?.context("no input")?;
                ensure!(input.count > 0, "count is 0");
                Ok(())
            })
            .await
        })
    })
}

fn server_context() -> ServeContext {
    context(vec![
        reader("dep"),
        reader("reader").depends_on(["dep"]),
        fetcher(),
        typed(),
        passing("plain", 2, 0),
    ])
}

async fn post(client: &reqwest::Client, url: &str, body: Value) -> (StatusCode, Value) {
    let response = client.post(url).json(&body).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

fn report(body: Value) -> RunReport {
    serde_json::from_value(body).expect("the answer is a report")
}

/// The error of the step named `step` of workflow `id`.
fn step_error(report: &RunReport, id: &str, step: &str) -> String {
    let w = report
        .workflows
        .iter()
        .find(|w| w.workflow_id == id)
        .unwrap();
    let s = w.result.steps.iter().find(|s| s.name == step).unwrap();
    s.error.clone().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unknown_ids_get_the_seed_s_404_and_bad_bodies_a_400_naming_the_keys() {
    let server = Server::start(server_context()).await;
    let client = reqwest::Client::new();
    let (status, body) = post(&client, &server.url("/api/test-workflows/nope"), json!({})).await;
    assert_eq!(status, 404);
    assert_eq!(body, json!({"error": "Workflow \"nope\" not found"}));

    let url = server.url("/api/test-workflows/plain");
    let cases = [
        (
            json!({"config": {"retries": 1, "colour": "red", "speed": 2}}),
            "unknown config keys: colour, speed (a run may set fail_fast, base_url, concurrency, timeout",
        ),
        (
            json!({"config": {"interrupt_grace": "1s"}}),
            "unknown config keys: interrupt_grace",
        ),
        (
            json!({"config": {"timeout": "soon"}}),
            "config.timeout: \"soon\": ",
        ),
        (
            json!({"config": {"concurrency": 0}}),
            "config.concurrency: \"0\": must be at least 1",
        ),
        (
            json!({"config": {"retries": [1]}}),
            "config.retries: expected a string, number or boolean, got [1]",
        ),
        (json!({"config": 3}), "config must be an object of settings"),
        (
            json!({"contxt": {}}),
            "unknown body keys: contxt (expected config, context)",
        ),
        (json!([1]), "the body must be a JSON object"),
    ];
    for (body, message) in cases {
        let (status, answer) = post(&client, &url, body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        let error = answer["error"].as_str().unwrap();
        assert!(error.starts_with(message), "{body}: {error}");
    }
    // None of them started a run.
    let runs: Value = client
        .get(server.url("/api/test-workflows/runs"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(runs["totalRuns"], 0, "{runs}");

    // A wrong method on the route is 405, like every route.
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_run_s_config_applies_to_that_run_only() {
    let server = Server::start(server_context()).await;
    let client = reqwest::Client::new();
    let url = server.url("/api/test-workflows/fetcher");
    // Port 9 (discard) on loopback refuses connections: the error names the URL used.
    let given =
        json!({"config": {"base_url": "http://127.0.0.1:9", "retries": 2, "retry_delay": "0s"}});
    for round in 0..3 {
        let (status, body) = post(&client, &url, given.clone()).await;
        assert_eq!(status, 200, "{body}");
        let with = report(body);
        let entry = &with.workflows[0];
        assert_eq!(entry.attempts.len(), 3, "round {round}: retries 2");
        let error = entry.error.as_deref().unwrap();
        assert!(error.contains("http://127.0.0.1:9/ping"), "{error}");

        // The next run, without config, has the server's settings again: no base URL, no
        // retries.
        let (status, body) = post(&client, &url, json!({})).await;
        assert_eq!(status, 200, "{body}");
        let without = report(body);
        let entry = &without.workflows[0];
        assert_eq!(entry.attempts.len(), 1, "round {round}: the retries leaked");
        let error = entry.error.as_deref().unwrap();
        assert!(
            !error.contains("127.0.0.1:9"),
            "the base URL leaked: {error}"
        );
        assert!(error.contains("/ping"), "{error}");

        // And so do runs through `…/parallel`.
        let (status, body) = post(
            &client,
            &server.url("/api/test-workflows/parallel"),
            json!({"workflowIds": ["fetcher"]}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(report(body).workflows[0].attempts.len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_context_reaches_the_named_workflow_only() {
    let server = Server::start(server_context()).await;
    let client = reqwest::Client::new();
    let given = json!({"auctions": {"live": [{"id": "a-2", "name": "Chair, \"antique\""}]}});
    let (status, body) = post(
        &client,
        &server.url("/api/test-workflows/reader"),
        json!({ "context": given }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let report = report(body);
    let ids: Vec<(&str, bool)> = report
        .workflows
        .iter()
        .map(|w| (w.workflow_id.as_str(), w.as_dependency))
        .collect();
    assert_eq!(
        ids,
        [("dep", true), ("reader", false)],
        "its dependency runs too"
    );
    assert_eq!(
        step_error(&report, "reader", "Show the input"),
        format!("input: {given}")
    );
    assert_eq!(step_error(&report, "dep", "Show the input"), "input: none");

    // The next run without a context: none.
    let (_, body) = post(
        &client,
        &server.url("/api/test-workflows/reader"),
        json!({}),
    )
    .await;
    let next = self::report(body);
    assert_eq!(step_error(&next, "reader", "Show the input"), "input: none");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_context_that_does_not_decode_fails_the_workflow_naming_the_field() {
    let server = Server::start(server_context()).await;
    let client = reqwest::Client::new();
    let url = server.url("/api/test-workflows/typed");
    let (status, body) = post(&client, &url, json!({"context": {"count": 3}})).await;
    assert_eq!(status, 200);
    assert_eq!(report(body).completed, 1);

    let (status, body) = post(&client, &url, json!({"context": {"count": "many"}})).await;
    assert_eq!(
        status, 200,
        "a failed workflow is a report, as for …/parallel"
    );
    let report = report(body);
    assert_eq!(report.failed, 1);
    let error = step_error(&report, "typed", "Decode");
    assert_eq!(
        error,
        "the input of \"typed\" does not fit: count: invalid type: string \"many\", expected u32"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn async_runs_token_and_history_are_those_of_the_other_runs() {
    let mut ctx = server_context();
    ctx.token = Some("s3cret".into());
    let server = Server::start(ctx).await;
    let client = reqwest::Client::new();
    let url = server.url("/api/test-workflows/plain?async=true");
    let response = client.post(&url).json(&json!({})).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let response = client
        .post(&url)
        .bearer_auth("s3cret")
        .json(&json!({"config": {"retries": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let run_id = response.headers()["x-run-id"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["runId"], run_id.as_str());
    let status_url = server.url(body["statusUrl"].as_str().unwrap());
    let status = poll::until_ok("the run finished", || async {
        let status: Value = client
            .get(&status_url)
            .bearer_auth("s3cret")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if status["state"] == "finished" {
            Ok(status)
        } else {
            Err(status.to_string())
        }
    })
    .await;
    assert_eq!(status["workflowIds"], json!(["plain"]));
    assert_eq!(status["report"]["completed"], 1);
    let runs: Value = client
        .get(server.url("/api/test-workflows/runs?token=s3cret"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(runs["runs"][0]["runId"], run_id.as_str());
    // Its per-step CSV is downloadable like the other reports.
    let steps = client
        .get(server.url(&format!(
            "/api/test-workflows/runs/{run_id}/report-steps.csv"
        )))
        .bearer_auth("s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(steps.status(), 200);
    assert_eq!(steps.headers()["content-type"], "text/csv; charset=utf-8");
    let text = steps.text().await.unwrap();
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let names: Vec<String> = rows.records().map(|r| r.unwrap()[2].to_owned()).collect();
    assert_eq!(names, ["Step 1", "Step 2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_server_s_default_input_reaches_every_run_and_a_context_replaces_it() {
    let mut ctx = server_context();
    // What `--context FILE` gives serve mode.
    ctx.engine.inputs = workflow_harness::Inputs::every(json!({"default": true}));
    let server = Server::start(ctx).await;
    let client = reqwest::Client::new();
    let (_, body) = post(
        &client,
        &server.url("/api/test-workflows/parallel"),
        json!({"workflowIds": ["reader"]}),
    )
    .await;
    let report = report(body);
    for id in ["dep", "reader"] {
        assert_eq!(
            step_error(&report, id, "Show the input"),
            r#"input: {"default":true}"#
        );
    }
    let (_, body) = post(
        &client,
        &server.url("/api/test-workflows/reader"),
        json!({"context": [1, 2]}),
    )
    .await;
    let report = self::report(body);
    assert_eq!(
        step_error(&report, "reader", "Show the input"),
        "input: [1,2]"
    );
    assert_eq!(
        step_error(&report, "dep", "Show the input"),
        r#"input: {"default":true}"#
    );
}
