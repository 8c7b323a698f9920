//! `marketplace` binary: serve the demo API until Ctrl-C.

use clap::Parser;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

/// Demo e-commerce/auction API (the workflow suite's system under test).
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "MARKETPLACE_PORT", default_value_t = 3000)]
    port: u16,
    /// Address to bind.
    #[arg(long, env = "MARKETPLACE_HOST", default_value = "127.0.0.1")]
    host: IpAddr,
    /// Latency, faults and seed.
    #[command(flatten)]
    options: marketplace::Options,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let opts = cli.options;
    if let Err(e) = opts.validate() {
        eprintln!("marketplace: {e}");
        return ExitCode::from(2);
    }
    let running = match marketplace::start(SocketAddr::new(cli.host, cli.port), opts).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "marketplace: cannot listen on {}:{}: {e}",
                cli.host, cli.port
            );
            return ExitCode::FAILURE;
        }
    };
    println!("marketplace listening on {}", running.base_url());
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("marketplace: cannot wait for Ctrl-C: {e}");
    }
    println!("marketplace: shutting down");
    running.shutdown().await;
    ExitCode::SUCCESS
}
