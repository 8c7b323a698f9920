//! What the run history costs: recording the 10,000-workflow scale run (one step each) and a
//! run shaped like the suite (20 workflows, 12 steps each), the regression check that comes
//! before recording, `--history` over 1,000 recorded suite runs, and the database's size per
//! run. SQLite, the default store, in a temporary directory (on the machine's disk).
//!
//! `cargo bench --bench history`

use std::time::{Duration, Instant, SystemTime};

use workflow_harness::Status;
use workflow_harness::history::{RunMeta, Source, Store, Target, Thresholds};
use workflow_harness::report::{
    Attempt, RunReport, StepRecord, StepStatus, StepSummary, WorkflowReport,
};

const SUITE: &str = "workflow-harness/workflows";

fn workflow(id: String, steps: usize, ms: u64) -> WorkflowReport {
    let start = SystemTime::now();
    let steps: Vec<StepRecord> = (0..steps)
        .map(|i| {
            let status = if i == 3 {
                StepStatus::Skipped
            } else {
                StepStatus::Passed
            };
            let name = format!("Step number {i} of the workflow");
            StepRecord {
                error: (i == 3).then(|| "GET http://127.0.0.1:3000/api/coupons: 404".into()),
                optional: i == 3,
                ..StepRecord::new(name, status, Duration::from_millis(ms + i as u64))
            }
        })
        .collect();
    WorkflowReport {
        workflow_name: format!("Workflow {id}"),
        workflow_id: id,
        status: Status::Completed,
        progress: 100.0,
        current_step: "Completed".into(),
        start_time: start,
        end_time: start,
        duration: Duration::from_millis(ms * 12),
        error: None,
        failure_kind: None,
        tags: vec!["shop".into(), "checkout".into()],
        planned_steps: Some(steps.len()),
        priority: 0,
        depends_on: Vec::new(),
        group: None,
        as_dependency: false,
        blocked_by: None,
        flaky: false,
        attempts: vec![Attempt {
            attempt: 1,
            passed: true,
            duration: Duration::from_millis(ms * 12),
            error: None,
            failure_kind: None,
        }],
        result: StepSummary::new(steps),
    }
}

fn report(n: usize, steps: usize, at: u64) -> RunReport {
    let workflows = (0..n)
        .map(|i| workflow(format!("workflow-{i:05}"), steps, 10 + (at + i as u64) % 7))
        .collect();
    let mut report = RunReport::new(
        workflows,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + at),
        Duration::from_millis(900),
    );
    report.run_id = format!("20270101T000000.000Z-{at:08x}");
    report
}

fn meta(report: &RunReport) -> RunMeta {
    RunMeta {
        run_id: report.run_id.clone(),
        suite: SUITE.into(),
        source: Some(Source::Cargo),
        selection: String::new(),
        exit_code: Some(0),
        git_commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
        git_branch: Some("main".into()),
        ..RunMeta::default()
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().expect("temporary directory");

    // The scale run: 10,000 workflows of one step, into a history holding one such run.
    let scale = Target::Sqlite(dir.path().join("scale.sqlite"));
    let mut store = Store::open(&scale).expect("store");
    let (mut checks, mut records) = (Vec::new(), Vec::new());
    for at in 0..5 {
        let big = report(10_000, 1, at);
        let started = Instant::now();
        let found = store
            .regressions(SUITE, &big.run_id, &big, &Thresholds::default())
            .expect("regressions");
        checks.push(started.elapsed());
        let started = Instant::now();
        store.record(&big, &meta(&big)).expect("recorded");
        records.push(started.elapsed());
        assert!(found.is_empty());
    }
    let (check, record) = (median(checks), median(records));
    println!(
        "the 10,000-workflow scale run: regressions {:.0} ms + record {:.0} ms = {:.0} ms \
         (medians of 5, against up to 4 such runs recorded)",
        ms(check),
        ms(record),
        ms(check + record)
    );

    // The suite: 20 workflows × 12 steps, 1,000 runs.
    let path = dir.path().join("suite.sqlite");
    let target = Target::Sqlite(path.clone());
    let mut store = Store::open(&target).expect("store");
    let mut times = Vec::new();
    for at in 0..1000 {
        let run = report(20, 12, at);
        let started = Instant::now();
        store
            .regressions(SUITE, &run.run_id, &run, &Thresholds::default())
            .expect("regressions");
        store.record(&run, &meta(&run)).expect("recorded");
        times.push(started.elapsed());
    }
    let last: Vec<Duration> = times[900..].to_vec();
    println!(
        "record one suite run (20 workflows × 12 steps; regressions + record): {:.1} ms \
         (median of the last 100 of 1,000)",
        ms(median(last))
    );
    drop(store);
    let wal = path.with_extension("sqlite-wal");
    let size = std::fs::metadata(&path).map_or(0, |m| m.len())
        + std::fs::metadata(&wal).map_or(0, |m| m.len());
    println!(
        "database after 1,000 suite runs: {:.1} MB, {:.1} KB per run",
        size as f64 / 1e6,
        size as f64 / 1000.0 / 1024.0
    );

    let mut times = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        let mut store = Store::open(&target).expect("store");
        let history = store.workflow_history(SUITE, 20).expect("history");
        let text = history.to_text();
        times.push(started.elapsed());
        assert_eq!(history.rows.len(), 20);
        assert!(!text.is_empty());
    }
    println!(
        "--history over 1,000 recorded runs (open + query + table): {:.1} ms (median of 10)",
        ms(median(times))
    );
    let mut times = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        let mut store = Store::open(&target).expect("store");
        let history = store
            .step_history(SUITE, "workflow-00007", 20)
            .expect("history");
        times.push(started.elapsed());
        assert_eq!(history.rows.len(), 12);
    }
    println!(
        "--history-steps over 1,000 recorded runs: {:.1} ms (median of 10)",
        ms(median(times))
    );
}
