//! Verdicts at the edges, through the suite binary as a user runs it: workflows that block
//! their threads past their deadlines (after an await, more blockers than workers, a step that
//! returns late), and SIGINT/SIGTERM during a run. Each case runs many times: a race shows as
//! one bad run among them.

mod support;

use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use workflow_harness::prelude::*;
use workflow_harness::report::{FailureKind, Status};

use support::run_suite;

/// How long the blocking fixtures hold their threads: far past every deadline, so a run that
/// waited for them would show in its wall time.
const BLOCK: Duration = Duration::from_secs(8);

/// Runs per case.
const REPEAT: usize = 20;

// ---- fixture workflows (run only in the child process) ----

workflow! {
    id: "edge-block-after-await",
    name: "Awaits, then blocks its thread",
    timeout: Duration::from_millis(300),
    run: block_after_await,
}

/// A step that awaits once, then blocks its thread for `block`.
async fn await_then_block(cx: &mut Ctx, name: &str, block: Duration) -> StepResult {
    cx.step(name, async |_| {
        tokio::time::sleep(Duration::from_millis(5)).await;
        std::thread::sleep(block);
        Ok(())
    })
    .await
}

async fn block_after_await(cx: &mut Ctx) -> StepResult {
    await_then_block(cx, "Block", BLOCK).await
}

workflow! {
    id: "edge-late-finisher",
    name: "Ends after its deadline",
    timeout: Duration::from_millis(300),
    run: late_finisher,
}

async fn late_finisher(cx: &mut Ctx) -> StepResult {
    await_then_block(cx, "Block a little too long", Duration::from_millis(700)).await
}

workflow! {
    id: "edge-step-returns-late",
    name: "A step returns after its deadline",
    step_timeout: Duration::from_millis(200),
    run: step_returns_late,
}

async fn step_returns_late(cx: &mut Ctx) -> StepResult {
    let late = Duration::from_millis(500);
    await_then_block(cx, "Blocks past its step deadline", late).await?;
    cx.step("Never reached", async |_| Ok(())).await
}

macro_rules! blockers {
    ($($id:literal => $f:ident),* $(,)?) => {$(
        workflow! { id: $id, name: $id, timeout: Duration::from_millis(300), run: $f }
        async fn $f(cx: &mut Ctx) -> StepResult {
            cx.step("Block", async |_| {
                tokio::task::yield_now().await;
                std::thread::sleep(BLOCK);
                Ok(())
            })
            .await
        }
    )*};
}

// More blockers than the workload runtime has workers (max(cores, 2)) on any machine CI uses.
blockers! {
    "many-blocker-01" => blocker_01, "many-blocker-02" => blocker_02,
    "many-blocker-03" => blocker_03, "many-blocker-04" => blocker_04,
    "many-blocker-05" => blocker_05, "many-blocker-06" => blocker_06,
    "many-blocker-07" => blocker_07, "many-blocker-08" => blocker_08,
    "many-blocker-09" => blocker_09, "many-blocker-10" => blocker_10,
    "many-blocker-11" => blocker_11, "many-blocker-12" => blocker_12,
}

workflow! { id: "many-quick", name: "Quick beside the blockers", run: many_quick }

async fn many_quick(cx: &mut Ctx) -> StepResult {
    cx.step("Quick", async |cx| {
        tokio::time::sleep(Duration::from_millis(20)).await;
        cx.get("/ok").await?.expect_status(200)?;
        Ok(())
    })
    .await
}

/// Tells the test it runs (a file in `WORKFLOW_TEST_MARKERS`), then waits far past the test.
async fn announce_and_wait(cx: &Ctx) -> StepResult {
    if let Some(dir) = std::env::var_os("WORKFLOW_TEST_MARKERS") {
        // The suite's pid: under `script` the test's child is not the suite itself.
        let pid = std::process::id().to_string();
        std::fs::write(PathBuf::from(dir).join(cx.workflow_id()), pid)?;
    }
    tokio::time::sleep(Duration::from_secs(60)).await;
    Ok(())
}

workflow! { id: "stop-done", name: "Done before the signal", run: stop_done }

