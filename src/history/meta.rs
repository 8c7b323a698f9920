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
    /// The schedule that started it (serve mode's scheduled runs).
    pub schedule: Option<String>,
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
/// (`workflows-1a2b…` → `workflows`), prefixed with its package (`CARGO_PKG_NAME`, which
/// cargo and nextest set, else the `[package] name` of `root/Cargo.toml`), so suites of
/// several projects can share one PostgreSQL database, and a binary started directly (as
/// `scripts/browser-test.sh` does) is the same suite as under `cargo test`.
pub fn suite_name(env: &dyn Fn(&str) -> Option<String>, root: &Path) -> String {
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
    let package = env("CARGO_PKG_NAME")
        .filter(|p| !p.is_empty())
        .or_else(|| package_name(&root.join("Cargo.toml")));
    match package {
        Some(package) => format!("{package}/{stem}"),
        None => stem,
    }
}

/// `[package] name` of a manifest.
fn package_name(manifest: &Path) -> Option<String> {
    let text = std::fs::read_to_string(manifest).ok()?;
    let table: toml::Table = text.parse().ok()?;
    Some(table.get("package")?.get("name")?.as_str()?.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_suite_is_the_package_and_the_binary_without_its_hash() {
        // This unit-test binary is `workflow_harness-<16 hex digits>`.
        let none = |_: &str| None;
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(suite_name(&none, dir.path()), "workflow_harness");
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[package]\nname = \"shop\"\n",
        )
        .unwrap();
        assert_eq!(suite_name(&none, dir.path()), "shop/workflow_harness");
        let cargo = |k: &str| (k == "CARGO_PKG_NAME").then(|| "cargo-says".to_owned());
        assert_eq!(
            suite_name(&cargo, dir.path()),
            "cargo-says/workflow_harness"
        );
    }

    #[test]
    fn ci_variables_come_before_git() {
        let env = |k: &str| match k {
            "GITHUB_SHA" => Some("abc".to_owned()),
            "GITHUB_REF_NAME" => Some("main".to_owned()),
            "GITHUB_RUN_ID" => Some("77".to_owned()),
            "WORKFLOW_SHARD" => Some("2/4".to_owned()),
            _ => None,
        };
        let meta = RunMeta::from_env(&env, Path::new("/nonexistent"));
        assert_eq!(meta.git_commit.as_deref(), Some("abc"));
        assert_eq!(meta.git_branch.as_deref(), Some("main"));
        assert_eq!(meta.ci_build.as_deref(), Some("77"));
        assert_eq!(meta.shard.as_deref(), Some("2/4"));
    }
}
