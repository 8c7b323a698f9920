//! Runs one workflow: each attempt in its own task, watched from outside (deadline, run
//! cancellation), retried with backoff, and ended with the workflow's outcome.

use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;

use crate::cleanup::{CLEANUP_TIMEOUT, Deferred};
use crate::ctx::{Ctx, Shared};
use crate::event::EventKind;
use crate::outcome::{Attempt, FailureKind, Status, WorkflowOutcome};
use crate::step::{Recorder, StepRecord, StepStatus};
use crate::workflow::WorkflowSpec;

/// How one attempt ended.
enum Ending {
    Ok,
    Err(anyhow::Error),
    Panic {
        message: String,
        /// `file:line:col` of the `panic!`, when the panic hook saw it.
        location: Option<String>,
    },
    /// Its own deadline passed.
    Timeout(Duration),
    /// The whole run's deadline passed.
    RunTimeout,
    /// The run was interrupted and the grace passed while it ran.
    Interrupted(String),
}

struct AttemptResult {
    ending: Ending,
    steps: Vec<StepRecord>,
    duration: Duration,
    /// The requests in flight when it was cut (a deadline or an interrupt).
    in_flight: Vec<String>,
}

impl AttemptResult {
    fn passed(&self) -> bool {
        matches!(self.ending, Ending::Ok)
    }

    fn failed_step(&self) -> Option<&str> {
        self.steps
            .iter()
            .rev()
            .find(|s| s.status == StepStatus::Failed)
            .map(|s| s.name.as_str())
    }

    /// The error message and its kind, for a failed attempt.
    fn failure(&self) -> Option<(String, FailureKind)> {
        let in_step = || {
            let step = self
                .failed_step()
                .map_or_else(String::new, |s| format!(" in step {s:?}"));
            step + &crate::ctx::in_flight_text(&self.in_flight)
        };
        match &self.ending {
            Ending::Ok => None,
            Ending::Err(e) => Some((format!("{e:#}"), FailureKind::Error)),
            Ending::Panic { message, location } => {
                let place = self.failed_step().map_or_else(
                    || "the workflow panicked".to_owned(),
                    |s| format!("step {s:?} panicked"),
                );
                let at = location
                    .as_ref()
                    .map_or_else(String::new, |l| format!(" at {l}"));
                Some((format!("{place}{at}: {message}"), FailureKind::Panic))
            }
            Ending::Timeout(limit) => Some((
                format!("timed out after {limit:?}{}", in_step()),
                FailureKind::Timeout,
            )),
            Ending::RunTimeout => Some((
                format!("the run's deadline passed while it ran{}", in_step()),
                FailureKind::Timeout,
            )),
            Ending::Interrupted(reason) => Some((
                format!("interrupted ({reason}) while it ran{}", in_step()),
                FailureKind::Interrupted,
            )),
        }
    }
}

/// What a supervisor needs besides the workflow.
#[derive(Clone)]
pub(crate) struct Supervisor {
    pub shared: Shared,
    pub timeout: Option<Duration>,
    pub step_timeout: Option<Duration>,
    pub retries: u32,
    pub retry_delay: Duration,
    pub retry_backoff: f64,
    pub flaky_fails: bool,
    /// Whether a skipped step fails its workflow.
    pub skipped_steps: crate::config::SkippedSteps,
    /// Turns `true` when the run's deadline passes.
    pub run_over: watch::Receiver<bool>,
    /// Set when the run is interrupted.
    pub interrupt: watch::Receiver<Option<Interrupt>>,
}

/// The run was interrupted: running workflows may go on until `cut_at`.
#[derive(Debug, Clone)]
pub(crate) struct Interrupt {
    /// What stopped the run, e.g. `SIGINT`.
    pub reason: String,
    /// When running workflows are cut.
    pub cut_at: tokio::time::Instant,
}

/// Resolves when the run is interrupted and its grace has passed, with the reason.
async fn cut(mut interrupt: watch::Receiver<Option<Interrupt>>) -> String {
    let found = match interrupt.wait_for(Option::is_some).await {
        Ok(value) => value.clone(),
        Err(_) => None,
    };
    match found {
        Some(Interrupt { reason, cut_at }) => {
            tokio::time::sleep_until(cut_at).await;
            reason
        }
        // The engine went away without interrupting: never.
        None => std::future::pending().await,
    }
}

/// Whether the run has been interrupted.
fn interrupted(interrupt: &watch::Receiver<Option<Interrupt>>) -> bool {
    interrupt.borrow().is_some()
}

