//! The API's error type: every failure becomes a JSON body `{"error": "..."}` with a 4xx/5xx status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Everything a handler can refuse a request with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Invalid input; the message starts with the offending field (`price: must be ...`).
    #[error("{0}")]
    BadRequest(String),
    /// Missing or unknown bearer token.
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated, but the role or ownership does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// Unknown id (in the path, or a referenced id in the body).
    #[error("{0}")]
    NotFound(String),
    /// Uniqueness violation (slug, coupon code, favorite, review, helpful vote).
    #[error("{0}")]
    Conflict(String),
    /// Body larger than the server accepts.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// Fault injection (`Options::error_rate`).
    #[error("injected fault")]
    Injected,
    /// A bug on the server's side (e.g. a route reading a path parameter it does not have).
    #[error("{0}")]
    Internal(String),
}

/// What handlers return.
pub type ApiResult = Result<Response, ApiError>;

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Injected => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        (
            status,
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response()
    }
}

/// `400 {"error": "<field>: <msg>"}`.
pub fn bad(field: &str, msg: impl std::fmt::Display) -> ApiError {
    ApiError::BadRequest(format!("{field}: {msg}"))
}

/// `404 {"error": "<what> '<key>' not found"}`.
pub fn not_found(what: &str, key: &str) -> ApiError {
    ApiError::NotFound(format!("{what} '{key}' not found"))
}

/// `403 {"error": msg}`.
pub fn forbidden(msg: impl Into<String>) -> ApiError {
    ApiError::Forbidden(msg.into())
}

/// `Ok` when `allowed`, else `403 {"error": refusal}`.
pub fn ensure(allowed: bool, refusal: impl Into<String>) -> Result<(), ApiError> {
    if allowed {
        Ok(())
    } else {
        Err(forbidden(refusal))
    }
}

/// `400 {"error": "status: cannot move <what> from <from> to <to>"}` (wire names).
pub fn bad_transition(
    what: &str,
    from: impl serde::Serialize,
    to: impl serde::Serialize,
) -> ApiError {
    let (from, to) = (crate::models::wire_name(from), crate::models::wire_name(to));
    bad("status", format!("cannot move {what} from {from} to {to}"))
}

/// `409 {"error": msg}`.
pub fn conflict(msg: impl Into<String>) -> ApiError {
    ApiError::Conflict(msg.into())
}

/// `200` with a JSON body.
pub fn ok(v: impl serde::Serialize) -> ApiResult {
    Ok(Json(v).into_response())
}

/// `201` with a JSON body.
pub fn created(v: impl serde::Serialize) -> ApiResult {
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// `200 {"message": "<what> deleted", "id": id}`.
pub fn deleted(what: &str, id: &str) -> ApiResult {
    ok(serde_json::json!({ "message": format!("{what} deleted"), "id": id }))
}
