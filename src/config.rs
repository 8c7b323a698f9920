//! Suite configuration: `harness.toml`, `WORKFLOW_*` environment variables and command-line
//! flags, merged with the precedence CLI > environment > file > defaults.
//!
//! Every setting is declared once, in a `settings!` table below: its field, default, kind
//! (which validates it), TOML key, variable, optional flag, and its doc comment, which is also
//! its `--help` text. The file reader, the environment and flag layers, the command line
//! ([`crate::cli`]) and the README's table (checked by a test) all come from [`settings`].

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{DeserializeOwned, DeserializeSeed, Deserializer, Error as _, MapAccess, Visitor};
use url::Url;

use crate::http::Transcripts;
use crate::report::ReportFormat;

/// The name of the configuration file looked up next to the suite's `Cargo.toml`.
pub const FILE_NAME: &str = "harness.toml";

/// The prefix of the variables laid over `[server]`: `WORKFLOW_SERVER_LATENCY_MS` is its
/// `latency_ms`.
pub const SERVER_ENV_PREFIX: &str = "WORKFLOW_SERVER_";

/// A parsed value, waiting to be stored in its field.
type Assign = Box<dyn FnOnce(&mut Config)>;

/// One declared setting: where it is read from, its default and its help (see [`settings`]).
pub struct Setting {
    /// Its key in harness.toml; `section.name` is `name` in the `[section]` table.
    pub key: &'static str,
    /// Its environment variable.
    pub env: &'static str,
    /// Its command-line flag (`--name`), if it has one.
    pub flag: Option<&'static str>,
    /// The flag's value name in `--help`; `None` for a switch, given without a value.
    pub metavar: Option<&'static str>,
    doc: &'static [&'static str],
    default: fn() -> String,
    parse: fn(&str) -> Result<Assign, String>,
}

impl Setting {
    /// What it does: its doc comment on one line.
    pub fn help(&self) -> String {
        let lines: Vec<&str> = self.doc.iter().map(|l| l.trim()).collect();
        lines.join(" ")
    }

    /// Its default as a variable would spell it (`unset` when there is none).
    pub fn default_value(&self) -> String {
        (self.default)()
    }

    /// Whether `text` is a valid value (as a variable or flag gives it).
    pub fn check(&self, text: &str) -> Result<(), String> {
        (self.parse)(text).map(drop)
    }
}

impl fmt::Debug for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Setting({})", self.key)
    }
}

/// Every setting, in the order a source's values are applied (so `max_fail` given in a source
/// beats `fail_fast` from the same source).
pub fn settings() -> impl Iterator<Item = &'static Setting> {
    EngineConfig::SETTINGS
        .iter()
        .chain(Config::SETTINGS)
        .chain(ApiOptions::SETTINGS)
        .chain(HistoryOptions::SETTINGS)
        .flatten()
}

/// The engine settings one run may change for itself (serve mode's per-run `config`): every
/// engine setting but `groups` (a table) and `interrupt_grace` (the server's stop decides it).
pub fn run_settings() -> impl Iterator<Item = &'static Setting> {
    EngineConfig::SETTINGS
        .iter()
        .flatten()
        .filter(|s| !matches!(s.key, "groups" | "interrupt_grace"))
}

/// A run's `config` object (serve mode's per-run settings, a schedule's `config`) as
/// overrides for [`override_engine`]: unknown keys are refused together, by name; a value
/// that is not a string, number or boolean by its key.
pub fn run_overrides(
    changes: &serde_json::Map<String, serde_json::Value>,
) -> Result<Vec<(&'static Setting, String)>, String> {
    use serde_json::Value;
    let allowed: Vec<&'static Setting> = run_settings().collect();
    let unknown: Vec<&str> = changes
        .keys()
        .map(String::as_str)
        .filter(|k| !allowed.iter().any(|s| s.key == *k))
        .collect();
    if !unknown.is_empty() {
        let keys: Vec<&str> = allowed.iter().map(|s| s.key).collect();
        return Err(format!(
            "unknown config keys: {} (a run may set {})",
            unknown.join(", "),
            keys.join(", ")
        ));
    }
    let mut overrides = Vec::with_capacity(changes.len());
    for (key, value) in changes {
        let Some(setting) = allowed.iter().find(|s| s.key == key) else {
            continue;
        };
        let text = match value {
            Value::String(text) => text.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(on) => on.to_string(),
            other => {
                return Err(format!(
                    "config.{key}: expected a string, number or boolean, got {other}"
                ));
            }
        };
        overrides.push((*setting, text));
    }
    Ok(overrides)
}

