//! Workflows registered at compile time with [`workflow!`](crate::workflow!), collected through
//! `inventory`.

use std::sync::Arc;
use std::time::Duration;

use crate::ctx::Ctx;
use crate::workflow::{BoxFuture, StepResult, WorkflowSpec};

/// The body of a registered workflow, as the `workflow!` macro wraps it.
pub type RegisteredFn = for<'a> fn(&'a mut Ctx) -> BoxFuture<'a, StepResult<()>>;

/// One registration, as written by [`workflow!`](crate::workflow!). Every field but `id`,
/// `name` and `run` is optional in the macro.
#[derive(Debug)]
pub struct Registration {
    /// Stable id: lowercase letters, digits, `-`.
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Tags.
    pub tags: &'static [&'static str],
    /// Planned step count, for progress.
    pub steps: Option<usize>,
    /// Deadline overriding the configured default.
    pub timeout: Option<Duration>,
    /// Run only with `--ignored` / `--include-ignored`.
    pub ignored: bool,
    /// Higher starts first when workflows wait for a slot.
    pub priority: i32,
    /// Ids that must pass first.
    pub depends_on: &'static [&'static str],
    /// Concurrency group.
    pub group: Option<&'static str>,
    /// Retries after a failed attempt.
    pub retries: Option<u32>,
    /// Default deadline of each step.
    pub step_timeout: Option<Duration>,
    /// The body.
    pub run: RegisteredFn,
    /// Source file of the registration (set by the macro).
    pub file: &'static str,
    /// Source line of the registration (set by the macro).
    pub line: u32,
}

impl Registration {
    /// The defaults the macro fills in for keys it was not given.
    pub const DEFAULT: Registration = Registration {
        id: "",
        name: "",
        tags: &[],
        steps: None,
        timeout: None,
        ignored: false,
        priority: 0,
        depends_on: &[],
        group: None,
        retries: None,
        step_timeout: None,
        run: missing_run,
        file: "",
        line: 0,
    };

    /// The engine's view of this registration.
    pub fn spec(&self) -> WorkflowSpec {
        WorkflowSpec {
            id: self.id.to_owned(),
            name: self.name.to_owned(),
            tags: self.tags.iter().map(|t| (*t).to_owned()).collect(),
            planned_steps: self.steps,
            timeout: self.timeout,
            ignored: self.ignored,
            location: Some(format!("{}:{}", self.file, self.line)),
            priority: self.priority,
            depends_on: self.depends_on.iter().map(|d| (*d).to_owned()).collect(),
            group: self.group.map(str::to_owned),
            retries: self.retries,
            step_timeout: self.step_timeout,
            as_dependency: false,
            run: Arc::new(self.run),
        }
    }
}

fn missing_run(_: &mut Ctx) -> BoxFuture<'_, StepResult<()>> {
    Box::pin(async {
        Err(anyhow::anyhow!(
            "this workflow was registered without `run:`"
        ))
    })
}

inventory::collect!(Registration);

/// Every registered workflow, sorted by id (the name libtest shows and filters on).
pub fn registered() -> Vec<WorkflowSpec> {
    let mut specs: Vec<WorkflowSpec> = inventory::iter::<Registration>
        .into_iter()
        .map(Registration::spec)
        .collect();
    specs.sort_by(|a, b| a.id.cmp(&b.id));
    specs
}

/// Registers a workflow with the suite.
///
/// ```
/// use workflow_harness::prelude::*;
///
/// workflow! {
///     id: "health-check",
///     name: "Health Check",
///     tags: ["smoke"],
///     steps: 1,                              // optional: planned steps, for progress
///     timeout: Duration::from_secs(10),      // optional: overrides harness.toml's `timeout`
///     run: health_check,
/// }
///
/// async fn health_check(cx: &mut Ctx) -> StepResult {
///     cx.step("Ping", async |cx| {
///         cx.get("/health").await?.expect_status(200)?;
///         Ok(())
///     })
///     .await
/// }
/// # fn main() {}
/// ```
///
/// Keys: `id`, `name` and `run` (an `async fn(&mut Ctx) -> StepResult`) are required; `tags`,
/// `steps`, `timeout`, `ignored`, `priority`, `depends_on: ["id", …]`, `group: "name"`,
/// `retries` and `step_timeout` are optional. An unknown key is a compile error.
#[macro_export]
macro_rules! workflow {
    ( $( $key:ident : $value:expr ),+ $(,)? ) => {
        $crate::inventory::submit! {
            $crate::registry::Registration {
                $( $key: $crate::__workflow_field!($key, $value), )+
                file: ::core::file!(),
                line: ::core::line!(),
                ..$crate::registry::Registration::DEFAULT
            }
        }
    };
}

/// Turns one `key: value` of [`workflow!`] into the registration field's value.
#[doc(hidden)]
#[macro_export]
macro_rules! __workflow_field {
    (run, $f:expr) => {{
        fn __workflow_run(cx: &mut $crate::Ctx) -> $crate::BoxFuture<'_, $crate::StepResult<()>> {
            ::std::boxed::Box::pin($f(cx))
        }
        __workflow_run
    }};
    (tags, $tags:expr) => {
        &$tags
    };
    (steps, $n:expr) => {
        ::core::option::Option::Some($n)
    };
    (timeout, $d:expr) => {
        ::core::option::Option::Some($d)
    };
    (depends_on, $ids:expr) => {
        &$ids
    };
    (group, $g:expr) => {
        ::core::option::Option::Some($g)
    };
    (retries, $n:expr) => {
        ::core::option::Option::Some($n)
    };
    (step_timeout, $d:expr) => {
        ::core::option::Option::Some($d)
    };
    ($other:ident, $v:expr) => {
        $v
    };
}
