//! The harness's request builder: `cx.post("/x").form(&[…]).send().await?`, or just `.await`.
//!
//! It wraps reqwest's builder so that a request keeps the workflow's session (cookies,
//! redirect policy, default headers) and its errors keep the method and URL, and so that a
//! header given here replaces a default of the same name instead of being sent beside it.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use base64::Engine as _;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, multipart};
use serde::Serialize;
use url::Url;

use super::{Http, HttpError, Response};

/// A request being built from a workflow's [`Http`]: send it with [`Request::send`] or by
/// awaiting it (`cx.get("/x").await?`).
///
/// Every method takes and returns the request, so calls chain; a mistake (a header value with
/// a line break, a body that does not serialize) is kept and returned by `send`, named with
/// the method and URL.
#[must_use = "a request does nothing until it is sent: `.send().await` or `.await`"]
pub struct Request {
    http: Http,
    method: Method,
    /// The URL, or why there is none (kept for `send` to return).
    url: Result<Url, HttpError>,
    builder: Option<reqwest::RequestBuilder>,
    /// One-off headers: each replaces a default of its name.
    headers: HeaderMap,
    redirects: Option<usize>,
    /// The first mistake made while building.
    error: Option<HttpError>,
}

impl Request {
    pub(super) fn new(http: Http, method: Method, path: &str) -> Self {
        let url = super::join(http.base_url.as_ref(), &method, path);
        let builder = url
            .as_ref()
            .ok()
            .map(|url| http.client.request(method.clone(), url.clone()));
        Request {
            http,
            method,
            url,
            builder,
            headers: HeaderMap::new(),
            redirects: None,
            error: None,
        }
    }

    fn fail(mut self, error: HttpError) -> Self {
        self.error.get_or_insert(error);
        self
    }

    fn with(mut self, f: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder) -> Self {
        self.builder = self.builder.take().map(f);
        self
    }

    fn build_error(&self, reason: String) -> HttpError {
        HttpError::Build {
            request: self.line(),
            reason,
        }
    }

    /// `POST http://…`, for errors.
    fn line(&self) -> String {
        match &self.url {
            Ok(url) => format!("{} {url}", self.method),
            Err(_) => format!("the {} request", self.method),
        }
    }

    /// Sends `name: value` with this request, replacing the workflow's default of that name
    /// (an `Authorization` here is the only one sent). A second call with the same name
    /// replaces the first.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match super::header_pair(name, value) {
            Ok((name, value)) => {
                self.headers.insert(name, value);
                self
            }
            Err(error) => {
                let error = self.build_error(error.to_string());
                self.fail(error)
            }
        }
    }

    /// `Authorization: Bearer <token>` for this request.
    pub fn bearer(self, token: &str) -> Self {
        self.header(AUTHORIZATION.as_str(), &format!("Bearer {token}"))
    }

    /// `Authorization: Basic …` of `user` and `password` for this request.
    pub fn basic_auth(self, user: &str, password: &str) -> Self {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.header(AUTHORIZATION.as_str(), &format!("Basic {encoded}"))
    }

    /// Appends `pairs` to the URL's query, percent-encoded (`&`, `+`, `#`, `=` in a value
    /// arrive as themselves): `&[("q", "a&b"), ("page", "2")]`, or any struct that serializes
    /// to a flat map.
    pub fn query<Q: Serialize + ?Sized>(self, pairs: &Q) -> Self {
        match serde_urlencoded::to_string(pairs) {
            Ok(_) => self.with(|b| b.query(pairs)),
            Err(e) => {
                let error = self.build_error(format!("the query does not encode: {e}"));
                self.fail(error)
            }
        }
    }

    /// A JSON body (and `Content-Type: application/json`).
    pub fn json<B: Serialize + ?Sized>(self, body: &B) -> Self {
        match serde_json::to_vec(body) {
            Ok(bytes) => self
                .with(|b| b.body(bytes))
                .default_content_type("application/json"),
            Err(e) => {
                let error = self.build_error(format!("the JSON body does not serialize: {e}"));
                self.fail(error)
            }
        }
    }

    /// A form body, `application/x-www-form-urlencoded`: `&[("name", "Ada"), ("x", "1&2")]`
    /// or a struct.
    pub fn form<F: Serialize + ?Sized>(self, fields: &F) -> Self {
        match serde_urlencoded::to_string(fields) {
            Ok(encoded) => self
                .with(|b| b.body(encoded))
                .default_content_type("application/x-www-form-urlencoded"),
            Err(e) => {
                let error = self.build_error(format!("the form does not encode: {e}"));
                self.fail(error)
            }
        }
    }

    /// A `multipart/form-data` body: text fields and files,
    /// `Form::new().text("title", "x").part("file", Part::bytes(data).file_name("a.png"))`.
    pub fn multipart(self, form: multipart::Form) -> Self {
        // reqwest sets the Content-Type with the boundary.
        self.with(|b| b.multipart(form))
    }

    /// A raw body (text or bytes); set its `Content-Type` with [`Request::header`].
    pub fn body(self, body: impl Into<reqwest::Body>) -> Self {
        self.with(|b| b.body(body))
    }

    /// A deadline for this request alone, from sending to the last byte of the body (the
    /// redirects included); past it the request fails naming it.
    pub fn timeout(self, timeout: Duration) -> Self {
        self.with(|b| b.timeout(timeout))
    }

    /// Answers with the redirect itself (`response.status()` is the `3xx`, its `Location`
    /// header where it points) instead of following it.
    pub fn no_redirect(self) -> Self {
        self.redirects(0)
    }

    /// Follows at most `limit` redirects for this request (the workflow's policy otherwise,
    /// 10 by default); one more is an error naming the chain.
    pub fn redirects(mut self, limit: usize) -> Self {
        self.redirects = Some(limit);
        self
    }

    /// For what the methods above do not cover: changes the underlying reqwest builder.
    pub fn map(self, f: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder) -> Self {
        self.with(f)
    }

    fn default_content_type(mut self, value: &'static str) -> Self {
        if !self.headers.contains_key(CONTENT_TYPE) {
            self.headers
                .insert(CONTENT_TYPE, HeaderValue::from_static(value));
        }
        self
    }

    /// Sends the request and reads the whole response, following redirects by the
    /// workflow's policy with its cookies. Any status is returned: check it with
    /// [`Response::expect_status`].
    pub async fn send(mut self) -> Result<Response, HttpError> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        let builder = match (self.builder.take(), self.url) {
            (Some(builder), _) => builder,
            (None, Err(error)) => return Err(error),
            (None, Ok(url)) => {
                return Err(HttpError::Build {
                    request: format!("{} {url}", self.method),
                    reason: "the request was lost while it was built".into(),
                });
            }
        };
        let mut request = builder
            .build()
            .map_err(|e| super::build_error(Some(&self.method), e))?;
        for (name, value) in self.headers.drain() {
            if let Some(name) = name {
                request.headers_mut().insert(name, value);
            }
        }
        let limit = self.redirects.unwrap_or(self.http.redirects);
        self.http.send_request(request, limit).await
    }
}

impl IntoFuture for Request {
    type Output = Result<Response, HttpError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    /// `cx.get("/x").await` is `cx.get("/x").send().await`.
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = self.url.as_ref().map(Url::as_str).unwrap_or("<no URL>");
        write!(f, "Request({} {url})", self.method)
    }
}
