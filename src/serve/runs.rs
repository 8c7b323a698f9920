//! The run registry: every run started through the API, with its full event log, its live
//! statuses and, once over, its report.
//!
//! Each event is numbered and kept, and fanned out to subscribers under the same lock that
//! appends it. A subscriber therefore gets a consistent starting point (a snapshot, or a
//! replay from an event id) and then every later event exactly once, in order, at its own
//! pace (one unbounded channel each): nothing is ever dropped for a slow client.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::SystemTime;

use serde::Serialize;
use serde_json::json;
use tokio::sync::{mpsc, watch};

use crate::event::{Event, EventKind, LateGuard, PlannedWorkflow};
use crate::report::{ReportFold, RunReport, WorkflowReport};
use crate::status::{LiveStatus, StatusBoard};

/// One server-sent event, serialized once (when a client first needs it, so a run nobody
/// follows costs no JSON) and shared by every subscriber.
#[derive(Debug)]
pub struct Frame {
    /// Position in the run's log, from 1 (a snapshot carries the last position it covers).
    pub seq: u64,
    /// The SSE event name: the engine event's `type`, or `snapshot`.
    pub kind: &'static str,
    source: Source,
    data: OnceLock<String>,
}

/// What a frame's JSON is made of.
#[derive(Debug)]
enum Source {
    Json(String),
    /// An engine event, with what the report fold adds: the workflow's report entry to
    /// `workflowFinished`, the report to `runFinished`.
    Event(Box<Event>, Option<Extra>),
}

#[derive(Debug)]
enum Extra {
    Workflow(Box<WorkflowReport>),
    Report(Arc<RunReport>),
}

impl Frame {
    fn json(seq: u64, kind: &'static str, data: String) -> Self {
        Frame {
            seq,
            kind,
            source: Source::Json(data),
            data: OnceLock::new(),
        }
    }

    /// The event as JSON (one line).
    pub fn data(&self) -> &str {
        self.data.get_or_init(|| match &self.source {
            Source::Json(text) => text.clone(),
            Source::Event(event, extra) => to_json(event, extra.as_ref()),
        })
    }
}

/// Whether a run is still going.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    /// Waiting for workflow slots (`[api] max_running`); nothing of it runs yet.
    Queued,
    /// The engine is running it.
    Running,
    /// Over: it has a report, or an error.
    Finished,
}

/// How a run ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The engine ran it to the end.
    Report(Arc<RunReport>),
    /// The engine refused the workflows or its task died; no report exists.
    Failed(String),
}

/// What a new subscriber gets: frames to send first, then (while the run goes on) the rest.
pub struct Subscription {
    /// Sent first, in order.
    pub initial: Vec<Arc<Frame>>,
    /// Every later frame; `None` when the run is already over.
    pub live: Option<mpsc::UnboundedReceiver<Arc<Frame>>>,
}

/// One run started through the API.
pub struct Run {
    /// Its id (`run-N`).
    pub id: String,
    /// The ids the request named, in its order.
    pub requested: Vec<String>,
    /// What runs (the named workflows plus dependencies).
    pub workflows: Vec<PlannedWorkflow>,
    /// When the request came in.
    pub created: SystemTime,
    /// The schedule that started it, if a schedule did.
    pub schedule: Option<String>,
    inner: Mutex<Inner>,
    /// Waiting for slots (set at creation, cleared once it starts).
    queued: AtomicBool,
    finished: watch::Sender<bool>,
}

struct Inner {
    log: Vec<Arc<Frame>>,
    board: StatusBoard,
    guard: LateGuard,
    /// The report, folded from the same events.
    fold: ReportFold,
    subscribers: Vec<mpsc::UnboundedSender<Arc<Frame>>>,
    outcome: Option<Outcome>,
}

