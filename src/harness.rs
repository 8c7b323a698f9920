//! The libtest front end: the `main` of a `harness = false` test target.
//!
//! libtest-mimic parses the command line, filters and prints; the engine schedules. The
//! selection is computed with libtest-mimic's own predicates (once per positional filter: the
//! union, as libtest), the engine runs it on one tokio runtime, and every libtest trial just
//! waits for its workflow's outcome.
//!
//! Exit codes: `0` passed, `101` a workflow failed (whatever happens after the run),
//! [`SETUP_ERROR`], [`REPORT_ERROR`], [`NO_WORKFLOWS`].

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use anyhow::Context as _;
use libtest_mimic::{Completion, Failed, Trial};
use url::Url;

use crate::cli::Cli;
use crate::config::{self, Config, NoTests};
use crate::engine::{Engine, EngineConfig};
use crate::event::Event;
use crate::history::command::Rerun;
use crate::history::{Journal, RunMeta, Source};
use crate::partition::{Partition, PartitionKind};
use crate::plan::{self, OutsideDeps};
use crate::progress::{self, LiveView};
use crate::report::{self, FailureKind, ReportFold, RunReport, Status, WorkflowReport};
use crate::selection;
use crate::signal::Signals;
use crate::step::StepStatus;
use crate::text::terminal_safe;
use crate::workflow::{BoxFuture, WorkflowSpec};

/// Exit code for a setup problem (bad command line, configuration or suite; the embedded
/// server did not start): the run did not happen.
pub const SETUP_ERROR: u8 = 2;

/// Exit code when every selected workflow passed but the reports could not be written (a
/// failed run exits 101 all the same).
pub const REPORT_ERROR: u8 = 3;

/// Exit code when the filters select no workflow and `no_tests` is `fail` (nextest's code for
/// "no tests to run").
pub const NO_WORKFLOWS: u8 = 4;

