//! Request transcripts: each HTTP exchange of a step (method, URL, status, timing, headers,
//! bodies), truncated and redacted as they are recorded, so a secret never reaches a report.
//!
//! Redaction works on names and on values: the headers and JSON fields named in the policy are
//! replaced, and every value they held (a bearer token, a password, a session cookie) is
//! remembered by the session and replaced wherever else it shows up — in a URL, in another
//! body, in a step's error message.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What stands in for a redacted value.
pub const REDACTED: &str = "<redacted>";

/// Which transcripts a run keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Transcripts {
    /// Every step of a workflow that did not pass (the failing step and the steps before it).
    #[default]
    Failures,
    /// Every step of every workflow.
    All,
    /// None: nothing is recorded.
    Off,
}

impl std::str::FromStr for Transcripts {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "failures" => Ok(Transcripts::Failures),
            "all" => Ok(Transcripts::All),
            "off" => Ok(Transcripts::Off),
            _ => Err("expected failures, all or off".into()),
        }
    }
}

/// How transcripts are recorded: which to keep, how much of a body, what to hide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptPolicy {
    /// Which transcripts are kept.
    pub keep: Transcripts,
    /// Bodies are cut after this many bytes.
    pub body_limit: usize,
    /// Header names whose values are redacted (besides `Authorization`, `Cookie`,
    /// `Set-Cookie` and `Proxy-Authorization`, always), case-insensitive.
    pub redact_headers: Vec<String>,
    /// JSON field (and form field) names whose values are redacted, case-insensitive.
    pub redact_fields: Vec<String>,
}

/// Headers redacted whatever the policy says.
const ALWAYS_REDACTED: [&str; 4] = [
    "authorization",
    "cookie",
    "set-cookie",
    "proxy-authorization",
];

/// Field names redacted unless a run sets its own list.
pub const DEFAULT_REDACT_FIELDS: [&str; 8] = [
    "password",
    "token",
    "accessToken",
    "access_token",
    "refreshToken",
    "refresh_token",
    "secret",
    "apiKey",
];

impl Default for TranscriptPolicy {
    fn default() -> Self {
        TranscriptPolicy {
            keep: Transcripts::default(),
            body_limit: 8 * 1024,
            redact_headers: Vec::new(),
            redact_fields: DEFAULT_REDACT_FIELDS
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

/// One request and its answer (one hop of a redirect chain).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Exchange {
    /// The method.
    pub method: String,
    /// The URL.
    pub url: String,
    /// The status, absent when no answer came.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<u16>,
    /// From sending to the last byte of the answer, in milliseconds.
    #[serde(with = "crate::outcome::millis")]
    pub duration: Duration,
    /// The request's headers, in order, redacted.
    #[serde(default)]
    pub request_headers: Vec<(String, String)>,
    /// The request's body, truncated and redacted.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub request_body: Option<String>,
    /// The answer's headers, redacted.
    #[serde(default)]
    pub response_headers: Vec<(String, String)>,
    /// The answer's body, truncated and redacted.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub response_body: Option<String>,
    /// Why no answer came.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
}

impl Exchange {
    /// `POST http://… → 500 (12 ms)`, for one-line summaries.
    pub fn summary(&self) -> String {
        let status = self
            .status
            .map_or_else(|| "no answer".to_owned(), |s| s.to_string());
        format!(
            "{} {} → {status} ({} ms)",
            self.method,
            self.url,
            self.duration.as_millis()
        )
    }

    /// The exchange as text, as an HTTP client would show it: the request line and headers,
    /// its body, then the status, headers and body of the answer.
    pub fn to_text(&self) -> String {
        let mut out = format!("> {} {}\n", self.method, self.url);
        for (name, value) in &self.request_headers {
            out.push_str(&format!("> {name}: {value}\n"));
        }
        if let Some(body) = &self.request_body {
            out.push_str(body);
            out.push('\n');
        }
        match (self.status, &self.error) {
            (Some(status), _) => {
                out.push_str(&format!("< {status} ({} ms)\n", self.duration.as_millis()))
            }
            (None, Some(error)) => out.push_str(&format!("< no answer: {error}\n")),
            (None, None) => out.push_str("< no answer\n"),
        }
        for (name, value) in &self.response_headers {
            out.push_str(&format!("< {name}: {value}\n"));
        }
        if let Some(body) = &self.response_body {
            out.push_str(body);
            out.push('\n');
        }
        out
    }
}

impl TranscriptPolicy {
    fn header_redacted(&self, name: &str) -> bool {
        ALWAYS_REDACTED.contains(&name)
            || self
                .redact_headers
                .iter()
                .any(|h| h.eq_ignore_ascii_case(name))
    }

    fn field_redacted(&self, name: &str) -> bool {
        self.redact_fields
            .iter()
            .any(|f| f.eq_ignore_ascii_case(name))
    }

    /// The headers as pairs, redacted; the values hidden join `secrets`.
    pub(crate) fn headers(
        &self,
        headers: &HeaderMap,
        secrets: &mut BTreeSet<String>,
    ) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(name, value)| {
                let text = String::from_utf8_lossy(value.as_bytes()).into_owned();
                if self.header_redacted(name.as_str()) {
                    remember_header_secret(name.as_str(), &text, secrets);
                    (name.to_string(), REDACTED.to_owned())
                } else {
                    (name.to_string(), text)
                }
            })
            .collect()
    }

