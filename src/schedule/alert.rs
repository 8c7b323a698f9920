//! Alerts: a scheduled workflow's transition to failing, and its recovery, told to webhooks
//! (generic JSON, or Slack-compatible `{"text": …}`).
//!
//! [`transitions`] decides (a pure function of what was failing and the new report), so an
//! alert is never repeated while a failure persists. Delivery is one queue and one task per
//! webhook: its messages go out in order, each retried with doubling delays on the
//! schedule's clock, and logged; a webhook that is down only ever holds its own queue, never
//! the schedules.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use url::Url;

use super::{Clock, MAX_RETRY_DELAY};
use crate::outcome::Status;
use crate::report::RunReport;
use crate::step::StepStatus;

/// How many messages one webhook may have waiting; beyond, new ones are dropped (logged),
/// so a webhook down for days does not grow memory without bound.
const QUEUE: usize = 1000;

/// What a webhook receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum AlertFormat {
    /// A JSON object with the event's fields (see the README).
    #[default]
    Json,
    /// `{"text": "…"}`, which Slack's (and Mattermost's, Teams' workflow) incoming webhooks
    /// take.
    Slack,
}

/// One `[[alert]]` webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Where messages are POSTed.
    pub url: Url,
    /// Their shape.
    pub format: AlertFormat,
    /// The schedules it is told about (empty: all).
    pub schedules: Vec<String>,
    /// Attempts after the first before a message is given up (logged).
    pub retries: u32,
    /// The wait before the first retry; each further one doubles it (at most
    /// [`MAX_RETRY_DELAY`]).
    pub retry_delay: Duration,
    /// Deadline of one attempt.
    pub timeout: Duration,
}

/// `[[alert]]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlertSpec {
    url: String,
    #[serde(default)]
    format: AlertFormat,
    #[serde(default)]
    schedules: Vec<String>,
    #[serde(default)]
    retries: Option<u32>,
    #[serde(default)]
    retry_delay: Option<String>,
    #[serde(default)]
    timeout: Option<String>,
}

impl AlertSpec {
    pub(crate) fn check(self) -> Result<Alert, String> {
        let url = Url::parse(self.url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
            .ok_or_else(|| format!("url {:?}: expected an http or https URL", self.url))?;
        let duration = |key: &str, text: Option<String>, default: Duration| match text {
            None => Ok(default),
            Some(text) => humantime::parse_duration(text.trim())
                .map_err(|e| format!("{key} {text:?}: {e}: expected e.g. \"2s\"")),
        };
        let timeout = duration("timeout", self.timeout, Duration::from_secs(10))?;
        if timeout.is_zero() {
            return Err("timeout: must be longer than zero".into());
        }
        Ok(Alert {
            url,
            format: self.format,
            schedules: self.schedules,
            retries: self.retries.unwrap_or(5),
            retry_delay: duration("retry_delay", self.retry_delay, Duration::from_secs(1))?,
            timeout,
        })
    }
}

impl Alert {
    /// Whether it is told about `schedule`.
    pub fn covers(&self, schedule: &str) -> bool {
        self.schedules.is_empty() || self.schedules.iter().any(|s| s == schedule)
    }
}

/// A change of a workflow's state between two runs of a schedule.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    /// It failed, after passing (or on its first run).
    Failing {
        /// The workflow.
        workflow_id: String,
        /// Its name.
        workflow_name: String,
        /// The first step that failed, if a step did.
        step: Option<String>,
        /// Why.
        error: Option<String>,
    },
    /// It passed again.
    Recovered {
        /// The workflow.
        workflow_id: String,
        /// Its name.
        workflow_name: String,
        /// The run where it started failing.
        failing_since: String,
    },
}

/// The transitions `report` (the run `run_id`) makes, given `failing` (workflow id → run
/// where it started failing), which is updated. Only a failure (not a workflow blocked by a
/// failed dependency, nor one cancelled or cut by a stop) counts as failing, only a
/// completion as recovery; anything else leaves the state as it was.
pub fn transitions(
    failing: &mut BTreeMap<String, String>,
    report: &RunReport,
    run_id: &str,
) -> Vec<Transition> {
    let mut changes = Vec::new();
    for w in &report.workflows {
        match w.status {
            Status::Failed if !failing.contains_key(&w.workflow_id) => {
                failing.insert(w.workflow_id.clone(), run_id.to_owned());
                let step = w
                    .result
                    .steps
                    .iter()
                    .find(|s| s.status == StepStatus::Failed);
                changes.push(Transition::Failing {
                    workflow_id: w.workflow_id.clone(),
                    workflow_name: w.workflow_name.clone(),
                    step: step.map(|s| s.name.clone()),
                    error: step
                        .and_then(|s| s.error.clone())
                        .or_else(|| w.error.clone()),
                });
            }
            Status::Completed => {
                if let Some(since) = failing.remove(&w.workflow_id) {
                    changes.push(Transition::Recovered {
                        workflow_id: w.workflow_id.clone(),
                        workflow_name: w.workflow_name.clone(),
                        failing_since: since,
                    });
                }
            }
            _ => {}
        }
    }
    changes
}

