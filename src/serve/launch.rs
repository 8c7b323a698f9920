//! Drives one run: it waits for its workflow slots (see `slots`), then its own engine
//! (sharing the server's HTTP client, with the slots as its concurrency) runs it and its
//! events go into the run's log; then the reports go to disk and old runs are forgotten.

use std::sync::Arc;

use crate::engine::{Engine, EngineConfig};
use crate::event::{EventKind, PlannedWorkflow};
use crate::report::{self, ReportFormat};
use crate::workflow::WorkflowSpec;

use super::AppState;
use super::error::ApiError;
use super::runs::{Outcome, Run};
use super::slots::{Admission, Held, QueueFull};

/// What a client is told to wait before asking again when the queue is full, in seconds.
pub(super) const RETRY_AFTER_SECS: u64 = 5;

/// Registers a run of `workflows` and starts it in the background (or queues it until its
/// slots are free); returns it at once. Refused while the server stops (503) and when the
/// queue is full (429).
///
/// `engine` is the run's own settings: the server's, or a copy a run request changed for
/// itself (`POST /{workflow}` with `config`), so nothing a request gives outlives its run.
pub(super) fn start(
    state: &AppState,
    requested: Vec<String>,
    workflows: Vec<WorkflowSpec>,
    engine: EngineConfig,
) -> Result<Arc<Run>, ApiError> {
    start_for(state, requested, workflows, engine, None)
}

/// [`start`] for `schedule` (recorded with the run), or for a request (`None`).
pub(super) fn start_for(
    state: &AppState,
    requested: Vec<String>,
    workflows: Vec<WorkflowSpec>,
    engine: EngineConfig,
    schedule: Option<String>,
) -> Result<Arc<Run>, ApiError> {
    if state.is_draining() {
        return Err(ApiError::ShuttingDown);
    }
    let wanted = workflows
        .len()
        .min(engine.concurrency)
        .min(state.slots.max_running())
        .max(1);
    let admission = state
        .slots
        .admit(wanted)
        .map_err(|QueueFull { queued }| ApiError::Busy {
            queued,
            max_queued: state.context.limits.max_queued,
            retry_after: RETRY_AFTER_SECS,
        })?;
    let planned = workflows.iter().map(PlannedWorkflow::from).collect();
    let queued = matches!(admission, Admission::Queued(_));
    let run = state.runs.create(requested, planned, queued, schedule);
    // Nobody following every run is not an error.
    let _ = state.created.send(run.clone());
    let (state, tracked) = (state.clone(), run.clone());
    // Taken before the run can finish, so a stopping server waits for its record.
    let recording = state.recordings.clone().try_acquire_owned().ok();
    let base_url = engine.base_url.as_ref().map(|u| u.to_string());
    tokio::spawn(async move {
        let held = match admission {
            Admission::Now(held) => Some(held),
            Admission::Queued(ticket) => tokio::select! {
                held = ticket.acquire() => held,
                () = state.draining() => None,
            },
        };
        match held {
            Some(held) => {
                tracked.start();
                drive(&state, &tracked, workflows, engine, held).await;
            }
            None => tracked.finish(Err(
                "cancelled: the server stopped before the run got workflow slots".into(),
            )),
        }
        save_and_prune(&state, &tracked).await;
        super::stored::record(&state, &tracked, base_url).await;
        drop(recording);
    });
    Ok(run)
}

/// Runs the workflows with `held.count()` as the engine's concurrency, giving slots back as
/// the unfinished workflows become fewer than the slots held.
async fn drive(
    state: &AppState,
    run: &Run,
    workflows: Vec<WorkflowSpec>,
    mut config: EngineConfig,
    mut held: Held,
) {
    config.concurrency = held.count();
    // When the server stops, the engine itself interrupts the run after the grace, so the run
    // ends with an honest report (`interrupted`, the cut workflows cancelled) instead of none.
    config.interrupt_grace = state.context.limits.shutdown_grace;
    let stopping = state.draining();
    let interrupt = async move {
        stopping.await;
        "server stop".to_owned()
    };
    let mut engine = Engine::with_client(config, state.context.client.clone());
    let mut events = engine.subscribe();
    let mut unfinished = workflows.len();
    // The engine lives in its task: when the run ends it is dropped, which closes the event
    // channel and ends the loop below after the last event.
    let engine_task =
        tokio::spawn(async move { engine.run_until(workflows, interrupt).await.map(|_| ()) });
    while let Some(event) = events.recv().await {
        let finished = matches!(event.kind, EventKind::WorkflowFinished { .. });
        // Recorded first, so no status ever shows a freed slot's workflow still running.
        run.record(event);
        if finished {
            // A finished workflow never runs again, so at most `unfinished` run from now on.
            unfinished = unfinished.saturating_sub(1);
            held.shrink_to(unfinished);
        }
    }
    drop(held);
    let result = match engine_task.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(suite)) => Err(format!("the workflows cannot run: {suite}")),
        Err(crashed) => Err(format!("the engine task ended abnormally: {crashed}")),
    };
    run.finish(result);
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
        Ok(Err(error)) => eprintln!("serve: {}: {:#}", run.id, anyhow::Error::from(error)),
        Err(error) => eprintln!("serve: {}: writing the reports failed: {error}", run.id),
        Ok(Ok(())) => {}
    }
}
