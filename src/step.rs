//! Step records: what one named step of a workflow did, and the shared recorder the context
//! writes them to (the engine reads it too, so a timed-out or panicked workflow keeps the steps
//! that ran before).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum StepStatus {
    /// The step returned `Ok`.
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
    /// Wall time, serialized in milliseconds.
    #[serde(with = "crate::outcome::millis")]
    pub duration: Duration,
    /// The error, for failed and skipped steps.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// Whether it was declared with `optional_step`.
    #[serde(default)]
    pub optional: bool,
}

/// The step that is running now.
#[derive(Debug, Clone)]
struct RunningStep {
    name: String,
    optional: bool,
    started: Instant,
}

#[derive(Debug, Default)]
struct State {
    steps: Vec<StepRecord>,
    running: Option<RunningStep>,
    /// The attempt ended (its list was taken): code still running in it records nothing.
    closed: bool,
}

/// Shared between a workflow's context and the engine supervising it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Recorder(Arc<Mutex<State>>);

impl Recorder {
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
        state.running = Some(RunningStep {
            name: name.to_owned(),
            optional,
            started: Instant::now(),
        });
        let index = state.steps.len();
        announce(index);
        Some(index)
    }

    /// Records the running step's end and calls `announce` with the record and the number of
    /// steps finished, under the lock (see [`Recorder::begin`]). Nothing happens when no step
    /// is running: the attempt is over and the supervisor already closed that step.
    pub fn finish(
        &self,
        status: StepStatus,
        error: Option<String>,
        announce: impl FnOnce(&StepRecord, usize),
    ) {
        let mut state = self.lock();
        let Some(running) = state.running.take() else {
            return;
        };
        let record = StepRecord {
            name: running.name,
            status,
            duration: running.started.elapsed(),
            error,
            optional: running.optional,
        };
        state.steps.push(record.clone());
        announce(&record, state.steps.len());
    }

    /// Takes the final list. A step still running (the workflow panicked or timed out inside
    /// it) is recorded as failed with `error`.
    pub fn close(&self, interrupted: impl FnOnce(&str) -> String) -> Vec<StepRecord> {
        let mut state = self.lock();
        state.closed = true;
        if let Some(running) = state.running.take() {
            let error = interrupted(&running.name);
            state.steps.push(StepRecord {
                name: running.name,
                status: StepStatus::Failed,
                duration: running.started.elapsed(),
                error: Some(error),
                optional: running.optional,
            });
        }
        state.steps.clone()
    }
}
