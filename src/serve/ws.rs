//! WebSocket streams of the run events, for dashboards and tools that cannot read server-sent
//! events:
//!
//! - `GET /api/test-workflows/runs/{id}/ws[?from=N]`: one run, exactly the frames of its SSE
//!   stream (`sse`): a `snapshot` first, or with `?from=N` every event after `N` (`0`: all),
//!   then the live events; after `runFinished` a normal close (1000).
//! - `GET /api/test-workflows/runs/ws`: every run: the snapshot of each unfinished run, then
//!   the events of those and of every run started later, from its first event; it ends when
//!   the server stops.
//!
//! Each message is one JSON text: `{"id": N, "event": "<type>", "data": {…}}` (`id` and
//! `event` as the SSE `id:` and `event:`, `data` the same JSON), plus `"runId"` on the
//! all-runs stream. A client that falls `ws_max_backlog` events behind, or whose socket takes
//! longer than `ws_send_timeout` to take one message, is dropped (close code 1008, "policy")
//! instead of holding its events in memory; the run never waits for it.

use std::collections::HashSet;
use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use futures::stream::{self, BoxStream, SelectAll, StreamExt as _};
use tokio::sync::{broadcast, mpsc};

use super::AppState;
use super::error::ApiError;
use super::extract::{RunId, query_param};
use super::handlers::find;
use super::runs::{Frame, Run, RunState};

/// A message ready to go, with where it stands in its run (to tell how far behind it is).
struct Item {
    run: Arc<Run>,
    seq: u64,
    /// From the live channel, not the snapshot or replay the client asked for.
    live: bool,
    text: Utf8Bytes,
}

/// What a socket sends; `Err` ends it with a policy close giving the reason.
type Items = BoxStream<'static, Result<Item, &'static str>>;

/// `GET /runs/{id}/ws`.
pub(super) async fn run_events(
    State(state): State<AppState>,
    RunId(id): RunId,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    check_origin(&state, &headers)?;
    let run = find(&state, &id)?;
    let from = match query_param(query.as_deref(), "from") {
        None => None,
        Some(text) => Some(text.trim().parse::<u64>().map_err(|_| {
            ApiError::BadParameter(format!("from must be a non-negative integer, not {text:?}"))
        })?),
    };
    // Subscribed now, so the client starts where the request found the run.
    let items = run_items(run, from, false).map(Ok).boxed();
    Ok(upgrade.on_upgrade(move |socket| async move {
        pump(socket, items, &state, true).await;
    }))
}

/// `GET /runs/ws`.
pub(super) async fn all_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    check_origin(&state, &headers)?;
    // New runs first, then the known ones: a run created in between is in both, sent once.
    let created = state.created.subscribe();
    let mut seen = HashSet::new();
    let mut streams: SelectAll<BoxStream<'static, Item>> = SelectAll::new();
    for run in state.runs.list().into_iter().rev() {
        if seen.insert(run.id.clone()) && run.state() != RunState::Finished {
            streams.push(run_items(run, None, true));
        }
    }
    let items = merged(created, seen, streams);
    Ok(upgrade.on_upgrade(move |socket| async move {
        pump(socket, items, &state, false).await;
    }))
}

/// A run's frames as messages: the subscription's initial ones, then the live ones until
/// the run ends.
fn run_items(run: Arc<Run>, from: Option<u64>, with_run: bool) -> BoxStream<'static, Item> {
    let subscription = run.subscribe(from);
    let live = stream::unfold(subscription.live, |live| async move {
        let mut rx: mpsc::UnboundedReceiver<Arc<Frame>> = live?;
        let frame = rx.recv().await?;
        Some((frame, Some(rx)))
    });
    stream::iter(subscription.initial.into_iter().map(|frame| (frame, false)))
        .chain(live.map(|frame| (frame, true)))
        .map(move |(frame, live)| Item {
            text: message(with_run.then_some(run.id.as_str()), &frame),
            seq: frame.seq,
            live,
            run: run.clone(),
        })
        .boxed()
}

