//! Scheduled runs in serve mode: one task per schedule sleeps on the clock until its next
//! slot, claims the slot in the history (so it never runs twice, also after a restart), and
//! starts the run through `launch` like any request. A slot that comes due while the
//! schedule's previous run is still going is recorded as skipped, never stacked. When a run
//! ends, its workflows' transitions (to failing, and back) go to the alert webhooks.
//!
//! `GET /api/test-workflows/schedules` lists them for the dashboard (next time, last result,
//! a pass/fail strip); with `[api] token` set, `POST` adds one and `DELETE …/{name}` (or
//! `?name=`) removes one added so.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use tokio::task::AbortHandle;

use super::AppState;
use super::error::ApiError;
use super::extract::{JsonBody, query_param};
use super::handlers::run_url;
use super::runs::{Outcome, Run};
use super::{launch, request, single};
use crate::history::{SlotRecord, SlotState};
use crate::schedule::alert::{Deliveries, Message, transitions};
use crate::schedule::{Schedule, ScheduleSpec, SlotNote, SlotOutcome};

/// How many slots the strip of each schedule shows.
const STRIP: usize = 30;

/// Every schedule's live state.
#[derive(Default)]
pub(super) struct Board {
    entries: Mutex<BTreeMap<String, Entry>>,
    deliveries: OnceLock<Deliveries>,
    /// Where links in alerts point (`http://host:port`).
    links: OnceLock<String>,
}

struct Entry {
    schedule: Schedule,
    from_api: bool,
    next: Option<DateTime<Utc>>,
    running: Option<String>,
    recent: VecDeque<SlotRecord>,
    task: Option<AbortHandle>,
}

impl Board {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn update(&self, name: &str, change: impl FnOnce(&mut Entry)) {
        if let Some(entry) = self.lock().get_mut(name) {
            change(entry);
        }
    }

    fn push(&self, name: &str, record: SlotRecord) {
        self.update(name, |entry| {
            // A slot seen again (its run finished, after later slots were skipped) replaces
            // its earlier record, in its place.
            if let Some(earlier) = entry.recent.iter_mut().find(|r| r.slot == record.slot) {
                *earlier = record;
                return;
            }
            entry.recent.push_back(record);
            while entry.recent.len() > STRIP {
                entry.recent.pop_front();
            }
        });
    }
}

/// Whether every schedule's selection names workflows of the suite; the error names the
/// schedule.
pub fn check(schedule: &Schedule, workflows: &[crate::WorkflowSpec]) -> Result<(), String> {
    request::select(&schedule.selection(workflows), workflows, usize::MAX)
        .map(drop)
        .map_err(|e| format!("schedule {:?}: {e}", schedule.name))
}

/// Starts the schedules of the context and the alert deliveries; `bound` is the server's
/// address (for links, unless `public_url` says otherwise).
pub(super) fn start(state: &AppState, bound: std::net::SocketAddr) {
    let scheduling = &state.context.scheduling;
    let links = match &scheduling.public_url {
        Some(url) => url.as_str().trim_end_matches('/').to_owned(),
        None => format!("http://{bound}"),
    };
    let _ = state.schedules.links.set(links);
    let _ = state.schedules.deliveries.set(Deliveries::start(
        &scheduling.alerts,
        state.context.client.clone(),
        scheduling.clock.clone(),
    ));
    for schedule in &scheduling.schedules {
        if let Err(reason) = check(schedule, &state.context.workflows) {
            eprintln!("serve: {reason}: not scheduled");
            continue;
        }
        add(state, schedule.clone(), false);
    }
    if state.context.history.is_some() {
        tokio::spawn(resume_api_schedules(state.clone()));
    }
}

/// Starts again the schedules an earlier server was given through the API. One that no
/// longer fits (its name now in harness.toml, a workflow gone) is left out, logged, and kept
/// in the store.
async fn resume_api_schedules(state: AppState) {
    let stored = store(&state, |store, suite| store.api_schedules(suite))
        .await
        .unwrap_or_default();
    for (name, definition) in stored {
        let schedule = serde_json::from_str::<ScheduleSpec>(&definition)
            .map_err(|e| e.to_string())
            .and_then(ScheduleSpec::check)
            .and_then(|s| check(&s, &state.context.workflows).map(|()| s));
        match schedule {
            Ok(schedule) if !state.schedules.lock().contains_key(&schedule.name) => {
                add(&state, schedule, true);
            }
            Ok(_) => eprintln!(
                "serve: the schedule {name:?} added through the API is also in harness.toml: \
                 the file's is used"
            ),
            Err(reason) => {
                eprintln!(
                    "serve: the schedule {name:?} added through the API: {reason}: not scheduled"
                )
            }
        }
    }
}

