//! Snapshot tests (insta) of what a run shows and writes: libtest's stdout, the summary block
//! on stderr and the three report files of a fixed fixture run (this binary started again as a
//! workflow suite, see `support::run_suite`), and the three formats of a `RunReport` built in
//! process from fixed values.
//!
//! What varies between runs (durations, times, run ids, the fixture server's port, temporary
//! paths, which workflow happened to be fastest) is replaced by fixed markers with insta
//! filters; the run uses `--test-threads 1`, so libtest prints its lines in one order.
//!
//! A missing or changed snapshot fails: unless `INSTA_UPDATE` is set, `main` sets it to `no`
//! (as insta does by itself under CI), so nothing is written and the assertion panics.
//! `changed_or_missing_snapshots_fail` checks that. To accept a deliberate change:
//! `INSTA_UPDATE=always cargo test -p workflow-harness --test snapshots`, then review the diff
//! of `tests/snapshots/`.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

use workflow_harness::PlannedWorkflow;
use workflow_harness::prelude::*;
use workflow_harness::report::{
    Attempt, FailureKind, ReportFormat, Status, StepSummary, WorkflowOutcome, WorkflowReport,
};
use workflow_harness::report::{StepRecord, StepStatus};
use workflow_harness::{RunReport, WorkflowSpec};

use support::{Run, run_suite};

// ---- fixture workflows (run only in the child process) ----

workflow! {
    id: "steps-pass",
    name: "Steps, with \"quotes\"",
    tags: ["pass"],
    steps: 3,
    run: steps_pass,
}

/// Three steps, each using what the one before returned.
async fn steps_pass(cx: &mut Ctx) -> StepResult {
    let count = cx
        .step("Count items", async |cx| {
            let items: Vec<Value> = cx.get_json("/items").await?;
            Ok(items.len())
        })
        .await?;
    let echoed: Value = cx
        .step("Echo the count", async move |cx| {
            Ok(cx.post_json("/echo", &json!({ "count": count })).await?)
        })
        .await?;
    cx.step("Check the echo", async move |_| {
        ensure!(echoed["count"] == 2, "echo returned {echoed}");
        Ok(())
    })
    .await
}

workflow! {
    id: "http-error",
    name: "Fails at an HTTP error",
    tags: ["fail"],
    steps: 3,
    run: http_error,
}

async fn http_error(cx: &mut Ctx) -> StepResult {
    ping(cx, "Ping").await?;
    cx.step("Missing item", async |cx| {
        cx.get("/status/404").await?.expect_status(200)?;
        Ok(())
    })
    .await?;
    cx.step("Never reached", async |_| Ok(())).await
}

workflow! { id: "panics", name: "Panics in a step", tags: ["fail"], run: panics }

async fn panics(cx: &mut Ctx) -> StepResult {
    cx.step("Fine", async |_| Ok(())).await?;
    cx.step("Explode", async |_| -> StepResult { panic!("kaboom") })
        .await
}

workflow! { id: "optional-skip", name: "Optional step skipped", tags: ["pass"], run: optional_skip }

async fn optional_skip(cx: &mut Ctx) -> StepResult {
    ping(cx, "Ping").await?;
    cx.optional_step("Outage", async |cx| {
        cx.get("/status/503").await?.expect_status(200)?;
        Ok(())
    })
    .await;
    ping(cx, "Ping again").await
}

workflow! {
    id: "blocked-dependent",
    name: "Needs http-error",
    depends_on: ["http-error"],
    run: blocked_dependent,
}

async fn blocked_dependent(cx: &mut Ctx) -> StepResult {
    ping(cx, "Never run").await
}

workflow! { id: "flaky-retry", name: "Flaky, passes on retry", retries: 1, run: flaky_retry }

/// Attempts of `flaky-retry` so far (in the child process).
static FLAKY_ATTEMPTS: AtomicU32 = AtomicU32::new(0);