    /// A body as text for the transcript: JSON with redacted fields hidden, a form likewise,
    /// anything else as text, a binary body described; cut at the limit. The values hidden
    /// join `secrets`.
    pub(crate) fn body(
        &self,
        bytes: &[u8],
        content_type: Option<&str>,
        secrets: &mut BTreeSet<String>,
    ) -> Option<String> {
        if bytes.is_empty() {
            return None;
        }
        let form = content_type.is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
        let text = if let Ok(mut json) = serde_json::from_slice::<Value>(bytes) {
            self.redact_json(&mut json, secrets);
            json.to_string()
        } else if form {
            let pairs: Vec<(String, String)> = url::form_urlencoded::parse(bytes)
                .map(|(k, v)| {
                    if self.field_redacted(&k) {
                        secrets.insert(v.to_string());
                        (k.into_owned(), REDACTED.to_owned())
                    } else {
                        (k.into_owned(), v.into_owned())
                    }
                })
                .collect();
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish()
        } else {
            match std::str::from_utf8(bytes) {
                Ok(text) => text.to_owned(),
                Err(_) => {
                    let kind = content_type.map(|t| format!(", {t}")).unwrap_or_default();
                    return Some(format!("<{} bytes, not text{kind}>", bytes.len()));
                }
            }
        };
        Some(cut(text, self.body_limit))
    }

    fn redact_json(&self, value: &mut Value, secrets: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (key, field) in map.iter_mut() {
                    if self.field_redacted(key) && !field.is_null() {
                        let secret = match &*field {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        secrets.insert(secret);
                        *field = Value::String(REDACTED.to_owned());
                    } else {
                        self.redact_json(field, secrets);
                    }
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.redact_json(item, secrets);
                }
            }
            _ => {}
        }
    }
}

/// The parts of a hidden header worth hiding elsewhere: a token without its scheme, each
/// cookie's value.
fn remember_header_secret(name: &str, value: &str, secrets: &mut BTreeSet<String>) {
    match name {
        "cookie" => {
            for pair in value.split(';') {
                if let Some((_, v)) = pair.split_once('=') {
                    secrets.insert(v.trim().to_owned());
                }
            }
        }
        "set-cookie" => {
            let first = value.split(';').next().unwrap_or("");
            if let Some((_, v)) = first.split_once('=') {
                secrets.insert(v.trim().to_owned());
            }
        }
        _ => {
            secrets.insert(value.to_owned());
            if let Some((_, credentials)) = value.split_once(' ') {
                secrets.insert(credentials.trim().to_owned());
            }
        }
    }
}

