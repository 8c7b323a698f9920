//! The libtest front end: the `main` of a `harness = false` test target.
//!
//! libtest-mimic parses the command line, filters and prints; the engine schedules. The
//! selection is computed with libtest-mimic's own predicates, the engine runs it on one tokio
//! runtime, and every libtest trial just waits for its workflow's outcome.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use libtest_mimic::{Completion, Failed, Trial};
use url::Url;

use crate::cli::Cli;
use crate::config::{self, Config};
use crate::engine::{Engine, EngineConfig};
use crate::event::Event;
use crate::plan::{self, OutsideDeps};
use crate::progress::{self, LiveView};
use crate::report::{self, RunReport, WorkflowReport, WorkflowStatus};
use crate::step::StepStatus;
use crate::workflow::{BoxFuture, WorkflowSpec};

/// Exit code for a setup problem (bad configuration, invalid suite): the run did not happen.
const SETUP_ERROR: u8 = 2;

/// A server the suite starts for itself when no `base_url` is configured.
pub struct EmbeddedServer {
    /// Where it listens.
    pub base_url: Url,
    /// Stops it; awaited after the last workflow.
    pub shutdown: BoxFuture<'static, ()>,
}

type ServerFactory = Box<dyn FnOnce(Config) -> BoxFuture<'static, anyhow::Result<EmbeddedServer>>>;

/// Runs the registered workflows with libtest's command line; see [`main`].
pub struct Harness {
    workflows: Vec<WorkflowSpec>,
    server: Option<ServerFactory>,
}

impl Default for Harness {
    fn default() -> Self {
        Harness::new()
    }
}

/// Runs every workflow registered with [`workflow!`](crate::workflow!): the whole `main` of a
/// `harness = false` test target.
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     workflow_harness::main()
/// }
/// ```
pub fn main() -> ExitCode {
    Harness::new().main()
}

impl Harness {
    /// A harness for the workflows registered with `workflow!`.
    pub fn new() -> Self {
        Harness {
            workflows: crate::registry::registered(),
            server: None,
        }
    }

    /// Starts a server before the first workflow when no `base_url` is configured, and stops
    /// it after the last. `start` gets the run's configuration (see its `server` options).
    /// `--list` starts nothing.
    pub fn embedded_server<F, Fut>(mut self, start: F) -> Self
    where
        F: FnOnce(Config) -> Fut + 'static,
        Fut: Future<Output = anyhow::Result<EmbeddedServer>> + Send + 'static,
    {
        self.server = Some(Box::new(move |config| Box::pin(start(config))));
        self
    }

