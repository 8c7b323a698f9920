//! Scheduling through the one engine: priority, dependencies (outputs, blocking, cycles),
//! groups, retries and flaky detection, step and run timeouts, max-fail. Orders are checked
//! with recorded sequences and channels, never with wall-clock thresholds.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use workflow_harness::prelude::*;
use workflow_harness::report::StepStatus;
use workflow_harness::report::{FailureKind, Status};
use workflow_harness::{EngineConfig, Executor, RunReport, SuiteError, WorkflowSpec};

type Log = Arc<Mutex<Vec<String>>>;

fn log() -> Log {
    Arc::new(Mutex::new(Vec::new()))
}

fn entries(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

/// A workflow that records `<id>:start` and `<id>:end` and passes.
fn recorded(id: &str, log: &Log) -> WorkflowSpec {
    let (id_owned, log) = (id.to_owned(), log.clone());
    WorkflowSpec::new(id, id, move |_cx| {
        let (id, log) = (id_owned.clone(), log.clone());
        Box::pin(async move {
            log.lock().unwrap().push(format!("{id}:start"));
            tokio::task::yield_now().await;
            log.lock().unwrap().push(format!("{id}:end"));
            Ok(())
        })
    })
}

fn failing(id: &str) -> WorkflowSpec {
    WorkflowSpec::new(id, id, |cx| {
        Box::pin(async move {
            cx.step("Break", async |_| -> StepResult {
                bail!("broken on purpose")
            })
            .await
        })
    })
}

fn config(concurrency: usize) -> EngineConfig {
    EngineConfig {
        concurrency,
        retry_delay: Duration::ZERO,
        ..EngineConfig::default()
    }
}

async fn run(config: EngineConfig, specs: Vec<WorkflowSpec>) -> RunReport {
    let mut executor = Executor::new();
    executor.config(config);
    for s in specs {
        executor.add(s);
    }
    tokio::time::timeout(Duration::from_secs(20), executor.execute_all())
        .await
        .expect("the run must not hang")
        .expect("valid suite")
}

fn by_id<'a>(report: &'a RunReport, id: &str) -> &'a workflow_harness::WorkflowReport {
    report
        .workflows
        .iter()
        .find(|w| w.workflow_id == id)
        .unwrap()
}

