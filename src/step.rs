//! Step records: what one named step of a workflow did, and the shared recorder the context
//! writes them to (the engine reads it too, so a timed-out or panicked workflow keeps the steps
//! that ran before).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::http::Exchange;

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum StepStatus {
    /// The step returned `Ok`. Serialized `success`, the original schema's word (`passed`,
    /// this crate's earlier word, is still read).
    #[serde(rename = "success", alias = "passed")]
    Passed,
    /// A required step returned an error, panicked or timed out; the workflow ended there.
    Failed,
    /// An optional step failed; the workflow went on.
    Skipped,
}

/// One step of a workflow run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepRecord {
    /// The step's name as given to `cx.step`.
    pub name: String,
    /// How it ended.
    pub status: StepStatus,
    /// When it started, from the start of its workflow's attempt, serialized in
    /// milliseconds (`startOffset`).
    #[serde(rename = "startOffset", with = "crate::outcome::millis", default)]
    pub start: Duration,
    /// Wall time, serialized in milliseconds.
    #[serde(with = "crate::outcome::millis")]
    pub duration: Duration,
    /// The error, for failed and skipped steps.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// Whether it was declared with `optional_step`.
    #[serde(default)]
    pub optional: bool,
    /// How many tries a polling step (`cx.poll`) made; 0 for other steps.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub try_count: u32,
    /// The latest tries of a polling step (at most [`TRIES_KEPT`]), oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub tries: Vec<StepTry>,
    /// Its HTTP exchanges, redacted, when the run keeps transcripts for it (`transcripts`).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub transcript: Vec<Exchange>,
}

impl StepRecord {
    /// A required step's record with no error and no tries, to build on with struct update
    /// syntax (`StepRecord { error: Some(…), ..StepRecord::new(…) }`).
    pub fn new(name: impl Into<String>, status: StepStatus, duration: Duration) -> Self {
        StepRecord {
            name: name.into(),
            status,
            start: Duration::ZERO,
            duration,
            error: None,
            optional: false,
            try_count: 0,
            tries: Vec::new(),
            transcript: Vec::new(),
        }
    }
}

impl StepRecord {
    /// A copy without the transcript (what `stepFinished` events carry).
    pub fn without_transcript(&self) -> StepRecord {
        StepRecord {
            name: self.name.clone(),
            status: self.status,
            start: self.start,
            duration: self.duration,
            error: self.error.clone(),
            optional: self.optional,
            try_count: self.try_count,
            tries: self.tries.clone(),
            transcript: Vec::new(),
        }
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// How many tries of one polling step are kept (the latest; `tryCount` counts them all).
pub const TRIES_KEPT: usize = 50;

/// One try of a polling step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepTry {
    /// Which try it was, from 1.
    pub number: u32,
    /// When it started, from the step's start, serialized in milliseconds.
    #[serde(with = "crate::outcome::millis")]
    pub at: Duration,
    /// How long it took, serialized in milliseconds.
    #[serde(with = "crate::outcome::millis")]
    pub duration: Duration,
    /// Why it was not yet what the step waits for; absent for the try that succeeded.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
}

/// The step that is running now.
#[derive(Debug, Clone)]
struct RunningStep {
    name: String,
    optional: bool,
    started: Instant,
    /// From the attempt's start.
    offset: Duration,
    try_count: u32,
    tries: Vec<StepTry>,
}

impl RunningStep {
    fn into_record(
        self,
        status: StepStatus,
        error: Option<String>,
        transcript: Vec<Exchange>,
    ) -> StepRecord {
        StepRecord {
            duration: self.started.elapsed(),
            start: self.offset,
            name: self.name,
            status,
            error,
            optional: self.optional,
            try_count: self.try_count,
            tries: self.tries,
            transcript,
        }
    }
}

#[derive(Debug, Default)]
struct State {
    /// When the attempt started (step offsets count from it).
    started: Option<Instant>,
    steps: Vec<StepRecord>,
    running: Option<RunningStep>,
    /// The attempt ended (its list was taken): code still running in it records nothing.
    closed: bool,
    /// Cleanups registered with `Ctx::defer`, in registration order.
    deferred: Vec<crate::cleanup::Deferred>,
}

/// Shared between a workflow's context and the engine supervising it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Recorder(Arc<Mutex<State>>);

impl Recorder {
    /// A recorder that goes on after `steps` (a cleanup's, after the body's steps), its step
    /// offsets counted from this recorder's start.
    pub fn continuing(&self, steps: Vec<StepRecord>) -> Self {
        let started = self.lock().started;
        Recorder(Arc::new(Mutex::new(State {
            steps,
            started,
            ..State::default()
        })))
    }

