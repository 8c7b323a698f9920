//! A buffered response: status, headers, body, the redirects that led to it and the cookies
//! it set, with checks whose errors quote what came back.

use std::borrow::Cow;

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use super::HttpError;
use super::session::Cookie;

/// How much of a response body an error message quotes.
const BODY_EXCERPT: usize = 500;

/// A response whose body has been read.
#[derive(Debug, Clone)]
pub struct Response {
    method: Method,
    url: String,
    /// Where the answer came from, after redirects.
    final_url: String,
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
    redirects: Vec<Redirect>,
    /// The `Set-Cookie` headers of every hop, in order.
    set_cookies: Vec<HeaderValue>,
}

/// What the exchange loop read, to make a [`Response`] of.
pub(crate) struct Parts {
    pub method: Method,
    pub url: String,
    pub final_url: String,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub redirects: Vec<Redirect>,
    pub set_cookies: Vec<HeaderValue>,
}

/// One redirect a request followed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Redirect {
    /// The redirect's status (`301`, `302`, `303`, `307`, `308`).
    pub status: StatusCode,
    /// The URL that answered with it.
    pub from: Url,
    /// Where its `Location` pointed.
    pub to: Url,
}

impl Response {
    pub(crate) fn new(parts: Parts) -> Self {
        let Parts {
            method,
            url,
            final_url,
            status,
            headers,
            body,
            redirects,
            set_cookies,
        } = parts;
        Response {
            method,
            url,
            final_url,
            status,
            headers,
            body,
            redirects,
            set_cookies,
        }
    }

    /// The redirects followed to get this answer, in order (empty when none were).
    pub fn redirects(&self) -> &[Redirect] {
        &self.redirects
    }

    /// The cookies this answer set (`Set-Cookie`), on the redirects that led to it too, in
    /// the order they came; a header that is not a cookie is left out. The workflow's jar
    /// ([`Http::cookies`](super::Http::cookies)) keeps them for later requests.
    pub fn cookies(&self) -> Vec<Cookie> {
        self.set_cookies
            .iter()
            .filter_map(|value| {
                let raw = cookie_store::RawCookie::parse(value.to_str().ok()?.to_owned()).ok()?;
                Some(Cookie {
                    name: raw.name().to_owned(),
                    value: raw.value().to_owned(),
                    domain: raw.domain().unwrap_or_default().to_owned(),
                    path: raw.path().unwrap_or_default().to_owned(),
                    secure: raw.secure().unwrap_or(false),
                    http_only: raw.http_only().unwrap_or(false),
                })
            })
            .collect()
    }

    /// Decodes a JSON-lines body (one JSON value per line; blank lines skipped). An error
    /// names the line that did not decode.
    pub fn json_lines<T: DeserializeOwned>(&self) -> Result<Vec<T>, HttpError> {
        let text =
            std::str::from_utf8(&self.body).map_err(|e| self.decode_error::<T>(e.to_string()))?;
        text.lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(index, line)| {
                serde_json::from_str(line).map_err(|e| {
                    self.decode_error::<T>(format!("line {}: {e}: {}", index + 1, excerpt(line)))
                })
            })
            .collect()
    }

    fn decode_error<T>(&self, reason: String) -> HttpError {
        HttpError::Decode {
            method: self.method.clone(),
            url: self.shown_url(),
            status: self.status,
            target: std::any::type_name::<T>(),
            reason,
            body: self.body_excerpt(),
        }
    }

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

    /// The URL the answer came from: the request's, or where its redirects led.
    pub fn final_url(&self) -> &str {
        &self.final_url
    }

    /// A response header's value, when it is present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Passes the response through when header `name` is `value`, else an error naming the
    /// header, what was expected and what came.
    pub fn expect_header(self, name: &str, value: &str) -> Result<Response, HttpError> {
        if self.header(name) == Some(value) {
            return Ok(self);
        }
        Err(HttpError::HeaderMismatch {
            method: self.method.clone(),
            url: self.shown_url(),
            name: name.to_owned(),
            expected: value.to_owned(),
            got: self
                .header(name)
                .map_or_else(|| "no such header".into(), |v| format!("{v:?}")),
        })
    }

    /// The URL for an error: the request's, and each redirect's target when there were some
    /// (`http://a/old → http://a/new`).
    fn shown_url(&self) -> String {
        let mut shown = self.url.clone();
        for hop in &self.redirects {
            shown.push_str(" → ");
            shown.push_str(hop.to.as_str());
        }
        if self.redirects.is_empty() && self.final_url != self.url {
            // A client of the workflow's own that followed redirects itself.
            shown.push_str(" → ");
            shown.push_str(&self.final_url);
        }
        shown
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
    pub fn expect_status(self, status: u16) -> Result<Self, HttpError> {
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
        serde_json::from_slice(&self.body).map_err(|e| self.decode_error::<T>(e.to_string()))
    }

    /// Decodes the body as a JSON [`Value`] (read it with [`JsonExt`](crate::json::JsonExt)).
    pub fn json_value(&self) -> Result<Value, HttpError> {
        self.json()
    }

    fn status_error(&self, expected: String) -> HttpError {
        // The headers that explain a refusal come first: who to authenticate with, when to
        // come back, where it went.
        let shown: Vec<String> = ["www-authenticate", "retry-after", "location"]
            .iter()
            .filter_map(|name| {
                let value = self.headers.get(*name)?.to_str().ok()?;
                Some(format!("{name}: {}", excerpt(value)))
            })
            .collect();
        let headers = match shown.is_empty() {
            true => String::new(),
            false => format!(" ({})", shown.join(", ")),
        };
        HttpError::Status {
            method: self.method.clone(),
            url: self.shown_url(),
            status: self.status,
            expected,
            headers,
            body: self.body_excerpt(),
        }
    }

    /// The start of the body for an error: text as text, anything else described (its size,
    /// type and encoding) rather than quoted as garbage.
    fn body_excerpt(&self) -> String {
        match std::str::from_utf8(&self.body) {
            Ok(text) => excerpt(text),
            Err(_) => {
                let header = |name: &str| {
                    self.headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(|v| format!(", {name}: {v}"))
                        .unwrap_or_default()
                };
                format!(
                    "<{} bytes, not text{}{}>",
                    self.body.len(),
                    header("content-type"),
                    header("content-encoding")
                )
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_truncates_on_char_boundaries() {
        let long = "é".repeat(600);
        let cut = excerpt(&long);
        assert!(cut.starts_with(&"é".repeat(500)));
        assert!(cut.ends_with("(1200 bytes in all)"), "{cut}");
        assert_eq!(excerpt("short"), "short");
    }
}
