//! The suite: the 20 seed workflows, run concurrently against the demo marketplace.
//!
//! Without `base_url` (harness.toml, `WORKFLOW_BASE_URL`, `--base-url`) the marketplace starts
//! in-process on 127.0.0.1 before the first workflow and stops after the last, with the options
//! of `[server]` in harness.toml and `WORKFLOW_SERVER_*` variables (`marketplace::Options`).

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

/// Starts the marketplace with the options of `[server]` and `WORKFLOW_SERVER_*` (the
/// marketplace's own struct parses them; errors name the file and key, or the variable).
async fn start_marketplace(config: Config) -> anyhow::Result<EmbeddedServer> {
    let options: marketplace::Options = config.server.parse()?;
    let running = marketplace::start(SocketAddr::from(([127, 0, 0, 1], 0)), options).await?;
    Ok(EmbeddedServer {
        base_url: running.base_url().parse()?,
        shutdown: Box::pin(async move { running.shutdown().await }),
    })
}
