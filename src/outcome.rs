//! What the engine knows of a workflow: the one status vocabulary (shared by the engine, the
//! live statuses and the reports, serialized once), why a workflow failed, its attempts, and
//! its final outcome as `workflowFinished` carries it. Reports and live views are folds over
//! events that carry these; nothing here is presentation.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::step::{StepRecord, StepStatus};

/// Where a workflow is, from waiting to its verdict. The reports hold only the four final
/// values (`completed`, `failed`, `blocked`, `cancelled`); live statuses hold all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Status {
    /// Waiting for a concurrency slot.
    Pending,
    /// Waiting for its dependencies to pass.
    Waiting,
    /// Started, not finished.
    Running,
    /// An attempt failed; it will run again.
    Retrying,
    /// Every required step passed (possibly after retries: see `flaky`).
    Completed,
    /// A required step failed, or the workflow returned an error, panicked or timed out.
    Failed,
    /// Not run because a workflow it depends on did not pass; counts as failed.
    Blocked,
    /// Not run, or cut, because the run stopped early (`--max-fail`, an interrupt).
    Cancelled,
}

impl Status {
    /// The lowercase name used in JSON, CSV and the dashboard.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Waiting => "waiting",
            Status::Running => "running",
            Status::Retrying => "retrying",
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::Blocked => "blocked",
            Status::Cancelled => "cancelled",
        }
    }

    /// Whether it counts as a failure (in the exit code, JUnit and `failed`).
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Failed | Status::Blocked)
    }

    /// Whether it is a verdict: the workflow will not change any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Completed | Status::Failed | Status::Blocked | Status::Cancelled
        )
    }
}

/// Why a workflow did not complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum FailureKind {
    /// It returned an error (usually a failed required step).
    Error,
    /// It panicked.
    Panic,
    /// It ran past its deadline (its own, or the whole run's).
    Timeout,
    /// A workflow it depends on did not pass.
    Blocked,
    /// The run stopped before it started.
    Cancelled,
    /// The run was interrupted (SIGINT, SIGTERM) before it started or before it finished.
    Interrupted,
}

impl FailureKind {
    /// The lowercase name used in JSON and as the JUnit failure `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Error => "error",
            FailureKind::Panic => "panic",
            FailureKind::Timeout => "timeout",
            FailureKind::Blocked => "blocked",
            FailureKind::Cancelled => "cancelled",
            FailureKind::Interrupted => "interrupted",
        }
    }
}

/// One attempt of a workflow that may be retried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    /// 1 for the first run, 2 for the first retry, …
    pub attempt: u32,
    /// Whether this attempt passed.
    pub passed: bool,
    /// Wall time in milliseconds.
    #[serde(with = "millis")]
    pub duration: Duration,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// How it failed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub failure_kind: Option<FailureKind>,
}

/// How a workflow ended: what `workflowFinished` carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowOutcome {
    /// The workflow's id.
    pub workflow_id: String,
    /// Its verdict: `completed`, `failed`, `blocked` or `cancelled`.
    pub status: Status,
    /// Why it did not complete.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub failure_kind: Option<FailureKind>,
    /// The error, naming the step, the request and the cause.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// When it started (when it was given up, for one that never started).
    #[serde(with = "epoch_millis")]
    pub start_time: SystemTime,
    /// Its wall time, all attempts and the waits between them included.
    #[serde(with = "millis")]
    pub duration: Duration,
    /// The steps of its last attempt.
    pub steps: Vec<StepRecord>,
    /// Every attempt (none for a workflow that never started).
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    /// It failed, then passed on a retry.
    #[serde(default)]
    pub flaky: bool,
    /// For a blocked workflow, the dependency that did not pass.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub blocked_by: Option<String>,
}

impl WorkflowOutcome {
    /// The outcome of a workflow that never started: blocked by a dependency or cancelled.
    pub fn not_run(
        workflow_id: &str,
        status: Status,
        kind: FailureKind,
        error: String,
        blocked_by: Option<String>,
    ) -> Self {
        WorkflowOutcome {
            workflow_id: workflow_id.to_owned(),
            status,
            failure_kind: Some(kind),
            error: Some(error),
            start_time: SystemTime::now(),
            duration: Duration::ZERO,
            steps: Vec::new(),
            attempts: Vec::new(),
            flaky: false,
            blocked_by,
        }
    }

    /// When it ended.
    pub fn end_time(&self) -> SystemTime {
        self.start_time + self.duration
    }

    /// Steps done (passed or skipped) over `planned` (the steps run when none is declared),
    /// in percent; 100 when completed.
    pub fn progress(&self, planned: Option<usize>) -> f64 {
        let done = self
            .steps
            .iter()
            .filter(|s| s.status != StepStatus::Failed)
            .count();
        let planned = planned.unwrap_or(self.steps.len());
        progress(done, Some(planned), self.status == Status::Completed)
    }

    /// What the seed's `currentStep` showed at the end: `Completed`, the step a failed
    /// workflow failed in (`Failed` without one), `Blocked`, `Not run` for one never started.
    pub fn current_step(&self) -> String {
        let failed_step = || {
            self.steps
                .iter()
                .rev()
                .find(|s| s.status == StepStatus::Failed)
                .map(|s| s.name.clone())
        };
        match self.status {
            Status::Completed => "Completed".into(),
            Status::Blocked => "Blocked".into(),
            Status::Cancelled if self.attempts.is_empty() => "Not run".into(),
            _ => failed_step().unwrap_or_else(|| "Failed".into()),
        }
    }
}

/// Steps done over steps planned, in percent. Done steps are those that passed or were
/// skipped; without a planned count the steps run so far are the plan. A completed workflow
/// is at 100.
pub(crate) fn progress(done: usize, planned: Option<usize>, completed: bool) -> f64 {
    if completed {
        return 100.0;
    }
    let planned = planned.unwrap_or(done).max(done);
    round2(percent(done, planned).min(100.0))
}

/// `part` of `whole` in percent (0 of nothing).
pub(crate) fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// Rounded to two decimals, as the reports show percentages.
pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Serializes a `Duration` as whole milliseconds (what the seed's `duration` fields hold).
pub(crate) mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

/// Serializes a `SystemTime` as epoch milliseconds (the seed's `startTime`/`endTime`).
pub(crate) mod epoch_millis {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        s.serialize_u64(u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        u64::deserialize(d).map(|ms| UNIX_EPOCH + Duration::from_millis(ms))
    }
}

/// How a run ended, as the engine saw it: what [`Engine::run`](crate::Engine::run) returns.
/// The report is a fold over the run's events ([`ReportFold`](crate::report::ReportFold)).
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// The run's id, as in its events and reports.
    pub run_id: String,
    /// It was interrupted: its unfinished workflows are cancelled.
    pub interrupted: bool,
    /// Its wall time.
    pub duration: Duration,
    /// Every workflow's outcome, in the order they were given.
    pub workflows: Vec<WorkflowOutcome>,
}

impl RunOutcome {
    /// Whether a workflow failed or was blocked.
    pub fn has_failures(&self) -> bool {
        self.workflows.iter().any(|w| w.status.is_failure())
    }
}
