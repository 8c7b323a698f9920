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
    /// After SIGINT/SIGTERM, how long running workflows may still take before they are cut.
    pub interrupt_grace: Duration,
    /// What a run whose filters select no workflow does.
    pub no_tests: NoTests,
    /// Limits of concurrency groups (`[groups] name = N`).
    pub groups: BTreeMap<String, usize>,
    /// Options for the server the suite starts itself when `base_url` is unset.
    pub server: ServerOptions,
    /// Options of serve mode (`--serve`).
    pub api: ApiOptions,
    /// The file the settings were read from, if any.
    pub file: Option<PathBuf>,
}

/// What a run whose filters select no workflow does (nextest's `--no-tests`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoTests {
    /// Exit 0 without a word.
    Pass,
    /// Warn on stderr, naming the filters, and exit 0.
    #[default]
    Warn,
    /// Print an error naming the filters and exit with
    /// [`NO_WORKFLOWS`](crate::harness::NO_WORKFLOWS).
    Fail,
}

/// `pass`, `warn` or `fail`.
pub fn parse_no_tests(s: &str) -> Result<NoTests, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "pass" => Ok(NoTests::Pass),
        "warn" => Ok(NoTests::Warn),
        "fail" => Ok(NoTests::Fail),
        _ => Err("expected pass, warn or fail".into()),
    }
}

/// Options of serve mode (`[api]` in harness.toml).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiOptions {
    /// When set, every request must carry `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// The most workflows one run request may name.
    pub max_workflows: usize,
    /// The most workflows running at once across every run of the server.
    pub max_running: usize,
    /// The most runs waiting for workflow slots; a run request beyond is answered 429.
    pub max_queued: usize,
    /// Host names (with or without a port) the server answers besides the loopback names and
    /// its own address; `"*"` allows any.
    pub allowed_hosts: Vec<String>,
    /// How long a connection may take to send a request's head (also the idle keep-alive
    /// timeout between requests).
    pub header_read_timeout: Duration,
    /// The most connections served at once; further ones wait in the listen backlog.
    pub max_connections: usize,
    /// On shutdown, how long running runs may go on before they are cut short.
    pub shutdown_grace: Duration,
}

