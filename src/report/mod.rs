//! The report model of a run (the seed's JSON schema, its bugs fixed) and its serialized forms.
//!
//! Fixes over the seed: failed workflows count in the step totals and the success rate;
//! `progress` is steps done / steps planned; every workflow appears once (ids are unique);
//! a 0 ms workflow counts in the average; the steps a failed workflow ran are kept.

mod csv;
mod json;
mod junit;
mod write;

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::step::{StepRecord, StepStatus};

pub use write::{
    ReportFormat, TEMP_PREFIX, WriteError, write_fragment, write_in_progress, write_reports,
};

/// How a workflow ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkflowStatus {
    /// Every required step passed (possibly after retries: see `flaky`).
    Completed,
    /// A required step failed, or the workflow returned an error, panicked or timed out.
    Failed,
    /// Not run because a workflow it depends on did not pass; counts as failed.
    Blocked,
    /// Not run because the run stopped early (`--max-fail`).
    Cancelled,
}

impl WorkflowStatus {
    /// The lowercase name used in JSON and CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowStatus::Completed => "completed",
            WorkflowStatus::Failed => "failed",
            WorkflowStatus::Blocked => "blocked",
            WorkflowStatus::Cancelled => "cancelled",
        }
    }

    /// Whether it counts as a failure (in the exit code, JUnit and `failed`).
    pub fn is_failure(self) -> bool {
        matches!(self, WorkflowStatus::Failed | WorkflowStatus::Blocked)
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

/// Why a failed workflow failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
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

/// The step counts and list of one workflow (the seed's `result`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepSummary {
    /// Steps that ran: passed + failed + skipped.
    pub total_steps: usize,
    /// Steps that passed.
    pub passed: usize,
    /// Steps that failed (at most one: a failed required step ends the workflow).
    pub failed: usize,
    /// Optional steps that failed.
    pub skipped: usize,
    /// Every step that ran, in order.
    pub steps: Vec<StepRecord>,
}

impl StepSummary {
    /// Counts `steps`.
    pub fn new(steps: Vec<StepRecord>) -> Self {
        let count = |status| steps.iter().filter(|s| s.status == status).count();
        StepSummary {
            total_steps: steps.len(),
            passed: count(StepStatus::Passed),
            failed: count(StepStatus::Failed),
            skipped: count(StepStatus::Skipped),
            steps,
        }
    }

    /// Passed steps over steps run, in percent (0 without steps).
    pub fn success_rate(&self) -> f64 {
        percent(self.passed, self.total_steps)
    }
}

/// One workflow's entry in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowReport {
    /// The workflow's id.
    pub workflow_id: String,
    /// Its display name.
    pub workflow_name: String,
    /// `completed`, `failed`, `blocked` or `cancelled`.
    pub status: WorkflowStatus,
    /// Steps done over steps planned, 0–100 (100 when completed).
    pub progress: f64,
    /// `Completed`, or for a failed workflow the step it failed in (`Failed` if none).
    pub current_step: String,
    /// Start, epoch milliseconds.
    #[serde(with = "epoch_millis")]
    pub start_time: SystemTime,
    /// End, epoch milliseconds.
    #[serde(with = "epoch_millis")]
    pub end_time: SystemTime,
    /// Wall time in milliseconds.
    #[serde(with = "millis")]
    pub duration: Duration,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// `error`, `panic` or `timeout`, for a failed workflow.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub failure_kind: Option<FailureKind>,
    /// The workflow's tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Its planned step count, when declared.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub planned_steps: Option<usize>,
    /// Its priority (higher started first).
    #[serde(default)]
    pub priority: i32,
    /// The workflows it waited for.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub depends_on: Vec<String>,
    /// Its concurrency group.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub group: Option<String>,
    /// It ran only because a selected workflow depends on it.
    #[serde(default)]
    pub as_dependency: bool,
    /// For a blocked workflow, the dependency that did not pass.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub blocked_by: Option<String>,
    /// It failed, then passed on a retry.
    #[serde(default)]
    pub flaky: bool,
    /// Every attempt, the last one's steps in `result` (one attempt without retries).
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    /// The steps it ran (in its last attempt).
    pub result: StepSummary,
}

impl WorkflowReport {
    /// The entry of a workflow that never started: blocked by a dependency or cancelled.
    pub fn not_run(
        spec: &crate::workflow::WorkflowSpec,
        status: WorkflowStatus,
        kind: FailureKind,
        error: String,
        blocked_by: Option<String>,
    ) -> Self {
        let now = SystemTime::now();
        WorkflowReport {
            workflow_id: spec.id.clone(),
            workflow_name: spec.name.clone(),
            status,
            progress: 0.0,
            current_step: match status {
                WorkflowStatus::Blocked => "Blocked".into(),
                WorkflowStatus::Cancelled => "Not run".into(),
                _ => "Failed".into(),
            },
            start_time: now,
            end_time: now,
            duration: Duration::ZERO,
            error: Some(error),
            failure_kind: Some(kind),
            tags: spec.tags.clone(),
            planned_steps: spec.planned_steps,
            priority: spec.priority,
            depends_on: spec.depends_on.clone(),
            group: spec.group.clone(),
            as_dependency: spec.as_dependency,
            blocked_by,
            flaky: false,
            attempts: Vec::new(),
            result: StepSummary::new(Vec::new()),
        }
    }
}