/// One message about one transition.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The schedule.
    pub schedule: String,
    /// The run that showed the transition.
    pub run_id: String,
    /// The run's page (its status in the API).
    pub run_url: String,
    /// When it was seen.
    pub at: chrono::DateTime<chrono::Utc>,
    /// What changed.
    pub transition: Transition,
}

impl Message {
    /// The body `format` sends.
    pub fn body(&self, format: AlertFormat) -> Value {
        let at = self.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut body = json!({
            "schedule": self.schedule,
            "runId": self.run_id,
            "runUrl": self.run_url,
            "at": at,
        });
        let text = match &self.transition {
            Transition::Failing {
                workflow_id,
                workflow_name,
                step,
                error,
            } => {
                body["event"] = json!("failing");
                body["workflowId"] = json!(workflow_id);
                body["workflowName"] = json!(workflow_name);
                body["step"] = json!(step);
                body["error"] = json!(error);
                let step = step
                    .as_deref()
                    .map(|s| format!(" at step \"{s}\""))
                    .unwrap_or_default();
                let error = error
                    .as_deref()
                    .map(|e| format!(": {}", short(e)))
                    .unwrap_or_default();
                format!(
                    ":red_circle: {workflow_name} ({workflow_id}) is failing on schedule \
                     {}{step}{error} (<{}|{}>)",
                    self.schedule, self.run_url, self.run_id
                )
            }
            Transition::Recovered {
                workflow_id,
                workflow_name,
                failing_since,
            } => {
                body["event"] = json!("recovered");
                body["workflowId"] = json!(workflow_id);
                body["workflowName"] = json!(workflow_name);
                body["failingSince"] = json!(failing_since);
                format!(
                    ":large_green_circle: {workflow_name} ({workflow_id}) recovered on schedule \
                     {} (failing since {failing_since}) (<{}|{}>)",
                    self.schedule, self.run_url, self.run_id
                )
            }
        };
        match format {
            AlertFormat::Json => body,
            AlertFormat::Slack => json!({ "text": text }),
        }
    }
}

/// The delivery queues, one per webhook.
#[derive(Debug, Clone)]
pub struct Deliveries {
    queues: Vec<(Alert, mpsc::Sender<Message>)>,
}

impl Deliveries {
    /// Starts one delivery task per alert (on the current runtime), sending with `client`
    /// and waiting between attempts on `clock`.
    pub fn start(alerts: &[Alert], client: reqwest::Client, clock: Clock) -> Deliveries {
        let queues = alerts
            .iter()
            .map(|alert| {
                let (sender, receiver) = mpsc::channel(QUEUE);
                tokio::spawn(deliver(
                    alert.clone(),
                    receiver,
                    client.clone(),
                    clock.clone(),
                ));
                (alert.clone(), sender)
            })
            .collect();
        Deliveries { queues }
    }

    /// Queues `message` for every webhook covering its schedule; never waits.
    pub fn send(&self, message: &Message) {
        for (alert, queue) in &self.queues {
            if !alert.covers(&message.schedule) {
                continue;
            }
            if queue.try_send(message.clone()).is_err() {
                eprintln!(
                    "alert: {}: {QUEUE} messages are waiting already: dropped the one about {}",
                    alert.url, message.run_id
                );
            }
        }
    }
}

/// The task of one webhook: each message in turn, retried with backoff, every attempt that
/// fails logged.
async fn deliver(
    alert: Alert,
    mut queue: mpsc::Receiver<Message>,
    client: reqwest::Client,
    clock: Clock,
) {
    while let Some(message) = queue.recv().await {
        let body = message.body(alert.format);
        let mut delay = alert.retry_delay;
        let attempts = alert.retries.saturating_add(1);
        for attempt in 1..=attempts {
            let sent = client
                .post(alert.url.clone())
                .timeout(alert.timeout)
                .json(&body)
                .send()
                .await;
            let failure = match sent {
                Ok(response) if response.status().is_success() => None,
                Ok(response) => Some(format!("answered {}", response.status())),
                Err(error) => Some(chain(&error)),
            };
            let Some(failure) = failure else {
                eprintln!(
                    "alert: {}: delivered ({} of {}, {}) on attempt {attempt}",
                    alert.url,
                    event_name(&message.transition),
                    workflow_of(&message.transition),
                    message.run_id
                );
                break;
            };
            if attempt == attempts {
                eprintln!(
                    "alert: {}: attempt {attempt} of {attempts} failed ({failure}): gave up the \
                     message about {} in {}",
                    alert.url,
                    workflow_of(&message.transition),
                    message.run_id
                );
                break;
            }
            eprintln!(
                "alert: {}: attempt {attempt} of {attempts} failed ({failure}); retrying in {}",
                alert.url,
                humantime::format_duration(delay)
            );
            clock.sleep(delay).await;
            delay = (delay * 2).min(MAX_RETRY_DELAY);
        }
    }
}