/// `base` with `overrides` (`(key, value as text)`, keys of [`run_settings`]) applied in the
/// order of [`settings`]; the first bad value is refused, naming its key and why.
pub fn override_engine(
    base: &EngineConfig,
    overrides: &[(&'static Setting, String)],
) -> Result<EngineConfig, String> {
    let mut config = Config {
        engine: base.clone(),
        ..Config::default()
    };
    let values = parsed(overrides.iter().cloned(), |s, value, reason| {
        ConfigError::Cli {
            flag: s.key,
            value,
            reason,
        }
    })
    .map_err(|e| match e {
        ConfigError::Cli {
            flag,
            value,
            reason,
        } => format!("config.{flag}: {value:?}: {reason}"),
        other => other.to_string(),
    })?;
    apply(&mut config, values);
    Ok(config.engine)
}

/// `opt!()` is `None`, `opt!(x)` is `Some(x)`.
macro_rules! opt {
    () => {
        None
    };
    ($x:expr) => {
        Some($x)
    };
}

/// A field's entry in `SETTINGS`: `None` unless it is a setting (has a kind and a key).
macro_rules! field_setting {
    ([$($doc:literal),*] $field:ident) => {
        None
    };
    ([$($doc:literal),*] $field:ident, $kind:ty, $key:literal, $env:literal $(, $flag:literal)?) => {
        Some(Setting {
            key: $key,
            env: $env,
            flag: opt!($($flag)?),
            metavar: <$kind as Kind>::METAVAR,
            doc: &[$($doc),*],
            default: || Self::default().$field.shown(),
            parse: |text| {
                let v = <$kind as Kind>::parse(text)?;
                Ok(Box::new(move |c: &mut Config| Self::this(c).$field = v.into()))
            },
        })
    };
}

/// Declares a struct of settings: each field with its default, and for a setting its kind,
/// TOML key, variable and optional flag; its doc comment is the help. `extra` entries are
/// settings without a field of their own, stored by a function (`fail_fast`).
macro_rules! settings {
    (
        $(#[doc = $sdoc:literal])*
        pub struct $name:ident ($c:ident => $place:expr) {
            $(
                $(#[doc = $doc:literal])*
                pub $field:ident : $ty:ty = $default:expr
                $(, $kind:ty, $key:literal, $env:literal $(, $flag:literal)?)?;
            )*
        }
        $(extra {
            $(
                $(#[doc = $xdoc:literal])*
                $xkind:ty, $xkey:literal, $xenv:literal $(, $xflag:literal)? => $store:expr;
            )*
        })?
    ) => {
        $(#[doc = $sdoc])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            $($(#[doc = $doc])* pub $field: $ty,)*
        }

        impl Default for $name {
            fn default() -> Self {
                $name { $($field: $default,)* }
            }
        }

        impl $name {
            fn this($c: &mut Config) -> &mut $name {
                &mut $place
            }

            /// The settings among the fields (`None` for the others), after the extras.
            const SETTINGS: &'static [Option<Setting>] = &[
                $($(Some(Setting {
                    key: $xkey,
                    env: $xenv,
                    flag: opt!($($xflag)?),
                    metavar: <$xkind as Kind>::METAVAR,
                    doc: &[$($xdoc),*],
                    default: || <<$xkind as Kind>::Value as Default>::default().shown(),
                    parse: |text| {
                        let v = <$xkind as Kind>::parse(text)?;
                        Ok(Box::new(move |c: &mut Config| ($store)(Self::this(c), v)))
                    },
                }),)*)?
                $(field_setting!([$($doc),*] $field $(, $kind, $key, $env $(, $flag)?)?),)*
            ];

            /// The value of the TOML key `key` (the whole dotted path), when it is one of
            /// this struct's settings.
            fn read_toml<'de, A: MapAccess<'de>>(
                key: &str,
                map: &mut A,
                dir: &Path,
            ) -> Result<Option<Assign>, A::Error> {
                $($(if key == $xkey {
                    let v = map.next_value_seed(InDir::<$xkind>(dir, PhantomData))?;
                    return Ok(Some(Box::new(move |c: &mut Config| ($store)(Self::this(c), v))));
                })*)?
                $($(if key == $key {
                    let v = map.next_value_seed(InDir::<$kind>(dir, PhantomData))?;
                    return Ok(Some(Box::new(move |c: &mut Config| Self::this(c).$field = v.into())));
                })?)*
                Ok(None)
            }
        }
    };
}

const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

settings! {
    /// What the engine needs besides the workflows; also the engine's part of [`Config`].
    pub struct EngineConfig (c => c.engine) {
        /// Run against this deployment instead of the embedded server (the URL request paths
        /// are joined to; unset, the engine accepts only absolute URLs).
        pub base_url: Option<Url> = None, Http, "base_url", "WORKFLOW_BASE_URL", "--base-url";
        /// How many workflows run at once (at least 1); they wait on I/O, so this is not the
        /// CPU count.
        pub concurrency: usize = 64, AtLeastOne, "concurrency", "WORKFLOW_CONCURRENCY",
            "--test-threads";
        /// Deadline of each workflow that declares none, e.g. 30s (unset: none).
        pub default_timeout: Option<Duration> = Some(secs(300)), Timeout, "timeout",
            "WORKFLOW_TIMEOUT", "--timeout";
        /// Deadline of each step of a workflow that declares none.
        pub step_timeout: Option<Duration> = None, Timeout, "step_timeout",
            "WORKFLOW_STEP_TIMEOUT", "--step-timeout";
        /// Deadline of the whole run: then every unfinished workflow is reported timed out.
        pub run_timeout: Option<Duration> = None, Timeout, "run_timeout", "WORKFLOW_RUN_TIMEOUT",
            "--run-timeout";
        /// Retry a failed workflow up to N times (unless it declares its own retries).
        pub retries: u32 = 0, Whole<u32>, "retries", "WORKFLOW_RETRIES", "--retries";
        /// Wait before the first retry (0s allowed).
        pub retry_delay: Duration = secs(1), Delay, "retry_delay", "WORKFLOW_RETRY_DELAY";
        /// Factor (at least 1) applied to the wait before each further retry; 1 keeps it
        /// constant.
        pub retry_backoff: f64 = 1.0, Backoff, "retry_backoff", "WORKFLOW_RETRY_BACKOFF";
        /// Count flaky workflows (failed, then passed on a retry) as failed.
        pub flaky_fails: bool = false, Switch, "flaky_fails", "WORKFLOW_FLAKY_FAILS",
            "--flaky-fails";
        /// What a skipped step (an optional step that failed) makes of its workflow: pass
        /// (the workflow goes on and may pass) or fail (the workflow fails, naming the step).
        pub skipped_steps: SkippedSteps = SkippedSteps::Pass, Word<SkippedSteps>,
            "skipped_steps", "WORKFLOW_SKIPPED_STEPS", "--skipped-steps";
        /// Stop starting workflows after N failures; the rest are reported cancelled.
        pub max_fail: Option<usize> = None, AtLeastOne, "max_fail", "WORKFLOW_MAX_FAIL",
            "--max-fail";
        /// After SIGINT/SIGTERM, how long running workflows may still take before they are
        /// cut (0s allowed).
        pub interrupt_grace: Duration = secs(3), Delay, "interrupt_grace",
            "WORKFLOW_INTERRUPT_GRACE";
        /// Request transcripts kept in the reports: of the steps of workflows that did not
        /// pass (failures), of every step (all), or none (off).
        pub transcripts: Transcripts = Transcripts::Failures, Word<Transcripts>, "transcripts",
            "WORKFLOW_TRANSCRIPTS", "--transcripts";
        /// Transcript bodies are cut after this many bytes.
        pub transcript_body_limit: usize = 8192, Whole<usize>, "transcript_body_limit",
            "WORKFLOW_TRANSCRIPT_BODY_LIMIT";
        /// Header names redacted in transcripts, besides Authorization, Cookie, Set-Cookie and
        /// Proxy-Authorization (always).
        pub redact_headers: Vec<String> = Vec::new(), ListOf<Text>, "redact_headers",
            "WORKFLOW_REDACT_HEADERS";
        /// JSON and form field names whose values are redacted in transcripts (and wherever
        /// else those values show up in a report).
        pub redact_fields: Vec<String> = crate::http::DEFAULT_REDACT_FIELDS.iter().map(|f| f.to_string()).collect(),
            ListOf<Text>, "redact_fields", "WORKFLOW_REDACT_FIELDS";
        /// Limits of the concurrency groups workflows may join (`[groups] NAME = N`).
        pub groups: BTreeMap<String, usize> = BTreeMap::new(), Groups, "groups",
            "WORKFLOW_GROUPS";
        /// What each workflow reads with `cx.input()` (the seed's `context`); `--context`
        /// fills it for a `cargo test` run, a run request's `context` in serve mode.
        pub inputs: crate::input::Inputs = crate::input::Inputs::default();
    }
    extra {
        /// Stop starting workflows after the first failure: `max_fail = 1`.
        Switch, "fail_fast", "WORKFLOW_FAIL_FAST", "--fail-fast" =>
            |e: &mut EngineConfig, on: bool| if on { e.max_fail = Some(1) };
    }
}

settings! {
    /// The merged configuration of a run.
    pub struct Config (c => *c) {
        /// The engine's settings (`base_url`, `concurrency`, deadlines, retries, groups…).
        pub engine: EngineConfig = EngineConfig::default();
        /// Deadline of one HTTP request.
        pub request_timeout: Duration = secs(30), Timeout, "request_timeout",
            "WORKFLOW_REQUEST_TIMEOUT";
        /// Run only workflows with one of these tags (`--tag` replaces them).
        pub tags: Vec<String> = Vec::new(), ListOf<Text>, "tags", "WORKFLOW_TAGS";
        /// Leave out workflows with one of these tags (`--skip-tag` replaces them).
        pub skip_tags: Vec<String> = Vec::new(), ListOf<Text>, "skip_tags", "WORKFLOW_SKIP_TAGS";
        /// Do not pull the dependencies of selected workflows into the run.
        pub no_deps: bool = false, Switch, "no_deps", "WORKFLOW_NO_DEPS", "--no-deps";
        /// When the filters select no workflow: pass (exit 0, silent), warn (exit 0, a
        /// warning) or fail (exit 4).
        pub no_tests: NoTests = NoTests::Warn, Word<NoTests>, "no_tests", "WORKFLOW_NO_TESTS",
            "--no-tests";
        /// Write reports into this directory (in the file: relative to the file).
        pub report_dir: PathBuf = PathBuf::from("target/workflow-reports"), Dir, "reports.dir",
            "WORKFLOW_REPORT_DIR", "--report-dir";
        /// Reports to write: json, csv, junit, html, steps (report-steps.csv).
        pub report_formats: Vec<ReportFormat> = ReportFormat::DEFAULT.to_vec(), ListOf<Word<ReportFormat>>,
            "reports.formats", "WORKFLOW_REPORT_FORMATS", "--report-formats";
        /// A JSON file of workflow input (`cx.input()`): one value for every selected
        /// workflow, or an object keyed by workflow ids (in the file: relative to the file).
        pub context: Option<PathBuf> = None, FilePath, "context", "WORKFLOW_CONTEXT",
            "--context";
        /// Options of serve mode (`[api]`).
        pub api: ApiOptions = ApiOptions::default();
        /// The run history (`[history]`).
        pub history: HistoryOptions = HistoryOptions::default();
        /// `[server]`, the embedded server's options, for its factory to parse.
        pub server: ServerTable = ServerTable::default();
        /// `[[schedule]]`: the runs serve mode starts by itself.
        pub schedules: Vec<crate::schedule::Schedule> = Vec::new();
        /// `[[alert]]`: the webhooks told when a scheduled workflow fails and recovers.
        pub alerts: Vec<crate::schedule::Alert> = Vec::new();
        /// The file the settings were read from, if any.
        pub file: Option<PathBuf> = None;
    }
}

settings! {
    /// Options of serve mode (`[api]` in harness.toml).
    pub struct ApiOptions (c => c.api) {
        /// Serve mode: every request must carry `Authorization: Bearer <token>`.
        pub token: Option<String> = None, Text, "api.token", "WORKFLOW_API_TOKEN";
        /// Serve mode: the most workflows one run request may name.
        pub max_workflows: usize = 100, AtLeastOne, "api.max_workflows",
            "WORKFLOW_API_MAX_WORKFLOWS";
        /// Serve mode: the most workflows running at once across every run.
        pub max_running: usize = 64, AtLeastOne, "api.max_running", "WORKFLOW_API_MAX_RUNNING";
        /// Serve mode: the most runs waiting for workflow slots; beyond, 429 (0: no queue).
        pub max_queued: usize = 16, Whole<usize>, "api.max_queued", "WORKFLOW_API_MAX_QUEUED";
        /// Serve mode: `Host` values answered besides loopback and the bound address (with
        /// or without a port; `*` allows any).
        pub allowed_hosts: Vec<String> = Vec::new(), ListOf<Host>, "api.allowed_hosts",
            "WORKFLOW_API_ALLOWED_HOSTS";
        /// Serve mode: how long a connection may take to send a request's head (also the
        /// idle keep-alive timeout).
        pub header_read_timeout: Duration = secs(10), Timeout, "api.header_read_timeout",
            "WORKFLOW_API_HEADER_READ_TIMEOUT";
        /// Serve mode: the most connections served at once; more wait in the listen backlog.
        pub max_connections: usize = 512, AtLeastOne, "api.max_connections",
            "WORKFLOW_API_MAX_CONNECTIONS";
        /// Serve mode: on SIGTERM/SIGINT, how long running runs may still take (0s allowed).
        pub shutdown_grace: Duration = secs(10), Delay, "api.shutdown_grace",
            "WORKFLOW_API_SHUTDOWN_GRACE";
        /// Serve mode: the server's address as alert readers reach it, for the run links in
        /// alerts (unset: the address it listens on).
        pub public_url: Option<Url> = None, Http, "api.public_url", "WORKFLOW_API_PUBLIC_URL";
    }
}

settings! {
    /// The run history (`[history]` in harness.toml).
    pub struct HistoryOptions (c => c.history) {
        /// History: the database, `sqlite://PATH` or `postgres://USER@HOST/DB` (unset: SQLite
        /// at `<reports.dir>/history.sqlite`).
        pub url: Option<String> = None, HistoryUrl, "history.url", "WORKFLOW_HISTORY_URL",
            "--history-url";
        /// History: record every run and read it back (false: no history at all).
        pub enabled: bool = true, Switch, "history.enabled", "WORKFLOW_HISTORY_ENABLED";
        /// History: the most runs kept per suite; recording prunes the oldest beyond.
        pub keep_runs: usize = 1000, AtLeastOne, "history.keep_runs",
            "WORKFLOW_HISTORY_KEEP_RUNS";
        /// History: a passed step is a regression when it takes more than its recorded p95
        /// times this factor (at least 1)…
        pub regression_factor: f64 = 1.5, Backoff, "history.regression_factor",
            "WORKFLOW_HISTORY_REGRESSION_FACTOR";
        /// History: …and more than its p95 plus this.
        pub regression_min: Duration = Duration::from_millis(50), Delay,
            "history.regression_min", "WORKFLOW_HISTORY_REGRESSION_MIN";
        /// History: …and at least this many passed runs of the step are recorded.
        pub regression_runs: usize = 5, AtLeastOne, "history.regression_runs",
            "WORKFLOW_HISTORY_REGRESSION_RUNS";
        /// History: name a workflow that fails after passing this many times in a row (0:
        /// never).
        pub fail_streak: usize = 3, Whole<usize>, "history.fail_streak",
            "WORKFLOW_HISTORY_FAIL_STREAK";
    }
}

impl HistoryOptions {
    /// The regression thresholds these settings give.
    pub fn thresholds(&self) -> crate::history::Thresholds {
        crate::history::Thresholds {
            factor: self.regression_factor,
            min_excess: self.regression_min,
            min_runs: self.regression_runs,
            fail_streak: self.fail_streak,
            ..crate::history::Thresholds::default()
        }
    }
}

impl EngineConfig {
    /// How the run records HTTP exchanges.
    pub fn transcript_policy(&self) -> crate::http::TranscriptPolicy {
        crate::http::TranscriptPolicy {
            keep: self.transcripts,
            body_limit: self.transcript_body_limit,
            redact_headers: self.redact_headers.clone(),
            redact_fields: self.redact_fields.clone(),
        }
    }
}

impl Config {
    /// The defaults, with reports under `<root>/target/workflow-reports`.
    pub fn defaults(root: &Path) -> Self {
        let mut config = Config::default();
        config.report_dir = root.join(&config.report_dir);
        config
    }
}

/// What a skipped step (an optional step that failed) makes of its workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SkippedSteps {
    /// The step is recorded `skipped`; the workflow goes on and may pass.
    #[default]
    Pass,
    /// The workflow still runs to its end, then fails: `step "X" was skipped (skipped_steps =
    /// "fail"): <the step's error>` (a CI setting: nothing the suite calls may be missing).
    Fail,
}

impl FromStr for SkippedSteps {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pass" => Ok(SkippedSteps::Pass),
            "fail" => Ok(SkippedSteps::Fail),
            _ => Err("expected pass or fail".into()),
        }
    }
}

/// What a run whose filters select no workflow does (nextest's `--no-tests`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum NoTests {
    /// Exit 0 without a word.
    Pass,
    /// Warn on stderr, naming the filters, and exit 0.
    #[default]
    Warn,
    /// Print an error naming the filters and exit with
    /// [`NO_WORKFLOWS`](crate::NO_WORKFLOWS).
    Fail,
}