impl Default for ApiOptions {
    fn default() -> Self {
        ApiOptions {
            token: None,
            max_workflows: 100,
            max_running: 64,
            max_queued: 16,
            allowed_hosts: Vec::new(),
            header_read_timeout: Duration::from_secs(10),
            max_connections: 512,
            shutdown_grace: Duration::from_secs(10),
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
            interrupt_grace: Duration::from_secs(3),
            no_tests: NoTests::Warn,
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
    #[error("cannot read {}", path.display())]
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
    /// `--no-tests`.
    pub no_tests: Option<NoTests>,
}

/// `harness.toml` as written. Unknown keys are errors, so a typo never goes unnoticed; values
/// are validated while parsing, so an error carries the line of the bad value.
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
    retry_delay: Option<Delay>,
    retry_backoff: Option<Backoff>,
    flaky_fails: Option<bool>,
    max_fail: Option<Positive>,
    fail_fast: Option<bool>,
    no_deps: Option<bool>,
    interrupt_grace: Option<Delay>,
    no_tests: Option<NoTests>,
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
    max_running: Option<Positive>,
    max_queued: Option<usize>,
    allowed_hosts: Option<Vec<HostName>>,
    header_read_timeout: Option<HumanDuration>,
    max_connections: Option<Positive>,
    shutdown_grace: Option<Delay>,
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

/// The settings one source gives (`None`: not set there). Each source becomes a layer, and the
/// layers are applied in order of precedence, so every setting is merged in one place.
#[derive(Debug, Default)]
struct Layer {
    base_url: Option<Url>,
    concurrency: Option<usize>,
    timeout: Option<Duration>,
    request_timeout: Option<Duration>,
    step_timeout: Option<Duration>,
    run_timeout: Option<Duration>,
    retries: Option<u32>,
    retry_delay: Option<Duration>,
    retry_backoff: Option<f64>,
    flaky_fails: Option<bool>,
    max_fail: Option<usize>,
    no_deps: Option<bool>,
    interrupt_grace: Option<Duration>,
    no_tests: Option<NoTests>,
    groups: Option<BTreeMap<String, usize>>,
    report_dir: Option<PathBuf>,
    report_formats: Option<Vec<ReportFormat>>,
    latency_ms: Option<u64>,
    jitter_ms: Option<u64>,
    error_rate: Option<f64>,
    seed: Option<u64>,
    api_token: Option<String>,
    api_max_workflows: Option<usize>,
    api_max_running: Option<usize>,
    api_max_queued: Option<usize>,
    api_allowed_hosts: Option<Vec<String>>,
    api_header_read_timeout: Option<Duration>,
    api_max_connections: Option<usize>,
    api_shutdown_grace: Option<Duration>,
}

impl Config {
    fn apply(&mut self, layer: Layer) {
        fn set<T>(target: &mut T, value: Option<T>) {
            if let Some(value) = value {
                *target = value;
            }
        }
        set(&mut self.base_url, layer.base_url.map(Some));
        set(&mut self.concurrency, layer.concurrency);
        set(&mut self.timeout, layer.timeout);
        set(&mut self.request_timeout, layer.request_timeout);
        set(&mut self.step_timeout, layer.step_timeout.map(Some));
        set(&mut self.run_timeout, layer.run_timeout.map(Some));
        set(&mut self.retries, layer.retries);
        set(&mut self.retry_delay, layer.retry_delay);
        set(&mut self.retry_backoff, layer.retry_backoff);
        set(&mut self.flaky_fails, layer.flaky_fails);
        set(&mut self.max_fail, layer.max_fail.map(Some));
        set(&mut self.no_deps, layer.no_deps);
        set(&mut self.interrupt_grace, layer.interrupt_grace);
        set(&mut self.no_tests, layer.no_tests);
        set(&mut self.groups, layer.groups);
        set(&mut self.report_dir, layer.report_dir);
        set(&mut self.report_formats, layer.report_formats);
        set(&mut self.server.latency_ms, layer.latency_ms);
        set(&mut self.server.jitter_ms, layer.jitter_ms);
        set(&mut self.server.error_rate, layer.error_rate);
        set(&mut self.server.seed, layer.seed.map(Some));
        set(&mut self.api.token, layer.api_token.map(Some));
        set(&mut self.api.max_workflows, layer.api_max_workflows);
        set(&mut self.api.max_running, layer.api_max_running);
        set(&mut self.api.max_queued, layer.api_max_queued);
        set(&mut self.api.allowed_hosts, layer.api_allowed_hosts);
        set(
            &mut self.api.header_read_timeout,
            layer.api_header_read_timeout,
        );
        set(&mut self.api.max_connections, layer.api_max_connections);
        set(&mut self.api.shutdown_grace, layer.api_shutdown_grace);
    }
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
        config.apply(file_layer(&path)?);
        config.file = Some(path);
    }
    config.apply(env_layer(&env)?);
    config.apply(cli_layer(overrides)?);
    Ok(config)
}

fn file_layer(path: &Path) -> Result<Layer, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let file: FileConfig = toml::from_str(&text).map_err(|e| ConfigError::File {
        path: path.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })?;
    let reports = file.reports.unwrap_or_default();
    let server = file.server.unwrap_or_default();
    let api = file.api.unwrap_or_default();
    Ok(Layer {
        base_url: file.base_url.map(|v| v.0),
        concurrency: file.concurrency.map(|v| v.0),
        timeout: file.timeout.map(|v| v.0),
        request_timeout: file.request_timeout.map(|v| v.0),
        step_timeout: file.step_timeout.map(|v| v.0),
        run_timeout: file.run_timeout.map(|v| v.0),
        retries: file.retries,
        retry_delay: file.retry_delay.map(|v| v.0),
        retry_backoff: file.retry_backoff.map(|v| v.0),
        flaky_fails: file.flaky_fails,
        // `max_fail` is the more precise of the two.
        max_fail: file
            .max_fail
            .map(|v| v.0)
            .or((file.fail_fast == Some(true)).then_some(1)),
        no_deps: file.no_deps,
        interrupt_grace: file.interrupt_grace.map(|v| v.0),
        no_tests: file.no_tests,
        groups: file
            .groups
            .map(|groups| groups.into_iter().map(|(name, n)| (name, n.0)).collect()),
        // Relative to the file, so the suite writes to the same place from any directory.
        report_dir: reports
            .dir
            .map(|dir| path.parent().unwrap_or(Path::new(".")).join(dir)),
        report_formats: reports.formats,
        latency_ms: server.latency_ms,
        jitter_ms: server.jitter_ms,
        error_rate: server.error_rate.map(|v| v.0),
        seed: server.seed,
        api_token: api.token,
        api_max_workflows: api.max_workflows.map(|v| v.0),
        api_max_running: api.max_running.map(|v| v.0),
        api_max_queued: api.max_queued,
        api_allowed_hosts: api
            .allowed_hosts
            .map(|hosts| hosts.into_iter().map(|h| h.0).collect()),
        api_header_read_timeout: api.header_read_timeout.map(|v| v.0),
        api_max_connections: api.max_connections.map(|v| v.0),
        api_shutdown_grace: api.shutdown_grace.map(|v| v.0),
    })
}

