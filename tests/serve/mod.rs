//! Shared by the serve-mode tests: an in-process API server over fixture workflows, and a
//! small server-sent-events client built on reqwest.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{Semaphore, oneshot};
use workflow_harness::EngineConfig;
use workflow_harness::serve::{self, ServeContext, ServeLimits, Stopped};
use workflow_harness::{StepResult, WorkflowSpec};

/// A workflow of `steps` passing steps named `Step 1`…, each waiting `ms` milliseconds.
pub fn passing(id: &str, steps: usize, ms: u64) -> WorkflowSpec {
    WorkflowSpec::new(id, format!("Workflow {id}"), move |cx| {
        Box::pin(async move {
            for i in 1..=steps {
                cx.step(&format!("Step {i}"), async |_| -> StepResult {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    Ok(())
                })
                .await?;
            }
            Ok(())
        })
    })
    .planned_steps(steps)
}

/// A workflow whose second step fails.
pub fn failing(id: &str) -> WorkflowSpec {
    WorkflowSpec::new(id, format!("Workflow {id}"), |cx| {
        Box::pin(async move {
            cx.step("Fine", async |_| Ok(())).await?;
            cx.step("Broken", async |_| -> StepResult {
                anyhow::bail!("broken on purpose")
            })
            .await?;
            cx.step("Never", async |_| Ok(())).await
        })
    })
    .planned_steps(3)
}

/// A workflow whose one step waits for a permit of `gate` (the test opens it).
pub fn gated(id: &str, gate: Arc<Semaphore>) -> WorkflowSpec {
    WorkflowSpec::new(id, format!("Workflow {id}"), move |cx| {
        let gate = gate.clone();
        Box::pin(async move {
            cx.step("Wait for the gate", async move |_| -> StepResult {
                let _permit = gate.acquire().await?;
                Ok(())
            })
            .await?;
            cx.step("After the gate", async |_| Ok(())).await
        })
    })
    .planned_steps(2)
}

/// A context over `workflows` (sorted by id, as the harness gives them).
pub fn context(mut workflows: Vec<WorkflowSpec>) -> ServeContext {
    workflows.sort_by(|a, b| a.id.cmp(&b.id));
    ServeContext {
        workflows,
        engine: EngineConfig::default(),
        client: reqwest::Client::new(),
        token: None,
        max_workflows: 100,
        report_dir: None,
        history: None,
        scheduling: Default::default(),
        limits: ServeLimits {
            // A stopping test server does not wait long for held runs.
            shutdown_grace: Duration::from_millis(100),
            ..ServeLimits::default()
        },
    }
}

/// A running server; dropping it stops it.
pub struct Server {
    pub base: String,
    stop: Option<oneshot::Sender<()>>,
    pub task: Option<tokio::task::JoinHandle<std::io::Result<Stopped>>>,
}

impl Server {
    pub async fn start(context: ServeContext) -> Server {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve::run(listener, context, async {
            let _ = stopped.await;
        }));
        Server {
            base,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the server and waits until it has stopped; returns what it cut short.
    pub async fn stop(mut self) -> Stopped {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let task = self.task.take().expect("a started server");
        tokio::time::timeout(Duration::from_secs(20), task)
            .await
            .expect("the server stops")
            .unwrap()
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// One server-sent event.
#[derive(Debug, Clone)]
pub struct Sse {
    pub event: String,
    pub id: u64,
    pub data: Value,
}

/// Reads a whole SSE stream (until the server ends it), with `Last-Event-ID` if given.
pub async fn read_events(
    client: &reqwest::Client,
    url: &str,
    last_event_id: Option<u64>,
) -> Vec<Sse> {
    let mut stream = open_events(client, url, last_event_id).await;
    let mut all = Vec::new();
    while let Some(event) = stream.next().await {
        all.push(event);
    }
    all
}

/// An open SSE stream.
pub struct SseStream {
    response: reqwest::Response,
    buffer: String,
}

pub async fn open_events(
    client: &reqwest::Client,
    url: &str,
    last_event_id: Option<u64>,
) -> SseStream {
    let mut request = client.get(url);
    if let Some(id) = last_event_id {
        request = request.header("Last-Event-ID", id.to_string());
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    SseStream {
        response,
        buffer: String::new(),
    }
}

impl SseStream {
    /// The next event, or `None` when the stream ended. Bounded: panics after 20 s.
    pub async fn next(&mut self) -> Option<Sse> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(event) = parse_block(&block) {
                    return Some(event);
                }
                continue; // a keep-alive comment
            }
            let chunk = tokio::time::timeout(Duration::from_secs(20), self.response.chunk())
                .await
                .expect("an SSE chunk within 20 s")
                .unwrap()?;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}

fn parse_block(block: &str) -> Option<Sse> {
    let (mut event, mut id, mut data) = (None, None, String::new());
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("event:") {
            event = Some(v.trim().to_owned());
        } else if let Some(v) = line.strip_prefix("id:") {
            id = Some(v.trim().parse().unwrap());
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push_str(v.strip_prefix(' ').unwrap_or(v));
        }
    }
    let event = event?;
    Some(Sse {
        event,
        id: id.expect("every event has an id"),
        data: serde_json::from_str(&data).unwrap(),
    })
}
