//! Route-level faults a user aims at some routes (`--break 'PATCH /api/orders/*=500'`), so a
//! suite can be shown to catch a broken endpoint, an empty list or a write that is lost; and
//! the optional log of the routes the server answered, which tells such a test what to break.

use crate::routes;
use crate::state::{AppState, Shared};
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

/// What a matching request gets instead of the real answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakMode {
    /// This status (100–599) and `{"error": "broken by --break '<rule>'"}`, without running
    /// the handler.
    Status(u16),
    /// The real answer with every list in it emptied: a top-level array, and each array field
    /// of a top-level object (`data`, `items`, …); a `pagination` block then says 0 items.
    Empty,
    /// The answer the handler gives on a copy of the store, which is then thrown away: the
    /// client is told it was stored, nothing is. Reads (`GET`, `HEAD`) are answered normally.
    NoStore,
}

/// One rule, `METHOD PATH=MODE`: `METHOD` an HTTP method or `*`; `PATH` matched, `*` standing
/// for any run of characters (`/` included), against the request's path and against the route
/// it reached as declared (`/api/orders/{id}/status`); a `PATH` holding `?` is matched against
/// the path, `?` and the query (empty without one). `MODE` is a status code, `empty` or
/// `nostore`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakRule {
    method: Option<Method>,
    path: String,
    mode: BreakMode,
}

impl BreakRule {
    /// The mode of this rule.
    pub fn mode(&self) -> BreakMode {
        self.mode
    }

    fn matches(&self, method: &Method, path: &str, query: &str, route: Option<&str>) -> bool {
        if self.method.as_ref().is_some_and(|m| m != method) {
            return false;
        }
        let with_query = self.path.contains('?');
        let target = |p: &str| match with_query {
            true => format!("{p}?{query}"),
            false => p.to_owned(),
        };
        glob(&self.path, &target(path)) || route.is_some_and(|r| glob(&self.path, &target(r)))
    }
}

/// `*` matches any run of characters; everything else itself.
fn glob(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

impl FromStr for BreakRule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let shape = "expected METHOD PATH=MODE, e.g. 'PATCH /api/orders/*=500'";
        let (target, mode) = s
            .rsplit_once('=')
            .ok_or_else(|| format!("break rule '{s}': no '=MODE' ({shape})"))?;
        let (method, path) = target
            .trim()
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("break rule '{s}': no METHOD before the path ({shape})"))?;
        let (method, path) = (method.trim(), path.trim());
        let method = match method {
            "*" => None,
            // Letters only: `Method` would take any token, so a typo would never match.
            m if m.chars().all(|c| c.is_ascii_alphabetic()) => Some(
                Method::from_str(&m.to_ascii_uppercase())
                    .map_err(|_| format!("break rule '{s}': '{m}' is not an HTTP method"))?,
            ),
            m => return Err(format!("break rule '{s}': '{m}' is not an HTTP method")),
        };
        if !path.starts_with('/') {
            return Err(format!(
                "break rule '{s}': the path '{path}' must start with '/'"
            ));
        }
        let mode = match mode.trim() {
            "empty" => BreakMode::Empty,
            "nostore" => BreakMode::NoStore,
            code => match code.parse::<u16>() {
                Ok(n) if (100..=599).contains(&n) => BreakMode::Status(n),
                _ => {
                    return Err(format!(
                        "break rule '{s}': mode '{code}' is not a status code (100-599), 'empty' or 'nostore'"
                    ));
                }
            },
        };
        Ok(BreakRule {
            method,
            path: path.to_owned(),
            mode,
        })
    }
}

impl fmt::Display for BreakRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.method {
            Some(m) => write!(f, "{m} ")?,
            None => f.write_str("* ")?,
        }
        f.write_str(&self.path)?;
        match self.mode {
            BreakMode::Status(n) => write!(f, "={n}"),
            BreakMode::Empty => f.write_str("=empty"),
            BreakMode::NoStore => f.write_str("=nostore"),
        }
    }
}

/// Reads `break` as one rule, several separated by `;`, or a list of either.
pub fn deserialize_rules<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<BreakRule>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    let texts = match <OneOrMany as serde::Deserialize>::deserialize(d).map_err(|_| {
        serde::de::Error::custom("expected a rule 'METHOD PATH=MODE' or a list of rules")
    })? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    };
    parse_rules(texts.iter().map(String::as_str)).map_err(serde::de::Error::custom)
}

