//! Suite configuration: `harness.toml`, `WORKFLOW_*` environment variables and command-line
//! flags, merged with the precedence CLI > environment > file > defaults.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use url::Url;

use crate::report::ReportFormat;

/// The name of the configuration file looked up next to the suite's `Cargo.toml`.
pub const FILE_NAME: &str = "harness.toml";

/// The merged configuration of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The deployment under test; `None` lets the suite start its embedded server.
    pub base_url: Option<Url>,
    /// Workflows running at once.
    pub concurrency: usize,
    /// Default per-workflow deadline.
    pub timeout: Duration,
    /// Deadline of one HTTP request.
    pub request_timeout: Duration,
    /// Where reports are written.
    pub report_dir: PathBuf,
    /// Which reports are written.
    pub report_formats: Vec<ReportFormat>,
    /// Default deadline of each step (`None`: only the workflow's deadline).
    pub step_timeout: Option<Duration>,
    /// Deadline of the whole run (`None`: none).
    pub run_timeout: Option<Duration>,
    /// Retries after a failed attempt.
    pub retries: u32,
    /// Wait before the first retry.
    pub retry_delay: Duration,
    /// Factor applied to the wait before each further retry (≥ 1; 1 keeps it constant).
    pub retry_backoff: f64,
    /// Count flaky workflows (failed, then passed on a retry) as failed.
    pub flaky_fails: bool,
    /// Stop starting workflows after this many failures (`fail_fast` is 1).
    pub max_fail: Option<usize>,
    /// Do not pull a selected workflow's dependencies into the run.
    pub no_deps: bool,
    /// Limits of concurrency groups (`[groups] name = N`).
    pub groups: BTreeMap<String, usize>,
    /// Options for the server the suite starts itself when `base_url` is unset.
    pub server: ServerOptions,
    /// Options of serve mode (`--serve`).
    pub api: ApiOptions,
    /// The file the settings were read from, if any.
    pub file: Option<PathBuf>,
}

/// Options of serve mode (`[api]` in harness.toml).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiOptions {
    /// When set, every request must carry `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// The most workflows one run request may name.
    pub max_workflows: usize,
}

impl Default for ApiOptions {
    fn default() -> Self {
        ApiOptions {
            token: None,
            max_workflows: 100,
        }
    }
}

/// Options of the embedded server (`[server]` in harness.toml): latency and fault injection
/// for benchmarks and retry tests. Ignored when `base_url` points elsewhere.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServerOptions {
    /// Delay added to every response, in milliseconds.
    pub latency_ms: u64,
    /// Random extra delay of up to this many milliseconds.
    pub jitter_ms: u64,
    /// Fraction (0–1) of requests answered 503.
    pub error_rate: f64,
    /// Seed of the server's data and random draws; `None` keeps the server's default.
    pub seed: Option<u64>,
}

impl Config {
    /// The defaults, with reports under `<root>/target/workflow-reports`.
    pub fn defaults(root: &Path) -> Self {
        Config {
            base_url: None,
            concurrency: 16,
            timeout: Duration::from_secs(300),
            request_timeout: Duration::from_secs(30),
            report_dir: root.join("target").join("workflow-reports"),
            report_formats: ReportFormat::ALL.to_vec(),
            step_timeout: None,
            run_timeout: None,
            retries: 0,
            retry_delay: Duration::from_secs(1),
            retry_backoff: 1.0,
            flaky_fails: false,
            max_fail: None,
            no_deps: false,
            groups: BTreeMap::new(),
            server: ServerOptions::default(),
            api: ApiOptions::default(),
            file: None,
        }
    }
}

/// A setting that could not be used; the message names where it came from.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid (syntax, unknown key, wrong type, bad value); the message holds
    /// the line, column and key.
    #[error("{}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// An environment variable holds a bad value.
    #[error("environment variable {var}={value:?}: {reason}")]
    Env {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// Why it is refused.
        reason: String,
    },
    /// A command-line flag holds a bad value.
    #[error("{flag} {value}: {reason}")]
    Cli {
        /// The flag.
        flag: &'static str,
        /// Its value.
        value: String,
        /// Why it is refused.
        reason: String,
    },
}