async fn flaky_retry(cx: &mut Ctx) -> StepResult {
    let attempt = FLAKY_ATTEMPTS.fetch_add(1, Ordering::SeqCst) + 1;
    cx.step("Unstable endpoint", async move |cx| {
        // The first attempt meets a server error, the retry an answer.
        let path = if attempt == 1 { "/status/500" } else { "/ok" };
        cx.get(path).await?.expect_status(200)?;
        Ok(())
    })
    .await
}

async fn ping(cx: &mut Ctx, name: &str) -> StepResult {
    cx.step(name, async |cx| {
        cx.get("/ok").await?.expect_status(200)?;
        Ok(())
    })
    .await
}

// ---- tests (run in the parent process) ----

/// The fixed fake run, once per process: every fixture, one at a time (libtest's lines in one
/// order), retries at once, no colors.
fn fixed_run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let run = run_suite(
            &["--test-threads", "1", "--color", "never"],
            &[("WORKFLOW_RETRY_DELAY", "0s"), ("RUST_BACKTRACE", "0")],
        );
        assert_eq!(
            run.code, 101,
            "the fixture run fails:\nstdout:\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        );
        run.assert_reports_agree();
        run
    })
}

/// A report file of the fixed run.
fn fixed_file(format: ReportFormat) -> String {
    std::fs::read_to_string(fixed_run().report_path(format)).unwrap()
}

/// Where the committed snapshots are; `SNAPSHOTS_DIR` points elsewhere (see
/// `changed_or_missing_snapshots_fail`).
fn snapshot_dir() -> PathBuf {
    std::env::var_os(SNAPSHOTS_DIR).map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots"),
        PathBuf::from,
    )
}

const SNAPSHOTS_DIR: &str = "SNAPSHOTS_DIR";

/// insta's settings for the snapshots of this file, with `filters` (regex, replacement).
fn settings(filters: &[(&str, &str)]) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(snapshot_dir());
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    for &(regex, replacement) in filters {
        settings.add_filter(regex, replacement);
    }
    settings
}

/// What varies in every text of a run: the fixture server's address, the run id, RFC 3339
/// times, the place of the fixture's `panic!`, step times (and the run's temporary folder:
/// see `run_settings`).
const RUN_FILTERS: &[(&str, &str)] = &[
    (r"http://127\.0\.0\.1:\d+", "http://127.0.0.1:[port]"),
    (r"\b\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{8}\b", "[run id]"),
    (
        r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
        "[rfc3339]",
    ),
    (
        r"tests/snapshots\.rs:\d+:\d+",
        "tests/snapshots.rs:[line]:[col]",
    ),
    // A step's time in libtest's failure text and JUnit's `<system-out>` (right-aligned: its
    // padding goes too), an attempt's in JUnit.
    (r" +\d+ ms\b", " [ms] ms"),
    (r"\(\d+ ms\)", "([ms] ms)"),
    // A `Date` header in a transcript.
    (
        r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT",
        "[http date]",
    ),
];

/// `RUN_FILTERS`, the fixed run's temporary folder, then `more`.
fn run_settings(more: &[(&str, &str)]) -> insta::Settings {
    let tmp = regex_escape(fixed_run().dir.path().to_str().unwrap());
    let tmp = [(tmp.as_str(), "[tmp]")];
    let filters: Vec<(&str, &str)> = RUN_FILTERS
        .iter()
        .chain(&tmp)
        .chain(more)
        .copied()
        .collect();
    settings(&filters)
}

