//! What a recorded run says about where it ran: the suite, the source, the git commit and
//! branch, the CI build and shard, found in the environment (or asked of `git`).

use std::path::Path;
use std::process::Command;

/// Which front end ran a recorded run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// `cargo test` (the suite binary, one process).
    Cargo,
    /// One process of a nextest run; every process records into the run of `NEXTEST_RUN_ID`.
    Nextest,
    /// A run started through serve mode's API.
    Serve,
    /// The programmatic [`Executor`](crate::Executor).
    Executor,
}

impl Source {
    /// The name stored in `runs.source`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Cargo => "cargo",
            Source::Nextest => "nextest",
            Source::Serve => "serve",
            Source::Executor => "executor",
        }
    }
}

/// The run-level facts recorded with a run's workflows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunMeta {
    /// The run's key in the store: the report's run id, nextest's `NEXTEST_RUN_ID` (shared by
    /// its processes), or serve mode's `run-N`.
    pub run_id: String,
    /// The suite it belongs to (queries only look at runs of one suite).
    pub suite: String,
    /// Which front end ran it (`None` reads as cargo).
    pub source: Option<Source>,
    /// The base URL the workflows ran against (unset: the embedded server).
    pub base_url: Option<String>,
    /// What was selected: the filters and flags as given (empty: everything).
    pub selection: String,
    /// The process's exit code, when known.
    pub exit_code: Option<i32>,
    /// The shard (`WORKFLOW_SHARD`, e.g. `2/4`), if any.
    pub shard: Option<String>,
    /// The git commit.
    pub git_commit: Option<String>,
    /// The git branch.
    pub git_branch: Option<String>,
    /// The CI build id.
    pub ci_build: Option<String>,
    /// Serve mode's run number (the N of `run-N`).
    pub serve_seq: Option<i64>,
}

impl RunMeta {
    /// The facts of the environment: git commit and branch (CI variables first, else `git`
    /// in `dir`), the CI build id and the shard.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>, dir: &Path) -> Self {
        let first = |vars: &[&str]| {
            vars.iter()
                .find_map(|v| env(v).filter(|value| !value.trim().is_empty()))
        };
        let git_commit = first(&[
            "GITHUB_SHA",
            "CI_COMMIT_SHA",
            "GIT_COMMIT",
            "BUILDKITE_COMMIT",
        ])
        .or_else(|| git(dir, &["rev-parse", "HEAD"]));
        let git_branch = first(&[
            "GITHUB_HEAD_REF",
            "GITHUB_REF_NAME",
            "CI_COMMIT_REF_NAME",
            "GIT_BRANCH",
            "BUILDKITE_BRANCH",
        ])
        .or_else(|| git(dir, &["rev-parse", "--abbrev-ref", "HEAD"]).filter(|b| b != "HEAD"));
        RunMeta {
            git_commit,
            git_branch,
            ci_build: first(&[
                "GITHUB_RUN_ID",
                "CI_PIPELINE_ID",
                "BUILDKITE_BUILD_ID",
                "BUILD_ID",
                "BUILD_NUMBER",
            ]),
            shard: first(&["WORKFLOW_SHARD"]),
            ..RunMeta::default()
        }
    }
}

/// `git ARGS` in `dir`, its first line; `None` when git is missing or says no.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().next()?.trim();
    (out.status.success() && !line.is_empty()).then(|| line.to_owned())
}

/// The suite's name: the test binary's name without cargo's `-<hash>` suffix
/// (`workflows-1a2b…` → `workflows`), prefixed with the package (`CARGO_PKG_NAME`, which
/// cargo and nextest set) so suites of several projects can share one PostgreSQL database.
pub fn suite_name(env: &dyn Fn(&str) -> Option<String>) -> String {
    let exe = std::env::current_exe().ok();
    let stem = exe
        .as_deref()
        .and_then(|p| p.file_stem())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "suite".into());
    let stem = match stem.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()) => {
            name.to_owned()
        }
        _ => stem,
    };
    match env("CARGO_PKG_NAME").filter(|p| !p.is_empty()) {
        Some(package) => format!("{package}/{stem}"),
        None => stem,
    }
}
