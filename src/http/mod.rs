//! HTTP on the workflow context: requests joined to the base URL and built with
//! [`Request`], sent as a user ([`Identity`]) in the workflow's session (cookies, redirects),
//! buffered [`Response`]s, and errors that say which request failed and what the server
//! answered.

mod error;
mod request;
mod response;
mod session;
mod transcript;

use std::sync::Arc;

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

pub use error::HttpError;
pub use request::Request;
pub use response::{Redirect, Response};
pub(crate) use session::Session;
pub use session::{Cookie, Cookies, DEFAULT_REDIRECTS};
pub use transcript::{DEFAULT_REDACT_FIELDS, Exchange, REDACTED, TranscriptPolicy, Transcripts};

/// What every request of the harness says it is, unless a workflow sets its own.
pub const USER_AGENT: &str = concat!("workflow-harness/", env!("CARGO_PKG_VERSION"));

/// The builder every client of the harness starts from: a `User-Agent`, `Accept-Encoding`
/// with transparent gzip, deflate and brotli decoding (the crate's own reqwest features, so a
/// suite needs nothing in its Cargo.toml for them), and no redirects followed by the client:
/// each workflow follows them itself, with its own cookies and policy.
pub(crate) fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
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
/// paths are joined to, default headers, and the workflow's session: a cookie jar of its own
/// and a redirect policy (follow up to 10 unless set otherwise).
///
/// A [`Ctx`](crate::Ctx) dereferences to its own `Http`, so `cx.get(…)` sends with the
/// workflow's defaults; [`Http::as_user`] gives a copy that sends as another user, for one
/// request or a few, without changing them: `cx.as_user(&seller).post(path).json(&body)`.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    base_url: Option<Url>,
    headers: HeaderMap,
    /// A header that could not be set; every request fails with it.
    invalid: Option<(String, String)>,
    session: Arc<Session>,
    redirects: usize,
}

/// A valid header name and value, or the error naming the header.
fn header_pair(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), HttpError> {
    let bad = |reason: String| HttpError::Header {
        name: name.to_owned(),
        reason,
    };
    let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| bad(e.to_string()))?;
    let mut value = HeaderValue::from_str(value).map_err(|e| bad(e.to_string()))?;
    // Kept out of `Debug` output (tokens).
    value.set_sensitive(name == AUTHORIZATION);
    Ok((name, value))
}

/// A request reqwest could not build, named with its method (when known) and URL and its
/// whole cause.
fn build_error(method: Option<&Method>, error: reqwest::Error) -> HttpError {
    let url = error.url().map(Url::to_string);
    let request = match (method, url) {
        (Some(method), Some(url)) => format!("{method} {url}"),
        (Some(method), None) => format!("the {method} request"),
        (None, Some(url)) => format!("the request to {url}"),
        (None, None) => "the request".to_owned(),
    };
    HttpError::Build {
        request,
        reason: format!("{:#}", anyhow::Error::from(error.without_url())),
    }
}

impl Http {
    #[cfg(test)]
    pub(crate) fn new(client: reqwest::Client, base_url: Option<Url>) -> Self {
        Http::with_session(client, base_url, Arc::default())
    }

    /// Defaults on `client` in `session`.
    pub(crate) fn with_session(
        client: reqwest::Client,
        base_url: Option<Url>,
        session: Arc<Session>,
    ) -> Self {
        Http {
            client,
            base_url,
            headers: HeaderMap::new(),
            invalid: None,
            session,
            redirects: DEFAULT_REDIRECTS,
        }
    }

    /// The session's bookkeeping, for the supervisor's deadline messages.
    pub(crate) fn session(&self) -> Arc<Session> {
        self.session.clone()
    }

    /// A copy of these defaults that sends `user`'s bearer token instead: the same client,
    /// base URL, other headers and cookie jar. Cheap (the client is shared), and borrowed
    /// from nothing, so it can be kept for several requests. A token that is not a valid
    /// header value makes each request of the copy fail with [`HttpError::Header`].
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
        let (name, value) = header_pair(name, value)?;
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

