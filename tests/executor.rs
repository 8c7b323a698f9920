//! The programmatic API drives the same engine: status callbacks, events, concurrency limit,
//! isolation and validation.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use workflow_harness::prelude::*;
use workflow_harness::report::Status;
use workflow_harness::{
    EngineConfig, EventKind, Executor, SuiteError, WorkflowSpec, execute_in_parallel,
};

fn sleeper(id: &str, ms: u64) -> WorkflowSpec {
    WorkflowSpec::new(id, format!("Sleeper {id}"), move |cx| {
        Box::pin(async move {
            cx.step("Sleep", async move |_| {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok(())
            })
            .await
        })
    })
    .planned_steps(1)
}

#[tokio::test(flavor = "multi_thread")]
async fn status_updates_follow_each_workflow_to_its_end() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let mut executor = Executor::new();
    executor
        .add(sleeper("a", 10))
        .add_workflow("b", "Broken", |cx| {
            Box::pin(async move {
                cx.step("Fail", async |_| -> StepResult { bail!("nope") })
                    .await
            })
        })
        .on_status_update(move |statuses| {
            log.lock().unwrap().push(statuses.to_vec());
        });
    let report = executor.execute_all().await.unwrap();
    assert_eq!((report.completed, report.failed), (1, 1));

    let seen = seen.lock().unwrap();
    let first = &seen[0];
    assert!(
        first
            .iter()
            .all(|s| s.status == Status::Pending && s.current_step == "Waiting to start...")
    );
    let phases_of = |id: &str| {
        let mut phases: Vec<Status> = seen
            .iter()
            .map(|all| all.iter().find(|s| s.workflow_id == id).unwrap().status)
            .collect();
        phases.dedup();
        phases
    };
    assert_eq!(
        phases_of("a"),
        [Status::Pending, Status::Running, Status::Completed]
    );
    assert_eq!(
        phases_of("b"),
        [Status::Pending, Status::Running, Status::Failed]
    );
    let last = seen.last().unwrap();
    let b = last.iter().find(|s| s.workflow_id == "b").unwrap();
    assert_eq!(b.error.as_deref(), Some("step \"Fail\" failed: nope"));
    let a = last.iter().find(|s| s.workflow_id == "a").unwrap();
    assert_eq!(a.progress, 100.0);
    // Intermediate progress was reported while steps ran.
    assert!(seen.iter().any(|all| {
        all.iter()
            .any(|s| s.workflow_id == "a" && s.current_step == "Sleep")
    }));
}