/// Settings given on the command line (`None`: not given).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--config`.
    pub config: Option<PathBuf>,
    /// `--base-url`.
    pub base_url: Option<String>,
    /// `--test-threads`.
    pub concurrency: Option<usize>,
    /// `--timeout`.
    pub timeout: Option<String>,
    /// `--report-dir`.
    pub report_dir: Option<PathBuf>,
    /// `--report-formats`.
    pub report_formats: Option<String>,
    /// `--step-timeout`.
    pub step_timeout: Option<String>,
    /// `--run-timeout`.
    pub run_timeout: Option<String>,
    /// `--retries`.
    pub retries: Option<u32>,
    /// `--flaky-fails`.
    pub flaky_fails: bool,
    /// `--max-fail` (`--fail-fast` is 1).
    pub max_fail: Option<usize>,
    /// `--no-deps`.
    pub no_deps: bool,
}

/// `harness.toml` as written. Unknown keys are errors, so a typo never goes unnoticed.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    base_url: Option<HttpUrl>,
    concurrency: Option<Positive>,
    timeout: Option<HumanDuration>,
    request_timeout: Option<HumanDuration>,
    step_timeout: Option<HumanDuration>,
    run_timeout: Option<HumanDuration>,
    retries: Option<u32>,
    retry_delay: Option<HumanDuration>,
    retry_backoff: Option<Backoff>,
    flaky_fails: Option<bool>,
    max_fail: Option<Positive>,
    fail_fast: Option<bool>,
    no_deps: Option<bool>,
    groups: Option<BTreeMap<String, Positive>>,
    reports: Option<ReportsSection>,
    server: Option<ServerSection>,
    api: Option<ApiSection>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiSection {
    token: Option<String>,
    max_workflows: Option<Positive>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerSection {
    latency_ms: Option<u64>,
    jitter_ms: Option<u64>,
    error_rate: Option<Fraction>,
    seed: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportsSection {
    dir: Option<PathBuf>,
    formats: Option<Vec<ReportFormat>>,
}

/// Loads the configuration: `overrides` from the command line, `env` to read variables
/// (`std::env::var` in production, a map in tests), `root` the suite's manifest directory
/// (where `harness.toml` is looked for and relative paths of the defaults start).
pub fn load(
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
    root: &Path,
) -> Result<Config, ConfigError> {
    let mut config = Config::defaults(root);
    let env = |var: &str| env(var).filter(|v| !v.trim().is_empty());

    let (path, required) = match (&overrides.config, env("WORKFLOW_CONFIG")) {
        (Some(path), _) => (path.clone(), true),
        (None, Some(path)) => (PathBuf::from(path), true),
        (None, None) => (root.join(FILE_NAME), false),
    };
    if required || path.exists() {
        apply_file(&mut config, &path)?;
    }

    if let Some(v) = env("WORKFLOW_BASE_URL") {
        config.base_url = Some(parse_url(&v).map_err(env_error("WORKFLOW_BASE_URL", &v))?);
    }
    if let Some(v) = env("WORKFLOW_CONCURRENCY") {
        config.concurrency = parse_positive(&v).map_err(env_error("WORKFLOW_CONCURRENCY", &v))?;
    }
    if let Some(v) = env("WORKFLOW_TIMEOUT") {
        config.timeout = parse_duration(&v).map_err(env_error("WORKFLOW_TIMEOUT", &v))?;
    }
    if let Some(v) = env("WORKFLOW_REQUEST_TIMEOUT") {
        config.request_timeout =
            parse_duration(&v).map_err(env_error("WORKFLOW_REQUEST_TIMEOUT", &v))?;
    }
    if let Some(v) = env("WORKFLOW_REPORT_DIR") {
        config.report_dir = PathBuf::from(v);
    }
    if let Some(v) = env("WORKFLOW_STEP_TIMEOUT") {
        config.step_timeout =
            Some(parse_duration(&v).map_err(env_error("WORKFLOW_STEP_TIMEOUT", &v))?);
    }
    if let Some(v) = env("WORKFLOW_RUN_TIMEOUT") {
        config.run_timeout =
            Some(parse_duration(&v).map_err(env_error("WORKFLOW_RUN_TIMEOUT", &v))?);
    }
    if let Some(v) = env("WORKFLOW_RETRIES") {
        config.retries = parse_u32(&v).map_err(env_error("WORKFLOW_RETRIES", &v))?;
    }
    if let Some(v) = env("WORKFLOW_RETRY_DELAY") {
        config.retry_delay = parse_delay(&v).map_err(env_error("WORKFLOW_RETRY_DELAY", &v))?;
    }
    if let Some(v) = env("WORKFLOW_RETRY_BACKOFF") {
        config.retry_backoff =
            parse_backoff(&v).map_err(env_error("WORKFLOW_RETRY_BACKOFF", &v))?;
    }
    if let Some(v) = env("WORKFLOW_FLAKY_FAILS") {
        config.flaky_fails = parse_bool(&v).map_err(env_error("WORKFLOW_FLAKY_FAILS", &v))?;
    }
    if let Some(v) = env("WORKFLOW_FAIL_FAST") {
        if parse_bool(&v).map_err(env_error("WORKFLOW_FAIL_FAST", &v))? {
            config.max_fail = Some(1);
        }
    }
    if let Some(v) = env("WORKFLOW_MAX_FAIL") {
        config.max_fail = Some(parse_positive(&v).map_err(env_error("WORKFLOW_MAX_FAIL", &v))?);
    }
    if let Some(v) = env("WORKFLOW_NO_DEPS") {
        config.no_deps = parse_bool(&v).map_err(env_error("WORKFLOW_NO_DEPS", &v))?;
    }
    if let Some(v) = env("WORKFLOW_GROUPS") {
        config.groups = parse_groups(&v).map_err(env_error("WORKFLOW_GROUPS", &v))?;
    }
    if let Some(v) = env("WORKFLOW_API_TOKEN") {
        config.api.token = Some(v);
    }
    if let Some(v) = env("WORKFLOW_API_MAX_WORKFLOWS") {
        config.api.max_workflows =
            parse_positive(&v).map_err(env_error("WORKFLOW_API_MAX_WORKFLOWS", &v))?;
    }
    if let Some(v) = env("WORKFLOW_SERVER_LATENCY_MS") {
        config.server.latency_ms =
            parse_u64(&v).map_err(env_error("WORKFLOW_SERVER_LATENCY_MS", &v))?;
    }
    if let Some(v) = env("WORKFLOW_SERVER_JITTER_MS") {
        config.server.jitter_ms =
            parse_u64(&v).map_err(env_error("WORKFLOW_SERVER_JITTER_MS", &v))?;
    }
    if let Some(v) = env("WORKFLOW_SERVER_ERROR_RATE") {
        config.server.error_rate =
            parse_fraction(&v).map_err(env_error("WORKFLOW_SERVER_ERROR_RATE", &v))?;
    }
    if let Some(v) = env("WORKFLOW_SERVER_SEED") {
        config.server.seed = Some(parse_u64(&v).map_err(env_error("WORKFLOW_SERVER_SEED", &v))?);
    }
    if let Some(v) = env("WORKFLOW_REPORT_FORMATS") {
        config.report_formats =
            parse_formats(&v).map_err(env_error("WORKFLOW_REPORT_FORMATS", &v))?;
    }

    if let Some(v) = &overrides.base_url {
        config.base_url = Some(parse_url(v).map_err(cli_error("--base-url", v))?);
    }
    if let Some(n) = overrides.concurrency {
        if n == 0 {
            return Err(ConfigError::Cli {
                flag: "--test-threads",
                value: "0".into(),
                reason: "must be at least 1".into(),
            });
        }
        config.concurrency = n;
    }
    if let Some(v) = &overrides.timeout {
        config.timeout = parse_duration(v).map_err(cli_error("--timeout", v))?;
    }
    if let Some(dir) = &overrides.report_dir {
        config.report_dir = dir.clone();
    }
    if let Some(v) = &overrides.report_formats {
        config.report_formats = parse_formats(v).map_err(cli_error("--report-formats", v))?;
    }
    if let Some(v) = &overrides.step_timeout {
        config.step_timeout = Some(parse_duration(v).map_err(cli_error("--step-timeout", v))?);
    }
    if let Some(v) = &overrides.run_timeout {
        config.run_timeout = Some(parse_duration(v).map_err(cli_error("--run-timeout", v))?);
    }
    if let Some(n) = overrides.retries {
        config.retries = n;
    }
    if overrides.flaky_fails {
        config.flaky_fails = true;
    }
    if let Some(n) = overrides.max_fail {
        if n == 0 {
            return Err(ConfigError::Cli {
                flag: "--max-fail",
                value: "0".into(),
                reason: "must be at least 1".into(),
            });
        }
        config.max_fail = Some(n);
    }
    if overrides.no_deps {
        config.no_deps = true;
    }
    Ok(config)
}

fn apply_file(config: &mut Config, path: &Path) -> Result<(), ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let file: FileConfig = toml::from_str(&text).map_err(|e| ConfigError::File {
        path: path.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })?;
    if let Some(HttpUrl(url)) = file.base_url {
        config.base_url = Some(url);
    }
    if let Some(Positive(n)) = file.concurrency {
        config.concurrency = n;
    }
    if let Some(HumanDuration(d)) = file.timeout {
        config.timeout = d;
    }
    if let Some(HumanDuration(d)) = file.request_timeout {
        config.request_timeout = d;
    }
    if let Some(HumanDuration(d)) = file.step_timeout {
        config.step_timeout = Some(d);
    }
    if let Some(HumanDuration(d)) = file.run_timeout {
        config.run_timeout = Some(d);
    }
    if let Some(n) = file.retries {
        config.retries = n;
    }
    if let Some(HumanDuration(d)) = file.retry_delay {
        config.retry_delay = d;
    }
    if let Some(Backoff(b)) = file.retry_backoff {
        config.retry_backoff = b;
    }
    if let Some(b) = file.flaky_fails {
        config.flaky_fails = b;
    }
    if file.fail_fast == Some(true) {
        config.max_fail = Some(1);
    }
    if let Some(Positive(n)) = file.max_fail {
        config.max_fail = Some(n);
    }
    if let Some(b) = file.no_deps {
        config.no_deps = b;
    }
    if let Some(groups) = file.groups {
        config.groups = groups.into_iter().map(|(k, Positive(n))| (k, n)).collect();
    }
    if let Some(reports) = file.reports {
        if let Some(dir) = reports.dir {
            // Relative to the file, so the suite writes to the same place from any directory.
            config.report_dir = path.parent().unwrap_or(Path::new(".")).join(dir);
        }
        if let Some(formats) = reports.formats {
            config.report_formats = formats;
        }
    }
    if let Some(api) = file.api {
        config.api.token = api.token.or(config.api.token.take());
        if let Some(Positive(n)) = api.max_workflows {
            config.api.max_workflows = n;
        }
    }
    if let Some(server) = file.server {
        let options = &mut config.server;
        options.latency_ms = server.latency_ms.unwrap_or(options.latency_ms);
        options.jitter_ms = server.jitter_ms.unwrap_or(options.jitter_ms);
        options.error_rate = server.error_rate.map_or(options.error_rate, |f| f.0);
        options.seed = server.seed.or(options.seed);
    }
    config.file = Some(path.to_owned());
    Ok(())
}

fn env_error<'a>(var: &'static str, value: &'a str) -> impl FnOnce(String) -> ConfigError + 'a {
    move |reason| ConfigError::Env {
        var,
        value: value.to_owned(),
        reason,
    }
}

fn cli_error<'a>(flag: &'static str, value: &'a str) -> impl FnOnce(String) -> ConfigError + 'a {
    move |reason| ConfigError::Cli {
        flag,
        value: value.to_owned(),
        reason,
    }
}

/// An absolute `http`/`https` URL.
pub fn parse_url(s: &str) -> Result<Url, String> {
    let url = Url::parse(s.trim())
        .map_err(|e| format!("not a URL ({e}): expected e.g. http://127.0.0.1:3000"))?;
    match url.scheme() {
        "http" | "https" if url.has_host() => Ok(url),
        "http" | "https" => Err("the URL has no host".into()),
        other => Err(format!(
            "unsupported scheme {other:?}: expected http or https"
        )),
    }
}

/// A positive integer.
pub fn parse_positive(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err("expected a positive integer".into()),
    }
}

