//! The context a workflow runs with: named, timed steps and HTTP against the base URL.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::event::{EventKind, EventSink};
use crate::http::Http;
use crate::step::{Recorder, StepStatus};
use crate::workflow::StepResult;

/// A required step failed; this error ends the workflow. Its message names the step.
#[derive(Debug, thiserror::Error)]
#[error("step {step:?} failed")]
pub struct StepFailed {
    /// The step's name.
    pub step: String,
    /// What went wrong in it.
    #[source]
    pub source: anyhow::Error,
}

/// A step ran past its deadline; the message names the requests it was waiting for.
#[derive(Debug, thiserror::Error)]
#[error("timed out after {limit:?}{}", in_flight_text(in_flight))]
pub struct StepTimedOut {
    /// The deadline.
    pub limit: Duration,
    /// The requests still in flight when it passed, as `GET http://… (for 1.2s)`.
    pub in_flight: Vec<String>,
}

/// `; request in flight: GET http://… (for 2.00s)`, or nothing.
pub(crate) fn in_flight_text(in_flight: &[String]) -> String {
    match in_flight {
        [] => String::new(),
        [one] => format!("; request in flight: {one}"),
        many => format!("; requests in flight: {}", many.join(", ")),
    }
}

/// A polling step ([`Ctx::poll`]) never got what it waited for; the last try's error is the
/// source.
#[derive(Debug, thiserror::Error)]
pub struct PollGaveUp {
    /// How many tries were made (the one cut off at the deadline included).
    pub tries: u32,
    /// How long it polled for.
    pub within: Duration,
    /// The pause between tries.
    pub every: Duration,
    /// When the deadline cut the final try short: why (the request in flight). Its error
    /// says nothing about the polled condition, so `last` is the try before it.
    pub cut_off: Option<String>,
    /// The last answered try's error.
    #[source]
    pub last: anyhow::Error,
}

impl fmt::Display for PollGaveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tries = if self.tries == 1 { "try" } else { "tries" };
        write!(
            f,
            "still failing after {} {tries} in {:?} (one every {:?})",
            self.tries, self.within, self.every
        )?;
        match &self.cut_off {
            Some(cut) => write!(f, "; the last was cut off ({cut}); the one before"),
            None => write!(f, "; the last"),
        }
    }
}

/// The outputs workflows publish for their dependents, shared by one run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outputs(Arc<Mutex<HashMap<String, Value>>>);

impl Outputs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Value>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn set(&self, id: &str, value: Value) {
        self.lock().insert(id.to_owned(), value);
    }

    pub fn get(&self, id: &str) -> Option<Value> {
        self.lock().get(id).cloned()
    }

    pub fn clear(&self, id: &str) {
        self.lock().remove(id);
    }
}

/// What every workflow of one run shares.
#[derive(Clone)]
pub(crate) struct Shared {
    pub client: reqwest::Client,
    pub base_url: Option<Url>,
    /// How the workflows' HTTP exchanges are recorded.
    pub transcripts: std::sync::Arc<crate::http::TranscriptPolicy>,
    pub events: EventSink,
    pub outputs: Outputs,
    /// Each workflow's input (`cx.input()`).
    pub inputs: Arc<crate::input::Inputs>,
}

/// One workflow's view of the run: its steps, its HTTP client and its default headers.
///
/// The client is shared by every workflow of the process (one connection pool); the headers
/// (e.g. the bearer token of the user this workflow acts as) are this workflow's own. The
/// HTTP helpers (`cx.get`, `cx.post_value`, `cx.as_user(&user)`, `cx.set_user`, …) are those
/// of [`Http`], which `Ctx` dereferences to.
pub struct Ctx {
    workflow_id: String,
    shared: Shared,
    http: Http,
    recorder: Recorder,
    planned_steps: Option<usize>,
    step_timeout: Option<Duration>,
}

impl Ctx {
    /// The HTTP session's bookkeeping, for the supervisor's deadline messages.
    pub(crate) fn session(&self) -> std::sync::Arc<crate::http::Session> {
        self.http.session()
    }

    pub(crate) fn new(
        workflow_id: String,
        shared: Shared,
        recorder: Recorder,
        planned_steps: Option<usize>,
        step_timeout: Option<Duration>,
    ) -> Self {
        let session = std::sync::Arc::new(crate::http::Session::new(shared.transcripts.clone()));
        let http = Http::with_session(shared.client.clone(), shared.base_url.clone(), session);
        Ctx {
            workflow_id,
            shared,
            http,
            recorder,
            planned_steps,
            step_timeout,
        }
    }