fn starts(log: &Log) -> Vec<String> {
    entries(log)
        .into_iter()
        .filter_map(|e| e.strip_suffix(":start").map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn priority_under_a_limit_of_one_is_exact() {
    let log = log();
    let specs = vec![
        recorded("a", &log).priority(1),
        recorded("b", &log).priority(5),
        recorded("c", &log).priority(3),
        recorded("d", &log).priority(5),
        recorded("e", &log),
    ];
    let report = run(config(1), specs).await;
    assert_eq!(
        starts(&log),
        ["b", "d", "c", "a", "e"],
        "higher first, ties in given order"
    );
    assert_eq!(by_id(&report, "b").priority, 5);
    assert!(report.to_json().contains("\"priority\": 5"));
    let ids: Vec<&str> = report
        .workflows
        .iter()
        .map(|w| w.workflow_id.as_str())
        .collect();
    assert_eq!(
        ids,
        ["a", "b", "c", "d", "e"],
        "the report keeps the given order"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dependent_starts_after_its_dependency_and_reads_its_output() {
    let log = log();
    let producer_log = log.clone();
    let producer = WorkflowSpec::new("producer", "Producer", move |cx| {
        let log = producer_log.clone();
        Box::pin(async move {
            log.lock().unwrap().push("producer:start".into());
            cx.step("Create", async |cx| {
                cx.set_output(json!({ "productId": "p-42" }))
            })
            .await?;
            log.lock().unwrap().push("producer:end".into());
            Ok(())
        })
    });
    let consumer_log = log.clone();
    let consumer = WorkflowSpec::new("consumer", "Consumer", move |cx| {
        let log = consumer_log.clone();
        Box::pin(async move {
            log.lock().unwrap().push("consumer:start".into());
            let product: Value = cx.output_of("producer")?;
            ensure!(product["productId"] == "p-42", "got {product}");
            Ok(())
        })
    })
    .depends_on(["producer"])
    .priority(100);
    let report = run(config(8), vec![consumer, producer]).await;
    assert_eq!(report.completed, 2, "{}", report.to_json());
    let events = entries(&log);
    let end = events.iter().position(|e| e == "producer:end").unwrap();
    let start = events.iter().position(|e| e == "consumer:start").unwrap();
    assert!(end < start, "{events:?}");
    assert_eq!(by_id(&report, "consumer").depends_on, ["producer"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_waiting_dependent_holds_no_slot_and_others_keep_running() {
    // One slot. `b` has the highest priority but waits for `a`; `c` must run meanwhile.
    let log = log();
    let specs = vec![
        recorded("a", &log),
        recorded("b", &log).depends_on(["a"]).priority(10),
        recorded("c", &log).priority(5),
    ];
    run(config(1), specs).await;
    assert_eq!(starts(&log), ["c", "a", "b"]);

    // Two slots: `slow` cannot finish until the unrelated `free` ran, while `after` waits.
    let gate = Arc::new(Notify::new());
    let (wait, open) = (gate.clone(), gate.clone());
    let slow = WorkflowSpec::new("slow", "Slow", move |_| {
        let wait = wait.clone();
        Box::pin(async move {
            wait.notified().await;
            Ok(())
        })
    });
    let free = WorkflowSpec::new("free", "Free", move |_| {
        let open = open.clone();
        Box::pin(async move {
            open.notify_one();
            Ok(())
        })
    });
    let after = recorded("after", &log).depends_on(["slow"]);
    let report = run(config(2), vec![slow, after, free]).await;
    assert_eq!(report.completed, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_dependency_blocks_its_dependents_transitively() {
    let log = log();
    let specs = vec![
        failing("a"),
        recorded("b", &log).depends_on(["a"]),
        recorded("c", &log).depends_on(["b"]),
        recorded("d", &log),
    ];
    let statuses = Arc::new(Mutex::new(Vec::new()));
    let seen = statuses.clone();
    let mut executor = Executor::new();
    executor.config(config(4));
    for s in specs {
        executor.add(s);
    }
    executor.on_status_update(move |s| seen.lock().unwrap().push(s.to_vec()));
    let report = executor.execute_all().await.unwrap();

    assert_eq!(starts(&log), ["d"], "blocked workflows never start");
    let b = by_id(&report, "b");
    assert_eq!(
        (b.status, b.failure_kind),
        (Status::Blocked, Some(FailureKind::Blocked))
    );
    assert_eq!(b.blocked_by.as_deref(), Some("a"));
    assert!(
        b.error
            .as_deref()
            .unwrap()
            .starts_with("blocked by a: step \"Break\" failed"),
        "{:?}",
        b.error
    );
    let c = by_id(&report, "c");
    assert_eq!(c.status, Status::Blocked);
    assert!(
        c.error
            .as_deref()
            .unwrap()
            .starts_with("blocked by b, itself blocked by a"),
        "{:?}",
        c.error
    );
    assert_eq!((report.failed, report.blocked, report.completed), (3, 2, 1));

    // The reason is in every report.
    let junit = report.to_junit();
    assert_eq!(junit.matches("type=\"blocked\"").count(), 2, "{junit}");
    assert!(junit.contains("blocked by a"));
    let csv = report.to_csv();
    assert!(
        csv.contains("\nb,b,blocked,") && csv.contains("\nc,c,blocked,"),
        "{csv}"
    );
    let json = report.to_json();
    assert!(json.contains("\"blockedBy\": \"a\""));
    let last = statuses.lock().unwrap().last().cloned().unwrap();
    assert!(last.iter().filter(|s| s.status == Status::Blocked).count() == 2);
    // The first statuses show the dependents waiting.
    let first = statuses.lock().unwrap()[0].clone();
    assert_eq!(
        first.iter().find(|s| s.workflow_id == "b").unwrap().status,
        Status::Waiting
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cycles_and_unknown_dependencies_are_rejected_before_anything_runs() {
    let log = log();
    let mut executor = Executor::new();
    executor
        .add(recorded("a", &log).depends_on(["b"]))
        .add(recorded("b", &log).depends_on(["c"]))
        .add(recorded("c", &log).depends_on(["a"]));
    let err = executor.execute_all().await.unwrap_err();
    assert_eq!(err.to_string(), "dependency cycle: a → b → c → a");

    let mut executor = Executor::new();
    executor.add(recorded("a", &log).depends_on(["zzz"]));
    let err = executor.execute_all().await.unwrap_err();
    assert!(
        matches!(&err, SuiteError::UnknownDependency { id, dependency, .. } if id == "a" && dependency == "zzz"),
        "{err}"
    );
    assert!(entries(&log).is_empty(), "nothing ran");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_limit_of_one_never_runs_two_members_at_once() {
    let in_group = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let mut specs = Vec::new();
    for i in 0..6 {
        let (in_group, peak) = (in_group.clone(), peak.clone());
        specs.push(
            WorkflowSpec::new(format!("g{i}"), "member", move |_| {
                let (in_group, peak) = (in_group.clone(), peak.clone());
                Box::pin(async move {
                    let now = in_group.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    in_group.fetch_sub(1, Ordering::SeqCst);
                    Ok(())
                })
            })
            .group("checkout"),
        );
    }
    let mut config = config(10);
    config.groups = BTreeMap::from([("checkout".to_owned(), 1)]);
    let report = run(config, specs).await;
    assert_eq!(report.completed, 6);
    assert_eq!(peak.load(Ordering::SeqCst), 1);
    assert_eq!(by_id(&report, "g0").group.as_deref(), Some("checkout"));

    let mut executor = Executor::new();
    executor.add(recorded("x", &log()).group("nowhere"));
    let err = executor.execute_all().await.unwrap_err();
    assert!(err.to_string().contains("group \"nowhere\""), "{err}");
}

/// Fails its first `failures` attempts, then passes.
fn fails_first(id: &str, failures: usize) -> WorkflowSpec {
    let attempts = Arc::new(AtomicUsize::new(0));
    WorkflowSpec::new(id, id, move |cx| {
        let attempt = attempts.fetch_add(1, Ordering::SeqCst) + 1;
        Box::pin(async move {
            cx.step("Maybe", async move |_| {
                ensure!(attempt > failures, "attempt {attempt} fails");
                Ok(())
            })
            .await
        })
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn failing_once_then_passing_is_flaky() {
    let report = run(
        config(2),
        vec![
            fails_first("flaky", 1).retries(1),
            fails_first("solid", 5).retries(2),
        ],
    )
    .await;
    let flaky = by_id(&report, "flaky");
    assert_eq!(flaky.status, Status::Completed);
    assert!(flaky.flaky);
    let attempts: Vec<(u32, bool)> = flaky
        .attempts
        .iter()
        .map(|a| (a.attempt, a.passed))
        .collect();
    assert_eq!(attempts, [(1, false), (2, true)]);
    assert!(
        flaky.attempts[0]
            .error
            .as_deref()
            .unwrap()
            .contains("attempt 1 fails")
    );
    let solid = by_id(&report, "solid");
    assert_eq!((solid.status, solid.attempts.len()), (Status::Failed, 3));
    assert_eq!((report.flaky, report.completed, report.failed), (1, 1, 1));

    let junit = report.to_junit();
    assert_eq!(junit.matches("<flakyFailure").count(), 1, "{junit}");
    assert_eq!(junit.matches("<rerunFailure").count(), 2, "{junit}");
    assert_eq!(junit.matches("<failure").count(), 1, "{junit}");
    validate_junit(&junit);
    let json: Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["workflows"][0]["flaky"], true);
    assert_eq!(json["workflows"][0]["attempts"][0]["passed"], false);

    let mut strict = config(2);
    strict.flaky_fails = true;
    let report = run(strict, vec![fails_first("flaky", 1).retries(1)]).await;
    let flaky = by_id(&report, "flaky");
    assert_eq!(flaky.status, Status::Failed);
    assert!(
        flaky.flaky
            && flaky
                .error
                .as_deref()
                .unwrap()
                .starts_with("flaky (counted as failed)")
    );
    validate_junit(&report.to_junit());
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_delays_grow_with_backoff() {
    let delays = Arc::new(Mutex::new(Vec::new()));
    let seen = delays.clone();
    let mut executor = Executor::new();
    executor
        .config(EngineConfig {
            retry_delay: Duration::from_millis(1),
            retry_backoff: 3.0,
            retries: 3,
            ..EngineConfig::default()
        })
        .add(fails_first("x", 3))
        .on_event(move |e| {
            if let workflow_harness::EventKind::WorkflowRetrying { attempt, delay, .. } = &e.kind {
                seen.lock().unwrap().push((*attempt, *delay));
            }
        });
    let report = executor.execute_all().await.unwrap();
    assert!(by_id(&report, "x").flaky);
    let ms = Duration::from_millis;
    assert_eq!(
        *delays.lock().unwrap(),
        [(2, ms(1)), (3, ms(3)), (4, ms(9))]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn step_timeouts_default_and_per_step() {
    let slow_step = |id: &str| {
        WorkflowSpec::new(id, id, |cx| {
            Box::pin(async move {
                cx.step("Quick", async |_| Ok(())).await?;
                let skipped = cx
                    .optional_step_with_timeout(
                        "Slow optional",
                        Duration::from_millis(20),
                        async |_| {
                            tokio::time::sleep(Duration::from_secs(60)).await;
                            Ok(())
                        },
                    )
                    .await;
                ensure!(skipped.is_none());
                cx.step("Slow", async |_| {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    Ok(())
                })
                .await
            })
        })
    };
    let report = run(
        config(2),
        vec![slow_step("wf").step_timeout(Duration::from_millis(50))],
    )
    .await;
    let wf = by_id(&report, "wf");
    let steps: Vec<(&str, StepStatus)> = wf
        .result
        .steps
        .iter()
        .map(|s| (s.name.as_str(), s.status))
        .collect();
    assert_eq!(
        steps,
        [
            ("Quick", StepStatus::Passed),
            ("Slow optional", StepStatus::Skipped),
            ("Slow", StepStatus::Failed)
        ]
    );
    assert_eq!(
        wf.result.steps[1].error.as_deref(),
        Some("timed out after 20ms")
    );
    assert_eq!(
        wf.error.as_deref(),
        Some("step \"Slow\" failed: timed out after 50ms")
    );
    assert_eq!(wf.failure_kind, Some(FailureKind::Error));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_run_timeout_ends_everything_unfinished_and_the_report_is_complete() {
    let hang = |id: &str| {
        WorkflowSpec::new(id, id, |cx| {
            Box::pin(async move {
                cx.step("Hang", async |_| {
                    std::future::pending::<()>().await;
                    Ok(())
                })
                .await
            })
        })
    };
    let log = log();
    let mut config = config(1);
    config.run_timeout = Some(Duration::from_millis(200));
    config.default_timeout = None;
    let report = run(
        config,
        vec![
            hang("a-hang"),
            recorded("b-queued", &log),
            recorded("c-dependent", &log).depends_on(["a-hang"]),
        ],
    )
    .await;
    assert_eq!(report.total_workflows, 3);
    let a = by_id(&report, "a-hang");
    assert_eq!(a.failure_kind, Some(FailureKind::Timeout));
    assert_eq!(
        a.result.steps[0].error.as_deref(),
        Some("timed out: the run's deadline passed")
    );
    for id in ["b-queued", "c-dependent"] {
        let w = by_id(&report, id);
        assert_eq!(
            (w.status, w.failure_kind),
            (Status::Failed, Some(FailureKind::Timeout)),
            "{id}"
        );
    }
    validate_junit(&report.to_junit());
}

#[tokio::test(flavor = "multi_thread")]
async fn max_fail_cancels_what_has_not_started_and_reports_stay_consistent() {
    let log = log();
    let mut specs = vec![failing("first").priority(1)];
    specs.extend((0..10).map(|i| recorded(&format!("waiting-{i}"), &log)));
    let mut config = config(1);
    config.max_fail = Some(1);
    let report = run(config, specs).await;
    assert!(
        starts(&log).is_empty(),
        "nothing starts after the failure: {:?}",
        starts(&log)
    );
    assert_eq!(
        (
            report.total_workflows,
            report.failed,
            report.cancelled,
            report.completed
        ),
        (11, 1, 10, 0)
    );
    let cancelled = by_id(&report, "waiting-3");
    assert_eq!(cancelled.status, Status::Cancelled);
    assert!(cancelled.error.as_deref().unwrap().contains("max_fail"));

    let junit = quick_junit::Report::deserialize_from_str(&report.to_junit()).unwrap();
    let suite = &junit.test_suites[0];
    assert_eq!((suite.tests, suite.failures, suite.skipped), (11, 1, 10));
    validate_junit(&report.to_junit());
    let csv = report.to_csv();
    assert_eq!(csv.matches(",cancelled,").count(), 10);
    assert!(csv.contains("Total Workflows,11") && csv.contains("Failed,1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn control_characters_in_errors_keep_the_junit_valid() {
    let spec = WorkflowSpec::new("colors", "Colors", |cx| {
        Box::pin(async move {
            cx.step("Print", async |_| -> StepResult {
                bail!("\u{1b}[31mred\u{1b}[0m, \u{0}, \u{7}")
            })
            .await
        })
    });
    let report = run(config(1), vec![spec]).await;
    validate_junit(&report.to_junit());
}

/// `xmllint --schema tests/schemas/junit-10.xsd` accepts the XML.
fn validate_junit(xml: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junit.xml");
    std::fs::write(&path, xml).unwrap();
    let schema =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/junit-10.xsd");
    let out = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema)
        .arg(&path)
        .output()
        .expect("xmllint runs (install libxml2-utils)");
    assert!(
        out.status.success(),
        "{}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
}
