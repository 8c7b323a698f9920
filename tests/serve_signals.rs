//! Serve mode stopped by a signal, as a service manager stops it: this test binary runs
//! itself as a fixture suite with `--serve 127.0.0.1:0`, gets SIGTERM (or SIGINT), and must
//! stop accepting, let requests and runs in flight finish within the grace, cut the others
//! short, say so, and exit 0.

mod poll;
mod support;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitCode, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use workflow_harness::prelude::*;

/// The file whose existence opens the gate of the `gated` fixture workflow.
const GATE_ENV: &str = "SERVE_SIGNALS_GATE";

// ---- fixture workflows (run only in the child process) ----

workflow! { id: "gated", name: "Waits for the gate file", run: gated }

async fn gated(cx: &mut Ctx) -> StepResult {
    cx.step("Wait for the gate", async |_| {
        let gate = std::env::var_os(GATE_ENV).context("no gate file configured")?;
        while !Path::new(&gate).exists() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(())
    })
    .await
}

workflow! { id: "quick", name: "Passes at once", run: quick }

async fn quick(cx: &mut Ctx) -> StepResult {
    cx.step("Nothing", async |_| Ok(())).await
}

// ---- tests (run in the parent process) ----

/// This binary serving the API, its stderr collected; killed on drop.
struct Served {
    child: Child,
    addr: String,
    stderr: Arc<Mutex<Vec<String>>>,
    /// The thread that collects `stderr`.
    reader: Option<std::thread::JoinHandle<()>>,
    gate: PathBuf,
    _dir: tempfile::TempDir,
}

