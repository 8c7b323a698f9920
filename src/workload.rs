//! The runtime workflow code runs on, apart from the engine's own tasks.
//!
//! A workflow may block its thread (synchronous code, `std::thread::sleep`). On a shared
//! runtime that stalls whatever else that worker holds: timers, the task in its LIFO slot
//! (tokio-rs/tokio#4730), the supervisor that should time the workflow out. So workflow bodies
//! (and everything they spawn) run here, while the engine, the supervisors, their deadlines and
//! every event consumer run on the caller's runtime, which runs no workflow code. Deadlines are
//! then decided by elapsed time on a runtime no blocked workflow can stall, however many
//! workflows block. The runtime lives for the whole process (pooled connections of the shared
//! client stay valid across runs) and is never dropped: a process does not wait for a thread
//! still blocked in a timed-out workflow.

use std::sync::OnceLock;

use tokio::runtime::{Builder, Handle, Runtime};

static RUNTIME: OnceLock<Option<Runtime>> = OnceLock::new();

/// The handle to spawn workflow bodies on. Falls back to the current runtime if the dedicated
/// one cannot start (no threads left), which keeps the run going with the old behaviour.
pub(crate) fn handle() -> Handle {
    let runtime = RUNTIME.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Builder::new_multi_thread()
            .worker_threads(cores.max(4))
            .thread_name("workflow")
            .enable_all()
            .build()
            .ok()
    });
    match runtime {
        Some(runtime) => runtime.handle().clone(),
        None => Handle::current(),
    }
}
