//! The accept loop: HTTP/1.1 on hyper with a deadline for each request head, a cap on the
//! connections served at once, and a graceful stop.
//!
//! axum's `serve` sets neither a head timeout nor a connection cap, so silent or slow clients
//! (slowloris) could hold connections forever. Here:
//!
//! - a connection must send each request head within `header_read_timeout` (hyper's
//!   `header_read_timeout`, on tokio's timer); a connection that sends nothing, a partial
//!   head, or stays idle between requests that long is closed;
//! - at most `max_connections` are served at once; further ones wait, unaccepted, in the
//!   listen backlog until one closes (a client is delayed, not refused);
//! - on stop, the listener closes at once, idle connections close, and requests in flight
//!   (a waited run, an event stream) go on until the server lets them end.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc, watch};
use tower_service::Service as _;

/// The limits of the accept loop.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    /// Deadline of each request head (and of the idle time between requests).
    pub header_read_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

/// The open connections, to close gracefully once the server stops.
///
/// hyper-util's `GracefulShutdown` does not take connections that may be upgraded (the
/// WebSocket streams need `with_upgrades`), so this does the same by hand: each connection
/// task watches a stop flag and holds a sender of a channel whose end says all are closed.
/// An upgraded connection leaves HTTP (and this set) once upgraded: its WebSocket handler
/// ends with the server on its own.
pub(super) struct Connections {
    stop: watch::Sender<bool>,
    open: Option<mpsc::Sender<()>>,
    closed: mpsc::Receiver<()>,
}

impl Connections {
    fn new() -> Self {
        let (open, closed) = mpsc::channel(1);
        Connections {
            stop: watch::channel(false).0,
            open: Some(open),
            closed,
        }
    }

    /// Asks every connection to close once its request in flight is answered, and completes
    /// when all have closed.
    pub async fn shutdown(mut self) {
        self.stop.send_replace(true);
        drop(self.open.take());
        // Every task holds a sender; `None` once the last one is gone.
        let _ = self.closed.recv().await;
    }
}

/// Accepts connections on `listener` and serves `router` on them until `stop` completes;
/// then returns the handle that closes the open connections gracefully.
pub(super) async fn accept(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    stop: impl Future<Output = ()>,
) -> Connections {
    let graceful = Connections::new();
    let slots = Arc::new(Semaphore::new(
        limits.max_connections.clamp(1, Semaphore::MAX_PERMITS),
    ));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        // A router is always ready, and its error type is `Infallible`.
        router.clone().call(request)
    });
    tokio::pin!(stop);
    loop {
        // Wait for a free slot before accepting: the backlog holds the rest.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            () = &mut stop => break,
        };
        let Ok(slot) = slot else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                if !is_connection_error(&error) {
                    // Out of file descriptors or similar: wait, rather than spin, and go on.
                    eprintln!("serve: accepting a connection failed: {error}");
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_millis(100)) => {}
                        () = &mut stop => break,
                    }
                }
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let connection = builder
            .serve_connection(TokioIo::new(stream), service.clone())
            .with_upgrades();
        let mut stopping = graceful.stop.subscribe();
        let open = graceful.open.clone();
        tokio::spawn(async move {
            let _open = open;
            tokio::pin!(connection);
            // A connection error (timeout, reset, bad request head) only ends that connection.
            let stopped = tokio::select! {
                _ = connection.as_mut() => false,
                // The guard `wait_for` returns is dropped here, before the next await.
                stop = stopping.wait_for(|stop| *stop) => stop.is_ok(),
            };
            if stopped {
                connection.as_mut().graceful_shutdown();
                let _ = connection.await;
            }
            // The socket is closed by now (the connection owned it), or handed to a
            // WebSocket; only then the slot frees.
            drop(slot);
        });
    }
    drop(listener);
    graceful
}

/// Errors of one incoming connection, not of the listener.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
