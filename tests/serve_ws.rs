//! The WebSocket streams, read with a real WebSocket client (tokio-tungstenite) beside the SSE
//! stream of the same run: the same events with the same ids, the same replay, the same end,
//! the same token rules; a client that takes nothing is dropped without slowing the run.

mod poll;
mod serve;

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use workflow_harness::WorkflowSpec;
use workflow_harness::prelude::*;

use serve::{Server, Sse, context, gated, open_events, passing, read_events};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One event as both streams give it: id, type, data.
type Seen = (u64, String, Value);

fn ws_url(server: &Server, path: &str) -> String {
    server.url(path).replacen("http://", "ws://", 1)
}

async fn connect(url: &str) -> Socket {
    let (socket, response) = tokio_tungstenite::connect_async(url)
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    assert_eq!(response.status(), 101);
    socket
}

/// What a socket gives until it closes: the events, and the close frame's code and reason
/// (`None` for a connection that ended without one).
async fn read_all(socket: &mut Socket) -> (Vec<Value>, Option<(u16, String)>) {
    let mut events = Vec::new();
    loop {
        let next = tokio::time::timeout(Duration::from_secs(20), socket.next())
            .await
            .expect("a message within 20 s");
        match next {
            Some(Ok(Message::Text(text))) => events.push(serde_json::from_str(&text).unwrap()),
            Some(Ok(Message::Close(frame))) => {
                let close = frame.map(|f| (u16::from(f.code), f.reason.to_string()));
                return (events, close);
            }
            Some(Ok(_)) => {}
            None | Some(Err(_)) => return (events, None),
        }
    }
}

/// [`read_all`] for big streams: the texts are kept as they come and parsed at the end, so
/// the client takes every message as fast as the server sends it.
async fn read_all_fast(socket: &mut Socket) -> (Vec<Value>, Option<(u16, String)>) {
    let mut texts = Vec::new();
    let close = loop {
        let next = tokio::time::timeout(Duration::from_secs(20), socket.next())
            .await
            .expect("a message within 20 s");
        match next {
            Some(Ok(Message::Text(text))) => texts.push(text),
            Some(Ok(Message::Close(frame))) => {
                break frame.map(|f| (u16::from(f.code), f.reason.to_string()));
            }
            Some(Ok(_)) => {}
            None | Some(Err(_)) => break None,
        }
    };
    let events = texts
        .iter()
        .map(|t| serde_json::from_str(t).unwrap())
        .collect();
    (events, close)
}

