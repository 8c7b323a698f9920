//! The runtime description of one workflow, shared by the registry, the programmatic executor
//! and the engine.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::ctx::Ctx;

/// The result type of workflows and steps. Workflow bodies are application code, so any error
/// converts into it with `?`.
pub type StepResult<T = ()> = anyhow::Result<T>;

/// A boxed, sendable future borrowing the workflow's context.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The body of a workflow: given the context, the future that runs it.
pub type RunFn = Arc<dyn for<'a> Fn(&'a mut Ctx) -> BoxFuture<'a, StepResult<()>> + Send + Sync>;

/// Everything the engine needs to run one workflow.
#[derive(Clone)]
pub struct WorkflowSpec {
    /// Stable identifier: lowercase letters, digits and `-`.
    pub id: String,
    /// Human-readable display name used in reports.
    pub name: String,
    /// Free-form tags (an area such as `shop` or `auction`, a speed class…).
    pub tags: Vec<String>,
    /// The number of steps the workflow plans to run, for progress percentages.
    pub planned_steps: Option<usize>,
    /// Per-workflow deadline, overriding the configured default.
    pub timeout: Option<Duration>,
    /// Whether libtest treats it as `#[ignore]`d (run only with `--ignored`/`--include-ignored`).
    pub ignored: bool,
    /// Where it was defined (`file:line`), for error messages.
    pub location: Option<String>,
    /// Higher starts first when the concurrency limit makes workflows wait (default 0).
    pub priority: i32,
    /// Ids of workflows that must pass before this one starts.
    pub depends_on: Vec<String>,
    /// Concurrency group (its limit is configured under `[groups]`).
    pub group: Option<String>,
    /// Retries after a failed attempt, overriding the configured default.
    pub retries: Option<u32>,
    /// Default deadline of each of its steps, overriding the configured default.
    pub step_timeout: Option<Duration>,
    /// Set by the libtest front end when the workflow runs only because a selected workflow
    /// depends on it.
    pub as_dependency: bool,
    /// The body.
    pub run: RunFn,
}

impl WorkflowSpec {
    /// A workflow with the given id, name and body, and no tags, planned count or timeout.
    pub fn new<F>(id: impl Into<String>, name: impl Into<String>, run: F) -> Self
    where
        F: for<'a> Fn(&'a mut Ctx) -> BoxFuture<'a, StepResult<()>> + Send + Sync + 'static,
    {
        WorkflowSpec {
            id: id.into(),
            name: name.into(),
            tags: Vec::new(),
            planned_steps: None,
            timeout: None,
            ignored: false,
            location: None,
            priority: 0,
            depends_on: Vec::new(),
            group: None,
            retries: None,
            step_timeout: None,
            as_dependency: false,
            run: Arc::new(run),
        }
    }

    /// Sets the tags.
    pub fn tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tags = tags.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the planned step count.
    pub fn planned_steps(mut self, steps: usize) -> Self {
        self.planned_steps = Some(steps);
        self
    }

    /// Sets the workflow's own timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets the priority (higher starts first).
    pub fn priority(mut self, priority: i32) -> Self {
        self.priority = priority;
        self
    }

    /// Makes it wait for these workflows to pass.
    pub fn depends_on<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.depends_on = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Puts it in a concurrency group.
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    /// Sets how often a failed attempt is retried.
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = Some(retries);
        self
    }

    /// Sets the default deadline of each step.
    pub fn step_timeout(mut self, timeout: Duration) -> Self {
        self.step_timeout = Some(timeout);
        self
    }
}

impl std::fmt::Debug for WorkflowSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkflowSpec")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("tags", &self.tags)
            .field("planned_steps", &self.planned_steps)
            .field("timeout", &self.timeout)
            .field("ignored", &self.ignored)
            .field("location", &self.location)
            .field("priority", &self.priority)
            .field("depends_on", &self.depends_on)
            .field("group", &self.group)
            .field("retries", &self.retries)
            .field("step_timeout", &self.step_timeout)
            .field("as_dependency", &self.as_dependency)
            .finish_non_exhaustive()
    }
}

/// Checks a workflow id: non-empty, only lowercase ASCII letters, digits and `-`.
pub fn validate_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("a workflow id must not be empty".into());
    }
    if let Some(bad) = id
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "workflow id {id:?} contains {bad:?}: ids may only hold lowercase letters, digits and '-'"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::validate_id;

    #[test]
    fn ids_are_validated() {
        assert!(validate_id("product-purchase").is_ok());
        assert!(validate_id("a1-b2").is_ok());
        assert!(validate_id("").unwrap_err().contains("empty"));
        assert!(validate_id("Product").unwrap_err().contains("'P'"));
        assert!(validate_id("a_b").unwrap_err().contains("'_'"));
        assert!(validate_id("a b").is_err());
    }
}