impl FromStr for NoTests {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pass" => Ok(NoTests::Pass),
            "warn" => Ok(NoTests::Warn),
            "fail" => Ok(NoTests::Fail),
            _ => Err("expected pass, warn or fail".into()),
        }
    }
}

/// The `[server]` table, which the harness does not interpret: the options of the server the
/// suite starts itself, for its factory to parse with its own type ([`ServerTable::parse`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServerTable {
    table: toml::Table,
    /// The file it came from and the file's text, to point at a bad value's line.
    source: Option<(PathBuf, Arc<str>)>,
}

impl ServerTable {
    /// The table as written (empty without a `[server]` table).
    pub fn table(&self) -> &toml::Table {
        &self.table
    }

    /// The table as a `T` (a struct with `#[serde(default)]`, so every key may be left out),
    /// with the process's `WORKFLOW_SERVER_<FIELD>` variables laid over it.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        self.parse_with(&|var| std::env::var(var).ok())
    }

    /// [`ServerTable::parse`] reading variables with `env`. A variable's value is read as a
    /// TOML value (`20`, `0.5`, `true`), else as a string. Errors name the file, line and key,
    /// or the variable and its value.
    pub fn parse_with<T: DeserializeOwned>(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<T, ConfigError> {
        #[derive(Deserialize)]
        struct Only<T> {
            server: Option<T>,
        }
        if let Some((path, text)) = &self.source {
            // The whole file again, so an error carries the line of the bad value.
            toml::from_str::<Only<T>>(text)
                .map(|only| drop(only.server))
                .map_err(|e| file_error(path, &e))?;
        }
        let mut table = self.table.clone();
        for field in fields_of::<T>() {
            let var = format!("{SERVER_ENV_PREFIX}{}", field.to_ascii_uppercase());
            let Some(text) = env(&var).filter(|v| !v.trim().is_empty()) else {
                continue;
            };
            let value = text
                .parse::<toml::Value>()
                .unwrap_or_else(|_| toml::Value::String(text.clone()));
            let alone = toml::Table::from_iter([(field.to_string(), value.clone())]);
            T::deserialize(alone).map_err(|e| ConfigError::Env {
                var,
                value: text,
                reason: e.message().to_owned(),
            })?;
            table.insert(field.to_string(), value);
        }
        T::deserialize(table).map_err(|e| ConfigError::Server {
            reason: e.message().to_owned(),
        })
    }
}

