//! The programmatic API (the seed's `ParallelWorkflowExecutor`): build a set of workflows in
//! code, watch their status, run them, export the report. It drives the same [`Engine`] as
//! `cargo test`.

use std::time::Duration;

use serde_json::Value;
use url::Url;

use crate::ctx::Ctx;
use crate::engine::{Engine, EngineConfig, SuiteError};
use crate::event::{Event, EventKind, LateGuard};
use crate::history::{Journal, RunMeta, Source, Target};
use crate::plan::{OutsideDeps, validate};
use crate::report::{ReportFold, RunReport};
use crate::status::{LiveStatus, StatusBoard};
use crate::workflow::{BoxFuture, StepResult, WorkflowSpec};

type StatusCallback = Box<dyn FnMut(&[LiveStatus]) + Send>;
type EventCallback = Box<dyn FnMut(&Event) + Send>;

/// Runs workflows added in code.
///
/// ```
/// use workflow_harness::prelude::*;
/// use workflow_harness::Executor;
///
/// # #[tokio::main(flavor = "multi_thread")]
/// # async fn main() -> anyhow::Result<()> {
/// let mut executor = Executor::new();
/// executor
///     .add_workflow("arithmetic", "Arithmetic", |cx| {
///         Box::pin(async move {
///             let sum = cx.step("Add", async |_| Ok(2 + 2)).await?;
///             cx.step("Check", async move |_| {
///                 anyhow::ensure!(sum == 4, "2 + 2 = {sum}");
///                 Ok(())
///             })
///             .await
///         })
///     })
///     .on_status_update(|statuses| {
///         for s in statuses {
///             eprintln!("{} {:?} {}%", s.workflow_id, s.status, s.progress);
///         }
///     });
/// let report = executor.execute_all().await?;
/// assert_eq!(report.completed, 1);
/// println!("{}", report.to_csv());
/// # Ok(())
/// # }
/// ```
pub struct Executor {
    config: EngineConfig,
    client: Option<reqwest::Client>,
    workflows: Vec<WorkflowSpec>,
    on_status: Vec<StatusCallback>,
    on_event: Vec<EventCallback>,
    history: Option<(Target, String)>,
}

impl Default for Executor {
    fn default() -> Self {
        Executor::new()
    }
}

impl Executor {
    /// An executor with the engine's default settings and no base URL.
    pub fn new() -> Self {
        Executor {
            config: EngineConfig::default(),
            client: None,
            workflows: Vec::new(),
            on_status: Vec::new(),
            on_event: Vec::new(),
            history: None,
        }
    }

    /// Records every run in the run history at `target` as a run of `suite` (source
    /// `executor`), off the async runtime. A store that fails is reported once on stderr;
    /// the report is returned all the same.
    pub fn record_history(&mut self, target: Target, suite: &str) -> &mut Self {
        self.history = Some((target, suite.to_owned()));
        self
    }

    /// Joins relative request paths to `url`.
    pub fn base_url(&mut self, url: Url) -> &mut Self {
        self.config.base_url = Some(url);
        self
    }

    /// Runs at most `n` workflows at once (at least 1).
    pub fn concurrency(&mut self, n: usize) -> &mut Self {
        self.config.concurrency = n.max(1);
        self
    }

    /// Default deadline of each workflow; `None` waits forever.
    pub fn timeout(&mut self, timeout: Option<Duration>) -> &mut Self {
        self.config.default_timeout = timeout;
        self
    }

    /// Sets every scheduling option at once (groups, retries, timeouts, `max_fail`…).
    pub fn config(&mut self, config: EngineConfig) -> &mut Self {
        self.config = config;
        self
    }

    /// Gives workflow `id` this input for its runs (`cx.input()`; replaces what it had).
    pub fn input(&mut self, id: &str, value: Value) -> &mut Self {
        self.config.inputs.set(id, value);
        self
    }

    /// Gives every workflow without an input of its own this one.
    pub fn input_for_all(&mut self, value: Value) -> &mut Self {
        self.config.inputs.set_every(value);
        self
    }

    /// Uses `client` for every request (to share a pool or set proxies and timeouts).
    pub fn client(&mut self, client: reqwest::Client) -> &mut Self {
        self.client = Some(client);
        self
    }