/// Registers `schedule` and starts its task.
fn add(state: &AppState, schedule: Schedule, from_api: bool) {
    let name = schedule.name.clone();
    state.schedules.lock().insert(
        name.clone(),
        Entry {
            schedule: schedule.clone(),
            from_api,
            next: None,
            running: None,
            recent: VecDeque::new(),
            task: None,
        },
    );
    let task = tokio::spawn(drive(state.clone(), schedule));
    state
        .schedules
        .update(&name, |entry| entry.task = Some(task.abort_handle()));
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

/// Runs `work` on the store, off the runtime; `None` without a history or when it failed.
async fn store<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&mut crate::history::Store, &str) -> Result<T, crate::history::HistoryError>
    + Send
    + 'static,
) -> Option<T> {
    let history = state.context.history.clone()?;
    tokio::task::spawn_blocking(move || {
        let suite = history.suite.clone();
        history.with(|store| work(store, &suite))
    })
    .await
    .ok()
    .flatten()
}

/// One schedule's task: until the server stops (or the schedule is removed).
async fn drive(state: AppState, schedule: Schedule) {
    let clock = state.context.scheduling.clock.clone();
    let name = schedule.name.clone();
    let (last, failing, recent) = {
        let n = name.clone();
        store(&state, move |store, suite| {
            Ok((
                store.last_slot(suite, &n)?,
                store.failing(suite, &n)?,
                store.slots(suite, &n, STRIP)?,
            ))
        })
        .await
        .unwrap_or_default()
    };
    let mut failing = failing;
    for record in recent {
        state.schedules.push(&name, record);
    }
    // Resuming: the first slot after now and after the last one recorded. Slots missed
    // while the server was down are not replayed; a slot already run never runs again.
    let mut after = clock.now();
    if let Some(last) = last.and_then(from_ms) {
        after = after.max(last);
    }
    let mut memory_last = last;
    let mut in_flight: Option<(DateTime<Utc>, Arc<Run>)> = None;
    loop {
        let Some(due) = schedule.cron.next_after(after) else {
            eprintln!("serve: schedule {name:?} never comes due again: stopped");
            break;
        };
        state.schedules.update(&name, |e| e.next = Some(due));
        if let Some((slot, run)) = in_flight.clone() {
            tokio::select! {
                () = run.finished() => {
                    finished(&state, &schedule, slot, &run, &mut failing).await;
                    in_flight = None;
                    continue;
                }
                () = clock.sleep_until(due) => {}
                () = state.draining() => {
                    // The server gives the run its grace (and waits for this, as for the
                    // run's own record): its transitions are still told and kept.
                    let permit = state.recordings.clone().try_acquire_owned().ok();
                    run.finished().await;
                    finished(&state, &schedule, slot, &run, &mut failing).await;
                    drop(permit);
                    break;
                }
            }
        } else {
            tokio::select! {
                () = clock.sleep_until(due) => {}
                () = state.draining() => break,
            }
        }
        // The latest slot due now: after a jump of the clock (a suspended machine), the
        // slots in between are not run one after another.
        let slot = schedule
            .cron
            .latest_at_or_before(clock.now())
            .map_or(due, |latest| latest.max(due));
        after = slot;
        if memory_last.is_some_and(|last| last >= ms(slot)) {
            continue;
        }
        memory_last = Some(ms(slot));
        if let Some((_, run)) = &in_flight {
            let reason = format!("{} (started by the previous slot) is still running", run.id);
            skip(&state, &name, slot, reason).await;
            continue;
        }
        let claimed = {
            let n = name.clone();
            store(&state, move |store, suite| {
                store.claim_slot(suite, &n, ms(slot), SlotState::Ran, None)
            })
            .await
        };
        if claimed == Some(false) {
            // Recorded already: another server on the same database ran it.
            continue;
        }
        match start_run(&state, &schedule) {
            Ok(run) => {
                let (n, id) = (name.clone(), run.id.clone());
                store(&state, move |store, suite| {
                    store.settle_slot(suite, &n, ms(slot), Some(&id), None)
                })
                .await;
                state
                    .schedules
                    .update(&name, |e| e.running = Some(run.id.clone()));
                state.schedules.push(
                    &name,
                    SlotRecord {
                        slot: ms(slot),
                        state: SlotState::Ran,
                        run_id: Some(run.id.clone()),
                        reason: None,
                        passed: None,
                    },
                );
                in_flight = Some((slot, run));
            }
            Err(error) => {
                let reason = format!("the server refused the run: {error}");
                let (n, r) = (name.clone(), reason.clone());
                store(&state, move |store, suite| {
                    store.settle_slot(suite, &n, ms(slot), None, Some(&r))
                })
                .await;
                noted_skip(&state, &name, slot, reason);
            }
        }
    }
}

