//! The history store itself, on both backends through the same code paths: SQLite files and
//! a real PostgreSQL server (see `pg`). Migrations from an empty database and from the
//! previous schema, a newer schema refused and left untouched, what is recorded and read
//! back, and shards writing one run at once.

mod pg;

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use workflow_harness::Status;
use workflow_harness::history::{
    HistoryError, RunMeta, SCHEMA_VERSION, Source, Store, Target, Thresholds,
};
use workflow_harness::report::{
    Attempt, FailureKind, RunReport, StepRecord, StepStatus, StepSummary, WorkflowReport,
};

/// Each test runs once per backend: a temporary SQLite file, and (when there is one) a fresh
/// PostgreSQL database.
fn backends() -> Vec<(Target, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec![(Target::Sqlite(dir.path().join("h.sqlite")), Some(dir))];
    if let Some(url) = pg::database() {
        all.push((Target::Postgres(url), None));
    }
    all
}

fn step(name: &str, status: StepStatus, ms: u64) -> StepRecord {
    StepRecord {
        error: (status != StepStatus::Passed).then(|| format!("{name} broke")),
        optional: status == StepStatus::Skipped,
        ..StepRecord::new(name, status, Duration::from_millis(ms))
    }
}

fn workflow(id: &str, status: Status, steps: Vec<StepRecord>) -> WorkflowReport {
    let ms: u64 = steps.iter().map(|s| s.duration.as_millis() as u64).sum();
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    WorkflowReport {
        workflow_id: id.into(),
        workflow_name: format!("{id}, \"named\""),
        status,
        progress: 100.0,
        current_step: "Completed".into(),
        start_time: start,
        end_time: start + Duration::from_millis(ms),
        duration: Duration::from_millis(ms),
        error: (status != Status::Completed).then(|| "it broke".into()),
        failure_kind: (status == Status::Failed).then_some(FailureKind::Error),
        tags: vec!["shop".into(), "x".into()],
        planned_steps: None,
        priority: 0,
        depends_on: Vec::new(),
        group: None,
        as_dependency: false,
        blocked_by: None,
        flaky: false,
        attempts: vec![Attempt {
            attempt: 1,
            passed: status == Status::Completed,
            duration: Duration::from_millis(ms),
            error: None,
            failure_kind: None,
        }],
        result: StepSummary::new(steps),
    }
}

/// A run of `workflows` started `at` seconds after a fixed time.
fn run(at: u64, workflows: Vec<WorkflowReport>) -> RunReport {
    let mut report = RunReport::new(
        workflows,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + at),
        Duration::from_millis(40),
    );
    report.run_id = format!("run-at-{at}");
    report
}

fn meta(report: &RunReport) -> RunMeta {
    RunMeta {
        run_id: report.run_id.clone(),
        suite: "pkg/suite".into(),
        source: Some(Source::Cargo),
        selection: "--exact a".into(),
        exit_code: Some(i32::from(report.has_failures()) * 101),
        git_commit: Some("abc123".into()),
        ..RunMeta::default()
    }
}

/// The previous schema (version 1), as the binary before serve mode's columns wrote it.
fn at_previous_version(target: &Target) -> Store {
    Store::open_at(target, SCHEMA_VERSION - 1).unwrap()
}

fn migrations_from_empty_and_from_the_previous_schema() {
    for (target, _dir) in backends() {
        let mut store = Store::open(&target).unwrap();
        assert_eq!(store.version().unwrap(), SCHEMA_VERSION, "{target:?}");
        drop(store);
        // Opening again changes nothing.
        assert_eq!(
            Store::open(&target).unwrap().version().unwrap(),
            SCHEMA_VERSION
        );
    }
    for (target, _dir) in backends() {
        let mut old = at_previous_version(&target);
        assert_eq!(old.version().unwrap(), SCHEMA_VERSION - 1);
        // What the previous binary could read and write: runs and workflows.
        let report = run(
            1,
            vec![workflow(
                "a",
                Status::Failed,
                vec![step("s", StepStatus::Failed, 5)],
            )],
        );
        drop(old);
        insert_v1_run(&target, &report.run_id);
        let mut store = Store::open(&target).unwrap();
        assert_eq!(store.version().unwrap(), SCHEMA_VERSION, "{target:?}");
        let last = store.last_run("pkg/suite").unwrap().unwrap();
        assert_eq!(
            last.run_id, report.run_id,
            "the old run survives the migration"
        );
        assert_eq!(last.rerun, ["a"]);
        // The new columns work: a serve run records its number and report.
        let mut served = run(2, vec![workflow("a", Status::Completed, vec![])]);
        served.run_id = "run-7".into();
        let mut m = meta(&served);
        m.source = Some(Source::Serve);
        m.serve_seq = Some(7);
        store.record(&served, &m).unwrap();
        assert_eq!(store.last_serve_seq().unwrap(), 7);
        assert_eq!(store.report("run-7").unwrap().unwrap(), served);
    }
}

