//! A workflow's HTTP session: its cookie jar, the requests it has in flight, and the exchange
//! loop that follows redirects by the workflow's policy, keeping cookies set on the way.
//!
//! The client is shared by every workflow (one connection pool) and follows no redirects
//! itself: a jar in the client would be shared too, and a redirect followed inside it would
//! hide the `Set-Cookie` of a `302` and the chain an error should name.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use cookie_store::CookieStore;
use reqwest::header::{
    AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, HeaderValue, LOCATION,
    PROXY_AUTHORIZATION, SET_COOKIE, TRANSFER_ENCODING,
};
use reqwest::{Method, StatusCode};
use url::Url;

use super::HttpError;
use super::response::{Redirect, Response};
use super::transcript::{self, Exchange, TranscriptPolicy, Transcripts};

/// How many redirects a request follows unless the workflow or the request says otherwise.
pub const DEFAULT_REDIRECTS: usize = 10;

/// One request on the wire.
#[derive(Debug)]
struct Flight {
    id: u64,
    line: String,
    started: Instant,
}

/// What one workflow attempt's requests share: cookies, what is in flight (for the message
/// of a deadline that fires during a request), the transcript of the running step, and the
/// secrets seen (to keep them out of every report).
#[derive(Default)]
pub(crate) struct Session {
    jar: Mutex<CookieStore>,
    flights: Mutex<Vec<Flight>>,
    next_flight: AtomicU64,
    policy: Arc<TranscriptPolicy>,
    exchanges: Mutex<Vec<Exchange>>,
    secrets: Mutex<BTreeSet<String>>,
}

impl std::fmt::Debug for Session {
    /// Counts only: the jar, the transcript and the secrets hold credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("cookies", &lock(&self.jar).iter_any().count())
            .field("in_flight", &lock(&self.flights).len())
            .field("exchanges", &lock(&self.exchanges).len())
            .field("transcripts", &self.policy.keep)
            .finish_non_exhaustive()
    }
}

/// A request as it went out, for its transcript.
struct Sent {
    method: Method,
    url: Url,
    headers: reqwest::header::HeaderMap,
    body: Option<Vec<u8>>,
    streamed: bool,
    started: Instant,
}

