//! Recording a finished run: the run, each workflow, each step, in one transaction; then
//! the oldest runs beyond `keep_runs` are pruned.
//!
//! Statuses are stored from the outcome types (`Status`, `FailureKind`, `StepStatus`), not
//! from how a report spells them, so a change of the report's wording changes no history.

use std::time::{SystemTime, UNIX_EPOCH};

use super::db::{Db, DbResult, Value};
use super::meta::{RunMeta, Source};
use super::{HistoryError, Store};
use crate::outcome::{FailureKind, Status};
use crate::report::RunReport;
use crate::step::StepStatus;

/// The stored name of a workflow's status.
pub(crate) fn status_name(status: Status) -> &'static str {
    match status {
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

fn kind_name(kind: FailureKind) -> &'static str {
    match kind {
        FailureKind::Error => "error",
        FailureKind::Panic => "panic",
        FailureKind::Timeout => "timeout",
        FailureKind::Blocked => "blocked",
        FailureKind::Cancelled => "cancelled",
        FailureKind::Interrupted => "interrupted",
    }
}

/// The stored name of a step's status.
pub(crate) fn step_status_name(status: StepStatus) -> &'static str {
    match status {
        StepStatus::Passed => "passed",
        StepStatus::Failed => "failed",
        StepStatus::Skipped => "skipped",
    }
}

pub(crate) fn epoch_ms(t: SystemTime) -> i64 {
    let ms = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
    i64::try_from(ms).unwrap_or(i64::MAX)
}

fn ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    /// Records `report` as the run `meta` describes, in one transaction, then prunes the
    /// suite's oldest runs beyond `keep_runs`.
    ///
    /// Several processes may record into one run (nextest's, keyed by `NEXTEST_RUN_ID`): the
    /// run's row keeps the earliest start, the latest end, the highest exit code; each
    /// workflow's row is its latest recording. Under nextest a workflow that ran only as
    /// another's dependency is left to its own process.
    pub fn record(&mut self, report: &RunReport, meta: &RunMeta) -> Result<(), HistoryError> {
        let keep = self.keep_runs;
        let result = self.db.write(|db| {
            write_run(db, report, meta)?;
            prune(db, &meta.suite, keep)
        });
        result.map_err(|m| self.error(m))
    }
}

fn write_run(db: &mut Db, report: &RunReport, meta: &RunMeta) -> DbResult<()> {
    let source = meta.source.unwrap_or(Source::Cargo);
    let shared = source == Source::Nextest;
    let started = epoch_ms(report.start_time);
    let ended = started.saturating_add(ms(report.total_duration));
    db.execute(
        "INSERT INTO runs (run_id, suite, source, started_at, ended_at, base_url, selection,
             exit_code, interrupted, shard, git_commit, git_branch, ci_build, serve_seq,
             schedule)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT (run_id) DO UPDATE SET
             started_at = CASE WHEN excluded.started_at < runs.started_at
                 THEN excluded.started_at ELSE runs.started_at END,
             ended_at = CASE WHEN excluded.ended_at > runs.ended_at
                 THEN excluded.ended_at ELSE runs.ended_at END,
             exit_code = CASE WHEN runs.exit_code IS NULL OR excluded.exit_code > runs.exit_code
                 THEN excluded.exit_code ELSE runs.exit_code END,
             interrupted = CASE WHEN excluded.interrupted > runs.interrupted
                 THEN excluded.interrupted ELSE runs.interrupted END",
        &[
            meta.run_id.as_str().into(),
            meta.suite.as_str().into(),
            source.as_str().into(),
            started.into(),
            ended.into(),
            meta.base_url.clone().into(),
            meta.selection.as_str().into(),
            meta.exit_code.map(i64::from).into(),
            report.interrupted.into(),
            meta.shard.clone().into(),
            meta.git_commit.clone().into(),
            meta.git_branch.clone().into(),
            meta.ci_build.clone().into(),
            meta.serve_seq.into(),
            meta.schedule.clone().into(),
        ],
    )?;
    for w in &report.workflows {
        if shared && w.as_dependency {
            continue;
        }
        let run_id: Value = meta.run_id.as_str().into();
        let workflow_id: Value = w.workflow_id.as_str().into();
        db.execute(
            "INSERT INTO workflows (run_id, workflow_id, name, status, failure_kind, error,
                 started_at, duration_ms, attempts, flaky, tags, as_dependency)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (run_id, workflow_id) DO UPDATE SET
                 name = excluded.name, status = excluded.status,
                 failure_kind = excluded.failure_kind, error = excluded.error,
                 started_at = excluded.started_at, duration_ms = excluded.duration_ms,
                 attempts = excluded.attempts, flaky = excluded.flaky, tags = excluded.tags,
                 as_dependency = excluded.as_dependency",
            &[
                run_id.clone(),
                workflow_id.clone(),
                w.workflow_name.as_str().into(),
                status_name(w.status).into(),
                w.failure_kind.map(kind_name).into(),
                w.error.clone().into(),
                epoch_ms(w.start_time).into(),
                ms(w.duration).into(),
                i64::try_from(w.attempts.len()).unwrap_or(i64::MAX).into(),
                w.flaky.into(),
                w.tags.join(",").into(),
                w.as_dependency.into(),
            ],
        )?;
        if shared {
            // A process nextest retried replaces the steps of the earlier one.
            db.execute(
                "DELETE FROM steps WHERE run_id = $1 AND workflow_id = $2",
                &[run_id.clone(), workflow_id.clone()],
            )?;
        }
        for (i, step) in w.result.steps.iter().enumerate() {
            db.execute(
                "INSERT INTO steps (run_id, workflow_id, idx, name, status, duration_ms, error,
                     optional)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    run_id.clone(),
                    workflow_id.clone(),
                    i64::try_from(i).unwrap_or(i64::MAX).into(),
                    step.name.as_str().into(),
                    step_status_name(step.status).into(),
                    ms(step.duration).into(),
                    step.error.clone().into(),
                    step.optional.into(),
                ],
            )?;
        }
    }
    if source == Source::Serve {
        let json = serde_json::to_string(report).map_err(|e| e.to_string())?;
        db.execute(
            "INSERT INTO reports (run_id, report) VALUES ($1, $2)
             ON CONFLICT (run_id) DO UPDATE SET report = excluded.report",
            &[meta.run_id.as_str().into(), json.into()],
        )?;
    }
    Ok(())
}

/// Deletes the suite's runs beyond the newest `keep`, with their workflows, steps and
/// reports.
fn prune(db: &mut Db, suite: &str, keep: usize) -> DbResult<()> {
    let count = db.query(
        "SELECT COUNT(*) FROM runs WHERE suite = $1",
        &[suite.into()],
    )?;
    let count = count.first().and_then(|r| r.first()).map_or(0, Value::int);
    let keep = i64::try_from(keep).unwrap_or(i64::MAX);
    if count <= keep {
        return Ok(());
    }
    // PostgreSQL spells "no limit" `LIMIT ALL`, SQLite `LIMIT -1`: a limit larger than any
    // table is the same for both.
    let old = "SELECT run_id FROM runs WHERE suite = $1
               ORDER BY started_at DESC, run_id DESC LIMIT 9223372036854775807 OFFSET $2";
    for table in ["steps", "workflows", "reports", "runs"] {
        db.execute(
            &format!("DELETE FROM {table} WHERE run_id IN ({old})"),
            &[suite.into(), keep.into()],
        )?;
    }
    Ok(())
}