/// A run as version 1 of the schema holds it, written with plain SQL.
fn insert_v1_run(target: &Target, run_id: &str) {
    let sql = format!(
        "INSERT INTO runs (run_id, suite, source, started_at, ended_at, selection, interrupted)
         VALUES ('{run_id}', 'pkg/suite', 'cargo', 1800000001000, 1800000001040, '', 0);
         INSERT INTO workflows (run_id, workflow_id, name, status, started_at, duration_ms,
             attempts, flaky, tags, as_dependency)
         VALUES ('{run_id}', 'a', 'A', 'failed', 1800000001000, 5, 1, 0, '', 0);"
    );
    match target {
        Target::Sqlite(path) => rusqlite::Connection::open(path)
            .unwrap()
            .execute_batch(&sql)
            .unwrap(),
        Target::Postgres(url) => postgres::Client::connect(url, postgres::NoTls)
            .unwrap()
            .batch_execute(&sql)
            .unwrap(),
    }
}

fn a_newer_schema_is_refused_and_left_untouched() {
    for (target, _dir) in backends() {
        drop(Store::open(&target).unwrap());
        let newer = "UPDATE schema_version SET version = 99";
        let snapshot = match &target {
            Target::Sqlite(path) => {
                rusqlite::Connection::open(path)
                    .unwrap()
                    .execute_batch(newer)
                    .unwrap();
                // Everything in one file, to compare bytes.
                rusqlite::Connection::open(path)
                    .unwrap()
                    .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
                    .unwrap();
                std::fs::read(path).unwrap()
            }
            Target::Postgres(url) => {
                postgres::Client::connect(url, postgres::NoTls)
                    .unwrap()
                    .batch_execute(newer)
                    .unwrap();
                Vec::new()
            }
        };
        let error = Store::open(&target).unwrap_err();
        assert!(
            matches!(error, HistoryError::Newer { found: 99, .. }),
            "{error}"
        );
        let message = error.to_string();
        assert!(
            message.contains("schema version 99, newer than this binary's")
                && message.contains("left untouched"),
            "{message}"
        );
        match &target {
            Target::Sqlite(path) => assert_eq!(std::fs::read(path).unwrap(), snapshot),
            Target::Postgres(url) => {
                let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
                let v: i64 = client
                    .query_one("SELECT version FROM schema_version", &[])
                    .unwrap()
                    .get(0);
                assert_eq!(v, 99);
            }
        }
    }
}