/// libtest's exit code for a failed run.
const FAILED: u8 = 101;

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
        Harness::with_workflows(crate::registry::registered())
    }

    /// A harness for `workflows` instead of the registered ones (sorted by id, as the registry
    /// gives them): for benchmarks and generated suites.
    pub fn with_workflows(mut workflows: Vec<WorkflowSpec>) -> Self {
        workflows.sort_by(|a, b| a.id.cmp(&b.id));
        Harness {
            workflows,
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

    /// Parses the process's arguments, runs, writes reports; returns the exit code:
    ///
    /// - `0`: every selected workflow passed (or the filters selected none, under
    ///   `no_tests = "pass"` or `"warn"`);
    /// - `101`: a workflow failed (as libtest), whatever happens after the run;
    /// - `2` ([`SETUP_ERROR`]): the run could not start (bad command line, configuration or
    ///   suite, the embedded server did not start);
    /// - `3` ([`REPORT_ERROR`]): the run passed, but its reports could not be written;
    /// - `4` ([`NO_WORKFLOWS`]): the filters selected no workflow and `no_tests = "fail"`.
    pub fn main(self) -> ExitCode {
        let cli = Cli::from_env();
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
        // Opened here, off the runtime: the store blocks (and PostgreSQL's client has a
        // runtime of its own). A store that fails leaves the server on memory alone.
        let root = manifest_dir();
        let journal = Journal::open(&config.history, &config.report_dir, &root);
        let history = journal.is_open().then(|| {
            let suite = crate::history::suite_name(&|k| std::env::var(k).ok(), &root);
            Arc::new(crate::history::ServeHistory::new(journal, suite))
        });
        let context = crate::serve::ServeContext {
            workflows: self.workflows,
            engine: engine_config(&config, base_url),
            client,
            token: config.api.token.clone(),
            max_workflows: config.api.max_workflows,
            report_dir: Some(config.report_dir.clone()),
            limits,
            history,
            scheduling: crate::schedule::Scheduling {
                schedules: config.schedules.clone(),
                alerts: config.alerts.clone(),
                public_url: config.api.public_url.clone(),
                ..crate::schedule::Scheduling::default()
            },
        };
        for schedule in &context.scheduling.schedules {
            crate::serve::check_schedule(schedule, &context.workflows)
                .map_err(|reason| anyhow::anyhow!("{reason}"))?;
        }
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
        for run in &stopped.interrupted {
            eprintln!("serve: interrupted, reported with its cancelled workflows: {run}");
        }
        for run in &stopped.cut_short {
            eprintln!("serve: cut short without a report: {run}");
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
            // The command line's tags and partition narrow it as they would the run
            // (harness.toml is not read for a list).
            let tags = selection::Tags {
                any: cli.tags.clone(),
                none: cli.skip_tags.clone(),
            };
            let mut listed: Vec<WorkflowSpec> = self
                .workflows
                .iter()
                .filter(|w| tags.admits(w))
                .cloned()
                .collect();
            if let Some(partition) = &cli.partition {
                // The durations a run would balance by: the list must name the shard's
                // workflows exactly. A harness.toml that does not load means defaults here;
                // the run itself reports it.
                let root = manifest_dir();
                let env = |k: &str| std::env::var(k).ok();
                let config = config::load(&cli.overrides(), &env, &root).unwrap_or_default();
                let durations = partition_durations(partition, &config, &root);
                listed = selection::shard_of(listed, partition, &durations).0;
            }
            let trials: Vec<Trial> = listed.iter().map(placeholder).collect();
            let args = cli.libtest_for(&trials);
            return Ok(libtest_mimic::run(&args, trials).exit_code());
        }

        let root = manifest_dir();
        let mut config = config::load(&cli.overrides(), &|k| std::env::var(k).ok(), &root)?;
        if let Some(path) = &config.context {
            let ids = self.workflows.iter().map(|w| w.id.as_str());
            config.engine.inputs = read_context(path, ids)?;
        }
        plan::validate(
            &self.workflows,
            Some(&config.engine.groups),
            OutsideDeps::Reject,
        )
        .context(invalid)?;
        if cli.history || cli.history_steps.is_some() {
            let suite = crate::history::suite_name(&|k| std::env::var(k).ok(), &root);
            return match crate::history::command::print(&cli, &config, &suite, &root) {
                Ok(()) => Ok(ExitCode::SUCCESS),
                Err(message) => {
                    eprintln!("error: --history: {message}");
                    Ok(ExitCode::from(SETUP_ERROR))
                }
            };
        }
        if !cli.merge_reports.is_empty() {
            return merge(&cli, &config);
        }
        let runtime = runtime()?;
        match &cli.serve {
            Some(addr) => {
                let addr = parse_serve_addr(addr)?;
                self.serve(addr, config, runtime)
            }
            None => self.run_once(cli, config, runtime),
        }
    }

    /// What libtest's filters select (among `only`, when given: `--last-failed`), plus
    /// their dependencies unless `no_deps`.
    /// With a partition, its plan's fingerprint too.
    fn select(
        &self,
        cli: &Cli,
        config: &Config,
        only: Option<&[String]>,
    ) -> (Vec<WorkflowSpec>, Option<String>) {
        let selected: Vec<WorkflowSpec> = self
            .workflows
            .iter()
            .filter(|w| only.is_none_or(|ids| ids.contains(&w.id)))
            .filter(|w| {
                let probe = placeholder(w);
                !cli.is_filtered_out(&probe) && !cli.libtest.is_ignored(&probe)
            })
            .filter(|w| tags(cli, config).admits(w))
            .cloned()
            .collect();
        let selected = if config.no_deps {
            selected
        } else {
            plan::with_dependencies(&self.workflows, &selected)
        };
        match &cli.partition {
            Some(partition) => {
                let durations = partition_durations(partition, config, &manifest_dir());
                let (mine, plan) = selection::shard_of(selected, partition, &durations);
                (mine, Some(plan))
            }
            None => (selected, None),
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
        let root = manifest_dir();
        let env = |k: &str| std::env::var(k).ok();
        let suite = crate::history::suite_name(&env, &root);
        // Opened only for a run that has something to record or read: an empty selection
        // writes nothing into the report directory, not even a history file.
        let open = || Journal::open(&config.history, &config.report_dir, &root);
        let mut journal = match cli.last_failed {
            true => open(),
            false => Journal::disabled(),
        };
        let rerun = match cli.last_failed {
            false => None,
            true => match crate::history::command::last_failed(&mut journal, &suite) {
                Ok(Rerun::Select(ids)) => Some(ids),
                Ok(Rerun::Nothing(message)) => {
                    // Nothing runs and no reports are written: the last ones stay as they are.
                    eprintln!("{message}");
                    return Ok(ExitCode::SUCCESS);
                }
                Err(message) => {
                    eprintln!("error: {message}");
                    return Ok(ExitCode::from(SETUP_ERROR));
                }
            },
        };
        let (selected, plan) = self.select(&cli, &config, rerun.as_deref());
        if !cli.last_failed && !selected.is_empty() {
            journal = open();
        }
        let nothing_selected = selected
            .is_empty()
            .then(|| nothing_selected(&cli, &self.workflows));
        // Panics are recorded for the failure texts while the run goes on.
        let _panics = crate::panics::capture();
        let (base_url, server) = match selected.is_empty() {
            true => (config.engine.base_url.clone(), None),
            false => start_server(self.server, &runtime, &config)?,
        };
        let mut engine = Engine::with_client(engine_config(&config, base_url), client(&config)?);
        let output = progress::Output::detect(&cli.libtest);
        let live = output
            .live
            .then(|| engine.subscribe())
            .map(|events| LiveView::start(&runtime, events, &mut cli.libtest, output.color));
        let (mut outcomes, folded) = route_outcomes(&runtime, engine.subscribe(), &selected);
        let say: crate::signal::Say = match &live {
            Some(live) => Arc::new(live.say()),
            None => Arc::new(|line: &str| eprintln!("{line}")),
        };
        let signals = Signals::listen(&runtime, config.engine.interrupt_grace, say);
        let interrupt = signals.interrupted();
        let selected_ids: std::collections::HashSet<String> =
            selected.iter().map(|w| w.id.clone()).collect();
        let run = runtime.spawn(async move { engine.run_until(selected, interrupt).await });

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
        let waiters = if config.engine.concurrency == 1 {
            1
        } else {
            trials.len().clamp(2, 256)
        };
        let mut args = cli.libtest_for(&trials);
        // Left out by tags or the partition: not run, not listed as run. An ignored workflow
        // stays libtest's to report as ignored, unless this run includes ignored ones.
        let ignored_run = cli.libtest.ignored || cli.libtest.include_ignored;
        for w in &self.workflows {
            let libtest_reports_it = w.ignored && !ignored_run;
            if !selected_ids.contains(&w.id) && !args.skip.contains(&w.id) && !libtest_reports_it {
                args.skip.push(w.id.clone());
            }
        }
        args.test_threads = Some(waiters);
        let conclusion = libtest_mimic::run(&args, trials);
        // From here on a failed run exits 101, whatever else goes wrong.
        let failed = conclusion.has_failed();

        let report = runtime.block_on(run);
        if let Some(live) = live {
            live.finish(&runtime);
        }
        if let Some(shutdown) = server {
            runtime.block_on(shutdown);
        }
        if let Err(error) = report.map_err(anyhow::Error::from).and_then(|r| Ok(r?)) {
            return Ok(after_run_error(failed, SETUP_ERROR, &error));
        }
        // The engine emitted `runFinished` before it returned: the fold has the whole run.
        let report = match runtime.block_on(folded) {
            Ok(Some(report)) => report,
            Ok(None) => {
                let error = "the event stream ended before runFinished";
                return Ok(after_run_error(failed, SETUP_ERROR, &error));
            }
            Err(error) => return Ok(after_run_error(failed, SETUP_ERROR, &error)),
        };
        let mut report = report;
        report.shard = cli
            .partition
            .map(|p| selection::shard_record(p, &self.workflows, plan.clone()));
        let nothing_selected = nothing_selected.filter(|_| report.shard.is_none());
        if let Some(message) = nothing_selected {
            // No reports: the previous run's stay where they are, as they were.
            return Ok(match config.no_tests {
                NoTests::Pass => ExitCode::SUCCESS,
                NoTests::Warn => {
                    eprintln!("warning: {message}; no reports written");
                    ExitCode::SUCCESS
                }
                NoTests::Fail => {
                    eprintln!("error: {message}; no reports written (no_tests = \"fail\")");
                    ExitCode::from(NO_WORKFLOWS)
                }
            });
        }
        let mut meta = RunMeta::from_env(&env, &root);
        meta.suite = suite.clone();
        meta.run_id = report.run_id.clone();
        meta.source = Some(Source::Cargo);
        if let Ok(run) = std::env::var("NEXTEST_RUN_ID") {
            meta.run_id = run;
            meta.source = Some(Source::Nextest);
        }
        meta.base_url = config.engine.base_url.as_ref().map(Url::to_string);
        meta.selection = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
        if let Some(shard) = &report.shard {
            meta.shard = Some(shard.partition.to_string());
        }
        // An empty shard still writes its (empty) report: a merge needs all N.
        if report.total_workflows > 0 || report.shard.is_some() {
            // Against the runs before this one: computed before it is recorded.
            let thresholds = config.history.thresholds();
            report.regressions = journal
                .with(|store| store.regressions(&suite, &meta.run_id, &report, &thresholds))
                .unwrap_or_default();
            if !quiet(&cli.libtest) {
                progress::print_summary(&report, output.color);
            }
            if let Err(error) = signals.while_writing(|| write_reports(&report, &config)) {
                eprintln!(
                    "error: cannot write reports to {}: {}",
                    error.path.display(),
                    error.source
                );
                let code = match signals.received() {
                    Some(signal) => signal.exit_code(),
                    None if failed => FAILED,
                    None => REPORT_ERROR,
                };
                meta.exit_code = Some(i32::from(code));
                journal.with(|store| store.record(&report, &meta));
                return Ok(ExitCode::from(code));
            }
        }
        // Workflow code stuck past its deadline holds a thread of the workload runtime, not of
        // this one; nothing here waits for it, and the process ends without joining it.
        runtime.shutdown_timeout(Duration::from_millis(200));
        // An interrupted run says so in its exit code, whatever its workflows did.
        let code = match signals.received() {
            Some(signal) => {
                eprintln!(
                    "run {} interrupted by {}: {} workflow(s) cancelled",
                    report.run_id,
                    signal.name(),
                    report.cancelled
                );
                signal.exit_code()
            }
            None if failed => FAILED,
            None => 0,
        };
        if report.total_workflows > 0 {
            meta.exit_code = Some(i32::from(code));
            journal.with(|store| store.record(&report, &meta));
        }
        Ok(ExitCode::from(code))
    }
}

/// The tags that narrow the run: the command line's, else harness.toml's.
fn tags(cli: &Cli, config: &Config) -> selection::Tags {
    selection::Tags {
        any: if cli.tags.is_empty() {
            config.tags.clone()
        } else {
            cli.tags.clone()
        },
        none: if cli.skip_tags.is_empty() {
            config.skip_tags.clone()
        } else {
            cli.skip_tags.clone()
        },
    }
}

/// `--merge-reports`: one report set from shards or fragments, the merged run's verdict.
fn merge(cli: &Cli, config: &Config) -> anyhow::Result<ExitCode> {
    let merged = match report::merge_reports(&cli.merge_reports, cli.keep_latest) {
        Ok(merged) => merged,
        Err(error) => {
            eprintln!("error: --merge-reports: {error}");
            return Ok(ExitCode::from(SETUP_ERROR));
        }
    };
    if let Err(error) = write_reports(&merged, config) {
        eprintln!(
            "error: cannot write reports to {}: {}",
            error.path.display(),
            error.source
        );
        return Ok(ExitCode::from(if merged.has_failures() {
            FAILED
        } else {
            REPORT_ERROR
        }));
    }
    eprintln!(
        "merged {} report(s): {} workflows, {} completed, {} failed; reports in {}",
        cli.merge_reports.len(),
        merged.total_workflows,
        merged.completed,
        merged.failed,
        config.report_dir.display()
    );
    Ok(if merged.has_failures() {
        ExitCode::from(FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints an error that came after libtest's run, and returns the exit code: 101 when the run
/// failed, `otherwise` when it did not.
fn after_run_error(failed: bool, otherwise: u8, error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: the engine failed: {error}");
    ExitCode::from(if failed { FAILED } else { otherwise })
}

/// Why the filters selected nothing, for the warning or error of an empty run.
fn nothing_selected(cli: &Cli, workflows: &[WorkflowSpec]) -> String {
    let registered = workflows.len();
    if registered == 0 {
        return "no workflow is registered".to_owned();
    }
    let args = &cli.libtest;
    let quoted = |values: &[String]| {
        values
            .iter()
            .map(|v| format!("{v:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let exact = if args.exact { " exactly" } else { "" };
    let filters = match cli.filters.len() {
        0 => None,
        1 => Some(format!("the filter {}", quoted(&cli.filters))),
        _ => Some(format!("the filters {}", quoted(&cli.filters))),
    };
    let skip = match args.skip.len() {
        0 => String::new(),
        _ => format!(" once --skip {} is applied", quoted(&args.skip)),
    };
    let matching = workflows
        .iter()
        .filter(|w| !cli.is_filtered_out(&placeholder(w)))
        .count();
    let what = if matching > 0 {
        // Matched, but libtest ignores them (`ignored: true` without --include-ignored).
        let whom = filters.unwrap_or_else(|| "the selection".to_owned());
        format!(
            "no workflow to run: {whom} matches{exact} only ignored workflows ({matching}; \
             --include-ignored runs them)"
        )
    } else {
        let among = if args.ignored {
            " among the ignored workflows"
        } else {
            ""
        };
        match filters {
            Some(filters) => format!("no workflow matches{exact} {filters}{among}{skip}"),
            None if !args.skip.is_empty() => {
                format!("no workflow is left{among}{skip}")
            }
            None => format!("no workflow is selected{among}"),
        }
    };
    format!("{what} ({registered} registered; --list shows them)")
}

/// Folds `events` into the run's report, routing each selected workflow's entry to a channel
/// its libtest trial waits on as soon as it is folded; the task ends with the report.
fn route_outcomes(
    runtime: &tokio::runtime::Runtime,
    mut events: tokio::sync::mpsc::UnboundedReceiver<Event>,
    selected: &[WorkflowSpec],
) -> (
    HashMap<String, std_mpsc::Receiver<WorkflowReport>>,
    tokio::task::JoinHandle<Option<RunReport>>,
) {
    let mut senders = HashMap::new();
    let mut receivers = HashMap::new();
    for w in selected {
        let (tx, rx) = std_mpsc::channel();
        senders.insert(w.id.clone(), tx);
        receivers.insert(w.id.clone(), rx);
    }
    let folded = runtime.spawn(async move {
        let mut fold = ReportFold::default();
        while let Some(event) = events.recv().await {
            if let Some(entry) = fold.apply(&event)
                && let Some(tx) = senders.remove(&entry.workflow_id)
            {
                let _ = tx.send(entry.clone());
            }
            if fold.report().is_some() {
                break;
            }
        }
        fold.into_report()
    });
    (receivers, folded)
}

/// The engine's runtime: the engine, the supervisors and their deadlines, the event consumers,
/// the embedded server. Workflow code runs on the workload runtime instead (see
/// `workload.rs`), so nothing here can be stalled by a workflow that blocks its thread.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores.max(2))
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
    match (&config.engine.base_url, factory) {
        (None, Some(start)) => {
            let started = runtime
                .block_on(start(config.clone()))
                .context("cannot start the embedded server")?;
            Ok((Some(started.base_url), Some(started.shutdown)))
        }
        _ => Ok((config.engine.base_url.clone(), None)),
    }
}

fn client(config: &Config) -> anyhow::Result<reqwest::Client> {
    crate::http::client_builder()
        .timeout(config.request_timeout)
        .build()
        .context("cannot build the HTTP client")
}

/// The workflows' input from `--context FILE`: the file's JSON, for every workflow, or per
/// workflow when it is an object keyed by registered ids. Errors name the file (and the line).
fn read_context<'a>(
    path: &std::path::Path,
    ids: impl IntoIterator<Item = &'a str>,
) -> anyhow::Result<crate::input::Inputs> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the context file {}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("the context file {} is not JSON", path.display()))?;
    Ok(crate::input::Inputs::from_json(value, ids))
}

/// The engine's settings, with the base URL of the embedded server when one was started.
fn engine_config(config: &Config, base_url: Option<Url>) -> EngineConfig {
    EngineConfig {
        base_url,
        ..config.engine.clone()
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

/// What `duration` partitions balance by (the run history's medians, else the last
/// report's); other kinds need none.
fn partition_durations(
    partition: &Partition,
    config: &Config,
    root: &Path,
) -> HashMap<String, Duration> {
    if partition.kind != PartitionKind::Duration {
        return HashMap::new();
    }
    let env = |k: &str| std::env::var(k).ok();
    let suite = crate::history::suite_name(&env, root);
    selection::recorded_durations(&config.history, &config.report_dir, root, &suite)
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
            Status::Completed => Ok(Completion::Completed),
            // libtest has no "cancelled": a workflow the run never started is ignored, with
            // the reason; the failures that stopped the run already fail it.
            Status::Cancelled => Ok(Completion::ignored_with(terminal_safe(
                entry.error.as_deref().unwrap_or("not run"),
            ))),
            // Failed or blocked: a report entry holds verdicts only. Errors quote response
            // bodies: their escape sequences are shown, never obeyed by the terminal.
            _ => Err(Failed::from(
                terminal_safe(&failure_text(&entry)).into_owned(),
            )),
        },
        Err(_) => Err("the engine stopped before this workflow finished".into()),
    })
    .with_ignored_flag(w.ignored)
}

/// What libtest prints under `failures:` for a workflow; for a panic with where it happened.
fn failure_text(entry: &WorkflowReport) -> String {
    let error = entry.error.as_deref().unwrap_or("unknown error");
    let mut text = format!(
        "{} {}: {error}\n",
        entry.workflow_name,
        entry.status.as_str(),
    );
    let panicked = entry.failure_kind == Some(FailureKind::Panic) || error.contains("panicked");
    if panicked {
        let locations: Vec<String> = crate::panics::locations_in(error)
            .into_iter()
            .filter(|l| !error.contains(l.as_str()))
            .collect();
        match locations.as_slice() {
            [] => {}
            [one] => text.push_str(&format!("  panicked at {one}\n")),
            several => text.push_str(&format!(
                "  panicked at one of {} (panics with the same message)\n",
                several.join(", ")
            )),
        }
    }
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
            "  {:>2}. {mark:<7} {:>6} ms  {}{}\n",
            i + 1,
            step.duration.as_millis(),
            step.name,
            crate::report::tries_note(step)
        ));
    }
    // The last request of the failed step, shortened: the rest is in the reports.
    if let Some(exchange) = entry
        .result
        .steps
        .iter()
        .rev()
        .find(|s| s.status == StepStatus::Failed)
        .and_then(|s| s.transcript.last())
    {
        text.push_str(&format!("  last request: {}\n", exchange.summary()));
        if let Some(body) = &exchange.response_body {
            let short: String = body.chars().take(200).collect();
            let more = if short.len() < body.len() { "…" } else { "" };
            text.push_str(&format!("    {short}{more}\n"));
        }
    }
    text
}

fn write_reports(report: &RunReport, config: &Config) -> Result<(), report::WriteError> {
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
