//! Regressions of a run against the recorded ones: steps well above their recorded p95, a
//! workflow that starts failing after a streak of passes, one that flips between pass and
//! fail. Computed before the run is recorded, so it is compared with its past only.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::db::Value;
use super::stats::percentile;
use super::{HistoryError, Store};
use crate::outcome::Status;
use crate::report::RunReport;
use crate::step::StepStatus;

/// How many recent runs flips are counted over.
const FLIP_WINDOW: usize = 10;

/// The changes between pass and fail within [`FLIP_WINDOW`] runs that make a workflow
/// "flipping".
const FLIPS: usize = 3;

/// When a step is a regression, and when a workflow's record is worth naming.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// A step is slower when its duration exceeds its recorded p95 × this factor…
    pub factor: f64,
    /// …by at least this much (a 3 ms step taking 6 ms is noise)…
    pub min_excess: Duration,
    /// …and at least this many passed runs of it are recorded.
    pub min_runs: usize,
    /// A workflow "starts failing" when it fails after at least this many passes in a row.
    pub fail_streak: usize,
    /// Recent runs the p95 is taken over.
    pub window: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            factor: 1.5,
            min_excess: Duration::from_millis(50),
            min_runs: 5,
            fail_streak: 3,
            window: 20,
        }
    }
}

/// Something in a run that its history says is worse than before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[non_exhaustive]
pub enum Regression {
    /// A passed step took well over its recorded p95.
    #[serde(rename_all = "camelCase")]
    SlowStep {
        /// The workflow.
        workflow_id: String,
        /// The step's name.
        step: String,
        /// Its duration in this run, in milliseconds.
        duration_ms: i64,
        /// Its recorded p95, in milliseconds.
        p95_ms: i64,
        /// How many recorded runs the p95 is taken over.
        samples: usize,
    },
    /// A workflow failed after passing `passes` times in a row.
    #[serde(rename_all = "camelCase")]
    StartedFailing {
        /// The workflow.
        workflow_id: String,
        /// Its passes in a row before this failure.
        passes: usize,
    },
    /// A workflow changed between pass and fail `flips` times over the last `runs` runs.
    #[serde(rename_all = "camelCase")]
    Flipping {
        /// The workflow.
        workflow_id: String,
        /// Changes between pass and fail.
        flips: usize,
        /// Runs counted, this one included.
        runs: usize,
    },
}

impl Regression {
    /// The line the summary block prints.
    pub fn describe(&self) -> String {
        match self {
            Regression::SlowStep {
                workflow_id,
                step,
                duration_ms,
                p95_ms,
                samples,
            } => format!(
                "{workflow_id} / {step}: {duration_ms} ms, recorded p95 {p95_ms} ms ({samples} runs)"
            ),
            Regression::StartedFailing {
                workflow_id,
                passes,
            } => format!("{workflow_id}: failing after {passes} passes in a row"),
            Regression::Flipping {
                workflow_id,
                flips,
                runs,
            } => {
                format!("{workflow_id}: flipped between pass and fail {flips} times in {runs} runs")
            }
        }
    }
}

impl Store {
    /// The regressions of `report` (not yet recorded as `run_id`) against `suite`'s history.
    pub fn regressions(
        &mut self,
        suite: &str,
        run_id: &str,
        report: &RunReport,
        thresholds: &Thresholds,
    ) -> Result<Vec<Regression>, HistoryError> {
        let window = i64::try_from(thresholds.window.max(FLIP_WINDOW)).unwrap_or(i64::MAX);
        let recent = "SELECT run_id FROM runs WHERE suite = $1
                      ORDER BY started_at DESC, run_id DESC LIMIT $2";
        let steps = self.db.query(
            &format!(
                "SELECT s.workflow_id, s.name, s.duration_ms FROM steps s
                 WHERE s.status = 'passed' AND s.run_id <> $3 AND s.run_id IN ({recent})"
            ),
            &[suite.into(), window.into(), run_id.into()],
        );
        let steps = steps.map_err(|m| self.error(m))?;
        let statuses = self.db.query(
            &format!(
                "SELECT w.workflow_id, w.status FROM workflows w JOIN runs r ON r.run_id = w.run_id
                 WHERE w.run_id <> $3 AND w.run_id IN ({recent})
                 ORDER BY r.started_at, r.run_id"
            ),
            &[suite.into(), window.into(), run_id.into()],
        );
        let statuses = statuses.map_err(|m| self.error(m))?;
        Ok(find(report, &steps, &statuses, thresholds))
    }
}