/// Each text's rules (`;` separates several in one text); empty pieces are ignored.
pub fn parse_rules<'a>(texts: impl IntoIterator<Item = &'a str>) -> Result<Vec<BreakRule>, String> {
    texts
        .into_iter()
        .flat_map(|t| t.split(';'))
        .filter(|t| !t.trim().is_empty())
        .map(BreakRule::from_str)
        .collect()
}

/// The rules, the store (for `nostore`'s copies) and the route log.
#[derive(Debug)]
pub struct Breakage {
    rules: Vec<BreakRule>,
    state: Shared,
    log: Option<RouteLog>,
}

/// The routes answered so far and the file each new one is appended to.
#[derive(Debug)]
struct RouteLog {
    path: PathBuf,
    seen: Mutex<HashSet<(Method, String)>>,
}

impl Breakage {
    /// The middleware's state; `route_log` names the file to append routes to.
    pub fn new(rules: Vec<BreakRule>, state: Shared, route_log: Option<PathBuf>) -> Arc<Self> {
        Arc::new(Breakage {
            rules,
            state,
            log: route_log.map(|path| RouteLog {
                path,
                seen: Mutex::new(HashSet::new()),
            }),
        })
    }

    fn inactive(&self) -> bool {
        self.rules.is_empty() && self.log.is_none()
    }

    fn record(&self, method: &Method, route: &str) {
        let Some(log) = &self.log else { return };
        let mut seen = log.seen.lock().unwrap_or_else(|e| e.into_inner());
        if !seen.insert((method.clone(), route.to_owned())) {
            return;
        }
        // Written under the lock, one line per route, so lines never interleave. A log that
        // cannot be written must not break the API it describes: the error goes to stderr.
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log.path)
            .and_then(|mut f| writeln!(f, "{method} {route}"));
        if let Err(e) = written {
            eprintln!("marketplace: cannot append to {}: {e}", log.path.display());
        }
    }
}

/// Middleware (added with `Router::layer`, so the matched route is known): log the route,
/// then apply the first rule that matches the request.
pub async fn apply(State(b): State<Arc<Breakage>>, req: Request, next: Next) -> Response {
    if b.inactive() {
        return next.run(req).await;
    }
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    if let Some(route) = &route {
        b.record(&method, route);
    }
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let rule = b
        .rules
        .iter()
        .find(|r| r.matches(&method, &path, &query, route.as_deref()));
    let response = answer(&b, rule, req, next).await;
    match (&route, method == Method::GET && b.log.is_some()) {
        (Some(route), true) => logged_list(&b, route, response).await,
        _ => response,
    }
}

/// The answer under `rule` (the real one without a rule).
async fn answer(b: &Breakage, rule: Option<&BreakRule>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let Some(rule) = rule else {
        return next.run(req).await;
    };
    match rule.mode {
        BreakMode::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = json!({ "error": format!("broken by --break '{rule}'") });
            (status, axum::Json(body)).into_response()
        }
        BreakMode::Empty => emptied(next.run(req).await).await,
        BreakMode::NoStore if method == Method::GET || method == Method::HEAD => {
            next.run(req).await
        }
        BreakMode::NoStore => {
            let copy = b.state.lock().clone();
            let scratch = routes::router(AppState::new(copy));
            match scratch.oneshot(req).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        }
    }
}

/// `response`, passed on after logging `GET <route> list` the first time the route answers a
/// non-empty list (a top-level array or a `data` array): the lists a suite has seen hold
/// items, which an `empty` rule can take away.
async fn logged_list(b: &Breakage, route: &str, response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "route log: cannot read the body",
        )
            .into_response();
    };
    if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
        let list = match &value {
            Value::Array(items) => Some(items),
            Value::Object(fields) => fields.get("data").and_then(Value::as_array),
            _ => None,
        };
        if list.is_some_and(|items| !items.is_empty()) {
            b.record(&Method::GET, &format!("{route} list"));
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// `response` with its lists emptied (see [`BreakMode::Empty`]); a body that is not JSON is
/// passed on as it was.
async fn emptied(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            let body = json!({ "error": format!("--break …=empty: cannot read the body: {e}") });
            return (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response();
        }
    };
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    empty_lists(&mut value);
    let text = value.to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(text))
}