impl Sent {
    fn of(request: &reqwest::Request) -> Self {
        let body = request.body();
        Sent {
            method: request.method().clone(),
            url: request.url().clone(),
            headers: request.headers().clone(),
            body: body.and_then(|b| b.as_bytes()).map(<[u8]>::to_vec),
            streamed: body.is_some_and(|b| b.as_bytes().is_none()),
            started: Instant::now(),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every update is one call on the store or one push/retain: a panic elsewhere leaves it
    // consistent.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Session {
    /// A session recording transcripts by `policy`.
    pub fn new(policy: Arc<TranscriptPolicy>) -> Self {
        Session {
            policy,
            ..Session::default()
        }
    }

    /// Records one hop: the request as sent, and the answer (status, headers, body) or why
    /// none came. The secrets it carried are remembered even when transcripts are off, so
    /// errors can be scrubbed of them.
    fn record(
        &self,
        sent: &Sent,
        answer: Result<(StatusCode, &reqwest::header::HeaderMap, &[u8]), String>,
    ) {
        let policy = &self.policy;
        let mut secrets = lock(&self.secrets);
        let content_type = |headers: &reqwest::header::HeaderMap| {
            headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let request_headers = policy.headers(&sent.headers, &mut secrets);
        let request_body = match (&sent.body, sent.streamed) {
            (Some(bytes), _) => {
                policy.body(bytes, content_type(&sent.headers).as_deref(), &mut secrets)
            }
            (None, true) => Some("<streamed body>".to_owned()),
            (None, false) => None,
        };
        let (status, response_headers, response_body, error) = match answer {
            Ok((status, headers, body)) => (
                Some(status.as_u16()),
                policy.headers(headers, &mut secrets),
                policy.body(body, content_type(headers).as_deref(), &mut secrets),
                None,
            ),
            Err(error) => (None, Vec::new(), None, Some(error)),
        };
        if policy.keep == Transcripts::Off {
            return;
        }
        lock(&self.exchanges).push(Exchange {
            method: sent.method.to_string(),
            url: sent.url.to_string(),
            status,
            duration: sent.started.elapsed(),
            request_headers,
            request_body,
            response_headers,
            response_body,
            error,
        });
    }

    /// The running step's transcript, scrubbed of every secret seen so far; the next step
    /// starts a new one.
    pub fn take_transcript(&self) -> Vec<Exchange> {
        let mut exchanges = std::mem::take(&mut *lock(&self.exchanges));
        let secrets = lock(&self.secrets);
        for exchange in &mut exchanges {
            transcript::scrub_exchange(exchange, &secrets);
        }
        exchanges
    }

    /// `text` with the secrets seen by this session replaced.
    pub fn scrub(&self, text: &str) -> String {
        transcript::scrub(text, &lock(&self.secrets))
    }

    /// Marks `method url` as in flight; [`Session::landed`] clears it. A request whose future
    /// is dropped (its step's deadline fired) stays listed, which is the point.
    fn took_off(&self, method: &Method, url: &Url) -> u64 {
        let id = self.next_flight.fetch_add(1, Ordering::Relaxed);
        lock(&self.flights).push(Flight {
            id,
            line: format!("{method} {url}"),
            started: Instant::now(),
        });
        id
    }

    fn landed(&self, id: u64) {
        lock(&self.flights).retain(|flight| flight.id != id);
    }

    /// The requests still in flight, as `GET http://… (for 1.2s)`, oldest first.
    pub fn in_flight(&self) -> Vec<String> {
        lock(&self.flights)
            .iter()
            .map(|f| format!("{} (for {})", f.line, rounded(f.started.elapsed())))
            .collect()
    }

    /// Forgets requests left in flight by an earlier step (their futures were dropped).
    pub fn forget_flights(&self) {
        lock(&self.flights).clear();
    }

    /// The `Cookie` header the jar holds for `url`, if any.
    fn cookie_header(&self, url: &Url) -> Option<HeaderValue> {
        let jar = lock(&self.jar);
        let pairs: Vec<String> = jar
            .get_request_values(url)
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        if pairs.is_empty() {
            return None;
        }
        HeaderValue::from_str(&pairs.join("; ")).ok()
    }

    /// Keeps the cookies a response from `url` set.
    fn store(&self, url: &Url, headers: &reqwest::header::HeaderMap) {
        let mut jar = lock(&self.jar);
        for value in headers.get_all(SET_COOKIE) {
            if let Ok(text) = value.to_str() {
                // A cookie the store refuses (bad domain, unparsable) is dropped, as a browser
                // drops it; the response's own `cookies()` still shows what came.
                let _ = jar.parse(text, url);
            }
        }
    }
}

/// `1.23s`, `120ms`: enough for a message.
fn rounded(elapsed: Duration) -> String {
    let millis = elapsed.as_millis();
    if millis >= 1000 {
        format!("{:.2}s", elapsed.as_secs_f64())
    } else {
        format!("{millis}ms")
    }
}

/// A cookie in the jar.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Cookie {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: String,
    /// The domain it is sent to (the host that set it, for a host-only cookie).
    pub domain: String,
    /// The path it is sent under.
    pub path: String,
    /// Sent over HTTPS only.
    pub secure: bool,
    /// Hidden from scripts (`HttpOnly`).
    pub http_only: bool,
}

/// A workflow's cookie jar: the cookies its responses set, sent back with its later requests
/// (after redirects too) and with no other workflow's. [`Http::cookies`](super::Http::cookies)
/// gives it; each attempt of a workflow starts with an empty jar.
pub struct Cookies<'a>(pub(super) &'a Arc<Session>);

impl Cookies<'_> {
    /// Every unexpired cookie, sorted by domain, path and name.
    pub fn all(&self) -> Vec<Cookie> {
        let jar = lock(&self.0.jar);
        let mut all: Vec<Cookie> = jar
            .iter_unexpired()
            .map(|c| Cookie {
                name: c.name().to_owned(),
                value: c.value().to_owned(),
                domain: c
                    .domain
                    .as_cow()
                    .map(|d| d.into_owned())
                    .unwrap_or_default(),
                path: c.path.as_ref().to_owned(),
                secure: c.secure().unwrap_or(false),
                http_only: c.http_only().unwrap_or(false),
            })
            .collect();
        all.sort_by(|a, b| (&a.domain, &a.path, &a.name).cmp(&(&b.domain, &b.path, &b.name)));
        all
    }

