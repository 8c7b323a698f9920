//! The suite binary as a user runs it: this test binary starts itself again as a workflow suite
//! (see `support::run_suite`) with libtest arguments, then checks the exit code, the libtest
//! summary line and the three reports.

mod support;

use std::process::ExitCode;

use workflow_harness::prelude::*;
use workflow_harness::report::StepStatus;
use workflow_harness::report::{FailureKind, Status};

use support::run_suite;

// ---- fixture workflows (run only in the child process) ----

workflow! {
    id: "pass-chain",
    name: "Chain, with \"quotes\"",
    tags: ["pass"],
    steps: 3,
    run: pass_chain,
}

/// Each step returns a value the next one uses.
async fn pass_chain(cx: &mut Ctx) -> StepResult {
    let items: Vec<Value> = cx
        .step("List items", async |cx| Ok(cx.get_json("/items").await?))
        .await?;
    let first = items.first().cloned().context("no items")?;
    let echoed: Value = cx
        .step("Echo first item", async move |cx| {
            Ok(cx.post_json("/echo", &first).await?)
        })
        .await?;
    cx.step("Check echo", async move |_| {
        ensure!(echoed["name"] == "first", "echo returned {echoed}");
        Ok(())
    })
    .await
}

workflow! {
    id: "pass-optional",
    name: "Optional step fails",
    tags: ["pass"],
    run: pass_optional,
}

async fn pass_optional(cx: &mut Ctx) -> StepResult {
    cx.step("Ping", async |cx| {
        cx.get("/ok").await?.expect_status(200)?;
        Ok(())
    })
    .await?;
    let skipped = cx
        .optional_step("Flaky endpoint", async |cx| {
            cx.get("/status/503").await?.expect_status(200)?;
            Ok(())
        })
        .await;
    ensure!(skipped.is_none(), "the optional step should have failed");
    cx.step("Ping again", async |cx| {
        cx.get("/ok").await?.expect_status(200)?;
        Ok(())
    })
    .await
}

workflow! { id: "seq-a", name: "Sequential A", tags: ["seq"], run: sleeper }
workflow! { id: "seq-b", name: "Sequential B", tags: ["seq"], run: sleeper }

async fn sleeper(cx: &mut Ctx) -> StepResult {
    cx.step("Sleep", async |_| {
        tokio::time::sleep(Duration::from_millis(250)).await;
        Ok(())
    })
    .await
}

workflow! {
    id: "fail-at-step",
    name: "Fails at step 3 of 4",
    tags: ["fail"],
    steps: 4,
    run: fail_at_step,
}

async fn fail_at_step(cx: &mut Ctx) -> StepResult {
    for name in ["One", "Two"] {
        cx.step(name, async |cx| {
            cx.get("/ok").await?.expect_status(200)?;
            Ok(())
        })
        .await?;
    }
    cx.step("Three", async |cx| {
        cx.get("/status/404").await?.expect_status(200)?;
        Ok(())
    })
    .await?;
    cx.step("Four", async |_| Ok(())).await
}

workflow! { id: "fail-error-no-steps", name: "Error before any step", tags: ["fail"], run: fail_error }

async fn fail_error(_cx: &mut Ctx) -> StepResult {
    bail!("configuration missing before any step")
}

workflow! { id: "fail-panic", name: "Panics in a step", tags: ["fail"], run: fail_panic }

async fn fail_panic(cx: &mut Ctx) -> StepResult {
    cx.step("Fine", async |_| Ok(())).await?;
    cx.step("Explode", async |_| -> StepResult { panic!("kaboom") })
        .await
}

workflow! { id: "fail-panic-spawned", name: "Panic in a spawned task", tags: ["fail"], run: fail_panic_spawned }

async fn fail_panic_spawned(cx: &mut Ctx) -> StepResult {
    cx.step("Spawn", async |_| {
        tokio::spawn(async { panic!("spawned kaboom") }).await?;
        Ok(())
    })
    .await
}

workflow! {
    id: "fail-timeout-async",
    name: "Hangs asynchronously",
    tags: ["fail"],
    timeout: Duration::from_millis(300),
    run: fail_timeout_async,
}

async fn fail_timeout_async(cx: &mut Ctx) -> StepResult {
    cx.step("Quick", async |_| Ok(())).await?;
    cx.step("Wait forever", async |_| {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok(())
    })
    .await
}

