//! Live status of every workflow of a run, folded from the engine's events: what the seed's
//! status callback received, and what a progress view shows.

use std::collections::{HashMap, HashSet};
use std::time::SystemTime;

use serde::Serialize;

use crate::event::{Event, EventKind, LateGuard, PlannedWorkflow};
use crate::outcome::Status;

/// One workflow's live status (the seed's `ParallelStatus`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveStatus {
    /// The workflow's id.
    pub workflow_id: String,
    /// Its display name.
    pub workflow_name: String,
    /// Where it is.
    pub status: Status,
    /// Steps done over steps planned, 0–100.
    pub progress: f64,
    /// The step running now, or a phase description.
    pub current_step: String,
    /// When it started.
    #[serde(skip_serializing_if = "Option::is_none", with = "opt_epoch")]
    pub start_time: Option<SystemTime>,
    /// When it ended.
    #[serde(skip_serializing_if = "Option::is_none", with = "opt_epoch")]
    pub end_time: Option<SystemTime>,
    /// Its wall time in milliseconds, once ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<u64>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The attempt running or last run (1 without retries).
    pub attempt: u32,
    /// It failed, then passed on a retry.
    pub flaky: bool,
}

/// The statuses of one run, in run order. Folds each event in O(1); ignores what comes after
/// the end (a workflow's events after its `workflowFinished`, anything after `runFinished`).
#[derive(Debug, Clone, Default)]
pub struct StatusBoard {
    statuses: Vec<LiveStatus>,
    index: HashMap<String, usize>,
    /// Each workflow's planned step count, in run order.
    planned: Vec<Option<usize>>,
    /// How many workflows are in each status (indexed by `Status as usize`), and flaky.
    counts: [usize; STATUSES],
    flaky: usize,
    guard: LateGuard,
}

/// The number of `Status` values.
const STATUSES: usize = 8;

impl StatusBoard {
    /// The statuses now.
    pub fn statuses(&self) -> &[LiveStatus] {
        &self.statuses
    }

    /// The status of workflow `id` (O(1)).
    pub fn status(&self, id: &str) -> Option<&LiveStatus> {
        self.index.get(id).and_then(|&i| self.statuses.get(i))
    }

    /// How many workflows are in `status` now (O(1)).
    pub fn count(&self, status: Status) -> usize {
        self.counts.get(status as usize).copied().unwrap_or(0)
    }

    /// How many workflows are flaky so far (O(1)).
    pub fn flaky(&self) -> usize {
        self.flaky
    }

    /// A board showing `workflows` as pending (or waiting for their dependencies), before the
    /// run's own `runStarted` arrives.
    pub fn planned(workflows: &[PlannedWorkflow]) -> Self {
        let mut board = StatusBoard::default();
        board.plan(workflows);
        board
    }

    fn plan(&mut self, workflows: &[PlannedWorkflow]) {
        let ids: HashSet<&str> = workflows.iter().map(|w| w.id.as_str()).collect();
        let in_run = |id: &String| ids.contains(id.as_str());
        self.index = workflows
            .iter()
            .enumerate()
            .map(|(i, w)| (w.id.clone(), i))
            .collect();
        self.planned = workflows.iter().map(|w| w.planned_steps).collect();
        self.statuses = workflows
            .iter()
            .map(|w| {
                let waits = w.depends_on.iter().any(in_run);
                LiveStatus {
                    workflow_id: w.id.clone(),
                    workflow_name: w.name.clone(),
                    status: if waits {
                        Status::Waiting
                    } else {
                        Status::Pending
                    },
                    progress: 0.0,
                    current_step: if waits {
                        format!("Waiting for {}", w.depends_on.join(", "))
                    } else {
                        "Waiting to start...".into()
                    },
                    start_time: None,
                    end_time: None,
                    duration: None,
                    error: None,
                    attempt: 1,
                    flaky: false,
                }
            })
            .collect();
        self.counts = [0; STATUSES];
        for status in &self.statuses {
            self.counts[status.status as usize] += 1;
        }
        self.flaky = 0;
    }