async fn stop_done(cx: &mut Ctx) -> StepResult {
    cx.step("Quick", async |_| Ok(())).await
}

workflow! { id: "stop-slow", name: "Running at the signal", run: stop_slow }

async fn stop_slow(cx: &mut Ctx) -> StepResult {
    cx.step("First", async |_| Ok(())).await?;
    cx.step("Wait", async |cx| announce_and_wait(cx).await)
        .await
}

workflow! {
    id: "stop-waiting",
    name: "Waits for the slow one",
    depends_on: ["stop-slow"],
    run: stop_waiting,
}

async fn stop_waiting(cx: &mut Ctx) -> StepResult {
    cx.step("Never", async |_| Ok(())).await
}

workflow! { id: "hostile-body", name: "A body full of escape sequences", run: hostile_body }

async fn hostile_body(cx: &mut Ctx) -> StepResult {
    cx.step("Fetch", async |cx| {
        cx.get("/hostile").await?.expect_status(200)?;
        Ok(())
    })
    .await
}

// ---- tests (run in the parent process) ----

/// A response body's escape sequences never reach the terminal (libtest's failure text, the
/// summary block): they are shown as `\x1b`; the JSON keeps the body verbatim.
fn escape_sequences_in_a_body_are_shown_not_obeyed() {
    let run = run_suite(&["hostile-"], &[]);
    assert_eq!(run.code, 101, "{}\n{}", run.stdout, run.stderr);
    for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(!text.contains('\u{1b}'), "a raw escape on {name}: {text:?}");
    }
    assert!(run.stdout.contains("\\x1b[2J"), "{}", run.stdout);
    assert!(run.stderr.contains("\\x1b[2J"), "{}", run.stderr);
    let error = run.report().workflows[0].error.clone().unwrap_or_default();
    assert!(
        error.contains("\u{1b}[2J"),
        "JSON keeps the text: {error:?}"
    );
}

/// The suite run with `filter`, which must fail (101), and how long the process lived.
fn failing_run(filter: &str, round: usize) -> (support::Run, Duration) {
    let started = Instant::now();
    let run = run_suite(&[filter], &[]);
    let wall = started.elapsed();
    assert_eq!(
        run.code, 101,
        "round {round}: {}\n{}",
        run.stdout, run.stderr
    );
    (run, wall)
}

/// Whether libtest printed `test <id> … ok`.
fn passed_in_libtest(stdout: &str, id: &str) -> bool {
    stdout
        .lines()
        .any(|l| l.starts_with(&format!("test {id} ")) && l.trim_end().ends_with("... ok"))
}

/// The deadline holds for a workflow that awaits and then blocks, for one that ends a little
/// after its deadline, and for a step that returns late; the process does not wait for the
/// blocked thread.
fn blocked_threads_are_timed_out_at_their_deadlines() {
    for round in 0..REPEAT {
        let (run, wall) = failing_run("edge-", round);
        let report = run.report();
        assert_eq!(report.total_workflows, 3, "round {round}");
        for w in &report.workflows {
            assert_eq!(w.status, Status::Failed, "round {round}: {w:?}");
            let error = w.error.as_deref().unwrap_or_default();
            assert!(error.contains("timed out"), "round {round}: {error}");
            assert!(
                !passed_in_libtest(&run.stdout, &w.workflow_id),
                "round {round}: {} passed in libtest:\n{}",
                w.workflow_id,
                run.stdout
            );
        }
        let kind = |id: &str| {
            let w = report.workflows.iter().find(|w| w.workflow_id == id);
            w.and_then(|w| w.failure_kind)
        };
        assert_eq!(kind("edge-block-after-await"), Some(FailureKind::Timeout));
        assert_eq!(kind("edge-late-finisher"), Some(FailureKind::Timeout));
        let late_step = &report.workflows[2];
        assert_eq!(late_step.workflow_id, "edge-step-returns-late");
        assert_eq!(
            late_step.result.total_steps, 1,
            "the step after it never ran"
        );
        assert!(
            late_step.result.steps[0]
                .error
                .as_deref()
                .is_some_and(|e| e.contains("timed out after 200ms")),
            "round {round}: {:?}",
            late_step.result.steps
        );
        // Deadlines of 300 ms; a process that waited for the blocked thread lives ≥ 8 s.
        assert!(wall < BLOCK, "round {round}: the process lived {wall:?}");
    }
}