    /// Follows at most `limit` redirects per later request (`0`: none, the `3xx` is the
    /// answer); [`Request::redirects`] and [`Request::no_redirect`] change it for one.
    pub fn set_redirects(&mut self, limit: usize) {
        self.redirects = limit;
    }

    /// The workflow's cookie jar: what its responses set, sent back with its later requests.
    /// Shared by the copies of [`Http::as_user`]; no other workflow sees it.
    pub fn cookies(&self) -> Cookies<'_> {
        Cookies(&self.session)
    }

    /// A request for `path` (joined to the base URL; an absolute `http(s)://` URL is taken
    /// as it is), to build on and send: `cx.request(Method::OPTIONS, "/x").send().await?`.
    pub fn request(&self, method: Method, path: &str) -> Request {
        Request::new(self.clone(), method, path)
    }

    /// `GET path`: `cx.get("/x").await?`, or built on: `cx.get("/x").query(&[…]).await?`.
    pub fn get(&self, path: &str) -> Request {
        self.request(Method::GET, path)
    }

    /// `POST path`, a body to add: `cx.post("/x").json(&body).await?`, `.form(…)`,
    /// `.multipart(…)`.
    pub fn post(&self, path: &str) -> Request {
        self.request(Method::POST, path)
    }

    /// `PUT path`.
    pub fn put(&self, path: &str) -> Request {
        self.request(Method::PUT, path)
    }

    /// `PATCH path`.
    pub fn patch(&self, path: &str) -> Request {
        self.request(Method::PATCH, path)
    }

    /// `DELETE path`.
    pub fn delete(&self, path: &str) -> Request {
        self.request(Method::DELETE, path)
    }

    /// `HEAD path`.
    pub fn head(&self, path: &str) -> Request {
        self.request(Method::HEAD, path)
    }

    /// Sends a request built with reqwest, on any client (e.g. one with its own TLS or proxy
    /// settings: that client sends it), once: what that client does with redirects is its
    /// own business. The workflow's default headers go where the request has none of that
    /// name, and its cookie jar is sent and kept unless the request sets `Cookie` itself.
    pub async fn send(&self, builder: reqwest::RequestBuilder) -> Result<Response, HttpError> {
        let (client, request) = builder.build_split();
        // reqwest keeps no method on a builder that failed.
        let request = request.map_err(|e| build_error(None, e))?;
        self.send_with(&client, request, 0).await
    }

    /// Sends a built request with the shared client by the session's rules.
    async fn send_request(
        &self,
        request: reqwest::Request,
        limit: usize,
    ) -> Result<Response, HttpError> {
        let client = self.client.clone();
        self.send_with(&client, request, limit).await
    }

    async fn send_with(
        &self,
        client: &reqwest::Client,
        mut request: reqwest::Request,
        limit: usize,
    ) -> Result<Response, HttpError> {
        if let Some((name, reason)) = &self.invalid {
            return Err(HttpError::Header {
                name: name.clone(),
                reason: reason.clone(),
            });
        }
        for (name, value) in &self.headers {
            if !request.headers().contains_key(name) {
                request.headers_mut().insert(name.clone(), value.clone());
            }
        }
        session::exchange(client, request, Some(&self.session), limit).await
    }

    async fn call<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<Response, HttpError> {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await
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
        self.call(Method::POST, path, Some(body))
            .await?
            .expect_success()?
            .json()
    }

    /// `PATCH path` with a JSON body, requiring a 2xx status, decoded as JSON.
    pub async fn patch_json<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, HttpError> {
        self.call(Method::PATCH, path, Some(body))
            .await?
            .expect_success()?
            .json()
    }

    /// `PUT path` with a JSON body, requiring a 2xx status, decoded as JSON.
    pub async fn put_json<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, HttpError> {
        self.call(Method::PUT, path, Some(body))
            .await?
            .expect_success()?
            .json()
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
        let error = session::exchange(&client, request, None, 0)
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
}
