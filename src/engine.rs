//! The one scheduler: runs workflows concurrently under a limit, isolates each one (errors,
//! panics, timeouts), and emits events as it goes.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use url::Url;

use crate::ctx::Ctx;
use crate::event::{Event, EventSink};
use crate::report::{self, FailureKind, RunReport, StepSummary, WorkflowReport, WorkflowStatus};
use crate::step::{Recorder, StepStatus};
use crate::workflow::{WorkflowSpec, validate_id};

/// What the engine needs besides the workflows.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The URL paths are joined to; `None` accepts only absolute URLs.
    pub base_url: Option<Url>,
    /// How many workflows run at once (at least 1).
    pub concurrency: usize,
    /// Deadline of a workflow that declares none; `None` waits forever.
    pub default_timeout: Option<Duration>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            base_url: None,
            concurrency: 16,
            default_timeout: Some(Duration::from_secs(300)),
        }
    }
}

/// The workflows handed to a run are not a valid set.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SuiteError {
    /// An id breaks the id rules.
    #[error("{reason}{}", at(.location))]
    InvalidId {
        /// What is wrong.
        reason: String,
        /// Where the workflow was registered.
        location: Option<String>,
    },
    /// Two workflows share an id.
    #[error("two workflows have the id {id:?}: one registered{}, the other{}", at(.first), at(.second))]
    DuplicateId {
        /// The id.
        id: String,
        /// Where the first was registered.
        first: Option<String>,
        /// Where the second was registered.
        second: Option<String>,
    },
}

fn at(location: &Option<String>) -> String {
    location
        .as_deref()
        .map_or_else(String::new, |l| format!(" at {l}"))
}

/// Checks ids: each valid, none repeated. Nothing runs when this fails.
pub fn validate(workflows: &[WorkflowSpec]) -> Result<(), SuiteError> {
    let mut seen: std::collections::HashMap<&str, &WorkflowSpec> = Default::default();
    for w in workflows {
        validate_id(&w.id).map_err(|reason| SuiteError::InvalidId {
            reason,
            location: w.location.clone(),
        })?;
        if let Some(first) = seen.insert(&w.id, w) {
            return Err(SuiteError::DuplicateId {
                id: w.id.clone(),
                first: first.location.clone(),
                second: w.location.clone(),
            });
        }
    }
    Ok(())
}

/// Runs sets of workflows with one shared HTTP client.
pub struct Engine {
    client: reqwest::Client,
    config: EngineConfig,
    subscribers: Vec<mpsc::UnboundedSender<Event>>,
}