/// A positive duration such as `30s`, `1500ms` or `2m`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    match humantime::parse_duration(s.trim()) {
        Ok(d) if d.is_zero() => Err("must be longer than zero".into()),
        Ok(d) => Ok(d),
        Err(e) => Err(format!(
            "{e}: expected a duration such as \"30s\", \"1500ms\" or \"2m\""
        )),
    }
}

/// A non-negative integer that fits 32 bits.
pub fn parse_u32(s: &str) -> Result<u32, String> {
    s.trim()
        .parse()
        .map_err(|_| "expected a non-negative integer".into())
}

/// A duration that may be zero (`0s` retries at once).
pub fn parse_delay(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("{e}: expected a duration such as \"500ms\" or \"2s\""))
}

/// A retry backoff factor, at least 1.
pub fn parse_backoff(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(f) if f >= 1.0 && f.is_finite() => Ok(f),
        _ => Err("expected a number of at least 1 (1 keeps the delay constant)".into()),
    }
}

/// `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`.
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err("expected true or false (or 1 or 0)".into()),
    }
}

/// Group limits as `name=N,other=M`.
pub fn parse_groups(s: &str) -> Result<BTreeMap<String, usize>, String> {
    s.split(',')
        .filter(|g| !g.trim().is_empty())
        .map(|g| {
            let (name, n) = g
                .split_once('=')
                .ok_or_else(|| format!("{g:?} is not `name=N`"))?;
            let n = parse_positive(n).map_err(|e| format!("group {}: {e}", name.trim()))?;
            Ok((name.trim().to_owned(), n))
        })
        .collect()
}