impl Served {
    fn start(env: &[(&str, &str)]) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let gate = dir.path().join("gate");
        let mut cmd = support::fixture_command(std::env::current_exe().unwrap(), dir.path());
        cmd.env(GATE_ENV, &gate)
            .args(["--serve", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd.envs(env.iter().copied());
        let mut child = cmd.spawn().unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                panic!("the server exited before announcing its address");
            };
            if let Some(rest) = line.strip_prefix("workflow API and dashboard on http://") {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let collected = stderr.clone();
        let reader = std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                collected.lock().unwrap().push(line);
            }
        });
        Served {
            child,
            addr,
            stderr,
            reader: Some(reader),
            gate,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn signal(&self, signal: i32) {
        let pid = i32::try_from(self.child.id()).unwrap();
        // SAFETY: `kill` only sends a signal to our own child process.
        let sent = unsafe { libc::kill(pid, signal) };
        assert_eq!(sent, 0, "kill failed");
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// Waits until a line of stderr contains `needle`.
    fn wait_for_line(&self, needle: &str) {
        poll::until_ok_blocking(&format!("stderr has {needle:?}"), || {
            let stderr = self.stderr();
            if stderr.contains(needle) {
                Ok(())
            } else {
                Err(stderr)
            }
        });
    }

    /// Waits for the process to exit, and for the reader thread to take its last lines (it
    /// ends at the end of the pipe).
    fn wait_exit(&mut self) -> ExitStatus {
        let status = poll::until_ok_blocking("the server exited", || {
            self.child.try_wait().unwrap().ok_or_else(|| self.stderr())
        });
        let reader = self.reader.take().expect("one wait_exit");
        poll::until_blocking("stderr is read to its end", || reader.is_finished());
        reader.join().unwrap();
        status
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn get(client: &reqwest::Client, url: &str) -> Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

/// Polls the run's status until `state` (for `running`: with its first workflow running).
async fn wait_state(client: &reqwest::Client, served: &Served, run: &str, state: &str) {
    let url = served.url(&format!("/api/test-workflows/runs/{run}"));
    poll::until_ok(&format!("{run} is {state}"), || async {
        let status = get(client, &url).await;
        let running = status["statuses"][0]["status"] == "running";
        if status["state"] == state && (state != "running" || running) {
            Ok(())
        } else {
            Err(status.to_string())
        }
    })
    .await;
}

fn exits_zero(status: ExitStatus, served: &Served) {
    assert_eq!(status.code(), Some(0), "stderr:\n{}", served.stderr());
}

fn an_idle_server_stops_on_sigterm_and_sigint() {
    for (signal, name) in [(libc::SIGTERM, "SIGTERM"), (libc::SIGINT, "SIGINT")] {
        let mut served = Served::start(&[]);
        served.signal(signal);
        let status = served.wait_exit();
        exits_zero(status, &served);
        let stderr = served.stderr();
        assert!(
            stderr.contains(&format!("serve: {name} received: stopping")),
            "{stderr}"
        );
        assert!(stderr.contains("serve: stopped"), "{stderr}");
        assert!(!stderr.contains("cut short"), "{stderr}");
    }
}

fn a_run_in_flight_finishes_within_the_grace() {
    let mut served = Served::start(&[("WORKFLOW_API_SHUTDOWN_GRACE", "60s")]);
    let rt = runtime();
    let client = reqwest::Client::new();
    let waiting = rt.spawn({
        let (client, url) = (client.clone(), served.url("/api/test-workflows/parallel"));
        async move {
            let response = client
                .post(url)
                .json(&json!({"workflowIds": ["gated"]}))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    });
    rt.block_on(wait_state(&client, &served, "run-1", "running"));
    // Open before the signal (a request sent after it may meet a closing connection).
    let events = rt.block_on(
        client
            .get(served.url("/api/test-workflows/runs/run-1/events"))
            .send(),
    );
    let events = rt.spawn(async move { events.unwrap().text().await.unwrap() });
    served.signal(libc::SIGTERM);
    served.wait_for_line("serve: SIGTERM received: stopping");

    // No new connections while it drains...
    poll::until_blocking("the server accepts no more connections", || {
        std::net::TcpStream::connect(&served.addr).is_err()
    });
    // ...but the run and its waiting request go on, until the workflow is let through. (That
    // nothing ends can only be watched for a while: this window is the one fixed wait here, and
    // a slow machine cannot make the test pass wrongly, only miss an early end.)
    std::thread::sleep(Duration::from_millis(100));
    assert!(!waiting.is_finished(), "the waiting request ended early");
    assert!(served.child.try_wait().unwrap().is_none(), "exited early");
    std::fs::write(&served.gate, "open").unwrap();
    let (status, report) = rt.block_on(waiting).unwrap();
    assert_eq!(status, 200, "{report}; stderr:\n{}", served.stderr());
    assert_eq!(report["completed"], 1, "{report}");
    let stream = rt.block_on(events).unwrap();
    assert!(
        stream.contains("event: runFinished"),
        "the open event stream got the end of the run: {stream}"
    );
    let exit = served.wait_exit();
    exits_zero(exit, &served);
    let stderr = served.stderr();
    assert!(stderr.contains("serve: stopped"), "{stderr}");
    assert!(!stderr.contains("cut short"), "{stderr}");
}

fn runs_past_the_grace_are_interrupted_and_queued_ones_cancelled() {
    let mut served = Served::start(&[
        ("WORKFLOW_API_SHUTDOWN_GRACE", "300ms"),
        ("WORKFLOW_API_MAX_RUNNING", "1"),
    ]);
    let rt = runtime();
    let client = reqwest::Client::new();
    let run_url = served.url("/api/test-workflows/parallel");
    let waiting = rt.spawn({
        let (client, url) = (client.clone(), run_url.clone());
        async move {
            let response = client
                .post(url)
                .json(&json!({"workflowIds": ["gated"]}))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap_or_default())
        }
    });
    rt.block_on(wait_state(&client, &served, "run-1", "running"));
    let queued: Value = rt.block_on(async {
        client
            .post(format!("{run_url}?async=true"))
            .json(&json!({"workflowIds": ["quick"]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(queued["runId"], "run-2");
    rt.block_on(wait_state(&client, &served, "run-2", "queued"));
    let events = rt.block_on(
        client
            .get(served.url("/api/test-workflows/runs/run-1/events"))
            .send(),
    );
    let events = rt.spawn(async move { events.unwrap().text().await.unwrap() });

    served.signal(libc::SIGTERM);
    let exit = served.wait_exit();
    exits_zero(exit, &served);
    // The engine interrupted the run at the end of the grace: the waiting client gets its
    // report, which says so, and the event stream ends with `runFinished`.
    let (status, report) = rt.block_on(waiting).unwrap();
    assert_eq!(status, 200, "{}", served.stderr());
    assert_eq!(report["interrupted"], true, "{report}");
    assert_eq!(report["workflows"][0]["status"], "cancelled", "{report}");
    assert_eq!(
        report["workflows"][0]["failureKind"], "interrupted",
        "{report}"
    );
    let stream = rt.block_on(events).unwrap();
    assert!(stream.contains("event: snapshot"), "{stream}");
    assert!(stream.contains("event: runInterrupted"), "{stream}");
    assert!(stream.contains("event: runFinished"), "{stream}");
    let stderr = served.stderr();
    assert!(
        stderr.contains("serve: interrupted, reported with its cancelled workflows: run-1 (0 of 1 workflows finished)"),
        "{stderr}"
    );
    assert!(!stderr.contains("cut short"), "{stderr}");
    assert!(
        stderr.contains("serve: cancelled before they started: run-2"),
        "{stderr}"
    );
    assert!(stderr.contains("serve: stopped"), "{stderr}");
}

fn main() -> ExitCode {
    support::main(&[
        (
            "an_idle_server_stops_on_sigterm_and_sigint",
            an_idle_server_stops_on_sigterm_and_sigint,
        ),
        (
            "a_run_in_flight_finishes_within_the_grace",
            a_run_in_flight_finishes_within_the_grace,
        ),
        (
            "runs_past_the_grace_are_interrupted_and_queued_ones_cancelled",
            runs_past_the_grace_are_interrupted_and_queued_ones_cancelled,
        ),
    ])
}