/// Starts the schedule's run: its selection, its settings over the server's.
fn start_run(state: &AppState, schedule: &Schedule) -> Result<Arc<Run>, ApiError> {
    let workflows = &state.context.workflows;
    let selection = request::select(&schedule.selection(workflows), workflows, usize::MAX)?;
    let engine = if schedule.config.is_empty() {
        state.context.engine.clone()
    } else {
        single::for_this_run(&state.context.engine, &schedule.config)?
    };
    launch::start_for(
        state,
        selection.requested,
        selection.workflows,
        engine,
        Some(schedule.name.clone()),
    )
}

/// Records `slot` as skipped.
async fn skip(state: &AppState, name: &str, slot: DateTime<Utc>, reason: String) {
    let (n, r) = (name.to_owned(), reason.clone());
    store(state, move |store, suite| {
        store.claim_slot(suite, &n, ms(slot), SlotState::Skipped, Some(&r))
    })
    .await;
    noted_skip(state, name, slot, reason);
}

fn noted_skip(state: &AppState, name: &str, slot: DateTime<Utc>, reason: String) {
    eprintln!(
        "serve: schedule {name:?}: slot {} skipped: {reason}",
        slot.to_rfc3339_opts(SecondsFormat::Secs, true)
    );
    state.schedules.push(
        name,
        SlotRecord {
            slot: ms(slot),
            state: SlotState::Skipped,
            run_id: None,
            reason: Some(reason.clone()),
            passed: None,
        },
    );
    note(state, name, slot, SlotOutcome::Skipped { reason });
}

fn note(state: &AppState, name: &str, slot: DateTime<Utc>, outcome: SlotOutcome) {
    if let Some(observer) = &state.context.scheduling.observer {
        let _ = observer.send(SlotNote {
            schedule: name.to_owned(),
            slot,
            outcome,
        });
    }
}

/// A scheduled run ended: its transitions alerted, the failing set kept, the strip updated.
async fn finished(
    state: &AppState,
    schedule: &Schedule,
    slot: DateTime<Utc>,
    run: &Run,
    failing: &mut BTreeMap<String, String>,
) {
    let name = &schedule.name;
    let passed = match run.outcome() {
        Some(Outcome::Report(report)) => {
            let changes = transitions(failing, &report, &run.id);
            if !changes.is_empty() {
                let links = state.schedules.links.get().cloned().unwrap_or_default();
                let at = state.context.scheduling.clock.now();
                if let Some(deliveries) = state.schedules.deliveries.get() {
                    for transition in changes {
                        deliveries.send(&Message {
                            schedule: name.clone(),
                            run_id: run.id.clone(),
                            run_url: format!("{links}{}", run_url(&run.id)),
                            at,
                            transition,
                        });
                    }
                }
                let (n, now) = (name.clone(), failing.clone());
                store(state, move |store, suite| {
                    store.set_failing(suite, &n, &now)
                })
                .await;
            }
            !report.has_failures()
        }
        _ => false,
    };
    state.schedules.push(
        name,
        SlotRecord {
            slot: ms(slot),
            state: SlotState::Ran,
            run_id: Some(run.id.clone()),
            reason: None,
            passed: Some(passed),
        },
    );
    state.schedules.update(name, |e| e.running = None);
    note(
        state,
        name,
        slot,
        SlotOutcome::Ran {
            run_id: run.id.clone(),
            passed,
        },
    );
}

fn time(ms: i64) -> Value {
    from_ms(ms).map_or(Value::Null, |t| {
        json!(t.to_rfc3339_opts(SecondsFormat::Secs, true))
    })
}

