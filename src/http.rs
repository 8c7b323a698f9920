//! HTTP on the workflow context: requests joined to the base URL, sent as a user
//! ([`Identity`]), buffered responses, and errors that say which request failed and what the
//! server answered.

use std::borrow::Cow;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

/// What every request of the harness says it is, unless a workflow sets its own.
pub const USER_AGENT: &str = concat!("workflow-harness/", env!("CARGO_PKG_VERSION"));

/// The builder every client of the harness starts from: a `User-Agent`, and `Accept-Encoding`
/// with transparent gzip, deflate and brotli decoding (the crate's own reqwest features, so a
/// suite needs nothing in its Cargo.toml for them).
pub(crate) fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().user_agent(USER_AGENT)
}

/// How much of a response body an error message quotes.
const BODY_EXCERPT: usize = 500;

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
    /// A request from [`Http::request`] could not be built (a bad header value, a body that
    /// does not serialize, …).
    #[error("cannot build the request{}: {reason}", if url.is_empty() { String::new() } else { format!(" to {url}") })]
    Build {
        /// The URL it was for, when known.
        url: String,
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

    /// The URL for an error: the request's, and where redirects led when they did
    /// (`http://a/old → http://a/new`).
    fn shown_url(&self) -> String {
        if self.final_url == self.url {
            self.url.clone()
        } else {
            format!("{} → {}", self.url, self.final_url)
        }
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
        serde_json::from_slice(&self.body).map_err(|e| HttpError::Decode {
            method: self.method.clone(),
            url: self.shown_url(),
            status: self.status,
            target: std::any::type_name::<T>(),
            reason: e.to_string(),
            body: self.body_excerpt(),
        })
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

/// A user requests can be sent as: anything with a bearer token.
///
/// Implement it for a workflow's own user type (an id, a token, a role, …) to pass it to
/// [`Http::as_user`] and [`Http::set_user`]; a bare token (`&str`, `String`) is one too.
pub trait Identity {
    /// The token sent as `Authorization: Bearer <token>`.
    fn bearer_token(&self) -> &str;
}

impl Identity for str {
    fn bearer_token(&self) -> &str {
        self
    }
}

impl Identity for String {
    fn bearer_token(&self) -> &str {
        self
    }
}

impl<T: Identity + ?Sized> Identity for &T {
    fn bearer_token(&self) -> &str {
        (**self).bearer_token()
    }
}

/// HTTP as a workflow sends it: the run's shared client (one connection pool), the base URL
/// paths are joined to, and default headers.
///
/// A [`Ctx`](crate::Ctx) dereferences to its own `Http`, so `cx.get(…)` sends with the
/// workflow's defaults; [`Http::as_user`] gives a copy that sends as another user, for one
/// request or a few, without changing them: `cx.as_user(&seller).post(path, &body)`.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    base_url: Option<Url>,
    headers: HeaderMap,
    /// A header that could not be set; every request fails with it.
    invalid: Option<(String, String)>,
}

impl Http {
    pub(crate) fn new(client: reqwest::Client, base_url: Option<Url>) -> Self {
        Http {
            client,
            base_url,
            headers: HeaderMap::new(),
            invalid: None,
        }
    }

    /// A copy of these defaults that sends `user`'s bearer token instead: the same client,
    /// base URL and other headers. Cheap (the client is shared), and borrowed from nothing,
    /// so it can be kept for several requests. A token that is not a valid header value
    /// makes each request of the copy fail with [`HttpError::Header`].
    pub fn as_user(&self, user: &(impl Identity + ?Sized)) -> Http {
        let mut http = self.clone();
        if let Err(HttpError::Header { name, reason }) = http.set_user(user) {
            http.invalid = Some((name, reason));
        }
        http
    }

    /// Sends `user`'s bearer token with every later request of these defaults.
    pub fn set_user(&mut self, user: &(impl Identity + ?Sized)) -> Result<(), HttpError> {
        self.set_bearer(user.bearer_token())
    }

    /// Sends `Authorization: Bearer <token>` with every later request.
    pub fn set_bearer(&mut self, token: &str) -> Result<(), HttpError> {
        self.set_header(AUTHORIZATION.as_str(), &format!("Bearer {token}"))
    }

    /// Sends `name: value` with every later request.
    pub fn set_header(&mut self, name: &str, value: &str) -> Result<(), HttpError> {
        let bad = |reason: String| HttpError::Header {
            name: name.to_owned(),
            reason,
        };
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| bad(e.to_string()))?;
        let mut value = HeaderValue::from_str(value).map_err(|e| bad(e.to_string()))?;
        // Kept out of `Debug` output (tokens).
        value.set_sensitive(name == AUTHORIZATION);
        self.headers.insert(name, value);
        Ok(())
    }

    /// Forgets a default header set with [`Http::set_header`], [`Http::set_bearer`] or
    /// [`Http::set_user`].
    pub fn remove_header(&mut self, name: &str) {
        self.headers.remove(name);
    }

    /// The default headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// A request builder for `path` on the shared client, for anything the helpers below do
    /// not cover (query structs, other bodies); send it with [`Http::send`], which adds the
    /// default headers the request does not set itself.
    pub fn request(
        &self,
        method: Method,
        path: &str,
    ) -> Result<reqwest::RequestBuilder, HttpError> {
        let url = join(self.base_url.as_ref(), &method, path)?;
        Ok(self.client.request(method, url))
    }

    /// Sends `builder` (from [`Http::request`], or from any client the workflow built, e.g.
    /// one that does not follow redirects: that client sends it) and reads the whole response.
    /// A default header goes only where the request has none of that name, so a one-off
    /// `Authorization` replaces the workflow's instead of being sent beside it.
    pub async fn send(&self, builder: reqwest::RequestBuilder) -> Result<Response, HttpError> {
        if let Some((name, reason)) = &self.invalid {
            return Err(HttpError::Header {
                name: name.clone(),
                reason: reason.clone(),
            });
        }
        let (client, request) = builder.build_split();
        let mut request = request.map_err(|e| HttpError::Build {
            url: e.url().map(Url::to_string).unwrap_or_default(),
            reason: format!("{:#}", anyhow::Error::from(e.without_url())),
        })?;
        let own: Vec<HeaderName> = request.headers().keys().cloned().collect();
        for (name, value) in &self.headers {
            if !own.contains(name) {
                request.headers_mut().append(name.clone(), value.clone());
            }
        }
        execute(&client, request).await
    }

    async fn call<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<Response, HttpError> {
        let mut builder = self.request(method, path)?;
        if let Some(body) = body {
            builder = builder.json(body);
        }
        self.send(builder).await
    }

    /// `GET path`. Any status is returned; check it with [`Response::expect_status`].
    pub async fn get(&self, path: &str) -> Result<Response, HttpError> {
        self.call::<()>(Method::GET, path, None).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> Result<Response, HttpError> {
        self.call::<()>(Method::DELETE, path, None).await
    }

    /// `POST path` with a JSON body.
    pub async fn post<B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<Response, HttpError> {
        self.call(Method::POST, path, Some(body)).await
    }

    /// `PATCH path` with a JSON body.
    pub async fn patch<B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<Response, HttpError> {
        self.call(Method::PATCH, path, Some(body)).await
    }

    /// `PUT path` with a JSON body.
    pub async fn put<B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<Response, HttpError> {
        self.call(Method::PUT, path, Some(body)).await
    }

    /// `GET path`, requiring a 2xx status, decoded as JSON.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, HttpError> {
        self.get(path).await?.expect_success()?.json()
    }

    /// `POST path` with a JSON body, requiring a 2xx status, decoded as JSON.
    pub async fn post_json<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, HttpError> {
        self.post(path, body).await?.expect_success()?.json()
    }

    /// `PATCH path` with a JSON body, requiring a 2xx status, decoded as JSON.
    pub async fn patch_json<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, HttpError> {
        self.patch(path, body).await?.expect_success()?.json()
    }

    /// `PUT path` with a JSON body, requiring a 2xx status, decoded as JSON.
    pub async fn put_json<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, HttpError> {
        self.put(path, body).await?.expect_success()?.json()
    }

    /// `DELETE path`, requiring a 2xx status, decoded as JSON.
    pub async fn delete_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, HttpError> {
        self.delete(path).await?.expect_success()?.json()
    }

    /// [`Http::get_json`] as a [`Value`], so no type needs naming.
    pub async fn get_value(&self, path: &str) -> Result<Value, HttpError> {
        self.get_json(path).await
    }

    /// [`Http::post_json`] as a [`Value`].
    pub async fn post_value<B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<Value, HttpError> {
        self.post_json(path, body).await
    }

    /// [`Http::patch_json`] as a [`Value`].
    pub async fn patch_value<B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<Value, HttpError> {
        self.patch_json(path, body).await
    }

    /// [`Http::put_json`] as a [`Value`].
    pub async fn put_value<B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<Value, HttpError> {
        self.put_json(path, body).await
    }

    /// [`Http::delete_json`] as a [`Value`].
    pub async fn delete_value(&self, path: &str) -> Result<Value, HttpError> {
        self.delete_json(path).await
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
    let final_url = response.url().to_string();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await.map_err(transport)?.to_vec();
    Ok(Response {
        method,
        url,
        final_url,
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

    /// A server answering `GET /who` with the request's `Authorization` header (or `none`).
    async fn who_server() -> Http {
        use axum::routing::get;
        let app = axum::Router::new().route(
            "/who",
            get(|headers: HeaderMap| async move {
                headers
                    .get(AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("none")
                    .to_owned()
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let base = format!("http://{}", listener.local_addr().expect("an address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Http::new(reqwest::Client::new(), Url::parse(&base).ok())
    }

    async fn who(http: &Http) -> String {
        let response = http.get("/who").await.expect("an answer");
        response.text().into_owned()
    }

    struct Seller {
        token: String,
    }

    impl Identity for Seller {
        fn bearer_token(&self) -> &str {
            &self.token
        }
    }

    #[tokio::test]
    async fn as_user_sends_that_users_token_and_leaves_the_defaults() {
        let mut http = who_server().await;
        assert_eq!(who(&http).await, "none");
        assert_eq!(who(&http.as_user("t-1")).await, "Bearer t-1");
        assert_eq!(who(&http).await, "none", "the defaults are unchanged");

        http.set_user("t-default").expect("a valid token");
        let seller = Seller {
            token: "t-seller".into(),
        };
        let as_seller = http.as_user(&seller);
        assert_eq!(who(&as_seller).await, "Bearer t-seller");
        assert_eq!(who(&as_seller).await, "Bearer t-seller", "reusable");
        assert_eq!(who(&http).await, "Bearer t-default");
        assert_eq!(who(&as_seller.as_user("t-2")).await, "Bearer t-2");
        let shown = format!("{as_seller:?}");
        assert!(
            !shown.contains("t-seller"),
            "the token is not in Debug: {shown}"
        );
    }

    #[tokio::test]
    async fn an_invalid_token_fails_each_request_of_the_view() {
        let http = who_server().await;
        let bad = http.as_user("line\nbreak");
        let error = bad.get("/who").await.expect_err("not a header value");
        assert!(
            matches!(&error, HttpError::Header { name, .. } if name == "authorization"),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .starts_with("invalid header authorization: "),
            "{error}"
        );
        assert_eq!(who(&http).await, "none");
        let mut defaults = http.clone();
        assert!(defaults.set_user("line\nbreak").is_err());
    }

    #[tokio::test]
    async fn value_helpers_decode_and_expect_status_names_both_statuses() {
        let http = who_server().await;
        let response = http.get("/who").await.expect("an answer");
        let error = response.clone().expect_status(201).unwrap_err().to_string();
        assert!(
            error.contains("/who: expected status 201, got 200 OK; body: none"),
            "{error}"
        );
        assert!(response.clone().expect_status(200).is_ok());
        let error = response.json_value().unwrap_err().to_string();
        assert!(
            error.contains("cannot decode body as serde_json::value::Value"),
            "{error}"
        );
        let missing = http.get_value("/nothing").await.unwrap_err().to_string();
        assert!(
            missing.contains("expected a 2xx status, got 404 Not Found"),
            "{missing}"
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
