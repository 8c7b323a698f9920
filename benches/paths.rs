//! The same 10,000 trivial workflows on every path a run can take: the engine alone (no
//! consumer), the `Executor` (status board, report fold, callbacks), serve mode (an API run over
//! HTTP: log, board, report fold), and the suite binary as `cargo test` runs it, without a
//! terminal and under a pseudo-terminal with the live view. Each path's run time is the
//! engine's own wall time of the run (`totalDuration`), so consumers that slow the engine show;
//! best of 3. The goal: every path within 10 % of the engine alone.
//!
//! `cargo bench --bench paths` (pass another count as the first argument). The pty path needs
//! util-linux `script`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use workflow_harness::serve::{self, ServeContext, ServeLimits};
use workflow_harness::{Engine, EngineConfig, Executor, Harness, RunReport, WorkflowSpec};

/// Set in the child process: run as the suite binary.
const CHILD: &str = "WORKFLOW_BENCH_PATHS_CHILD";
const CONCURRENCY: usize = 64;
const ROUNDS: usize = 3;

/// Three base-36 characters: 10,000 ids fit serve mode's 64 KiB request body.
fn id(i: usize) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    [i / 1296 % 36, i / 36 % 36, i % 36]
        .iter()
        .map(|&d| char::from(DIGITS[d]))
        .collect()
}

fn specs(n: usize) -> Vec<WorkflowSpec> {
    (0..n)
        .map(|i| {
            WorkflowSpec::new(id(i), format!("Trivial {i}"), |cx| {
                Box::pin(async move { cx.step("Nothing", async |_| Ok(())).await })
            })
        })
        .collect()
}

fn config() -> EngineConfig {
    EngineConfig {
        concurrency: CONCURRENCY,
        ..EngineConfig::default()
    }
}

fn count() -> usize {
    std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000)
}

fn main() -> std::process::ExitCode {
    // The child gets the count in its environment: its arguments are libtest's.
    if let Some(n) = std::env::var(CHILD).ok().and_then(|v| v.parse().ok()) {
        return Harness::with_workflows(specs(n)).main();
    }
    let n = count();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let best = |f: &dyn Fn() -> Duration| (0..ROUNDS).map(|_| f()).min().unwrap_or_default();
    let engine = best(&|| {
        let engine = Engine::new(config()).expect("HTTP client");
        let outcome = runtime.block_on(engine.run(specs(n))).expect("valid ids");
        assert_eq!(outcome.workflows.len(), n);
        outcome.duration
    });
    let executor = best(&|| {
        let mut executor = Executor::new();
        executor.config(config()).on_status_update(|statuses| {
            std::hint::black_box(statuses.len());
        });
        for spec in specs(n) {
            executor.add(spec);
        }
        let report = runtime.block_on(executor.execute_all()).expect("valid ids");
        assert_eq!(report.completed, n);
        report.total_duration
    });
    let serve = best(&|| runtime.block_on(serve_run(n)).total_duration);
    let plain = best(&|| suite_run(n, false).total_duration);
    let live = best(&|| suite_run(n, true).total_duration);

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("{n} trivial workflows, concurrency {CONCURRENCY}, best of {ROUNDS}");
    println!("{:<34} {:>9} {:>9}", "path", "run (ms)", "vs engine");
    for (path, d) in [
        ("engine alone", engine),
        ("Executor (board, fold, callback)", executor),
        ("serve mode (HTTP API run)", serve),
        ("cargo test, no terminal", plain),
        ("cargo test, live view (pty)", live),
    ] {
        let ratio = 100.0 * (ms(d) / ms(engine) - 1.0);
        println!("{path:<34} {:>9.0} {:>+8.1}%", ms(d), ratio);
    }
    std::process::ExitCode::SUCCESS
}

/// One API run of all `n` workflows on an in-process server; its report.
async fn serve_run(n: usize) -> RunReport {
    let specs = specs(n);
    let ids: Vec<String> = specs.iter().map(|w| w.id.clone()).collect();
    let context = ServeContext {
        workflows: specs,
        engine: config(),
        client: reqwest::Client::new(),
        token: None,
        max_workflows: n,
        report_dir: None,
        history: None,
        scheduling: Default::default(),
        limits: ServeLimits {
            max_running: CONCURRENCY,
            ..ServeLimits::default()
        },
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let addr = listener.local_addr().expect("bound");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve::run(listener, context, async {
        let _ = stopped.await;
    }));
    let answer = reqwest::Client::new()
        .post(format!("http://{addr}/api/test-workflows/parallel"))
        .json(&serde_json::json!({ "workflowIds": ids }))
        .send()
        .await
        .expect("the API answers")
        .text()
        .await
        .expect("a body");
    let report: RunReport = serde_json::from_str(&answer)
        .unwrap_or_else(|e| panic!("not a report ({e}): {}", &answer[..answer.len().min(300)]));
    let _ = stop.send(());
    let _ = server.await;
    assert_eq!(report.completed, n);
    report
}

/// This binary as the suite, under a pseudo-terminal when `terminal`; its report.json.
fn suite_run(n: usize, terminal: bool) -> RunReport {
    let dir = tempfile::tempdir().expect("temporary directory");
    let exe = std::env::current_exe().expect("this binary");
    let mut command = if terminal {
        let mut c = Command::new("script");
        let line = format!("stty cols 120 rows 40; '{}'", exe.display());
        c.args(["-qec", &line, "/dev/null"]);
        c
    } else {
        Command::new(&exe)
    };
    let status = command
        .env(CHILD, n.to_string())
        .env("CARGO_MANIFEST_DIR", dir.path())
        .env("WORKFLOW_REPORT_DIR", dir.path().join("reports"))
        .env("WORKFLOW_CONCURRENCY", CONCURRENCY.to_string())
        .env_remove("NEXTEST_RUN_ID")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the suite runs");
    assert!(status.success(), "the suite failed: {status}");
    read_report(&dir.path().join("reports/report.json"))
}

fn read_report(path: &Path) -> RunReport {
    let text = std::fs::read_to_string(path).expect("report.json written");
    serde_json::from_str(&text).expect("report.json parses")
}