fn runs_are_recorded_and_read_back() {
    use StepStatus::*;
    for (target, _dir) in backends() {
        let mut store = Store::open(&target).unwrap().keep_runs(1000);
        for at in 0..6 {
            let status = if at == 3 {
                Status::Failed
            } else {
                Status::Completed
            };
            let report = run(
                at,
                vec![
                    workflow(
                        "a",
                        status,
                        vec![step("One", Passed, 10 + at), step("Two", Skipped, 1)],
                    ),
                    workflow("b", Status::Completed, vec![step("Only", Passed, 100)]),
                ],
            );
            store.record(&report, &meta(&report)).unwrap();
        }
        let last = store.last_run("pkg/suite").unwrap().unwrap();
        assert_eq!((last.run_id.as_str(), last.workflows), ("run-at-5", 2));
        assert!(last.rerun.is_empty());
        // Flaky, blocked and cancelled workflows are rerun too.
        let mut mixed = run(
            100,
            vec![
                workflow("f", Status::Completed, vec![]),
                workflow("k", Status::Blocked, vec![]),
                workflow("c", Status::Cancelled, vec![]),
                workflow("ok", Status::Completed, vec![]),
            ],
        );
        mixed.workflows[0].flaky = true;
        let mut other = meta(&mixed);
        other.suite = "pkg/mixed".into();
        store.record(&mixed, &other).unwrap();
        let rerun = store.last_run("pkg/mixed").unwrap().unwrap().rerun;
        assert_eq!(rerun, ["c", "f", "k"]);
        assert!(store.last_run("other/suite").unwrap().is_none());

        let history = store.workflow_history("pkg/suite", 3).unwrap();
        assert_eq!((history.runs, history.recorded), (3, 6));
        let a = &history.rows[0];
        assert_eq!(a.id, "a");
        assert_eq!(a.runs, 3);
        assert_eq!(a.pass_rate, 66.67);
        assert_eq!(a.statuses, ["failed", "completed", "completed"]);
        assert_eq!(a.durations, [14, 15, 16]);
        assert_eq!((a.p50_ms, a.p95_ms), (15, 16));
        let steps = store.step_history("pkg/suite", "a", 10).unwrap();
        let names: Vec<&str> = steps.rows.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(names, ["One", "Two"]);
        assert_eq!(steps.rows[1].skip_rate, Some(100.0));

        // Paging, newest first.
        let page = store.runs(Some("pkg/suite"), 4, None).unwrap();
        let ids: Vec<&str> = page.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(ids, ["run-at-5", "run-at-4", "run-at-3", "run-at-2"]);
        assert_eq!(page[2].failed, 1);
        assert_eq!(page[2].exit_code, Some(101));
        let next = store.runs(Some("pkg/suite"), 4, Some("run-at-2")).unwrap();
        let ids: Vec<&str> = next.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(ids, ["run-at-1", "run-at-0"]);

        // Regressions against these runs: "b / Only" took 100 ms six times.
        let slow = run(
            9,
            vec![workflow(
                "b",
                Status::Completed,
                vec![step("Only", Passed, 400)],
            )],
        );
        let found = store
            .regressions("pkg/suite", &slow.run_id, &slow, &Thresholds::default())
            .unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0]
                .describe()
                .contains("b / Only: 400 ms, recorded p95 100 ms (6 runs)")
        );

        // keep_runs prunes the oldest of the suite.
        let mut store = store.keep_runs(2);
        store.record(&slow, &meta(&slow)).unwrap();
        let left = store.runs(None, 100, None).unwrap();
        let ids: Vec<&str> = left.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(
            ids,
            ["run-at-100", "run-at-9", "run-at-5"],
            "per suite: {target:?}"
        );
    }
}

fn shards_writing_one_run_at_once_lose_no_row() {
    for round in 0..3 {
        for (target, _dir) in backends() {
            drop(Store::open(&target).unwrap());
            let writers: Vec<_> = (0..8)
                .map(|shard| {
                    let target = target.clone();
                    std::thread::spawn(move || {
                        let mut store = Store::open(&target).unwrap();
                        let workflows = (0..10)
                            .map(|i| {
                                let steps = vec![
                                    step("s1", StepStatus::Passed, 1),
                                    step("s2", StepStatus::Passed, 2),
                                ];
                                workflow(&format!("w{shard}-{i}"), Status::Completed, steps)
                            })
                            .collect();
                        let report = run(shard, workflows);
                        let mut m = meta(&report);
                        m.run_id = format!("shared-{round}");
                        m.source = Some(Source::Nextest);
                        m.shard = Some(format!("{}/8", shard + 1));
                        store.record(&report, &m).unwrap();
                    })
                })
                .collect();
            for w in writers {
                w.join().unwrap();
            }
            let mut store = Store::open(&target).unwrap();
            let runs = store.runs(None, 10, None).unwrap();
            assert_eq!(runs.len(), 1, "{target:?}");
            assert_eq!(runs[0].total_workflows, 80, "{target:?} round {round}");
            let history = store.step_history("pkg/suite", "w3-7", 5).unwrap();
            assert_eq!(history.rows.len(), 2);
        }
    }
}

fn an_unreachable_server_is_an_error_naming_it() {
    let target = Target::Postgres("postgres://nobody:secret@127.0.0.1:1/none".into());
    let error = Store::open(&target).unwrap_err().to_string();
    assert!(
        error.contains("postgres://nobody:***@127.0.0.1:1/none"),
        "{error}"
    );
    assert!(!error.contains("secret"), "{error}");
}