    /// Registers a cleanup: once the workflow's body has ended — passed, failed, panicked or
    /// timed out — it runs as a step named `name`, with the HTTP defaults (headers, cookies)
    /// the workflow has now, under its own deadline
    /// ([`CLEANUP_TIMEOUT`](crate::CLEANUP_TIMEOUT)). Cleanups run last registered first; each
    /// runs even when an earlier one failed. A failed cleanup fails a workflow that had passed
    /// (a leftover breaks the next run); after a failure the workflow's own error is kept.
    /// When the run's deadline passes or the run is interrupted, cleanups do not run.
    ///
    /// ```no_run
    /// # use workflow_harness::prelude::*;
    /// # async fn run(cx: &mut Ctx) -> StepResult {
    /// let id = cx.step("Create", async |cx| Ok(cx.post_value("/api/blog", &json!({})).await?.id()?)).await?;
    /// cx.defer("Delete the post", async move |cx| {
    ///     cx.delete(&format!("/api/blog/{id}")).await?.expect_success()?;
    ///     Ok(())
    /// });
    /// # Ok(())
    /// # }
    /// ```
    pub fn defer<F>(&self, name: &str, cleanup: F)
    where
        F: AsyncFnOnce(&mut Ctx) -> StepResult + Send + 'static,
    {
        let run: crate::cleanup::CleanupFn = Box::new(move |cx: &mut Ctx| {
            let future: crate::cleanup::LocalFuture<'_> = Box::pin(cleanup(cx));
            future
        });
        self.recorder.defer(crate::cleanup::Deferred {
            name: name.to_owned(),
            http: self.http.clone(),
            run,
        });
    }

    /// A cleanup's context: this one with the HTTP defaults its cleanup was registered with.
    pub(crate) fn with_http(mut self, http: Http) -> Self {
        self.http = http;
        self
    }

    /// Runs a cleanup as a required step (its deadline is the supervisor's).
    pub(crate) async fn cleanup_step(
        &mut self,
        name: &str,
        run: crate::cleanup::CleanupFn,
    ) -> StepResult {
        self.required(name, None, async move |cx| run(cx).await)
            .await
    }

    /// The id of the workflow this context belongs to.
    pub fn workflow_id(&self) -> &str {
        &self.workflow_id
    }

    /// The base URL paths are joined to, if one is configured.
    pub fn base_url(&self) -> Option<&Url> {
        self.shared.base_url.as_ref()
    }

    /// The shared client, for requests the harness's builder does not cover (send them with
    /// [`Http::send`]). It follows no redirects and keeps no cookies: the workflow's session
    /// does both, for requests built with `cx.get(…)`, `cx.post(…)`, ….
    pub fn client(&self) -> &reqwest::Client {
        &self.shared.client
    }

    /// This workflow's input for the run (the seed's `context`): from a run request's
    /// `context`, `--context FILE` / `WORKFLOW_CONTEXT`, or `EngineConfig::inputs`. `None`
    /// when the run gives it none.
    pub fn input(&self) -> Option<&Value> {
        self.shared.inputs.for_workflow(&self.workflow_id)
    }

    /// The input decoded as `T` (`None` without one). An input that does not decode is an
    /// error naming the field: `the input of "auction-bidding" does not fit: auctions.live:
    /// invalid type: string "x", expected a sequence`.
    pub fn input_as<T: DeserializeOwned>(&self) -> StepResult<Option<T>> {
        let Some(value) = self.input() else {
            return Ok(None);
        };
        serde_path_to_error::deserialize(value)
            .map(Some)
            .map_err(|e| {
                let path = e.path().to_string();
                let path = if path == "." { "the input" } else { &path };
                anyhow::anyhow!(
                    "the input of {:?} does not fit: {path}: {}",
                    self.workflow_id,
                    e.inner()
                )
            })
    }

    /// Publishes `value` for the workflows that depend on this one (`depends_on`); they read it
    /// with [`Ctx::output_of`]. A later call replaces it.
    pub fn set_output(&self, value: impl Serialize) -> StepResult<()> {
        let value = serde_json::to_value(value)?;
        self.shared.outputs.set(&self.workflow_id, value);
        Ok(())
    }

