//! Serve mode's schedules in the store: each slot claimed before it runs (so no slot runs
//! twice, even across restarts or two servers on one PostgreSQL database), what became of
//! it, and the workflows each schedule has alerted about as failing.

use std::collections::BTreeMap;

use serde::Serialize;

use super::db::Value;
use super::{HistoryError, Store};

/// How many slots are kept per schedule; older ones are pruned when a slot is claimed.
const KEEP_SLOTS: i64 = 1000;

/// What became of a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SlotState {
    /// It ran (or is running).
    Ran,
    /// It was skipped: the schedule's previous run was still going, or the server refused.
    Skipped,
}

impl SlotState {
    fn as_str(self) -> &'static str {
        match self {
            SlotState::Ran => "ran",
            SlotState::Skipped => "skipped",
        }
    }
}

/// One recorded slot of a schedule.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SlotRecord {
    /// The slot, epoch milliseconds.
    pub slot: i64,
    /// Ran or skipped.
    pub state: SlotState,
    /// Its run, when it ran.
    pub run_id: Option<String>,
    /// Why it was skipped.
    pub reason: Option<String>,
    /// Whether its run passed (`None`: skipped, or not recorded yet).
    pub passed: Option<bool>,
}

impl Store {
    /// Claims `slot` (epoch ms) of `schedule`: `true` when this call recorded it, `false`
    /// when it was recorded before (it must not run again). Prunes the schedule's slots
    /// beyond the newest 1000.
    pub fn claim_slot(
        &mut self,
        suite: &str,
        schedule: &str,
        slot: i64,
        state: SlotState,
        reason: Option<&str>,
    ) -> Result<bool, HistoryError> {
        let result = self.db.write(|db| {
            let inserted = db.execute(
                "INSERT INTO schedule_slots (suite, schedule, slot, outcome, reason)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (suite, schedule, slot) DO NOTHING",
                &[
                    suite.into(),
                    schedule.into(),
                    slot.into(),
                    state.as_str().into(),
                    reason.into(),
                ],
            )?;
            db.execute(
                "DELETE FROM schedule_slots WHERE suite = $1 AND schedule = $2 AND slot IN (
                     SELECT slot FROM schedule_slots WHERE suite = $1 AND schedule = $2
                     ORDER BY slot DESC LIMIT 9223372036854775807 OFFSET $3)",
                &[suite.into(), schedule.into(), KEEP_SLOTS.into()],
            )?;
            Ok(inserted > 0)
        });
        result.map_err(|m| self.error(m))
    }

    /// Says what a claimed slot became: its run, or skipped with `reason`.
    pub fn settle_slot(
        &mut self,
        suite: &str,
        schedule: &str,
        slot: i64,
        run_id: Option<&str>,
        reason: Option<&str>,
    ) -> Result<(), HistoryError> {
        let state = if run_id.is_some() {
            SlotState::Ran
        } else {
            SlotState::Skipped
        };
        let result = self.db.execute(
            "UPDATE schedule_slots SET outcome = $4, run_id = $5, reason = $6
             WHERE suite = $1 AND schedule = $2 AND slot = $3",
            &[
                suite.into(),
                schedule.into(),
                slot.into(),
                state.as_str().into(),
                run_id.into(),
                reason.into(),
            ],
        );
        result.map(drop).map_err(|m| self.error(m))
    }

    /// The latest recorded slot of `schedule` (epoch ms).
    pub fn last_slot(&mut self, suite: &str, schedule: &str) -> Result<Option<i64>, HistoryError> {
        let result = self.db.query(
            "SELECT MAX(slot) FROM schedule_slots WHERE suite = $1 AND schedule = $2",
            &[suite.into(), schedule.into()],
        );
        let rows = result.map_err(|m| self.error(m))?;
        Ok(match rows.first().and_then(|r| r.first()) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.int()),
        })
    }

    /// The newest `limit` slots of `schedule`, oldest first, with whether their runs passed.
    pub fn slots(
        &mut self,
        suite: &str,
        schedule: &str,
        limit: usize,
    ) -> Result<Vec<SlotRecord>, HistoryError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let result = self.db.query(
            "SELECT s.slot, s.outcome, s.run_id, s.reason, r.exit_code
             FROM schedule_slots s LEFT JOIN runs r ON r.run_id = s.run_id
             WHERE s.suite = $1 AND s.schedule = $2 ORDER BY s.slot DESC LIMIT $3",
            &[suite.into(), schedule.into(), limit.into()],
        );
        let rows = result.map_err(|m| self.error(m))?;
        let mut slots: Vec<SlotRecord> = rows
            .into_iter()
            .map(|r| SlotRecord {
                slot: r[0].int(),
                state: if r[1].text() == Some("skipped") {
                    SlotState::Skipped
                } else {
                    SlotState::Ran
                },
                run_id: r[2].text().map(str::to_owned),
                reason: r[3].text().map(str::to_owned),
                passed: match r[4] {
                    Value::Null => None,
                    ref code => Some(code.int() == 0),
                },
            })
            .collect();
        slots.reverse();
        Ok(slots)
    }

    /// The workflows `schedule` has alerted about as failing: workflow id → the run where
    /// the failure began.
    pub fn failing(
        &mut self,
        suite: &str,
        schedule: &str,
    ) -> Result<BTreeMap<String, String>, HistoryError> {
        let result = self.db.query(
            "SELECT workflow_id, failing_since FROM alert_states
             WHERE suite = $1 AND schedule = $2",
            &[suite.into(), schedule.into()],
        );
        let rows = result.map_err(|m| self.error(m))?;
        Ok(rows
            .into_iter()
            .map(|r| (r[0].string(), r[1].string()))
            .collect())
    }

    /// Replaces `schedule`'s failing workflows with `failing`.
    pub fn set_failing(
        &mut self,
        suite: &str,
        schedule: &str,
        failing: &BTreeMap<String, String>,
    ) -> Result<(), HistoryError> {
        let result = self.db.write(|db| {
            db.execute(
                "DELETE FROM alert_states WHERE suite = $1 AND schedule = $2",
                &[suite.into(), schedule.into()],
            )?;
            for (workflow, since) in failing {
                db.execute(
                    "INSERT INTO alert_states (suite, schedule, workflow_id, failing_since)
                     VALUES ($1, $2, $3, $4)",
                    &[
                        suite.into(),
                        schedule.into(),
                        workflow.as_str().into(),
                        since.as_str().into(),
                    ],
                )?;
            }
            Ok(())
        });
        result.map_err(|m| self.error(m))
    }

    /// Keeps a schedule added through the API (`definition`: its JSON), replacing one of the
    /// same name.
    pub fn save_api_schedule(
        &mut self,
        suite: &str,
        name: &str,
        definition: &str,
    ) -> Result<(), HistoryError> {
        let result = self.db.execute(
            "INSERT INTO api_schedules (suite, name, definition) VALUES ($1, $2, $3)
             ON CONFLICT (suite, name) DO UPDATE SET definition = excluded.definition",
            &[suite.into(), name.into(), definition.into()],
        );
        result.map(drop).map_err(|m| self.error(m))
    }

    /// Forgets a schedule added through the API.
    pub fn delete_api_schedule(&mut self, suite: &str, name: &str) -> Result<(), HistoryError> {
        let result = self.db.execute(
            "DELETE FROM api_schedules WHERE suite = $1 AND name = $2",
            &[suite.into(), name.into()],
        );
        result.map(drop).map_err(|m| self.error(m))
    }

    /// The schedules added through the API: `(name, definition)`, by name.
    pub fn api_schedules(&mut self, suite: &str) -> Result<Vec<(String, String)>, HistoryError> {
        let result = self.db.query(
            "SELECT name, definition FROM api_schedules WHERE suite = $1 ORDER BY name",
            &[suite.into()],
        );
        let rows = result.map_err(|m| self.error(m))?;
        Ok(rows
            .into_iter()
            .map(|r| (r[0].string(), r[1].string()))
            .collect())
    }
}
