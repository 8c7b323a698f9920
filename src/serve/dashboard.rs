//! `GET /`: the dashboard, one self-contained page (inline CSS and JS, nothing fetched from
//! elsewhere) that lists the workflows, starts runs and follows them live.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const PAGE: &str = include_str!("dashboard.html");

/// The page with report.html's timeline component inlined: one component for the live run,
/// the finished one and the report file.
static PAGE_WITH_TIMELINE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    PAGE.replacen(
        "<!-- timeline.js -->",
        &format!("<script>\n{}</script>", crate::report::TIMELINE_JS),
        1,
    )
});

/// The page. Served without the token: it holds no data, and asks for the token when the
/// API answers 401.
pub(super) async fn page() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            // Everything is inline; nothing may be loaded from another origin.
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:",
                ),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        PAGE_WITH_TIMELINE.as_str(),
    )
        .into_response()
}

/// `GET /favicon.ico`: nothing (204), so browsers do not log a 404 for every page load.
pub(super) async fn favicon() -> StatusCode {
    StatusCode::NO_CONTENT
}
