//! The API's error type: every failure becomes a JSON body `{"error": "..."}` with the right
//! status, so no request ever gets a panic, an HTML page or an empty 500.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::request::SelectionError;

/// Why a request was refused or could not be served.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The run request named no, unknown, repeated or too many workflows.
    #[error(transparent)]
    Selection(#[from] SelectionError),
    /// A query parameter or header had a value the API does not accept.
    #[error("{0}")]
    BadParameter(String),
    /// The body could not be read as JSON (malformed, too large, wrong content type).
    #[error("{message}")]
    Body {
        /// The status the body problem maps to (400, 413 or 415).
        status: StatusCode,
        /// What was wrong.
        message: String,
    },
    /// A token is configured and the request did not carry it.
    #[error("missing or invalid token: send `Authorization: Bearer <token>`")]
    Unauthorized,
    /// No run has this id (never existed, or evicted from the retained runs).
    #[error("no run with id {0:?}")]
    RunNotFound(String),
    /// No registered workflow has this id (`POST /{workflow}`); the seed's message.
    #[error("Workflow {0:?} not found")]
    WorkflowNotFound(String),
    /// The run has not finished, so its report does not exist yet.
    #[error("run {0} is still running; its report is available when it finishes")]
    RunInProgress(String),
    /// The run ended without a report (the engine refused the workflows or crashed).
    #[error("run {id} ended without a report: {reason}")]
    RunFailed {
        /// The run.
        id: String,
        /// Why.
        reason: String,
    },
    /// No route matches the path.
    #[error("no such endpoint: {method} {path}")]
    NoRoute {
        /// The request's method.
        method: String,
        /// The request's path.
        path: String,
    },
    /// The path exists, not with this method.
    #[error("method {method} not allowed on {path}")]
    MethodNotAllowed {
        /// The request's method.
        method: String,
        /// The request's path.
        path: String,
    },
    /// The server stopped before the run finished.
    #[error("the server is shutting down")]
    ShuttingDown,
    /// Every workflow slot is taken and the queue of waiting runs is full.
    #[error(
        "the server is busy: {queued} runs already wait for workflow slots (at most {max_queued}); retry in {retry_after} s"
    )]
    Busy {
        /// Runs waiting now.
        queued: usize,
        /// The queue's limit (`[api] max_queued`).
        max_queued: usize,
        /// The `Retry-After` advice, in seconds.
        retry_after: u64,
    },
    /// A WebSocket handshake from a page of another site (its `Origin`).
    #[error(
        "origin {0:?} is not allowed: a WebSocket may be opened from the dashboard's own origin or an allowed host"
    )]
    OriginNotAllowed(String),
    /// The request's `Host` is not one the server answers (DNS-rebinding protection).
    #[error(
        "host {0:?} is not allowed: add it to [api] allowed_hosts (WORKFLOW_API_ALLOWED_HOSTS) to serve it"
    )]
    HostNotAllowed(String),
    /// Schedules can be changed through the API only when a token protects it.
    #[error(
        "schedules can be added and removed through the API only when [api] token \
         (WORKFLOW_API_TOKEN) is set"
    )]
    SchedulesLocked,
    /// No schedule has this name.
    #[error("no schedule named {0:?}")]
    ScheduleNotFound(String),
    /// The schedule cannot be added or removed as asked (name taken, defined in the file).
    #[error("{0}")]
    ScheduleConflict(String),
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Selection(_) | ApiError::BadParameter(_) => StatusCode::BAD_REQUEST,
            ApiError::Body { status, .. } => *status,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::RunNotFound(_) | ApiError::WorkflowNotFound(_) | ApiError::NoRoute { .. } => {
                StatusCode::NOT_FOUND
            }
            ApiError::RunInProgress(_) => StatusCode::CONFLICT,
            ApiError::RunFailed { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Busy { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::HostNotAllowed(_) | ApiError::OriginNotAllowed(_) => StatusCode::FORBIDDEN,
            ApiError::SchedulesLocked => StatusCode::FORBIDDEN,
            ApiError::ScheduleNotFound(_) => StatusCode::NOT_FOUND,
            ApiError::ScheduleConflict(_) => StatusCode::CONFLICT,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response =
            (self.status(), Json(json!({ "error": self.to_string() }))).into_response();
        match self {
            ApiError::Unauthorized => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"workflow-harness\""),
                );
            }
            ApiError::Busy { retry_after, .. } => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            }
            _ => {}
        }
        response
    }
}
