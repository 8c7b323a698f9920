//! The HTTP API in process: every status code, runs waited for and in the background, the
//! event stream (order, snapshots, replay), the token, and many runs and subscribers at once.

mod poll;
mod serve;

use std::collections::HashMap;
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use workflow_harness::RunReport;
use workflow_harness::serve::ServeContext;

use serve::{Server, Sse, context, failing, gated, open_events, passing, read_events};

const RUN: &str = "/api/test-workflows/parallel";

fn fixtures(gate: &Arc<Semaphore>) -> Vec<workflow_harness::WorkflowSpec> {
    vec![
        passing("alpha", 3, 1),
        passing("beta", 2, 1).depends_on(["alpha"]).priority(5),
        failing("gamma"),
        gated("held", gate.clone()),
        passing("delta", 1, 0).group("solo"),
    ]
}

async fn start() -> (Server, Arc<Semaphore>) {
    let gate = Arc::new(Semaphore::new(0));
    let mut ctx = context(fixtures(&gate));
    ctx.engine.groups.insert("solo".into(), 1);
    ctx.max_workflows = 3;
    (Server::start(ctx).await, gate)
}

async fn post(client: &reqwest::Client, url: &str, body: Value) -> (StatusCode, Value) {
    let response = client.post(url).json(&body).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn get(client: &reqwest::Client, url: &str) -> (StatusCode, Value) {
    let response = client.get(url).send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The run's status.
async fn run_status(client: &reqwest::Client, server: &Server, run_id: &str) -> Value {
    let url = server.url(&format!("/api/test-workflows/runs/{run_id}"));
    get(client, &url).await.1
}

/// Polls the run's status until it is finished; returns that status.
async fn wait_finished(client: &reqwest::Client, server: &Server, run_id: &str) -> Value {
    poll::until_ok(&format!("run {run_id} finished"), || async {
        let status = run_status(client, server, run_id).await;
        if status["state"] == "finished" {
            Ok(status)
        } else {
            Err(status.to_string())
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lists_the_workflows() {
    let (server, _gate) = start().await;
    let client = reqwest::Client::new();
    let (status, body) = get(&client, &server.url(RUN)).await;
    assert_eq!(status, 200);
    assert_eq!(body["totalWorkflows"], 5);
    let ids: Vec<&str> = body["workflows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["alpha", "beta", "delta", "gamma", "held"]);
    let beta = &body["workflows"][1];
    assert_eq!(beta["name"], "Workflow beta");
    assert_eq!(beta["steps"], 2);
    assert_eq!(beta["priority"], 5);
    assert_eq!(beta["dependsOn"], json!(["alpha"]));
    assert_eq!(body["workflows"][2]["group"], "solo");
    assert_eq!(body["workflows"][0]["group"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_waited_run_answers_the_report_and_pulls_in_dependencies() {
    let (server, _gate) = start().await;
    let client = reqwest::Client::new();
    let response = client
        .post(server.url(RUN))
        .json(&json!({"workflowIds": ["gamma", "beta"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let run_id = response.headers()["x-run-id"].to_str().unwrap().to_owned();
    assert!(run_id.starts_with("run-"), "{run_id}");
    let report: RunReport = response.json().await.unwrap();
    let entries: Vec<(&str, &str, bool)> = report
        .workflows
        .iter()
        .map(|w| (w.workflow_id.as_str(), w.status.as_str(), w.as_dependency))
        .collect();
    assert_eq!(
        entries,
        [
            ("alpha", "completed", true),
            ("beta", "completed", false),
            ("gamma", "failed", false)
        ]
    );
    assert_eq!((report.completed, report.failed), (2, 1));
    assert_eq!(report.workflows[2].result.steps.len(), 2);

    // The run is registered: listed, with its status and downloadable reports.
    let (status, runs) = get(&client, &server.url("/api/test-workflows/runs")).await;
    assert_eq!(status, 200);
    assert_eq!(runs["runs"][0]["runId"], run_id.as_str());
    assert_eq!(runs["runs"][0]["state"], "finished");
    assert_eq!(runs["runs"][0]["workflowIds"], json!(["gamma", "beta"]));
    let run_url = server.url(&format!("/api/test-workflows/runs/{run_id}"));
    let (status, body) = get(&client, &run_url).await;
    assert_eq!(status, 200);
    assert_eq!(body["state"], "finished");
    assert_eq!(body["report"]["totalWorkflows"], 3);
    let phases: Vec<&str> = body["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(phases, ["completed", "completed", "failed"]);

    for (file, content_type, needle) in [
        ("report.json", "application/json", "\"totalWorkflows\": 3"),
        ("report.csv", "text/csv; charset=utf-8", "SUMMARY"),
        ("junit.xml", "application/xml; charset=utf-8", "<testsuite"),
    ] {
        let response = client
            .get(format!("{run_url}/{file}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{file}");
        assert_eq!(response.headers()["content-type"], content_type, "{file}");
        assert!(
            response.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains(file)
        );
        assert!(response.text().await.unwrap().contains(needle), "{file}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_requests_get_json_errors() {
    let (server, _gate) = start().await;
    let client = reqwest::Client::new();
    let url = server.url(RUN);
    let shape = "workflowIds must be a non-empty array";
    for (body, message) in [
        (json!({}), shape),
        (json!({"workflowIds": []}), shape),
        (json!({"workflowIds": "alpha"}), shape),
        (json!(["alpha"]), shape),
        (
            json!({"workflowIds": ["alpha", 1]}),
            "workflowIds[1] must be a string",
        ),
        (
            json!({"workflowIds": ["alpha", "nope", "nada"]}),
            "Invalid workflow IDs: nope, nada",
        ),
        (
            json!({"workflowIds": ["alpha", "beta", "alpha"]}),
            "Duplicate workflow IDs: alpha",
        ),
        (
            json!({"workflowIds": ["alpha", "beta", "gamma", "delta"]}),
            "too many workflows: 4 named, at most 3 per run",
        ),
    ] {
        let (status, answer) = post(&client, &url, body.clone()).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(answer, json!({ "error": message }), "{body}");
    }

    let send = |body: Vec<u8>, content_type: Option<&str>, path: String| {
        let mut request = client.post(path).body(body);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            (status, body)
        }
    };
    let (status, body) = send(
        b"{\"workflowIds\": [".to_vec(),
        Some("application/json"),
        url.clone(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("malformed JSON body"),
        "{body}"
    );
    let (status, _) = send(Vec::new(), Some("application/json"), url.clone()).await;
    assert_eq!(status, 400, "an empty body is malformed JSON");
    let (status, body) = send(b"{}".to_vec(), None, url.clone()).await;
    assert_eq!(status, 415);
    assert!(body["error"].as_str().unwrap().contains("application/json"));
    let big = format!("{{\"workflowIds\": [\"{}\"]}}", "a".repeat(70 * 1024));
    let (status, body) = send(big.into_bytes(), Some("application/json"), url.clone()).await;
    assert_eq!(status, 413);
    assert!(
        body["error"].as_str().unwrap().contains("too large"),
        "{body}"
    );
    let (status, body) = send(
        b"{\"workflowIds\": [\"alpha\"]}".to_vec(),
        Some("application/json"),
        format!("{url}?async=maybe"),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "async must be true or false, not \"maybe\"");

    for path in [
        "/api/test-workflows/runs/run-999",
        "/api/test-workflows/runs/run-999/events",
        "/api/test-workflows/runs/run-999/report.json",
        "/api/test-workflows/runs/..%2F..%2Fetc/report.csv",
        "/api/nothing-here",
    ] {
        let (status, body) = get(&client, &server.url(path)).await;
        assert_eq!(status, 404, "{path}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }
    let (status, body) = get(&client, &server.url("/api/test-workflows/runs/%FF%FE")).await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("invalid run id"),
        "{body}"
    );
    let response = client.delete(&url).send().await.unwrap();
    assert_eq!(response.status(), 405);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("DELETE"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_async_run_answers_202_and_its_report_waits_for_the_end() {
    let (server, gate) = start().await;
    let client = reqwest::Client::new();
    let response = client
        .post(server.url(&format!("{RUN}?async=true")))
        .json(&json!({"workflowIds": ["held", "alpha"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let header_id = response.headers()["x-run-id"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    let run_id = body["runId"].as_str().unwrap().to_owned();
    assert_eq!(header_id, run_id);
    assert_eq!(
        body["statusUrl"],
        format!("/api/test-workflows/runs/{run_id}")
    );
    assert_eq!(
        body["eventsUrl"],
        format!("/api/test-workflows/runs/{run_id}/events")
    );

    let (status, running) = get(&client, &server.url(body["statusUrl"].as_str().unwrap())).await;
    assert_eq!(status, 200);
    assert_eq!(running["state"], "running");
    assert!(running.get("report").is_none());
    let ids: Vec<&str> = running["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["workflowId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["alpha", "held"], "statuses exist from the start");
    for file in ["report.json", "report.csv", "junit.xml"] {
        let (status, body) = get(
            &client,
            &server.url(&format!("/api/test-workflows/runs/{run_id}/{file}")),
        )
        .await;
        assert_eq!(status, 409, "{file} while running");
        assert!(body["error"].as_str().unwrap().contains("still running"));
    }

    gate.add_permits(1);
    let done = wait_finished(&client, &server, &run_id).await;
    assert_eq!(done["report"]["completed"], 2);
    let (status, report) = get(
        &client,
        &server.url(&format!("/api/test-workflows/runs/{run_id}/report.json")),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(report, done["report"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_token_guards_the_api_but_not_the_page() {
    let mut ctx: ServeContext = context(vec![passing("alpha", 1, 0)]);
    ctx.token = Some("s3cret".into());
    let server = Server::start(ctx).await;
    let client = reqwest::Client::new();

    for path in [
        RUN,
        "/api/test-workflows/runs",
        "/api/test-workflows/runs/run-1",
    ] {
        let response = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 401, "{path}");
        assert!(
            response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );
        let body: Value = response.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("token"));
    }
    let wrong = client
        .get(server.url(RUN))
        .bearer_auth("s3creT")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let unauthorized_post = client
        .post(server.url(&format!("{RUN}?token=s3cret")))
        .json(&json!({"workflowIds": ["alpha"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized_post.status(), 401, "?token= is for GET only");

    let ok = client
        .post(server.url(RUN))
        .bearer_auth("s3cret")
        .json(&json!({"workflowIds": ["alpha"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let run_id = ok.headers()["x-run-id"].to_str().unwrap().to_owned();
    let by_query = client
        .get(server.url(&format!(
            "/api/test-workflows/runs/{run_id}/report.json?token=s3cret"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(
        by_query.status(),
        200,
        "download links carry the token in the query"
    );
    let events = read_events(
        &client,
        &server.url(&format!(
            "/api/test-workflows/runs/{run_id}/events?token=s3cret"
        )),
        None,
    )
    .await;
    assert_eq!(events[0].event, "snapshot");

    let page = client.get(server.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

/// Checks one workflow's events: its steps start and finish in order, then it finishes.
fn assert_workflow_order(events: &[Sse], id: &str, steps: &[&str], status: &str) {
    let mine: Vec<&Sse> = events
        .iter()
        .filter(|e| e.data["workflowId"] == id || e.data["workflow"]["workflowId"] == id)
        .collect();
    let mut expected = vec![("workflowStarted".to_owned(), String::new())];
    for (i, step) in steps.iter().enumerate() {
        expected.push(("stepStarted".into(), format!("{i}:{step}")));
        expected.push(("stepFinished".into(), format!("{i}:{step}")));
    }
    expected.push(("workflowFinished".into(), status.to_owned()));
    let seen: Vec<(String, String)> = mine
        .iter()
        .map(|e| {
            let detail = match e.event.as_str() {
                "stepStarted" => {
                    format!("{}:{}", e.data["index"], e.data["step"].as_str().unwrap())
                }
                "stepFinished" => format!(
                    "{}:{}",
                    e.data["index"],
                    e.data["step"]["name"].as_str().unwrap()
                ),
                "workflowFinished" => e.data["workflow"]["status"].as_str().unwrap().to_owned(),
                _ => String::new(),
            };
            (e.event.clone(), detail)
        })
        .collect();
    assert_eq!(seen, expected, "events of {id}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_stream_every_step_in_order() {
    let (server, _gate) = start().await;
    let client = reqwest::Client::new();
    let (status, body) = post(
        &client,
        &server.url(&format!("{RUN}?async=true")),
        json!({"workflowIds": ["beta", "gamma"]}),
    )
    .await;
    assert_eq!(status, 202);
    let events = read_events(
        &client,
        &server.url(body["eventsUrl"].as_str().unwrap()),
        Some(0),
    )
    .await;

    let ids: Vec<u64> = events.iter().map(|e| e.id).collect();
    assert_eq!(
        ids,
        (1..=events.len() as u64).collect::<Vec<_>>(),
        "every event once, in order"
    );
    assert_eq!(events[0].event, "runStarted");
    assert_eq!(events.last().unwrap().event, "runFinished");
    for e in &events {
        assert_eq!(
            e.data["type"],
            e.event.as_str(),
            "event: is the data's type"
        );
    }
    assert_workflow_order(
        &events,
        "alpha",
        &["Step 1", "Step 2", "Step 3"],
        "completed",
    );
    assert_workflow_order(&events, "beta", &["Step 1", "Step 2"], "completed");
    assert_workflow_order(&events, "gamma", &["Fine", "Broken"], "failed");
    let report = &events.last().unwrap().data["report"];
    assert_eq!(report["totalWorkflows"], 3);

    let status = wait_finished(&client, &server, body["runId"].as_str().unwrap()).await;
    assert_eq!(status["eventCount"], events.len());
    // A replay from the middle gives exactly the rest.
    let rest = read_events(
        &client,
        &server.url(body["eventsUrl"].as_str().unwrap()),
        Some(5),
    )
    .await;
    assert_eq!(rest.first().unwrap().id, 6);
    assert_eq!(rest.len(), events.len() - 5);
    let (status, answer) = get(
        &client,
        &server.url(&format!(
            "{}?lastEventId=x",
            body["eventsUrl"].as_str().unwrap()
        )),
    )
    .await;
    assert_eq!(status, 400);
    assert!(answer["error"].as_str().unwrap().contains("Last-Event-ID"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn late_subscribers_get_a_snapshot_first() {
    let (server, gate) = start().await;
    let client = reqwest::Client::new();
    let (_, body) = post(
        &client,
        &server.url(&format!("{RUN}?async=true")),
        json!({"workflowIds": ["held", "alpha"]}),
    )
    .await;
    let events_url = server.url(body["eventsUrl"].as_str().unwrap());
    let run_id = body["runId"].as_str().unwrap().to_owned();
    // Wait until the gated workflow is inside its step, then join.
    poll::until("the held workflow is in its gated step", || async {
        let status = run_status(&client, &server, &run_id).await;
        status["statuses"][1]["currentStep"] == "Wait for the gate"
    })
    .await;
    let mut stream = open_events(&client, &events_url, None).await;
    let snapshot = stream.next().await.unwrap();
    assert_eq!(snapshot.event, "snapshot");
    assert_eq!(snapshot.data["state"], "running");
    assert_eq!(snapshot.data["runId"], run_id.as_str());
    assert_eq!(snapshot.data["lastEventId"], snapshot.id);
    let held = &snapshot.data["statuses"][1];
    assert_eq!(held["workflowId"], "held");
    assert_eq!(held["status"], "running");
    assert_eq!(held["currentStep"], "Wait for the gate");

    gate.add_permits(1);
    let mut rest = Vec::new();
    while let Some(e) = stream.next().await {
        rest.push(e);
    }
    let ids: Vec<u64> = rest.iter().map(|e| e.id).collect();
    let first = snapshot.id + 1;
    assert_eq!(
        ids,
        (first..first + rest.len() as u64).collect::<Vec<_>>(),
        "no gap after the snapshot"
    );
    assert_eq!(rest.last().unwrap().event, "runFinished");

    // After the end: the snapshot, then the final runFinished, then the stream ends.
    let after = read_events(&client, &events_url, None).await;
    let kinds: Vec<&str> = after.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(kinds, ["snapshot", "runFinished"]);
    assert_eq!(after[0].data["state"], "finished");
    assert_eq!(after[0].data["statuses"][1]["status"], "completed");
    assert_eq!(after[1].id, rest.last().unwrap().id);
    assert_eq!(after[0].id + 1, after[1].id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_runs_and_a_hundred_subscribers_lose_nothing() {
    let gate = Arc::new(Semaphore::new(0));
    let workflows = vec![
        passing("one", 3, 2),
        passing("two", 2, 1),
        gated("held", gate.clone()),
    ];
    let mut ctx = context(workflows);
    // Fifty runs of three may exceed the 64 default slots for a moment: queue them all.
    ctx.limits.max_queued = 50;
    let server = Server::start(ctx).await;
    let client = reqwest::Client::new();
    let url = server.url(&format!("{RUN}?async=true"));

    let posts = (0..50).map(|_| {
        let (client, url) = (client.clone(), url.clone());
        tokio::spawn(async move {
            post(
                &client,
                &url,
                json!({"workflowIds": ["one", "two", "held"]}),
            )
            .await
        })
    });
    let mut run_ids = Vec::new();
    for post in posts {
        let (status, body) = post.await.unwrap();
        assert_eq!(status, 202, "{body}");
        run_ids.push(body["runId"].as_str().unwrap().to_owned());
    }
    let unique: std::collections::HashSet<&String> = run_ids.iter().collect();
    assert_eq!(unique.len(), 50);

    // Two subscribers per run, joined while the runs are held: one replays from the start,
    // one starts from a snapshot.
    let mut subscribers = Vec::new();
    for (i, run_id) in run_ids.iter().enumerate() {
        for replay in [true, false] {
            let client = client.clone();
            let events_url = server.url(&format!("/api/test-workflows/runs/{run_id}/events"));
            let stream = open_events(&client, &events_url, replay.then_some(0)).await;
            subscribers.push((
                i,
                replay,
                tokio::spawn(async move {
                    let mut stream = stream;
                    let mut all = Vec::new();
                    while let Some(e) = stream.next().await {
                        all.push(e);
                    }
                    all
                }),
            ));
        }
    }
    assert_eq!(subscribers.len(), 100);
    gate.add_permits(1000);

    let mut counts: HashMap<usize, u64> = HashMap::new();
    for (i, run_id) in run_ids.iter().enumerate() {
        let status = wait_finished(&client, &server, run_id).await;
        assert_eq!(status["report"]["completed"], 3, "{run_id}");
        counts.insert(i, status["eventCount"].as_u64().unwrap());
    }
    for (i, replay, task) in subscribers {
        let events = task.await.unwrap();
        let total = counts[&i];
        // 1 runStarted + 3 × (started + finished) + 6 + 4 + 4 step events + 1 runFinished.
        assert_eq!(total, 1 + 6 + 2 * (3 + 2 + 2) + 1);
        assert_eq!(events.last().unwrap().event, "runFinished");
        let ids: Vec<u64> = events.iter().map(|e| e.id).collect();
        if replay {
            assert_eq!(ids, (1..=total).collect::<Vec<_>>(), "run {i}, replaying");
        } else {
            assert_eq!(events[0].event, "snapshot");
            let from = events[0].id;
            assert_eq!(
                ids[1..],
                (from + 1..=total).collect::<Vec<_>>()[..],
                "run {i}, from a snapshot"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stopping_the_server_interrupts_runs_and_ends_open_streams() {
    let gate = Arc::new(Semaphore::new(0));
    let server = Server::start(context(vec![gated("held", gate.clone())])).await;
    let client = reqwest::Client::new();
    let (status, body) = post(
        &client,
        &server.url(&format!("{RUN}?async=true")),
        json!({"workflowIds": ["held"]}),
    )
    .await;
    assert_eq!(status, 202);
    let mut stream = open_events(
        &client,
        &server.url(body["eventsUrl"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(stream.next().await.unwrap().event, "snapshot");
    let waiting = {
        let client = client.clone();
        let url = server.url(RUN);
        tokio::spawn(async move { post(&client, &url, json!({"workflowIds": ["held"]})).await })
    };
    // The second run is registered and its workflow started, then the server stops.
    poll::until("the waiting run is running", || async {
        let (_, list) = get(&client, &server.url("/api/test-workflows/runs")).await;
        list["totalRuns"] == 2 && list["runs"][0]["state"] == "running"
    })
    .await;
    server.stop().await;
    let mut last = None;
    while let Some(event) = stream.next().await {
        last = Some(event.event);
    }
    // Both runs were interrupted by their engines at the end of the grace, and reported.
    assert_eq!(last.as_deref(), Some("runFinished"));
    let (status, body) = waiting.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["interrupted"], true, "{body}");
    assert_eq!(body["workflows"][0]["failureKind"], "interrupted", "{body}");
    assert!(
        body["workflows"][0]["error"]
            .as_str()
            .unwrap()
            .contains("interrupted (server stop)"),
        "{body}"
    );
    gate.add_permits(10);
}