impl Engine {
    /// An engine with its own HTTP client (rustls, connection pooling).
    pub fn new(config: EngineConfig) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder().build()?;
        Ok(Engine::with_client(config, client))
    }

    /// An engine using `client`, e.g. one with a request timeout or proxy settings.
    pub fn with_client(mut config: EngineConfig, client: reqwest::Client) -> Self {
        // `0` would never start anything.
        config.concurrency = config.concurrency.max(1);
        Engine {
            client,
            config,
            subscribers: Vec::new(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// A stream of every event of the runs started after this call. Unbounded: events are
    /// never dropped, whatever the subscriber's pace.
    pub fn subscribe(&mut self) -> mpsc::UnboundedReceiver<Event> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.subscribers.push(tx);
        rx
    }

    /// Runs `workflows` (in the given order, `concurrency` at a time) and returns the report,
    /// one entry per workflow in the same order. Fails before running anything when the ids are
    /// invalid or repeated.
    pub async fn run(&self, workflows: Vec<WorkflowSpec>) -> Result<RunReport, SuiteError> {
        validate(&workflows)?;
        let events = EventSink::new(self.subscribers.clone());
        let start_time = SystemTime::now();
        let started = Instant::now();
        events.emit(Event::RunStarted {
            workflows: workflows
                .iter()
                .map(|w| (w.id.clone(), w.name.clone()))
                .collect(),
            at: start_time,
        });

        let slots = Arc::new(Semaphore::new(self.config.concurrency));
        let mut running = JoinSet::new();
        let mut entries: Vec<Option<WorkflowReport>> = vec![None; workflows.len()];
        let specs: Vec<WorkflowSpec> = workflows;
        for (index, spec) in specs.iter().cloned().enumerate() {
            // Admitting in order (rather than spawning everything and letting tasks race for
            // permits) makes the start order the given order.
            let Ok(permit) = slots.clone().acquire_owned().await else {
                break; // never closed
            };
            let run = Supervisor {
                client: self.client.clone(),
                base_url: self.config.base_url.clone(),
                timeout: spec.timeout.or(self.config.default_timeout),
                events: events.clone(),
            };
            running.spawn(async move {
                let entry = run.run(spec).await;
                drop(permit);
                (index, entry)
            });
            // Collect what already finished so memory stays flat on large runs.
            while let Some(done) = running.try_join_next() {
                if let Ok((i, entry)) = done {
                    entries[i] = Some(entry);
                }
            }
        }
        while let Some(done) = running.join_next().await {
            if let Ok((i, entry)) = done {
                entries[i] = Some(entry);
            }
        }

        let workflows = entries
            .into_iter()
            .zip(&specs)
            .map(|(entry, spec)| entry.unwrap_or_else(|| lost(spec)))
            .collect();
        let report = RunReport::new(workflows, start_time, started.elapsed());
        events.emit(Event::RunFinished {
            report: Arc::new(report.clone()),
        });
        Ok(report)
    }
}

/// The entry of a workflow whose supervisor itself died: never expected, but the report must
/// still hold every workflow once.
fn lost(spec: &WorkflowSpec) -> WorkflowReport {
    let now = SystemTime::now();
    WorkflowReport {
        workflow_id: spec.id.clone(),
        workflow_name: spec.name.clone(),
        status: WorkflowStatus::Failed,
        progress: 0.0,
        current_step: "Failed".into(),
        start_time: now,
        end_time: now,
        duration: Duration::ZERO,
        error: Some("internal error: the workflow's supervisor task ended abnormally".into()),
        failure_kind: Some(FailureKind::Panic),
        tags: spec.tags.clone(),
        planned_steps: spec.planned_steps,
        result: StepSummary::new(Vec::new()),
    }
}

/// How a workflow's task ended.
enum Ending {
    Ok,
    Err(anyhow::Error),
    Panic(String),
    Timeout(Duration),
}

/// Runs one workflow in its own task and watches it from outside, so an error, a panic or a
/// blocked thread in the workflow cannot take the supervisor down with it.
struct Supervisor {
    client: reqwest::Client,
    base_url: Option<Url>,
    timeout: Option<Duration>,
    events: EventSink,
}

impl Supervisor {
    async fn run(self, spec: WorkflowSpec) -> WorkflowReport {
        let recorder = Recorder::default();
        let ctx = Ctx::new(
            spec.id.clone(),
            self.client,
            self.base_url,
            recorder.clone(),
            self.events.clone(),
            spec.planned_steps,
        );
        let start_time = SystemTime::now();
        let started = Instant::now();
        self.events.emit(Event::WorkflowStarted {
            workflow_id: spec.id.clone(),
            workflow_name: spec.name.clone(),
            at: start_time,
        });

        let body = spec.run.clone();
        let mut task = tokio::spawn(async move {
            let mut ctx = ctx;
            body(&mut ctx).await
        });
        let joined = match self.timeout {
            None => Some((&mut task).await),
            // The timer lives in this task, not the workflow's: it fires even when the workflow
            // blocks its own thread with synchronous code.
            Some(limit) => tokio::time::timeout(limit, &mut task).await.ok(),
        };
        let ending = match joined {
            Some(Ok(Ok(()))) => Ending::Ok,
            Some(Ok(Err(error))) => Ending::Err(error),
            Some(Err(join_error)) => Ending::Panic(panic_message(join_error)),
            None => {
                task.abort();
                Ending::Timeout(self.timeout.unwrap_or_default())
            }
        };
        let duration = started.elapsed();

        let steps = recorder.close(|step| match &ending {
            Ending::Panic(msg) => format!("panicked: {msg}"),
            Ending::Timeout(limit) => {
                format!("timed out: the workflow's {limit:?} deadline passed")
            }
            // The body returned while a step was open only if it bypassed `Ctx::step`'s end,
            // which cannot happen; name it anyway rather than lose the step.
            _ => format!("step {step:?} did not finish"),
        });
        let failed_step = steps
            .iter()
            .rev()
            .find(|s| s.status == StepStatus::Failed)
            .map(|s| s.name.clone());
        let (status, error, failure_kind) = match ending {
            Ending::Ok => (WorkflowStatus::Completed, None, None),
            Ending::Err(e) => (
                WorkflowStatus::Failed,
                Some(format!("{e:#}")),
                Some(FailureKind::Error),
            ),
            Ending::Panic(msg) => {
                let place = failed_step.as_deref().map_or_else(
                    || "the workflow panicked".to_owned(),
                    |s| format!("step {s:?} panicked"),
                );
                (
                    WorkflowStatus::Failed,
                    Some(format!("{place}: {msg}")),
                    Some(FailureKind::Panic),
                )
            }
            Ending::Timeout(limit) => {
                let place = failed_step
                    .as_deref()
                    .map_or_else(String::new, |s| format!(" in step {s:?}"));
                (
                    WorkflowStatus::Failed,
                    Some(format!("timed out after {limit:?}{place}")),
                    Some(FailureKind::Timeout),
                )
            }
        };
        let completed = status == WorkflowStatus::Completed;
        let done = steps
            .iter()
            .filter(|s| s.status != StepStatus::Failed)
            .count();
        let planned = spec.planned_steps.or(Some(steps.len()));
        let entry = WorkflowReport {
            workflow_id: spec.id,
            workflow_name: spec.name,
            status,
            progress: report::progress(done, planned, completed),
            current_step: if completed {
                "Completed".into()
            } else {
                failed_step.unwrap_or_else(|| "Failed".into())
            },
            start_time,
            end_time: start_time + duration,
            duration,
            error,
            failure_kind,
            tags: spec.tags,
            planned_steps: spec.planned_steps,
            result: StepSummary::new(steps),
        };
        self.events.emit(Event::WorkflowFinished {
            workflow: Box::new(entry.clone()),
        });
        entry
    }
}

fn panic_message(error: tokio::task::JoinError) -> String {
    match error.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(non-string panic payload)".into()),
        Err(error) => format!("the workflow's task was cancelled: {error}"),
    }
}
