//! Serve mode: the HTTP API (run workflows, follow runs live with server-sent events) and the
//! dashboard page, on axum, driving the same engine as `cargo test`.
//!
//! - [`router`] wires the routes: `handlers` answer, `runs` keeps every run's event log,
//!   `launch` drives one engine per run, `sse` streams a run's events, `auth` checks the
//!   token, `extract` turns body and query problems into JSON errors, `dashboard` is the page.
//! - [`run`] serves a router until a shutdown signal, then ends the open event streams so
//!   the server can stop.

mod auth;
mod dashboard;
mod error;
mod extract;
mod handlers;
mod launch;
mod request;
mod runs;
mod sse;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use tokio::sync::watch;

use crate::engine::EngineConfig;
use crate::workflow::WorkflowSpec;

pub use error::ApiError;
pub use request::SelectionError;

/// The largest request body accepted (a run request is a list of ids); larger gets 413.
pub const BODY_LIMIT: usize = 64 * 1024;

/// How many finished runs are kept (with their events and reports); older ones are forgotten.
pub const RETAINED_RUNS: usize = 100;

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

/// State shared by every handler.
#[derive(Clone)]
struct AppState(Arc<Shared>);

struct Shared {
    context: ServeContext,
    runs: runs::Registry,
    /// Flips to `true` when the server stops: open event streams and waiting requests end.
    stopping: watch::Sender<bool>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl Shared {
    /// Completes when the server begins to stop.
    fn stopped(&self) -> impl Future<Output = ()> + Send + 'static + use<> {
        let mut stopping = self.stopping.subscribe();
        async move {
            // The sender lives as long as the state; an error means it is gone: stop too.
            let _ = stopping.wait_for(|stop| *stop).await;
        }
    }
}

fn app(context: ServeContext) -> (Router, AppState) {
    let state = AppState(Arc::new(Shared {
        context,
        runs: runs::Registry::new(RETAINED_RUNS),
        stopping: watch::channel(false).0,
    }));
    let api = Router::new()
        .route(
            "/api/test-workflows/parallel",
            get(handlers::list_workflows).post(handlers::start_run),
        )
        .route("/api/test-workflows/runs", get(handlers::list_runs))
        .route("/api/test-workflows/runs/{id}", get(handlers::run_status))
        .route("/api/test-workflows/runs/{id}/events", get(sse::events))
        .route(
            "/api/test-workflows/runs/{id}/report.json",
            get(handlers::report_json),
        )
        .route(
            "/api/test-workflows/runs/{id}/report.csv",
            get(handlers::report_csv),
        )
        .route(
            "/api/test-workflows/runs/{id}/junit.xml",
            get(handlers::report_junit),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));
    let router = Router::new()
        // The page holds no data; its API calls carry the token.
        .route("/", get(dashboard::page))
        .route("/favicon.ico", get(dashboard::favicon))
        .merge(api)
        .fallback(handlers::no_route)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state.clone());
    (router, state)
}

/// The API's router (its event streams end only with their runs; [`run`] also ends them when
/// the server stops).
pub fn router(context: ServeContext) -> Router {
    app(context).0
}

/// Serves the API on `listener` until `shutdown` completes, then ends the open event streams
/// and waits for the requests in flight.
pub async fn run(
    listener: tokio::net::TcpListener,
    context: ServeContext,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (router, state) = app(context);
    let stop = async move {
        shutdown.await;
        state.stopping.send_replace(true);
    };
    axum::serve(listener, router)
        .with_graceful_shutdown(stop)
        .await
}
