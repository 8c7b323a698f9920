//! `--history`: one row per workflow (or per step of one workflow) over the last N recorded
//! runs of a suite: runs, pass %, flaky (or skipped) %, p50/p95 duration, last status, and
//! the trend against the N runs before.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::db::Value;
use super::{HistoryError, Store};

/// A trend counts when the median moved by at least this fraction…
const TREND_FRACTION: f64 = 0.10;
/// …and by at least this many milliseconds (a 1 ms step is not "50 % slower").
const TREND_MIN_MS: i64 = 5;

/// How a median duration compares with the previous window's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trend {
    /// At least 10 % (and 5 ms) faster.
    Faster,
    /// At least 10 % (and 5 ms) slower.
    Slower,
    /// Within that.
    Steady,
    /// Nothing to compare with: no runs before the window.
    New,
}

impl Trend {
    fn as_str(self) -> &'static str {
        match self {
            Trend::Faster => "faster",
            Trend::Slower => "slower",
            Trend::Steady => "steady",
            Trend::New => "new",
        }
    }
}

/// One workflow's (or step's) figures over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryRow {
    /// The workflow id, or the step name.
    pub id: String,
    /// Runs of the window it was recorded in.
    pub runs: usize,
    /// Passed (workflows: completed) in percent of `runs`.
    pub pass_rate: f64,
    /// Workflows: flaky (passed on a retry) in percent of `runs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flaky_rate: Option<f64>,
    /// Steps: skipped (a failed optional step) in percent of `runs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_rate: Option<f64>,
    /// Median duration in milliseconds (of the runs where it ran).
    pub p50_ms: i64,
    /// 95th percentile duration in milliseconds.
    pub p95_ms: i64,
    /// Its status in the newest run of the window.
    pub last_status: String,
    /// The median against the previous window's.
    pub trend: Trend,
    /// The median's change against the previous window's, in percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_percent: Option<f64>,
    /// Its status in each run of the window, oldest first (the dashboard's strip).
    pub statuses: Vec<String>,
    /// Its duration in each run of the window, oldest first (the dashboard's sparkline).
    pub durations: Vec<i64>,
}

/// The answer of `--history` (or `--history-steps ID`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct History {
    /// The suite.
    pub suite: String,
    /// The workflow whose steps these are (`--history-steps`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow_id: Option<String>,
    /// Runs in the window (at most the N asked for).
    pub runs: usize,
    /// Runs of the suite recorded in all.
    pub recorded: usize,
    /// One row per workflow (by id) or step (in step order).
    pub rows: Vec<HistoryRow>,
}

/// One recorded sample: in which run (0 = oldest of the query), of what, how it went.
struct Sample {
    run: usize,
    key: String,
    status: String,
    duration: i64,
    flaky: bool,
}

impl Store {
    /// Per workflow over the last `runs` runs of `suite`.
    pub fn workflow_history(&mut self, suite: &str, runs: usize) -> Result<History, HistoryError> {
        let result = self.db.query(
            "SELECT w.run_id, w.workflow_id, w.status, w.duration_ms, w.flaky
             FROM workflows w JOIN runs r ON r.run_id = w.run_id
             WHERE w.run_id IN (SELECT run_id FROM runs WHERE suite = $1
                                ORDER BY started_at DESC, run_id DESC LIMIT $2)
             ORDER BY r.started_at, r.run_id, w.workflow_id",
            &[suite.into(), window_rows(runs)],
        );
        let rows = result.map_err(|m| self.error(m))?;
        let (samples, total_runs) = samples(&rows, |r| {
            (r[1].string(), r[2].string(), r[3].int(), r[4].int() != 0)
        });
        let recorded = self.run_count(suite)?;
        Ok(History {
            suite: suite.to_owned(),
            workflow_id: None,
            runs: total_runs.min(runs),
            recorded,
            rows: summarize(samples, total_runs, runs, false),
        })
    }

    /// Per step of `workflow_id` over the last `runs` runs of `suite`.
    pub fn step_history(
        &mut self,
        suite: &str,
        workflow_id: &str,
        runs: usize,
    ) -> Result<History, HistoryError> {
        let result = self.db.query(
            "SELECT s.run_id, s.name, s.status, s.duration_ms, s.idx
             FROM steps s JOIN runs r ON r.run_id = s.run_id
             WHERE s.workflow_id = $2
               AND s.run_id IN (SELECT run_id FROM runs WHERE suite = $1
                                ORDER BY started_at DESC, run_id DESC LIMIT $3)
             ORDER BY r.started_at, r.run_id, s.idx",
            &[suite.into(), workflow_id.into(), window_rows(runs)],
        );
        let rows = result.map_err(|m| self.error(m))?;
        // Steps keep the order they run in: by their first index, then first appearance.
        let mut order: BTreeMap<String, (i64, usize)> = BTreeMap::new();
        for (n, r) in rows.iter().enumerate() {
            let entry = order.entry(r[1].string()).or_insert((r[4].int(), n));
            entry.0 = entry.0.min(r[4].int());
        }
        let (samples, total_runs) =
            samples(&rows, |r| (r[1].string(), r[2].string(), r[3].int(), false));
        let recorded = self.run_count(suite)?;
        let mut table = summarize(samples, total_runs, runs, true);
        table.sort_by_key(|row| order.get(&row.id).copied().unwrap_or_default());
        Ok(History {
            suite: suite.to_owned(),
            workflow_id: Some(workflow_id.to_owned()),
            runs: total_runs.min(runs),
            recorded,
            rows: table,
        })
    }
}