    /// Parses the process's arguments, runs, writes reports; returns the exit code: 0 when
    /// every selected workflow passed, 101 when one failed (as libtest), 2 when the run could
    /// not start (bad configuration or suite).
    pub fn main(self) -> ExitCode {
        let cli = Cli::parse();
        match self.run(cli) {
            Ok(code) => code,
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::from(SETUP_ERROR)
            }
        }
    }

    /// Serve mode: the HTTP API and dashboard until Ctrl-C, the embedded server (if any) for
    /// as long.
    fn serve(
        self,
        addr: SocketAddr,
        config: Config,
        runtime: tokio::runtime::Runtime,
    ) -> anyhow::Result<ExitCode> {
        let (base_url, server) = start_server(self.server, &runtime, &config)?;
        let limits = crate::serve::ServeLimits::from(&config.api);
        let grace = limits.shutdown_grace;
        let client = crate::serve::http_client(config.request_timeout, &limits)
            .context("cannot build the HTTP client")?;
        let context = crate::serve::ServeContext {
            workflows: self.workflows,
            engine: engine_config(&config, base_url),
            client,
            token: config.api.token.clone(),
            max_workflows: config.api.max_workflows,
            report_dir: Some(config.report_dir.clone()),
            limits,
        };
        let served = runtime.block_on(async move {
            // Before the address is announced, so a signal sent right after is handled.
            let signals = crate::serve::stop_signals().context("cannot watch for stop signals")?;
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            let local = listener.local_addr()?;
            eprintln!("workflow API and dashboard on http://{local} (Ctrl-C or SIGTERM stops)");
            let stop = async move {
                let name = signals.await;
                eprintln!(
                    "serve: {name} received: stopping (running runs get up to {})",
                    humantime::format_duration(grace)
                );
            };
            crate::serve::run(listener, context, stop)
                .await
                .context("the API server failed")
        });
        if let Some(shutdown) = server {
            // A run cut short may still hold requests to the embedded server: bounded.
            let _ = runtime
                .block_on(async { tokio::time::timeout(Duration::from_secs(5), shutdown).await });
        }
        runtime.shutdown_timeout(Duration::from_millis(200));
        let stopped = served?;
        for run in &stopped.cut_short {
            eprintln!("serve: cut short: {run}");
        }
        if !stopped.cancelled.is_empty() {
            eprintln!(
                "serve: cancelled before they started: {}",
                stopped.cancelled.join(", ")
            );
        }
        eprintln!("serve: stopped");
        // A requested stop is a clean exit, as for any daemon (systemd counts 0 as success,
        // and an exit status of 143 as a failure unless told otherwise).
        Ok(ExitCode::SUCCESS)
    }

    fn run(self, cli: Cli) -> anyhow::Result<ExitCode> {
        let invalid = "invalid workflow suite; nothing was run";
        plan::validate(&self.workflows, None, OutsideDeps::Reject).context(invalid)?;
        if cli.libtest.list {
            // Nothing but the list: nextest parses it.
            let trials = self.workflows.iter().map(placeholder).collect();
            return Ok(libtest_mimic::run(&cli.libtest, trials).exit_code());
        }

        let root = manifest_dir();
        let config = config::load(&cli.overrides(), &|k| std::env::var(k).ok(), &root)?;
        plan::validate(&self.workflows, Some(&config.groups), OutsideDeps::Reject)
            .context(invalid)?;
        let runtime = runtime()?;
        match &cli.serve {
            Some(addr) => {
                let addr = parse_serve_addr(addr)?;
                self.serve(addr, config, runtime)
            }
            None => self.run_once(cli, config, runtime),
        }
    }

    /// What libtest's filters select, plus their dependencies unless `no_deps`.
    fn select(&self, args: &libtest_mimic::Arguments, config: &Config) -> Vec<WorkflowSpec> {
        let selected: Vec<WorkflowSpec> = self
            .workflows
            .iter()
            .filter(|w| {
                let probe = placeholder(w);
                !args.is_filtered_out(&probe) && !args.is_ignored(&probe)
            })
            .cloned()
            .collect();
        if config.no_deps {
            selected
        } else {
            plan::with_dependencies(&self.workflows, &selected)
        }
    }

    /// One run of the selection under libtest: the engine runs it, libtest prints a line per
    /// workflow as it finishes, then the summary and the reports.
    fn run_once(
        self,
        mut cli: Cli,
        config: Config,
        runtime: tokio::runtime::Runtime,
    ) -> anyhow::Result<ExitCode> {
        let selected = self.select(&cli.libtest, &config);
        let (base_url, server) = match selected.is_empty() {
            true => (config.base_url.clone(), None),
            false => start_server(self.server, &runtime, &config)?,
        };
        let mut engine = Engine::with_client(engine_config(&config, base_url), client(&config)?);
        let output = progress::Output::detect(&cli.libtest);
        let live = output
            .live
            .then(|| engine.subscribe())
            .map(|events| LiveView::start(&runtime, events, &mut cli.libtest, output.color));
        let mut outcomes = route_outcomes(&runtime, engine.subscribe(), &selected);
        let run = runtime.spawn(async move { engine.run(selected).await });

        let trials: Vec<Trial> = self
            .workflows
            .iter()
            .map(|w| match outcomes.remove(&w.id) {
                Some(rx) => waiter(w, rx),
                None => placeholder(w),
            })
            .collect();
        // Waiting trials cost a parked thread each; with enough of them lines print in
        // completion order. One thread keeps `--test-threads 1` strictly sequential output.
        let waiters = if config.concurrency == 1 {
            1
        } else {
            trials.len().clamp(2, 256)
        };
        cli.libtest.test_threads = Some(waiters);
        let conclusion = libtest_mimic::run(&cli.libtest, trials);

        let report = runtime.block_on(run);
        if let Some(live) = live {
            live.finish(&runtime);
        }
        if let Some(shutdown) = server {
            runtime.block_on(shutdown);
        }
        // A workflow stuck in synchronous code past its deadline still holds a worker thread;
        // do not wait for it.
        runtime.shutdown_timeout(Duration::from_millis(200));

        let report = report.context("the engine task failed")??;
        if report.total_workflows > 0 {
            if !quiet(&cli.libtest) {
                progress::print_summary(&report, output.color);
            }
            write_reports(&report, &config)?;
        }
        Ok(conclusion.exit_code())
    }
}

/// Routes each selected workflow's final entry from `events` to a channel its libtest trial
/// waits on.
fn route_outcomes(
    runtime: &tokio::runtime::Runtime,
    mut events: tokio::sync::mpsc::UnboundedReceiver<Event>,
    selected: &[WorkflowSpec],
) -> HashMap<String, std_mpsc::Receiver<WorkflowReport>> {
    let mut senders = HashMap::new();
    let mut receivers = HashMap::new();
    for w in selected {
        let (tx, rx) = std_mpsc::channel();
        senders.insert(w.id.clone(), tx);
        receivers.insert(w.id.clone(), rx);
    }
    runtime.spawn(async move {
        while let Some(event) = events.recv().await {
            if let Event::WorkflowFinished { workflow } = event {
                if let Some(tx) = senders.remove(&workflow.workflow_id) {
                    let _ = tx.send(*workflow);
                }
            }
        }
    });
    receivers
}