fn event_name(t: &Transition) -> &'static str {
    match t {
        Transition::Failing { .. } => "failing",
        Transition::Recovered { .. } => "recovery",
    }
}

fn workflow_of(t: &Transition) -> &str {
    match t {
        Transition::Failing { workflow_id, .. } | Transition::Recovered { workflow_id, .. } => {
            workflow_id
        }
    }
}

/// At most 500 characters of `text`, so one huge error body does not make a huge message.
fn short(text: &str) -> String {
    match text.char_indices().nth(500) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// An error with its causes (reqwest's own message says little: "error sending request").
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::report::WorkflowReport;
    use crate::step::StepRecord;

    fn workflow(id: &str, status: Status) -> WorkflowReport {
        let steps = match status {
            Status::Failed => vec![
                StepRecord::new("Open", StepStatus::Passed, Duration::ZERO),
                StepRecord {
                    error: Some("500 from /x".into()),
                    ..StepRecord::new("Pay", StepStatus::Failed, Duration::ZERO)
                },
            ],
            _ => Vec::new(),
        };
        WorkflowReport {
            status,
            error: (status != Status::Completed).then(|| "it broke".into()),
            ..crate::report::tests::workflow(id, &id.to_uppercase(), 0, steps)
        }
    }

    fn run(workflows: Vec<WorkflowReport>) -> RunReport {
        RunReport::new(workflows, SystemTime::UNIX_EPOCH, Duration::ZERO)
    }

    #[test]
    fn only_changes_are_transitions() {
        let mut failing = BTreeMap::new();
        let first = transitions(
            &mut failing,
            &run(vec![
                workflow("a", Status::Failed),
                workflow("b", Status::Completed),
                workflow("c", Status::Blocked),
            ]),
            "run-1",
        );
        assert_eq!(
            first,
            [Transition::Failing {
                workflow_id: "a".into(),
                workflow_name: "A".into(),
                step: Some("Pay".into()),
                error: Some("500 from /x".into()),
            }],
            "a passing first run and a blocked workflow say nothing"
        );
        // Still failing; cancelled (a stop) changes nothing either.
        let again = run(vec![
            workflow("a", Status::Failed),
            workflow("b", Status::Cancelled),
        ]);
        assert!(transitions(&mut failing, &again, "run-2").is_empty());
        let back = transitions(
            &mut failing,
            &run(vec![workflow("a", Status::Completed)]),
            "run-3",
        );
        assert_eq!(
            back,
            [Transition::Recovered {
                workflow_id: "a".into(),
                workflow_name: "A".into(),
                failing_since: "run-1".into(),
            }]
        );
        assert!(failing.is_empty());
    }

    #[test]
    fn slack_messages_are_one_text_field() {
        let message = Message {
            schedule: "s".into(),
            run_id: "run-3".into(),
            run_url: "http://h/api/test-workflows/runs/run-3".into(),
            at: chrono::DateTime::UNIX_EPOCH,
            transition: Transition::Failing {
                workflow_id: "a".into(),
                workflow_name: "A".into(),
                step: Some("Pay".into()),
                error: Some("x".repeat(2000)),
            },
        };
        let slack = message.body(AlertFormat::Slack);
        let text = slack["text"].as_str().unwrap();
        assert!(
            text.contains("A (a) is failing on schedule s at step \"Pay\""),
            "{text}"
        );
        assert!(text.len() < 1000, "a huge error is cut: {}", text.len());
        assert!(text.ends_with("(<http://h/api/test-workflows/runs/run-3|run-3>)"));
        let json = message.body(AlertFormat::Json);
        assert_eq!(json["event"], "failing");
        assert_eq!(json["at"], "1970-01-01T00:00:00Z");
        assert_eq!(
            json["error"].as_str().unwrap().len(),
            2000,
            "JSON keeps it whole"
        );
    }
}
