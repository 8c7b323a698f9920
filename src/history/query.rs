//! Reading recorded runs back: the latest run's failures (`--last-failed`), a page of runs
//! (serve mode's list), one run's stored report, serve mode's next run number.

use serde::Serialize;

use super::db::{Db, DbResult, Value};
use super::{HistoryError, Store};
use crate::report::RunReport;

/// The latest recorded run of a suite and the workflows `--last-failed` runs again.
#[derive(Debug, Clone, PartialEq)]
pub struct LastRun {
    /// Its id.
    pub run_id: String,
    /// How many workflows it recorded.
    pub workflows: usize,
    /// The ones that failed, were blocked, cancelled or flaky, in id order.
    pub rerun: Vec<String>,
}

/// One recorded run, as serve mode lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    /// Its id.
    pub run_id: String,
    /// `cargo`, `nextest`, `serve` or `executor`.
    pub source: String,
    /// Start, epoch milliseconds.
    pub started_at: i64,
    /// End, epoch milliseconds.
    pub ended_at: i64,
    /// The process's exit code, when recorded.
    pub exit_code: Option<i64>,
    /// It was interrupted.
    pub interrupted: bool,
    /// Its workflows, in id order.
    pub workflow_ids: Vec<String>,
    /// How many workflows it recorded.
    pub total_workflows: usize,
    /// How many completed.
    pub completed: usize,
    /// How many failed or were blocked.
    pub failed: usize,
    /// Whether its report is stored (serve mode's runs).
    pub has_report: bool,
    /// The schedule that started it (serve mode's scheduled runs).
    pub schedule: Option<String>,
}

impl Store {
    /// The latest run of `suite` (by start time), or `None` when none is recorded.
    pub fn last_run(&mut self, suite: &str) -> Result<Option<LastRun>, HistoryError> {
        let result = (|| {
            let runs = self.db.query(
                "SELECT run_id FROM runs WHERE suite = $1
                 ORDER BY started_at DESC, run_id DESC LIMIT 1",
                &[suite.into()],
            )?;
            let Some(run_id) = runs.first().and_then(|r| r.first()).map(Value::string) else {
                return Ok(None);
            };
            let rows = self.db.query(
                "SELECT workflow_id, status, flaky FROM workflows WHERE run_id = $1
                 ORDER BY workflow_id",
                &[run_id.as_str().into()],
            )?;
            let rerun = rows
                .iter()
                .filter(|r| r[1].text() != Some("completed") || r[2].int() != 0)
                .map(|r| r[0].string())
                .collect();
            Ok(Some(LastRun {
                run_id,
                workflows: rows.len(),
                rerun,
            }))
        })();
        result.map_err(|m| self.error(m))
    }