/// Twelve workflows block their threads (more than the runtime has workers) beside a quick one:
/// every blocker is timed out, the quick one passes at its own pace, and the process ends.
fn more_blockers_than_workers_delay_no_one() {
    for round in 0..REPEAT {
        let (run, wall) = failing_run("many-", round);
        let report = run.report();
        assert_eq!(report.total_workflows, 13);
        for w in &report.workflows {
            if w.workflow_id == "many-quick" {
                assert_eq!(w.status, Status::Completed, "round {round}: {w:?}");
                // Not held up until a blocker's thread came free.
                assert!(w.duration < BLOCK / 2, "round {round}: {w:?}");
            } else {
                assert_eq!(w.failure_kind, Some(FailureKind::Timeout), "round {round}");
                assert!(w.duration < BLOCK / 2, "round {round}: {w:?}");
            }
        }
        assert!(
            passed_in_libtest(&run.stdout, "many-quick"),
            "{}",
            run.stdout
        );
        assert!(wall < BLOCK, "round {round}: the process lived {wall:?}");
    }
}

/// Starts the suite with `args`, waits until `stop-slow` runs, sends `signals` (one after the
/// other, a moment apart), and returns the exit code, the wall time from the first signal, the
/// output and the directory.
struct Stopped {
    code: Option<i32>,
    after_signal: Duration,
    stderr: String,
    stdout: String,
    dir: tempfile::TempDir,
}

fn run_and_signal(signals: &[libc::c_int], env: &[(&str, &str)]) -> Stopped {
    run_and_signal_in(None, signals, env)
}

/// [`run_and_signal`], under a pseudo-terminal (util-linux `script`) when `terminal`, as in a
/// developer's terminal: the live view draws.
fn run_and_signal_in(
    terminal: Option<()>,
    signals: &[libc::c_int],
    env: &[(&str, &str)],
) -> Stopped {
    let dir = tempfile::tempdir().unwrap();
    let markers = dir.path().join("markers");
    std::fs::create_dir(&markers).unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut cmd = match terminal {
        None => support::fixture_command(&exe, dir.path()),
        Some(()) => {
            let mut cmd = support::fixture_command("script", dir.path());
            let line = format!("stty cols 120 rows 100; '{}' stop-", exe.display());
            cmd.args(["-qec", &line, "/dev/null"]);
            cmd
        }
    };
    cmd.env("WORKFLOW_TEST_MARKERS", &markers)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    if terminal.is_none() {
        cmd.arg("stop-");
    }
    let child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let pid = loop {
        let written = std::fs::read_to_string(markers.join("stop-slow")).unwrap_or_default();
        if let Ok(pid) = written.trim().parse::<libc::pid_t>() {
            break pid;
        }
        assert!(Instant::now() < deadline, "stop-slow never started");
        std::thread::sleep(Duration::from_millis(10));
    };
    let first = Instant::now();
    for (i, &signal) in signals.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(Duration::from_millis(300));
        }
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }
    let out = child.wait_with_output().unwrap();
    Stopped {
        code: out.status.code(),
        after_signal: first.elapsed(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        dir,
    }
}