/// A non-negative integer.
pub fn parse_u64(s: &str) -> Result<u64, String> {
    s.trim()
        .parse()
        .map_err(|_| "expected a non-negative integer".into())
}

/// A number from 0 to 1.
pub fn parse_fraction(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err("expected a number from 0 to 1".into()),
    }
}

/// A comma-separated list of report formats.
pub fn parse_formats(s: &str) -> Result<Vec<ReportFormat>, String> {
    s.split(',')
        .filter(|f| !f.trim().is_empty())
        .map(str::parse)
        .collect()
}

/// Values whose `Deserialize` validates, so the TOML error carries the line of the bad value.
#[derive(Debug)]
struct HttpUrl(Url);
#[derive(Debug)]
struct Positive(usize);
#[derive(Debug)]
struct HumanDuration(Duration);
#[derive(Debug)]
struct Fraction(f64);
#[derive(Debug)]
struct Backoff(f64);

impl<'de> Deserialize<'de> for Backoff {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let f = f64::deserialize(d)?;
        parse_backoff(&f.to_string())
            .map(Backoff)
            .map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let f = f64::deserialize(d)?;
        if (0.0..=1.0).contains(&f) {
            Ok(Fraction(f))
        } else {
            Err(serde::de::Error::custom(format!(
                "{f} is not allowed: expected a number from 0 to 1"
            )))
        }
    }
}

