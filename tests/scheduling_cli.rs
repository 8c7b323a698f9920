//! Scheduling flags of the suite binary, as a user passes them: `--retries`, `--flaky-fails`,
//! `--max-fail`/`--fail-fast`, dependency pull-in and `--no-deps`, groups from harness.toml.

mod support;

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use workflow_harness::prelude::*;
use workflow_harness::report::Status;

use support::run_suite;

// ---- fixture workflows (run only in the child process) ----

workflow! { id: "chain-base", name: "Chain base", run: chain_base }
workflow! { id: "chain-top", name: "Chain top", depends_on: ["chain-base"], run: chain_top }

async fn chain_base(cx: &mut Ctx) -> StepResult {
    cx.step("Publish", async |cx| {
        let fail = std::env::var("FAIL_BASE").is_ok();
        ensure!(!fail, "FAIL_BASE is set");
        cx.set_output(json!({ "token": "from-base" }))
    })
    .await
}

async fn chain_top(cx: &mut Ctx) -> StepResult {
    cx.step("Read", async |cx| {
        let base: Value = cx.output_of("chain-base")?;
        ensure!(base["token"] == "from-base", "got {base}");
        Ok(())
    })
    .await
}

static ATTEMPTS: AtomicUsize = AtomicUsize::new(0);

workflow! { id: "flaky-once", name: "Flaky once", run: flaky_once }

async fn flaky_once(cx: &mut Ctx) -> StepResult {
    let attempt = ATTEMPTS.fetch_add(1, Ordering::SeqCst) + 1;
    cx.step("Maybe", async move |_| {
        ensure!(attempt > 1, "first attempt fails");
        Ok(())
    })
    .await
}

workflow! { id: "many-a-fail", name: "Fails first", priority: 10, run: fail_now }
workflow! { id: "many-b", name: "B", run: pass_now }
workflow! { id: "many-c", name: "C", run: pass_now }
workflow! { id: "many-d", name: "D", run: pass_now }

async fn fail_now(cx: &mut Ctx) -> StepResult {
    cx.step("Break", async |_| -> StepResult { bail!("broken") })
        .await
}

async fn pass_now(cx: &mut Ctx) -> StepResult {
    cx.step("Pass", async |_| Ok(())).await
}

workflow! { id: "grouped-a", name: "Grouped A", group: "scarce", run: pass_now }
workflow! { id: "grouped-b", name: "Grouped B", group: "scarce", run: pass_now }

// ---- tests ----

fn ids(run: &support::Run) -> Vec<(String, Status, bool)> {
    run.report()
        .workflows
        .into_iter()
        .map(|w| (w.workflow_id, w.status, w.as_dependency))
        .collect()
}

const GROUPS: &[(&str, &str)] = &[("WORKFLOW_GROUPS", "scarce=1")];

fn selection_pulls_in_dependencies_unless_no_deps() {
    let run = run_suite(&["--exact", "chain-top"], GROUPS);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        ids(&run),
        [
            ("chain-base".into(), Status::Completed, true),
            ("chain-top".into(), Status::Completed, false)
        ]
    );
    assert!(
        run.summary_line().contains("1 passed"),
        "only the selected workflow is a libtest test"
    );
    assert!(
        run.stderr.contains("dependency chain-base"),
        "{}",
        run.stderr
    );
    run.assert_reports_agree();

    let run = run_suite(&["--exact", "chain-top", "--no-deps"], GROUPS);
    assert_eq!(
        run.code, 101,
        "the output is missing without the dependency"
    );
    let report = run.report();
    assert_eq!(report.total_workflows, 1);
    assert!(
        report.workflows[0]
            .error
            .as_deref()
            .unwrap()
            .contains("published no output")
    );

    let run = run_suite(
        &["chain-"],
        &[("WORKFLOW_GROUPS", "scarce=1"), ("FAIL_BASE", "1")],
    );
    assert_eq!(run.code, 101);
    let top = run
        .report()
        .workflows
        .into_iter()
        .find(|w| w.workflow_id == "chain-top")
        .unwrap();
    assert_eq!(top.status, Status::Blocked);
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("test chain-top "))
        .unwrap();
    assert!(
        line.ends_with("FAILED"),
        "a blocked workflow fails in libtest: {line}"
    );
    assert!(
        run.stdout
            .contains("Chain top blocked: blocked by chain-base"),
        "{}",
        run.stdout
    );
    run.assert_reports_agree();
    run.assert_junit_validates();
}