async fn next_event(socket: &mut Socket) -> Value {
    loop {
        let next = tokio::time::timeout(Duration::from_secs(20), socket.next())
            .await
            .expect("a message within 20 s")
            .expect("the socket is open")
            .unwrap();
        if let Message::Text(text) = next {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

fn from_ws(message: &Value) -> Seen {
    (
        message["id"].as_u64().unwrap(),
        message["event"].as_str().unwrap().to_owned(),
        message["data"].clone(),
    )
}

fn from_sse(events: &[Sse]) -> Vec<Seen> {
    events
        .iter()
        .map(|e| (e.id, e.event.clone(), e.data.clone()))
        .collect()
}

fn workflows(gate: &Arc<Semaphore>) -> Vec<WorkflowSpec> {
    vec![
        passing("alpha", 3, 1),
        passing("beta", 2, 1).depends_on(["alpha"]),
        gated("held", gate.clone()),
    ]
}

/// Starts a run of `ids` in the background; returns its id.
async fn start_run(client: &reqwest::Client, server: &Server, ids: &[&str]) -> String {
    let response = client
        .post(server.url("/api/test-workflows/parallel?async=true"))
        .json(&json!({ "workflowIds": ids }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.unwrap();
    body["runId"].as_str().unwrap().to_owned()
}

async fn wait_finished(client: &reqwest::Client, server: &Server, run: &str) {
    let url = server.url(&format!("/api/test-workflows/runs/{run}"));
    poll::until(&format!("{run} finished"), || async {
        let status: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
        status["state"] == "finished"
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn websocket_and_sse_clients_receive_the_same_events() {
    for _ in 0..5 {
        let gate = Arc::new(Semaphore::new(0));
        let server = Server::start(context(workflows(&gate))).await;
        let client = reqwest::Client::new();
        let run = start_run(&client, &server, &["beta", "held"]).await;
        let events = format!("/api/test-workflows/runs/{run}/events");
        let ws = format!("/api/test-workflows/runs/{run}/ws");

        // From the start, joined while the run is held: both replay, then follow live.
        let mut from_start = connect(&ws_url(&server, &format!("{ws}?from=0"))).await;
        let sse = tokio::spawn({
            let (client, url) = (client.clone(), server.url(&events));
            async move { read_events(&client, &url, Some(0)).await }
        });
        // A client that reads three events, drops, and resumes after the last it got.
        let mut dropped = connect(&ws_url(&server, &format!("{ws}?from=0"))).await;
        let mut resumed: Vec<Seen> = Vec::new();
        for _ in 0..3 {
            resumed.push(from_ws(&next_event(&mut dropped).await));
        }
        drop(dropped);
        gate.add_permits(1);
        let (live, close) = read_all(&mut from_start).await;
        assert_eq!(
            close,
            Some((1000, "run finished".to_owned())),
            "a normal close"
        );
        let live: Vec<Seen> = live.iter().map(from_ws).collect();
        let sse = from_sse(&sse.await.unwrap());
        assert_eq!(live, sse, "the same events, ids and data");
        assert_eq!(live.last().unwrap().1, "runFinished");
        let ids: Vec<u64> = live.iter().map(|e| e.0).collect();
        assert_eq!(ids, (1..=live.len() as u64).collect::<Vec<_>>());

        let last = resumed.last().unwrap().0;
        let mut again = connect(&ws_url(&server, &format!("{ws}?from={last}"))).await;
        let (rest, close) = read_all(&mut again).await;
        assert_eq!(close.map(|c| c.0), Some(1000));
        resumed.extend(rest.iter().map(from_ws));
        assert_eq!(resumed, sse, "a reconnect after the last id misses nothing");

        // A late joiner without `from`: the snapshot, then `runFinished`, as over SSE.
        let mut late = connect(&ws_url(&server, &ws)).await;
        let (got, close) = read_all(&mut late).await;
        assert_eq!(close.map(|c| c.0), Some(1000));
        let got: Vec<Seen> = got.iter().map(from_ws).collect();
        let over_sse = from_sse(&read_events(&client, &server.url(&events), None).await);
        assert_eq!(got, over_sse);
        let kinds: Vec<&str> = got.iter().map(|e| e.1.as_str()).collect();
        assert_eq!(kinds, ["snapshot", "runFinished"]);
        assert_eq!(got[0].2["state"], "finished");
        assert_eq!(
            got[0].0,
            sse.len() as u64 - 1,
            "the snapshot covers all but the end"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_joining_mid_run_gets_the_snapshot_then_the_rest() {
    let gate = Arc::new(Semaphore::new(0));
    let server = Server::start(context(workflows(&gate))).await;
    let client = reqwest::Client::new();
    let run = start_run(&client, &server, &["held"]).await;
    let status = server.url(&format!("/api/test-workflows/runs/{run}"));
    poll::until("held is in its step", || async {
        let s: Value = client
            .get(&status)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        s["statuses"][0]["currentStep"] == "Wait for the gate"
    })
    .await;
    // Nothing happens while the gate is closed, so both snapshots cover the same events.
    let mut ws = connect(&ws_url(
        &server,
        &format!("/api/test-workflows/runs/{run}/ws"),
    ))
    .await;
    let url = server.url(&format!("/api/test-workflows/runs/{run}/events"));
    let mut sse = open_events(&client, &url, None).await;
    let first = next_event(&mut ws).await;
    assert_eq!(first["event"], "snapshot");
    let sse_first = sse.next().await.unwrap();
    gate.add_permits(1);
    let (rest, close) = read_all(&mut ws).await;
    assert_eq!(close.map(|c| c.0), Some(1000));
    let mut got = vec![from_ws(&first)];
    got.extend(rest.iter().map(from_ws));
    let mut over_sse = vec![sse_first];
    while let Some(event) = sse.next().await {
        over_sse.push(event);
    }
    assert_eq!(got, from_sse(&over_sse));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_all_runs_stream_carries_every_run_with_its_id() {
    let gate = Arc::new(Semaphore::new(0));
    let server = Server::start(context(workflows(&gate))).await;
    let client = reqwest::Client::new();
    // A run already going when the client connects: its snapshot first, then the rest.
    let early = start_run(&client, &server, &["held"]).await;
    let mut all = connect(&ws_url(&server, "/api/test-workflows/runs/ws")).await;
    let first = next_event(&mut all).await;
    assert_eq!(
        (first["runId"].as_str(), first["event"].as_str()),
        (Some(early.as_str()), Some("snapshot"))
    );
    let later = start_run(&client, &server, &["beta"]).await;
    wait_finished(&client, &server, &later).await;
    gate.add_permits(1);
    wait_finished(&client, &server, &early).await;

    let mut by_run: std::collections::HashMap<String, Vec<Seen>> = Default::default();
    by_run
        .entry(early.clone())
        .or_default()
        .push(from_ws(&first));
    let mut finished = 0;
    while finished < 2 {
        let message = next_event(&mut all).await;
        let run = message["runId"].as_str().unwrap().to_owned();
        if message["event"] == "runFinished" {
            finished += 1;
        }
        by_run.entry(run).or_default().push(from_ws(&message));
    }
    // The later run from its first event, the early one from its snapshot: each as its own
    // stream gives it.
    let replay = |run: &str, last: Option<u64>| {
        let (client, url) = (
            client.clone(),
            server.url(&format!("/api/test-workflows/runs/{run}/events")),
        );
        async move { from_sse(&read_events(&client, &url, last).await) }
    };
    assert_eq!(by_run[&later], replay(&later, Some(0)).await);
    let early_events = &by_run[&early];
    let covered = early_events[0].0;
    assert_eq!(early_events[1..], replay(&early, Some(covered)).await[..]);
    // The all-runs stream stays open for the runs to come.
    all.send(Message::Ping(Vec::new().into())).await.unwrap();
    let pong = tokio::time::timeout(Duration::from_secs(20), all.next())
        .await
        .unwrap();
    assert!(matches!(pong, Some(Ok(Message::Pong(_)))), "{pong:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_token_and_origin_rules_hold_for_websockets() {
    let gate = Arc::new(Semaphore::new(1));
    let mut ctx = context(workflows(&gate));
    ctx.token = Some("s3cret".into());
    let server = Server::start(ctx).await;
    let client = reqwest::Client::new();
    let response = client
        .post(server.url("/api/test-workflows/parallel"))
        .bearer_auth("s3cret")
        .json(&json!({"workflowIds": ["alpha"]}))
        .send()
        .await
        .unwrap();
    let run = response.headers()["x-run-id"].to_str().unwrap().to_owned();
    let ws = ws_url(&server, &format!("/api/test-workflows/runs/{run}/ws"));
    let refused = |result: Result<_, tungstenite::Error>| match result {
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("the handshake was accepted"),
    };
    assert_eq!(refused(tokio_tungstenite::connect_async(&ws).await), 401);
    assert_eq!(
        refused(
            tokio_tungstenite::connect_async(ws_url(&server, "/api/test-workflows/runs/ws")).await
        ),
        401
    );
    // `?token=` as for the SSE stream (a browser's WebSocket cannot send headers), or the
    // header.
    let mut socket = connect(&format!("{ws}?token=s3cret")).await;
    let (events, close) = read_all(&mut socket).await;
    assert_eq!(close.map(|c| c.0), Some(1000));
    assert_eq!(events.last().unwrap()["event"], "runFinished");
    let mut request = ws.as_str().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", "Bearer s3cret".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(request).await.is_ok());
    // A page of another site may not open one (browsers send its Origin); the server's own
    // origin may.
    for (origin, wanted) in [
        ("http://evil.example", Some(403)),
        (server.base.as_str(), None),
    ] {
        let mut request = format!("{ws}?token=s3cret").into_client_request().unwrap();
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
        let result = tokio_tungstenite::connect_async(request).await;
        match wanted {
            Some(status) => assert_eq!(refused(result), status, "{origin}"),
            None => assert!(result.is_ok(), "{origin}"),
        }
    }
    // An unknown run and a bad `from` are refused before the upgrade, as JSON errors.
    for (path, status) in [
        ("/api/test-workflows/runs/run-99/ws?token=s3cret", 404),
        (
            &*format!("/api/test-workflows/runs/{run}/ws?token=s3cret&from=x"),
            400,
        ),
    ] {
        assert_eq!(
            refused(tokio_tungstenite::connect_async(ws_url(&server, path)).await),
            status
        );
    }
}

/// A workflow of `steps` optional steps, each failing with a `size`-byte error: large events.
fn bulky(steps: usize, size: usize) -> WorkflowSpec {
    WorkflowSpec::new("bulky", "Bulky", move |cx| {
        Box::pin(async move {
            for i in 0..steps {
                cx.optional_step(&format!("Step {i}"), async |_| -> StepResult {
                    bail!("{}", "x".repeat(size))
                })
                .await;
            }
            Ok(())
        })
    })
}

/// A WebSocket client whose receive buffer holds almost nothing, so the server's sends wait
/// for it to read.
async fn tight_client(server: &Server, url: &str) -> Socket {
    let address = server.base.trim_start_matches("http://").parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(address).await.unwrap();
    tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(stream))
        .await
        .unwrap()
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_too_far_behind_is_closed_with_1008() {
    let mut ctx = context(vec![bulky(60, 100_000)]);
    ctx.limits.ws_max_backlog = 16;
    // Its stuck send must outlast the run, however loaded the machine.
    ctx.limits.ws_send_timeout = Duration::from_secs(120);
    let server = Server::start(ctx).await;
    let client = reqwest::Client::new();
    let run = start_run(&client, &server, &["bulky"]).await;
    let url = ws_url(
        &server,
        &format!("/api/test-workflows/runs/{run}/ws?from=0"),
    );
    let mut slow = tight_client(&server, &url).await;
    // The run does not wait for it: it finishes while the client has read nothing and the
    // server's send to it is stuck.
    wait_finished(&client, &server, &run).await;
    let (got, close) = read_all(&mut slow).await;
    let (code, reason) = close.expect("a close frame");
    assert_eq!(code, 1008, "{reason}");
    assert!(reason.starts_with("too slow: "), "{reason}");
    assert!(reason.ends_with("events behind (at most 16)"), "{reason}");
    assert!(got.iter().all(|m| m["event"] != "runFinished"));
    // It may come back from where it was.
    let last = got.last().map_or(0, |m| m["id"].as_u64().unwrap());
    let resume = url.replace("from=0", &format!("from={last}"));
    let (rest, close) = read_all_fast(&mut connect(&resume).await).await;
    assert_eq!(close.map(|c| c.0), Some(1000));
    assert_eq!(rest.last().unwrap()["event"], "runFinished");
    let (all, _) = read_all_fast(&mut connect(&url).await).await;
    let mut joined: Vec<Seen> = got.iter().map(from_ws).collect();
    joined.extend(rest.iter().map(from_ws));
    assert_eq!(joined, all.iter().map(from_ws).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_that_takes_nothing_is_dropped_and_the_run_goes_on() {
    let mut ctx = context(vec![bulky(60, 100_000)]);
    // Long enough for a client that reads (the reference below), short for one that never
    // does.
    ctx.limits.ws_send_timeout = Duration::from_secs(1);
    let server = Server::start(ctx).await;
    let client = reqwest::Client::new();
    let run = start_run(&client, &server, &["bulky"]).await;
    // Connected with a tiny receive buffer, then never read until the run is over: about
    // 24 MB of events wait for it, far more than the sockets' buffers hold.
    let url = ws_url(
        &server,
        &format!("/api/test-workflows/runs/{run}/ws?from=0"),
    );
    let mut stalled = tight_client(&server, &url).await;
    wait_finished(&client, &server, &run).await;
    // The whole stream, as a client that reads gets it.
    let (all, close) = read_all_fast(&mut connect(&url).await).await;
    assert_eq!(close.map(|c| c.0), Some(1000));
    let sse: Vec<Seen> = all.iter().map(from_ws).collect();
    assert_eq!(sse.last().unwrap().1, "runFinished");
    // What the socket still holds, then its end: the server gave up on it, so it never
    // got to `runFinished` and no normal close.
    // The server gives up on a socket that takes nothing for 1 s; it has been stuck since
    // mid-run. (Reading now, before that, would unstick it: the pause is for the server's
    // timer, nothing measures it.)
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (got, close) = read_all(&mut stalled).await;
    assert!(
        got.len() < sse.len(),
        "{} of {} events",
        got.len(),
        sse.len()
    );
    assert!(got.iter().all(|m| m["event"] != "runFinished"));
    assert_ne!(close.as_ref().map(|c| c.0), Some(1000), "{close:?}");
    let got: Vec<Seen> = got.iter().map(from_ws).collect();
    assert_eq!(
        got[..],
        sse[..got.len()],
        "what it got is the start of the stream"
    );
}
