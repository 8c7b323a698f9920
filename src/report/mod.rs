//! The report model of a run (the seed's JSON schema, its bugs fixed) and its serialized forms.
//!
//! Fixes over the seed: failed workflows count in the step totals and the success rate;
//! `progress` is steps done / steps planned; every workflow appears once (ids are unique);
//! a 0 ms workflow counts in the average; the steps a failed workflow ran are kept.

mod csv;
mod fold;
mod html;
mod json;
mod junit;
mod merge;
mod write;

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::event::PlannedWorkflow;
use crate::outcome::{epoch_millis, millis, percent, round2};

pub use crate::outcome::{Attempt, FailureKind, RunOutcome, Status, WorkflowOutcome};
pub use crate::step::{StepRecord, StepStatus};
pub use fold::{ReportFold, collect};
pub(crate) use html::TIMELINE_JS;
pub use merge::{MergeError, merge_reports};

pub use write::{
    ReportFormat, TEMP_PREFIX, WriteError, write_fragment, write_in_progress, write_reports,
};

/// The step counts and list of one workflow (the seed's `result`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepSummary {
    /// The original schema's verdict: no step failed and the workflow passed (a workflow that
    /// failed outside any step — a cleanup, `skipped_steps = "fail"` — is not a success).
    #[serde(default)]
    pub success: bool,
    /// Wall time of the workflow in milliseconds (the original's `result.duration`; the same
    /// as the workflow's `duration`).
    #[serde(with = "millis", default)]
    pub duration: Duration,
    /// The errors of the failed steps, in order; for a workflow that failed outside any step,
    /// its error. Empty for a success.
    #[serde(default)]
    pub errors: Vec<String>,
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
    /// Counts `steps`; `success` when none failed, with no duration (see
    /// [`StepSummary::of_workflow`]).
    pub fn new(steps: Vec<StepRecord>) -> Self {
        let count = |status| steps.iter().filter(|s| s.status == status).count();
        let errors: Vec<String> = steps
            .iter()
            .filter(|s| s.status == StepStatus::Failed)
            .map(|s| s.error.clone().unwrap_or_default())
            .collect();
        StepSummary {
            success: errors.is_empty(),
            duration: Duration::ZERO,
            errors,
            total_steps: steps.len(),
            passed: count(StepStatus::Passed),
            failed: count(StepStatus::Failed),
            skipped: count(StepStatus::Skipped),
            steps,
        }
    }

    /// The summary of a workflow that ended with `status` after `duration`, failing with
    /// `error` (when it did).
    pub fn of_workflow(
        steps: Vec<StepRecord>,
        status: Status,
        duration: Duration,
        error: Option<&str>,
    ) -> Self {
        let mut summary = StepSummary::new(steps);
        summary.duration = duration;
        summary.success &= status == Status::Completed;
        if !summary.success && summary.errors.is_empty() {
            summary.errors.extend(error.map(str::to_owned));
        }
        summary
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
    pub status: Status,
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
    /// The entry of a workflow as the run planned it and as it ended.
    pub fn new(planned: &PlannedWorkflow, outcome: WorkflowOutcome) -> Self {
        WorkflowReport {
            workflow_name: planned.name.clone(),
            progress: outcome.progress(planned.planned_steps),
            current_step: outcome.current_step(),
            end_time: outcome.end_time(),
            tags: planned.tags.clone(),
            planned_steps: planned.planned_steps,
            priority: planned.priority,
            depends_on: planned.depends_on.clone(),
            group: planned.group.clone(),
            as_dependency: planned.as_dependency,
            result: StepSummary::of_workflow(
                outcome.steps,
                outcome.status,
                outcome.duration,
                outcome.error.as_deref(),
            ),
            workflow_id: outcome.workflow_id,
            status: outcome.status,
            start_time: outcome.start_time,
            duration: outcome.duration,
            error: outcome.error,
            failure_kind: outcome.failure_kind,
            blocked_by: outcome.blocked_by,
            flaky: outcome.flaky,
            attempts: outcome.attempts,
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
    /// The shard this run was (`--partition`), for a merge to check it has them all.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub shard: Option<crate::partition::Shard>,
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
    /// What the run history says got worse in this run: steps well above their recorded
    /// p95, workflows that started failing or flip between pass and fail (absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub regressions: Vec<crate::history::Regression>,
    /// Duration statistics per step of each workflow, in report order.
    #[serde(default)]
    pub step_stats: Vec<StepStats>,
}

/// The durations of one step (by name) of one workflow in a run: every time it ran in the
/// workflow's last attempt (a step run in a loop counts each time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepStats {
    /// The workflow's id.
    pub workflow_id: String,
    /// The step's name.
    pub step: String,
    /// How many times it ran.
    pub count: usize,
    /// The median duration (nearest rank), in milliseconds.
    #[serde(rename = "p50", with = "millis")]
    pub p50: Duration,
    /// The 95th percentile duration (nearest rank), in milliseconds.
    #[serde(rename = "p95", with = "millis")]
    pub p95: Duration,
    /// The longest, in milliseconds.
    #[serde(with = "millis")]
    pub max: Duration,
}

/// [`StepStats`] of `workflows`, in report order: by workflow, then by each step's first run.
pub fn step_stats(workflows: &[WorkflowReport]) -> Vec<StepStats> {
    let mut stats = Vec::new();
    for w in workflows {
        let mut names: Vec<&str> = Vec::new();
        let mut durations: std::collections::HashMap<&str, Vec<Duration>> =
            std::collections::HashMap::new();
        for step in &w.result.steps {
            let entry = durations.entry(step.name.as_str()).or_default();
            if entry.is_empty() {
                names.push(step.name.as_str());
            }
            entry.push(step.duration);
        }
        for name in names {
            let mut all = durations.remove(name).unwrap_or_default();
            all.sort();
            stats.push(StepStats {
                workflow_id: w.workflow_id.clone(),
                step: name.to_owned(),
                count: all.len(),
                p50: nearest_rank(&all, 50),
                p95: nearest_rank(&all, 95),
                max: all.last().copied().unwrap_or_default(),
            });
        }
    }
    stats
}

/// The `n` slowest entries of `stats` (by `max`), slowest first.
pub fn slowest_steps(stats: &[StepStats], n: usize) -> Vec<&StepStats> {
    let mut all: Vec<&StepStats> = stats.iter().collect();
    all.sort_by_key(|s| std::cmp::Reverse(s.max));
    all.truncate(n);
    all
}

/// The `p`th percentile of sorted `values` by nearest rank (0 for none).
fn nearest_rank(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
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
        let completed = count(Status::Completed);
        let blocked = count(Status::Blocked);
        let cancelled = count(Status::Cancelled);
        // Blocked and cancelled workflows never ran: they have no duration to compare.
        let ran: Vec<&WorkflowReport> = workflows
            .iter()
            .filter(|w| !matches!(w.status, Status::Blocked | Status::Cancelled))
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
        let step_stats = step_stats(&workflows);
        RunReport {
            step_stats,
            shard: None,
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
            regressions: Vec::new(),
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

    /// The per-step CSV (`report-steps.csv`): the seed's header `Workflow,Step Number,Step
    /// Name,Status,Duration (ms),Error`, then `Attempt`, `Workflow ID` and `Run ID`; one row
    /// per step of each workflow's last attempt (step 0 for a workflow that ran none).
    pub fn to_steps_csv(&self) -> String {
        csv::to_steps_csv(self)
    }

    /// The report as JUnit XML: one test suite, one test case per workflow.
    pub fn to_junit(&self) -> String {
        junit::to_junit(self)
    }

    /// The report as one self-contained HTML page (`report.html`): summary, timeline,
    /// failures with their transcripts, filters and step statistics, opening offline.
    pub fn to_html(&self) -> String {
        html::to_html(self)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// ` (3 tries)` after a polling step's name in the text reports, or nothing.
pub(crate) fn tries_note(step: &StepRecord) -> String {
    match step.try_count {
        0 => String::new(),
        1 => " (1 try)".to_owned(),
        n => format!(" ({n} tries)"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::outcome::progress;

    pub fn step(name: &str, status: StepStatus, ms: u64) -> StepRecord {
        StepRecord {
            error: (status != StepStatus::Passed).then(|| format!("{name} broke")),
            optional: status == StepStatus::Skipped,
            ..StepRecord::new(name, status, Duration::from_millis(ms))
        }
    }

    pub fn workflow(id: &str, name: &str, ms: u64, steps: Vec<StepRecord>) -> WorkflowReport {
        let failed = steps.iter().any(|s| s.status == StepStatus::Failed);
        WorkflowReport {
            workflow_id: id.into(),
            workflow_name: name.into(),
            status: if failed {
                Status::Failed
            } else {
                Status::Completed
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
    fn step_stats_give_percentiles_per_step_of_each_workflow_slowest_first() {
        let steps = |ms: &[u64]| {
            ms.iter()
                .map(|&ms| step("poll", StepStatus::Passed, ms))
                .collect::<Vec<_>>()
        };
        let mut a = steps(&(1..=20).collect::<Vec<_>>());
        a.push(step("login", StepStatus::Passed, 3));
        let b = steps(&[500]);
        let stats = step_stats(&[workflow("a", "A", 0, a), workflow("b", "B", 0, b)]);
        let find = |w: &str, s: &str| {
            stats
                .iter()
                .find(|x| x.workflow_id == w && x.step == s)
                .cloned()
                .unwrap()
        };
        let poll = find("a", "poll");
        assert_eq!(poll.count, 20);
        assert_eq!(poll.p50, Duration::from_millis(10));
        assert_eq!(poll.p95, Duration::from_millis(19));
        assert_eq!(poll.max, Duration::from_millis(20));
        assert_eq!(find("a", "login").p95, Duration::from_millis(3));
        assert_eq!(stats.len(), 3);
        assert_eq!(
            (
                stats[0].step.as_str(),
                stats[1].step.as_str(),
                stats[2].workflow_id.as_str()
            ),
            ("poll", "login", "b"),
            "report order"
        );
        let slowest = slowest_steps(&stats, 2);
        assert_eq!(slowest[0].workflow_id, "b");
        assert_eq!(slowest[1].step, "poll");
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
