//! The suite binary's command line: libtest's flags (through libtest-mimic) plus ours.

use std::path::PathBuf;

use clap::Parser;

use crate::config::Overrides;

/// `cargo test --test workflows -- [LIBTEST FLAGS] [HARNESS FLAGS] [FILTER]`
#[derive(Debug, Parser)]
#[command(
    name = "workflows",
    about = "Runs the registered workflows concurrently and writes JSON, CSV and JUnit reports.",
    help_template = "{about}\n\nUSAGE: cargo test --test workflows -- [OPTIONS] [FILTER]\n\n{all-args}",
    disable_version_flag = true,
    mut_arg("test_threads", |a| a.help(
        "How many workflows run at once: the engine's concurrency (default: harness.toml's \
         `concurrency`) [env: WORKFLOW_CONCURRENCY]"
    ))
)]
pub struct Cli {
    /// libtest's own flags: FILTER, --exact, --skip, --list, --ignored, --test-threads, …
    #[command(flatten)]
    pub libtest: libtest_mimic::Arguments,

    /// Run against this deployment instead of the embedded server [env: WORKFLOW_BASE_URL].
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,

    /// Read settings from this file instead of ./harness.toml [env: WORKFLOW_CONFIG].
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Write reports into this directory [env: WORKFLOW_REPORT_DIR].
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,

    /// Reports to write, comma-separated: json,csv,junit [env: WORKFLOW_REPORT_FORMATS].
    #[arg(long, value_name = "LIST")]
    pub report_formats: Option<String>,

    /// Default per-workflow deadline, e.g. 30s [env: WORKFLOW_TIMEOUT].
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,

    /// Default deadline of each step [env: WORKFLOW_STEP_TIMEOUT].
    #[arg(long, value_name = "DURATION")]
    pub step_timeout: Option<String>,

    /// Deadline of the whole run [env: WORKFLOW_RUN_TIMEOUT].
    #[arg(long, value_name = "DURATION")]
    pub run_timeout: Option<String>,

    /// Retry a failed workflow up to N times [env: WORKFLOW_RETRIES].
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,

    /// Count flaky workflows (failed, then passed on a retry) as failed [env: WORKFLOW_FLAKY_FAILS].
    #[arg(long)]
    pub flaky_fails: bool,

    /// Stop starting workflows after the first failure [env: WORKFLOW_FAIL_FAST].
    #[arg(long, conflicts_with = "max_fail")]
    pub fail_fast: bool,

    /// Stop starting workflows after N failures [env: WORKFLOW_MAX_FAIL].
    #[arg(long, value_name = "N")]
    pub max_fail: Option<usize>,

    /// Do not run the dependencies of selected workflows unless selected [env: WORKFLOW_NO_DEPS].
    #[arg(long)]
    pub no_deps: bool,

    /// Serve the HTTP API and dashboard on HOST:PORT (or a port on 127.0.0.1) instead of
    /// running the workflows once.
    #[arg(long, value_name = "ADDR")]
    pub serve: Option<String>,
}

impl Cli {
    /// The settings the command line overrides.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            config: self.config.clone(),
            base_url: self.base_url.clone(),
            concurrency: self.libtest.test_threads,
            timeout: self.timeout.clone(),
            report_dir: self.report_dir.clone(),
            report_formats: self.report_formats.clone(),
            step_timeout: self.step_timeout.clone(),
            run_timeout: self.run_timeout.clone(),
            retries: self.retries,
            flaky_fails: self.flaky_fails,
            max_fail: if self.fail_fast {
                Some(1)
            } else {
                self.max_fail
            },
            no_deps: self.no_deps,
        }
    }
}
