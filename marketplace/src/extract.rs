//! Request extractors that never let axum's plain-text rejections through: JSON bodies,
//! path segments, query parameters and bearer authentication all fail as `ApiError` JSON.

use crate::error::{ApiError, bad};
use crate::models::User;
use crate::state::Shared;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// A JSON body. Content-Type is not checked, an empty body counts as `{}`, unknown fields are
/// ignored, and every parse error is a 400 naming the path of the offending field.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            let message = format!("body: {}", e.body_text());
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge(message)
            } else {
                // The body could not be read (e.g. a broken chunked encoding).
                ApiError::BadRequest(message)
            }
        })?;
        let slice: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        // Structs would otherwise also accept a JSON array of their fields, in order.
        if slice.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError::BadRequest("body: expected a JSON object".into()));
        }
        let mut de = serde_json::Deserializer::from_slice(slice);
        let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_data() && path != "." && path != "?" {
                bad(&path, inner)
            } else {
                ApiError::BadRequest(format!("body: invalid JSON: {inner}"))
            }
        })?;
        de.end()
            .map_err(|e| ApiError::BadRequest(format!("body: invalid JSON: {e}")))?;
        Ok(JsonBody(value))
    }
}

/// Path parameters (`{id}`), like axum's `Path`, but a segment that does not decode (invalid
/// UTF-8 after percent-decoding, e.g. `/api/products/%FF`) or parse is a 400 JSON error
/// naming the path, never axum's `400 text/plain`.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection) => Err(path_error(&rejection)),
        }
    }
}

fn path_error(rejection: &PathRejection) -> ApiError {
    // A missing path parameter is a routing bug (a route without `{id}` using `Path`), not the
    // client's: still a JSON answer, but a 500 like axum's own.
    match rejection {
        PathRejection::FailedToDeserializePathParams(e) => {
            ApiError::BadRequest(format!("path: {}", e.body_text()))
        }
        other => ApiError::Internal(format!("path: {}", other.body_text())),
    }
}

/// An empty JSON object body (`{}`); anything but an object is refused.
#[derive(Debug, serde::Deserialize)]
pub struct Empty {}

/// Query parameters as strings, with typed accessors whose errors name the parameter.
#[derive(Debug, Default)]
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
            .map(|Query(m)| Params(m))
            .map_err(|e| ApiError::BadRequest(format!("query: {}", e.body_text())))
    }
}

impl Params {
    /// A non-empty string parameter.
    pub fn str(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    /// `true`/`false` (also `1`/`0`).
    pub fn bool(&self, k: &str) -> Result<Option<bool>, ApiError> {
        match self.str(k) {
            None => Ok(None),
            Some("true" | "1") => Ok(Some(true)),
            Some("false" | "0") => Ok(Some(false)),
            Some(v) => Err(bad(k, format!("expected true or false, got '{v}'"))),
        }
    }

    /// A finite, non-negative number.
    pub fn num(&self, k: &str) -> Result<Option<f64>, ApiError> {
        match self.str(k) {
            None => Ok(None),
            Some(v) => match v.parse::<f64>() {
                Ok(n) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
                _ => Err(bad(k, format!("expected a non-negative number, got '{v}'"))),
            },
        }
    }

    /// A whole number in `min..=max`.
    pub fn int(&self, k: &str, min: u64, max: u64) -> Result<Option<u64>, ApiError> {
        match self.str(k) {
            None => Ok(None),
            Some(v) => match v.parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
                _ => Err(bad(
                    k,
                    format!("expected a whole number from {min} to {max}, got '{v}'"),
                )),
            },
        }
    }

    /// A value of a serde enum (e.g. a status), parsed from its wire name.
    pub fn parse<T: DeserializeOwned>(&self, k: &str) -> Result<Option<T>, ApiError> {
        match self.str(k) {
            None => Ok(None),
            Some(v) => serde_json::from_value(serde_json::Value::String(v.to_string()))
                .map(Some)
                .map_err(|e| bad(k, e)),
        }
    }

    /// `page` (default 1) and `limit` (default 20, at most 100).
    pub fn page(&self) -> Result<(usize, usize), ApiError> {
        let page = self.int("page", 1, 1_000_000)?.unwrap_or(1) as usize;
        let limit = self.int("limit", 1, 1000)?.unwrap_or(20).min(100) as usize;
        Ok((page, limit))
    }

    /// `sortOrder`: `asc` or `desc` (default `desc`). Returns true for descending.
    pub fn desc(&self) -> Result<bool, ApiError> {
        match self.str("sortOrder") {
            None | Some("desc") => Ok(true),
            Some("asc") => Ok(false),
            Some(v) => Err(bad("sortOrder", format!("expected asc or desc, got '{v}'"))),
        }
    }
}

/// The authenticated caller; 401 when the bearer token is missing or unknown.
#[derive(Debug, Clone)]
pub struct Auth(pub User);

/// The caller if a token was sent; a token that is sent but unknown is still a 401.
#[derive(Debug, Clone)]
pub struct MaybeAuth(pub Option<User>);

fn bearer(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(h) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let h = h
        .to_str()
        .map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
    match h.split_once(' ') {
        Some((scheme, tok)) if scheme.eq_ignore_ascii_case("bearer") && !tok.trim().is_empty() => {
            Ok(Some(tok.trim()))
        }
        _ => Err(ApiError::Unauthorized(
            "Authorization header must be 'Bearer <token>'".into(),
        )),
    }
}

impl FromRequestParts<Shared> for MaybeAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &Shared) -> Result<Self, ApiError> {
        let Some(tok) = bearer(parts)? else {
            return Ok(MaybeAuth(None));
        };
        let s = st.lock();
        s.user_by_token(tok)
            .cloned()
            .map(|u| MaybeAuth(Some(u)))
            .ok_or_else(|| ApiError::Unauthorized("invalid or unknown bearer token".into()))
    }
}

impl FromRequestParts<Shared> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &Shared) -> Result<Self, ApiError> {
        match MaybeAuth::from_request_parts(parts, st).await? {
            MaybeAuth(Some(u)) => Ok(Auth(u)),
            MaybeAuth(None) => Err(ApiError::Unauthorized(
                "authentication required: send 'Authorization: Bearer <token>'".into(),
            )),
        }
    }
}

impl Auth {
    /// 403 unless the caller is an admin.
    pub fn admin(&self) -> Result<(), ApiError> {
        crate::error::ensure(self.is_admin(), "admin role required")
    }

    /// Whether the caller is an admin.
    pub fn is_admin(&self) -> bool {
        self.0.is_admin()
    }
}
