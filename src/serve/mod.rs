//! Serve mode: the HTTP API (run workflows, follow runs live with server-sent events) and the
//! dashboard page, on axum, driving the same engine.

use std::future::Future;
use std::path::PathBuf;

use crate::engine::EngineConfig;
use crate::workflow::WorkflowSpec;

/// Everything the API server needs.
pub struct ServeContext {
    /// Every registered workflow, sorted by id.
    pub workflows: Vec<WorkflowSpec>,
    /// The engine settings of each run (base URL included).
    pub engine: EngineConfig,
    /// The shared HTTP client.
    pub client: reqwest::Client,
    /// When set, every request must carry `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// The most workflows one run may name.
    pub max_workflows: usize,
    /// Where finished runs' reports may be written (`None`: kept in memory only).
    pub report_dir: Option<PathBuf>,
}

/// The API's router.
pub fn router(_context: ServeContext) -> axum::Router {
    axum::Router::new()
}

/// Serves the API on `listener` until `shutdown` completes.
pub async fn run(
    listener: tokio::net::TcpListener,
    context: ServeContext,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(context))
        .with_graceful_shutdown(shutdown)
        .await
}