/// The current window and the one before it, for the trend.
fn window_rows(runs: usize) -> Value {
    i64::try_from(runs.saturating_mul(2))
        .unwrap_or(i64::MAX)
        .into()
}

/// The samples of `rows` (ordered by run, run id first), each run numbered from 0; and how
/// many runs there are.
fn samples(
    rows: &[Vec<Value>],
    read: impl Fn(&[Value]) -> (String, String, i64, bool),
) -> (Vec<Sample>, usize) {
    let mut samples = Vec::with_capacity(rows.len());
    let mut last_run: Option<String> = None;
    let mut run = 0;
    for r in rows {
        let id = r[0].string();
        if last_run.as_ref().is_some_and(|last| *last != id) {
            run += 1;
        }
        last_run = Some(id);
        let (key, status, duration, flaky) = read(r);
        samples.push(Sample {
            run,
            key,
            status,
            duration,
            flaky,
        });
    }
    let total = if last_run.is_some() { run + 1 } else { 0 };
    (samples, total)
}

/// Nearest-rank percentile of sorted values (0 for none).
pub(crate) fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ran(status: &str) -> bool {
    !matches!(status, "blocked" | "cancelled")
}

fn passed(status: &str) -> bool {
    matches!(status, "completed" | "passed")
}

fn summarize(
    samples: Vec<Sample>,
    total_runs: usize,
    window: usize,
    steps: bool,
) -> Vec<HistoryRow> {
    let first_current = total_runs.saturating_sub(window);
    let mut by_key: BTreeMap<String, Vec<Sample>> = BTreeMap::new();
    for s in samples {
        by_key.entry(s.key.clone()).or_default().push(s);
    }
    let mut rows = Vec::new();
    for (key, all) in by_key {
        let (current, previous): (Vec<&Sample>, Vec<&Sample>) =
            all.iter().partition(|s| s.run >= first_current);
        if current.is_empty() {
            continue;
        }
        let n = current.len();
        let rate = |f: &dyn Fn(&Sample) -> bool| {
            let hits = current.iter().filter(|s| f(s)).count();
            crate::outcome::round2(hits as f64 * 100.0 / n as f64)
        };
        let sorted = |of: &[&Sample]| {
            let mut d: Vec<i64> = of
                .iter()
                .filter(|s| ran(&s.status))
                .map(|s| s.duration)
                .collect();
            d.sort_unstable();
            d
        };
        let now = sorted(&current);
        let before = sorted(&previous);
        let (p50, p95) = (percentile(&now, 0.5), percentile(&now, 0.95));
        let (trend, change) = if before.is_empty() || now.is_empty() {
            (Trend::New, None)
        } else {
            let old = percentile(&before, 0.5);
            let change = if old == 0 {
                0.0
            } else {
                (p50 - old) as f64 / old as f64
            };
            let trend = if (p50 - old).abs() < TREND_MIN_MS || change.abs() < TREND_FRACTION {
                Trend::Steady
            } else if p50 < old {
                Trend::Faster
            } else {
                Trend::Slower
            };
            (trend, Some(crate::outcome::round2(change * 100.0)))
        };
        rows.push(HistoryRow {
            id: key,
            runs: n,
            pass_rate: rate(&|s| passed(&s.status)),
            flaky_rate: (!steps).then(|| rate(&|s| s.flaky)),
            skip_rate: steps.then(|| rate(&|s| s.status == "skipped")),
            p50_ms: p50,
            p95_ms: p95,
            last_status: current.last().map(|s| s.status.clone()).unwrap_or_default(),
            trend,
            change_percent: change,
            statuses: current.iter().map(|s| s.status.clone()).collect(),
            durations: current.iter().map(|s| s.duration).collect(),
        });
    }
    rows
}

impl History {
    /// The table `--history` prints.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let what = match &self.workflow_id {
            Some(id) => format!("steps of {id}"),
            None => "workflows".to_owned(),
        };
        let _ = writeln!(
            out,
            "history of {}: {what} over the last {} run(s) ({} recorded)",
            self.suite, self.runs, self.recorded
        );
        if self.rows.is_empty() {
            let _ = writeln!(out, "  nothing recorded");
            return out;
        }
        let width = self
            .rows
            .iter()
            .map(|r| r.id.chars().count())
            .max()
            .unwrap_or(0)
            .max(8);
        let third = if self.workflow_id.is_some() {
            "skip %"
        } else {
            "flaky %"
        };
        let _ = writeln!(
            out,
            "{:<width$}  {:>4}  {:>6}  {:>7}  {:>7}  {:>7}  {:<9}  trend",
            if self.workflow_id.is_some() {
                "step"
            } else {
                "workflow"
            },
            "runs",
            "pass %",
            third,
            "p50 ms",
            "p95 ms",
            "last",
        );
        for r in &self.rows {
            let third = r.flaky_rate.or(r.skip_rate).unwrap_or(0.0);
            let trend = match r.change_percent {
                Some(c) if r.trend != Trend::Steady => format!("{} ({c:+.0} %)", r.trend.as_str()),
                _ => r.trend.as_str().to_owned(),
            };
            let _ = writeln!(
                out,
                "{:<width$}  {:>4}  {:>6.1}  {:>7.1}  {:>7}  {:>7}  {:<9}  {trend}",
                crate::text::terminal_safe(&r.id),
                r.runs,
                r.pass_rate,
                third,
                r.p50_ms,
                r.p95_ms,
                r.last_status,
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<i64> = (1..=20).collect();
        assert_eq!(percentile(&v, 0.5), 10);
        assert_eq!(percentile(&v, 0.95), 19);
        assert_eq!(percentile(&[7], 0.95), 7);
        assert_eq!(percentile(&[], 0.5), 0);
    }
}
