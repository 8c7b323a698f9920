//! The event stream of a run has an envelope and an end: every event carries the run id, a
//! gapless sequence number and a time; nothing follows a workflow's `workflowFinished` for that
//! workflow, nothing follows `runFinished`, even when a timed-out workflow's code goes on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedReceiver;
use workflow_harness::prelude::*;
use workflow_harness::report::{FailureKind, ReportFold, Status};
use workflow_harness::{Engine, EngineConfig, Event, EventKind, WorkflowSpec};

/// Waits (polling) until `flag` is set.
async fn until(flag: &AtomicBool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !flag.load(Ordering::SeqCst) {
        assert!(
            Instant::now() < deadline,
            "the workflow's code never resumed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Everything received so far.
fn drain(events: &mut UnboundedReceiver<Event>) -> Vec<Event> {
    let mut all = Vec::new();
    while let Ok(event) = events.try_recv() {
        all.push(event);
    }
    all
}

/// The envelope and the end, checked on a whole stream.
fn assert_well_formed(events: &[Event]) {
    let run_id = &events[0].run_id;
    assert!(!run_id.is_empty());
    for (i, event) in events.iter().enumerate() {
        assert_eq!(&event.run_id, run_id, "one run id");
        assert_eq!(event.seq, i as u64 + 1, "gapless, in order: {event:?}");
        if i > 0 {
            assert!(event.at >= events[i - 1].at, "time never goes back");
        }
    }
    assert!(matches!(events[0].kind, EventKind::RunStarted { .. }));
    assert!(
        matches!(events.last().unwrap().kind, EventKind::RunFinished { .. }),
        "runFinished is the last event: {:?}",
        events.last()
    );
    let mut finished = std::collections::HashSet::new();
    for event in events {
        if let Some(id) = event.kind.workflow_id() {
            assert!(
                !finished.contains(id),
                "{} after {id}'s workflowFinished",
                event.kind.name()
            );
        }
        if let EventKind::WorkflowFinished { outcome } = &event.kind {
            finished.insert(outcome.workflow_id.clone());
        }
    }
}

fn engine() -> Engine {
    Engine::new(EngineConfig {
        retry_delay: Duration::ZERO,
        ..EngineConfig::default()
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timed_out_workflow_that_goes_on_emits_nothing_more() {
    static RESUMED: AtomicBool = AtomicBool::new(false);
    let zombie = WorkflowSpec::new("zombie", "Goes on after its deadline", |cx| {
        Box::pin(async move {
            cx.step("Block", async |_| {
                tokio::task::yield_now().await;
                std::thread::sleep(Duration::from_millis(600));
                Ok(())
            })
            .await?;
            // Runs on after the deadline without yielding: must leave no trace.
            cx.step("After the deadline", async |_| Ok(())).await?;
            cx.optional_step("Optional after the deadline", async |_| Ok(()))
                .await;
            RESUMED.store(true, Ordering::SeqCst);
            Ok(())
        })
    })
    .timeout(Duration::from_millis(200));
    let quick = WorkflowSpec::new("quick", "Quick", |cx| {
        Box::pin(async move { cx.step("Only", async |_| Ok(())).await })
    });
    let mut engine = engine();
    let mut events = engine.subscribe();
    let report = engine.run(vec![zombie, quick]).await.unwrap();
    until(&RESUMED).await;
    // Whatever the late code could have sent is in the channel by now.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let events = drain(&mut events);
    assert_well_formed(&events);

    let entry = &report.workflows[0];
    assert_eq!(entry.status, Status::Failed);
    assert_eq!(entry.failure_kind, Some(FailureKind::Timeout));
    let names: Vec<&str> = entry.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Block"], "no invented or late step");
    assert_eq!(report.run_id, events[0].run_id.as_ref());

    // The report is a fold over the same events, and agrees with the engine's outcome.
    let mut fold = ReportFold::default();
    events.iter().for_each(|e| {
        fold.apply(e);
    });
    let folded = fold.into_report().expect("runFinished was folded in");
    assert_eq!(folded.run_id, report.run_id);
    assert_eq!(folded.total_workflows, 2);
    assert_eq!((folded.completed, folded.failed), (1, 1));
    assert_eq!(
        folded.workflows[0].workflow_name,
        "Goes on after its deadline"
    );
    assert_eq!(folded.workflows[0].result.steps, entry.steps);
    assert_eq!(folded.workflows[0].current_step, "Block");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_late_attempt_does_not_write_into_the_next_one() {
    static RESUMED: AtomicBool = AtomicBool::new(false);
    static ATTEMPTS: AtomicUsize = AtomicUsize::new(0);
    let spec = WorkflowSpec::new("retried", "Retried after a timeout", |cx| {
        Box::pin(async move {
            if ATTEMPTS.fetch_add(1, Ordering::SeqCst) == 0 {
                cx.step("Attempt 1 blocks", async |_| {
                    tokio::task::yield_now().await;
                    std::thread::sleep(Duration::from_millis(700));
                    Ok(())
                })
                .await?;
                // Attempt 2 runs by now.
                cx.step("Late step of attempt 1", async |_| Ok(())).await?;
                RESUMED.store(true, Ordering::SeqCst);
                return Ok(());
            }
            // Still running when attempt 1's code resumes (at 700 ms; this starts at ~500).
            cx.step("Attempt 2", async |_| {
                tokio::time::sleep(Duration::from_millis(400)).await;
                Ok(())
            })
            .await
        })
    })
    .timeout(Duration::from_millis(500))
    .retries(1);
    let mut engine = engine();
    let mut events = engine.subscribe();
    let report = engine.run(vec![spec]).await.unwrap();
    until(&RESUMED).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let events = drain(&mut events);
    assert_well_formed(&events);
    for event in &events {
        if let EventKind::StepStarted { step, .. } = &event.kind {
            assert_ne!(step, "Late step of attempt 1");
        }
    }
    let entry = &report.workflows[0];
    assert_eq!(entry.status, Status::Completed, "{entry:?}");
    assert!(entry.flaky);
    let names: Vec<&str> = entry.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Attempt 2"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_run_ends_its_stream_and_says_so() {
    let slow = WorkflowSpec::new("slow", "Slow", |cx| {
        Box::pin(async move {
            cx.step("Wait", async |_| {
                tokio::time::sleep(Duration::from_secs(30)).await;
                Ok(())
            })
            .await
        })
    });
    let after = WorkflowSpec::new("after", "After", |cx| {
        Box::pin(async move { cx.step("Never", async |_| Ok(())).await })
    })
    .depends_on(["slow"]);
    let mut engine = Engine::new(EngineConfig {
        interrupt_grace: Duration::from_millis(100),
        ..EngineConfig::default()
    })
    .unwrap();
    let mut events = engine.subscribe();
    let stop = Arc::new(tokio::sync::Notify::new());
    let signal = stop.clone();
    let interrupt = async move {
        signal.notified().await;
        "test stop".to_owned()
    };
    let run = engine.run_until(vec![slow, after], interrupt);
    let trigger = async {
        // Interrupt once the slow workflow is inside its step.
        tokio::time::sleep(Duration::from_millis(100)).await;
        stop.notify_one();
    };
    let (report, ()) = tokio::join!(run, trigger);
    let report = report.unwrap();
    assert!(report.interrupted);
    let cancelled = report
        .workflows
        .iter()
        .filter(|w| w.status == Status::Cancelled)
        .count();
    assert_eq!(cancelled, 2, "{report:?}");
    for w in &report.workflows {
        assert_eq!(w.status, Status::Cancelled);
        assert_eq!(w.failure_kind, Some(FailureKind::Interrupted));
        assert!(w.error.as_deref().unwrap().contains("test stop"));
    }
    let events = drain(&mut events);
    assert_well_formed(&events);
    assert!(
        events
            .iter()
            .any(|e| matches!(e.kind, EventKind::RunInterrupted { .. }))
    );
}

#[test]
fn events_serialize_flat_with_their_envelope() {
    let event = Event {
        run_id: "run-x".into(),
        seq: 7,
        at: std::time::UNIX_EPOCH + Duration::from_millis(1500),
        kind: EventKind::RunInterrupted {
            reason: "SIGINT".into(),
            grace: Duration::from_secs(3),
        },
    };
    let value = serde_json::to_value(&event).unwrap();
    assert_eq!(
        value,
        json!({"runId": "run-x", "seq": 7, "at": 1500, "type": "runInterrupted",
               "reason": "SIGINT", "grace": 3000})
    );
}
