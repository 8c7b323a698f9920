//! Serve mode under load and abuse: the server-wide workflow cap across runs and its queue,
//! the `Host` check (DNS rebinding), slow and silent connections, the case of `Bearer`.

mod poll;
mod serve;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use workflow_harness::{StepResult, WorkflowSpec};

use serve::{Server, context, gated, open_events};

const RUN: &str = "/api/test-workflows/parallel";
const RUNS: &str = "/api/test-workflows/runs";

/// Counts the workflows running at this moment, and the most ever seen at once.
#[derive(Default)]
struct Gauge {
    now: AtomicUsize,
    max: AtomicUsize,
}

/// A workflow of two short steps, counted by `gauge` for as long as it runs.
fn probe(id: &str, gauge: Arc<Gauge>) -> WorkflowSpec {
    WorkflowSpec::new(id, format!("Probe {id}"), move |cx| {
        let gauge = gauge.clone();
        Box::pin(async move {
            let running = gauge.now.fetch_add(1, Ordering::SeqCst) + 1;
            gauge.max.fetch_max(running, Ordering::SeqCst);
            let result = async {
                for step in ["One", "Two"] {
                    cx.step(step, async |_| -> StepResult {
                        tokio::time::sleep(Duration::from_millis(3)).await;
                        Ok(())
                    })
                    .await?;
                }
                Ok(())
            }
            .await;
            gauge.now.fetch_sub(1, Ordering::SeqCst);
            result
        })
    })
    .planned_steps(2)
}