fn empty_lists(value: &mut Value) {
    match value {
        Value::Array(items) => items.clear(),
        Value::Object(fields) => {
            for field in fields.values_mut() {
                if let Value::Array(items) = field {
                    items.clear();
                }
            }
            if let Some(Value::Object(p)) = fields.get_mut("pagination") {
                for (key, zero) in [("total", json!(0)), ("totalPages", json!(0))] {
                    if p.contains_key(key) {
                        p.insert(key.to_owned(), zero);
                    }
                }
                if p.contains_key("hasNext") {
                    p.insert("hasNext".to_owned(), json!(false));
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(s: &str) -> BreakRule {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn globs_match_any_run_of_characters() {
        assert!(glob("/api/orders/*", "/api/orders/o-1/status"));
        assert!(glob("/api/*/status", "/api/orders/o-1/status"));
        assert!(glob("/api/products", "/api/products"));
        assert!(!glob("/api/products", "/api/products/p-1"));
        assert!(!glob("/api/orders/*", "/api/orders"));
        assert!(glob("/api/orders*", "/api/orders"));
        assert!(glob("*", ""));
        assert!(!glob("/a*b*c", "/abx"));
        assert!(glob("/a*b*c", "/aXbYc"));
    }

    #[test]
    fn rules_match_method_path_route_and_query() {
        let r = rule("PATCH /api/orders/*=500");
        assert_eq!(r.mode(), BreakMode::Status(500));
        assert!(r.matches(&Method::PATCH, "/api/orders/o-1/status", "", None));
        assert!(!r.matches(&Method::GET, "/api/orders/o-1", "", None));

        let r = rule("get /api/orders/{id}=empty");
        let route = Some("/api/orders/{id}");
        assert!(r.matches(&Method::GET, "/api/orders/o-1", "", route));
        assert!(!r.matches(
            &Method::GET,
            "/api/orders/o-1/tracking",
            "",
            Some("/api/orders/{id}/tracking")
        ));

        let r = rule("GET /api/products?*=empty");
        assert!(r.matches(&Method::GET, "/api/products", "q=x", None));
        assert!(
            r.matches(&Method::GET, "/api/products", "", None),
            "'?*' allows no query"
        );
        let r = rule("GET /api/products?*sortBy=price*=empty");
        assert!(r.matches(&Method::GET, "/api/products", "limit=5&sortBy=price", None));
        assert!(!r.matches(&Method::GET, "/api/products", "limit=5", None));

        let r = rule("* /api/*=nostore");
        assert!(r.matches(&Method::DELETE, "/api/blog/b-1", "", None));
        assert_eq!(r.to_string(), "* /api/*=nostore");
    }

    #[test]
    fn bad_rules_say_what_is_wrong() {
        for (text, says) in [
            ("PATCH /api/orders", "no '=MODE'"),
            ("/api/orders=500", "no METHOD before the path"),
            ("FETCH! /api=500", "'FETCH!' is not an HTTP method"),
            ("GET api=500", "must start with '/'"),
            ("GET /api=600", "mode '600' is not a status code"),
            ("GET /api=gone", "mode 'gone'"),
        ] {
            let error = text.parse::<BreakRule>().unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
            assert!(error.contains(text), "{text}: names the rule: {error}");
        }
        let rules = parse_rules(["GET /a=500; POST /b=nostore", ""]).unwrap();
        assert_eq!(rules.len(), 2);
    }

    #[test]
    fn empty_clears_lists_and_the_pagination_counts() {
        let mut v = json!({"data": [1, 2], "items": [3], "name": "x",
            "pagination": {"total": 2, "totalPages": 1, "hasNext": true, "page": 1}});
        empty_lists(&mut v);
        assert_eq!(
            v,
            json!({"data": [], "items": [], "name": "x",
                "pagination": {"total": 0, "totalPages": 0, "hasNext": false, "page": 1}})
        );
        let mut v = json!([1, 2]);
        empty_lists(&mut v);
        assert_eq!(v, json!([]));
    }
}