workflow! {
    id: "fail-timeout-blocking",
    name: "Blocks its thread",
    tags: ["fail"],
    timeout: Duration::from_millis(300),
    run: fail_timeout_blocking,
}

async fn fail_timeout_blocking(cx: &mut Ctx) -> StepResult {
    cx.step("Block the thread", async |_| {
        std::thread::sleep(Duration::from_secs(3));
        Ok(())
    })
    .await
}

workflow! { id: "ignored-extra", name: "Ignored by default", ignored: true, run: sleeper }

// ---- tests (run in the parent process) ----

const PASSING: [&str; 4] = ["pass-chain", "pass-optional", "seq-a", "seq-b"];
const FAILING: [&str; 6] = [
    "fail-at-step",
    "fail-error-no-steps",
    "fail-panic",
    "fail-panic-spawned",
    "fail-timeout-async",
    "fail-timeout-blocking",
];

fn passing_workflows_pass_and_reports_agree() {
    let run = run_suite(&["pass-"], &[]);
    assert_eq!(
        run.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert!(
        run.summary_line().starts_with(
            "test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 9 filtered out"
        ),
        "{}",
        run.summary_line()
    );
    let report = run.report();
    assert_eq!(report.total_workflows, 2);
    let chain = &report.workflows[0];
    assert_eq!(chain.workflow_id, "pass-chain");
    assert_eq!(chain.status, Status::Completed);
    assert_eq!(chain.progress, 100.0);
    let names: Vec<&str> = chain.result.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["List items", "Echo first item", "Check echo"]);
    let optional = &report.workflows[1];
    assert_eq!(optional.status, Status::Completed);
    assert_eq!((optional.result.passed, optional.result.skipped), (2, 1));
    let skipped = &optional.result.steps[1];
    assert_eq!(skipped.status, StepStatus::Skipped);
    let error = skipped.error.as_deref().unwrap();
    assert!(
        error.contains("GET http://127.0.0.1:")
            && error.contains("/status/503")
            && error.contains("503"),
        "{error}"
    );
    run.assert_reports_agree();
    run.assert_junit_validates();
}