/// The streams of the runs known at the start, joined by every run created later (from its
/// first event, so nothing of it is missed).
fn merged(
    created: broadcast::Receiver<Arc<Run>>,
    seen: HashSet<String>,
    streams: SelectAll<BoxStream<'static, Item>>,
) -> Items {
    stream::unfold(Some((created, seen, streams)), |state| async move {
        let (mut created, mut seen, mut streams) = state?;
        loop {
            tokio::select! {
                run = created.recv() => match run {
                    Ok(run) => {
                        if seen.insert(run.id.clone()) {
                            streams.push(run_items(run, Some(0), true));
                        }
                    }
                    // Behind the run creations: some run's start was missed.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        return Some((Err("too slow: missed the start of runs"), None));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                Some(item) = streams.next(), if !streams.is_empty() => {
                    return Some((Ok(item), Some((created, seen, streams))));
                }
            }
        }
    })
    .boxed()
}

/// Sends `items` until they end (then a normal close when `close_at_end`), the server stops
/// (1001, "going away"), the client goes, or it falls too far behind (1008).
async fn pump(mut socket: WebSocket, mut items: Items, state: &AppState, close_at_end: bool) {
    let limits = &state.context.limits;
    let stopped = state.stopped();
    tokio::pin!(stopped);
    let close = loop {
        let next = tokio::select! {
            next = items.next() => next,
            () = &mut stopped => break Some((close_code::AWAY, "the server is stopping".to_owned())),
            // The client's messages are read (and dropped) so its pings and close are seen.
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => continue,
            },
        };
        let item = match next {
            Some(Ok(item)) => item,
            Some(Err(reason)) => break Some((close_code::POLICY, reason.to_owned())),
            None if close_at_end => break Some((close_code::NORMAL, "run finished".to_owned())),
            None => break Some((close_code::AWAY, "the server is stopping".to_owned())),
        };
        // Events the run logged that this client has not been sent: what it is behind (a
        // replay it asked for does not count; the live events that piled up meanwhile do).
        let behind = item.run.event_count().saturating_sub(item.seq);
        if item.live && behind > limits.ws_max_backlog as u64 {
            break Some((
                close_code::POLICY,
                format!(
                    "too slow: {behind} events behind (at most {})",
                    limits.ws_max_backlog
                ),
            ));
        }
        let sending = socket.send(Message::Text(item.text));
        match tokio::time::timeout(limits.ws_send_timeout, sending).await {
            Ok(Ok(())) => {}
            // The client is gone; or its socket takes nothing, so no close frame could get
            // through either: dropping the socket closes the connection.
            Ok(Err(_)) | Err(_) => return,
        }
    };
    if let Some((code, reason)) = close {
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from(reason),
        };
        let closing = socket.send(Message::Close(Some(frame)));
        let _ = tokio::time::timeout(limits.ws_send_timeout, closing).await;
    }
}

/// One message: `{"id":N,"event":"…","data":…}` (with `"runId"` on the all-runs stream).
fn message(run: Option<&str>, frame: &Frame) -> Utf8Bytes {
    // `kind` is one of our fixed ASCII names, `data` JSON, `run` a `run-N` id: no escaping
    // is needed, and the frame's JSON is shared with the SSE clients, not serialized again.
    let text = match run {
        Some(run) => format!(
            "{{\"runId\":{},\"id\":{},\"event\":\"{}\",\"data\":{}}}",
            serde_json::Value::from(run),
            frame.seq,
            frame.kind,
            frame.data()
        ),
        None => format!(
            "{{\"id\":{},\"event\":\"{}\",\"data\":{}}}",
            frame.seq,
            frame.kind,
            frame.data()
        ),
    };
    Utf8Bytes::from(text)
}

/// A browser sends `Origin` with every WebSocket handshake and, unlike for `fetch` or
/// `EventSource`, does not let the page be refused by CORS: without this check any site could
/// read a local server's run events. Tools send no `Origin` and are not concerned.
fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let text = origin.to_str().unwrap_or("");
    let host = url::Url::parse(text).ok().and_then(|url| {
        let host = url.host_str()?.to_owned();
        Some(match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        })
    });
    match host {
        Some(host) if state.hosts.allows(&host) => Ok(()),
        _ => Err(ApiError::OriginNotAllowed(text.to_owned())),
    }
}
