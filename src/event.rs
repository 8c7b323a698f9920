//! Events the engine emits while it runs: the one ordered stream that the libtest front end,
//! the live view, the programmatic API's status callbacks and the HTTP API all fold.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use tokio::sync::mpsc;

use crate::outcome::WorkflowOutcome;
use crate::step::StepRecord;
use crate::workflow::WorkflowSpec;

/// A workflow as the run plans it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedWorkflow {
    /// Its id.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Its priority.
    pub priority: i32,
    /// The workflows it waits for.
    pub depends_on: Vec<String>,
    /// It runs only because a selected workflow depends on it.
    pub as_dependency: bool,
    /// Its tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Its planned step count, when declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_steps: Option<usize>,
    /// Its concurrency group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

impl From<&WorkflowSpec> for PlannedWorkflow {
    fn from(w: &WorkflowSpec) -> Self {
        PlannedWorkflow {
            id: w.id.clone(),
            name: w.name.clone(),
            priority: w.priority,
            depends_on: w.depends_on.clone(),
            as_dependency: w.as_dependency,
            tags: w.tags.clone(),
            planned_steps: w.planned_steps,
            group: w.group.clone(),
        }
    }
}

/// Something that happened during a run, in its envelope: which run, where in the run's one
/// ordered stream, and when. Serialized flat: `{"runId", "seq", "at", "type", …}`.
///
/// The stream of a run has an end: nothing follows a workflow's `workflowFinished` for that
/// workflow, and nothing follows `runFinished`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// The run it belongs to (unique per run, also in every report file).
    pub run_id: Arc<str>,
    /// Position in the run's stream: 1, 2, 3, … with no gaps, in the order subscribers get them.
    pub seq: u64,
    /// When it was emitted, epoch milliseconds.
    #[serde(with = "crate::outcome::epoch_millis")]
    pub at: SystemTime,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened. Events of one workflow arrive in order.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
#[non_exhaustive]
pub enum EventKind {
    /// The run began; lists the workflows in the order they were given.
    #[serde(rename_all = "camelCase")]
    RunStarted {
        /// Every workflow of the run.
        workflows: Vec<PlannedWorkflow>,
    },
    /// A workflow got a concurrency slot and began.
    #[serde(rename_all = "camelCase")]
    WorkflowStarted {
        /// Its id.
        workflow_id: String,
        /// Its display name.
        workflow_name: String,
    },
    /// A step began.
    #[serde(rename_all = "camelCase")]
    StepStarted {
        /// The workflow's id.
        workflow_id: String,
        /// Zero-based position of the step in the workflow.
        index: usize,
        /// The step's name.
        step: String,
    },
    /// A step ended.
    #[serde(rename_all = "camelCase")]
    StepFinished {
        /// The workflow's id.
        workflow_id: String,
        /// Zero-based position of the step in the workflow.
        index: usize,
        /// What it did.
        step: StepRecord,
        /// Progress of the workflow after this step, 0–100.
        progress: f64,
    },
    /// An attempt failed and the workflow will run again after `delay`.
    #[serde(rename_all = "camelCase")]
    WorkflowRetrying {
        /// The workflow's id.
        workflow_id: String,
        /// The number of the coming attempt (2 for the first retry).
        attempt: u32,
        /// Why the previous attempt failed.
        error: String,
        /// The wait before it.
        #[serde(with = "crate::outcome::millis")]
        delay: Duration,
    },
    /// A workflow ended (completed, failed, blocked or cancelled): its verdict, error, steps
    /// and attempts.
    #[serde(rename_all = "camelCase")]
    WorkflowFinished {
        /// How it ended.
        outcome: Box<WorkflowOutcome>,
    },
    /// The run was interrupted (SIGINT, SIGTERM or a caller's stop): nothing new starts, the
    /// running workflows get `grace` to finish.
    #[serde(rename_all = "camelCase")]
    RunInterrupted {
        /// What stopped it, e.g. `SIGINT`.
        reason: String,
        /// How long running workflows may still take.
        #[serde(with = "crate::outcome::millis")]
        grace: Duration,
    },
    /// The run ended: every workflow has had its `workflowFinished`.
    #[serde(rename_all = "camelCase")]
    RunFinished {
        /// The run's wall time.
        #[serde(with = "crate::outcome::millis")]
        duration: Duration,
    },
}

impl EventKind {
    /// The workflow this event is about, if it is about one.
    pub fn workflow_id(&self) -> Option<&str> {
        match self {
            EventKind::WorkflowStarted { workflow_id, .. }
            | EventKind::StepStarted { workflow_id, .. }
            | EventKind::StepFinished { workflow_id, .. }
            | EventKind::WorkflowRetrying { workflow_id, .. } => Some(workflow_id),
            EventKind::WorkflowFinished { outcome } => Some(&outcome.workflow_id),
            EventKind::RunStarted { .. }
            | EventKind::RunInterrupted { .. }
            | EventKind::RunFinished { .. } => None,
        }
    }

    /// The `type` name it is serialized with (`runStarted`, `stepFinished`, …).
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::RunStarted { .. } => "runStarted",
            EventKind::WorkflowStarted { .. } => "workflowStarted",
            EventKind::StepStarted { .. } => "stepStarted",
            EventKind::StepFinished { .. } => "stepFinished",
            EventKind::WorkflowRetrying { .. } => "workflowRetrying",
            EventKind::WorkflowFinished { .. } => "workflowFinished",
            EventKind::RunInterrupted { .. } => "runInterrupted",
            EventKind::RunFinished { .. } => "runFinished",
        }
    }
}