fn failures_are_isolated_and_recorded() {
    let run = run_suite(&[], &[]);
    assert_eq!(
        run.code, 101,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert!(
        run.summary_line()
            .starts_with("test result: FAILED. 4 passed; 6 failed; 1 ignored;"),
        "{}",
        run.summary_line()
    );
    let report = run.report();
    assert_eq!(
        report.total_workflows, 10,
        "every selected workflow once, the ignored one not"
    );
    let by_id = |id: &str| {
        report
            .workflows
            .iter()
            .find(|w| w.workflow_id == id)
            .unwrap()
    };
    for id in PASSING {
        assert_eq!(
            by_id(id).status,
            Status::Completed,
            "{id} must not be affected by the failures"
        );
    }
    for id in FAILING {
        assert_eq!(by_id(id).status, Status::Failed, "{id}");
        let line = run
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("test {id} ")))
            .unwrap();
        assert!(line.ends_with("... FAILED"), "{id}: {line}");
    }

    let at_step = by_id("fail-at-step");
    let statuses: Vec<_> = at_step
        .result
        .steps
        .iter()
        .map(|s| (s.name.as_str(), s.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("One", StepStatus::Passed),
            ("Two", StepStatus::Passed),
            ("Three", StepStatus::Failed)
        ]
    );
    assert_eq!(at_step.progress, 50.0, "2 of 4 planned steps done");
    assert_eq!(at_step.current_step, "Three");
    let error = at_step.error.as_deref().unwrap();
    for needle in [
        "step \"Three\" failed",
        "GET http://127.0.0.1:",
        "/status/404",
        "expected status 200, got 404",
        "status 404",
    ] {
        assert!(error.contains(needle), "missing {needle:?} in {error}");
    }
    assert!(
        run.stdout
            .contains("Fails at step 3 of 4 failed: step \"Three\" failed"),
        "{}",
        run.stdout
    );

    let no_steps = by_id("fail-error-no-steps");
    assert!(no_steps.result.steps.is_empty());
    assert_eq!(
        no_steps.error.as_deref(),
        Some("configuration missing before any step")
    );
    assert_eq!(no_steps.failure_kind, Some(FailureKind::Error));

    let panic = by_id("fail-panic");
    assert_eq!(panic.failure_kind, Some(FailureKind::Panic));
    assert_eq!(
        panic.error.as_deref(),
        Some(
            format!(
                "step \"Explode\" panicked at {}: kaboom",
                location_of("panic!(\"kaboom\")")
            )
            .as_str()
        )
    );
    assert_eq!(panic.result.passed, 1);
    assert_eq!(
        panic.result.steps[1].error.as_deref(),
        Some(format!("panicked at {}: kaboom", location_of("panic!(\"kaboom\")")).as_str())
    );

    let spawned = by_id("fail-panic-spawned");
    assert!(
        spawned.error.as_deref().unwrap().contains("spawned kaboom"),
        "{:?}",
        spawned.error
    );
    assert_eq!(spawned.result.steps[0].status, StepStatus::Failed);

    for id in ["fail-timeout-async", "fail-timeout-blocking"] {
        let w = by_id(id);
        assert_eq!(w.failure_kind, Some(FailureKind::Timeout), "{id}");
        assert!(
            w.error
                .as_deref()
                .unwrap()
                .starts_with("timed out after 300ms in step"),
            "{id}: {:?}",
            w.error
        );
        assert!(
            w.duration >= Duration::from_millis(300),
            "{id}: {:?}",
            w.duration
        );
    }
    assert_eq!(
        by_id("fail-timeout-async").result.steps[0].status,
        StepStatus::Passed,
        "steps before the timeout are kept"
    );

    let stats = &report.aggregate_stats;
    assert_eq!(
        stats.failed_steps, 5,
        "failed workflows count in the step totals (one failed before any step)"
    );
    let expected_rate =
        (stats.passed_steps as f64 * 10000.0 / stats.total_steps as f64).round() / 100.0;
    assert_eq!(stats.success_rate, expected_rate);
    run.assert_reports_agree();
    run.assert_junit_validates();
    let json = run.json();
    assert_eq!(
        json["workflows"][0]["workflowId"], "fail-at-step",
        "name order"
    );
}