impl<'de> Deserialize<'de> for HttpUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_url(&s).map(HttpUrl).map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for Positive {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = i64::deserialize(d)?;
        match usize::try_from(n) {
            Ok(n) if n > 0 => Ok(Positive(n)),
            _ => Err(serde::de::Error::custom(format!(
                "{n} is not allowed: must be at least 1"
            ))),
        }
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_duration(&s)
            .map(HumanDuration)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn load_with(
        file: Option<&str>,
        env: &[(&str, &str)],
        overrides: Overrides,
    ) -> (Result<Config, ConfigError>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        if let Some(text) = file {
            std::fs::write(dir.path().join(FILE_NAME), text).unwrap();
        }
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let result = load(&overrides, &|k| env.get(k).cloned(), dir.path());
        (result, dir)
    }

    #[test]
    fn defaults_without_file() {
        let (config, dir) = load_with(None, &[], Overrides::default());
        let config = config.unwrap();
        assert_eq!(config, Config::defaults(dir.path()));
    }

    #[test]
    fn precedence_is_cli_then_env_then_file() {
        let file = "base_url = \"http://file:1\"\nconcurrency = 3\ntimeout = \"10s\"\n[reports]\ndir = \"out\"\nformats = [\"json\"]\n";
        let (config, dir) = load_with(Some(file), &[], Overrides::default());
        let config = config.unwrap();
        assert_eq!(config.base_url.unwrap().as_str(), "http://file:1/");
        assert_eq!(config.concurrency, 3);
        assert_eq!(config.timeout, Duration::from_secs(10));
        assert_eq!(config.report_dir, dir.path().join("out"));
        assert_eq!(config.report_formats, vec![ReportFormat::Json]);

        let env = [
            ("WORKFLOW_BASE_URL", "http://env:2"),
            ("WORKFLOW_CONCURRENCY", "5"),
        ];
        let (config, _) = load_with(Some(file), &env, Overrides::default());
        let config = config.unwrap();
        assert_eq!(config.base_url.unwrap().as_str(), "http://env:2/");
        assert_eq!(config.concurrency, 5);

        let server = "[server]\nlatency_ms = 5\nerror_rate = 0.25\n";
        let (config, _) = load_with(
            Some(server),
            &[("WORKFLOW_SERVER_LATENCY_MS", "7")],
            Overrides::default(),
        );
        let config = config.unwrap();
        assert_eq!(config.server.latency_ms, 7);
        assert_eq!(config.server.error_rate, 0.25);

        let cli = Overrides {
            base_url: Some("https://cli:3".into()),
            concurrency: Some(1),
            ..Overrides::default()
        };
        let (config, _) = load_with(Some(file), &env, cli);
        let config = config.unwrap();
        assert_eq!(config.base_url.unwrap().as_str(), "https://cli:3/");
        assert_eq!(config.concurrency, 1);
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let (err, _) = load_with(
            Some("concurrency = 2\nconcurency = 3\n"),
            &[],
            Overrides::default(),
        );
        let msg = err.unwrap_err().to_string();
        assert!(msg.contains("harness.toml"), "{msg}");
        assert!(msg.contains("line 2"), "{msg}");
        assert!(msg.contains("unknown field `concurency`"), "{msg}");
    }