    /// Up to `limit` runs, newest first; with `before` (a run id) those older than it. Every
    /// suite's runs, or only `suite`'s.
    pub fn runs(
        &mut self,
        suite: Option<&str>,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<RunSummary>, HistoryError> {
        let result = (|| {
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let mut sql = format!("{SUMMARY_COLUMNS} WHERE 1 = 1");
            let mut params: Vec<Value> = Vec::new();
            if let Some(suite) = suite {
                params.push(suite.into());
                sql.push_str(&format!(" AND r.suite = ${}", params.len()));
            }
            if let Some(before) = before {
                let at = self.db.query(
                    "SELECT started_at FROM runs WHERE run_id = $1",
                    &[before.into()],
                )?;
                let Some(at) = at.first().and_then(|r| r.first()).map(Value::int) else {
                    return Ok(Vec::new());
                };
                params.push(at.into());
                let a = params.len();
                params.push(before.into());
                let b = params.len();
                sql.push_str(&format!(
                    " AND (r.started_at < ${a} OR (r.started_at = ${a} AND r.run_id < ${b}))"
                ));
            }
            params.push(limit.into());
            sql.push_str(&format!(
                " ORDER BY r.started_at DESC, r.run_id DESC LIMIT ${}",
                params.len()
            ));
            let rows = self.db.query(&sql, &params)?;
            summaries(&mut self.db, rows)
        })();
        result.map_err(|m| self.error(m))
    }

    /// The stored report of a run (serve mode's runs store theirs).
    pub fn report(&mut self, run_id: &str) -> Result<Option<RunReport>, HistoryError> {
        let result = self.db.query(
            "SELECT report FROM reports WHERE run_id = $1",
            &[run_id.into()],
        );
        let rows = result.map_err(|m| self.error(m))?;
        let Some(text) = rows.first().and_then(|r| r.first()).map(Value::string) else {
            return Ok(None);
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| self.error(format!("the stored report of {run_id} is unreadable: {e}")))
    }

    /// The highest serve-mode run number recorded (0 when none): a restarted server goes on
    /// from the next one.
    pub fn last_serve_seq(&mut self) -> Result<i64, HistoryError> {
        let result = self.db.query("SELECT MAX(serve_seq) FROM runs", &[]);
        let rows = result.map_err(|m| self.error(m))?;
        Ok(rows.first().and_then(|r| r.first()).map_or(0, Value::int))
    }

    /// How many runs of `suite` are recorded.
    pub fn run_count(&mut self, suite: &str) -> Result<usize, HistoryError> {
        let result = self.db.query(
            "SELECT COUNT(*) FROM runs WHERE suite = $1",
            &[suite.into()],
        );
        let rows = result.map_err(|m| self.error(m))?;
        let n = rows.first().and_then(|r| r.first()).map_or(0, Value::int);
        Ok(usize::try_from(n).unwrap_or(0))
    }
}

impl Store {
    /// Serve mode's runs (`source = serve`) of `suite`, newest first by their number; with
    /// `before` only those numbered below it.
    pub fn serve_runs(
        &mut self,
        suite: &str,
        limit: usize,
        before: Option<i64>,
    ) -> Result<Vec<RunSummary>, HistoryError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let sql = format!(
            "{SUMMARY_COLUMNS} WHERE r.suite = $1 AND r.source = 'serve' AND r.serve_seq < $2
             ORDER BY r.serve_seq DESC LIMIT $3"
        );
        let params = [
            suite.into(),
            before.unwrap_or(i64::MAX).into(),
            limit.into(),
        ];
        let result = self
            .db
            .query(&sql, &params)
            .and_then(|rows| summaries(&mut self.db, rows));
        result.map_err(|m| self.error(m))
    }

    /// The summary of one recorded run.
    pub fn run_summary(&mut self, run_id: &str) -> Result<Option<RunSummary>, HistoryError> {
        let sql = format!("{SUMMARY_COLUMNS} WHERE r.run_id = $1");
        let result = self
            .db
            .query(&sql, &[run_id.into()])
            .and_then(|rows| summaries(&mut self.db, rows));
        result.map(|mut runs| runs.pop()).map_err(|m| self.error(m))
    }
}

/// What [`summaries`] reads of a run.
const SUMMARY_COLUMNS: &str = "SELECT r.run_id, r.source, r.started_at, r.ended_at, r.exit_code,
        r.interrupted, (SELECT COUNT(*) FROM reports p WHERE p.run_id = r.run_id), r.schedule
    FROM runs r";

/// The runs of `rows` (read with [`SUMMARY_COLUMNS`]), with their workflows.
fn summaries(db: &mut Db, rows: Vec<Vec<Value>>) -> DbResult<Vec<RunSummary>> {
    let mut runs = Vec::with_capacity(rows.len());
    for r in rows {
        let run_id = r[0].string();
        let workflows = db.query(
            "SELECT workflow_id, status FROM workflows WHERE run_id = $1
             ORDER BY workflow_id",
            &[run_id.as_str().into()],
        )?;
        let count = |s: &[&str]| {
            workflows
                .iter()
                .filter(|w| s.contains(&w[1].text().unwrap_or("")))
                .count()
        };
        runs.push(RunSummary {
            run_id,
            source: r[1].string(),
            started_at: r[2].int(),
            ended_at: r[3].int(),
            exit_code: match r[4] {
                Value::Null => None,
                ref v => Some(v.int()),
            },
            interrupted: r[5].int() != 0,
            total_workflows: workflows.len(),
            completed: count(&["completed"]),
            failed: count(&["failed", "blocked"]),
            workflow_ids: workflows.iter().map(|w| w[0].string()).collect(),
            has_report: r[6].int() > 0,
            schedule: r[7].text().map(str::to_owned),
        });
    }
    Ok(runs)
}