    /// The output a dependency published with [`Ctx::set_output`], decoded as `T`.
    pub fn output_of<T: DeserializeOwned>(&self, workflow_id: &str) -> StepResult<T> {
        let value = self.shared.outputs.get(workflow_id).ok_or_else(|| {
            anyhow::anyhow!(
                "workflow {workflow_id:?} published no output: is it in this workflow's \
                 `depends_on`, and does it call `set_output`?"
            )
        })?;
        serde_json::from_value(value).map_err(|e| {
            anyhow::anyhow!(
                "the output of {workflow_id:?} is not a {}: {e}",
                std::any::type_name::<T>()
            )
        })
    }

    /// Runs a required step that polls: `body` is tried, then tried again every `every`, until
    /// it returns `Ok` (the step passes with that value) or `within` has passed (the step
    /// fails with [`PollGaveUp`] and the last try's error). For eventually consistent APIs:
    /// an order that becomes `shipped`, a search index that catches up. Each try is recorded
    /// in the step (`tryCount` and `tries` in report.json), and a try still running when
    /// `within` passes is cut there. The step deadline does not apply; `within` is its own.
    pub async fn poll<T>(
        &mut self,
        name: &str,
        every: Duration,
        within: Duration,
        mut body: impl AsyncFnMut(&mut Ctx) -> StepResult<T>,
    ) -> StepResult<T> {
        let index = self.begin(name, false);
        let started = std::time::Instant::now();
        let mut tries = 0u32;
        let mut answered: Option<anyhow::Error> = None;
        let result = loop {
            tries += 1;
            let try_started = std::time::Instant::now();
            let remaining = within.saturating_sub(started.elapsed());
            let (outcome, cut) = match tokio::time::timeout(remaining, body(self)).await {
                Ok(outcome) => (outcome, false),
                Err(_) => (Err(self.timed_out(within).into()), true),
            };
            let error = outcome.as_ref().err().map(|e| format!("{e:#}"));
            self.recorder.record_try(try_started, error);
            match outcome {
                Ok(value) => break Ok(value),
                Err(error) if cut || started.elapsed() + every >= within => {
                    // A try cut short by the deadline tells nothing about the condition:
                    // the message leads with the last answer, when there was one.
                    let (last, cut_off) = match (cut, answered.take()) {
                        (true, Some(before)) => (before, Some(format!("{error:#}"))),
                        (_, _) => (error, None),
                    };
                    break Err(PollGaveUp {
                        tries,
                        within,
                        every,
                        cut_off,
                        last,
                    });
                }
                Err(error) => {
                    answered = Some(error);
                    tokio::time::sleep(every).await;
                }
            }
        };
        match result {
            Ok(value) => {
                self.end(index, StepStatus::Passed, None);
                Ok(value)
            }
            Err(gave_up) => {
                let source = anyhow::Error::from(gave_up);
                self.end(index, StepStatus::Failed, Some(format!("{source:#}")));
                Err(StepFailed {
                    step: name.to_owned(),
                    source,
                }
                .into())
            }
        }
    }

    /// Sets the deadline of this workflow's later steps (`None`: only the workflow's own).
    pub fn set_step_timeout(&mut self, timeout: Option<Duration>) {
        self.step_timeout = timeout;
    }

    /// Runs a required step: records its name, duration and outcome. On error (or when it runs
    /// past the step deadline) the step is recorded as failed and the returned [`StepFailed`]
    /// ends the workflow when propagated with `?`; the steps already run stay in the report.
    pub async fn step<T>(
        &mut self,
        name: &str,
        body: impl AsyncFnOnce(&mut Ctx) -> StepResult<T>,
    ) -> StepResult<T> {
        let timeout = self.step_timeout;
        self.required(name, timeout, body).await
    }

    /// [`Ctx::step`] with its own deadline.
    pub async fn step_with_timeout<T>(
        &mut self,
        name: &str,
        timeout: Duration,
        body: impl AsyncFnOnce(&mut Ctx) -> StepResult<T>,
    ) -> StepResult<T> {
        self.required(name, Some(timeout), body).await
    }

