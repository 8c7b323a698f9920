//! Scheduled runs and alerts: serve mode as a synthetic monitor.
//!
//! - [`Schedule`]: a name, a [`Cron`] in a time zone, a selection (ids, tags) and per-run
//!   setting overrides; from `[[schedule]]` in harness.toml or `POST
//!   /api/test-workflows/schedules`;
//! - [`Alert`]: a webhook (`[[alert]]`) told when a scheduled workflow starts failing and
//!   when it recovers (`alert` builds the messages and delivers them, retried with backoff);
//! - [`Clock`]: the time the schedules run on (the system's, or a manual one in tests).
//!
//! Serve mode (`crate::serve`) drives them; the history store keeps the slots run and the
//! alert state, so a restarted server neither runs a slot twice nor alerts twice.

pub mod alert;
mod clock;
mod cron;

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};
use url::Url;

pub use alert::{Alert, AlertFormat, Transition};
pub use clock::{Clock, ManualClock};
pub use cron::Cron;

/// One scheduled run of a selection of the suite.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Its name: unique, recorded with each of its runs.
    pub name: String,
    /// When it runs.
    pub cron: Cron,
    /// The workflows it runs (empty: every workflow, unless tags say).
    pub workflow_ids: Vec<String>,
    /// Only workflows with one of these tags.
    pub tags: Vec<String>,
    /// Leave out workflows with one of these tags.
    pub skip_tags: Vec<String>,
    /// Engine settings for its runs (keys of [`crate::config::run_settings`]: `base_url`,
    /// `concurrency`, `retries`…), as a run request's `config`.
    pub config: Map<String, Value>,
}

/// A schedule as harness.toml and the API write it (`workflow_ids` or `workflowIds`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    /// See [`Schedule::name`].
    pub name: String,
    /// The 5-field cron expression.
    pub cron: String,
    /// The IANA time zone the expression is read in (default `UTC`).
    #[serde(default, alias = "timeZone", alias = "tz")]
    pub timezone: Option<String>,
    /// See [`Schedule::workflow_ids`].
    #[serde(default, alias = "workflowIds")]
    pub workflow_ids: Vec<String>,
    /// See [`Schedule::tags`].
    #[serde(default)]
    pub tags: Vec<String>,
    /// See [`Schedule::skip_tags`].
    #[serde(default, alias = "skipTags")]
    pub skip_tags: Vec<String>,
    /// See [`Schedule::config`].
    #[serde(default)]
    pub config: Map<String, Value>,
}

impl ScheduleSpec {
    /// The schedule, checked: its name, cron expression, zone and settings; the error names
    /// the schedule and what is wrong.
    pub fn check(self) -> Result<Schedule, String> {
        let name = self.name.trim().to_owned();
        let fail = |reason: String| format!("schedule {name:?}: {reason}");
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(format!(
                "schedule name {name:?}: expected letters, digits, '-', '_' or '.'"
            ));
        }
        let zone = self.timezone.as_deref().unwrap_or("UTC");
        let cron = Cron::parse(&self.cron, zone).map_err(fail)?;
        let overrides = crate::config::run_overrides(&self.config).map_err(fail)?;
        crate::config::override_engine(&crate::EngineConfig::default(), &overrides)
            .map_err(fail)?;
        Ok(Schedule {
            name,
            cron,
            workflow_ids: self.workflow_ids,
            tags: self.tags,
            skip_tags: self.skip_tags,
            config: self.config,
        })
    }
}

impl Schedule {
    /// The selection as a run request's body (`request::select` reads it).
    /// Nothing named: every workflow of `all`.
    pub fn selection(&self, all: &[crate::WorkflowSpec]) -> Value {
        let mut body = Map::new();
        let mut put = |key: &str, list: &[String]| {
            if !list.is_empty() {
                body.insert(key.to_owned(), serde_json::json!(list));
            }
        };
        put("workflowIds", &self.workflow_ids);
        put("tags", &self.tags);
        put("skipTags", &self.skip_tags);
        if self.workflow_ids.is_empty() && self.tags.is_empty() {
            let ids: Vec<&str> = all.iter().map(|w| w.id.as_str()).collect();
            body.insert("workflowIds".into(), serde_json::json!(ids));
        }
        Value::Object(body)
    }

    /// How the API and the dashboard show it.
    pub fn describe(&self) -> Value {
        serde_json::json!({
            "name": self.name,
            "cron": self.cron.expression(),
            "timezone": self.cron.zone(),
            "workflowIds": self.workflow_ids,
            "tags": self.tags,
            "skipTags": self.skip_tags,
            "config": self.config,
        })
    }
}

/// `[[schedule]]` entries of harness.toml, checked, names unique; an error comes with the
/// index of the entry it is about.
pub(crate) fn from_toml(entries: Vec<toml::Value>) -> Result<Vec<Schedule>, (usize, String)> {
    let mut schedules: Vec<Schedule> = Vec::with_capacity(entries.len());
    for (i, entry) in entries.into_iter().enumerate() {
        let spec: ScheduleSpec = entry.try_into().map_err(|e: toml::de::Error| {
            (i, format!("[[schedule]] #{}: {}", i + 1, e.message()))
        })?;
        let schedule = spec.check().map_err(|reason| (i, reason))?;
        if schedules.iter().any(|s| s.name == schedule.name) {
            return Err((
                i,
                format!(
                    "schedule {:?}: the name is given twice (names are unique)",
                    schedule.name
                ),
            ));
        }
        schedules.push(schedule);
    }
    Ok(schedules)
}

/// `[[alert]]` entries of harness.toml, checked; an error comes with the entry's index.
pub(crate) fn alerts_from_toml(entries: Vec<toml::Value>) -> Result<Vec<Alert>, (usize, String)> {
    entries
        .into_iter()
        .enumerate()
        .map(|(i, entry)| {
            let spec: alert::AlertSpec = entry.try_into().map_err(|e: toml::de::Error| {
                (i, format!("[[alert]] #{}: {}", i + 1, e.message()))
            })?;
            spec.check()
                .map_err(|reason| (i, format!("[[alert]] #{}: {reason}", i + 1)))
        })
        .collect()
}

/// What serve mode schedules: the schedules, the alerts, the clock they run on, and where
/// an alert's links point.
#[derive(Debug, Clone, Default)]
pub struct Scheduling {
    /// The schedules of harness.toml (the API adds and removes others at run time).
    pub schedules: Vec<Schedule>,
    /// The webhooks told about failures and recoveries.
    pub alerts: Vec<Alert>,
    /// The clock (the system's unless a test says otherwise).
    pub clock: Clock,
    /// The server's address as alert readers reach it (`[api] public_url`; unset: the
    /// address the server listens on).
    pub public_url: Option<Url>,
    /// Told of every slot once it is handled (the run finished and its alerts queued, or
    /// the slot skipped): for tests and embedding programs.
    pub observer: Option<tokio::sync::mpsc::UnboundedSender<SlotNote>>,
}

/// What became of one slot of a schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotNote {
    /// The schedule.
    pub schedule: String,
    /// The slot's time.
    pub slot: chrono::DateTime<chrono::Utc>,
    /// What happened.
    pub outcome: SlotOutcome,
}

/// How a slot ended.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SlotOutcome {
    /// It ran as `run_id`; `passed` when no workflow failed.
    Ran {
        /// The run.
        run_id: String,
        /// No workflow failed.
        passed: bool,
    },
    /// The schedule's previous run was still going (or the server refused the run): not
    /// run, never stacked.
    Skipped {
        /// Why.
        reason: String,
    },
}

/// The longest an alert delivery waits between attempts, whatever the backoff says.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(600);
