//! The `Host` check: a request whose `Host` is not allowed is refused (403, JSON naming the
//! host), so a page on another site that re-points its DNS name at this server (DNS
//! rebinding) cannot drive the API from a browser, token or not.
//!
//! Allowed: the loopback names `localhost`, `127.0.0.1` and `[::1]` (any port), the address
//! the server is bound to (any port; not when bound to every interface), and
//! `[api] allowed_hosts`: a name alone allows any port, `name:port` that port only, `*` any
//! host.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;

/// Which `Host` values the server answers.
#[derive(Debug, Clone)]
pub(super) struct HostPolicy {
    any: bool,
    /// Lowercase host (IPv6 in brackets) and, when given, the one allowed port.
    allowed: Vec<(String, Option<u16>)>,
}

impl HostPolicy {
    /// The loopback names, `bound` (unless unspecified) and `configured` (see the module
    /// documentation; entries are already validated by the configuration).
    pub fn new(configured: &[String], bound: Option<SocketAddr>) -> Self {
        let mut allowed: Vec<(String, Option<u16>)> = ["localhost", "127.0.0.1", "[::1]"]
            .iter()
            .map(|h| ((*h).to_owned(), None))
            .collect();
        if let Some(addr) = bound.filter(|a| !a.ip().is_unspecified()) {
            allowed.push((ip_host(addr.ip()), None));
        }
        let mut any = false;
        for entry in configured {
            if entry == "*" {
                any = true;
            } else if let Some((host, port)) = split(entry) {
                allowed.push((host, port));
            }
        }
        HostPolicy { any, allowed }
    }

    /// Whether a request with this `Host` value is answered.
    pub fn allows(&self, host: &str) -> bool {
        if self.any {
            return true;
        }
        let Some((name, port)) = split(host) else {
            return false;
        };
        self.allowed
            .iter()
            .any(|(h, p)| *h == name && (p.is_none() || *p == port))
    }
}

/// `name[:port]` lowercased, without a trailing dot; IPv6 stays in brackets. `None` when the
/// port is not a number or the name is empty.
fn split(host: &str) -> Option<(String, Option<u16>)> {
    let host = host.trim().to_ascii_lowercase();
    let (name, port) = if host.starts_with('[') {
        let end = host.find(']')?;
        let rest = &host[end + 1..];
        let port = match rest.strip_prefix(':') {
            Some(port) => Some(port),
            None if rest.is_empty() => None,
            None => return None,
        };
        (host[..=end].to_owned(), port)
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) => (name.to_owned(), Some(port)),
            None => (host.clone(), None),
        }
    };
    let name = name.trim_end_matches('.').to_owned();
    let port = match port {
        Some(port) => Some(port.parse::<u16>().ok()?),
        None => None,
    };
    (!name.is_empty()).then_some((name, port))
}

fn ip_host(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// Middleware refusing requests whose `Host` (or absolute-form authority) is not allowed.
pub(super) async fn check_host(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let host = match request.uri().authority() {
        Some(authority) => Some(authority.as_str().to_owned()),
        None => request
            .headers()
            .get(header::HOST)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
    };
    match host {
        Some(host) if state.hosts.allows(&host) => next.run(request).await,
        Some(host) => ApiError::HostNotAllowed(host).into_response(),
        None => ApiError::BadParameter("the request has no Host header".into()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_bound_and_configured_hosts() {
        let bound: SocketAddr = "10.1.2.3:4000".parse().unwrap();
        let policy = HostPolicy::new(
            &["ci.example.com".into(), "other.example:8443".into()],
            Some(bound),
        );
        for ok in [
            "localhost",
            "LOCALHOST:4000",
            "localhost.:1",
            "127.0.0.1:4000",
            "[::1]:4000",
            "[::1]",
            "10.1.2.3:4000",
            "10.1.2.3",
            "ci.example.com",
            "ci.example.com:443",
            "other.example:8443",
        ] {
            assert!(policy.allows(ok), "{ok}");
        }
        for refused in [
            "evil.example",
            "evil.example:4000",
            "localhost.evil.example",
            "127.0.0.2",
            "other.example:8444",
            "other.example",
            "localhost:99999",
            "localhost:abc",
            "[::1]x",
            "",
            ":4000",
        ] {
            assert!(!policy.allows(refused), "{refused}");
        }
        let everywhere = HostPolicy::new(&[], Some("0.0.0.0:4000".parse().unwrap()));
        assert!(!everywhere.allows("0.0.0.0:4000"));
        let v6 = HostPolicy::new(&[], Some("[fd00::5]:4000".parse().unwrap()));
        assert!(v6.allows("[FD00::5]:4000"));
        assert!(HostPolicy::new(&["*".into()], None).allows("anything.example:1"));
    }
}
