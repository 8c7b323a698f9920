//! Serve mode: the HTTP API (run workflows, follow runs live with server-sent events) and the
//! dashboard page, on axum, driving the same engine as `cargo test`.
//!
//! - [`router`] wires the routes: `handlers` answer, `runs` keeps every run's event log,
//!   `launch` drives one engine per run, `slots` shares `max_running` workflow slots between
//!   runs (and queues the runs waiting for them), `sse` streams a run's events, `hosts`
//!   checks the `Host`, `auth` the token, `extract` turns body and query problems into JSON
//!   errors, `dashboard` is the page.
//! - [`run`] serves a router (`listen`: head timeout, connection cap) until a shutdown
//!   signal, then stops gracefully: no new connections or runs, queued runs cancelled,
//!   running runs given `shutdown_grace` to finish, then the open requests ended.

mod auth;
mod dashboard;
mod error;
mod extract;
mod handlers;
mod hosts;
mod launch;
mod listen;
mod request;
mod runs;
mod schedules;
mod single;
mod slots;
mod sse;
mod stored;
mod ws;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use tokio::sync::{broadcast, watch};

use crate::config::ApiOptions;
use crate::engine::EngineConfig;
use crate::history::ServeHistory;
use crate::report::ReportFormat;
use crate::workflow::WorkflowSpec;

pub use error::ApiError;
pub use request::SelectionError;
pub use schedules::check as check_schedule;

/// The largest request body accepted (a run request is a list of ids); larger gets 413.
pub const BODY_LIMIT: usize = 64 * 1024;

/// How many finished runs are kept (with their events and reports); older ones are forgotten.
pub const RETAINED_RUNS: usize = 100;

/// How many run creations an all-runs WebSocket client may not have seen yet.
const CREATED_BACKLOG: usize = 256;

/// After the grace, how long a run's engine may take to cut its workflows and report.
const INTERRUPT_MARGIN: Duration = Duration::from_secs(2);

/// More history recordings than can ever be pending at once (runs are bounded by the queue).
const RECORDINGS: u32 = 1 << 20;

/// After the grace, how long the server still waits for open connections to close.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// The server-wide limits of serve mode (the `[api]` settings beyond the token).
#[derive(Debug, Clone, PartialEq)]
pub struct ServeLimits {
    /// The most workflows running at once across all runs.
    pub max_running: usize,
    /// The most runs waiting for workflow slots; beyond, a run request is answered 429.
    pub max_queued: usize,
    /// Extra `Host` values answered besides the loopback names and the bound address
    /// (`name`, `name:port`, or `*` for any).
    pub allowed_hosts: Vec<String>,
    /// Deadline of each request head, and of the idle time between requests.
    pub header_read_timeout: Duration,
    /// The most connections served at once.
    pub max_connections: usize,
    /// On shutdown, how long running runs may go on before they are cut short.
    pub shutdown_grace: Duration,
    /// The most events a WebSocket client may be behind its run before it is dropped
    /// (close code 1008); not a setting: [`WS_MAX_BACKLOG`] unless a test says otherwise.
    pub ws_max_backlog: usize,
    /// How long a WebSocket client's socket may take to accept one message before the
    /// client is dropped; [`WS_SEND_TIMEOUT`] unless a test says otherwise.
    pub ws_send_timeout: Duration,
}

/// How many events a WebSocket client may fall behind its run: a whole run of the suite
/// (20 workflows, about 500 events) several times over.
pub const WS_MAX_BACKLOG: usize = 4096;

/// How long a WebSocket client's socket may refuse a message, as the head-read timeout.
pub const WS_SEND_TIMEOUT: Duration = Duration::from_secs(10);

impl From<&ApiOptions> for ServeLimits {
    fn from(api: &ApiOptions) -> Self {
        ServeLimits {
            max_running: api.max_running,
            max_queued: api.max_queued,
            allowed_hosts: api.allowed_hosts.clone(),
            header_read_timeout: api.header_read_timeout,
            max_connections: api.max_connections,
            shutdown_grace: api.shutdown_grace,
            ws_max_backlog: WS_MAX_BACKLOG,
            ws_send_timeout: WS_SEND_TIMEOUT,
        }
    }
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits::from(&ApiOptions::default())
    }
}