/// The first SIGINT or SIGTERM ends the run cleanly: the running workflow gets its grace, then
/// is cancelled; the one waiting for it is cancelled; the finished one keeps its verdict; the
/// reports say `interrupted`, the summary is printed and the exit code is 128 + the signal.
fn first_signal_writes_honest_partial_reports() {
    for (signal, code, name) in [
        (libc::SIGINT, 130, "SIGINT"),
        (libc::SIGTERM, 143, "SIGTERM"),
    ] {
        for round in 0..5 {
            let stopped = run_and_signal(&[signal], &[("WORKFLOW_INTERRUPT_GRACE", "200ms")]);
            let context = format!(
                "{name} round {round}:\n{}\n{}",
                stopped.stdout, stopped.stderr
            );
            assert_eq!(stopped.code, Some(code), "{context}");
            assert!(stopped.after_signal < Duration::from_secs(20), "{context}");
            let text = std::fs::read_to_string(stopped.dir.path().join("reports/report.json"))
                .unwrap_or_else(|e| panic!("no report.json ({e}): {context}"));
            let report: workflow_harness::RunReport = serde_json::from_str(&text).unwrap();
            assert!(report.interrupted, "{context}");
            assert!(!report.run_id.is_empty());
            let entry = |id: &str| {
                report
                    .workflows
                    .iter()
                    .find(|w| w.workflow_id == id)
                    .unwrap()
            };
            assert_eq!(entry("stop-done").status, Status::Completed);
            let slow = entry("stop-slow");
            assert_eq!(slow.status, Status::Cancelled, "{context}");
            assert_eq!(slow.failure_kind, Some(FailureKind::Interrupted));
            assert!(slow.error.as_deref().unwrap().contains(name), "{slow:?}");
            // The step it ran before stays; the one the signal cut is marked.
            assert_eq!(slow.result.steps.len(), 2, "{slow:?}");
            assert_eq!(slow.result.steps[0].name, "First");
            let waiting = entry("stop-waiting");
            assert_eq!(waiting.status, Status::Cancelled, "{context}");
            assert!(waiting.error.as_deref().unwrap().starts_with("not run"));
            assert!(stopped.stderr.contains("workflow summary"), "{context}");
            assert!(stopped.stderr.contains("interrupted by"), "{context}");
            let leftovers: Vec<_> = std::fs::read_dir(stopped.dir.path().join("reports"))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with('.'))
                .collect();
            assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
        }
    }
}

/// Under the live view, Ctrl-C leaves a clean screen: the bars are gone, libtest's lines and
/// the summary are there.
fn an_interrupt_clears_the_live_view() {
    for round in 0..3 {
        let stopped = run_and_signal_in(
            Some(()),
            &[libc::SIGINT],
            &[("WORKFLOW_INTERRUPT_GRACE", "200ms")],
        );
        let mut terminal = vt100::Parser::new(100, 120, 0);
        terminal.process(stopped.stdout.as_bytes());
        let screen = terminal.screen().contents();
        let context = format!("round {round}:\n{screen}\n{}", stopped.stderr);
        assert_eq!(stopped.code, Some(130), "{context}");
        assert!(
            stopped.stdout.contains(" done · "),
            "the live view drew: {context}"
        );
        assert!(
            !screen.contains(" done · "),
            "bars left on screen: {context}"
        );
        assert!(screen.contains("workflow summary"), "{context}");
        assert!(screen.contains("interrupted by SIGINT"), "{context}");
        let done = screen.lines().find(|l| l.starts_with("test stop-done "));
        assert!(
            done.is_some_and(|l| l.trim_end().ends_with("ok")),
            "{context}"
        );
    }
}

/// A second signal does not wait for the grace: the process exits at once.
fn second_signal_exits_at_once() {
    for round in 0..5 {
        let stopped = run_and_signal(
            &[libc::SIGINT, libc::SIGINT],
            &[("WORKFLOW_INTERRUPT_GRACE", "60s")],
        );
        let context = format!("round {round}:\n{}\n{}", stopped.stdout, stopped.stderr);
        assert_eq!(stopped.code, Some(130), "{context}");
        assert!(stopped.after_signal < Duration::from_secs(30), "{context}");
        assert!(stopped.stderr.contains("exiting at once"), "{context}");
    }
}

fn main() -> ExitCode {
    support::main(&[
        (
            "blocked_threads_are_timed_out_at_their_deadlines",
            blocked_threads_are_timed_out_at_their_deadlines,
        ),
        (
            "more_blockers_than_workers_delay_no_one",
            more_blockers_than_workers_delay_no_one,
        ),
        (
            "first_signal_writes_honest_partial_reports",
            first_signal_writes_honest_partial_reports,
        ),
        ("second_signal_exits_at_once", second_signal_exits_at_once),
        (
            "escape_sequences_in_a_body_are_shown_not_obeyed",
            escape_sequences_in_a_body_are_shown_not_obeyed,
        ),
        (
            "an_interrupt_clears_the_live_view",
            an_interrupt_clears_the_live_view,
        ),
    ])
}
