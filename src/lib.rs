//! # workflow-harness
//!
//! Runs multi-step end-to-end workflows (HTTP scenarios such as "browse → add to cart → order
//! → verify") concurrently as an ordinary `cargo test` target, and reports them as JSON, CSV
//! and JUnit XML.
//!
//! Data flows one way: [`registry`] (workflows registered with [`workflow!`]) → selection
//! (libtest's filters, in [`harness`]) → [`engine`] (the one scheduler) → [`event`]s →
//! [`report`]s. The same engine backs the programmatic [`Executor`].

#![warn(missing_docs)]

pub mod cli;
pub mod config;
pub mod ctx;
pub mod engine;
pub mod event;
pub mod executor;
pub mod harness;
pub mod http;
pub mod json;
pub mod outcome;
mod panics;
pub mod plan;
mod progress;
pub mod registry;
pub mod report;
pub mod serve;
mod signal;
pub mod status;
pub mod step;
mod supervisor;
pub mod workflow;
mod workload;

pub use ctx::{Ctx, StepFailed, StepTimedOut};
pub use engine::{Engine, EngineConfig, SuiteError};
pub use event::{Event, EventKind};
pub use executor::{Executor, execute_in_parallel};
pub use harness::{EmbeddedServer, Harness, main};
pub use http::{HttpError, Response};
pub use report::{RunReport, WorkflowReport};
pub use workflow::{BoxFuture, StepResult, WorkflowSpec};

#[doc(hidden)]
pub use inventory;

/// What a workflow file needs: `use workflow_harness::prelude::*;`.
pub mod prelude {
    pub use crate::http::{Http, Identity};
    pub use crate::json::{
        JsonError, JsonExt, SubsetError, expect_each, expect_subset, find_subset, short,
    };
    pub use crate::workflow;
    pub use crate::{Ctx, HttpError, Response, StepResult, expect_json};
    pub use anyhow::{Context as _, anyhow, bail, ensure};
    pub use serde_json::{Value, json};
    pub use std::time::Duration;
}

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
