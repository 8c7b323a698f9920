//! The one scheduler: starts workflows by priority under the global and group limits, holds
//! dependents until their dependencies passed (or blocks them), retries, stops early on
//! `max_fail` or the run's deadline, and emits events as it goes.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::ctx::{Outputs, Shared};
use crate::event::{Event, EventKind, EventSink, PlannedWorkflow};
use crate::outcome::{FailureKind, RunOutcome, Status, WorkflowOutcome};
use crate::plan::{OutsideDeps, validate};
use crate::supervisor::{Interrupt, Supervisor};
use crate::workflow::WorkflowSpec;

pub use crate::plan::SuiteError;

pub use crate::config::EngineConfig;

/// Runs sets of workflows with one shared HTTP client.
pub struct Engine {
    client: reqwest::Client,
    config: EngineConfig,
    subscribers: Vec<mpsc::UnboundedSender<Event>>,
}

/// Why the run stopped starting workflows.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stop {
    MaxFail(usize),
    RunTimeout(Duration),
    Interrupted,
}

impl Engine {
    /// An engine with its own HTTP client (rustls, connection pooling).
    pub fn new(config: EngineConfig) -> Result<Self, reqwest::Error> {
        let client = crate::http::client_builder().build()?;
        Ok(Engine::with_client(config, client))
    }

    /// An engine using `client`, e.g. one with a request timeout or proxy settings.
    pub fn with_client(mut config: EngineConfig, client: reqwest::Client) -> Self {
        // `0` would never start anything.
        config.concurrency = config.concurrency.max(1);
        Engine {
            client,
            config,
            subscribers: Vec::new(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// A stream of every event of the runs started after this call. Unbounded: events are
    /// never dropped, whatever the subscriber's pace.
    pub fn subscribe(&mut self) -> mpsc::UnboundedReceiver<Event> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.subscribers.push(tx);
        rx
    }

    /// Runs `workflows` and returns the report, one entry per workflow in the given order.
    ///
    /// Ready workflows start by priority (higher first; ties in the given order) while the
    /// global and group limits allow. A dependent waits, without holding a slot, until its
    /// dependencies passed; a dependency outside `workflows` counts as passed. Fails before
    /// running anything when ids are invalid or repeated, dependencies cycle, or a group has
    /// no limit.
    ///
    /// Workflow bodies run on a runtime of their own (see the crate's design notes), so their
    /// deadlines hold even when they block their threads.
    pub async fn run(&self, workflows: Vec<WorkflowSpec>) -> Result<RunOutcome, SuiteError> {
        self.run_until(workflows, std::future::pending()).await
    }

    /// [`Engine::run`], interrupted when `interrupt` resolves (with the reason, e.g.
    /// `"SIGINT"`): nothing new starts, running workflows get
    /// [`interrupt_grace`](EngineConfig::interrupt_grace) to finish, then the rest are
    /// reported `cancelled` (kind `interrupted`) and the report says `interrupted: true`.
    pub async fn run_until(
        &self,
        workflows: Vec<WorkflowSpec>,
        interrupt: impl Future<Output = String>,
    ) -> Result<RunOutcome, SuiteError> {
        validate(&workflows, Some(&self.config.groups), OutsideDeps::Ignore)?;
        // Panic locations are recorded while the run goes on, for the workflows' errors.
        let _panics = crate::panics::capture();
        let start_time = SystemTime::now();
        let run_id: Arc<str> = crate::event::new_run_id(start_time).into();
        let events = EventSink::new(run_id.clone(), self.subscribers.clone());
        let started = Instant::now();
        events.emit(EventKind::RunStarted {
            workflows: workflows.iter().map(PlannedWorkflow::from).collect(),
        });
        let shared = Shared {
            client: self.client.clone(),
            base_url: self.config.base_url.clone(),
            transcripts: std::sync::Arc::new(self.config.transcript_policy()),
            events: events.clone(),
            outputs: Outputs::default(),
            inputs: Arc::new(self.config.inputs.clone()),
        };
        let mut run = Run::new(&self.config, workflows, shared);
        run.drive(interrupt).await;
        let interrupted = run.stop == Some(Stop::Interrupted);
        let workflows = run.finish();
        let duration = started.elapsed();
        events.emit(EventKind::RunFinished { duration });
        Ok(RunOutcome {
            run_id: run_id.to_string(),
            interrupted,
            duration,
            workflows,
        })
    }
}

/// The state of one run.
struct Run<'a> {
    config: &'a EngineConfig,
    specs: Vec<WorkflowSpec>,
    entries: Vec<Option<WorkflowOutcome>>,
    /// Dependencies (inside the run) each workflow still waits for.
    waiting_on: Vec<usize>,
    dependents: Vec<Vec<usize>>,
    /// Max-heap: highest priority first, then the lowest index (the given order).
    ready: BinaryHeap<(i32, Reverse<usize>)>,
    running: JoinSet<(usize, WorkflowOutcome)>,
    task_index: HashMap<tokio::task::Id, usize>,
    in_group: HashMap<String, usize>,
    failures: usize,
    stop: Option<Stop>,
    shared: Shared,
    run_over: watch::Sender<bool>,
    interrupt: watch::Sender<Option<Interrupt>>,
    /// Why the run was interrupted, once it was.
    interrupted_by: Option<String>,
}

impl<'a> Run<'a> {
    fn new(config: &'a EngineConfig, specs: Vec<WorkflowSpec>, shared: Shared) -> Self {
        let index: HashMap<&str, usize> = specs
            .iter()
            .enumerate()
            .map(|(i, w)| (w.id.as_str(), i))
            .collect();
        let mut waiting_on = vec![0; specs.len()];
        let mut dependents = vec![Vec::new(); specs.len()];
        for (i, w) in specs.iter().enumerate() {
            for dep in &w.depends_on {
                if let Some(&d) = index.get(dep.as_str()) {
                    waiting_on[i] += 1;
                    dependents[d].push(i);
                }
            }
        }
        let ready = (0..specs.len())
            .filter(|&i| waiting_on[i] == 0)
            .map(|i| (specs[i].priority, Reverse(i)))
            .collect();
        Run {
            config,
            entries: vec![None; specs.len()],
            specs,
            waiting_on,
            dependents,
            ready,
            running: JoinSet::new(),
            task_index: HashMap::new(),
            in_group: HashMap::new(),
            failures: 0,
            stop: None,
            shared,
            run_over: watch::channel(false).0,
            interrupt: watch::channel(None).0,
            interrupted_by: None,
        }
    }

