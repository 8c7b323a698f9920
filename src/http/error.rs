//! What can go wrong with a request, each variant naming the request and what came back.

use reqwest::{Method, StatusCode};

/// A failed request, a status that was not expected, or a body that did not decode.
///
/// Each message states its own part once; the cause of a failed request (connection refused,
/// timeout, …) is the error's [`source`](std::error::Error::source), so print the whole chain
/// (anyhow's `{:#}`, as the step and workflow errors do) to see it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The path could not be turned into a URL.
    #[error("{method} {path}: {reason}")]
    Url {
        /// The request method.
        method: Method,
        /// The path as given.
        path: String,
        /// Why it is not a URL.
        reason: String,
    },
    /// A request could not be built (a body that does not serialize, a query that cannot be
    /// encoded, …).
    #[error("cannot build {request}: {reason}")]
    Build {
        /// The request, as `POST http://…` (or `the request to http://…` for a reqwest
        /// builder, which keeps no method).
        request: String,
        /// Why, with its causes.
        reason: String,
    },
    /// A response header was not what was expected.
    #[error("{method} {url}: expected header {name}: {expected:?}, got {got}")]
    HeaderMismatch {
        /// The request method.
        method: Method,
        /// The full URL (and where redirects led).
        url: String,
        /// The header's name.
        name: String,
        /// The value expected.
        expected: String,
        /// The value that came, or that none did.
        got: String,
    },
    /// The request did not get an answer (connection refused, timeout, …).
    #[error("{method} {url}: request failed")]
    Transport {
        /// The request method.
        method: Method,
        /// The full URL.
        url: String,
        /// The client's error (without its copy of the URL), the cause as its own source.
        #[source]
        source: reqwest::Error,
    },
    /// A header name or value (e.g. a bearer token) is not valid in HTTP.
    #[error("invalid header {name}: {reason}")]
    Header {
        /// The header's name.
        name: String,
        /// Why it is not valid.
        reason: String,
    },
    /// Redirects went on past the request's limit (10 unless the workflow or the request set
    /// another).
    #[error("{method} {url}: more than {limit} redirects ({chain})")]
    TooManyRedirects {
        /// The request method.
        method: Method,
        /// The URL asked for.
        url: String,
        /// The limit.
        limit: usize,
        /// Where the redirects went, `a → b → …`.
        chain: String,
    },
    /// The server answered with another status than expected.
    #[error("{method} {url}: expected {expected}, got {status}{headers}; body: {body}")]
    Status {
        /// The request method.
        method: Method,
        /// The full URL.
        url: String,
        /// The status the server gave.
        status: StatusCode,
        /// What was expected, e.g. `status 200` or `a 2xx status`.
        expected: String,
        /// The response headers that explain it (`WWW-Authenticate`, `Retry-After`,
        /// `Location`), as ` (name: value, …)`, or empty.
        headers: String,
        /// The start of the response body.
        body: String,
    },
    /// The body was not the JSON the caller asked for.
    #[error(
        "{method} {url}: status {status}, cannot decode body as {target}: {reason}; body: {body}"
    )]
    Decode {
        /// The request method.
        method: Method,
        /// The full URL.
        url: String,
        /// The status the server gave.
        status: StatusCode,
        /// The Rust type asked for.
        target: &'static str,
        /// The decoder's message.
        reason: String,
        /// The start of the response body.
        body: String,
    },
}