fn find(
    report: &RunReport,
    steps: &[Vec<Value>],
    statuses: &[Vec<Value>],
    t: &Thresholds,
) -> Vec<Regression> {
    let mut durations: HashMap<(String, String), Vec<i64>> = HashMap::new();
    for r in steps {
        durations
            .entry((r[0].string(), r[1].string()))
            .or_default()
            .push(r[2].int());
    }
    let mut past: BTreeMap<String, Vec<bool>> = BTreeMap::new();
    for r in statuses {
        match r[1].text() {
            Some("completed") => past.entry(r[0].string()).or_default().push(true),
            Some("failed") => past.entry(r[0].string()).or_default().push(false),
            _ => {}
        }
    }
    let min_excess = i64::try_from(t.min_excess.as_millis()).unwrap_or(i64::MAX);
    let mut found = Vec::new();
    for w in &report.workflows {
        for step in &w.result.steps {
            if step.status != StepStatus::Passed {
                continue;
            }
            let Some(recorded) = durations.get_mut(&(w.workflow_id.clone(), step.name.clone()))
            else {
                continue;
            };
            if recorded.len() < t.min_runs.max(1) {
                continue;
            }
            recorded.sort_unstable();
            let p95 = percentile(recorded, 0.95);
            let took = i64::try_from(step.duration.as_millis()).unwrap_or(i64::MAX);
            if took as f64 > p95 as f64 * t.factor && took - p95 >= min_excess {
                found.push(Regression::SlowStep {
                    workflow_id: w.workflow_id.clone(),
                    step: step.name.clone(),
                    duration_ms: took,
                    p95_ms: p95,
                    samples: recorded.len(),
                });
            }
        }
        let now = match w.status {
            Status::Completed => true,
            Status::Failed => false,
            _ => continue,
        };
        let before = past
            .get(&w.workflow_id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let streak = before.iter().rev().take_while(|p| **p).count();
        if !now && t.fail_streak > 0 && streak >= t.fail_streak {
            found.push(Regression::StartedFailing {
                workflow_id: w.workflow_id.clone(),
                passes: streak,
            });
            continue;
        }
        let mut recent: Vec<bool> = before
            .iter()
            .rev()
            .take(FLIP_WINDOW - 1)
            .rev()
            .copied()
            .collect();
        recent.push(now);
        let flips = recent.windows(2).filter(|p| p[0] != p[1]).count();
        if flips >= FLIPS {
            found.push(Regression::Flipping {
                workflow_id: w.workflow_id.clone(),
                flips,
                runs: recent.len(),
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::{step, workflow};

    fn rows(history: &[(&str, &str)]) -> Vec<Vec<Value>> {
        history
            .iter()
            .map(|(id, status)| vec![Value::from(*id), Value::from(*status)])
            .collect()
    }

    fn now(passed: bool) -> RunReport {
        let status = if passed {
            StepStatus::Passed
        } else {
            StepStatus::Failed
        };
        RunReport::new(
            vec![workflow("w", "W", 5, vec![step("s", status, 5)])],
            std::time::SystemTime::UNIX_EPOCH,
            Duration::ZERO,
        )
    }

    #[test]
    fn flipping_and_started_failing_are_told_apart() {
        let t = Thresholds::default();
        let flips = rows(&[("w", "completed"), ("w", "failed"), ("w", "completed")]);
        let found = find(&now(false), &[], &flips, &t);
        assert_eq!(
            found,
            [Regression::Flipping {
                workflow_id: "w".into(),
                flips: 3,
                runs: 4
            }]
        );
        assert!(
            found[0]
                .describe()
                .contains("flipped between pass and fail 3 times in 4 runs")
        );
        let streak = rows(&[
            ("w", "failed"),
            ("w", "completed"),
            ("w", "completed"),
            ("w", "completed"),
        ]);
        let found = find(&now(false), &[], &streak, &t);
        assert_eq!(
            found,
            [Regression::StartedFailing {
                workflow_id: "w".into(),
                passes: 3
            }]
        );
        // Two passes are not a streak of three; a pass after them is nothing.
        let short = rows(&[("w", "completed"), ("w", "completed")]);
        assert!(find(&now(false), &[], &short, &t).is_empty());
        assert!(find(&now(true), &[], &streak, &t).is_empty());
        // Blocked and cancelled runs are neither pass nor fail.
        let other = rows(&[
            ("w", "completed"),
            ("w", "blocked"),
            ("w", "failed"),
            ("w", "cancelled"),
        ]);
        assert!(find(&now(true), &[], &other, &t).is_empty());
    }

    #[test]
    fn a_slow_step_needs_enough_runs_and_a_real_excess() {
        let t = Thresholds::default();
        let mut report = now(true);
        report.workflows[0].result.steps[0].duration = Duration::from_millis(100);
        let sample = |n: usize, ms: i64| -> Vec<Vec<Value>> {
            (0..n)
                .map(|_| vec![Value::from("w"), Value::from("s"), Value::Int(ms)])
                .collect()
        };
        assert_eq!(find(&report, &sample(5, 40), &[], &t).len(), 1);
        assert!(
            find(&report, &sample(4, 40), &[], &t).is_empty(),
            "too few runs"
        );
        assert!(
            find(&report, &sample(9, 60), &[], &t).is_empty(),
            "under 1.5 × p95"
        );
        report.workflows[0].result.steps[0].duration = Duration::from_millis(20);
        assert!(
            find(&report, &sample(9, 5), &[], &t).is_empty(),
            "4× but 15 ms"
        );
    }
}