/// The variable `var` parsed, when set; its name and value in the error otherwise.
fn read<T>(
    env: &dyn Fn(&str) -> Option<String>,
    var: &'static str,
    parse: fn(&str) -> Result<T, String>,
) -> Result<Option<T>, ConfigError> {
    env(var)
        .map(|value| {
            parse(&value).map_err(|reason| ConfigError::Env {
                var,
                value: value.clone(),
                reason,
            })
        })
        .transpose()
}

fn text(value: &str) -> Result<String, String> {
    Ok(value.to_owned())
}

fn env_layer(env: &dyn Fn(&str) -> Option<String>) -> Result<Layer, ConfigError> {
    let fail_fast = read(env, "WORKFLOW_FAIL_FAST", parse_bool)?;
    Ok(Layer {
        base_url: read(env, "WORKFLOW_BASE_URL", parse_url)?,
        concurrency: read(env, "WORKFLOW_CONCURRENCY", parse_positive)?,
        timeout: read(env, "WORKFLOW_TIMEOUT", parse_duration)?,
        request_timeout: read(env, "WORKFLOW_REQUEST_TIMEOUT", parse_duration)?,
        step_timeout: read(env, "WORKFLOW_STEP_TIMEOUT", parse_duration)?,
        run_timeout: read(env, "WORKFLOW_RUN_TIMEOUT", parse_duration)?,
        retries: read(env, "WORKFLOW_RETRIES", parse_u32)?,
        retry_delay: read(env, "WORKFLOW_RETRY_DELAY", parse_delay)?,
        retry_backoff: read(env, "WORKFLOW_RETRY_BACKOFF", parse_backoff)?,
        flaky_fails: read(env, "WORKFLOW_FLAKY_FAILS", parse_bool)?,
        // `WORKFLOW_MAX_FAIL` is the more precise; `WORKFLOW_FAIL_FAST=0` sets nothing.
        max_fail: read(env, "WORKFLOW_MAX_FAIL", parse_positive)?
            .or(fail_fast.filter(|on| *on).map(|_| 1)),
        no_deps: read(env, "WORKFLOW_NO_DEPS", parse_bool)?,
        interrupt_grace: read(env, "WORKFLOW_INTERRUPT_GRACE", parse_delay)?,
        no_tests: read(env, "WORKFLOW_NO_TESTS", parse_no_tests)?,
        groups: read(env, "WORKFLOW_GROUPS", parse_groups)?,
        report_dir: read(env, "WORKFLOW_REPORT_DIR", text)?.map(PathBuf::from),
        report_formats: read(env, "WORKFLOW_REPORT_FORMATS", parse_formats)?,
        latency_ms: read(env, "WORKFLOW_SERVER_LATENCY_MS", parse_u64)?,
        jitter_ms: read(env, "WORKFLOW_SERVER_JITTER_MS", parse_u64)?,
        error_rate: read(env, "WORKFLOW_SERVER_ERROR_RATE", parse_fraction)?,
        seed: read(env, "WORKFLOW_SERVER_SEED", parse_u64)?,
        api_token: read(env, "WORKFLOW_API_TOKEN", text)?,
        api_max_workflows: read(env, "WORKFLOW_API_MAX_WORKFLOWS", parse_positive)?,
        api_max_running: read(env, "WORKFLOW_API_MAX_RUNNING", parse_positive)?,
        api_max_queued: read(env, "WORKFLOW_API_MAX_QUEUED", parse_count)?,
        api_allowed_hosts: read(env, "WORKFLOW_API_ALLOWED_HOSTS", parse_hosts)?,
        api_header_read_timeout: read(env, "WORKFLOW_API_HEADER_READ_TIMEOUT", parse_duration)?,
        api_max_connections: read(env, "WORKFLOW_API_MAX_CONNECTIONS", parse_positive)?,
        api_shutdown_grace: read(env, "WORKFLOW_API_SHUTDOWN_GRACE", parse_delay)?,
    })
}