/// The HTTP client serve mode shares between its runs: like the suite's (`request_timeout`
/// per request), with a bounded pool (at most `max_running` idle connections per host, the
/// most that can be busy at once, closed after 30 s idle) and a connect timeout, so many
/// runs cannot pile up sockets.
pub fn http_client(
    request_timeout: Duration,
    limits: &ServeLimits,
) -> reqwest::Result<reqwest::Client> {
    crate::http::client_builder()
        .timeout(request_timeout)
        .connect_timeout(request_timeout.min(Duration::from_secs(10)))
        .pool_max_idle_per_host(limits.max_running)
        .pool_idle_timeout(Duration::from_secs(30))
        .build()
}

/// Completes with the signal's name on SIGINT (Ctrl-C) or, on unix, SIGTERM. The handlers are
/// installed by this call, not on the first poll.
pub fn stop_signals() -> std::io::Result<impl Future<Output = &'static str>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        })
    }
}

/// How the server stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stopped {
    /// Runs the grace interrupted (their reports say `interrupted`), as `run-3 (1 of 4
    /// workflows finished)`.
    pub interrupted: Vec<String>,
    /// Runs still unfinished even after the grace and its margin (no report), as above.
    pub cut_short: Vec<String>,
    /// Runs that were queued and never started.
    pub cancelled: Vec<String>,
}

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
    /// Workflow slots, queue, hosts, connections and shutdown grace.
    pub limits: ServeLimits,
    /// The run history: runs recorded at their end, listed and served from it after a
    /// restart (`None`: memory only).
    pub history: Option<Arc<ServeHistory>>,
    /// The schedules, alerts and the clock they run on (none by default).
    pub scheduling: crate::schedule::Scheduling,
}

/// State shared by every handler.
#[derive(Clone)]
struct AppState(Arc<Shared>);

struct Shared {
    context: ServeContext,
    runs: runs::Registry,
    slots: slots::Slots,
    hosts: hosts::HostPolicy,
    /// Every run as it is registered, for the all-runs WebSocket stream.
    created: broadcast::Sender<Arc<runs::Run>>,
    /// Flips to `true` when the server begins to stop: no new runs, queued ones cancelled.
    draining: watch::Sender<bool>,
    /// Flips to `true` when the grace is over: open event streams and waiting requests end.
    stopping: watch::Sender<bool>,
    /// One permit per run whose history record is not written yet: the server waits for
    /// them before it stops, so a restarted server finds every finished run.
    recordings: Arc<tokio::sync::Semaphore>,
    /// The schedules' live state.
    schedules: schedules::Board,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl Shared {
    /// Completes when the server stops serving open requests (the grace is over).
    fn stopped(&self) -> impl Future<Output = ()> + Send + 'static + use<> {
        flag(&self.stopping)
    }

    /// Completes when the server begins to stop.
    fn draining(&self) -> impl Future<Output = ()> + Send + 'static + use<> {
        flag(&self.draining)
    }

    fn is_draining(&self) -> bool {
        *self.draining.borrow()
    }
}

fn flag(sender: &watch::Sender<bool>) -> impl Future<Output = ()> + Send + 'static + use<> {
    let mut flag = sender.subscribe();
    async move {
        // The sender lives as long as the state; an error means it is gone: stop too.
        let _ = flag.wait_for(|set| *set).await;
    }
}

fn app(context: ServeContext, bound: Option<SocketAddr>) -> (Router, AppState) {
    let limits = &context.limits;
    let slots = slots::Slots::new(limits.max_running, limits.max_queued);
    let hosts = hosts::HostPolicy::new(&limits.allowed_hosts, bound);
    let first_run = context.history.as_ref().map_or(1, |h| h.first_run);
    let state = AppState(Arc::new(Shared {
        context,
        runs: runs::Registry::starting_at(RETAINED_RUNS, first_run),
        slots,
        hosts,
        created: broadcast::channel(CREATED_BACKLOG).0,
        draining: watch::channel(false).0,
        stopping: watch::channel(false).0,
        recordings: Arc::new(tokio::sync::Semaphore::new(RECORDINGS as usize)),
        schedules: schedules::Board::default(),
    }));
    let api = Router::new()
        .route(
            "/api/test-workflows/parallel",
            get(handlers::list_workflows).post(handlers::start_run),
        )
        // Static segments win over `{workflow}`: a workflow named `parallel` or `runs` can
        // only run through `…/parallel`.
        .route(
            "/api/test-workflows/{workflow}",
            axum::routing::post(single::run_workflow),
        )
        .route("/api/test-workflows/runs", get(handlers::list_runs))
        .route(
            "/api/test-workflows/schedules",
            get(schedules::list)
                .post(schedules::create)
                .delete(schedules::delete_by_query),
        )
        .route(
            "/api/test-workflows/schedules/{name}",
            axum::routing::delete(schedules::delete),
        )
        .route("/api/test-workflows/history", get(stored::history))
        .route("/api/test-workflows/runs/{id}", get(handlers::run_status))
        .route("/api/test-workflows/runs/{id}/events", get(sse::events))
        .route("/api/test-workflows/runs/{id}/ws", get(ws::run_events))
        .route("/api/test-workflows/runs/ws", get(ws::all_events))
        .route(
            "/api/test-workflows/runs/{id}/report.json",
            get(|s, id| handlers::report(s, id, ReportFormat::Json)),
        )
        .route(
            "/api/test-workflows/runs/{id}/report.csv",
            get(|s, id| handlers::report(s, id, ReportFormat::Csv)),
        )
        .route(
            "/api/test-workflows/runs/{id}/junit.xml",
            get(|s, id| handlers::report(s, id, ReportFormat::Junit)),
        )
        .route(
            "/api/test-workflows/runs/{id}/report-steps.csv",
            get(|s, id| handlers::report(s, id, ReportFormat::Steps)),
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
        // Outermost: a request for another host gets nothing else, not even a 404.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            hosts::check_host,
        ))
        .with_state(state.clone());
    (router, state)
}