impl Supervisor {
    pub async fn run(mut self, spec: WorkflowSpec) -> WorkflowOutcome {
        let start_time = SystemTime::now();
        let started = Instant::now();
        self.shared.events.emit(EventKind::WorkflowStarted {
            workflow_id: spec.id.clone(),
            workflow_name: spec.name.clone(),
        });

        let max_attempts = spec.retries.unwrap_or(self.retries).saturating_add(1);
        let mut delay = self.retry_delay;
        let mut attempts = Vec::new();
        let mut attempt = 1;
        let last = loop {
            let result = self.attempt(&spec).await;
            let failure = result.failure();
            attempts.push(Attempt {
                attempt,
                passed: result.passed(),
                duration: result.duration,
                error: failure.as_ref().map(|(e, _)| e.clone()),
                failure_kind: failure.as_ref().map(|(_, k)| *k),
            });
            let stopped = matches!(result.ending, Ending::RunTimeout | Ending::Interrupted(_))
                || interrupted(&self.interrupt);
            if result.passed() || stopped || attempt >= max_attempts {
                break result;
            }
            self.shared.events.emit(EventKind::WorkflowRetrying {
                workflow_id: spec.id.clone(),
                attempt: attempt + 1,
                error: failure.map(|(e, _)| e).unwrap_or_default(),
                delay,
            });
            let waited = tokio::select! {
                _ = tokio::time::sleep(delay) => true,
                _ = self.run_over.wait_for(|over| *over) => false,
                _ = self.interrupt.wait_for(Option::is_some) => false,
            };
            if !waited {
                break result;
            }
            delay = delay.mul_f64(self.retry_backoff.max(1.0));
            attempt += 1;
        };

        let outcome = self.outcome(spec, last, attempts, start_time, started.elapsed());
        self.shared.events.emit(EventKind::WorkflowFinished {
            outcome: Box::new(outcome.clone()),
        });
        outcome
    }

    async fn attempt(&mut self, spec: &WorkflowSpec) -> AttemptResult {
        // An earlier failed attempt's output must not leak to the dependents.
        self.shared.outputs.clear(&spec.id);
        let recorder = Recorder::new();
        let ctx = Ctx::new(
            spec.id.clone(),
            self.shared.clone(),
            recorder.clone(),
            spec.planned_steps,
            spec.step_timeout.or(self.step_timeout),
        );
        let session = ctx.session();
        let started = Instant::now();
        let body = spec.run.clone();
        // The body runs on a thread of its own; this task, its timers and the decision stay on
        // the engine's runtime, which a workflow blocking its thread cannot stall.
        let crate::workload::Running { mut task, cancel } =
            crate::workload::spawn(move || async move {
                let mut ctx = ctx;
                body(&mut ctx).await
            });
        let task_id = task.id();
        let limit = self.timeout;
        let deadline = async {
            match limit {
                Some(limit) => tokio::time::sleep(limit).await,
                None => std::future::pending().await,
            }
        };
        let mut run_over = self.run_over.clone();
        let ending = tokio::select! {
            joined = &mut task => match joined {
                // Decided by elapsed time: an end past the deadline is a timeout, whichever
                // branch woke first.
                _ if limit.is_some_and(|limit| started.elapsed() >= limit) => {
                    Ending::Timeout(limit.unwrap_or_default())
                }
                Ok(Some(Ok(()))) => Ending::Ok,
                Ok(Some(Err(error))) => Ending::Err(error),
                // Only this function cancels it, after it stopped waiting here.
                Ok(None) => Ending::Panic {
                    message: "the workflow was cancelled before it ended".into(),
                    location: None,
                },
                Err(join_error) => Ending::Panic {
                    message: panic_message(join_error),
                    location: crate::panics::take_panic_location(task_id),
                },
            },
            () = deadline => Ending::Timeout(limit.unwrap_or_default()),
            _ = run_over.wait_for(|over| *over) => Ending::RunTimeout,
            reason = cut(self.interrupt.clone()) => Ending::Interrupted(reason),
        };
        // A no-op when it finished; otherwise it stops at its next `.await`. Code that never
        // yields again keeps its thread, but its recorder is closed below: it records nothing
        // and emits nothing from now on.
        drop(cancel);
        let duration = started.elapsed();
        let in_flight = match ending {
            Ending::Timeout(_) | Ending::RunTimeout | Ending::Interrupted(_) => session.in_flight(),
            _ => Vec::new(),
        };
        let flights = crate::ctx::in_flight_text(&in_flight);
        let steps = recorder.close(
            |step| match &ending {
                Ending::Panic {
                    message,
                    location: Some(at),
                } => format!("panicked at {at}: {message}"),
                Ending::Panic {
                    message,
                    location: None,
                } => format!("panicked: {message}"),
                Ending::Timeout(limit) => {
                    format!("timed out: the workflow's {limit:?} deadline passed{flights}")
                }
                Ending::RunTimeout => format!("timed out: the run's deadline passed{flights}"),
                Ending::Interrupted(reason) => format!("interrupted ({reason}){flights}"),
                // `Ctx::step` always closes its step; name it anyway rather than lose it.
                _ => format!("step {step:?} did not finish"),
            },
            session.take_transcript(),
        );
        let mut ending = ending;
        if let Ending::Err(error) = &ending {
            // The workflow's error quotes the step's; keep the secrets out of it as well.
            let scrubbed = session.scrub(&format!("{error:#}"));
            if scrubbed != format!("{error:#}") {
                ending = Ending::Err(anyhow::anyhow!(scrubbed));
            }
        }
        let (ending, mut steps) = self.clean_up(spec, &recorder, ending, steps).await;
        let ending = match (
            ending,
            steps.iter().find(|s| s.status == StepStatus::Skipped),
        ) {
            (Ending::Ok, Some(skipped))
                if self.skipped_steps == crate::config::SkippedSteps::Fail =>
            {
                let why = skipped.error.as_deref().unwrap_or("no error recorded");
                Ending::Err(anyhow::anyhow!(
                    "step {:?} was skipped (skipped_steps = \"fail\"): {why}",
                    skipped.name
                ))
            }
            (ending, _) => ending,
        };
        let keep = self.shared.transcripts.keep;
        if keep == crate::http::Transcripts::Off
            || (keep == crate::http::Transcripts::Failures && matches!(ending, Ending::Ok))
        {
            for step in &mut steps {
                step.transcript.clear();
            }
        }
        AttemptResult {
            ending,
            steps,
            duration,
            in_flight,
        }
    }

