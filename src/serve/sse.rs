//! `GET /api/test-workflows/runs/{id}/events`: a run's events as server-sent events.
//!
//! `event:` is the engine event's `type`, `data:` its JSON, `id:` its position in the run's
//! log. A new client first gets a `snapshot` (the statuses now; then `runFinished` if the run
//! is over); a client that sends `Last-Event-ID: N` (or `?lastEventId=N`), as `EventSource`
//! does when it reconnects, gets every event after `N` instead, `0` meaning all of them. The
//! stream ends after `runFinished`, or when the server stops.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::StreamExt as _;
use futures::stream;

use super::AppState;
use super::error::ApiError;
use super::extract::{RunId, query_param};
use super::handlers::find;
use super::runs::Frame;

/// The SSE endpoint.
pub(super) async fn events(
    State(state): State<AppState>,
    RunId(id): RunId,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let run = find(&state, &id)?;
    let after = last_event_id(&headers, query.as_deref())?;
    let subscription = run.subscribe(after);
    let live = stream::unfold((subscription.live, state), |(live, state)| async move {
        let mut rx = live?;
        let frame = tokio::select! {
            frame = rx.recv() => frame?,
            // After the shutdown grace the stream ends, but the frames already queued still
            // go out (a run that finished within the grace delivers its `runFinished`).
            () = state.stopped() => rx.try_recv().ok()?,
        };
        Some((frame, (Some(rx), state)))
    });
    let frames = stream::iter(subscription.initial)
        .chain(live)
        .map(|frame| Ok::<_, Infallible>(to_sse(&frame)));
    Ok(Sse::new(frames).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// The position to replay after: the `Last-Event-ID` header, else `?lastEventId=`.
fn last_event_id(headers: &HeaderMap, query: Option<&str>) -> Result<Option<u64>, ApiError> {
    let header = headers
        .get("last-event-id")
        .map(|v| v.to_str().unwrap_or("?").to_owned());
    let Some(text) = header.or_else(|| query_param(query, "lastEventId")) else {
        return Ok(None);
    };
    text.trim().parse().map(Some).map_err(|_| {
        ApiError::BadParameter(format!(
            "Last-Event-ID must be a non-negative integer, not {text:?}"
        ))
    })
}

fn to_sse(frame: &Arc<Frame>) -> SseEvent {
    // `kind` is one of our fixed names and `data` one line of JSON (newlines inside strings
    // are escaped), so none of axum's field checks can fail.
    SseEvent::default()
        .event(frame.kind)
        .id(frame.seq.to_string())
        .data(frame.data())
}