async fn get(client: &reqwest::Client, url: &str) -> (u16, Value) {
    let response = client.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn post_async(client: &reqwest::Client, server: &Server, ids: &[&str]) -> reqwest::Response {
    client
        .post(server.url(&format!("{RUN}?async=true")))
        .json(&json!({ "workflowIds": ids }))
        .send()
        .await
        .unwrap()
}

/// From every run's report: the most workflows whose `[startTime, endTime]` overlap.
/// Timestamps are milliseconds; at a tie an end counts before a start, so touching intervals
/// never count as overlapping.
fn most_overlapping(reports: &[Value]) -> usize {
    let mut edges: Vec<(u64, i32)> = Vec::new();
    for report in reports {
        for w in report["workflows"].as_array().unwrap() {
            edges.push((w["startTime"].as_u64().unwrap(), 1));
            edges.push((w["endTime"].as_u64().unwrap(), -1));
        }
    }
    edges.sort_by_key(|&(at, delta)| (at, delta));
    let (mut now, mut most) = (0i32, 0i32);
    for (_, delta) in edges {
        now += delta;
        most = most.max(now);
    }
    usize::try_from(most).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_runs_never_run_more_than_max_running_workflows_at_once() {
    const MAX_RUNNING: usize = 4;
    let gauge = Arc::new(Gauge::default());
    let ids = ["p1", "p2", "p3", "p4", "p5", "p6"];
    let mut ctx = context(ids.iter().map(|id| probe(id, gauge.clone())).collect());
    ctx.limits.max_running = MAX_RUNNING;
    ctx.limits.max_queued = 100;
    let server = Server::start(ctx).await;
    let client = reqwest::Client::new();

    // Three rounds: the race (slots taken and given back by many runs at once) is tested by
    // repetition.
    for round in 0..3 {
        let posts: Vec<_> = (0..30)
            .map(|i| {
                let (client, url) = (client.clone(), server.url(&format!("{RUN}?async=true")));
                // Runs of 1 to 6 workflows, so small and big runs share the slots.
                let named: Vec<&str> = ids[..1 + (i % ids.len())].to_vec();
                tokio::spawn(async move {
                    let response = client
                        .post(url)
                        .json(&json!({ "workflowIds": named }))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status(), 202);
                    let body: Value = response.json().await.unwrap();
                    body["runId"].as_str().unwrap().to_owned()
                })
            })
            .collect();
        let mut run_ids = Vec::new();
        for post in posts {
            run_ids.push(post.await.unwrap());
        }

        // While they go on, the slots in use (one counter, read at once) never exceed the
        // cap. (Summing `running` statuses run by run would add up reads made at different
        // moments, so the exact measure comes from the reports' start and end times below.)
        let mut reports = Vec::new();
        for id in &run_ids {
            let report = poll::until_ok(&format!("run {id} finished"), || async {
                let (_, list) = get(&client, &server.url(RUNS)).await;
                let slots = &list["slots"];
                assert!(
                    slots["inUse"].as_u64().unwrap() <= MAX_RUNNING as u64,
                    "{slots}"
                );
                let (_, status) = get(&client, &server.url(&format!("{RUNS}/{id}"))).await;
                if status["state"] == "finished" {
                    Ok(status["report"].clone())
                } else {
                    Err(status.to_string())
                }
            })
            .await;
            assert_eq!(report["failed"], 0, "{report}");
            reports.push(report);
        }
        assert!(
            gauge.max.load(Ordering::SeqCst) <= MAX_RUNNING,
            "round {round}: {} workflows ran at once",
            gauge.max.load(Ordering::SeqCst)
        );
        let overlapping = most_overlapping(&reports);
        assert!(
            overlapping <= MAX_RUNNING,
            "round {round}: the reports overlap {overlapping} workflows"
        );
        assert_eq!(gauge.now.load(Ordering::SeqCst), 0);
    }
    let (_, list) = get(&client, &server.url(RUNS)).await;
    assert_eq!(list["slots"]["inUse"], 0, "every slot is back: {list}");
    assert_eq!(list["slots"]["queuedRuns"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn excess_runs_queue_in_order_and_a_full_queue_answers_429() {
    let gate = Arc::new(Semaphore::new(0));
    let mut ctx = context(vec![gated("a", gate.clone()), gated("b", gate.clone())]);
    ctx.limits.max_running = 2;
    ctx.limits.max_queued = 2;
    let server = Server::start(ctx).await;
    let client = reqwest::Client::new();

    // The first run takes both slots; the next two wait.
    let mut run_ids = Vec::new();
    for ids in [&["a", "b"][..], &["a"], &["b"]] {
        let response = post_async(&client, &server, ids).await;
        assert_eq!(response.status(), 202);
        let body: Value = response.json().await.unwrap();
        run_ids.push(body["runId"].as_str().unwrap().to_owned());
    }
    let first_url = server.url(&format!("{RUNS}/{}", run_ids[0]));
    poll::until("both slots are in use", || async {
        let (_, status) = get(&client, &first_url).await;
        status["statuses"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "running")
    })
    .await;
    for id in &run_ids[1..] {
        let (_, status) = get(&client, &server.url(&format!("{RUNS}/{id}"))).await;
        assert_eq!(status["state"], "queued", "{status}");
        assert!(
            status["statuses"]
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s["status"] == "pending"),
            "{status}"
        );
    }
    let (_, list) = get(&client, &server.url(RUNS)).await;
    let states: Vec<&str> = list["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["queued", "queued", "running"], "newest first");
    assert_eq!(
        list["slots"],
        json!({"maxRunning": 2, "inUse": 2, "queuedRuns": 2, "maxQueued": 2})
    );
    let events_url = server.url(&format!("{RUNS}/{}/events", run_ids[1]));
    let mut stream = open_events(&client, &events_url, None).await;
    let snapshot = stream.next().await.unwrap();
    assert_eq!(snapshot.data["state"], "queued");

    // The queue is full: refused at once, waiting or not, with the API's JSON error.
    for url in [server.url(&format!("{RUN}?async=true")), server.url(RUN)] {
        let response = client
            .post(&url)
            .json(&json!({"workflowIds": ["a"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 429, "{url}");
        assert_eq!(response.headers()["retry-after"], "5");
        let body: Value = response.json().await.unwrap();
        let error = body["error"].as_str().unwrap();
        assert!(
            error.contains("busy") && error.contains("2 runs"),
            "{error}"
        );
    }
    let (_, list) = get(&client, &server.url(RUNS)).await;
    assert_eq!(list["totalRuns"], 3, "a refused run is not registered");

    gate.add_permits(100);
    for id in &run_ids {
        poll::until(&format!("run {id} finished"), || async {
            let (_, status) = get(&client, &server.url(&format!("{RUNS}/{id}"))).await;
            status["state"] == "finished" && status["report"]["completed"].as_u64() > Some(0)
        })
        .await;
    }
    // The queued run's stream went on from its snapshot to the end.
    let mut last = snapshot;
    while let Some(event) = stream.next().await {
        last = event;
    }
    assert_eq!(last.event, "runFinished");
    let response = post_async(&client, &server, &["a"]).await;
    assert_eq!(response.status(), 202, "room again");
}

/// Sends `request` as is on a new connection and reads the whole answer (the request asks
/// to close); returns the status and the body.
async fn raw(server: &Server, request: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(server.base.trim_start_matches("http://"))
        .await
        .unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("an answer within 10 s")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn with_host(path: &str, host: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn foreign_hosts_are_refused_loopback_and_configured_ones_answered() {
    let server = Server::start(context(vec![probe("p1", Arc::default())])).await;
    let port = server.base.rsplit(':').next().unwrap().to_owned();
    // A page on evil.example whose name now points at 127.0.0.1 sends its own host name.
    for host in [
        "evil.example",
        &format!("evil.example:{port}"),
        "localhost.evil.example",
    ] {
        for path in [RUN, "/", "/nowhere"] {
            let (status, body) = raw(&server, &with_host(path, host)).await;
            assert_eq!(status, 403, "{host} {path}: {body}");
            let body: Value = serde_json::from_str(&body).unwrap();
            let error = body["error"].as_str().unwrap();
            assert!(error.contains(&format!("{host:?}")), "{error}");
        }
    }
    let (status, _) = raw(
        &server,
        &format!("GET {RUN} HTTP/1.1\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert_eq!(status, 400, "no Host at all");
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        "LocalHost".to_owned(),
        format!("[::1]:{port}"),
    ] {
        let (status, body) = raw(&server, &with_host(RUN, &host)).await;
        assert_eq!(status, 200, "{host}: {body}");
    }

    let mut ctx = context(vec![probe("p1", Arc::default())]);
    ctx.limits.allowed_hosts = vec!["ci.example.com".into(), "proxy.example:8443".into()];
    let server = Server::start(ctx).await;
    for (host, expected) in [
        ("ci.example.com", 200),
        ("CI.example.com.:80", 200),
        ("proxy.example:8443", 200),
        ("proxy.example:8444", 403),
        ("evil.example", 403),
        ("127.0.0.1", 200),
    ] {
        let (status, body) = raw(&server, &with_host(RUN, host)).await;
        assert_eq!(status, expected, "{host}: {body}");
    }

    let mut ctx = context(vec![probe("p1", Arc::default())]);
    ctx.limits.allowed_hosts = vec!["*".into()];
    let server = Server::start(ctx).await;
    let (status, _) = raw(&server, &with_host(RUN, "evil.example")).await;
    assert_eq!(status, 200, "`*` allows any host");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_bearer_scheme_is_case_insensitive() {
    let mut ctx = context(vec![probe("p1", Arc::default())]);
    ctx.token = Some("t0ken".into());
    let server = Server::start(ctx).await;
    let client = reqwest::Client::new();
    for (value, expected) in [
        ("Bearer t0ken", 200),
        ("bearer t0ken", 200),
        ("BEARER t0ken", 200),
        ("bEaReR   t0ken", 200),
        ("bearer t0keN", 401),
        ("bearer t0ken2", 401),
        ("Basic t0ken", 401),
        ("bearert0ken", 401),
    ] {
        let response = client
            .get(server.url(RUN))
            .header("authorization", value)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), expected, "{value:?}");
    }
}

/// A connection that has sent `sent` and nothing more.
async fn silent(server: &Server, sent: &str) -> TcpStream {
    let mut stream = TcpStream::connect(server.base.trim_start_matches("http://"))
        .await
        .unwrap();
    if !sent.is_empty() {
        stream.write_all(sent.as_bytes()).await.unwrap();
    }
    stream
}

/// Whether the server closed `stream`: end of file (or a reset) within `wait`.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buffer = [0u8; 1024];
    loop {
        match tokio::time::timeout(wait, stream.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            // The server may answer a partial head with 408 or 400 before closing.
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_hundred_silent_connections_do_not_stop_a_normal_request() {
    let mut ctx = context(vec![probe("p1", Arc::default())]);
    // Long enough that none of them is closed during the test: they all hold on.
    ctx.limits.header_read_timeout = Duration::from_secs(120);
    let server = Server::start(ctx).await;
    let mut idle = Vec::new();
    for i in 0..300 {
        let sent = if i % 2 == 0 {
            ""
        } else {
            "GET / HTTP/1.1\r\nHost: 127.0"
        };
        idle.push(silent(&server, sent).await);
    }
    let client = reqwest::Client::new();
    let response =
        tokio::time::timeout(Duration::from_secs(10), client.get(server.url(RUN)).send())
            .await
            .expect("answered while 300 connections hang")
            .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["totalWorkflows"], 1);
    for stream in &mut idle[..5] {
        assert!(
            !closed_within(stream, Duration::from_millis(1)).await,
            "still open"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn silent_partial_and_idle_connections_are_closed_after_the_head_timeout() {
    let mut ctx = context(vec![probe("p1", Arc::default())]);
    ctx.limits.header_read_timeout = Duration::from_millis(300);
    let server = Server::start(ctx).await;
    let mut streams = Vec::new();
    for i in 0..60 {
        let sent = match i % 3 {
            0 => "",
            1 => "GET /api/test-workflows/parallel HTTP/1.1\r\n",
            _ => "GET /api/test-workflows/parallel HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a",
        };
        streams.push(silent(&server, sent).await);
    }
    // A keep-alive connection that asked once and then says nothing more.
    let mut kept = silent(
        &server,
        "GET /api/test-workflows/parallel HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    )
    .await;
    streams.push({
        let mut first = [0u8; 64];
        let read = kept.read(&mut first).await.unwrap();
        assert!(first[..read].starts_with(b"HTTP/1.1 200"));
        kept
    });
    for (i, stream) in streams.iter_mut().enumerate() {
        assert!(
            closed_within(stream, Duration::from_secs(20)).await,
            "connection {i} was not closed"
        );
    }
    // The server itself is fine.
    let response = reqwest::get(server.url(RUN)).await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connections_beyond_the_cap_wait_for_a_free_one() {
    let mut ctx = context(vec![probe("p1", Arc::default())]);
    ctx.limits.max_connections = 4;
    ctx.limits.header_read_timeout = Duration::from_secs(120);
    let server = Server::start(ctx).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(silent(&server, "").await);
    }
    let request = tokio::spawn({
        let url = server.url(RUN);
        async move { reqwest::get(url).await.map(|r| r.status().as_u16()) }
    });
    // Every connection slot is taken by a silent client: the request waits. (That nothing
    // happens can only be watched for a while: this window is the one fixed wait here, and the
    // test cannot pass wrongly by a slow machine, only miss a fifth connection served late.)
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!request.is_finished(), "a fifth connection was served");
    drop(held.pop());
    let status = tokio::time::timeout(Duration::from_secs(10), request)
        .await
        .expect("served once a connection closed")
        .unwrap()
        .unwrap();
    assert_eq!(status, 200);
}