    /// Folds one event in; returns whether a status changed.
    pub fn apply(&mut self, event: &Event) -> bool {
        if !self.guard.admit(&event.kind) {
            return false;
        }
        let at = event.at;
        match &event.kind {
            EventKind::RunStarted { workflows } => {
                self.plan(workflows);
                true
            }
            EventKind::WorkflowStarted { workflow_id, .. } => self.update(workflow_id, |s| {
                s.status = Status::Running;
                s.current_step = "Starting workflow...".into();
                s.start_time = Some(at);
            }),
            EventKind::StepStarted {
                workflow_id, step, ..
            } => self.update(workflow_id, |s| {
                s.status = Status::Running;
                s.current_step = step.clone();
            }),
            EventKind::WorkflowRetrying {
                workflow_id,
                attempt,
                error,
                ..
            } => self.update(workflow_id, |s| {
                s.status = Status::Retrying;
                s.attempt = *attempt;
                s.progress = 0.0;
                s.current_step = format!("Retrying (attempt {attempt})");
                s.error = Some(error.clone());
            }),
            EventKind::StepFinished {
                workflow_id,
                progress,
                ..
            } => self.update(workflow_id, |s| s.progress = *progress),
            EventKind::WorkflowFinished { outcome } => {
                let planned = self.planned_steps(&outcome.workflow_id);
                self.update(&outcome.workflow_id, |s| {
                    s.status = outcome.status;
                    s.progress = outcome.progress(planned);
                    s.current_step = outcome.current_step();
                    s.error = outcome.error.clone();
                    s.flaky = outcome.flaky;
                    s.end_time = Some(outcome.end_time());
                    s.duration =
                        Some(u64::try_from(outcome.duration.as_millis()).unwrap_or(u64::MAX));
                    s.attempt = u32::try_from(outcome.attempts.len())
                        .unwrap_or(u32::MAX)
                        .max(1);
                })
            }
            _ => false,
        }
    }

    fn planned_steps(&self, id: &str) -> Option<usize> {
        self.index
            .get(id)
            .and_then(|&i| self.planned.get(i).copied().flatten())
    }

    fn update(&mut self, id: &str, f: impl FnOnce(&mut LiveStatus)) -> bool {
        match self.index.get(id).and_then(|&i| self.statuses.get_mut(i)) {
            Some(status) => {
                let (before, was_flaky) = (status.status, status.flaky);
                f(status);
                let (after, is_flaky) = (status.status, status.flaky);
                self.counts[before as usize] -= 1;
                self.counts[after as usize] += 1;
                self.flaky = self.flaky + usize::from(is_flaky) - usize::from(was_flaky);
                true
            }
            None => false,
        }
    }
}

mod opt_epoch {
    use std::time::{SystemTime, UNIX_EPOCH};

    use serde::Serializer;

    pub fn serialize<S: Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
        let ms = t
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        s.serialize_u64(ms)
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::outcome::FailureKind;
    use crate::workflow::WorkflowSpec;

    fn event(seq: u64, kind: EventKind) -> Event {
        Event {
            run_id: "r".into(),
            seq,
            at: SystemTime::now(),
            kind,
        }
    }

    #[test]
    fn a_late_step_never_brings_a_finished_workflow_back() {
        let spec = WorkflowSpec::new("a", "A", |_| Box::pin(async { Ok(()) }));
        let mut board = StatusBoard::planned(&[PlannedWorkflow::from(&spec)]);
        assert_eq!(board.statuses()[0].status, Status::Pending);
        assert_eq!(board.count(Status::Pending), 1);
        board.apply(&event(
            1,
            EventKind::WorkflowStarted {
                workflow_id: "a".into(),
                workflow_name: "A".into(),
            },
        ));
        assert_eq!(board.statuses()[0].status, Status::Running);
        let entry = crate::outcome::WorkflowOutcome::not_run(
            "a",
            Status::Failed,
            FailureKind::Timeout,
            "timed out".into(),
            None,
        );
        board.apply(&event(
            2,
            EventKind::WorkflowFinished {
                outcome: Box::new(entry),
            },
        ));
        assert_eq!(board.statuses()[0].status, Status::Failed);
        let changed = board.apply(&event(
            3,
            EventKind::StepStarted {
                workflow_id: "a".into(),
                index: 1,
                step: "late".into(),
            },
        ));
        assert!(!changed);
        assert_eq!(board.statuses()[0].status, Status::Failed);
        // The counts follow every change, and a late event changes none.
        assert_eq!(board.count(Status::Failed), 1);
        assert_eq!(board.count(Status::Running), 0);
        assert_eq!(board.count(Status::Pending), 0);
        assert_ne!(board.statuses()[0].current_step, "late");
    }
}
