//! HTTP on the workflow context: requests joined to the base URL, buffered responses, and errors
//! that say which request failed and what the server answered.

use std::borrow::Cow;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;

/// How much of a response body an error message quotes.
const BODY_EXCERPT: usize = 500;

/// A failed request, a status that was not expected, or a body that did not decode.
///
/// Each message states its own part once; the cause of a failed request (connection refused,
/// timeout, …) is the error's [`source`](std::error::Error::source), so print the whole chain
/// (anyhow's `{:#}`, as the step and workflow errors do) to see it.
#[derive(Debug, thiserror::Error)]
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
    /// The server answered with another status than expected.
    #[error("{method} {url}: expected {expected}, got {status}; body: {body}")]
    Status {
        /// The request method.
        method: Method,
        /// The full URL.
        url: String,
        /// The status the server gave.
        status: StatusCode,
        /// What was expected, e.g. `status 200` or `a 2xx status`.
        expected: String,
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

/// A response whose body has been read.
#[derive(Debug, Clone)]
pub struct Response {
    method: Method,
    url: String,
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Response {
    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The request's method and URL, as `GET http://…`.
    pub fn request_line(&self) -> String {
        format!("{} {}", self.method, self.url)
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// The raw body.
    pub fn bytes(&self) -> &[u8] {
        &self.body
    }

    /// Passes the response through when its status is `status`, else an error naming the
    /// request, both statuses and the body.
    pub fn expect(self, status: u16) -> Result<Self, HttpError> {
        if self.status.as_u16() == status {
            Ok(self)
        } else {
            Err(self.status_error(format!("status {status}")))
        }
    }

    /// Passes the response through when its status is 2xx.
    pub fn expect_success(self) -> Result<Self, HttpError> {
        if self.status.is_success() {
            Ok(self)
        } else {
            Err(self.status_error("a 2xx status".into()))
        }
    }

    /// Decodes the body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, HttpError> {
        serde_json::from_slice(&self.body).map_err(|e| HttpError::Decode {
            method: self.method.clone(),
            url: self.url.clone(),
            status: self.status,
            target: std::any::type_name::<T>(),
            reason: e.to_string(),
            body: excerpt(&self.text()),
        })
    }

    fn status_error(&self, expected: String) -> HttpError {
        HttpError::Status {
            method: self.method.clone(),
            url: self.url.clone(),
            status: self.status,
            expected,
            body: excerpt(&self.text()),
        }
    }
}

/// The first [`BODY_EXCERPT`] characters of `text`, marked when cut.
fn excerpt(text: &str) -> String {
    match text.char_indices().nth(BODY_EXCERPT) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}… ({} bytes in all)", &text[..cut], text.len()),
    }
}

/// Joins `path` to `base`: an absolute `http(s)://` URL is taken as it is, anything else is
/// appended to the base URL's path (so a base of `http://host/app` keeps its `/app`).
pub(crate) fn join(base: Option<&Url>, method: &Method, path: &str) -> Result<Url, HttpError> {
    let url_error = |reason: String| HttpError::Url {
        method: method.clone(),
        path: path.to_owned(),
        reason,
    };
    if path.starts_with("http://") || path.starts_with("https://") {
        return Url::parse(path).map_err(|e| url_error(e.to_string()));
    }
    let base = base.ok_or_else(|| {
        url_error(
            "no base URL: set `base_url` in harness.toml, WORKFLOW_BASE_URL or --base-url".into(),
        )
    })?;
    let joined = format!(
        "{}/{}",
        base.as_str().trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    Url::parse(&joined).map_err(|e| url_error(e.to_string()))
}

/// Sends a built request and buffers the answer.
pub(crate) async fn execute(
    client: &reqwest::Client,
    request: reqwest::Request,
) -> Result<Response, HttpError> {
    let method = request.method().clone();
    let url = request.url().to_string();
    let transport = |source: reqwest::Error| HttpError::Transport {
        method: method.clone(),
        url: url.clone(),
        source: source.without_url(),
    };
    let response = client.execute(request).await.map_err(transport)?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await.map_err(transport)?.to_vec();
    Ok(Response {
        method,
        url,
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_keeps_base_path_and_accepts_absolute_urls() {
        let base = Url::parse("http://h:1/app/").ok();
        let get = Method::GET;
        let u = join(base.as_ref(), &get, "/api/x?y=1").map(|u| u.to_string());
        assert_eq!(u.ok().as_deref(), Some("http://h:1/app/api/x?y=1"));
        let u = join(base.as_ref(), &get, "https://other/z").map(|u| u.to_string());
        assert_eq!(u.ok().as_deref(), Some("https://other/z"));
        let err = join(None, &get, "/api").unwrap_err().to_string();
        assert!(
            err.contains("GET /api") && err.contains("no base URL"),
            "{err}"
        );
    }

    /// A port nothing listens on: bound, then released.
    fn closed_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("a bound address").port()
    }

    #[tokio::test]
    async fn a_refused_connection_states_each_cause_once() {
        let url = format!("http://127.0.0.1:{}/api/x", closed_port());
        let client = reqwest::Client::new();
        let request = client.get(&url).build().expect("a valid request");
        let error = execute(&client, request)
            .await
            .expect_err("nothing listens");
        assert!(matches!(error, HttpError::Transport { .. }), "{error:?}");
        let text = format!("{:#}", anyhow::Error::from(error));
        assert_eq!(text.matches("error sending request").count(), 1, "{text}");
        assert_eq!(text.matches(url.as_str()).count(), 1, "{text}");
        assert!(
            text.starts_with(&format!("GET {url}: request failed: ")),
            "{text}"
        );
        assert!(
            text.to_lowercase().contains("connection refused"),
            "names the cause: {text}"
        );
    }

    #[test]
    fn excerpt_truncates_on_char_boundaries() {
        let long = "é".repeat(600);
        let cut = excerpt(&long);
        assert!(cut.starts_with(&"é".repeat(500)));
        assert!(cut.ends_with("(1200 bytes in all)"), "{cut}");
        assert_eq!(excerpt("short"), "short");
    }
}