/// The field names of the struct `T` deserializes as (none for other types): what serde's
/// derive passes to `deserialize_struct`.
fn fields_of<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Probe<'a>(&'a mut &'static [&'static str]);
    impl<'de> Deserializer<'de> for Probe<'_> {
        type Error = serde::de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(Self::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(Self::Error::custom("probed"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

/// A setting that could not be used; the message names where it came from.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
        var: String,
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
    /// `[server]` and its variables, each valid alone, are not together.
    #[error("[server]: {reason}")]
    Server {
        /// Why it is refused.
        reason: String,
    },
}

/// Settings given on the command line.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--config`: the file to read instead of `harness.toml`.
    pub config: Option<PathBuf>,
    /// The settings given as flags, with their values as typed (`"true"` for a switch).
    pub flags: Vec<(&'static Setting, String)>,
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
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        let mut file = FileLayer::default();
        // Relative paths in the file start at the file, so it works from any directory.
        let dir = path.parent().unwrap_or(Path::new("."));
        Level::top(dir, &text, &mut file)
            .deserialize(toml::Deserializer::parse(&text).map_err(|e| file_error(&path, &e))?)
            .map_err(|e| file_error(&path, &e))?;
        apply(&mut config, file.values);
        config.schedules = file.schedules;
        config.alerts = file.alerts;
        if let Some(table) = file.server {
            let source = Some((path.clone(), Arc::from(text)));
            config.server = ServerTable { table, source };
        }
        config.file = Some(path);
    }
    let from_env = settings().filter_map(|s| env(s.env).map(|value| (s, value)));
    apply(
        &mut config,
        parsed(from_env, |s, value, reason| ConfigError::Env {
            var: s.env.to_owned(),
            value,
            reason,
        })?,
    );
    let from_cli = overrides.flags.iter().cloned();
    apply(
        &mut config,
        parsed(from_cli, |s, value, reason| ConfigError::Cli {
            flag: s.flag.unwrap_or(s.key),
            value,
            reason,
        })?,
    );
    Ok(config)
}

fn file_error(path: &Path, error: &toml::de::Error) -> ConfigError {
    ConfigError::File {
        path: path.to_owned(),
        message: error.to_string().trim_end().to_owned(),
    }
}

/// Where `setting` stands in [`settings`]: the order a source's values are applied in.
fn rank(setting: &str) -> usize {
    settings()
        .position(|s| s.key == setting)
        .unwrap_or(usize::MAX)
}

/// Stores one source's values, in the order of [`settings`].
fn apply(config: &mut Config, mut values: Vec<(usize, Assign)>) {
    values.sort_by_key(|(rank, _)| *rank);
    for (_, assign) in values {
        assign(config);
    }
}

/// Parses the values of a text source (variables, flags); `error` says where a bad one is.
fn parsed(
    values: impl Iterator<Item = (&'static Setting, String)>,
    error: impl Fn(&'static Setting, String, String) -> ConfigError,
) -> Result<Vec<(usize, Assign)>, ConfigError> {
    values
        .map(|(s, value)| match (s.parse)(&value) {
            Ok(assign) => Ok((rank(s.key), assign)),
            Err(reason) => Err(error(s, value, reason)),
        })
        .collect()
}

/// What harness.toml gives: its settings' values, and `[server]` as written.
#[derive(Default)]
struct FileLayer {
    values: Vec<(usize, Assign)>,
    server: Option<toml::Table>,
    schedules: Vec<crate::schedule::Schedule>,
    alerts: Vec<crate::schedule::Alert>,
}

/// One table of harness.toml: the top level (`prefix` empty) or a `[section]` (`"api."`).
/// Every key is a setting, a section of settings, or `[server]`; anything else is an error
/// carrying the key's line.
struct Level<'a> {
    prefix: String,
    dir: &'a Path,
    /// The file's text, to say on which line an entry of `[[schedule]]`/`[[alert]]` is.
    text: &'a str,
    out: &'a mut FileLayer,
}

impl<'a> Level<'a> {
    fn top(dir: &'a Path, text: &'a str, out: &'a mut FileLayer) -> Self {
        Level {
            prefix: String::new(),
            dir,
            text,
            out,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Level<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Level<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(KnownKey(&self.prefix))? {
            if key == "server" {
                self.out.server = Some(map.next_value()?);
                continue;
            }
            // Arrays of tables, checked entry by entry (the error names the entry).
            if key == "schedule" || key == "alert" {
                let spanned: Vec<toml::Spanned<toml::Value>> = map.next_value()?;
                let line = |i: usize| {
                    spanned.get(i).map_or(0, |entry| {
                        let start = entry.span().start.min(self.text.len());
                        self.text[..start].matches('\n').count() + 1
                    })
                };
                let entries = spanned.iter().map(|e| e.get_ref().clone()).collect();
                // The error says which entry: its name or number, and its line.
                let fail = |(i, reason): (usize, String)| {
                    A::Error::custom(format!("{reason} (the entry at line {})", line(i)))
                };
                if key == "schedule" {
                    self.out.schedules = crate::schedule::from_toml(entries).map_err(fail)?;
                } else {
                    self.out.alerts = crate::schedule::alerts_from_toml(entries).map_err(fail)?;
                }
                continue;
            }
            let value = match EngineConfig::read_toml(&key, &mut map, self.dir)? {
                Some(value) => Some(value),
                None => match Config::read_toml(&key, &mut map, self.dir)? {
                    Some(value) => Some(value),
                    None => match ApiOptions::read_toml(&key, &mut map, self.dir)? {
                        Some(value) => Some(value),
                        None => HistoryOptions::read_toml(&key, &mut map, self.dir)?,
                    },
                },
            };
            match value {
                Some(value) => self.out.values.push((rank(&key), value)),
                None => map.next_value_seed(Level {
                    prefix: format!("{key}."),
                    dir: self.dir,
                    text: self.text,
                    out: &mut *self.out,
                })?,
            }
        }
        Ok(())
    }
}

/// A key of the table at `prefix`, as its whole dotted path; refused (with the key's line)
/// unless it is a setting, a section or `server`.
struct KnownKey<'a>(&'a str);

impl<'de> DeserializeSeed<'de> for KnownKey<'_> {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        let key = String::deserialize(d)?;
        let mut names: Vec<&str> = settings()
            .filter_map(|s| s.key.strip_prefix(self.0))
            .map(|rest| rest.split('.').next().unwrap_or(rest))
            .chain(
                self.0
                    .is_empty()
                    .then_some(["server", "schedule", "alert"])
                    .into_iter()
                    .flatten(),
            )
            .collect();
        names.dedup();
        if names.contains(&key.as_str()) {
            return Ok(format!("{}{key}", self.0));
        }
        let expected: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        Err(D::Error::custom(format!(
            "unknown field `{key}`, expected one of {}",
            expected.join(", ")
        )))
    }
}

