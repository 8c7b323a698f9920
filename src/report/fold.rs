//! The run report as a fold over the run's events, like every other output: `runStarted`
//! plans the entries, each `workflowFinished` fills one, `runInterrupted` marks the run, and
//! `runFinished` completes it. The engine builds no report; a new output is one more fold.

use std::collections::HashMap;
use std::time::SystemTime;

use tokio::sync::mpsc::UnboundedReceiver;

use crate::event::{Event, EventKind, LateGuard, PlannedWorkflow};

use super::{RunReport, WorkflowReport};

/// Folds one run's events into its [`RunReport`].
#[derive(Debug, Default)]
pub struct ReportFold {
    planned: Vec<PlannedWorkflow>,
    index: HashMap<String, usize>,
    entries: Vec<Option<WorkflowReport>>,
    run_id: String,
    start_time: Option<SystemTime>,
    interrupted: bool,
    guard: LateGuard,
    report: Option<RunReport>,
}

impl ReportFold {
    /// Folds `event` in; returns the workflow's entry when it is a `workflowFinished`.
    pub fn apply(&mut self, event: &Event) -> Option<&WorkflowReport> {
        if !self.guard.admit(&event.kind) {
            return None;
        }
        match &event.kind {
            EventKind::RunStarted { workflows } => {
                self.run_id = event.run_id.to_string();
                self.start_time = Some(event.at);
                self.index = workflows
                    .iter()
                    .enumerate()
                    .map(|(i, w)| (w.id.clone(), i))
                    .collect();
                self.entries = vec![None; workflows.len()];
                self.planned = workflows.clone();
            }
            EventKind::WorkflowFinished { outcome } => {
                let &i = self.index.get(&outcome.workflow_id)?;
                let entry = WorkflowReport::new(&self.planned[i], (**outcome).clone());
                self.entries[i] = Some(entry);
                return self.entries[i].as_ref();
            }
            EventKind::RunInterrupted { .. } => self.interrupted = true,
            EventKind::RunFinished { duration } => {
                let entries = std::mem::take(&mut self.entries).into_iter().flatten();
                let start = self.start_time.unwrap_or(event.at);
                let mut report = RunReport::new(entries.collect(), start, *duration);
                report.run_id = self.run_id.clone();
                report.interrupted = self.interrupted;
                self.report = Some(report);
            }
            _ => {}
        }
        None
    }

    /// The report, once `runFinished` was folded in.
    pub fn report(&self) -> Option<&RunReport> {
        self.report.as_ref()
    }

    /// The report, once `runFinished` was folded in.
    pub fn into_report(self) -> Option<RunReport> {
        self.report
    }
}

/// Folds `events` until `runFinished` (`None` if the stream ends before it).
pub async fn collect(mut events: UnboundedReceiver<Event>) -> Option<RunReport> {
    let mut fold = ReportFold::default();
    while let Some(event) = events.recv().await {
        fold.apply(&event);
        if fold.report().is_some() {
            break;
        }
    }
    fold.into_report()
}