fn the_executor_records_its_runs() {
    for (target, _dir) in backends() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let report = runtime.block_on(async {
            let mut executor = workflow_harness::Executor::new();
            executor
                .add_workflow("x", "X", |cx| {
                    Box::pin(async move { cx.step("One", async |_| Ok(())).await })
                })
                .record_history(target.clone(), "pkg/executor");
            executor.execute_all().await.unwrap()
        });
        drop(runtime);
        let mut store = Store::open(&target).unwrap();
        let runs = store.runs(Some("pkg/executor"), 10, None).unwrap();
        assert_eq!(runs.len(), 1, "{target:?}");
        assert_eq!(runs[0].run_id, report.run_id);
        assert_eq!(
            (runs[0].source.as_str(), runs[0].completed),
            ("executor", 1)
        );
    }
}

/// A schedule's slots are claimed once, settled with their run, listed oldest first with
/// whether the run passed; its failing set is replaced as a whole; on both backends.
fn schedule_slots_and_alert_states() {
    use std::collections::BTreeMap;
    use workflow_harness::history::SlotState;
    for (target, _dir) in backends() {
        let mut store = Store::open(&target).unwrap();
        let suite = "pkg/sched";
        assert_eq!(store.last_slot(suite, "s").unwrap(), None);
        assert!(
            store
                .claim_slot(suite, "s", 60_000, SlotState::Ran, None)
                .unwrap()
        );
        assert!(
            !store
                .claim_slot(suite, "s", 60_000, SlotState::Ran, None)
                .unwrap(),
            "a slot is claimed once ({target:?})"
        );
        store
            .settle_slot(suite, "s", 60_000, Some("run-1"), None)
            .unwrap();
        assert!(
            store
                .claim_slot(suite, "s", 120_000, SlotState::Skipped, Some("busy"))
                .unwrap()
        );
        // Another schedule's slots are its own.
        assert!(
            store
                .claim_slot(suite, "t", 60_000, SlotState::Ran, None)
                .unwrap()
        );
        assert_eq!(store.last_slot(suite, "s").unwrap(), Some(120_000));
        let slots = store.slots(suite, "s", 10).unwrap();
        let seen: Vec<_> = slots
            .iter()
            .map(|s| (s.slot, s.state, s.run_id.as_deref(), s.reason.as_deref()))
            .collect();
        assert_eq!(
            seen,
            [
                (60_000, SlotState::Ran, Some("run-1"), None),
                (120_000, SlotState::Skipped, None, Some("busy")),
            ],
            "{target:?}"
        );
        let mut failing = BTreeMap::from([("a".to_owned(), "run-1".to_owned())]);
        store.set_failing(suite, "s", &failing).unwrap();
        failing.insert("b".into(), "run-2".into());
        failing.remove("a");
        store.set_failing(suite, "s", &failing).unwrap();
        assert_eq!(store.failing(suite, "s").unwrap(), failing);
        assert!(store.failing(suite, "t").unwrap().is_empty());
    }
}

fn main() -> ExitCode {
    let tests: &[(&str, fn())] = &[
        (
            "migrations_from_empty_and_from_the_previous_schema",
            migrations_from_empty_and_from_the_previous_schema,
        ),
        (
            "a_newer_schema_is_refused_and_left_untouched",
            a_newer_schema_is_refused_and_left_untouched,
        ),
        (
            "runs_are_recorded_and_read_back",
            runs_are_recorded_and_read_back,
        ),
        (
            "shards_writing_one_run_at_once_lose_no_row",
            shards_writing_one_run_at_once_lose_no_row,
        ),
        (
            "the_executor_records_its_runs",
            the_executor_records_its_runs,
        ),
        (
            "schedule_slots_and_alert_states",
            schedule_slots_and_alert_states,
        ),
        (
            "an_unreachable_server_is_an_error_naming_it",
            an_unreachable_server_is_an_error_naming_it,
        ),
    ];
    let trials = tests
        .iter()
        .map(|&(name, test)| {
            libtest_mimic::Trial::test(name, move || {
                test();
                Ok(())
            })
        })
        .collect();
    let conclusion = libtest_mimic::run(&libtest_mimic::Arguments::from_args(), trials);
    pg::stop();
    conclusion.exit_code()
}