    #[test]
    fn wrong_type_names_line_and_key() {
        let (err, _) = load_with(
            Some("\n\nconcurrency = \"many\"\n"),
            &[],
            Overrides::default(),
        );
        let msg = err.unwrap_err().to_string();
        assert!(msg.contains("line 3"), "{msg}");
        assert!(msg.contains("concurrency"), "{msg}");
    }

    #[test]
    fn bad_values_are_refused_with_their_line() {
        for (text, line, needle) in [
            ("base_url = \"localhost:3000\"", 1, "unsupported scheme"),
            ("x = 1", 1, "unknown field"),
            ("\ntimeout = \"soon\"", 2, "expected a duration"),
            ("concurrency = 0", 1, "at least 1"),
            ("[reports]\nformats = [\"xml\"]", 2, "unknown variant `xml`"),
            ("[server]\nerror_rate = 1.5", 2, "from 0 to 1"),
            ("retry_backoff = 0.5", 1, "at least 1"),
            ("[groups]\ncheckout = 0", 2, "at least 1"),
            ("max_fail = 0", 1, "at least 1"),
            ("[server]\nlatency_ms = -1", 2, "latency_ms"),
        ] {
            let text = text.replace("x = 1", "bogus = 1");
            let (err, _) = load_with(Some(&text), &[], Overrides::default());
            let msg = err.unwrap_err().to_string();
            assert!(msg.contains(&format!("line {line}")), "{text}: {msg}");
            assert!(msg.contains(needle), "{text}: {msg}");
        }
    }