    /// Adds a workflow from an id, a name and its body.
    pub fn add_workflow<F>(&mut self, id: &str, name: &str, run: F) -> &mut Self
    where
        F: for<'a> Fn(&'a mut Ctx) -> BoxFuture<'a, StepResult<()>> + Send + Sync + 'static,
    {
        self.add(WorkflowSpec::new(id, name, run))
    }

    /// Adds a fully described workflow (tags, planned steps, timeout).
    pub fn add(&mut self, spec: WorkflowSpec) -> &mut Self {
        self.workflows.push(spec);
        self
    }

    /// Calls `callback` with every workflow's status whenever one changes.
    pub fn on_status_update(
        &mut self,
        callback: impl FnMut(&[LiveStatus]) + Send + 'static,
    ) -> &mut Self {
        self.on_status.push(Box::new(callback));
        self
    }

    /// Calls `callback` with every engine event (step-level detail).
    pub fn on_event(&mut self, callback: impl FnMut(&Event) + Send + 'static) -> &mut Self {
        self.on_event.push(Box::new(callback));
        self
    }

    /// Runs every added workflow concurrently and returns the report. Fails, running nothing,
    /// when two workflows share an id, an id is invalid, a dependency is unknown or cyclic, or
    /// a group has no limit. The executor can run again.
    pub async fn execute_all(&mut self) -> Result<RunReport, SuiteError> {
        validate(
            &self.workflows,
            Some(&self.config.groups),
            OutsideDeps::Reject,
        )?;
        let client = match self.client.clone() {
            Some(client) => client,
            // Building fails only without a TLS backend or threads: the plain client then.
            None => crate::http::client_builder().build().unwrap_or_default(),
        };
        let mut engine = Engine::with_client(self.config.clone(), client);
        let mut events = engine.subscribe();
        let mut board = StatusBoard::default();
        let mut guard = LateGuard::default();
        let mut fold = ReportFold::default();
        let (on_status, on_event) = (&mut self.on_status, &mut self.on_event);
        let watch = async {
            while let Some(event) = events.recv().await {
                if !guard.admit(&event.kind) {
                    continue;
                }
                on_event.iter_mut().for_each(|cb| cb(&event));
                if board.apply(&event) {
                    on_status.iter_mut().for_each(|cb| cb(board.statuses()));
                }
                fold.apply(&event);
                if matches!(event.kind, EventKind::RunFinished { .. }) {
                    break;
                }
            }
        };
        // The engine drives the run in a task of its own, so the callbacks and folds here
        // never hold up its scheduling (on a multi-thread runtime they run side by side).
        let workflows = self.workflows.clone();
        let run = tokio::spawn(async move { engine.run(workflows).await });
        watch.await;
        match run.await {
            Ok(ran) => ran?,
            // The engine's task panicked: a bug, surfaced as such.
            Err(error) => std::panic::resume_unwind(error.into_panic()),
        };
        // An invariant, not input: `Engine::run` emits `runFinished` before it returns `Ok`,
        // and the loop above folds every event up to it.
        let report = fold
            .into_report()
            .expect("the engine emits runFinished before run() returns");
        if let Some((target, suite)) = self.history.clone() {
            let recorded = report.clone();
            // The store blocks (and PostgreSQL's client runs a runtime of its own).
            let _ = tokio::task::spawn_blocking(move || {
                let mut journal = Journal::open_target(target, 1000);
                let meta = RunMeta {
                    run_id: recorded.run_id.clone(),
                    suite,
                    source: Some(Source::Executor),
                    exit_code: Some(if recorded.has_failures() { 101 } else { 0 }),
                    ..RunMeta::default()
                };
                journal.with(|store| store.record(&recorded, &meta));
            })
            .await;
        }
        Ok(report)
    }
}

/// Runs `workflows` with `config` and returns the report: the seed's
/// `executeWorkflowsInParallel(workflows, onStatusUpdate)` helper. `on_status` gets every
/// workflow's status whenever one changes, as [`Executor::on_status_update`] does (`|_| {}`
/// for none); inputs go in `config.inputs`.
///
/// ```
/// use workflow_harness::prelude::*;
/// use workflow_harness::{EngineConfig, WorkflowSpec, execute_in_parallel};
///
/// # #[tokio::main(flavor = "multi_thread")]
/// # async fn main() -> anyhow::Result<()> {
/// let hello = WorkflowSpec::new("hello", "Hello", |cx| {
///     Box::pin(async move { cx.step("Greet", async |_| Ok(())).await })
/// });
/// let report = execute_in_parallel(vec![hello], EngineConfig::default(), |statuses| {
///     for s in statuses {
///         eprintln!("{} {:?} {}%", s.workflow_id, s.status, s.progress);
///     }
/// })
/// .await?;
/// assert_eq!(report.completed, 1);
/// # Ok(())
/// # }
/// ```
pub async fn execute_in_parallel(
    workflows: Vec<WorkflowSpec>,
    config: EngineConfig,
    on_status: impl FnMut(&[LiveStatus]) + Send + 'static,
) -> Result<RunReport, SuiteError> {
    let mut executor = Executor::new();
    executor.config(config).on_status_update(on_status);
    for w in workflows {
        executor.add(w);
    }
    executor.execute_all().await
}
