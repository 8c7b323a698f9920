//! `POST /api/test-workflows/{workflow}[?async=true]` with `{"config"?: {...}, "context"?:
//! ...}`: the seed's dynamic route, one workflow by id (its dependencies pulled in, as for
//! `…/parallel`).
//!
//! `config` changes the engine settings of this run only: the run gets its own copy of the
//! server's settings, so (unlike the seed's `Object.assign` into its global `TEST_CONFIG`)
//! nothing a request gives outlives its run. `context` is the named workflow's input
//! (`cx.input()`); its dependencies keep the server's.

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::AppState;
use super::error::ApiError;
use super::extract::{JsonBody, flag};
use super::{handlers, launch, request};
use crate::config;
use crate::engine::EngineConfig;

/// The keys a body may hold.
const BODY_KEYS: [&str; 2] = ["config", "context"];

/// The handler.
pub(super) async fn run_workflow(
    State(state): State<AppState>,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    RawQuery(query): RawQuery,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let Path(id) = path.map_err(|rejection| {
        ApiError::BadParameter(format!(
            "invalid workflow id in the path: {}",
            rejection.body_text()
        ))
    })?;
    if !state.context.workflows.iter().any(|w| w.id == id) {
        return Err(ApiError::WorkflowNotFound(id));
    }
    let background = flag(query.as_deref(), "async")?;
    let Value::Object(body) = body else {
        return Err(bad(
            "the body must be a JSON object: {\"config\"?: {…}, \"context\"?: …}",
        ));
    };
    let unknown: Vec<&str> = body
        .keys()
        .map(String::as_str)
        .filter(|k| !BODY_KEYS.contains(k))
        .collect();
    if !unknown.is_empty() {
        return Err(bad(&format!(
            "unknown body keys: {} (expected config, context)",
            unknown.join(", ")
        )));
    }
    let mut engine = match body.get("config") {
        None | Some(Value::Null) => state.context.engine.clone(),
        Some(Value::Object(changes)) => for_this_run(&state.context.engine, changes)?,
        Some(_) => return Err(bad("config must be an object of settings")),
    };
    if let Some(context) = body.get("context").filter(|c| !c.is_null()) {
        engine.inputs.set(&id, context.clone());
    }
    let selection = request::select(
        &json!({ "workflowIds": [id] }),
        &state.context.workflows,
        state.context.max_workflows,
    )?;
    let run = launch::start(&state, selection.requested, selection.workflows, engine)?;
    handlers::answer(&state, &run, background).await
}

/// The server's engine settings with `changes` (keys of [`config::run_settings`]) applied,
/// as a copy. Unknown keys are refused together, by name; a bad value by its key.
pub(super) fn for_this_run(
    base: &EngineConfig,
    changes: &Map<String, Value>,
) -> Result<EngineConfig, ApiError> {
    let overrides = config::run_overrides(changes).map_err(|reason| bad(&reason))?;
    config::override_engine(base, &overrides).map_err(|reason| bad(&reason))
}

fn bad(message: &str) -> ApiError {
    ApiError::BadParameter(message.to_owned())
}