/// Drops what arrives after the end: events of a workflow after its `workflowFinished`, and
/// everything after `runFinished`. The engine already emits nothing late; every consumer
/// keeps one of these as a second guard.
#[derive(Debug, Default, Clone)]
pub struct LateGuard {
    finished: HashSet<String>,
    over: bool,
}

impl LateGuard {
    /// Whether `event` belongs to the stream (and records the ends it marks).
    pub fn admit(&mut self, event: &EventKind) -> bool {
        if self.over {
            return false;
        }
        match event {
            EventKind::RunFinished { .. } => self.over = true,
            EventKind::WorkflowFinished { outcome } => {
                return self.finished.insert(outcome.workflow_id.clone());
            }
            other => {
                if let Some(id) = other.workflow_id() {
                    return !self.finished.contains(id);
                }
            }
        }
        true
    }
}

/// A new run id: sortable by time and unique across processes and machines in practice
/// (`20261203T082909.123Z-4f1c2a9e`: UTC start, then process id and a per-process counter
/// mixed with the clock's nanoseconds).
pub(crate) fn new_run_id(at: SystemTime) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let stamp = chrono::DateTime::<chrono::Utc>::from(at).format("%Y%m%dT%H%M%S%.3fZ");
    let nanos = at
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()));
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // A small mix (splitmix64) so ids of one process do not share a visible pattern.
    let mut x =
        (u64::from(std::process::id()) << 32) ^ nanos ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    format!("{stamp}-{:08x}", x as u32)
}

struct SinkState {
    seq: u64,
    guard: LateGuard,
}

struct SinkInner {
    run_id: Arc<str>,
    senders: Vec<mpsc::UnboundedSender<Event>>,
    state: Mutex<SinkState>,
}

/// Puts events of one run in their envelope and fans them out to every subscriber.
/// Unbounded, so a slow subscriber never makes the engine wait and never loses an event; a
/// subscriber that went away is skipped. Numbering and sending happen under one lock, so
/// every subscriber sees the same order and `seq` follows it; late events are dropped here.
#[derive(Clone)]
pub(crate) struct EventSink(Arc<SinkInner>);

impl std::fmt::Debug for EventSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSink")
            .field("run_id", &self.0.run_id)
            .finish_non_exhaustive()
    }
}

impl EventSink {
    pub fn new(run_id: Arc<str>, senders: Vec<mpsc::UnboundedSender<Event>>) -> Self {
        EventSink(Arc::new(SinkInner {
            run_id,
            senders,
            state: Mutex::new(SinkState {
                seq: 0,
                guard: LateGuard::default(),
            }),
        }))
    }

    /// Emits `kind`; returns whether it was emitted (`false`: it came after the end).
    pub fn emit(&self, kind: EventKind) -> bool {
        let mut state = self
            .0
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !state.guard.admit(&kind) {
            return false;
        }
        state.seq += 1;
        let event = Event {
            run_id: self.0.run_id.clone(),
            seq: state.seq,
            at: SystemTime::now(),
            kind,
        };
        if let Some((last, rest)) = self.0.senders.split_last() {
            for sender in rest {
                let _ = sender.send(event.clone());
            }
            let _ = last.send(event);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn started(id: &str) -> EventKind {
        EventKind::WorkflowStarted {
            workflow_id: id.into(),
            workflow_name: id.into(),
        }
    }

    fn finished(id: &str) -> EventKind {
        EventKind::WorkflowFinished {
            outcome: Box::new(WorkflowOutcome::not_run(
                id,
                crate::outcome::Status::Failed,
                crate::outcome::FailureKind::Timeout,
                "timed out".into(),
                None,
            )),
        }
    }

    #[test]
    fn the_guard_drops_what_follows_an_end() {
        let mut guard = LateGuard::default();
        assert!(guard.admit(&started("a")));
        assert!(guard.admit(&started("b")));
        assert!(guard.admit(&finished("a")));
        assert!(!guard.admit(&started("a")), "a is over");
        assert!(!guard.admit(&finished("a")), "a second end is late too");
        assert!(guard.admit(&started("b")), "b is not");
        let end = EventKind::RunFinished {
            duration: Duration::ZERO,
        };
        assert!(guard.admit(&end));
        assert!(!guard.admit(&started("b")));
        assert!(!guard.admit(&end));
    }

    #[test]
    fn the_sink_numbers_in_order_and_drops_late_events() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let sink = EventSink::new("r".into(), vec![tx]);
        assert!(sink.emit(started("a")));
        assert!(sink.emit(finished("a")));
        assert!(!sink.emit(started("a")));
        assert!(sink.emit(started("b")));
        let seqs: Vec<u64> = std::iter::from_fn(|| rx.try_recv().ok())
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, [1, 2, 3]);
    }

    #[test]
    fn run_ids_differ() {
        let at = SystemTime::now();
        let ids: HashSet<String> = (0..1000).map(|_| new_run_id(at)).collect();
        assert_eq!(ids.len(), 1000);
    }
}