    /// Keeps a cleanup for the supervisor; ignored once the attempt is over.
    pub fn defer(&self, cleanup: crate::cleanup::Deferred) {
        let mut state = self.lock();
        if !state.closed {
            state.deferred.push(cleanup);
        }
    }

    /// The cleanups registered so far, taken.
    pub fn take_deferred(&self) -> Vec<crate::cleanup::Deferred> {
        std::mem::take(&mut self.lock().deferred)
    }

    /// A recorder for an attempt starting now.
    pub fn new() -> Self {
        let recorder = Recorder::default();
        recorder.lock().started = Some(Instant::now());
        recorder
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere never leaves the state half-written (every update is one push or one
        // assignment), so a poisoned lock is still consistent.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Marks `name` as running and calls `announce` with its index, under the recorder's lock:
    /// once the attempt is closed nothing is recorded or announced, so a workflow's code that
    /// goes on after its deadline cannot slip an event past the end. Returns the index.
    pub fn begin(&self, name: &str, optional: bool, announce: impl FnOnce(usize)) -> Option<usize> {
        let mut state = self.lock();
        if state.closed {
            return None;
        }
        let started = Instant::now();
        let offset = state
            .started
            .map_or(Duration::ZERO, |at| started.saturating_duration_since(at));
        state.running = Some(RunningStep {
            name: name.to_owned(),
            optional,
            started,
            offset,
            try_count: 0,
            tries: Vec::new(),
        });
        let index = state.steps.len();
        announce(index);
        Some(index)
    }

    /// Records one try of the running (polling) step that started at `started`.
    pub fn record_try(&self, started: Instant, error: Option<String>) {
        let mut state = self.lock();
        let Some(running) = state.running.as_mut() else {
            return;
        };
        running.try_count += 1;
        if running.tries.len() == TRIES_KEPT {
            running.tries.remove(0);
        }
        running.tries.push(StepTry {
            number: running.try_count,
            at: started.saturating_duration_since(running.started),
            duration: started.elapsed(),
            error,
        });
    }

    /// Records the running step's end and calls `announce` with the record and the number of
    /// steps finished, under the lock (see [`Recorder::begin`]). Nothing happens when no step
    /// is running: the attempt is over and the supervisor already closed that step.
    pub fn finish(
        &self,
        status: StepStatus,
        error: Option<String>,
        transcript: Vec<Exchange>,
        announce: impl FnOnce(&StepRecord, usize),
    ) {
        let mut state = self.lock();
        let Some(running) = state.running.take() else {
            return;
        };
        let record = running.into_record(status, error, transcript);
        state.steps.push(record.clone());
        announce(&record, state.steps.len());
    }

    /// Takes the final list. A step still running (the workflow panicked or timed out inside
    /// it) is recorded as failed with `error`.
    pub fn close(
        &self,
        interrupted: impl FnOnce(&str) -> String,
        transcript: Vec<Exchange>,
    ) -> Vec<StepRecord> {
        let mut state = self.lock();
        state.closed = true;
        if let Some(running) = state.running.take() {
            let error = interrupted(&running.name);
            state
                .steps
                .push(running.into_record(StepStatus::Failed, Some(error), transcript));
        }
        state.steps.clone()
    }
}