fn retries_make_a_flaky_workflow_pass_unless_flaky_fails() {
    let run = run_suite(&["--exact", "flaky-once"], GROUPS);
    assert_eq!(run.code, 101, "no retries by default");

    let run = run_suite(
        &["--exact", "flaky-once", "--retries", "1"],
        &[
            ("WORKFLOW_GROUPS", "scarce=1"),
            ("WORKFLOW_RETRY_DELAY", "0s"),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    let w = run.report().workflows.remove(0);
    assert!(w.flaky && w.status == Status::Completed);
    assert_eq!(w.attempts.len(), 2);
    assert!(
        run.stderr
            .contains("flaky-once: passed on attempt 2 after 1 failure(s)"),
        "{}",
        run.stderr
    );
    assert!(
        std::fs::read_to_string(run.report_path(workflow_harness::report::ReportFormat::Junit))
            .unwrap()
            .contains("<flakyFailure")
    );
    run.assert_reports_agree();
    run.assert_junit_validates();

    let run = run_suite(
        &["--exact", "flaky-once", "--flaky-fails"],
        &[
            ("WORKFLOW_GROUPS", "scarce=1"),
            ("WORKFLOW_RETRIES", "1"),
            ("WORKFLOW_RETRY_DELAY", "0s"),
        ],
    );
    assert_eq!(run.code, 101, "--flaky-fails counts it as failed");
    run.assert_junit_validates();
}

fn max_fail_cancels_the_rest_and_reports_are_complete() {
    let run = run_suite(&["many-", "--max-fail", "1", "--test-threads", "1"], GROUPS);
    assert_eq!(run.code, 101);
    let report = run.report();
    assert_eq!(
        (report.total_workflows, report.failed, report.cancelled),
        (4, 1, 3)
    );
    assert!(
        run.summary_line().contains("0 passed; 1 failed; 3 ignored"),
        "{}",
        run.summary_line()
    );
    run.assert_reports_agree();
    run.assert_junit_validates();

    let run = run_suite(&["many-", "--fail-fast", "--test-threads", "1"], GROUPS);
    assert_eq!(run.report().cancelled, 3, "--fail-fast is --max-fail 1");
}

fn groups_come_from_configuration() {
    let run = run_suite(&["grouped-"], &[]);
    assert_eq!(run.code, 2, "a group without a limit is a setup error");
    assert!(
        run.stderr
            .contains("joins group \"scarce\", which has no limit"),
        "{}",
        run.stderr
    );

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("harness.toml");
    std::fs::write(&config, "[groups]\nscarce = 1\n").unwrap();
    let run = run_suite(&["grouped-", "--config", config.to_str().unwrap()], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.report();
    let (a, b) = (&report.workflows[0], &report.workflows[1]);
    assert!(
        a.end_time <= b.start_time || b.end_time <= a.start_time,
        "a group of 1 runs one at a time"
    );
}

fn main() -> ExitCode {
    support::main(&[
        (
            "selection_pulls_in_dependencies_unless_no_deps",
            selection_pulls_in_dependencies_unless_no_deps,
        ),
        (
            "retries_make_a_flaky_workflow_pass_unless_flaky_fails",
            retries_make_a_flaky_workflow_pass_unless_flaky_fails,
        ),
        (
            "max_fail_cancels_the_rest_and_reports_are_complete",
            max_fail_cancels_the_rest_and_reports_are_complete,
        ),
        (
            "groups_come_from_configuration",
            groups_come_from_configuration,
        ),
    ])
}