/// The names of the workflows of the fixed run that ran (not the blocked one), each as `encode`
/// writes it, as alternatives of a regex; longest first, so a name that contains another is
/// matched whole.
fn ran_names(encode: fn(&str) -> String) -> String {
    let mut names: Vec<String> = fixed_run()
        .report()
        .workflows
        .iter()
        .filter(|w| w.status != Status::Blocked)
        .map(|w| regex_escape(&encode(&w.workflow_name)))
        .collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    names.join("|")
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$#&-~".contains(c);
            special.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

/// Which workflow was quickest and which slowest is up to timing: `(fastest|slowest)` then
/// `separator`, then one of the names as `encode` writes them, as a regex.
fn fastest_or_slowest(labels: &str, separator: &str, encode: fn(&str) -> String) -> String {
    format!("({labels}){separator}({})", ran_names(encode))
}

fn libtest_stdout_of_a_fixed_run() {
    run_settings(&[(r"finished in \d+\.\d+s", "finished in [s]s")])
        .bind(|| insta::assert_snapshot!("libtest_stdout", fixed_run().stdout));
}

fn summary_block_of_a_fixed_run() {
    let stderr = &fixed_run().stderr;
    let start = stderr
        .find("\nworkflow summary\n")
        .unwrap_or_else(|| panic!("no summary block in:\n{stderr}"));
    let fastest = fastest_or_slowest("fastest|slowest", "    ", str::to_owned);
    run_settings(&[
        (
            &format!(r"{fastest} \(\d+\.\d\d s\)"),
            "$1    [workflow] ([s] s)",
        ),
        (r"\b\d+\.\d\d s\b", "[s] s"),
        // Which steps were slowest is up to timing.
        (r"(?m)^  slow steps .*$", "  slow steps [steps]"),
    ])
    .bind(|| insta::assert_snapshot!("summary_block", &stderr[start + 1..]));
}

fn report_json_of_a_fixed_run() {
    let json = |name: &str| serde_json::to_string(name).unwrap();
    let fastest = fastest_or_slowest("fastestWorkflow|slowestWorkflow", r#"": "#, json);
    run_settings(&[
        (r#""(startTime|endTime)": \d+"#, r#""$1": "[epoch ms]""#),
        (
            r#""(duration|totalDuration|averageDuration|startOffset|p50|p95|max)": \d+(\.\d+)?"#,
            r#""$1": "[ms]""#,
        ),
        (r#""runId": "[^"]*""#, r#""runId": "[run id]""#),
        (&format!(r#""{fastest}"#), r#""$1": "[workflow]""#),
    ])
    .bind(|| insta::assert_snapshot!("report_json", fixed_file(ReportFormat::Json)));
}

fn report_csv_of_a_fixed_run() {
    // The CSV quotes a field with a comma or a quote, and doubles its quotes.
    let csv = |name: &str| {
        if name.contains([',', '"']) {
            format!("\"{}\"", name.replace('"', "\"\""))
        } else {
            name.to_owned()
        }
    };
    let fastest = fastest_or_slowest("Fastest|Slowest", " Workflow,", csv);
    run_settings(&[
        // A row's `Duration (ms)`: the field after the status.
        (
            r"(?m)^(.*,(completed|failed|blocked|cancelled)),\d+,",
            "$1,[ms],",
        ),
        (
            r"(?m)^(Total|Average) Duration \(ms\),\d+$",
            "$1 Duration (ms),[ms]",
        ),
        (&format!("(?m)^{fastest}$"), "$1 Workflow,[workflow]"),
        (r"(?m)^Run ID,.*$", "Run ID,[run id]"),
    ])
    .bind(|| insta::assert_snapshot!("report_csv", fixed_file(ReportFormat::Csv)));
}

fn junit_xml_of_a_fixed_run() {
    run_settings(&[
        (r#"time="\d+(\.\d+)?""#, r#"time="[s]""#),
        (
            r#"name="run-id" value="[^"]*""#,
            r#"name="run-id" value="[run id]""#,
        ),
    ])
    .bind(|| insta::assert_snapshot!("junit_xml", fixed_file(ReportFormat::Junit)));
}

// ---- a report built in process from fixed values: no filter at all ----

fn at(ms: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_590_000_000 + ms)
}

fn step(name: &str, status: StepStatus, ms: u64, error: Option<&str>) -> StepRecord {
    StepRecord {
        error: error.map(str::to_owned),
        optional: status == StepStatus::Skipped,
        ..StepRecord::new(name, status, Duration::from_millis(ms))
    }
}

fn spec(id: &str, name: &str) -> WorkflowSpec {
    WorkflowSpec::new(id, name, |_| Box::pin(async { Ok(()) }))
}

/// The entry of a workflow that never started (at the run's start).
fn never_ran(
    spec: WorkflowSpec,
    (status, kind): (Status, FailureKind),
    error: &str,
    blocked_by: Option<&str>,
) -> WorkflowReport {
    let planned = PlannedWorkflow::from(&spec);
    let outcome = WorkflowOutcome::not_run(
        &spec.id,
        status,
        kind,
        error.into(),
        blocked_by.map(Into::into),
    );
    let mut w = WorkflowReport::new(&planned, outcome);
    w.start_time = at(0);
    w.end_time = at(0);
    w
}

/// A workflow entry that ran from `start` for `ms` milliseconds.
fn entry(
    (id, name): (&str, &str),
    status: Status,
    (start, ms): (u64, u64),
    steps: Vec<StepRecord>,
) -> WorkflowReport {
    let mut w = never_ran(spec(id, name), (status, FailureKind::Error), "", None);
    w.progress = 100.0;
    w.current_step = "Completed".into();
    w.start_time = at(start);
    w.end_time = at(start + ms);
    w.duration = Duration::from_millis(ms);
    w.error = None;
    w.failure_kind = None;
    w.attempts = vec![Attempt {
        attempt: 1,
        passed: status == Status::Completed,
        duration: Duration::from_millis(ms),
        error: None,
        failure_kind: None,
    }];
    w.result = StepSummary::of_workflow(steps, status, w.duration, None);
    w
}

fn fixed_report() -> RunReport {
    use StepStatus::{Failed, Passed, Skipped};
    let error = "GET http://127.0.0.1:45021/status/404: expected status 200, got 404 Not Found; \
                 body: {\"error\":\"status 404\"}";
    let mut passing = entry(
        ("steps-pass", "Steps, with \"quotes\""),
        Status::Completed,
        (2, 40),
        vec![
            step("List items", Passed, 10, None),
            step("Outage", Skipped, 5, Some("GET /status/503: 503")),
            step("Check echo", Passed, 25, None),
        ],
    );
    passing.tags = vec!["pass".into()];
    passing.planned_steps = Some(3);
    let mut failing = entry(
        ("http-error", "Fails at an HTTP error"),
        Status::Failed,
        (1, 16),
        vec![
            step("Ping", Passed, 8, None),
            step("Missing item", Failed, 8, Some(error)),
        ],
    );
    failing.progress = 33.33;
    failing.current_step = "Missing item".into();
    failing.error = Some(format!("step \"Missing item\" failed: {error}"));
    failing.failure_kind = Some(FailureKind::Error);
    failing.attempts[0].error.clone_from(&failing.error);
    failing.attempts[0].failure_kind = Some(FailureKind::Error);
    failing.planned_steps = Some(3);
    let mut flaky = entry(
        ("flaky-retry", "Flaky, passes on retry"),
        Status::Completed,
        (0, 7),
        vec![step("Unstable endpoint", Passed, 6, None)],
    );
    flaky.flaky = true;
    flaky.attempts.insert(
        0,
        Attempt {
            attempt: 1,
            passed: false,
            duration: Duration::from_millis(3),
            error: Some("step \"Unstable endpoint\" failed: got 500".into()),
            failure_kind: Some(FailureKind::Error),
        },
    );
    flaky.attempts[1].attempt = 2;
    flaky.attempts[1].passed = true;
    let mut blocked = never_ran(
        spec("blocked-dependent", "Needs http-error").depends_on(["http-error"]),
        (Status::Blocked, FailureKind::Blocked),
        "blocked by http-error: step \"Missing item\" failed",
        Some("http-error"),
    );
    blocked.start_time = at(17);
    blocked.end_time = at(17);
    let cancelled = never_ran(
        spec("not-started", "Not started").tags(["late"]),
        (Status::Cancelled, FailureKind::Cancelled),
        "not run: the run stopped after 1 failure (--max-fail 1)",
        None,
    );
    let mut report = RunReport::new(
        vec![blocked, flaky, failing, cancelled, passing],
        at(0),
        Duration::from_millis(42),
    );
    report.run_id = "20261203T090802.247Z-bf8e9aa8".into();
    report
}

fn report_formats_of_a_fixed_report() {
    let report = fixed_report();
    settings(&[]).bind(|| {
        insta::assert_snapshot!("fixed_report_json", report.to_json());
        insta::assert_snapshot!("fixed_report_csv", report.to_csv());
        insta::assert_snapshot!("fixed_junit_xml", report.to_junit());
    });
}

// ---- the snapshots can fail ----

/// This binary's trial `report_formats_of_a_fixed_report` against the snapshots in `dir`, as
/// CI runs it (no `INSTA_*` variable, so `main`'s default applies) or with `INSTA_UPDATE`
/// set to `update`; returns its exit code and stdout.
fn fixed_report_trial(dir: &Path, update: Option<&str>) -> (Option<i32>, String) {
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "report_formats_of_a_fixed_report"])
        .env(SNAPSHOTS_DIR, dir);
    for (key, _) in std::env::vars() {
        if key.starts_with("INSTA_") {
            cmd.env_remove(key);
        }
    }
    if let Some(update) = update {
        cmd.env("INSTA_UPDATE", update);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code(), stdout)
}

/// The file names in `dir`.
fn files_in(dir: &Path) -> BTreeSet<String> {
    let names = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name());
    names.map(|name| name.into_string().unwrap()).collect()
}

fn changed_or_missing_snapshots_fail() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let (csv, junit) = (
        dir.join("fixed_report_csv.snap"),
        dir.join("fixed_junit_xml.snap"),
    );
    let all = ["fixed_junit_xml", "fixed_report_csv", "fixed_report_json"];
    let snaps = |names: &[&str]| -> BTreeSet<String> {
        names.iter().map(|name| format!("{name}.snap")).collect()
    };
    // Written on request, then matched.
    let (code, stdout) = fixed_report_trial(dir, Some("always"));
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(files_in(dir), snaps(&all));
    let (code, stdout) = fixed_report_trial(dir, None);
    assert_eq!(code, Some(0), "the snapshots match:\n{stdout}");

    // One changed line fails the trial, and the snapshot stays as it was, with no .snap.new.
    let text = std::fs::read_to_string(&csv).unwrap();
    let changed = text.replacen("Interrupted,false", "Interrupted,true", 1);
    assert_ne!(changed, text);
    std::fs::write(&csv, &changed).unwrap();
    let (code, stdout) = fixed_report_trial(dir, None);
    assert_eq!(code, Some(101), "a changed snapshot fails:\n{stdout}");
    assert!(
        stdout.contains("snapshot assertion for 'fixed_report_csv' failed"),
        "{stdout}"
    );
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), changed);
    assert_eq!(files_in(dir), snaps(&all));

    // A missing snapshot fails too, and is not written.
    std::fs::write(&csv, &text).unwrap();
    std::fs::remove_file(&junit).unwrap();
    let (code, stdout) = fixed_report_trial(dir, None);
    assert_eq!(code, Some(101), "a missing snapshot fails:\n{stdout}");
    assert!(
        stdout.contains("snapshot assertion for 'fixed_junit_xml' failed"),
        "{stdout}"
    );
    assert_eq!(files_in(dir), snaps(&all[1..]));
}

fn main() -> ExitCode {
    if std::env::var_os("INSTA_UPDATE").is_none_or(|v| v.is_empty()) {
        // SAFETY: nothing else runs yet: no thread reads the environment.
        unsafe { std::env::set_var("INSTA_UPDATE", "no") };
    }
    support::main(&[
        (
            "libtest_stdout_of_a_fixed_run",
            libtest_stdout_of_a_fixed_run,
        ),
        ("summary_block_of_a_fixed_run", summary_block_of_a_fixed_run),
        ("report_json_of_a_fixed_run", report_json_of_a_fixed_run),
        ("report_csv_of_a_fixed_run", report_csv_of_a_fixed_run),
        ("junit_xml_of_a_fixed_run", junit_xml_of_a_fixed_run),
        (
            "report_formats_of_a_fixed_report",
            report_formats_of_a_fixed_report,
        ),
        (
            "changed_or_missing_snapshots_fail",
            changed_or_missing_snapshots_fail,
        ),
    ])
}
