//! Events the engine emits while it runs: the one source of live progress for the libtest
//! front end, the programmatic API's status callbacks and (later) the HTTP API.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::Serialize;
use tokio::sync::mpsc;

use crate::report::{RunReport, WorkflowReport};
use crate::step::StepRecord;
use crate::workflow::WorkflowSpec;

/// A workflow as the run plans it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedWorkflow {
    /// Its id.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Its priority.
    pub priority: i32,
    /// The workflows it waits for.
    pub depends_on: Vec<String>,
    /// It runs only because a selected workflow depends on it.
    pub as_dependency: bool,
}

impl From<&WorkflowSpec> for PlannedWorkflow {
    fn from(w: &WorkflowSpec) -> Self {
        PlannedWorkflow {
            id: w.id.clone(),
            name: w.name.clone(),
            priority: w.priority,
            depends_on: w.depends_on.clone(),
            as_dependency: w.as_dependency,
        }
    }
}

/// Something that happened during a run. Events of one workflow arrive in order.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Event {
    /// The run began; lists the workflows in the order they were given.
    #[serde(rename_all = "camelCase")]
    RunStarted {
        /// Every workflow of the run.
        workflows: Vec<PlannedWorkflow>,
        /// Epoch milliseconds.
        #[serde(with = "crate::report::epoch_millis")]
        at: SystemTime,
    },
    /// A workflow got a concurrency slot and began.
    #[serde(rename_all = "camelCase")]
    WorkflowStarted {
        /// Its id.
        workflow_id: String,
        /// Its display name.
        workflow_name: String,
        /// Epoch milliseconds.
        #[serde(with = "crate::report::epoch_millis")]
        at: SystemTime,
    },
    /// A step began.
    #[serde(rename_all = "camelCase")]
    StepStarted {
        /// The workflow's id.
        workflow_id: String,
        /// Zero-based position of the step in the workflow.
        index: usize,
        /// The step's name.
        step: String,
    },
    /// A step ended.
    #[serde(rename_all = "camelCase")]
    StepFinished {
        /// The workflow's id.
        workflow_id: String,
        /// Zero-based position of the step in the workflow.
        index: usize,
        /// What it did.
        step: StepRecord,
        /// Progress of the workflow after this step, 0–100.
        progress: f64,
    },
    /// An attempt failed and the workflow will run again after `delay`.
    #[serde(rename_all = "camelCase")]
    WorkflowRetrying {
        /// The workflow's id.
        workflow_id: String,
        /// The number of the coming attempt (2 for the first retry).
        attempt: u32,
        /// Why the previous attempt failed.
        error: String,
        /// The wait before it.
        #[serde(with = "crate::report::millis")]
        delay: Duration,
    },
    /// A workflow ended (completed, failed, blocked or cancelled); carries its report entry.
    #[serde(rename_all = "camelCase")]
    WorkflowFinished {
        /// The workflow's report entry.
        workflow: Box<WorkflowReport>,
    },
    /// The run ended; carries the aggregate report.
    #[serde(rename_all = "camelCase")]
    RunFinished {
        /// The whole report.
        report: Arc<RunReport>,
    },
}

/// Fans events out to every subscriber. Unbounded, so a slow subscriber never makes the engine
/// wait and never loses an event; a subscriber that went away is skipped.
#[derive(Debug, Clone, Default)]
pub(crate) struct EventSink(Arc<Vec<mpsc::UnboundedSender<Event>>>);

impl EventSink {
    pub fn new(senders: Vec<mpsc::UnboundedSender<Event>>) -> Self {
        EventSink(Arc::new(senders))
    }

    pub fn emit(&self, event: Event) {
        if let Some((last, rest)) = self.0.split_last() {
            for sender in rest {
                let _ = sender.send(event.clone());
            }
            let _ = last.send(event);
        }
    }
}