/// How one kind of setting is read and checked: from text (a variable, a flag) and from its
/// TOML form, so a wrong type in the file is reported by serde with its line.
trait Kind: 'static {
    /// What the setting holds.
    type Value: Shown + 'static;
    /// How harness.toml writes it.
    type Raw: DeserializeOwned;
    /// The flag's value name; `None`: a switch.
    const METAVAR: Option<&'static str>;
    /// From a variable or a flag.
    fn parse(text: &str) -> Result<Self::Value, String>;
    /// From the file; relative paths start at `dir`, the file's directory.
    fn check(raw: Self::Raw, dir: &Path) -> Result<Self::Value, String>;
}

/// Deserializes a `K` from the file, checked while parsing so an error carries the line.
struct InDir<'a, K>(&'a Path, PhantomData<K>);

impl<'de, K: Kind> DeserializeSeed<'de> for InDir<'_, K> {
    type Value = K::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<K::Value, D::Error> {
        K::check(K::Raw::deserialize(d)?, self.0).map_err(D::Error::custom)
    }
}

/// A `K` inside a list or table (checked with the line of the element).
struct Checked<K: Kind>(K::Value);

impl<'de, K: Kind> Deserialize<'de> for Checked<K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        InDir::<K>(Path::new(""), PhantomData)
            .deserialize(d)
            .map(Checked)
    }
}

/// An absolute `http`/`https` URL.
struct Http;

impl Kind for Http {
    type Value = Url;
    type Raw = String;
    const METAVAR: Option<&'static str> = Some("URL");

    fn parse(s: &str) -> Result<Url, String> {
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

    fn check(raw: String, _: &Path) -> Result<Url, String> {
        Http::parse(&raw)
    }
}

/// A history database URL: `sqlite://PATH` or `postgres://…` (`postgresql://…`).
struct HistoryUrl;

impl Kind for HistoryUrl {
    type Value = String;
    type Raw = String;
    const METAVAR: Option<&'static str> = Some("DB_URL");

    fn parse(s: &str) -> Result<String, String> {
        crate::history::Target::parse(s, Path::new("")).map(|_| s.trim().to_owned())
    }

    fn check(raw: String, _: &Path) -> Result<String, String> {
        HistoryUrl::parse(&raw)
    }
}

/// A whole number of at least 1.
struct AtLeastOne;

impl Kind for AtLeastOne {
    type Value = usize;
    type Raw = i64;
    const METAVAR: Option<&'static str> = Some("N");

    fn parse(s: &str) -> Result<usize, String> {
        match s.trim().parse::<usize>() {
            Ok(0) => Err("must be at least 1".into()),
            Ok(n) => Ok(n),
            Err(_) => Err("expected a positive integer".into()),
        }
    }

    fn check(n: i64, _: &Path) -> Result<usize, String> {
        match usize::try_from(n) {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!("{n} is not allowed: must be at least 1")),
        }
    }
}

/// A whole number, zero allowed.
struct Whole<T>(PhantomData<T>);

impl<T: FromStr + DeserializeOwned + Shown + 'static> Kind for Whole<T> {
    type Value = T;
    type Raw = T;
    const METAVAR: Option<&'static str> = Some("N");

    fn parse(s: &str) -> Result<T, String> {
        s.trim()
            .parse()
            .map_err(|_| "expected a non-negative integer".into())
    }

    fn check(n: T, _: &Path) -> Result<T, String> {
        Ok(n)
    }
}

/// A duration longer than zero, such as `30s`, `1500ms` or `2m`.
struct Timeout;

impl Kind for Timeout {
    type Value = Duration;
    type Raw = String;
    const METAVAR: Option<&'static str> = Some("DURATION");

    fn parse(s: &str) -> Result<Duration, String> {
        match Delay::parse(s) {
            Ok(d) if d.is_zero() => Err("must be longer than zero".into()),
            other => other,
        }
    }

    fn check(raw: String, _: &Path) -> Result<Duration, String> {
        Timeout::parse(&raw)
    }
}

/// A duration that may be zero (`0s` retries at once).
struct Delay;

impl Kind for Delay {
    type Value = Duration;
    type Raw = String;
    const METAVAR: Option<&'static str> = Some("DURATION");

    fn parse(s: &str) -> Result<Duration, String> {
        humantime::parse_duration(s.trim())
            .map_err(|e| format!("{e}: expected a duration such as \"30s\", \"1500ms\" or \"2m\""))
    }

    fn check(raw: String, _: &Path) -> Result<Duration, String> {
        Delay::parse(&raw)
    }
}

/// A retry backoff factor, at least 1.
struct Backoff;

impl Kind for Backoff {
    type Value = f64;
    type Raw = f64;
    const METAVAR: Option<&'static str> = Some("FACTOR");

    fn parse(s: &str) -> Result<f64, String> {
        Backoff::check(s.trim().parse().unwrap_or(f64::NAN), Path::new(""))
    }

    fn check(f: f64, _: &Path) -> Result<f64, String> {
        match f {
            f if f >= 1.0 && f.is_finite() => Ok(f),
            _ => Err("expected a number of at least 1 (1 keeps the delay constant)".into()),
        }
    }
}

/// `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`; a flag without a value.
struct Switch;

impl Kind for Switch {
    type Value = bool;
    type Raw = bool;
    const METAVAR: Option<&'static str> = None;

    fn parse(s: &str) -> Result<bool, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err("expected true or false (or 1 or 0)".into()),
        }
    }

    fn check(on: bool, _: &Path) -> Result<bool, String> {
        Ok(on)
    }
}