/// A slot as listed; `running` is the schedule's run in progress.
fn slot_view(record: &SlotRecord, running: Option<&str>) -> Value {
    let result = match (record.state, record.passed) {
        (SlotState::Skipped, _) => "skipped",
        (SlotState::Ran, None) if record.run_id.as_deref() == running => "running",
        // Started by an earlier server that stopped before recording it.
        (SlotState::Ran, None) => "unknown",
        (SlotState::Ran, Some(true)) => "passed",
        (SlotState::Ran, Some(false)) => "failed",
    };
    json!({
        "slot": time(record.slot),
        "result": result,
        "runId": record.run_id,
        "reason": record.reason,
    })
}

fn view(entry: &Entry) -> Value {
    let mut body = entry.schedule.describe();
    body["source"] = json!(if entry.from_api { "api" } else { "config" });
    body["nextAt"] = entry.next.map_or(Value::Null, |t| {
        json!(t.to_rfc3339_opts(SecondsFormat::Secs, true))
    });
    body["running"] = json!(entry.running);
    let running = entry.running.as_deref();
    body["last"] = entry
        .recent
        .back()
        .map_or(Value::Null, |r| slot_view(r, running));
    body["recent"] = entry.recent.iter().map(|r| slot_view(r, running)).collect();
    body
}

/// `GET /api/test-workflows/schedules`.
pub(super) async fn list(State(state): State<AppState>) -> Json<Value> {
    let entries = state.schedules.lock();
    let schedules: Vec<Value> = entries.values().map(view).collect();
    Json(json!({
        "schedules": schedules,
        "alerts": state.context.scheduling.alerts.len(),
        "changeable": state.context.token.is_some(),
    }))
}

/// `POST /api/test-workflows/schedules` with a schedule (as `[[schedule]]`, camelCase keys
/// accepted): 201 with the schedule as listed.
pub(super) async fn create(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    if state.context.token.is_none() {
        return Err(ApiError::SchedulesLocked);
    }
    if state.is_draining() {
        return Err(ApiError::ShuttingDown);
    }
    let spec: ScheduleSpec = serde_json::from_value(body)
        .map_err(|e| ApiError::BadParameter(format!("schedule: {e}")))?;
    let schedule = spec.check().map_err(ApiError::BadParameter)?;
    check(&schedule, &state.context.workflows).map_err(ApiError::BadParameter)?;
    if state.schedules.lock().contains_key(&schedule.name) {
        return Err(ApiError::ScheduleConflict(format!(
            "a schedule named {:?} exists already",
            schedule.name
        )));
    }
    let name = schedule.name.clone();
    // Kept in the history (when there is one), so a restarted server has it again.
    let (n, definition) = (name.clone(), schedule.describe().to_string());
    store(&state, move |store, suite| {
        store.save_api_schedule(suite, &n, &definition)
    })
    .await;
    add(&state, schedule, true);
    let entries = state.schedules.lock();
    let listed = entries.get(&name).map(view).unwrap_or(Value::Null);
    Ok((StatusCode::CREATED, Json(listed)).into_response())
}

/// `DELETE /api/test-workflows/schedules/{name}`.
pub(super) async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    remove(&state, name).await
}

/// `DELETE /api/test-workflows/schedules?name=…`.
pub(super) async fn delete_by_query(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let name = query_param(query.as_deref(), "name").ok_or_else(|| {
        ApiError::BadParameter("name the schedule: DELETE …/schedules/{name} or ?name=".into())
    })?;
    remove(&state, name).await
}

async fn remove(state: &AppState, name: String) -> Result<Json<Value>, ApiError> {
    take(state, &name)?;
    let n = name.clone();
    store(state, move |store, suite| {
        store.delete_api_schedule(suite, &n)
    })
    .await;
    Ok(Json(json!({ "deleted": name })))
}

/// Stops and forgets an API schedule.
fn take(state: &AppState, name: &str) -> Result<(), ApiError> {
    if state.context.token.is_none() {
        return Err(ApiError::SchedulesLocked);
    }
    let mut entries = state.schedules.lock();
    let Some(entry) = entries.get(name) else {
        return Err(ApiError::ScheduleNotFound(name.to_owned()));
    };
    if !entry.from_api {
        return Err(ApiError::ScheduleConflict(format!(
            "schedule {name:?} is defined in harness.toml: remove it there"
        )));
    }
    if let Some(entry) = entries.remove(name)
        && let Some(task) = entry.task
    {
        // A run it started goes on and is recorded; no further slot is.
        task.abort();
    }
    Ok(())
}
