//! The suite: the 20 seed workflows, run concurrently against the demo marketplace.
//!
//! Without `base_url` (harness.toml, `WORKFLOW_BASE_URL`, `--base-url`) the marketplace starts
//! in-process on 127.0.0.1 before the first workflow and stops after the last.

mod admin;
mod auction;
mod checks;
mod common;
mod seller;
mod shop;
mod user;

use std::net::SocketAddr;
use std::process::ExitCode;

use workflow_harness::config::Config;
use workflow_harness::{EmbeddedServer, Harness};

fn main() -> ExitCode {
    Harness::new().embedded_server(start_marketplace).main()
}

async fn start_marketplace(config: Config) -> anyhow::Result<EmbeddedServer> {
    let defaults = marketplace::Options::default();
    let options = marketplace::Options {
        latency_ms: config.server.latency_ms,
        jitter_ms: config.server.jitter_ms,
        error_rate: config.server.error_rate,
        seed: config.server.seed.unwrap_or(defaults.seed),
    };
    options.validate().map_err(anyhow::Error::msg)?;
    let running = marketplace::start(SocketAddr::from(([127, 0, 0, 1], 0)), options).await?;
    Ok(EmbeddedServer {
        base_url: running.base_url().parse()?,
        shutdown: Box::pin(async move { running.shutdown().await }),
    })
}