/// One of the words a type names its values with: its own `FromStr` (whose error lists
/// them) and `Deserialize`.
struct Word<T>(PhantomData<T>);

/// A type of [`Word`]s: the flag's value name.
trait Words: FromStr<Err = String> + DeserializeOwned + Shown + 'static {
    const METAVAR: &'static str;
}

impl Words for NoTests {
    const METAVAR: &'static str = "pass|warn|fail";
}

impl Words for SkippedSteps {
    const METAVAR: &'static str = "pass|fail";
}

impl Words for Transcripts {
    const METAVAR: &'static str = "failures|all|off";
}

impl Shown for Transcripts {
    fn shown(&self) -> String {
        format!("{self:?}").to_ascii_lowercase()
    }
}

impl Words for ReportFormat {
    const METAVAR: &'static str = "json|csv|junit|html|steps";
}

impl<T: Words> Kind for Word<T> {
    type Value = T;
    type Raw = T;
    const METAVAR: Option<&'static str> = Some(T::METAVAR);

    fn parse(s: &str) -> Result<T, String> {
        s.parse()
    }

    fn check(v: T, _: &Path) -> Result<T, String> {
        Ok(v)
    }
}

/// Group limits: `[groups] name = N`, or `name=N,other=M` as text.
struct Groups;

impl Kind for Groups {
    type Value = BTreeMap<String, usize>;
    type Raw = BTreeMap<String, Checked<AtLeastOne>>;
    const METAVAR: Option<&'static str> = Some("NAME=N,…");

    fn parse(s: &str) -> Result<Self::Value, String> {
        s.split(',')
            .filter(|g| !g.trim().is_empty())
            .map(|g| {
                let (name, n) = g
                    .split_once('=')
                    .ok_or_else(|| format!("{g:?} is not `name=N`"))?;
                let n = AtLeastOne::parse(n).map_err(|e| format!("group {}: {e}", name.trim()))?;
                Ok((name.trim().to_owned(), n))
            })
            .collect()
    }

    fn check(raw: Self::Raw, _: &Path) -> Result<Self::Value, String> {
        Ok(raw.into_iter().map(|(name, n)| (name, n.0)).collect())
    }
}

/// A directory; in the file relative to the file.
struct Dir;

impl Kind for Dir {
    type Value = PathBuf;
    type Raw = PathBuf;
    const METAVAR: Option<&'static str> = Some("DIR");

    fn parse(s: &str) -> Result<PathBuf, String> {
        Ok(PathBuf::from(s))
    }

    fn check(raw: PathBuf, dir: &Path) -> Result<PathBuf, String> {
        Ok(dir.join(raw))
    }
}

/// A file; in the file relative to the file.
struct FilePath;

impl Kind for FilePath {
    type Value = PathBuf;
    type Raw = PathBuf;
    const METAVAR: Option<&'static str> = Some("FILE");

    fn parse(s: &str) -> Result<PathBuf, String> {
        Ok(PathBuf::from(s))
    }

    fn check(raw: PathBuf, dir: &Path) -> Result<PathBuf, String> {
        Ok(dir.join(raw))
    }
}

/// Any text.
struct Text;

impl Kind for Text {
    type Value = String;
    type Raw = String;
    const METAVAR: Option<&'static str> = Some("TEXT");

    fn parse(s: &str) -> Result<String, String> {
        Ok(s.to_owned())
    }

    fn check(raw: String, _: &Path) -> Result<String, String> {
        Ok(raw)
    }
}

/// One allowed `Host`: a name or address, optionally with `:port`, or `*` for any. Kept
/// lowercase; a trailing dot of a fully qualified name is dropped.
struct Host;

impl Kind for Host {
    type Value = String;
    type Raw = String;
    const METAVAR: Option<&'static str> = Some("HOST");

    fn parse(s: &str) -> Result<String, String> {
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

    fn check(raw: String, _: &Path) -> Result<String, String> {
        Host::parse(&raw)
    }
}

/// A list of `K`: a TOML array, or comma-separated text.
struct ListOf<K>(PhantomData<K>);

impl<K: Kind> Kind for ListOf<K> {
    type Value = Vec<K::Value>;
    type Raw = Vec<Checked<K>>;
    const METAVAR: Option<&'static str> = Some("LIST");

    fn parse(s: &str) -> Result<Self::Value, String> {
        s.split(',')
            .filter(|v| !v.trim().is_empty())
            .map(K::parse)
            .collect()
    }

