//! The token check: with `[api] token` set, every API request needs
//! `Authorization: Bearer <token>`. A GET may instead carry `?token=<token>`, because the
//! browser's `EventSource` and plain download links cannot send headers.

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use super::extract::query_param;

/// Middleware refusing requests without the configured token (401).
pub(super) async fn require_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(expected) = state.context.token.as_deref() else {
        return next.run(request).await;
    };
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token);
    let query = (request.method() == Method::GET)
        .then(|| request.uri().query())
        .flatten()
        .and_then(|q| query_param(Some(q), "token"));
    let given = bearer.map(str::to_owned).or(query);
    match given {
        Some(token) if same(token.as_bytes(), expected.as_bytes()) => next.run(request).await,
        _ => ApiError::Unauthorized.into_response(),
    }
}

/// The token of an `Authorization: Bearer <token>` value. The scheme is case-insensitive
/// (RFC 9110: `bearer`, `BEARER`), separated from the token by spaces.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Compares in time independent of where the inputs differ, so the token cannot be guessed
/// byte by byte from response times.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_scheme_is_case_insensitive() {
        for value in [
            "Bearer t",
            "bearer t",
            "BEARER t",
            "bEaReR   t ",
            " Bearer t",
        ] {
            assert_eq!(super::bearer_token(value), Some("t"), "{value:?}");
        }
        for value in ["Basic t", "Bearer", "Bearer ", "Bearert", "Token t"] {
            assert_eq!(super::bearer_token(value), None, "{value:?}");
        }
    }

    #[test]
    fn comparison_is_exact() {
        assert!(super::same(b"secret", b"secret"));
        assert!(!super::same(b"secret", b"secreT"));
        assert!(!super::same(b"secret", b"secret2"));
        assert!(!super::same(b"", b"x"));
    }
}
