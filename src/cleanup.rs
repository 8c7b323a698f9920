//! Cleanups a workflow registers with [`Ctx::defer`](crate::Ctx::defer): run by the supervisor
//! once the workflow's body has ended, however it ended (passed, failed, panicked or timed
//! out), each on a thread of its own under [`CLEANUP_TIMEOUT`], and recorded as steps.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::ctx::Ctx;
use crate::http::Http;
use crate::workflow::StepResult;

/// The deadline of each cleanup: short, because it runs after the workflow's own deadline may
/// already have passed, and the run waits for it.
pub const CLEANUP_TIMEOUT: Duration = Duration::from_secs(10);

/// A cleanup's future. It runs on its own thread (`block_on`), so it need not be `Send`.
pub(crate) type LocalFuture<'a> = Pin<Box<dyn Future<Output = StepResult> + 'a>>;

/// The body of a cleanup, given the context it runs with.
pub(crate) type CleanupFn = Box<dyn for<'a> FnOnce(&'a mut Ctx) -> LocalFuture<'a> + Send>;

/// One registered cleanup.
pub(crate) struct Deferred {
    /// The name of the step it is recorded as.
    pub name: String,
    /// The workflow's HTTP defaults (headers, cookies) when it was registered.
    pub http: Http,
    /// Its body.
    pub run: CleanupFn,
}

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deferred")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}