#[tokio::test(flavor = "multi_thread")]
async fn events_of_a_workflow_arrive_in_order() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let log = events.clone();
    let mut executor = Executor::new();
    executor
        .add_workflow("three", "Three steps", |cx| {
            Box::pin(async move {
                for name in ["one", "two", "three"] {
                    cx.step(name, async |_| Ok(())).await?;
                }
                Ok(())
            })
        })
        .on_event(move |e| log.lock().unwrap().push(e.clone()));
    executor.execute_all().await.unwrap();
    let kinds: Vec<String> = events
        .lock()
        .unwrap()
        .iter()
        .map(|e| match &e.kind {
            EventKind::RunStarted { .. } => "run".into(),
            EventKind::WorkflowStarted { .. } => "start".into(),
            EventKind::StepStarted { step, .. } => format!("+{step}"),
            EventKind::StepFinished { step, .. } => format!("-{}", step.name),
            EventKind::WorkflowFinished { .. } => "end".into(),
            EventKind::RunFinished { .. } => "done".into(),
            other => other.name().into(),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "run", "start", "+one", "-one", "+two", "-two", "+three", "-three", "end", "done"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrency_limit_is_respected() {
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let mut executor = Executor::new();
    executor.concurrency(3);
    for i in 0..12 {
        let (running, peak) = (running.clone(), peak.clone());
        executor.add_workflow(&format!("w{i}"), "counted", move |_cx| {
            let (running, peak) = (running.clone(), peak.clone());
            Box::pin(async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(())
            })
        });
    }
    let report = executor.execute_all().await.unwrap();
    assert_eq!(report.completed, 12);
    assert_eq!(
        peak.load(Ordering::SeqCst),
        3,
        "never more than 3 at once, and the limit is used"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicate_and_invalid_ids_run_nothing() {
    let ran = Arc::new(AtomicUsize::new(0));
    let counted = |id: &str| {
        let ran = ran.clone();
        WorkflowSpec::new(id, "counted", move |_cx| {
            ran.fetch_add(1, Ordering::SeqCst);
            Box::pin(async { Ok(()) })
        })
    };
    let mut executor = Executor::new();
    executor.add(counted("same")).add(counted("same"));
    let err = executor.execute_all().await.unwrap_err();
    assert!(
        matches!(err, SuiteError::DuplicateId { ref id, .. } if id == "same"),
        "{err}"
    );

    let mut executor = Executor::new();
    executor.add(counted("Bad_Id"));
    let err = executor.execute_all().await.unwrap_err();
    assert!(err.to_string().contains("\"Bad_Id\""), "{err}");
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn helper_runs_specs_and_exports_every_format() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let report = execute_in_parallel(
        vec![sleeper("x", 1), sleeper("y", 1)],
        EngineConfig {
            concurrency: 2,
            ..EngineConfig::default()
        },
        move |statuses| log.lock().unwrap().push(statuses.to_vec()),
    )
    .await
    .unwrap();
    // The seed's callback: every workflow's status, from pending to its verdict.
    let seen = seen.lock().unwrap();
    assert!(
        seen[0].iter().all(|s| s.status == Status::Pending),
        "{:?}",
        seen[0]
    );
    let last = seen.last().unwrap();
    let ids: Vec<&str> = last.iter().map(|s| s.workflow_id.as_str()).collect();
    assert_eq!(ids, ["x", "y"]);
    assert!(
        last.iter()
            .all(|s| s.status == Status::Completed && s.progress == 100.0)
    );
    assert!(
        seen.iter()
            .any(|all| all.iter().any(|s| s.status == Status::Running))
    );
    assert!(
        report
            .workflows
            .iter()
            .all(|w| w.status == Status::Completed)
    );
    assert!(report.to_json().contains("\"workflowId\": \"x\""));
    assert!(report.to_csv().starts_with("Workflow ID,"));
    assert!(report.to_junit().contains("<testcase name=\"y\""));
}

#[tokio::test(flavor = "multi_thread")]
async fn relative_paths_without_base_url_fail_clearly() {
    let mut executor = Executor::new();
    executor.add_workflow("no-base", "No base URL", |cx| {
        Box::pin(async move {
            cx.step("Get", async |cx| {
                cx.get("/api/products").await?;
                Ok(())
            })
            .await
        })
    });
    let report = executor.execute_all().await.unwrap();
    let error = report.workflows[0].error.clone().unwrap();
    assert!(
        error.contains("GET /api/products") && error.contains("no base URL"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn inputs_reach_their_workflows_and_a_bad_one_fails_naming_the_field() {
    #[derive(serde::Deserialize)]
    struct Order {
        items: Vec<Item>,
    }
    #[derive(serde::Deserialize)]
    struct Item {
        quantity: u32,
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let reader = |id: &str| {
        let log = seen.clone();
        WorkflowSpec::new(id, id, move |cx| {
            let log = log.clone();
            Box::pin(async move {
                let quantities = cx
                    .step("Decode", async |cx| {
                        let order = cx.input_as::<Order>()?;
                        Ok(order.map(|o| o.items.iter().map(|i| i.quantity).collect::<Vec<_>>()))
                    })
                    .await?;
                log.lock()
                    .unwrap()
                    .push((cx.workflow_id().to_owned(), quantities));
                Ok(())
            })
        })
    };
    let mut executor = Executor::new();
    executor
        .add(reader("own"))
        .add(reader("shared"))
        .add(reader("bad"))
        .input("own", json!({"items": [{"quantity": 5}]}))
        .input_for_all(json!({"items": [{"quantity": 2}, {"quantity": 3}]}))
        .input(
            "bad",
            json!({"items": [{"quantity": 1}, {"quantity": "two"}]}),
        );
    let report = executor.execute_all().await.unwrap();
    let mut got = seen.lock().unwrap().clone();
    got.sort();
    assert_eq!(
        got,
        [
            ("own".to_owned(), Some(vec![5])),
            ("shared".to_owned(), Some(vec![2, 3]))
        ]
    );
    let bad = report
        .workflows
        .iter()
        .find(|w| w.workflow_id == "bad")
        .unwrap();
    assert_eq!(bad.status, Status::Failed);
    let error = bad.error.as_deref().unwrap();
    assert!(
        error.contains(
            "the input of \"bad\" does not fit: items[1].quantity: invalid type: string \"two\""
        ),
        "{error}"
    );

    // Without an input, `input_as` is `None`, not an error.
    let mut executor = Executor::new();
    executor.add(reader("none"));
    assert_eq!(executor.execute_all().await.unwrap().completed, 1);
    assert_eq!(
        seen.lock().unwrap().last(),
        Some(&("none".to_owned(), None))
    );
}