    fn check(raw: Self::Raw, _: &Path) -> Result<Self::Value, String> {
        Ok(raw.into_iter().map(|v| v.0).collect())
    }
}

/// How a default is shown in `--help` and the README: as a variable would spell it.
trait Shown {
    /// The value as text.
    fn shown(&self) -> String;
}

macro_rules! shown_by_display {
    ($($ty:ty),*) => {$(
        impl Shown for $ty {
            fn shown(&self) -> String {
                self.to_string()
            }
        }
    )*};
}

shown_by_display!(usize, u32, f64, bool, String, Url);

impl Shown for Duration {
    fn shown(&self) -> String {
        humantime::format_duration(*self).to_string()
    }
}

impl Shown for PathBuf {
    fn shown(&self) -> String {
        self.display().to_string()
    }
}

impl Shown for NoTests {
    fn shown(&self) -> String {
        format!("{self:?}").to_ascii_lowercase()
    }
}

impl Shown for SkippedSteps {
    fn shown(&self) -> String {
        format!("{self:?}").to_ascii_lowercase()
    }
}

impl Shown for ReportFormat {
    fn shown(&self) -> String {
        format!("{self:?}").to_ascii_lowercase()
    }
}

impl<T: Shown> Shown for Option<T> {
    fn shown(&self) -> String {
        self.as_ref().map_or_else(|| "unset".to_owned(), T::shown)
    }
}

impl<T: Shown> Shown for Vec<T> {
    fn shown(&self) -> String {
        let all: Vec<String> = self.iter().map(T::shown).collect();
        if all.is_empty() {
            "none".to_owned()
        } else {
            all.join(",")
        }
    }
}

impl Shown for BTreeMap<String, usize> {
    fn shown(&self) -> String {
        let all: Vec<String> = self.iter().map(|(k, n)| format!("{k}={n}")).collect();
        all.shown()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// The command line giving `flags` (flag, value as typed).
    fn cli(flags: &[(&str, &str)]) -> Overrides {
        let flags = flags
            .iter()
            .map(|(flag, value)| {
                let s = settings().find(|s| s.flag == Some(*flag));
                (s.unwrap_or_else(|| panic!("{flag}")), value.to_string())
            })
            .collect();
        Overrides {
            flags,
            ..Overrides::default()
        }
    }

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
        assert_eq!(config.engine.base_url.unwrap().as_str(), "http://file:1/");
        assert_eq!(config.engine.concurrency, 3);
        assert_eq!(config.engine.default_timeout, Some(Duration::from_secs(10)));
        assert_eq!(config.report_dir, dir.path().join("out"));
        assert_eq!(config.report_formats, vec![ReportFormat::Json]);

        let env = [
            ("WORKFLOW_BASE_URL", "http://env:2"),
            ("WORKFLOW_CONCURRENCY", "5"),
        ];
        let (config, _) = load_with(Some(file), &env, Overrides::default());
        let config = config.unwrap();
        assert_eq!(config.engine.base_url.unwrap().as_str(), "http://env:2/");
        assert_eq!(config.engine.concurrency, 5);

        let flags = cli(&[("--base-url", "https://cli:3"), ("--test-threads", "1")]);
        let (config, _) = load_with(Some(file), &env, flags);
        let config = config.unwrap();
        assert_eq!(config.engine.base_url.unwrap().as_str(), "https://cli:3/");
        assert_eq!(config.engine.concurrency, 1);
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
            ("[api]\nmax_queued = -1", 2, "invalid value: integer `-1`"),
            ("reports = 3", 1, "expected a table"),
            ("retry_backoff = 0.5", 1, "at least 1"),
            ("[groups]\ncheckout = 0", 2, "at least 1"),
            ("max_fail = 0", 1, "at least 1"),
            (
                "\n[api]\ntokn = \"x\"",
                3,
                "unknown field `tokn`, expected one of `token`",
            ),
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

        let (err, _) = load_with(None, &[], cli(&[("--test-threads", "0")]));
        assert_eq!(
            err.unwrap_err().to_string(),
            "--test-threads 0: must be at least 1"
        );

        let (err, _) = load_with(None, &[], cli(&[("--base-url", "not a url")]));
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
        let engine = config.engine;
        assert_eq!(engine.retries, 2);
        assert_eq!(engine.retry_delay, Duration::from_millis(10));
        assert_eq!(engine.retry_backoff, 2.0);
        assert_eq!(engine.max_fail, Some(1));
        assert_eq!(engine.step_timeout, Some(Duration::from_secs(5)));
        assert_eq!(engine.groups.get("checkout"), Some(&2));

        let env = [
            ("WORKFLOW_RETRIES", "3"),
            ("WORKFLOW_NO_DEPS", "1"),
            ("WORKFLOW_GROUPS", "a=1, b=4"),
        ];
        let (config, _) = load_with(Some(file), &env, Overrides::default());
        let config = config.unwrap();
        assert_eq!(config.engine.retries, 3);
        assert!(config.no_deps);
        assert_eq!(
            config.engine.groups,
            BTreeMap::from([("a".to_owned(), 1), ("b".to_owned(), 4)])
        );

        let flags = cli(&[
            ("--retries", "0"),
            ("--max-fail", "3"),
            ("--flaky-fails", "true"),
        ]);
        let (config, _) = load_with(Some(file), &env, flags);
        let engine = config.unwrap().engine;
        assert_eq!(
            (engine.retries, engine.max_fail, engine.flaky_fails),
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
            config.engine.retry_delay,
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
            config.engine.max_fail,
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
        let (config, _) = load_with(Some(file), &env, cli(&[("--no-tests", "warn")]));
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

    #[test]
    fn fail_fast_is_max_fail_one_unless_the_same_source_says_more() {
        let (config, _) = load_with(
            Some("max_fail = 3\nfail_fast = true\n"),
            &[],
            Overrides::default(),
        );
        assert_eq!(config.unwrap().engine.max_fail, Some(3), "the more precise");
        let env = [("WORKFLOW_FAIL_FAST", "1")];
        let (config, _) = load_with(Some("max_fail = 3\n"), &env, Overrides::default());
        assert_eq!(config.unwrap().engine.max_fail, Some(1), "env beats file");
        let flags = cli(&[("--fail-fast", "true")]);
        let (config, _) = load_with(None, &[("WORKFLOW_MAX_FAIL", "5")], flags);
        assert_eq!(config.unwrap().engine.max_fail, Some(1), "flag beats env");
    }

    #[test]
    fn every_setting_is_read_from_file_env_and_its_flag() {
        // A valid value of each kind, as text and as TOML.
        let sample = |s: &Setting| match s.metavar {
            _ if s.key == "groups" => ("g=2", "{ g = 2 }".to_owned()),
            // A switch that is on by default.
            None if s.key == "history.enabled" => ("false", "false".to_owned()),
            None => ("true", "true".to_owned()),
            Some("N") => ("7", "7".to_owned()),
            Some("FACTOR") => ("2.5", "2.5".to_owned()),
            Some("DURATION") => ("7s", "\"7s\"".to_owned()),
            Some("URL") => ("http://h:7", "\"http://h:7\"".to_owned()),
            Some("DB_URL") => ("sqlite://h7.db", "\"sqlite://h7.db\"".to_owned()),
            Some("LIST") if s.key.contains("formats") => ("csv", "[\"csv\"]".to_owned()),
            Some("LIST") => ("h7", "[\"h7\"]".to_owned()),
            Some("pass|warn|fail" | "pass|fail") => ("fail", "\"fail\"".to_owned()),
            Some("failures|all|off") => ("all", "\"all\"".to_owned()),
            Some(_) => ("x7", "\"x7\"".to_owned()),
        };
        let root = Path::new("/r");
        for s in settings() {
            let (text, toml) = sample(s);
            let (section, name) = s.key.rsplit_once('.').unwrap_or(("", s.key));
            let file = match section {
                "" => format!("{name} = {toml}\n"),
                section => format!("[{section}]\n{name} = {toml}\n"),
            };
            let (from_file, _) = load_with(Some(&file), &[], Overrides::default());
            let from_file = from_file.unwrap_or_else(|e| panic!("{file}: {e}"));
            let (from_env, _) = load_with(None, &[(s.env, text)], Overrides::default());
            let from_env = from_env.unwrap_or_else(|e| panic!("{}: {e}", s.env));
            let mut changed = Config::defaults(root);
            (s.parse)(text).unwrap()(&mut changed);
            assert_ne!(changed, Config::defaults(root), "{} changes nothing", s.key);
            let comparable = |mut c: Config| {
                c.file = None;
                c.report_dir = c
                    .report_dir
                    .file_name()
                    .map(PathBuf::from)
                    .unwrap_or_default();
                // Relative to the file in the file: compare the names only, as for the dir.
                c.context = c.context.and_then(|p| p.file_name().map(PathBuf::from));
                c
            };
            let (from_file, from_env) = (comparable(from_file), comparable(from_env));
            assert_eq!(
                from_file, from_env,
                "{}: the file and {} differ",
                s.key, s.env
            );
            if let Some(flag) = s.flag {
                let (from_flag, _) = load_with(None, &[], cli(&[(flag, text)]));
                assert_eq!(comparable(from_flag.unwrap()), from_env, "{flag}");
            }
        }
    }

    #[derive(Debug, Default, PartialEq, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Server {
        #[serde(deserialize_with = "small")]
        latency_ms: u64,
        error_rate: f64,
        name: String,
    }

    fn small<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        match u64::deserialize(d)? {
            n if n <= 100 => Ok(n),
            n => Err(D::Error::custom(format!("{n} is more than 100"))),
        }
    }