impl Run {
    fn new(
        id: String,
        requested: Vec<String>,
        workflows: Vec<PlannedWorkflow>,
        queued: bool,
        schedule: Option<String>,
    ) -> Self {
        let created = SystemTime::now();
        // The board shows every workflow as pending from the start, before the engine's own
        // `runStarted` arrives (which folds in to the same statuses).
        let board = StatusBoard::planned(&workflows);
        Run {
            id,
            requested,
            workflows,
            created,
            schedule,
            inner: Mutex::new(Inner {
                log: Vec::new(),
                board,
                guard: LateGuard::default(),
                fold: ReportFold::default(),
                subscribers: Vec::new(),
                outcome: None,
            }),
            queued: AtomicBool::new(queued),
            finished: watch::channel(false).0,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the log half-written (each field is
        // updated by one push or assignment), so a poisoned lock is still usable.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The run got its slots and starts: no longer queued.
    pub fn start(&self) {
        self.queued.store(false, Ordering::SeqCst);
    }

    /// Appends an engine event, updates the statuses and sends it to every subscriber. After
    /// `runFinished` the run is over: the report is kept and the subscribers' streams end.
    pub fn record(&self, event: Event) {
        let mut inner = self.lock();
        // Nothing after the end: a late event would show a finished workflow running again.
        if !inner.guard.admit(&event.kind) {
            return;
        }
        inner.board.apply(&event);
        // The stream's clients get the report entry with `workflowFinished` and the whole
        // report with `runFinished`, folded here from the same events.
        let entry = inner.fold.apply(&event).cloned();
        let report = inner.fold.report().map(|r| Arc::new(r.clone()));
        let extra = match (&event.kind, entry) {
            (EventKind::WorkflowFinished { .. }, Some(entry)) => {
                Some(Extra::Workflow(Box::new(entry)))
            }
            (EventKind::RunFinished { .. }, _) => report.clone().map(Extra::Report),
            _ => None,
        };
        let kind = event_type(&event);
        let frame = Arc::new(Frame {
            seq: inner.log.len() as u64 + 1,
            kind,
            source: Source::Event(Box::new(event), extra),
            data: OnceLock::new(),
        });
        inner.log.push(frame.clone());
        // A subscriber whose client went away is dropped here.
        inner
            .subscribers
            .retain(|subscriber| subscriber.send(frame.clone()).is_ok());
        if let Some(report) = report {
            inner.outcome = Some(Outcome::Report(report));
            self.close(inner);
        }
    }

    /// Marks the run over once its engine task ended. `Err` (no `runFinished` was seen)
    /// records why there is no report.
    pub fn finish(&self, result: Result<(), String>) {
        let mut inner = self.lock();
        if inner.outcome.is_some() {
            return;
        }
        let reason = result
            .err()
            .unwrap_or_else(|| "the engine stopped without a report".into());
        inner.outcome = Some(Outcome::Failed(reason));
        self.close(inner);
    }

    fn close(&self, mut inner: MutexGuard<'_, Inner>) {
        // Dropping the senders ends every live stream after the frames already queued.
        inner.subscribers.clear();
        drop(inner);
        self.finished.send_replace(true);
    }

    /// Starts following the run.
    ///
    /// With `after = Some(n)` (an SSE `Last-Event-ID`) every logged event after `n` is
    /// replayed. Without it, the first frame is a `snapshot` of the statuses now, followed by
    /// the final `runFinished` if the run is over. Either way the live events follow, with no
    /// gap and no repeat.
    pub fn subscribe(&self, after: Option<u64>) -> Subscription {
        let mut inner = self.lock();
        let over = inner.outcome.is_some();
        let mut initial = Vec::new();
        match after {
            Some(after) => {
                let from = usize::try_from(after)
                    .unwrap_or(usize::MAX)
                    .min(inner.log.len());
                initial.extend(inner.log[from..].iter().cloned());
            }
            None => {
                let last = inner
                    .log
                    .last()
                    .filter(|f| f.kind == "runFinished")
                    .cloned();
                let covered = inner.log.len() as u64 - u64::from(last.is_some());
                let snapshot = json!({
                    "type": "snapshot",
                    "runId": self.id,
                    "state": self.state_of(&inner),
                    "statuses": inner.board.statuses(),
                    "lastEventId": covered,
                });
                initial.push(Arc::new(Frame::json(
                    covered,
                    "snapshot",
                    snapshot.to_string(),
                )));
                initial.extend(last);
            }
        }
        let live = (!over).then(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            inner.subscribers.push(tx);
            rx
        });
        Subscription { initial, live }
    }

    /// Whether it waits, runs or is over.
    pub fn state(&self) -> RunState {
        self.state_of(&self.lock())
    }

    fn state_of(&self, inner: &Inner) -> RunState {
        match inner.outcome {
            Some(_) => RunState::Finished,
            None if self.queued.load(Ordering::SeqCst) => RunState::Queued,
            None => RunState::Running,
        }
    }

    /// How it ended, once over.
    pub fn outcome(&self) -> Option<Outcome> {
        self.lock().outcome.clone()
    }

    /// The statuses now and the number of events logged so far.
    pub fn progress(&self) -> (Vec<LiveStatus>, u64) {
        let inner = self.lock();
        (inner.board.statuses().to_vec(), inner.log.len() as u64)
    }

    /// The number of events logged so far.
    pub fn event_count(&self) -> u64 {
        self.lock().log.len() as u64
    }

    /// Waits until the run is over.
    pub async fn finished(&self) {
        let mut done = self.finished.subscribe();
        // The sender lives in `self`, so this only returns once `true` was sent.
        let _ = done.wait_for(|over| *over).await;
    }
}

/// The `type` of an event, as its JSON has it: the SSE event name.
pub fn event_type(event: &Event) -> &'static str {
    event.kind.name()
}

fn to_json(event: &Event, extra: Option<&Extra>) -> String {
    // Events hold strings, numbers and report structs: serializing cannot fail, but a failure
    // must still never take the server down.
    let extra = extra.and_then(|extra| match extra {
        Extra::Workflow(entry) => Some(("workflow", serde_json::to_value(entry).ok()?)),
        Extra::Report(report) => Some(("report", serde_json::to_value(&**report).ok()?)),
    });
    match serde_json::to_value(event) {
        Ok(mut value) => {
            if let (Some((key, extra)), Some(object)) = (extra, value.as_object_mut()) {
                object.insert(key.to_owned(), extra);
            }
            value.to_string()
        }
        Err(error) => json!({
            "type": event_type(event),
            "error": format!("unserializable event: {error}"),
        })
        .to_string(),
    }
}

/// Every run the server knows: the running ones and the last `retain` finished ones.
pub struct Registry {
    retain: usize,
    inner: Mutex<Runs>,
}

struct Runs {
    next: u64,
    /// Oldest first.
    runs: VecDeque<Arc<Run>>,
}

impl Registry {
    /// An empty registry keeping at most `retain` finished runs.
    #[cfg(test)]
    pub fn new(retain: usize) -> Self {
        Registry::starting_at(retain, 1)
    }

