//! Where workflow code runs: each running workflow on a thread of its own, apart from the
//! engine's tasks.
//!
//! A workflow may block its thread (synchronous code, `std::thread::sleep`). On a shared
//! runtime that stalls whatever else the blocked worker holds: timers, the task in its LIFO
//! slot (tokio-rs/tokio#4730), the supervisor that should time the workflow out, and once
//! blockers outnumber the workers, every other workflow. So each workflow body is driven by
//! `Handle::block_on` on a thread of the workload runtime's blocking pool: a blocked workflow
//! holds only its own thread. The runtime's workers drive I/O, timers and whatever a workflow
//! spawns; the engine, the supervisors, their deadlines and every event consumer stay on the
//! caller's runtime, which runs no workflow code. Deadlines are then decided by elapsed time
//! on a runtime no workflow can stall, however many block.
//!
//! The runtime lives for the whole process (pooled connections of the shared client stay valid
//! across runs) and is never dropped: a process does not wait for a thread still blocked in a
//! timed-out workflow.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::{Builder, Handle, Runtime};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Threads for workflows running at once; a workflow blocked past its deadline keeps one
/// until it returns, so there is room for many.
const MAX_WORKFLOW_THREADS: usize = 10_000;

static RUNTIME: OnceLock<Option<Runtime>> = OnceLock::new();

fn handle() -> Handle {
    let runtime = RUNTIME.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Builder::new_multi_thread()
            .worker_threads(cores.max(2))
            .max_blocking_threads(MAX_WORKFLOW_THREADS)
            .thread_name("workflow")
            .enable_all()
            .build()
            .ok()
    });
    match runtime {
        Some(runtime) => runtime.handle().clone(),
        // No threads left to start it: the caller's runtime, with the old behaviour.
        None => Handle::current(),
    }
}

/// A workflow body running on its own thread; dropping [`Running::cancel`] (or the whole
/// value) stops it at its next `.await`.
pub(crate) struct Running<T> {
    /// Resolves with the body's output, or `None` when it was cancelled first.
    pub task: JoinHandle<Option<T>>,
    /// Dropping it cancels the body.
    pub cancel: oneshot::Sender<()>,
}

/// Starts `make()`'s future on a workload thread. A panic in it comes out as the join error.
pub(crate) fn spawn<F, Fut, T>(make: F) -> Running<T>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T>,
    T: Send + 'static,
{
    let (cancel, cancelled) = oneshot::channel::<()>();
    let handle = handle();
    let driver = handle.clone();
    let task = handle.spawn_blocking(move || {
        driver.block_on(async move {
            let body = make();
            tokio::select! {
                biased;
                _ = cancelled => None,
                output = body => Some(output),
            }
        })
    });
    Running { task, cancel }
}