fn list_prints_only_the_list() {
    let run = run_suite(&["--list"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut ids: Vec<&str> = PASSING
        .iter()
        .chain(&FAILING)
        .chain(&["ignored-extra"])
        .copied()
        .collect();
    ids.sort();
    let expected: Vec<String> = ids.iter().map(|id| format!("{id}: test")).collect();
    let lines: Vec<&str> = run.stdout.lines().filter(|l| !l.is_empty()).collect();
    let tail = lines
        .iter()
        .position(|l| !l.ends_with(": test"))
        .unwrap_or(lines.len());
    assert_eq!(
        &lines[..tail],
        expected
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
    );
    assert!(
        lines[tail..]
            .iter()
            .all(|l| l.contains("tests") || l.contains("benchmarks")),
        "{}",
        run.stdout
    );
    assert!(!run.report_dir().exists(), "--list writes no report");

    let run = run_suite(&["--skip", "fail", "--list"], &[]);
    assert!(!run.stdout.contains("fail-"), "{}", run.stdout);
    assert!(run.stdout.contains("pass-chain: test"));

    let run = run_suite(&["--list", "--format", "terse", "--ignored"], &[]);
    assert_eq!(
        run.stdout.trim(),
        "ignored-extra: test",
        "nextest's listing of ignored tests"
    );
}

fn filters_exact_skip_and_ignored() {
    let run = run_suite(&["--exact", "seq-a"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.summary_line().starts_with(
            "test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 10 filtered out"
        ),
        "{}",
        run.summary_line()
    );
    let ids: Vec<String> = run
        .report()
        .workflows
        .into_iter()
        .map(|w| w.workflow_id)
        .collect();
    assert_eq!(ids, ["seq-a"]);

    let run = run_suite(&["--exact", "seq"], &[]);
    assert!(
        run.summary_line().contains("0 passed; 0 failed"),
        "--exact does not match substrings"
    );
    assert!(
        !run.report_dir().exists(),
        "a run without workflows writes no report"
    );

    let run = run_suite(&["--skip", "fail", "--skip", "seq"], &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let ids: Vec<String> = run
        .report()
        .workflows
        .into_iter()
        .map(|w| w.workflow_id)
        .collect();
    assert_eq!(ids, ["pass-chain", "pass-optional"]);

    let run = run_suite(&["--ignored"], &[]);
    let ids: Vec<String> = run
        .report()
        .workflows
        .into_iter()
        .map(|w| w.workflow_id)
        .collect();
    assert_eq!(ids, ["ignored-extra"]);

    let run = run_suite(&["--include-ignored", "--skip", "fail"], &[]);
    assert_eq!(run.report().total_workflows, 5);
}

fn test_threads_sets_the_engine_concurrency() {
    let overlap = |run: &support::Run| {
        let r = run.report();
        let (a, b) = (&r.workflows[0], &r.workflows[1]);
        a.start_time < b.end_time && b.start_time < a.end_time
    };
    let run = run_suite(&["seq-", "--test-threads", "1"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        !overlap(&run),
        "--test-threads 1 runs one workflow at a time"
    );
    let run = run_suite(&["seq-"], &[]);
    assert!(overlap(&run), "by default the two run concurrently");
    let run = run_suite(&["seq-"], &[("WORKFLOW_CONCURRENCY", "1")]);
    assert!(!overlap(&run), "WORKFLOW_CONCURRENCY=1 runs one at a time");

    let run = run_suite(&["seq-", "--test-threads", "0"], &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--test-threads 0: must be at least 1"),
        "{}",
        run.stderr
    );
}

fn bad_configuration_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    for (text, needles) in [
        (
            "concurrency = 4\nconcurency = 3\n",
            vec!["line 2", "unknown field `concurency`"],
        ),
        (
            "timeout = 30\n",
            vec![
                "line 1",
                "timeout",
                "invalid type: integer `30`, expected a string",
            ],
        ),
        (
            "[reports]\ndir = \"x\"\nformats = [\"json\", \"pdf\"]\n",
            vec!["line 3", "unknown variant `pdf`"],
        ),
    ] {
        std::fs::write(&path, text).unwrap();
        let run = run_suite(&["--config", path.to_str().unwrap(), "pass-"], &[]);
        assert_eq!(run.code, 2, "{text}: {}", run.stdout);
        assert!(
            run.stderr.contains(path.to_str().unwrap()),
            "{}",
            run.stderr
        );
        for needle in needles {
            assert!(
                run.stderr.contains(needle),
                "missing {needle:?} in:\n{}",
                run.stderr
            );
        }
        assert!(!run.stdout.contains("test pass-chain"), "nothing runs");
        assert!(!run.report_dir().exists());
    }
    // A declared flag's value is checked by the command line, with the setting's own check.
    let run = run_suite(&["--timeout", "soon", "pass-"], &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("'--timeout <DURATION>'") && run.stderr.contains("expected a duration"),
        "{}",
        run.stderr
    );
    let run = run_suite(&["pass-"], &[("WORKFLOW_BASE_URL", "ftp://x")]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("WORKFLOW_BASE_URL=\"ftp://x\": unsupported scheme"),
        "{}",
        run.stderr
    );
}

fn nextest_processes_write_fragments() {
    let run = run_suite(&["--exact", "pass-chain"], &[("NEXTEST_RUN_ID", "run-42")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let fragment = run.report_dir().join("fragments/run-42/pass-chain.json");
    assert!(fragment.exists(), "{}", run.stderr);
    assert!(
        !run.report_path(workflow_harness::report::ReportFormat::Json)
            .exists(),
        "no aggregate file under nextest"
    );
    assert!(run.stderr.contains("fragment"), "{}", run.stderr);
}

fn the_terminal_shows_a_live_view_without_breaking_libtest_lines() {
    let run = support::run_suite_in_terminal(&["--skip", "fail"], &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stderr.contains(" done · "),
        "the live view drew its header:\n{}",
        run.stderr
    );
    // What the terminal shows at the end: every libtest line intact, no bar left over.
    for id in ["seq-a", "seq-b", "pass-chain", "pass-optional"] {
        let line = run
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("test {id} ")))
            .unwrap_or_else(|| panic!("the line of {id} was overwritten:\n{}", run.stdout));
        assert!(line.trim_end().ends_with("... ok"), "{line:?}");
    }
    assert!(
        !run.stdout.contains(" done · "),
        "the bars were cleared:\n{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("test result: ok. 4 passed; 0 failed"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("workflow summary"), "{}", run.stdout);
    assert!(
        run.stdout.contains("workflows  4: 4 completed"),
        "{}",
        run.stdout
    );

    for (args, env) in [
        (vec!["seq-"], vec![("WORKFLOW_PROGRESS", "0")]),
        (vec!["seq-", "--format", "terse"], vec![]),
    ] {
        let run = support::run_suite_in_terminal(&args, &env);
        assert_eq!(run.code, 0, "{}", run.stdout);
        assert!(
            !run.stderr.contains(" done · "),
            "{args:?} {env:?}: no live view:\n{}",
            run.stderr
        );
    }
    let run = support::run_suite(&["seq-"], &[]);
    assert!(
        !run.stderr.contains(" done · "),
        "no live view when stderr is not a terminal"
    );
    assert!(
        run.stderr.contains("workflow summary"),
        "the summary is printed anyway"
    );
    assert!(
        !run.stderr.contains('\u{1b}'),
        "no colors when stderr is not a terminal"
    );
}

/// `file:line:col` of the first line of this file that contains `needle` (a fixture's
/// `panic!`), as a panic reports it.
fn location_of(needle: &str) -> String {
    let source = include_str!("suite_cli.rs");
    let (line, col) = source
        .lines()
        .enumerate()
        .find_map(|(i, l)| l.find(needle).map(|c| (i + 1, c + 1)))
        .unwrap_or_else(|| panic!("{needle:?} is not in suite_cli.rs"));
    format!("tests/suite_cli.rs:{line}:{col}")
}

/// The text libtest prints for `id` under `failures:`.
fn failure_section<'a>(stdout: &'a str, id: &str) -> &'a str {
    let header = format!("---- {id} ----");
    let start = stdout
        .find(&header)
        .unwrap_or_else(|| panic!("no failure text for {id}:\n{stdout}"));
    let rest = &stdout[start + header.len()..];
    let end = rest
        .find("\n----")
        .or_else(|| rest.find("\nfailures:"))
        .unwrap_or(rest.len());
    &rest[..end]
}

fn panic_locations_are_in_the_failure_text() {
    let panic_at = location_of("panic!(\"kaboom\")");
    let spawned_at = location_of("panic!(\"spawned kaboom\")");
    let run = run_suite(&["fail-panic", "fail-at-step"], &[("RUST_BACKTRACE", "0")]);
    assert_eq!(run.code, 101, "{}", run.stderr);
    let text = failure_section(&run.stdout, "fail-panic");
    // The engine puts the location into the error itself (the JSON and JUnit have it too).
    assert!(
        text.contains(&format!("step \"Explode\" panicked at {panic_at}: kaboom")),
        "missing {panic_at} in:\n{text}"
    );
    let text = failure_section(&run.stdout, "fail-panic-spawned");
    assert!(text.contains("spawned kaboom"), "{text}");
    assert!(
        text.contains(&format!("\n  panicked at {spawned_at}\n")),
        "missing {spawned_at} in:\n{text}"
    );
    // Rust's own message is untouched when there is no live view.
    assert!(
        run.stderr
            .contains(&format!("panicked at {panic_at}:\nkaboom")),
        "{}",
        run.stderr
    );
    let text = failure_section(&run.stdout, "fail-at-step");
    assert!(!text.contains("panicked at"), "not a panic:\n{text}");
}

fn the_live_view_keeps_panic_locations_on_screen() {
    let panic_at = location_of("panic!(\"kaboom\")");
    let run = support::run_suite_in_terminal(
        &["--exact", "fail-panic", "seq-a", "seq-b"],
        &[("RUST_BACKTRACE", "0")],
    );
    assert_eq!(run.code, 101, "{}", run.stdout);
    assert!(
        run.stderr.contains(" done · "),
        "the live view drew its header:\n{}",
        run.stderr
    );
    // What the terminal shows at the end: Rust's panic message, whole, not overwritten by a
    // redraw of the bars ...
    let screen = &run.stdout;
    let message = screen
        .lines()
        .position(|l| l.starts_with("thread '") && l.contains(&format!("panicked at {panic_at}:")))
        .unwrap_or_else(|| panic!("the panic message was overwritten:\n{screen}"));
    assert_eq!(
        screen.lines().nth(message + 1).map(str::trim_end),
        Some("kaboom"),
        "{screen}"
    );
    // ... and the location in libtest's failure text.
    let text = failure_section(screen, "fail-panic");
    assert!(
        text.contains(&format!("panicked at {panic_at}")),
        "missing {panic_at} in:\n{text}"
    );
    for id in ["seq-a", "seq-b"] {
        let line = screen
            .lines()
            .find(|l| l.starts_with(&format!("test {id} ")))
            .unwrap_or_else(|| panic!("the line of {id} was overwritten:\n{screen}"));
        assert!(line.trim_end().ends_with("... ok"), "{line:?}");
    }
    assert!(
        !screen.contains(" done · "),
        "the bars were cleared:\n{screen}"
    );
}

fn reports_that_cannot_be_written_keep_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    // A regular file where the directory should be: refused even to root.
    let blocked = dir.path().join("reports");
    std::fs::write(&blocked, "not a directory").unwrap();
    let blocked_env = [("WORKFLOW_REPORT_DIR", blocked.to_str().unwrap())];
    let expected = format!("error: cannot write reports to {}: ", blocked.display());

    let run = run_suite(&["--exact", "fail-at-step", "seq-a"], &blocked_env);
    assert_eq!(run.code, 101, "a failed run stays failed:\n{}", run.stderr);
    assert!(run.stderr.contains(&expected), "{}", run.stderr);
    assert!(
        run.summary_line()
            .starts_with("test result: FAILED. 1 passed; 1 failed"),
        "{}",
        run.summary_line()
    );

    let run = run_suite(&["--exact", "seq-a"], &blocked_env);
    assert_eq!(run.code, 3, "passed, reports not written:\n{}", run.stderr);
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with(&expected))
        .unwrap_or_else(|| panic!("{}", run.stderr));
    assert!(line.contains("(os error "), "the cause is named: {line}");
    assert!(run.summary_line().starts_with("test result: ok. 1 passed"));

    let mut env = blocked_env.to_vec();
    env.push(("NEXTEST_RUN_ID", "run-7"));
    let run = run_suite(&["--exact", "seq-a"], &env);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "error: cannot write reports to {}: ",
            blocked.join("fragments").join("run-7").display()
        )),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&blocked).unwrap(),
        "not a directory",
        "the file in the way is left alone"
    );
}