fn cli_layer(overrides: &Overrides) -> Result<Layer, ConfigError> {
    fn parse<T>(
        flag: &'static str,
        value: &Option<String>,
        parse: fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        value
            .as_deref()
            .map(|v| {
                parse(v).map_err(|reason| ConfigError::Cli {
                    flag,
                    value: v.to_owned(),
                    reason,
                })
            })
            .transpose()
    }
    let at_least_one = |flag: &'static str, n: Option<usize>| match n {
        Some(0) => Err(ConfigError::Cli {
            flag,
            value: "0".into(),
            reason: "must be at least 1".into(),
        }),
        n => Ok(n),
    };
    Ok(Layer {
        base_url: parse("--base-url", &overrides.base_url, parse_url)?,
        concurrency: at_least_one("--test-threads", overrides.concurrency)?,
        timeout: parse("--timeout", &overrides.timeout, parse_duration)?,
        step_timeout: parse("--step-timeout", &overrides.step_timeout, parse_duration)?,
        run_timeout: parse("--run-timeout", &overrides.run_timeout, parse_duration)?,
        retries: overrides.retries,
        flaky_fails: overrides.flaky_fails.then_some(true),
        max_fail: at_least_one("--max-fail", overrides.max_fail)?,
        no_deps: overrides.no_deps.then_some(true),
        no_tests: overrides.no_tests,
        report_dir: overrides.report_dir.clone(),
        report_formats: parse("--report-formats", &overrides.report_formats, parse_formats)?,
        ..Layer::default()
    })
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

/// A whole number, zero allowed.
pub fn parse_count(s: &str) -> Result<usize, String> {
    s.trim()
        .parse()
        .map_err(|_| "expected a non-negative integer".into())
}

/// One allowed `Host`: a name or address, optionally with `:port`, or `*` for any. Kept
/// lowercase; a trailing dot of a fully qualified name is dropped.
pub fn parse_host(s: &str) -> Result<String, String> {
    let host = s.trim().trim_end_matches('.').to_ascii_lowercase();
    let valid = |c: char| c.is_ascii_alphanumeric() || "-.:[]_*".contains(c);
    if host.is_empty() {
        Err("a host name is empty".into())
    } else if !host.chars().all(valid) || (host.contains('*') && host != "*") {
        Err(format!(
            "{s:?} is not a host name (expected e.g. \"ci.example.com\", \"10.0.0.5:4000\" or \"*\")"
        ))
    } else {
        Ok(host)
    }
}

/// A comma-separated list of allowed hosts (see [`parse_host`]).
pub fn parse_hosts(s: &str) -> Result<Vec<String>, String> {
    s.split(',')
        .filter(|h| !h.trim().is_empty())
        .map(parse_host)
        .collect()
}

/// A comma-separated list of report formats.
pub fn parse_formats(s: &str) -> Result<Vec<ReportFormat>, String> {
    s.split(',')
        .filter(|f| !f.trim().is_empty())
        .map(str::parse)
        .collect()
}

/// A value whose `Deserialize` validates with a parser, so a TOML error carries the line of
/// the bad value: `validated!(Name(Type) from RawType => parser)`.
macro_rules! validated {
    ($($name:ident($ty:ty) from $raw:ty => $parse:expr;)*) => {$(
        #[derive(Debug)]
        struct $name($ty);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = <$raw>::deserialize(d)?;
                $parse(raw).map($name).map_err(serde::de::Error::custom)
            }
        }
    )*};
}

