//! The API's JSON endpoints: the workflow list, starting runs (waiting for them or not), run
//! statuses and report downloads, and the JSON answers for unknown routes.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use super::extract::{JsonBody, RunId, flag};
use super::runs::{Outcome, Run};
use super::{launch, request, stored};
use crate::report::{ReportFormat, RunReport};

/// Where a run's resources live.
pub(super) fn run_url(id: &str) -> String {
    format!("/api/test-workflows/runs/{id}")
}

/// `GET /api/test-workflows/parallel`: the registered workflows.
pub(super) async fn list_workflows(State(state): State<AppState>) -> Json<Value> {
    let workflows: Vec<Value> = state
        .context
        .workflows
        .iter()
        .map(|w| {
            json!({
                "id": w.id,
                "name": w.name,
                "steps": w.planned_steps,
                "tags": w.tags,
                "priority": w.priority,
                "dependsOn": w.depends_on,
                "group": w.group,
                "ignored": w.ignored,
            })
        })
        .collect();
    Json(json!({
        "totalWorkflows": workflows.len(),
        "maxWorkflows": state.context.max_workflows,
        "workflows": workflows,
    }))
}

/// `POST /api/test-workflows/parallel[?async=true]` with `{"workflowIds": [...]}`: runs them
/// (and their dependencies). Waits and answers the report, or with `async=true` answers 202
/// with the run's URLs at once. Either way the run is registered (`X-Run-Id`), queued first
/// when every workflow slot is taken; a full queue answers 429 with `Retry-After`.
pub(super) async fn start_run(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let background = flag(query.as_deref(), "async")?;
    let selection = request::select(&body, &state.context.workflows, state.context.max_workflows)?;
    let engine = state.context.engine.clone();
    let run = launch::start(&state, selection.requested, selection.workflows, engine)?;
    answer(&state, &run, background).await
}

/// The answer to a run request: 202 with the run's URLs at once when `background`, else,
/// once the run is over, its report (both with `X-Run-Id` and `Location`).
pub(super) async fn answer(
    state: &AppState,
    run: &Run,
    background: bool,
) -> Result<Response, ApiError> {
    let url = run_url(&run.id);
    let headers = [
        (HeaderName::from_static("x-run-id"), header_value(&run.id)),
        (header::LOCATION, header_value(&url)),
    ];
    if background {
        let body = json!({
            "runId": run.id,
            "statusUrl": url,
            "eventsUrl": format!("{url}/events"),
        });
        return Ok((StatusCode::ACCEPTED, headers, Json(body)).into_response());
    }
    tokio::select! {
        () = run.finished() => {}
        () = state.stopped() => {}
    }
    // Decided by the outcome, not by which of the two woke first: a run that finished
    // within the shutdown grace is answered even if the grace ended just after; one that
    // the stop cancelled, cut short or left running is the server's doing: 503, not 500.
    if state.is_draining() && !matches!(run.outcome(), Some(Outcome::Report(_))) {
        return Err(ApiError::ShuttingDown);
    }
    let report = finished_report(run)?;
    Ok((StatusCode::OK, headers, json_text(report.to_json())).into_response())
}

/// `GET /api/test-workflows/runs[?limit=N&before=run-K]`: the runs, newest first: those
/// the server holds and, with a run history, the recorded ones before them (also those of
/// earlier servers on the same history). `limit` (1–1000) cuts the page; `before` starts it
/// below run K; `next` links the following page.
pub(super) async fn list_runs(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let (limit, before) = stored::paging(query.as_deref())?;
    let below = |id: &str| match (before, stored::number(id)) {
        (Some(before), Some(n)) => n < before,
        _ => true,
    };
    let mut runs: Vec<(u64, Value)> = state
        .runs
        .list()
        .iter()
        .filter(|run| below(&run.id))
        .map(|run| {
            let mut entry = json!({
                "runId": run.id,
                "state": run.state(),
                "createdAt": epoch_ms(run.created),
                "workflowIds": run.requested,
                "totalWorkflows": run.workflows.len(),
                "statusUrl": run_url(&run.id),
                "schedule": run.schedule,
            });
            if let Some(Outcome::Report(report)) = run.outcome() {
                entry["completed"] = json!(report.completed);
                entry["failed"] = json!(report.failed);
            }
            (stored::number(&run.id).unwrap_or(0), entry)
        })
        .collect();
    let page = limit.unwrap_or(super::RETAINED_RUNS.max(runs.len()));
    for (n, entry) in stored::listed(&state, page, before).await {
        if !runs.iter().any(|(m, _)| *m == n) {
            runs.push((n, entry));
        }
    }
    runs.sort_by_key(|run| std::cmp::Reverse(run.0));
    runs.truncate(page);
    // A full page may have more behind it.
    let next = match runs.last() {
        Some((n, _)) if runs.len() == page => Some(format!(
            "/api/test-workflows/runs?limit={page}&before=run-{n}"
        )),
        _ => None,
    };
    let runs: Vec<Value> = runs.into_iter().map(|(_, entry)| entry).collect();
    Ok(Json(json!({
        "totalRuns": runs.len(),
        "slots": {
            "maxRunning": state.slots.max_running(),
            "inUse": state.slots.in_use(),
            "queuedRuns": state.slots.queued(),
            "maxQueued": state.context.limits.max_queued,
        },
        "runs": runs,
        "next": next,
    })))
}