    /// Runs an optional step: on error (or past the step deadline) it is recorded as `skipped`
    /// with the error, and the workflow goes on with `None`.
    pub async fn optional_step<T>(
        &mut self,
        name: &str,
        body: impl AsyncFnOnce(&mut Ctx) -> StepResult<T>,
    ) -> Option<T> {
        let timeout = self.step_timeout;
        self.optional(name, timeout, body).await
    }

    /// [`Ctx::optional_step`] with its own deadline.
    pub async fn optional_step_with_timeout<T>(
        &mut self,
        name: &str,
        timeout: Duration,
        body: impl AsyncFnOnce(&mut Ctx) -> StepResult<T>,
    ) -> Option<T> {
        self.optional(name, Some(timeout), body).await
    }

    async fn required<T>(
        &mut self,
        name: &str,
        timeout: Option<Duration>,
        body: impl AsyncFnOnce(&mut Ctx) -> StepResult<T>,
    ) -> StepResult<T> {
        let index = self.begin(name, false);
        match self.timed(timeout, body).await {
            Ok(value) => {
                self.end(index, StepStatus::Passed, None);
                Ok(value)
            }
            Err(source) => {
                self.end(index, StepStatus::Failed, Some(format!("{source:#}")));
                Err(StepFailed {
                    step: name.to_owned(),
                    source,
                }
                .into())
            }
        }
    }

    async fn optional<T>(
        &mut self,
        name: &str,
        timeout: Option<Duration>,
        body: impl AsyncFnOnce(&mut Ctx) -> StepResult<T>,
    ) -> Option<T> {
        let index = self.begin(name, true);
        match self.timed(timeout, body).await {
            Ok(value) => {
                self.end(index, StepStatus::Passed, None);
                Some(value)
            }
            Err(error) => {
                self.end(index, StepStatus::Skipped, Some(format!("{error:#}")));
                None
            }
        }
    }

    /// Runs `body` under `timeout`. The timer shares the step's task, so it fires only when the
    /// step yields; a step that returns after its deadline (it blocked its thread) is timed out
    /// all the same. The workflow's deadline, watched from the engine's runtime, covers code
    /// that never returns.
    async fn timed<T>(
        &mut self,
        timeout: Option<Duration>,
        body: impl AsyncFnOnce(&mut Ctx) -> StepResult<T>,
    ) -> StepResult<T> {
        match timeout {
            None => body(self).await,
            Some(limit) => {
                let started = std::time::Instant::now();
                match tokio::time::timeout(limit, body(self)).await {
                    Ok(_) if started.elapsed() >= limit => Err(self.timed_out(limit).into()),
                    Ok(result) => result,
                    Err(_) => Err(self.timed_out(limit).into()),
                }
            }
        }
    }

    fn timed_out(&self, limit: Duration) -> StepTimedOut {
        StepTimedOut {
            limit,
            in_flight: self.http.session().in_flight(),
        }
    }

    fn begin(&self, name: &str, optional: bool) -> Option<usize> {
        // Requests an earlier step left (their futures were dropped at its deadline) are not
        // this step's.
        self.http.session().forget_flights();
        self.recorder.begin(name, optional, |index| {
            self.shared.events.emit(EventKind::StepStarted {
                workflow_id: self.workflow_id.clone(),
                index,
                step: name.to_owned(),
            });
        })
    }

    fn end(&self, index: Option<usize>, status: StepStatus, error: Option<String>) {
        let Some(index) = index else { return };
        let session = self.http.session();
        let error = error.map(|e| session.scrub(&e));
        let transcript = session.take_transcript();
        self.recorder
            .finish(status, error, transcript, |step, done| {
                self.shared.events.emit(EventKind::StepFinished {
                    workflow_id: self.workflow_id.clone(),
                    index,
                    // The transcript goes to the report with the workflow's outcome (when the
                    // run keeps it); live views need the step's outcome only.
                    step: step.without_transcript(),
                    progress: crate::outcome::progress(done, self.planned_steps, false),
                });
            });
    }
}

impl std::ops::Deref for Ctx {
    type Target = Http;

    /// The workflow's HTTP defaults: `cx.get(…)`, `cx.post_value(…)`, `cx.as_user(…)`, ….
    fn deref(&self) -> &Http {
        &self.http
    }
}

impl std::ops::DerefMut for Ctx {
    /// The workflow's HTTP defaults, to change them: `cx.set_user(…)`, `cx.set_header(…)`.
    fn deref_mut(&mut self) -> &mut Http {
        &mut self.http
    }
}