    #[test]
    fn env_and_cli_errors_name_their_source() {
        let (err, _) = load_with(None, &[("WORKFLOW_TIMEOUT", "abc")], Overrides::default());
        let msg = err.unwrap_err().to_string();
        assert!(
            msg.starts_with("environment variable WORKFLOW_TIMEOUT=\"abc\""),
            "{msg}"
        );

        let cli = Overrides {
            concurrency: Some(0),
            ..Overrides::default()
        };
        let (err, _) = load_with(None, &[], cli);
        assert_eq!(
            err.unwrap_err().to_string(),
            "--test-threads 0: must be at least 1"
        );

        let cli = Overrides {
            base_url: Some("not a url".into()),
            ..Overrides::default()
        };
        let (err, _) = load_with(None, &[], cli);
        assert!(
            err.unwrap_err()
                .to_string()
                .starts_with("--base-url not a url: not a URL")
        );
    }

    #[test]
    fn scheduling_keys_from_file_env_and_cli() {
        let file = "retries = 2\nretry_delay = \"10ms\"\nretry_backoff = 2.0\nfail_fast = true\nstep_timeout = \"5s\"\n[groups]\ncheckout = 2\n";
        let (config, _) = load_with(Some(file), &[], Overrides::default());
        let config = config.unwrap();
        assert_eq!(config.retries, 2);
        assert_eq!(config.retry_delay, Duration::from_millis(10));
        assert_eq!(config.retry_backoff, 2.0);
        assert_eq!(config.max_fail, Some(1));
        assert_eq!(config.step_timeout, Some(Duration::from_secs(5)));
        assert_eq!(config.groups.get("checkout"), Some(&2));

        let env = [
            ("WORKFLOW_RETRIES", "3"),
            ("WORKFLOW_NO_DEPS", "1"),
            ("WORKFLOW_GROUPS", "a=1, b=4"),
        ];
        let (config, _) = load_with(Some(file), &env, Overrides::default());
        let config = config.unwrap();
        assert_eq!(config.retries, 3);
        assert!(config.no_deps);
        assert_eq!(
            config.groups,
            BTreeMap::from([("a".to_owned(), 1), ("b".to_owned(), 4)])
        );

        let cli = Overrides {
            retries: Some(0),
            max_fail: Some(3),
            flaky_fails: true,
            ..Overrides::default()
        };
        let (config, _) = load_with(Some(file), &env, cli);
        let config = config.unwrap();
        assert_eq!(
            (config.retries, config.max_fail, config.flaky_fails),
            (0, Some(3), true)
        );

        let (err, _) = load_with(None, &[("WORKFLOW_NO_DEPS", "maybe")], Overrides::default());
        assert!(
            err.unwrap_err()
                .to_string()
                .contains("WORKFLOW_NO_DEPS=\"maybe\": expected true or false")
        );
        let (err, _) = load_with(None, &[("WORKFLOW_GROUPS", "a")], Overrides::default());
        assert!(err.unwrap_err().to_string().contains("is not `name=N`"));
    }

    #[test]
    fn explicit_missing_file_is_an_error() {
        let (err, _) = load_with(
            None,
            &[("WORKFLOW_CONFIG", "/nonexistent/h.toml")],
            Overrides::default(),
        );
        assert!(
            err.unwrap_err()
                .to_string()
                .starts_with("cannot read /nonexistent/h.toml")
        );
    }
}
