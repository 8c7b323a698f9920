//! Demo marketplace: an e-commerce/auction HTTP API (axum) with an in-memory, deterministically
//! seeded store, bearer-token users with roles, and optional latency/error injection. It is the
//! system under test of the workflow suite; see `README.md` for the endpoints and rules.

#![warn(missing_docs)]

mod breakage;
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

pub use breakage::{BreakMode, BreakRule};
pub use error::ApiError;
pub use seed::{SEEDED_USERS, token_of};

use std::net::SocketAddr;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The longest delay `latency_ms` and `jitter_ms` may ask for: 10 minutes.
pub const MAX_DELAY_MS: u64 = 600_000;

/// Server options, declared once for both of their sources: the binary's flags and
/// `MARKETPLACE_*` variables (clap), and a TOML or JSON table such as the workflow suite's
/// `[server]` (serde; every key optional, unknown keys refused, values checked as parsed).
#[derive(Debug, Clone, PartialEq, clap::Args, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// Delay added to every request, in milliseconds.
    #[arg(long, env = "MARKETPLACE_LATENCY_MS", default_value_t = Options::default().latency_ms,
          value_parser = |s: &str| parsed(s).and_then(delay_ms))]
    #[serde(deserialize_with = "checked_delay")]
    pub latency_ms: u64,
    /// Extra random delay in `0..=jitter_ms` per request.
    #[arg(long, env = "MARKETPLACE_JITTER_MS", default_value_t = Options::default().jitter_ms,
          value_parser = |s: &str| parsed(s).and_then(delay_ms))]
    #[serde(deserialize_with = "checked_delay")]
    pub jitter_ms: u64,
    /// Fraction of requests (0.0–1.0) answered `503 {"error":"injected fault"}`.
    #[arg(long, env = "MARKETPLACE_ERROR_RATE", default_value_t = Options::default().error_rate,
          value_parser = |s: &str| parsed(s).and_then(fraction))]
    #[serde(deserialize_with = "checked_fraction")]
    pub error_rate: f64,
    /// Seed of the seed data, tokens of registered users and fault draws.
    #[arg(long, env = "MARKETPLACE_SEED", default_value_t = Options::default().seed)]
    pub seed: u64,
    /// Route-level faults, `METHOD PATH=MODE` (repeatable; `;` separates several in one
    /// value): e.g. `PATCH /api/orders/*=500`, `GET /api/products?*=empty`,
    /// `PATCH /api/*=nostore`. See [`BreakRule`] and [`BreakMode`].
    #[arg(long = "break", env = "MARKETPLACE_BREAK", value_name = "RULE",
          value_delimiter = ';', value_parser = |s: &str| s.trim().parse::<BreakRule>())]
    #[serde(rename = "break", deserialize_with = "breakage::deserialize_rules")]
    pub breaks: Vec<BreakRule>,
    /// Append each route answered (`METHOD /api/route/{param}`, once per route) to this file.
    #[arg(long, env = "MARKETPLACE_ROUTE_LOG", value_name = "FILE")]
    pub route_log: Option<std::path::PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            latency_ms: 0,
            jitter_ms: 0,
            error_rate: 0.0,
            seed: 42,
            breaks: Vec::new(),
            route_log: None,
        }
    }
}

impl Options {
    /// Checks the ranges: `error_rate` in `[0, 1]`, delays at most [`MAX_DELAY_MS`].
    pub fn validate(&self) -> Result<(), String> {
        let named = |name: &'static str| move |e: String| format!("{name} {e}");
        fraction(self.error_rate).map_err(named("error_rate"))?;
        delay_ms(self.latency_ms).map_err(named("latency_ms"))?;
        delay_ms(self.jitter_ms).map_err(named("jitter_ms"))?;
        Ok(())
    }
}

fn parsed<T: std::str::FromStr<Err: std::fmt::Display>>(s: &str) -> Result<T, String> {
    s.trim().parse().map_err(|e: T::Err| e.to_string())
}

fn fraction(f: f64) -> Result<f64, String> {
    match (0.0..=1.0).contains(&f) {
        true => Ok(f),
        false => Err(format!("must be between 0 and 1, got {f}")),
    }
}

fn delay_ms(ms: u64) -> Result<u64, String> {
    match ms <= MAX_DELAY_MS {
        true => Ok(ms),
        false => Err(format!("must be at most {MAX_DELAY_MS}, got {ms}")),
    }
}

fn checked_delay<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    delay_ms(serde::Deserialize::deserialize(d)?).map_err(serde::de::Error::custom)
}

fn checked_fraction<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    fraction(serde::Deserialize::deserialize(d)?).map_err(serde::de::Error::custom)
}

/// The app (router with state) for tests that use `tower::ServiceExt::oneshot` or their own
/// listener. Each call builds a fresh, freshly seeded store. Out-of-range options are clamped
/// here; [`start`] refuses them instead.
pub fn app(opts: &Options) -> axum::Router {
    let st = state::AppState::new(seed::seed(opts.seed, time::Ts::now()));
    let breakage = breakage::Breakage::new(opts.breaks.clone(), st.clone(), opts.route_log.clone());
    let faults = faults::Faults::new(
        opts.latency_ms,
        opts.jitter_ms.min(MAX_DELAY_MS),
        opts.error_rate,
        opts.seed,
    );
    // The route-level faults sit inside the router's layers (they see the matched route);
    // the global faults outside them, as before.
    routes::router(st)
        .layer(axum::middleware::from_fn_with_state(
            breakage,
            breakage::apply,
        ))
        .layer(axum::middleware::from_fn_with_state(faults, faults::inject))
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

#[cfg(test)]
mod options_tests {
    use super::Options;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        options: Options,
    }

    #[test]
    fn a_table_and_the_flags_give_the_same_options_with_the_same_checks() {
        let table: Options =
            serde_json::from_str(r#"{"latency_ms": 20, "error_rate": 1}"#).expect("a valid table");
        let flags = Cli::try_parse_from(["m", "--latency-ms", "20", "--error-rate", "1"])
            .expect("valid flags")
            .options;
        assert_eq!(table, flags);
        assert_eq!(
            (table.jitter_ms, table.seed),
            (0, 42),
            "the defaults fill the rest"
        );

        let error = serde_json::from_str::<Options>(r#"{"error_rate": 1.5}"#).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("must be between 0 and 1, got 1.5"),
            "{error}"
        );
        let error = serde_json::from_str::<Options>(r#"{"latency": 5}"#).unwrap_err();
        assert!(
            error.to_string().contains("unknown field `latency`"),
            "{error}"
        );
        let error = Cli::try_parse_from(["m", "--jitter-ms", "600001"])
            .err()
            .expect("refused");
        assert!(
            error.to_string().contains("must be at most 600000"),
            "{error}"
        );
    }
}