    /// The value of the cookie called `name` (the first by domain and path when several are).
    pub fn get(&self, name: &str) -> Option<String> {
        self.all()
            .into_iter()
            .find(|c| c.name == name)
            .map(|c| c.value)
    }

    /// How many cookies the jar holds.
    pub fn len(&self) -> usize {
        lock(&self.0.jar).iter_unexpired().count()
    }

    /// Whether the jar is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds a cookie as if the server at `url` had sent `Set-Cookie: <set_cookie>`
    /// (`"session=abc; Path=/"`).
    pub fn set(&self, url: &str, set_cookie: &str) -> Result<(), HttpError> {
        let bad = |reason: String| HttpError::Header {
            name: "set-cookie".into(),
            reason,
        };
        let url = Url::parse(url).map_err(|e| bad(format!("{url:?} is not a URL: {e}")))?;
        lock(&self.0.jar)
            .parse(set_cookie, &url)
            .map(|_| ())
            .map_err(|e| bad(format!("{set_cookie:?}: {e}")))
    }

    /// Removes every cookie called `name`; whether there was one.
    pub fn remove(&self, name: &str) -> bool {
        let mut jar = lock(&self.0.jar);
        let matching: Vec<(String, String)> = jar
            .iter_any()
            .filter(|c| c.name() == name)
            .map(|c| {
                (
                    c.domain
                        .as_cow()
                        .map(|d| d.into_owned())
                        .unwrap_or_default(),
                    c.path.as_ref().to_owned(),
                )
            })
            .collect();
        for (domain, path) in &matching {
            jar.remove(domain, path, name);
        }
        !matching.is_empty()
    }

    /// Empties the jar: the next request goes out as from a new visitor.
    pub fn clear(&self) {
        lock(&self.0.jar).clear();
    }
}

