//! Serve mode on top of the run history: finished runs are recorded (with their report), the
//! run list pages through memory and the store (`?limit=&before=`), a run the server no
//! longer holds (it restarted, or retention forgot it) is answered from the store, and
//! `GET /history` gives the dashboard its per-workflow strips and sparklines.
//!
//! The store is blocking (SQLite, the sync PostgreSQL client): every use runs in
//! `spawn_blocking`, off the async runtime.

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use super::extract::query_param;
use super::handlers::run_url;
use super::runs::{Outcome, Run};
use crate::history::{RunMeta, RunSummary, ServeHistory, Source};
use crate::report::RunReport;

/// The most runs one page of `GET /runs` holds.
pub(super) const MAX_PAGE: usize = 1000;

/// How many runs `GET /history` looks at unless `?runs=` says.
const HISTORY_RUNS: usize = 30;

/// The N of `run-N`.
pub(super) fn number(id: &str) -> Option<u64> {
    id.strip_prefix("run-")?.parse().ok()
}

/// `?limit=N&before=run-K` of the run list: at most N runs (1 to [`MAX_PAGE`]), numbered
/// below K.
pub(super) fn paging(query: Option<&str>) -> Result<(Option<usize>, Option<u64>), ApiError> {
    let limit = match query_param(query, "limit") {
        None => None,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => Some(n),
            _ => {
                return Err(ApiError::BadParameter(format!(
                    "limit={text:?}: expected a whole number from 1 to {MAX_PAGE}"
                )));
            }
        },
    };
    let before = match query_param(query, "before") {
        None => None,
        Some(text) => Some(number(&text).ok_or_else(|| {
            ApiError::BadParameter(format!("before={text:?}: expected a run id such as run-12"))
        })?),
    };
    Ok((limit, before))
}

/// Runs `work` on the store off the async runtime; `None` without a history or when it
/// failed (reported once by the journal).
async fn blocking<T: Send + 'static>(
    history: &Arc<ServeHistory>,
    work: impl FnOnce(&mut crate::history::Store) -> Result<T, crate::history::HistoryError>
    + Send
    + 'static,
) -> Option<T> {
    let history = history.clone();
    tokio::task::spawn_blocking(move || history.with(work))
        .await
        .ok()
        .flatten()
}

/// The recorded serve-mode runs numbered below `before`, newest first, as list entries.
pub(super) async fn listed(
    state: &AppState,
    limit: usize,
    before: Option<u64>,
) -> Vec<(u64, Value)> {
    let Some(history) = &state.context.history else {
        return Vec::new();
    };
    let suite = history.suite.clone();
    let before = before.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
    let runs = blocking(history, move |store| {
        store.serve_runs(&suite, limit, before)
    })
    .await;
    runs.unwrap_or_default()
        .into_iter()
        .filter_map(|run| Some((number(&run.run_id)?, entry(&run))))
        .collect()
}

/// A recorded run as the run list shows it.
fn entry(run: &RunSummary) -> Value {
    json!({
        "runId": run.run_id,
        "state": "finished",
        "createdAt": run.started_at,
        "workflowIds": run.workflow_ids,
        "totalWorkflows": run.total_workflows,
        "statusUrl": run_url(&run.run_id),
        "completed": run.completed,
        "failed": run.failed,
        "schedule": run.schedule,
        "stored": true,
    })
}

/// A run the server does not hold, from the store: its summary and stored report.
pub(super) async fn find(state: &AppState, id: &str) -> Option<(RunSummary, Option<RunReport>)> {
    let history = state.context.history.as_ref()?;
    let id = id.to_owned();
    blocking(history, move |store| {
        let Some(summary) = store.run_summary(&id)? else {
            return Ok(None);
        };
        let report = store.report(&id)?;
        Ok(Some((summary, report)))
    })
    .await
    .flatten()
}

/// `GET /runs/{id}` of a stored run.
pub(super) fn status(summary: &RunSummary, report: Option<&RunReport>) -> Value {
    let url = run_url(&summary.run_id);
    let mut body = json!({
        "runId": summary.run_id,
        "state": "finished",
        "createdAt": summary.started_at,
        "workflowIds": summary.workflow_ids,
        "statuses": [],
        "eventCount": 0,
        "stored": true,
    });
    if let Some(report) = report {
        body["report"] = json!(report);
        body["reportUrls"] = json!({
            "json": format!("{url}/report.json"),
            "csv": format!("{url}/report.csv"),
            "junit": format!("{url}/junit.xml"),
        });
    }
    body
}

/// Records a finished run (with its report) in the history; a run without a report (the
/// engine refused it, the server cut it short) is not a run of the suite.
pub(super) async fn record(state: &AppState, run: &Run, base_url: Option<String>) {
    let (Some(history), Some(Outcome::Report(report))) = (&state.context.history, run.outcome())
    else {
        return;
    };
    let meta = RunMeta {
        run_id: run.id.clone(),
        suite: history.suite.clone(),
        source: Some(Source::Serve),
        base_url,
        selection: run.requested.join(" "),
        exit_code: Some(if report.has_failures() { 101 } else { 0 }),
        serve_seq: number(&run.id).and_then(|n| i64::try_from(n).ok()),
        schedule: run.schedule.clone(),
        ..RunMeta::default()
    };
    blocking(history, move |store| store.record(&report, &meta)).await;
}

/// `GET /api/test-workflows/history[?runs=N]`: each workflow over the suite's last N
/// recorded runs (30 by default): pass and flaky rates, p50/p95, trend, and its statuses and
/// durations run by run.
pub(super) async fn history(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let runs = match query_param(query.as_deref(), "runs") {
        None => HISTORY_RUNS,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                return Err(ApiError::BadParameter(format!(
                    "runs={text:?}: expected a whole number from 1 to {MAX_PAGE}"
                )));
            }
        },
    };
    let Some(history) = &state.context.history else {
        return Ok(Json(json!({ "enabled": false, "rows": [] })));
    };
    let suite = history.suite.clone();
    match blocking(history, move |store| store.workflow_history(&suite, runs)).await {
        Some(table) => {
            let mut body = json!(table);
            body["enabled"] = json!(true);
            Ok(Json(body))
        }
        None => Ok(Json(json!({
            "enabled": false,
            "rows": [],
            "error": "the run history is not available (see the server's log)",
        }))),
    }
}
