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
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_service::Service as _;

/// The limits of the accept loop.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    /// Deadline of each request head (and of the idle time between requests).
    pub header_read_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

/// Accepts connections on `listener` and serves `router` on them until `stop` completes;
/// then returns the handle that closes the open connections gracefully.
pub(super) async fn accept(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    stop: impl Future<Output = ()>,
) -> GracefulShutdown {
    let graceful = GracefulShutdown::new();
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
        let connection = builder.serve_connection(TokioIo::new(stream), service.clone());
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A connection error (timeout, reset, bad request head) only ends that connection.
            let _ = connection.await;
            // The socket is closed by now (the connection owned it); only then the slot frees.
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