    async fn drive(&mut self, interrupt: impl Future<Output = String>) {
        let deadline = self
            .config
            .run_timeout
            .map(|d| (tokio::time::Instant::now() + d, d));
        let mut interrupt = std::pin::pin!(interrupt);
        loop {
            if self.stop.is_none() {
                self.start_ready();
            }
            if self.running.is_empty() {
                break;
            }
            let timer = async {
                match deadline {
                    Some((at, _)) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let stopped = matches!(self.stop, Some(Stop::RunTimeout(_) | Stop::Interrupted));
            tokio::select! {
                done = self.running.join_next_with_id() => match done {
                    Some(Ok((id, (index, entry)))) => {
                        self.task_index.remove(&id);
                        self.finished(index, entry);
                    }
                    Some(Err(error)) => {
                        // The supervisor itself died (a bug): keep the workflow in the report.
                        if let Some(index) = self.task_index.remove(&error.id()) {
                            let entry = self.not_run(index, Status::Failed, FailureKind::Panic,
                                "internal error: the workflow's supervisor task ended abnormally".into(), None);
                            self.finished(index, entry);
                        }
                    }
                    None => break,
                },
                () = timer, if !stopped => {
                    // Running workflows see this and end as timed out; the loop collects them.
                    self.stop = deadline.map(|(_, d)| Stop::RunTimeout(d));
                    let _ = self.run_over.send(true);
                }
                reason = &mut interrupt, if !stopped => {
                    let grace = self.config.interrupt_grace;
                    self.stop = Some(Stop::Interrupted);
                    self.interrupted_by = Some(reason.clone());
                    self.shared.events.emit(EventKind::RunInterrupted { reason: reason.clone(), grace });
                    let cut_at = tokio::time::Instant::now() + grace;
                    let _ = self.interrupt.send(Some(Interrupt { reason, cut_at }));
                }
            }
        }
        // An interrupt that comes when nothing runs any more still stops the run.
        if self.stop.is_none()
            && self.entries.iter().any(Option::is_none)
            && let Some(reason) = futures::FutureExt::now_or_never(&mut interrupt)
        {
            self.stop = Some(Stop::Interrupted);
            self.shared.events.emit(EventKind::RunInterrupted {
                reason: reason.clone(),
                grace: Duration::ZERO,
            });
            self.interrupted_by = Some(reason);
        }
    }

    /// Starts ready workflows, highest priority first, while the limits allow.
    fn start_ready(&mut self) {
        let mut held_back = Vec::new();
        while self.running.len() < self.config.concurrency {
            let Some((priority, Reverse(index))) = self.ready.pop() else {
                break;
            };
            if let Some(group) = &self.specs[index].group {
                let limit = self.config.groups.get(group).copied().unwrap_or(usize::MAX);
                let used = self.in_group.entry(group.clone()).or_default();
                if *used >= limit {
                    held_back.push((priority, Reverse(index)));
                    continue;
                }
                *used += 1;
            }
            let spec = self.specs[index].clone();
            let supervisor = Supervisor {
                shared: self.shared.clone(),
                timeout: spec.timeout.or(self.config.default_timeout),
                step_timeout: self.config.step_timeout,
                retries: self.config.retries,
                retry_delay: self.config.retry_delay,
                retry_backoff: self.config.retry_backoff,
                flaky_fails: self.config.flaky_fails,
                skipped_steps: self.config.skipped_steps,
                run_over: self.run_over.subscribe(),
                interrupt: self.interrupt.subscribe(),
            };
            let handle = self
                .running
                .spawn(async move { (index, supervisor.run(spec).await) });
            self.task_index.insert(handle.id(), index);
        }
        self.ready.extend(held_back);
    }

    fn finished(&mut self, index: usize, entry: WorkflowOutcome) {
        if let Some(group) = &self.specs[index].group
            && let Some(used) = self.in_group.get_mut(group)
        {
            *used = used.saturating_sub(1);
        }
        let passed = entry.status == Status::Completed;
        let error = entry.error.clone().unwrap_or_default();
        self.entries[index] = Some(entry);
        if passed {
            for d in self.dependents[index].clone() {
                self.waiting_on[d] -= 1;
                if self.waiting_on[d] == 0 && self.entries[d].is_none() {
                    self.ready.push((self.specs[d].priority, Reverse(d)));
                }
            }
            return;
        }
        self.failures += 1;
        if let Some(max) = self.config.max_fail
            && self.failures >= max
            && self.stop.is_none()
        {
            self.stop = Some(Stop::MaxFail(max));
        }
        // Past the run's deadline (or after an interrupt) every unfinished workflow is reported
        // as timed out (or interrupted) instead.
        if !matches!(self.stop, Some(Stop::RunTimeout(_) | Stop::Interrupted)) {
            self.block_dependents(index, error);
        }
    }

    /// Marks everything that depends on `failed`, directly or not, as blocked.
    fn block_dependents(&mut self, failed: usize, error: String) {
        let mut queue: VecDeque<(usize, String)> = self.dependents[failed]
            .iter()
            .map(|&d| (d, self.specs[failed].id.clone()))
            .collect();
        let root = self.specs[failed].id.clone();
        while let Some((d, by)) = queue.pop_front() {
            if self.entries[d].is_some() {
                continue;
            }
            let reason = if by == root {
                format!("blocked by {by}: {error}")
            } else {
                format!("blocked by {by}, itself blocked by {root}: {error}")
            };
            let entry = self.not_run(d, Status::Blocked, FailureKind::Blocked, reason, Some(by));
            self.shared.events.emit(EventKind::WorkflowFinished {
                outcome: Box::new(entry.clone()),
            });
            self.entries[d] = Some(entry);
            let id = self.specs[d].id.clone();
            queue.extend(self.dependents[d].iter().map(|&dd| (dd, id.clone())));
        }
    }

    fn not_run(
        &self,
        index: usize,
        status: Status,
        kind: FailureKind,
        error: String,
        blocked_by: Option<String>,
    ) -> WorkflowOutcome {
        WorkflowOutcome::not_run(&self.specs[index].id, status, kind, error, blocked_by)
    }

    /// The entries in the given order; workflows that never started get theirs now.
    fn finish(mut self) -> Vec<WorkflowOutcome> {
        for index in 0..self.specs.len() {
            if self.entries[index].is_some() {
                continue;
            }
            let entry = match self.stop {
                Some(Stop::MaxFail(max)) => self.not_run(
                    index,
                    Status::Cancelled,
                    FailureKind::Cancelled,
                    format!("not run: the run stopped after {max} failure(s) (max_fail)"),
                    None,
                ),
                Some(Stop::RunTimeout(limit)) => self.not_run(
                    index,
                    Status::Failed,
                    FailureKind::Timeout,
                    format!("timed out: the run's {limit:?} deadline passed before it started"),
                    None,
                ),
                Some(Stop::Interrupted) => self.not_run(
                    index,
                    Status::Cancelled,
                    FailureKind::Interrupted,
                    format!(
                        "not run: the run was interrupted ({})",
                        self.interrupted_by.as_deref().unwrap_or("stopped")
                    ),
                    None,
                ),
                None => self.not_run(
                    index,
                    Status::Failed,
                    FailureKind::Panic,
                    "internal error: the scheduler never started it".into(),
                    None,
                ),
            };
            self.shared.events.emit(EventKind::WorkflowFinished {
                outcome: Box::new(entry.clone()),
            });
            self.entries[index] = Some(entry);
        }
        self.entries.into_iter().flatten().collect()
    }
}
