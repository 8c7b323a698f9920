//! Extractors that turn axum's body and query rejections into the API's JSON errors.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde_json::Value;

use super::error::ApiError;

/// A JSON request body as a `serde_json::Value`. Malformed JSON is 400, a body over the
/// limit 413, a missing `Content-Type: application/json` 415; each with a JSON error.
pub(super) struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<Value>::from_request(request, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(body_error(&rejection)),
        }
    }
}

fn body_error(rejection: &JsonRejection) -> ApiError {
    let status = rejection.status();
    let message = match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "expected a JSON body with `Content-Type: application/json`".to_owned()
        }
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => {
            format!(
                "request body too large: at most {} bytes",
                super::BODY_LIMIT
            )
        }
        JsonRejection::JsonSyntaxError(_) | JsonRejection::JsonDataError(_) => {
            format!("malformed JSON body: {}", rejection.body_text())
        }
        _ => rejection.body_text(),
    };
    ApiError::Body { status, message }
}

/// The value of query parameter `name`, if present (never fails: unknown parameters are
/// ignored, bad encodings decoded lossily).
pub(super) fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A boolean query flag: absent is `false`; `true`/`1` and `false`/`0` are accepted.
pub(super) fn flag(query: Option<&str>, name: &str) -> Result<bool, ApiError> {
    match query_param(query, name).as_deref() {
        None | Some("false" | "0") => Ok(false),
        Some("true" | "1" | "") => Ok(true),
        Some(other) => Err(ApiError::BadParameter(format!(
            "{name} must be true or false, not {other:?}"
        ))),
    }
}

/// The `{id}` of a run's URL. A segment that does not decode (invalid UTF-8 after percent
/// decoding) is a 400 JSON error rather than axum's plain-text rejection.
pub(super) struct RunId(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for RunId {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        match axum::extract::Path::<String>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(id)) => Ok(RunId(id)),
            Err(rejection) => Err(ApiError::BadParameter(format!(
                "invalid run id in the path: {}",
                rejection.body_text()
            ))),
        }
    }
}