/// Secrets shorter than this are left alone: replacing `1`, `ok` or `test` everywhere would
/// make every transcript and error unreadable and protect nothing.
const MIN_SECRET: usize = 6;

/// `text` with every secret (of [`MIN_SECRET`] characters or more) replaced by [`REDACTED`].
pub(crate) fn scrub(text: &str, secrets: &BTreeSet<String>) -> String {
    let mut out = text.to_owned();
    // Longest first, so a token is not half-replaced by a secret that is its prefix.
    let mut ordered: Vec<&String> = secrets.iter().filter(|s| s.len() >= MIN_SECRET).collect();
    ordered.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for secret in ordered {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), REDACTED);
        }
    }
    out
}

/// Scrubs every text of `exchange`.
pub(crate) fn scrub_exchange(exchange: &mut Exchange, secrets: &BTreeSet<String>) {
    exchange.url = scrub(&exchange.url, secrets);
    for (_, value) in exchange
        .request_headers
        .iter_mut()
        .chain(exchange.response_headers.iter_mut())
    {
        if value != REDACTED {
            *value = scrub(value, secrets);
        }
    }
    for body in [&mut exchange.request_body, &mut exchange.response_body]
        .into_iter()
        .flatten()
    {
        *body = scrub(body, secrets);
    }
    if let Some(error) = &mut exchange.error {
        *error = scrub(error, secrets);
    }
}

/// The first `limit` bytes of `text` (on a character boundary), marked when cut.
fn cut(text: String, limit: usize) -> String {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &text[..end], text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_fields_and_their_values_are_hidden_everywhere() {
        let policy = TranscriptPolicy::default();
        let mut secrets = BTreeSet::new();
        let body = policy
            .body(
                br#"{"user":{"name":"ada","password":"hunter22"},"token":"tok-123456"}"#,
                Some("application/json"),
                &mut secrets,
            )
            .unwrap();
        assert!(
            !body.contains("hunter22") && !body.contains("tok-123456"),
            "{body}"
        );
        assert!(body.contains("\"name\":\"ada\""), "{body}");
        let echoed = scrub("GET /x?t=tok-123456 said hunter22", &secrets);
        assert_eq!(echoed, "GET /x?t=<redacted> said <redacted>");
    }

    #[test]
    fn headers_are_hidden_by_name_and_bearer_tokens_without_their_scheme() {
        let policy = TranscriptPolicy {
            redact_headers: vec!["X-Api-Key".into()],
            ..TranscriptPolicy::default()
        };
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "Bearer abcdef".parse().unwrap());
        headers.insert("x-api-key", "key-9999".parse().unwrap());
        headers.insert("accept", "*/*".parse().unwrap());
        let mut secrets = BTreeSet::new();
        let shown = policy.headers(&headers, &mut secrets);
        assert!(shown.contains(&("authorization".into(), REDACTED.into())));
        assert!(shown.contains(&("x-api-key".into(), REDACTED.into())));
        assert!(shown.contains(&("accept".into(), "*/*".into())));
        assert_eq!(
            scrub("token abcdef and key-9999", &secrets),
            "token <redacted> and <redacted>"
        );
    }

    #[test]
    fn forms_are_redacted_and_long_bodies_cut_on_a_char_boundary() {
        let policy = TranscriptPolicy {
            body_limit: 5,
            ..TranscriptPolicy::default()
        };
        let mut secrets = BTreeSet::new();
        let form = policy
            .body(
                b"user=ada&password=p%40ss-word",
                Some("application/x-www-form-urlencoded"),
                &mut secrets,
            )
            .unwrap();
        assert!(form.starts_with("user="), "{form}");
        assert!(secrets.contains("p@ss-word"));
        let long = policy
            .body("ééééé".as_bytes(), Some("text/plain"), &mut secrets)
            .unwrap();
        assert_eq!(long, "éé… (10 bytes in all)");
        let binary = policy
            .body(&[0xff, 0xfe], Some("image/png"), &mut secrets)
            .unwrap();
        assert_eq!(binary, "<2 bytes, not text, image/png>");
    }
}
