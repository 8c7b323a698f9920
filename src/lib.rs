//! # workflow-harness
//!
//! Runs multi-step end-to-end workflows (HTTP scenarios such as "browse → add to cart → order
//! → verify") concurrently as an ordinary `cargo test` target, and reports them as JSON, CSV
//! and JUnit XML.
//!
//! - **Writing workflows**: [`prelude`] ([`workflow!`], [`Ctx`], [`Response`], [`JsonExt`],
//!   [`expect_json!`]).
//! - **Running them**: [`main`] / [`Harness`] for a `harness = false` test target,
//!   [`Executor`] (or [`Engine`]) from a program.
//! - **What a run tells**: its [`Event`]s, and the [`report`] model folded from them.
//!
//! Data flows one way: registry (workflows registered with [`workflow!`]) → selection
//! (libtest's filters) → engine (the one scheduler) → [`Event`]s → folds: the report, live
//! statuses, the terminal view, serve mode's log.

#![warn(missing_docs)]

mod cleanup;
pub mod config;
mod ctx;
mod engine;
mod event;
mod executor;
mod harness;
pub mod history;
mod http;
mod input;
mod json;
mod outcome;
mod panics;
pub mod partition;
mod plan;
mod progress;
pub mod report;
pub mod schedule;
mod selection;
mod signal;
mod status;
mod step;
mod supervisor;
mod text;
mod workflow;
mod workload;

#[doc(hidden)]
pub mod cli;
#[doc(hidden)]
pub mod registry;
#[doc(hidden)]
pub mod serve;

pub use cleanup::CLEANUP_TIMEOUT;
pub use config::EngineConfig;
pub use ctx::{Ctx, PollGaveUp, StepFailed, StepTimedOut};
pub use engine::{Engine, SuiteError};
pub use event::{Event, EventKind, LateGuard, PlannedWorkflow};
pub use executor::{Executor, execute_in_parallel};
pub use harness::{EmbeddedServer, Harness, NO_WORKFLOWS, REPORT_ERROR, SETUP_ERROR, main};
pub use http::{
    Cookie, Cookies, DEFAULT_REDACT_FIELDS, DEFAULT_REDIRECTS, Exchange, Http, HttpError, Identity,
    REDACTED, Redirect, Request, Response, TranscriptPolicy, Transcripts, USER_AGENT,
};
pub use input::Inputs;
pub use json::{JsonError, JsonExt, SubsetError, expect_each, expect_subset, find_subset, short};
pub use outcome::{RunOutcome, WorkflowOutcome};
pub use partition::{Partition, PartitionKind, Shard};
pub use report::{RunReport, Status, WorkflowReport};
/// Multipart bodies for [`Request::multipart`]: `Form::new().text(…).part(…)`.
pub use reqwest::multipart;
pub use status::{LiveStatus, StatusBoard};
pub use workflow::{BoxFuture, StepResult, WorkflowSpec};

#[doc(hidden)]
pub use anyhow::anyhow as __anyhow;
#[doc(hidden)]
pub use inventory;
#[doc(hidden)]
pub use serde_json::json as __json;

/// What a workflow file needs: `use workflow_harness::prelude::*;`.
pub mod prelude {
    pub use crate::multipart::{Form, Part};
    pub use crate::workflow;
    pub use crate::{
        Ctx, Http, HttpError, Identity, JsonError, JsonExt, Request, Response, StepResult,
        SubsetError, ensure_eq, expect_each, expect_json, expect_subset, find_subset, short,
    };
    pub use anyhow::{Context as _, anyhow, bail, ensure};
    pub use reqwest::{Method, StatusCode};
    pub use serde_json::{Value, json};
    pub use std::time::Duration;
    pub use tokio::time::sleep;
}

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