validated! {
    HttpUrl(Url) from String => |s: String| parse_url(&s);
    HumanDuration(Duration) from String => |s: String| parse_duration(&s);
    Delay(Duration) from String => |s: String| parse_delay(&s);
    Positive(usize) from i64 => |n: i64| match usize::try_from(n) {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{n} is not allowed: must be at least 1")),
    };
    Fraction(f64) from f64 => |f: f64| {
        parse_fraction(&f.to_string()).map_err(|e| format!("{f} is not allowed: {e}"))
    };
    Backoff(f64) from f64 => |f: f64| parse_backoff(&f.to_string());
    HostName(String) from String => |s: String| parse_host(&s);
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
    fn zero_retry_delay_and_api_settings() {
        let file = "retry_delay = \"0s\"\n[api]\ntoken = \"secret\"\nmax_workflows = 7\n";
        let (config, _) = load_with(Some(file), &[], Overrides::default());
        let config = config.unwrap();
        assert_eq!(
            config.retry_delay,
            Duration::ZERO,
            "retrying at once is allowed"
        );
        assert_eq!(config.api.token.as_deref(), Some("secret"));
        assert_eq!(config.api.max_workflows, 7);
        let env = [("WORKFLOW_API_TOKEN", "other"), ("WORKFLOW_FAIL_FAST", "0")];
        let (config, _) = load_with(Some("max_fail = 3\n"), &env, Overrides::default());
        let config = config.unwrap();
        assert_eq!(config.api.token.as_deref(), Some("other"));
        assert_eq!(
            config.max_fail,
            Some(3),
            "WORKFLOW_FAIL_FAST=0 leaves max_fail alone"
        );
    }

    #[test]
    fn no_tests_from_file_env_and_cli() {
        let (config, _) = load_with(None, &[], Overrides::default());
        assert_eq!(config.unwrap().no_tests, NoTests::Warn, "the default");
        let file = "no_tests = \"fail\"\n";
        let (config, _) = load_with(Some(file), &[], Overrides::default());
        assert_eq!(config.unwrap().no_tests, NoTests::Fail);
        let env = [("WORKFLOW_NO_TESTS", "Pass")];
        let (config, _) = load_with(Some(file), &env, Overrides::default());
        assert_eq!(config.unwrap().no_tests, NoTests::Pass);
        let cli = Overrides {
            no_tests: Some(NoTests::Warn),
            ..Overrides::default()
        };
        let (config, _) = load_with(Some(file), &env, cli);
        assert_eq!(config.unwrap().no_tests, NoTests::Warn);

        let (err, _) = load_with(Some("\nno_tests = \"never\"\n"), &[], Overrides::default());
        let msg = err.unwrap_err().to_string();
        assert!(msg.contains("line 2"), "{msg}");
        assert!(msg.contains("unknown variant `never`"), "{msg}");
        let (err, _) = load_with(None, &[("WORKFLOW_NO_TESTS", "x")], Overrides::default());
        assert!(
            err.unwrap_err()
                .to_string()
                .contains("WORKFLOW_NO_TESTS=\"x\": expected pass, warn or fail")
        );
    }

    #[test]
    fn api_limits_from_file_and_env() {
        let (config, _) = load_with(None, &[], Overrides::default());
        let api = config.unwrap().api;
        assert_eq!((api.max_running, api.max_queued), (64, 16));
        assert!(api.allowed_hosts.is_empty());

        let file = "[api]\nmax_running = 8\nmax_queued = 0\nallowed_hosts = [\"CI.example.com.\", \"10.0.0.5:4000\"]\nheader_read_timeout = \"2s\"\nmax_connections = 50\nshutdown_grace = \"0s\"\n";
        let (config, _) = load_with(Some(file), &[], Overrides::default());
        let api = config.unwrap().api;
        assert_eq!((api.max_running, api.max_queued), (8, 0));
        assert_eq!(api.allowed_hosts, ["ci.example.com", "10.0.0.5:4000"]);
        assert_eq!(api.header_read_timeout, Duration::from_secs(2));
        assert_eq!(api.max_connections, 50);
        assert_eq!(api.shutdown_grace, Duration::ZERO);

        let env = [
            ("WORKFLOW_API_MAX_RUNNING", "3"),
            ("WORKFLOW_API_MAX_QUEUED", "5"),
            ("WORKFLOW_API_ALLOWED_HOSTS", "a.example, *"),
            ("WORKFLOW_API_HEADER_READ_TIMEOUT", "250ms"),
            ("WORKFLOW_API_MAX_CONNECTIONS", "9"),
            ("WORKFLOW_API_SHUTDOWN_GRACE", "1s"),
        ];
        let (config, _) = load_with(Some(file), &env, Overrides::default());
        let api = config.unwrap().api;
        assert_eq!((api.max_running, api.max_queued), (3, 5));
        assert_eq!(api.allowed_hosts, ["a.example", "*"]);
        assert_eq!(api.header_read_timeout, Duration::from_millis(250));
        assert_eq!(api.max_connections, 9);
        assert_eq!(api.shutdown_grace, Duration::from_secs(1));

        for (text, needle) in [
            ("[api]\nmax_running = 0", "at least 1"),
            (
                "[api]\nallowed_hosts = [\"evil host\"]",
                "is not a host name",
            ),
            (
                "[api]\nallowed_hosts = [\"*.example.com\"]",
                "is not a host name",
            ),
            ("[api]\nheader_read_timeout = \"0s\"", "longer than zero"),
        ] {
            let (err, _) = load_with(Some(text), &[], Overrides::default());
            let msg = err.unwrap_err().to_string();
            assert!(
                msg.contains("line 2") && msg.contains(needle),
                "{text}: {msg}"
            );
        }
        let (err, _) = load_with(
            None,
            &[("WORKFLOW_API_ALLOWED_HOSTS", "ok.example,http://x/")],
            Overrides::default(),
        );
        assert!(err.unwrap_err().to_string().contains("is not a host name"));
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