/// One runtime for the whole process. More workers than cores: workflows wait on I/O, and a
/// workflow that blocks its thread must not starve the timers of the others.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores.max(4))
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")
}

/// Starts the embedded server when no `base_url` is configured; returns the base URL to use
/// and how to stop the server.
fn start_server(
    factory: Option<ServerFactory>,
    runtime: &tokio::runtime::Runtime,
    config: &Config,
) -> anyhow::Result<(Option<Url>, Option<BoxFuture<'static, ()>>)> {
    match (&config.base_url, factory) {
        (None, Some(start)) => {
            let started = runtime
                .block_on(start(config.clone()))
                .context("cannot start the embedded server")?;
            Ok((Some(started.base_url), Some(started.shutdown)))
        }
        _ => Ok((config.base_url.clone(), None)),
    }
}

fn client(config: &Config) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(config.request_timeout)
        .build()
        .context("cannot build the HTTP client")
}

fn engine_config(config: &Config, base_url: Option<Url>) -> EngineConfig {
    EngineConfig {
        base_url,
        concurrency: config.concurrency,
        default_timeout: Some(config.timeout),
        step_timeout: config.step_timeout,
        groups: config.groups.clone(),
        retries: config.retries,
        retry_delay: config.retry_delay,
        retry_backoff: config.retry_backoff,
        flaky_fails: config.flaky_fails,
        run_timeout: config.run_timeout,
        max_fail: config.max_fail,
    }
}

/// `--serve` takes `HOST:PORT`, or a bare port on 127.0.0.1 (never every interface by default).
fn parse_serve_addr(value: &str) -> anyhow::Result<SocketAddr> {
    if let Ok(port) = value.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    value.parse().map_err(|_| {
        anyhow::anyhow!("--serve {value}: expected HOST:PORT (e.g. 127.0.0.1:4000) or a port")
    })
}

/// libtest's terse and JSON formats promise little output; the summary block stays out.
fn quiet(args: &libtest_mimic::Arguments) -> bool {
    args.quiet
        || matches!(
            args.format,
            Some(libtest_mimic::FormatSetting::Terse | libtest_mimic::FormatSetting::Json)
        )
}

/// The directory of the suite's `Cargo.toml` (cargo and nextest set `CARGO_MANIFEST_DIR` when
/// they run a test binary), else the working directory.
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."))
}

fn placeholder(w: &WorkflowSpec) -> Trial {
    Trial::test(w.id.clone(), || Ok(())).with_ignored_flag(w.ignored)
}

fn waiter(w: &WorkflowSpec, outcome: std_mpsc::Receiver<WorkflowReport>) -> Trial {
    Trial::ignorable_test(w.id.clone(), move || match outcome.recv() {
        Ok(entry) => match entry.status {
            WorkflowStatus::Completed => Ok(Completion::Completed),
            // libtest has no "cancelled": a workflow the run never started is ignored, with
            // the reason; the failures that stopped the run already fail it.
            WorkflowStatus::Cancelled => Ok(Completion::ignored_with(
                entry.error.as_deref().unwrap_or("not run"),
            )),
            WorkflowStatus::Failed | WorkflowStatus::Blocked => {
                Err(Failed::from(failure_text(&entry)))
            }
        },
        Err(_) => Err("the engine stopped before this workflow finished".into()),
    })
    .with_ignored_flag(w.ignored)
}

/// What libtest prints under `failures:` for a workflow.
fn failure_text(entry: &WorkflowReport) -> String {
    let mut text = format!(
        "{} {}: {}\n",
        entry.workflow_name,
        entry.status.as_str(),
        entry.error.as_deref().unwrap_or("unknown error")
    );
    if entry.attempts.len() > 1 {
        text.push_str(&format!(
            "  {} attempts; the last one:\n",
            entry.attempts.len()
        ));
    }
    for (i, step) in entry.result.steps.iter().enumerate() {
        let mark = match step.status {
            StepStatus::Passed => "ok",
            StepStatus::Failed => "FAILED",
            StepStatus::Skipped => "skipped",
        };
        text.push_str(&format!(
            "  {:>2}. {mark:<7} {:>6} ms  {}\n",
            i + 1,
            step.duration.as_millis(),
            step.name
        ));
    }
    text
}

fn write_reports(report: &RunReport, config: &Config) -> anyhow::Result<()> {
    if let Ok(run_id) = std::env::var("NEXTEST_RUN_ID") {
        // One process per workflow under nextest: an aggregate file would be overwritten by
        // every process, so each writes its own fragment.
        let path = report::write_fragment(report, &config.report_dir, &run_id)?;
        eprintln!("workflow report fragment: {}", path.display());
        return Ok(());
    }
    let paths = report::write_reports(report, &config.report_dir, &config.report_formats)?;
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    eprintln!("workflow reports: {}", names.join(", "));
    Ok(())
}