    /// Runs the workflow's cleanups (last registered first) after its body ended, each as a
    /// step on a thread of its own under [`CLEANUP_TIMEOUT`]. A cleanup that fails fails an
    /// attempt that had passed. Not when the run is over (its deadline, an interrupt).
    async fn clean_up(
        &self,
        spec: &WorkflowSpec,
        body: &Recorder,
        mut ending: Ending,
        mut steps: Vec<StepRecord>,
    ) -> (Ending, Vec<StepRecord>) {
        let deferred = body.take_deferred();
        if matches!(ending, Ending::RunTimeout | Ending::Interrupted(_)) {
            return (ending, steps);
        }
        for Deferred { name, http, run } in deferred.into_iter().rev() {
            // A recorder per cleanup: one that hangs past its deadline is closed with it, and
            // whatever it does later is recorded nowhere.
            let recorder = body.continuing(steps);
            let ctx = Ctx::new(
                spec.id.clone(),
                self.shared.clone(),
                recorder.clone(),
                spec.planned_steps,
                None,
            )
            .with_http(http);
            let session = ctx.session();
            let step = name.clone();
            let crate::workload::Running { mut task, cancel } =
                crate::workload::spawn(move || async move {
                    let mut ctx = ctx;
                    ctx.cleanup_step(&step, run).await
                });
            let task_id = task.id();
            let started = Instant::now();
            let failure = tokio::select! {
                joined = &mut task => match joined {
                    _ if started.elapsed() >= CLEANUP_TIMEOUT => {
                        Some(format!("cleanup step {name:?} timed out after {CLEANUP_TIMEOUT:?}"))
                    }
                    Ok(Some(Ok(()))) => None,
                    Ok(Some(Err(error))) => Some(format!("cleanup {error:#}")),
                    Ok(None) => Some(format!("cleanup step {name:?} was cancelled")),
                    Err(join_error) => {
                        let at = crate::panics::take_panic_location(task_id)
                            .map_or_else(String::new, |at| format!(" at {at}"));
                        Some(format!(
                            "cleanup step {name:?} panicked{at}: {}",
                            panic_message(join_error)
                        ))
                    }
                },
                () = tokio::time::sleep(CLEANUP_TIMEOUT) => {
                    Some(format!("cleanup step {name:?} timed out after {CLEANUP_TIMEOUT:?}"))
                }
            };
            drop(cancel);
            steps = recorder.close(
                |_| match &failure {
                    Some(failure) => failure.clone(),
                    None => "the cleanup did not finish".to_owned(),
                },
                session.take_transcript(),
            );
            if let (Some(failure), Ending::Ok) = (failure, &ending) {
                ending = Ending::Err(anyhow::anyhow!(failure));
            }
        }
        (ending, steps)
    }

    fn outcome(
        &self,
        spec: WorkflowSpec,
        last: AttemptResult,
        attempts: Vec<Attempt>,
        start_time: SystemTime,
        duration: Duration,
    ) -> WorkflowOutcome {
        let flaky = last.passed() && attempts.len() > 1;
        let (status, error, failure_kind) = match last.failure() {
            None if flaky && self.flaky_fails => {
                let first = attempts
                    .first()
                    .and_then(|a| a.error.clone())
                    .unwrap_or_default();
                let error = format!(
                    "flaky (counted as failed): passed on attempt {} after failing: {first}",
                    attempts.len()
                );
                (Status::Failed, Some(error), Some(FailureKind::Error))
            }
            None => (Status::Completed, None, None),
            // Cut by an interrupt: it did not fail, the run stopped it.
            Some((error, FailureKind::Interrupted)) => (
                Status::Cancelled,
                Some(error),
                Some(FailureKind::Interrupted),
            ),
            Some((error, kind)) => (Status::Failed, Some(error), Some(kind)),
        };
        WorkflowOutcome {
            workflow_id: spec.id,
            status,
            failure_kind,
            error,
            start_time,
            duration,
            steps: last.steps,
            attempts,
            flaky,
            blocked_by: None,
        }
    }
}

fn panic_message(error: tokio::task::JoinError) -> String {
    match error.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(non-string panic payload)".into()),
        Err(error) => format!("the workflow's task was cancelled: {error}"),
    }
}
