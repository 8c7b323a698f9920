//! Drives one run: its own engine (sharing the server's HTTP client), whose events go into
//! the run's log; then the reports go to disk and old runs are forgotten.

use std::sync::Arc;

use crate::engine::Engine;
use crate::event::PlannedWorkflow;
use crate::report::{self, ReportFormat};
use crate::workflow::WorkflowSpec;

use super::AppState;
use super::runs::{Outcome, Run};

/// Registers a run of `workflows` and starts it in the background; returns it at once.
pub(super) fn start(
    state: &AppState,
    requested: Vec<String>,
    workflows: Vec<WorkflowSpec>,
) -> Arc<Run> {
    let planned = workflows.iter().map(PlannedWorkflow::from).collect();
    let run = state.runs.create(requested, planned);
    let mut engine =
        Engine::with_client(state.context.engine.clone(), state.context.client.clone());
    let mut events = engine.subscribe();
    let (state, tracked) = (state.clone(), run.clone());
    tokio::spawn(async move {
        // The engine lives in its task: when the run ends it is dropped, which closes the
        // event channel and ends the loop below after the last event.
        let engine_task = tokio::spawn(async move { engine.run(workflows).await.map(|_| ()) });
        while let Some(event) = events.recv().await {
            tracked.record(event);
        }
        let result = match engine_task.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(suite)) => Err(format!("the workflows cannot run: {suite}")),
            Err(crashed) => Err(format!("the engine task ended abnormally: {crashed}")),
        };
        tracked.finish(result);
        save_and_prune(&state, &tracked).await;
    });
    run
}

/// Writes the run's reports under `<report_dir>/runs/<run id>/`, and deletes the folders of
/// the runs that retention forgets, so the disk holds what the server still lists.
async fn save_and_prune(state: &AppState, run: &Run) {
    let evicted = state.runs.prune();
    let Some(dir) = state.context.report_dir.clone() else {
        return;
    };
    let runs_dir = dir.join("runs");
    let report = match run.outcome() {
        Some(Outcome::Report(report)) => Some(report),
        _ => None,
    };
    let target = runs_dir.join(&run.id);
    let gone: Vec<_> = evicted.iter().map(|r| runs_dir.join(&r.id)).collect();
    let written = tokio::task::spawn_blocking(move || {
        for old in gone {
            let _ = std::fs::remove_dir_all(old);
        }
        match report {
            Some(report) => report::write_reports(&report, &target, &ReportFormat::ALL).map(|_| ()),
            None => Ok(()),
        }
    })
    .await;
    // The reports stay downloadable from memory; a disk problem is only worth a line.
    match written {
        Ok(Err(error)) => eprintln!("serve: {}: {error}", run.id),
        Err(error) => eprintln!("serve: {}: writing the reports failed: {error}", run.id),
        Ok(Ok(())) => {}
    }
}
