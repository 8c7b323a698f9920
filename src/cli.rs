//! The suite binary's command line: libtest's flags (through libtest-mimic) plus ours.

use std::path::PathBuf;

use clap::Parser;

use crate::config::Overrides;

/// `cargo test --test workflows -- [LIBTEST FLAGS] [HARNESS FLAGS] [FILTER]`
#[derive(Debug, Parser)]
#[command(
    name = "workflows",
    about = "Runs the registered workflows concurrently and writes JSON, CSV and JUnit reports.",
    disable_version_flag = true
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
        }
    }
}