/// The API's router, answering the loopback names and `allowed_hosts` (its event streams end
/// only with their runs; [`run`] also ends them when the server stops).
pub fn router(context: ServeContext) -> Router {
    app(context, None).0
}

/// Serves the API on `listener` until `shutdown` completes, then stops gracefully:
///
/// 1. the listener closes and idle connections close; new run requests get 503 and queued
///    runs are cancelled, while requests in flight (waited runs, event streams) go on;
/// 2. running runs get up to `limits.shutdown_grace` to finish;
/// 3. then the open event streams and waiting requests end (503), and the server waits (a
///    few seconds at most) for their connections to close.
///
/// Returns which runs were cut short or cancelled.
pub async fn run(
    listener: tokio::net::TcpListener,
    context: ServeContext,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<Stopped> {
    let bound = listener.local_addr()?;
    let limits = listen::Limits {
        header_read_timeout: context.limits.header_read_timeout,
        max_connections: context.limits.max_connections,
    };
    let grace = context.limits.shutdown_grace;
    let mut stopped = Stopped::default();
    let (router, state) = app(context, Some(bound));
    schedules::start(&state, bound);
    let connections = listen::accept(listener, router, limits, shutdown).await;
    state.draining.send_replace(true);
    // Asks every connection to close once its request in flight is answered.
    let drained = tokio::spawn(connections.shutdown());

    let unfinished = |state: &AppState| {
        state
            .runs
            .list()
            .into_iter()
            .filter(|run| run.state() != runs::RunState::Finished)
            .collect::<Vec<_>>()
    };
    // Each running run's engine interrupts it at the end of the grace and reports it; the
    // margin lets it do so. Queued runs end at once (cancelled).
    let deadline = tokio::time::Instant::now() + grace + INTERRUPT_MARGIN;
    for run in unfinished(&state) {
        let _ = tokio::time::timeout_at(deadline, run.finished()).await;
    }
    for run in state.runs.list().iter().rev() {
        if let Some(runs::Outcome::Report(report)) = run.outcome()
            && report.interrupted
        {
            let done = report.total_workflows - report.cancelled;
            stopped.interrupted.push(format!(
                "{} ({done} of {} workflows finished)",
                run.id, report.total_workflows
            ));
        }
    }
    let cut_short = unfinished(&state);
    for run in cut_short.iter().rev() {
        let total = run.workflows.len();
        let (statuses, _) = run.progress();
        let done = statuses
            .iter()
            .filter(|s| {
                use crate::outcome::Status::*;
                matches!(s.status, Completed | Failed | Blocked | Cancelled)
            })
            .count();
        stopped
            .cut_short
            .push(format!("{} ({done} of {total} workflows finished)", run.id));
        run.finish(Err(format!(
            "cut short: the server stopped after a grace of {}",
            humantime::format_duration(grace)
        )));
    }
    for run in state.runs.list().iter().rev() {
        if let Some(runs::Outcome::Failed(reason)) = run.outcome()
            && reason.starts_with("cancelled:")
        {
            stopped.cancelled.push(run.id.clone());
        }
    }
    // Finished runs still being written to the history (bounded: a store that hangs does
    // not hold the server).
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, state.recordings.acquire_many(RECORDINGS)).await;
    state.stopping.send_replace(true);
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, drained).await;
    Ok(stopped)
}
