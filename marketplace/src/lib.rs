//! Demo marketplace: an e-commerce/auction HTTP API (axum) with an in-memory, deterministically
//! seeded store, bearer-token users with roles, and optional latency/error injection. It is the
//! system under test of the workflow suite; see `README.md` for the endpoints and rules.

#![warn(missing_docs)]

mod error;
mod extract;
mod faults;
mod listing;
mod models;
mod pricing;
mod rng;
mod routes;
mod seed;
mod state;
mod store;
mod time;
mod validate;

pub use error::ApiError;
pub use seed::{SEEDED_USERS, token_of};

use std::net::SocketAddr;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Server options (all also CLI flags of the binary).
#[derive(Debug, Clone)]
pub struct Options {
    /// Delay added to every request, in milliseconds.
    pub latency_ms: u64,
    /// Extra random delay in `0..=jitter_ms` per request.
    pub jitter_ms: u64,
    /// Fraction of requests (0.0–1.0) answered `503 {"error":"injected fault"}`.
    pub error_rate: f64,
    /// Seed of the seed data, tokens of registered users and fault draws.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            latency_ms: 0,
            jitter_ms: 0,
            error_rate: 0.0,
            seed: 42,
        }
    }
}

impl Options {
    /// Checks the ranges: `error_rate` in `[0, 1]`, delays at most 10 minutes.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.error_rate) {
            return Err(format!(
                "error_rate must be between 0 and 1, got {}",
                self.error_rate
            ));
        }
        const MAX_DELAY_MS: u64 = 600_000;
        if self.latency_ms > MAX_DELAY_MS {
            return Err(format!("latency_ms must be at most {MAX_DELAY_MS}"));
        }
        if self.jitter_ms > MAX_DELAY_MS {
            return Err(format!("jitter_ms must be at most {MAX_DELAY_MS}"));
        }
        Ok(())
    }
}

/// The app (router with state) for tests that use `tower::ServiceExt::oneshot` or their own
/// listener. Each call builds a fresh, freshly seeded store. Out-of-range options are clamped
/// here; [`start`] refuses them instead.
pub fn app(opts: &Options) -> axum::Router {
    let st = state::AppState::new(seed::seed(opts.seed, time::Ts::now()));
    let faults = faults::Faults::new(
        opts.latency_ms,
        opts.jitter_ms.min(600_000),
        opts.error_rate,
        opts.seed,
    );
    routes::router(st).layer(axum::middleware::from_fn_with_state(faults, faults::inject))
}

/// A server started by [`start`]. Dropping it also stops the server (gracefully, without
/// waiting); call [`Running::shutdown`] to wait for the stop.
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

/// Bind `addr` (e.g. `127.0.0.1:0`) and serve in a task on the current tokio runtime.
pub async fn start(addr: SocketAddr, opts: Options) -> std::io::Result<Running> {
    opts.validate()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let app = app(&opts);
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });
    Ok(Running {
        addr,
        stop: Some(stop),
        task,
    })
}

impl Running {
    /// The bound address (with the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT`, without a trailing slash and without `/api`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Graceful stop: stops accepting, lets in-flight requests finish, waits for the task.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}