    /// An empty registry whose first run is `run-{first}`: one past the highest number the
    /// run history holds, so ids stay unique across restarts.
    pub fn starting_at(retain: usize, first: u64) -> Self {
        Registry {
            retain,
            inner: Mutex::new(Runs {
                next: first.max(1),
                runs: VecDeque::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Runs> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a new run (`queued`: waiting for slots) and returns it.
    pub fn create(
        &self,
        requested: Vec<String>,
        workflows: Vec<PlannedWorkflow>,
        queued: bool,
        schedule: Option<String>,
    ) -> Arc<Run> {
        let mut runs = self.lock();
        let id = format!("run-{}", runs.next);
        runs.next += 1;
        let run = Arc::new(Run::new(id, requested, workflows, queued, schedule));
        runs.runs.push_back(run.clone());
        run
    }

    /// The run with this id, if still retained.
    pub fn get(&self, id: &str) -> Option<Arc<Run>> {
        self.lock().runs.iter().find(|r| r.id == id).cloned()
    }

    /// Every retained run, newest first.
    pub fn list(&self) -> Vec<Arc<Run>> {
        self.lock().runs.iter().rev().cloned().collect()
    }

    /// Forgets the oldest finished runs beyond the retention limit; returns them.
    pub fn prune(&self) -> Vec<Arc<Run>> {
        let mut runs = self.lock();
        let finished = runs
            .runs
            .iter()
            .filter(|r| r.state() == RunState::Finished)
            .count();
        let mut excess = finished.saturating_sub(self.retain);
        let mut evicted = Vec::new();
        runs.runs.retain(|run| {
            if excess > 0 && run.state() == RunState::Finished {
                excess -= 1;
                evicted.push(run.clone());
                false
            } else {
                true
            }
        });
        evicted
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn planned(id: &str) -> PlannedWorkflow {
        PlannedWorkflow {
            id: id.into(),
            name: id.into(),
            ..PlannedWorkflow::default()
        }
    }

    fn event(kind: EventKind) -> Event {
        Event {
            run_id: "test-run".into(),
            seq: 0,
            at: SystemTime::now(),
            kind,
        }
    }

    fn started(id: &str) -> Event {
        event(EventKind::WorkflowStarted {
            workflow_id: id.into(),
            workflow_name: id.into(),
        })
    }

    fn finished() -> Event {
        event(EventKind::RunFinished {
            duration: Duration::ZERO,
        })
    }

    #[test]
    fn late_subscribers_get_a_snapshot_then_the_rest() {
        let registry = Registry::new(10);
        let run = registry.create(vec!["a".into()], vec![planned("a")], false, None);
        let early = run.subscribe(Some(0));
        run.record(started("a"));
        let late = run.subscribe(None);
        assert_eq!(late.initial.len(), 1);
        assert_eq!((late.initial[0].kind, late.initial[0].seq), ("snapshot", 1));
        assert!(late.initial[0].data().contains("\"running\""));
        run.record(finished());
        assert_eq!(run.state(), RunState::Finished);

        let mut early_rx = early.live.unwrap();
        let mut late_rx = late.live.unwrap();
        let mut seqs = Vec::new();
        while let Ok(frame) = early_rx.try_recv() {
            seqs.push(frame.seq);
        }
        assert_eq!(seqs, [1, 2]);
        assert_eq!(late_rx.try_recv().unwrap().kind, "runFinished");
        assert!(late_rx.try_recv().is_err(), "the stream ends after the run");

        let after = run.subscribe(None);
        assert!(after.live.is_none());
        let kinds: Vec<(&str, u64)> = after.initial.iter().map(|f| (f.kind, f.seq)).collect();
        assert_eq!(kinds, [("snapshot", 1), ("runFinished", 2)]);
        let replay = run.subscribe(Some(1));
        assert_eq!(replay.initial.len(), 1);
        assert!(run.subscribe(Some(99)).initial.is_empty());
    }

    #[test]
    fn a_queued_run_says_so_until_it_starts() {
        let registry = Registry::new(10);
        let run = registry.create(vec!["a".into()], vec![planned("a")], true, None);
        assert_eq!(run.state(), RunState::Queued);
        assert!(run.subscribe(None).initial[0].data().contains("\"queued\""));
        run.start();
        assert_eq!(run.state(), RunState::Running);
        run.finish(Err("x".into()));
        assert_eq!(run.state(), RunState::Finished);
    }

    #[test]
    fn numbering_goes_on_from_the_first_number_given() {
        let registry = Registry::starting_at(10, 42);
        let ids: Vec<String> = (0..2)
            .map(|_| {
                registry
                    .create(Vec::new(), Vec::new(), false, None)
                    .id
                    .clone()
            })
            .collect();
        assert_eq!(ids, ["run-42", "run-43"]);
    }

    #[test]
    fn only_finished_runs_beyond_the_limit_are_pruned() {
        let registry = Registry::new(1);
        let runs: Vec<Arc<Run>> = (0..3)
            .map(|_| registry.create(Vec::new(), Vec::new(), false, None))
            .collect();
        runs[0].record(finished());
        runs[2].finish(Err("refused".into()));
        let evicted: Vec<String> = registry.prune().iter().map(|r| r.id.clone()).collect();
        assert_eq!(evicted, ["run-1"]);
        let left: Vec<String> = registry.list().iter().map(|r| r.id.clone()).collect();
        assert_eq!(left, ["run-3", "run-2"]);
        assert!(registry.get("run-1").is_none());
        assert!(matches!(runs[2].outcome(), Some(Outcome::Failed(r)) if r == "refused"));
    }
}