/// Sends `request` with `client`, following up to `limit` redirects the way a browser does
/// (`301`/`302`/`303` turn into a `GET` without body; `307`/`308` repeat the method and body),
/// with the session's cookies on every hop and what each hop set kept. A request that set
/// its own `Cookie` header is sent with that one instead of the jar's. Credentials
/// (`Authorization`, `Cookie`) do not follow a redirect to another origin.
pub(crate) async fn exchange(
    client: &reqwest::Client,
    mut request: reqwest::Request,
    session: Option<&Session>,
    limit: usize,
) -> Result<Response, HttpError> {
    let method = request.method().clone();
    let first_url = request.url().clone();
    let own_cookie = request.headers().contains_key(COOKIE);
    let mut chain: Vec<Redirect> = Vec::new();
    let mut set_cookies: Vec<HeaderValue> = Vec::new();
    // The URL for an error: the one asked for, then each hop.
    let shown = |chain: &[Redirect]| -> String {
        let mut text = first_url.to_string();
        for hop in chain {
            text.push_str(" → ");
            text.push_str(hop.to.as_str());
        }
        text
    };
    loop {
        let url = request.url().clone();
        if let Some(session) = session
            && !(own_cookie && url.origin() == first_url.origin())
        {
            request.headers_mut().remove(COOKIE);
            if let Some(cookie) = session.cookie_header(&url) {
                request.headers_mut().insert(COOKIE, cookie);
            }
        }
        // Only a request that may be redirected with its body needs the copy.
        let again = if chain.len() < limit {
            request.try_clone()
        } else {
            None
        };
        let flight = session.map(|s| (s, s.took_off(request.method(), &url)));
        let sent = Sent::of(&request);
        let response = match client.execute(request).await {
            Ok(response) => response,
            Err(source) => {
                if let Some((session, id)) = flight {
                    session.landed(id);
                    session.record(&sent, Err(transport_text(&source)));
                }
                return Err(HttpError::Transport {
                    method,
                    url: shown(&chain),
                    source: source.without_url(),
                });
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        set_cookies.extend(headers.get_all(SET_COOKIE).iter().cloned());
        if let Some(session) = session {
            session.store(&url, &headers);
        }
        let next = redirect_target(status, &headers, &url);
        // A body that cannot be sent twice (a stream) stops at the redirect: the workflow
        // sees the 307 or 308 itself.
        if let Some(to) = &next
            && chain.len() < limit
            && let Some(mut next_request) = again
        {
            // Read the redirect's body so its connection goes back to the pool.
            let body = response.bytes().await.unwrap_or_default();
            if let Some((session, id)) = flight {
                session.landed(id);
                session.record(&sent, Ok((status, &headers, &body)));
            }
            redirect(&mut next_request, status, &url, to);
            chain.push(Redirect {
                status,
                from: url,
                to: to.clone(),
            });
            request = next_request;
            continue;
        }
        if next.is_some() && limit > 0 && chain.len() >= limit {
            if let Some((session, id)) = flight {
                session.landed(id);
                session.record(&sent, Ok((status, &headers, &[])));
            }
            let mut chain_text = shown(&chain);
            if let Some(to) = &next {
                chain_text.push_str(" → ");
                chain_text.push_str(to.as_str());
            }
            return Err(HttpError::TooManyRedirects {
                method,
                url: first_url.to_string(),
                limit,
                chain: chain_text,
            });
        }
        let body = response.bytes().await;
        if let Some((session, id)) = flight {
            session.landed(id);
            match &body {
                Ok(bytes) => session.record(&sent, Ok((status, &headers, bytes))),
                Err(e) => session.record(&sent, Err(transport_text(e))),
            }
        }
        let body = body.map_err(|source| HttpError::Transport {
            method: method.clone(),
            url: shown(&chain),
            source: source.without_url(),
        })?;
        return Ok(Response::new(super::response::Parts {
            method,
            url: first_url.to_string(),
            final_url: url.to_string(),
            status,
            headers,
            body: body.to_vec(),
            redirects: chain,
            set_cookies,
        }));
    }
}

/// A transport error's whole cause, without the URL the transcript already shows.
fn transport_text(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Where a redirect response points, when it is one with a usable `Location`.
fn redirect_target(
    status: StatusCode,
    headers: &reqwest::header::HeaderMap,
    url: &Url,
) -> Option<Url> {
    if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = headers.get(LOCATION)?.to_str().ok()?;
    let next = url.join(location).ok()?;
    matches!(next.scheme(), "http" | "https").then_some(next)
}

/// Turns the copy of the request into the next hop's.
fn redirect(request: &mut reqwest::Request, status: StatusCode, from: &Url, to: &Url) {
    if matches!(status.as_u16(), 301..=303) {
        *request.body_mut() = None;
        for name in [
            TRANSFER_ENCODING,
            CONTENT_ENCODING,
            CONTENT_TYPE,
            CONTENT_LENGTH,
        ] {
            request.headers_mut().remove(name);
        }
        if *request.method() != Method::HEAD {
            *request.method_mut() = Method::GET;
        }
    }
    if from.origin() != to.origin() {
        for name in [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION] {
            request.headers_mut().remove(name);
        }
    }
    *request.url_mut() = to.clone();
}
