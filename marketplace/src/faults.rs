//! Latency and error injection, applied to every request before routing.

use crate::error::ApiError;
use crate::rng::Rng;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Fault settings plus the seeded generator that decides each request's jitter and failure.
/// Draws are taken in arrival order, so a sequential client sees the same faults for the
/// same seed; concurrent clients see the same multiset of draws in some order.
#[derive(Debug)]
pub struct Faults {
    latency_ms: u64,
    jitter_ms: u64,
    error_rate: f64,
    rng: Mutex<Rng>,
}

impl Faults {
    /// Settings from the server options; `error_rate` is clamped to `[0, 1]` (NaN → 0).
    pub fn new(latency_ms: u64, jitter_ms: u64, error_rate: f64, seed: u64) -> Arc<Faults> {
        let error_rate = if error_rate.is_nan() {
            0.0
        } else {
            error_rate.clamp(0.0, 1.0)
        };
        Arc::new(Faults {
            latency_ms,
            jitter_ms,
            error_rate,
            // A different stream from the seed data's, so enabling faults never changes data.
            rng: Mutex::new(Rng::new(seed ^ 0xFA17_FA17_FA17_FA17)),
        })
    }

    fn inactive(&self) -> bool {
        self.latency_ms == 0 && self.jitter_ms == 0 && self.error_rate == 0.0
    }

    /// The delay and whether to fail, for the next request.
    fn draw(&self) -> (u64, bool) {
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        let jitter = if self.jitter_ms > 0 {
            rng.below(self.jitter_ms + 1)
        } else {
            0
        };
        let fail =
            self.error_rate >= 1.0 || (self.error_rate > 0.0 && rng.unit() < self.error_rate);
        (self.latency_ms.saturating_add(jitter), fail)
    }
}

/// Middleware: sleep `latency + jitter`, then answer `503 {"error":"injected fault"}` for the
/// configured fraction of requests, else pass the request on.
pub async fn inject(State(f): State<Arc<Faults>>, req: Request, next: Next) -> Response {
    if f.inactive() {
        return next.run(req).await;
    }
    let (delay, fail) = f.draw();
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if fail {
        return ApiError::Injected.into_response();
    }
    next.run(req).await
}