    #[test]
    fn server_table_is_passed_through_with_its_variables() {
        let file = "concurrency = 2\n[server]\nlatency_ms = 5\nerror_rate = 0.25\n";
        let (config, _) = load_with(Some(file), &[], Overrides::default());
        let server = config.unwrap().server;
        assert_eq!(server.table().len(), 2, "kept as written");
        let env = HashMap::from([
            ("WORKFLOW_SERVER_LATENCY_MS", "7"),
            ("WORKFLOW_SERVER_NAME", "demo"),
            ("WORKFLOW_SERVER_OTHER", "ignored"),
        ]);
        let parsed: Server = server
            .parse_with(&|k| env.get(k).map(|v| v.to_string()))
            .unwrap();
        assert_eq!(
            parsed,
            Server {
                latency_ms: 7,
                error_rate: 0.25,
                name: "demo".into()
            }
        );
        let error_rate = |v: &'static str| {
            move |k: &str| (k == "WORKFLOW_SERVER_ERROR_RATE").then(|| v.to_owned())
        };
        let parsed: Server = server.parse_with(&error_rate("1")).unwrap();
        assert_eq!(parsed.error_rate, 1.0, "an integer is a number too");
        let err = server
            .parse_with::<Server>(&error_rate("lots"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable WORKFLOW_SERVER_ERROR_RATE=\"lots\": invalid type: string \"lots\", expected f64"
        );

        for (text, line, needle) in [
            ("[server]\nlatency_ms = 500", 2, "500 is more than 100"),
            ("[server]\n\nlatncy_ms = 5", 3, "unknown field `latncy_ms`"),
            ("[server]\nname = 5", 2, "invalid type: integer `5`"),
        ] {
            let (config, _) = load_with(Some(text), &[], Overrides::default());
            let err = config
                .unwrap()
                .server
                .parse_with::<Server>(&|_| None)
                .unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains("harness.toml"), "{msg}");
            assert!(
                msg.contains(&format!("line {line}")) && msg.contains(needle),
                "{text}: {msg}"
            );
        }
        let (config, _) = load_with(Some("[server]\nnot_checked = 1"), &[], Overrides::default());
        assert!(config.is_ok(), "[server] is the factory's to check");
        let none: Server = Config::default().server.parse_with(&|_| None).unwrap();
        assert_eq!(none, Server::default());
    }

    /// The rows of the README's configuration table: key, env, flag, default.
    fn readme_rows() -> Vec<[String; 4]> {
        let readme = include_str!("../README.md");
        let header = "| key | env | flag | default | meaning |";
        let table = readme
            .split(header)
            .nth(1)
            .expect("the configuration table");
        table
            .lines()
            .skip(2)
            .take_while(|line| line.starts_with('|'))
            .map(|line| {
                let cells: Vec<String> = line
                    .split('|')
                    .skip(1)
                    .map(|c| c.trim().trim_matches('`').to_owned())
                    .collect();
                [0, 1, 2, 3].map(|i| cells.get(i).cloned().unwrap_or_default())
            })
            .collect()
    }

    #[test]
    fn the_readme_lists_exactly_the_declared_settings() {
        let mut declared: Vec<[String; 4]> = settings()
            .map(|s| {
                let flag = s.flag.unwrap_or_default().to_owned();
                [s.key.to_owned(), s.env.to_owned(), flag, s.default_value()]
            })
            .collect();
        let mut listed = readme_rows();
        let print: Vec<String> = declared
            .iter()
            .map(|[k, e, f, d]| format!("| `{k}` | `{e}` | {f} | {d} |"))
            .collect();
        declared.sort();
        listed.sort();
        assert_eq!(listed, declared, "declared:\n{}", print.join("\n"));
    }
}

#[cfg(test)]
mod schedule_tests {
    use super::*;

    fn load_file(text: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), text).unwrap();
        load(&Overrides::default(), &|_| None, dir.path())
    }

    #[test]
    fn schedules_and_alerts_are_read_from_the_file() {
        let config = load_file(
            r#"
[[schedule]]
name = "shop"
cron = "*/5 * * * *"
timezone = "Europe/Berlin"
tags = ["shop"]
config = { base_url = "https://staging.example.com", concurrency = 4, retries = 2 }

[[schedule]]
name = "all"
cron = "@hourly"

[[alert]]
url = "https://hooks.example.com/T0/B0/x"
format = "slack"
schedules = ["shop"]
retry_delay = "5s"
"#,
        )
        .unwrap();
        assert_eq!(config.schedules.len(), 2);
        let shop = &config.schedules[0];
        assert_eq!(
            (shop.name.as_str(), shop.cron.expression(), shop.cron.zone()),
            ("shop", "*/5 * * * *", "Europe/Berlin")
        );
        assert_eq!(shop.tags, ["shop"]);
        assert_eq!(shop.config["retries"], 2);
        assert_eq!(config.schedules[1].cron.zone(), "UTC");
        let alert = &config.alerts[0];
        assert_eq!(alert.format, crate::schedule::AlertFormat::Slack);
        assert_eq!(alert.retry_delay, Duration::from_secs(5));
        assert_eq!(alert.retries, 5);
        assert!(alert.covers("shop") && !alert.covers("all"));
    }

    #[test]
    fn the_readme_s_schedule_example_is_valid() {
        let readme = include_str!("../README.md");
        let section = readme
            .split_once("### Scheduled runs and alerts")
            .expect("the README's section")
            .1;
        let block = section
            .split_once("```toml\n")
            .and_then(|(_, rest)| rest.split_once("```"))
            .expect("a toml block")
            .0;
        let config = load_file(block).unwrap();
        assert_eq!(config.schedules[0].name, "shop-every-5-min");
        assert_eq!(config.alerts.len(), 1);
    }

    #[test]
    fn bad_entries_are_errors_naming_the_entry_and_key() {
        for (text, says) in [
            (
                "[[schedule]]\nname = \"a\"\ncron = \"* * *\"",
                "schedule \"a\": cron \"* * *\"",
            ),
            (
                "[[schedule]]\nname = \"a\"\ncron = \"* * * * *\"\ntimezone = \"Mars\"",
                "schedule \"a\": timezone \"Mars\"",
            ),
            (
                "[[schedule]]\nname = \"a\"\ncron = \"* * * * *\"\nconfig = { colour = 1 }",
                "schedule \"a\": unknown config keys: colour",
            ),
            (
                "[[schedule]]\nname = \"a\"\ncron = \"* * * * *\"\nconfig = { retries = \"x\" }",
                "schedule \"a\": config.retries",
            ),
            (
                "[[schedule]]\nname = \"a\"\ncron = \"* * * * *\"\nevery = 5",
                "[[schedule]] #1: unknown field `every`",
            ),
            ("[[schedule]]\ncron = \"* * * * *\"", "missing field `name`"),
            (
                "[[schedule]]\nname = \"a\"\ncron = \"* * * * *\"\n[[schedule]]\nname = \"a\"\ncron = \"@daily\"",
                "schedule \"a\": the name is given twice",
            ),
            (
                "[[alert]]\nurl = \"ftp://x\"",
                "[[alert]] #1: url \"ftp://x\"",
            ),
            (
                "[[alert]]\nurl = \"http://x\"\nformat = \"teams\"",
                "[[alert]] #1: unknown variant `teams`",
            ),
            (
                "[[alert]]\nurl = \"http://x\"\nretry_delay = \"soon\"",
                "[[alert]] #1: retry_delay \"soon\"",
            ),
        ] {
            let error = load_file(text).unwrap_err().to_string();
            assert!(error.contains(says), "{text}\n=> {error}");
            assert!(error.contains(FILE_NAME), "names the file: {error}");
        }
        // The entry's own line, not the first entry's.
        let text = "concurrency = 2\n\n[[schedule]]\nname = \"a\"\ncron = \"@daily\"\n\n\
                    [[schedule]]\nname = \"b\"\ncron = \"* *\"\n";
        let error = load_file(text).unwrap_err().to_string();
        assert!(
            error.contains("schedule \"b\": cron \"* *\"")
                && error.contains("(the entry at line 7)"),
            "{error}"
        );
    }
}