fn ids_in(run: &support::Run) -> Vec<String> {
    run.report()
        .workflows
        .into_iter()
        .map(|w| w.workflow_id)
        .collect()
}

fn several_filters_select_the_union() {
    let run = run_suite(&["pass-chain", "seq-"], &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(ids_in(&run), ["pass-chain", "seq-a", "seq-b"]);
    assert!(
        run.summary_line().starts_with(
            "test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 8 filtered out"
        ),
        "{}",
        run.summary_line()
    );
    for id in ["pass-chain", "seq-a", "seq-b"] {
        assert!(
            run.stdout.contains(&format!("test {id} ")),
            "{id}:\n{}",
            run.stdout
        );
    }
    assert!(
        !run.stdout.contains("test pass-optional "),
        "{}",
        run.stdout
    );

    // Filters may stand anywhere among the flags, as with libtest.
    let run = run_suite(&["seq-a", "--exact", "pass-chain", "seq"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        ids_in(&run),
        ["pass-chain", "seq-a"],
        "--exact: each one exact"
    );
    assert!(
        run.summary_line().starts_with(
            "test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 9 filtered out"
        ),
        "{}",
        run.summary_line()
    );

    let run = run_suite(
        &["pass-", "seq-", "--skip", "optional", "--skip", "seq-b"],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        ids_in(&run),
        ["pass-chain", "seq-a"],
        "--skip applies to all"
    );

    let run = run_suite(&["--list", "seq-", "pass-chain"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let listed: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.ends_with(": test"))
        .collect();
    assert_eq!(listed, ["pass-chain: test", "seq-a: test", "seq-b: test"]);
    assert!(!run.report_dir().exists());
    let run = run_suite(&["--list", "--exact", "seq-a", "fail-panic", "seq"], &[]);
    let listed: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.ends_with(": test"))
        .collect();
    assert_eq!(listed, ["fail-panic: test", "seq-a: test"]);
}

fn an_empty_selection_warns_passes_or_fails() {
    let run = run_suite(&["nosuch"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "warning: no workflow matches the filter \"nosuch\" (11 registered; --list shows \
             them); no reports written"
        ),
        "{}",
        run.stderr
    );
    assert!(run.summary_line().starts_with("test result: ok. 0 passed"));
    assert!(!run.report_dir().exists());

    let run = run_suite(&["nosuch", "other"], &[("WORKFLOW_NO_TESTS", "pass")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        !run.stderr.contains("no workflow"),
        "silent: {}",
        run.stderr
    );
    assert!(!run.stderr.contains("warning"), "silent: {}", run.stderr);

    let run = run_suite(&["--no-tests", "fail", "--exact", "seq", "pass"], &[]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "error: no workflow matches exactly the filters \"seq\", \"pass\" (11 registered"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.report_dir().exists());

    let config = tempfile::tempdir().unwrap();
    let path = config.path().join("harness.toml");
    std::fs::write(&path, "no_tests = \"fail\"\n").unwrap();
    let run = run_suite(&["--config", path.to_str().unwrap(), "--skip", "-"], &[]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error: no workflow is left once --skip \"-\" is applied"),
        "{}",
        run.stderr
    );
    let run = run_suite(
        &[
            "--config",
            path.to_str().unwrap(),
            "--no-tests",
            "warn",
            "nosuch",
        ],
        &[],
    );
    assert_eq!(run.code, 0, "the flag wins over the file: {}", run.stderr);

    let run = run_suite(&["ignored-extra"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "warning: no workflow to run: the filter \"ignored-extra\" matches only ignored \
             workflows (1; --include-ignored runs them)"
        ),
        "{}",
        run.stderr
    );
    let run = run_suite(&["--ignored", "seq"], &[]);
    assert!(
        run.stderr.contains(
            "warning: no workflow matches the filter \"seq\" among the ignored workflows"
        ),
        "{}",
        run.stderr
    );
    let run = run_suite(&["--list", "nosuch"], &[]);
    assert_eq!(run.stderr, "", "--list prints nothing but the list");

    // An empty run writes nothing, so the last run's reports stay as they were.
    let reports = tempfile::tempdir().unwrap();
    let env = [("WORKFLOW_REPORT_DIR", reports.path().to_str().unwrap())];
    let run = run_suite(&["--exact", "seq-a"], &env);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = reports.path().join("report.json");
    let before = std::fs::read(&json).unwrap();
    let run = run_suite(&["nosuch"], &env);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(std::fs::read(&json).unwrap(), before);
}

fn main() -> ExitCode {
    support::main(&[
        (
            "the_terminal_shows_a_live_view_without_breaking_libtest_lines",
            the_terminal_shows_a_live_view_without_breaking_libtest_lines,
        ),
        (
            "passing_workflows_pass_and_reports_agree",
            passing_workflows_pass_and_reports_agree,
        ),
        (
            "failures_are_isolated_and_recorded",
            failures_are_isolated_and_recorded,
        ),
        ("list_prints_only_the_list", list_prints_only_the_list),
        (
            "filters_exact_skip_and_ignored",
            filters_exact_skip_and_ignored,
        ),
        (
            "test_threads_sets_the_engine_concurrency",
            test_threads_sets_the_engine_concurrency,
        ),
        (
            "bad_configuration_is_a_clear_error",
            bad_configuration_is_a_clear_error,
        ),
        (
            "nextest_processes_write_fragments",
            nextest_processes_write_fragments,
        ),
        (
            "panic_locations_are_in_the_failure_text",
            panic_locations_are_in_the_failure_text,
        ),
        (
            "the_live_view_keeps_panic_locations_on_screen",
            the_live_view_keeps_panic_locations_on_screen,
        ),
        (
            "reports_that_cannot_be_written_keep_the_verdict",
            reports_that_cannot_be_written_keep_the_verdict,
        ),
        (
            "several_filters_select_the_union",
            several_filters_select_the_union,
        ),
        (
            "an_empty_selection_warns_passes_or_fails",
            an_empty_selection_warns_passes_or_fails,
        ),
    ])
}