/// Totals over all workflows of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AggregateStats {
    /// Steps run by all workflows, failed ones included.
    pub total_steps: usize,
    /// Passed steps.
    pub passed_steps: usize,
    /// Failed steps.
    pub failed_steps: usize,
    /// Skipped (failed optional) steps.
    pub skipped_steps: usize,
    /// `passedSteps / totalSteps × 100`, two decimals; 0 without steps.
    pub success_rate: f64,
    /// Mean workflow duration in milliseconds, every workflow counted.
    pub average_duration: f64,
    /// Name of the quickest workflow (`N/A` when none ran).
    pub fastest_workflow: String,
    /// Name of the slowest workflow (`N/A` when none ran).
    pub slowest_workflow: String,
}

/// The report of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    /// The run's id, the same in every report file and event of the run.
    #[serde(default)]
    pub run_id: String,
    /// The run was interrupted (SIGINT, SIGTERM): unfinished workflows are `cancelled`.
    #[serde(default)]
    pub interrupted: bool,
    /// Number of workflows run.
    pub total_workflows: usize,
    /// How many completed.
    pub completed: usize,
    /// How many failed, blocked ones included.
    pub failed: usize,
    /// How many were blocked by a dependency (part of `failed`).
    #[serde(default)]
    pub blocked: usize,
    /// How many were not run because the run stopped early.
    #[serde(default)]
    pub cancelled: usize,
    /// How many passed only on a retry (part of `completed`, or of `failed` with
    /// `flaky_fails`).
    #[serde(default)]
    pub flaky: usize,
    /// Wall time of the whole run in milliseconds.
    #[serde(with = "millis")]
    pub total_duration: Duration,
    /// Start of the run, epoch milliseconds.
    #[serde(with = "epoch_millis")]
    pub start_time: SystemTime,
    /// One entry per workflow, in the order they were given (name order under `cargo test`).
    pub workflows: Vec<WorkflowReport>,
    /// Totals.
    pub aggregate_stats: AggregateStats,
}

impl RunReport {
    /// Builds the report and its totals from the workflows' entries; `run_id` is empty and
    /// `interrupted` false, for the run's owner to set.
    pub fn new(
        workflows: Vec<WorkflowReport>,
        start_time: SystemTime,
        total_duration: Duration,
    ) -> Self {
        let sum = |f: fn(&StepSummary) -> usize| workflows.iter().map(|w| f(&w.result)).sum();
        let total_steps = sum(|r| r.total_steps);
        let passed_steps = sum(|r| r.passed);
        let count = |status| workflows.iter().filter(|w| w.status == status).count();
        let completed = count(WorkflowStatus::Completed);
        let blocked = count(WorkflowStatus::Blocked);
        let cancelled = count(WorkflowStatus::Cancelled);
        // Blocked and cancelled workflows never ran: they have no duration to compare.
        let ran: Vec<&WorkflowReport> = workflows
            .iter()
            .filter(|w| {
                !matches!(
                    w.status,
                    WorkflowStatus::Blocked | WorkflowStatus::Cancelled
                )
            })
            .collect();
        let average_duration = if ran.is_empty() {
            0.0
        } else {
            let total: f64 = ran.iter().map(|w| ms(w.duration)).sum();
            round2(total / ran.len() as f64)
        };
        // `min_by_key`/`max_by_key` keep the first/last of equals; the seed keeps the first seen
        // for both, so the slowest is searched over the reversed list.
        let fastest = ran.iter().copied().min_by_key(|w| w.duration);
        let slowest = ran.iter().copied().rev().max_by_key(|w| w.duration);
        let name = |w: Option<&WorkflowReport>| {
            w.map_or_else(|| "N/A".to_owned(), |w| w.workflow_name.clone())
        };
        let aggregate_stats = AggregateStats {
            total_steps,
            passed_steps,
            failed_steps: sum(|r| r.failed),
            skipped_steps: sum(|r| r.skipped),
            success_rate: round2(percent(passed_steps, total_steps)),
            average_duration,
            fastest_workflow: name(fastest),
            slowest_workflow: name(slowest),
        };
        RunReport {
            run_id: String::new(),
            interrupted: false,
            total_workflows: workflows.len(),
            completed,
            failed: workflows.len() - completed - cancelled,
            blocked,
            cancelled,
            flaky: workflows.iter().filter(|w| w.flaky).count(),
            total_duration,
            start_time,
            workflows,
            aggregate_stats,
        }
    }