/// `GET /api/test-workflows/runs/{id}`: the run's live statuses, and its report once over.
pub(super) async fn run_status(
    State(state): State<AppState>,
    RunId(id): RunId,
) -> Result<Json<Value>, ApiError> {
    let run = match find(&state, &id) {
        Ok(run) => run,
        Err(not_here) => {
            // Not held (a restart, or retention forgot it): the run history may have it.
            return match stored::find(&state, &id).await {
                Some((summary, report)) => Ok(Json(stored::status(&summary, report.as_ref()))),
                None => Err(not_here),
            };
        }
    };
    let (statuses, event_count) = run.progress();
    let url = run_url(&run.id);
    let mut body = json!({
        "runId": run.id,
        "state": run.state(),
        "createdAt": epoch_ms(run.created),
        "workflowIds": run.requested,
        "workflows": run.workflows,
        "statuses": statuses,
        "eventCount": event_count,
        "eventsUrl": format!("{url}/events"),
    });
    match run.outcome() {
        Some(Outcome::Report(report)) => {
            body["report"] = json!(report);
            body["reportUrls"] = json!({
                "json": format!("{url}/report.json"),
                "csv": format!("{url}/report.csv"),
                "junit": format!("{url}/junit.xml"),
                "steps": format!("{url}/report-steps.csv"),
            });
        }
        Some(Outcome::Failed(reason)) => body["error"] = json!(reason),
        None => {}
    }
    Ok(Json(body))
}

/// `GET /api/test-workflows/runs/{id}/report.json`, `…/report.csv`, `…/junit.xml`: the run's
/// report in `format` as a download (409 while running).
pub(super) async fn report(
    State(state): State<AppState>,
    RunId(id): RunId,
    format: ReportFormat,
) -> Result<Response, ApiError> {
    let report = match find(&state, &id) {
        Ok(run) => finished_report(&run)?,
        Err(not_here) => match stored::find(&state, &id).await {
            Some((_, Some(report))) => Arc::new(report),
            _ => return Err(not_here),
        },
    };
    let file = format.file_name();
    let (content_type, body) = match format {
        ReportFormat::Csv => ("text/csv; charset=utf-8", report.to_csv()),
        ReportFormat::Junit => ("application/xml; charset=utf-8", report.to_junit()),
        ReportFormat::Steps => ("text/csv; charset=utf-8", report.to_steps_csv()),
        _ => ("application/json", report.to_json()),
    };
    let disposition = header_value(&format!("attachment; filename=\"{id}-{file}\""));
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// Any path no route matches: 404 JSON.
pub(super) async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::NoRoute {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}

/// A known path with another method: 405 JSON.
pub(super) async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}

/// The retained run with this id, or 404.
pub(super) fn find(state: &AppState, id: &str) -> Result<Arc<Run>, ApiError> {
    state
        .runs
        .get(id)
        .ok_or_else(|| ApiError::RunNotFound(id.to_owned()))
}

fn finished_report(run: &Run) -> Result<Arc<RunReport>, ApiError> {
    match run.outcome() {
        Some(Outcome::Report(report)) => Ok(report),
        Some(Outcome::Failed(reason)) => Err(ApiError::RunFailed {
            id: run.id.clone(),
            reason,
        }),
        None => Err(ApiError::RunInProgress(run.id.clone())),
    }
}

fn json_text(text: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], text).into_response()
}

/// Run ids and URLs are built from ASCII (`run-N`), so this never falls back in practice.
fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

fn epoch_ms(t: SystemTime) -> u64 {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}