    /// Whether any workflow failed or was blocked.
    pub fn has_failures(&self) -> bool {
        self.failed > 0
    }

    /// The report as pretty-printed JSON (2-space indent, as the seed's `exportToJSON`).
    pub fn to_json(&self) -> String {
        json::to_json(self)
    }

    /// The report as CSV: the seed's header, one row per workflow, a blank line and `SUMMARY`.
    pub fn to_csv(&self) -> String {
        csv::to_csv(self)
    }

    /// The report as JUnit XML: one test suite, one test case per workflow.
    pub fn to_junit(&self) -> String {
        junit::to_junit(self)
    }
}

/// Steps done over steps planned, in percent. Done steps are those that passed or were
/// skipped; without a planned count the steps run so far are the plan. A completed workflow
/// is at 100.
pub fn progress(done: usize, planned: Option<usize>, completed: bool) -> f64 {
    if completed {
        return 100.0;
    }
    let planned = planned.unwrap_or(done).max(done);
    round2(percent(done, planned).min(100.0))
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn step(name: &str, status: StepStatus, ms: u64) -> StepRecord {
        StepRecord {
            name: name.into(),
            status,
            duration: Duration::from_millis(ms),
            error: (status != StepStatus::Passed).then(|| format!("{name} broke")),
            optional: status == StepStatus::Skipped,
        }
    }

    pub fn workflow(id: &str, name: &str, ms: u64, steps: Vec<StepRecord>) -> WorkflowReport {
        let failed = steps.iter().any(|s| s.status == StepStatus::Failed);
        WorkflowReport {
            workflow_id: id.into(),
            workflow_name: name.into(),
            status: if failed {
                WorkflowStatus::Failed
            } else {
                WorkflowStatus::Completed
            },
            progress: 100.0,
            current_step: "Completed".into(),
            start_time: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            end_time: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_001),
            duration: Duration::from_millis(ms),
            error: failed.then(|| "step \"b\" failed: b broke".into()),
            failure_kind: failed.then_some(FailureKind::Error),
            tags: vec!["shop".into()],
            planned_steps: None,
            priority: 0,
            depends_on: Vec::new(),
            group: None,
            as_dependency: false,
            blocked_by: None,
            flaky: false,
            attempts: Vec::new(),
            result: StepSummary::new(steps),
        }
    }

    pub fn sample() -> RunReport {
        use StepStatus::*;
        let mut report = RunReport::new(
            vec![
                workflow(
                    "a",
                    "Alpha, \"quoted\"",
                    0,
                    vec![step("a1", Passed, 0), step("a2", Skipped, 1)],
                ),
                workflow(
                    "b",
                    "Beta",
                    30,
                    vec![step("b1", Passed, 10), step("b", Failed, 20)],
                ),
                workflow("c", "Gamma", 30, vec![step("c1", Passed, 30)]),
            ],
            SystemTime::UNIX_EPOCH,
            Duration::from_millis(42),
        );
        report.run_id = "run-42".into();
        report
    }

    #[test]
    fn failed_workflows_count_in_totals_and_rate() {
        let r = sample();
        assert_eq!((r.total_workflows, r.completed, r.failed), (3, 2, 1));
        let s = &r.aggregate_stats;
        assert_eq!(
            (
                s.total_steps,
                s.passed_steps,
                s.failed_steps,
                s.skipped_steps
            ),
            (5, 3, 1, 1)
        );
        assert_eq!(s.success_rate, 60.0);
        assert_eq!(
            s.average_duration, 20.0,
            "0 ms workflows count in the average"
        );
        assert_eq!(s.fastest_workflow, "Alpha, \"quoted\"");
        assert_eq!(s.slowest_workflow, "Beta", "first seen wins a tie");
    }

    #[test]
    fn new_reports_have_no_run_id_and_are_not_interrupted() {
        let r = RunReport::new(vec![], SystemTime::UNIX_EPOCH, Duration::ZERO);
        assert_eq!((r.run_id.as_str(), r.interrupted), ("", false));
    }

    #[test]
    fn empty_report_has_na_and_zeroes() {
        let r = RunReport::new(vec![], SystemTime::UNIX_EPOCH, Duration::ZERO);
        assert_eq!(r.aggregate_stats.fastest_workflow, "N/A");
        assert_eq!(r.aggregate_stats.success_rate, 0.0);
        assert_eq!(r.aggregate_stats.average_duration, 0.0);
    }

    #[test]
    fn progress_is_done_over_planned() {
        assert_eq!(progress(2, Some(8), false), 25.0);
        assert_eq!(progress(3, None, false), 100.0);
        assert_eq!(progress(0, None, false), 0.0);
        assert_eq!(progress(9, Some(8), false), 100.0);
        assert_eq!(progress(1, Some(8), true), 100.0);
        assert_eq!(progress(1, Some(3), false), 33.33);
    }
}
