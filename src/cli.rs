//! The suite binary's command line: libtest's flags (through libtest-mimic) plus ours.
//!
//! libtest takes any number of positional filters and runs the tests matching any of them;
//! libtest-mimic's [`Arguments`] holds one. So the positional argument is widened here to take
//! many ([`Cli::filters`]), the selection is computed from all of them
//! ([`Cli::is_filtered_out`]), and libtest-mimic gets [`Cli::libtest_for`]: arguments without
//! a filter that skip exactly the workflows left out, so its listing, its lines and its
//! "N filtered out" count describe the same selection.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{ArgAction, CommandFactory, FromArgMatches, Parser};
use libtest_mimic::{Arguments, Trial};

use crate::config::{self, NoTests, Overrides};

/// The id clap gives libtest-mimic's positional `filter` field.
const FILTER_ID: &str = "filter";

/// `cargo test --test workflows -- [LIBTEST FLAGS] [HARNESS FLAGS] [FILTER]...`
///
/// Parse it with [`Cli::from_env`] or [`Cli::try_from_iter`]: they collect every positional
/// filter into [`Cli::filters`] (clap's own `Cli::parse` keeps only the first).
#[derive(Debug, Parser)]
#[command(
    name = "workflows",
    about = "Runs the registered workflows concurrently and writes JSON, CSV and JUnit reports.",
    long_about = None,
    help_template = "{about}\n\nUSAGE: cargo test --test workflows -- [OPTIONS] [FILTER]...\n\n{all-args}",
    disable_version_flag = true,
    mut_arg("test_threads", |a| a.help(
        "How many workflows run at once: the engine's concurrency (default: harness.toml's \
         `concurrency`) [env: WORKFLOW_CONCURRENCY]"
    )),
    mut_arg(FILTER_ID, |a| a
        .num_args(1..)
        .action(ArgAction::Append)
        .help(
            "Run the workflows whose names contain any of the FILTERs (with --exact: equal \
             one of them); --skip removes from that"
        ))
)]
pub struct Cli {
    /// libtest's own flags: --exact, --skip, --list, --ignored, --test-threads, …; its
    /// `filter` is always `None` here, the filters are in [`Cli::filters`].
    #[command(flatten)]
    pub libtest: Arguments,

    /// The positional filters, in order: a workflow is selected when it matches any of them
    /// (all workflows when there are none).
    #[arg(skip)]
    pub filters: Vec<String>,

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

    /// When the filters select no workflow: pass (exit 0, silent), warn (exit 0, a warning;
    /// the default) or fail (exit 4) [env: WORKFLOW_NO_TESTS].
    #[arg(long, value_name = "pass|warn|fail", value_parser = config::parse_no_tests)]
    pub no_tests: Option<NoTests>,
}

impl Cli {
    /// Parses the process's arguments; prints the error or the help and exits as clap does
    /// (code 2 for a usage error).
    pub fn from_env() -> Self {
        Cli::try_from_iter(std::env::args_os()).unwrap_or_else(|error| error.exit())
    }

    /// Parses `args` (the first is the program's name), collecting every positional filter.
    pub fn try_from_iter<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let mut matches = Cli::command().try_get_matches_from(args)?;
        let filters: Vec<String> = matches
            .get_many::<String>(FILTER_ID)
            .map(|values| values.cloned().collect())
            .unwrap_or_default();
        let mut cli = Cli::from_arg_matches_mut(&mut matches)?;
        cli.filters = filters;
        cli.libtest.filter = None;
        Ok(cli)
    }

    /// Whether libtest leaves `trial` out: it matches none of the filters (substring, or
    /// equal with `--exact`), or one of the `--skip` filters, or it is not ignored under
    /// `--ignored`. libtest-mimic's own predicate, applied to each filter in turn.
    pub fn is_filtered_out(&self, trial: &Trial) -> bool {
        if self.filters.is_empty() {
            return self.libtest.is_filtered_out(trial);
        }
        self.filters.iter().all(|filter| {
            let one = Arguments {
                filter: Some(filter.clone()),
                ..self.libtest.clone()
            };
            one.is_filtered_out(trial)
        })
    }

    /// The arguments to give libtest-mimic with `trials`: no filter, and `--exact --skip` of
    /// each trial [`Cli::is_filtered_out`] leaves out, so libtest-mimic lists, runs and counts
    /// ("N filtered out") exactly the selection of all the filters.
    pub fn libtest_for(&self, trials: &[Trial]) -> Arguments {
        let skip: Vec<String> = trials
            .iter()
            .filter(|t| self.is_filtered_out(t))
            .map(|t| t.name().to_owned())
            .collect();
        Arguments {
            filter: None,
            exact: true,
            skip,
            ..self.libtest.clone()
        }
    }

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
            no_tests: self.no_tests,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_from_iter(std::iter::once("workflows").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    fn selected(cli: &Cli, names: &[&str]) -> Vec<String> {
        names
            .iter()
            .map(|n| Trial::test(*n, || Ok(())))
            .filter(|t| !cli.is_filtered_out(t))
            .map(|t| t.name().to_owned())
            .collect()
    }

    const NAMES: [&str; 5] = [
        "auction-bid",
        "auction-monitor",
        "cart",
        "cart-coupon",
        "login",
    ];

    #[test]
    fn every_positional_filter_is_kept_wherever_it_stands() {
        let cli = parse(&["auction", "--exact", "cart", "--skip", "x", "login"]);
        assert_eq!(cli.filters, ["auction", "cart", "login"]);
        assert_eq!(cli.libtest.filter, None);
        assert!(cli.libtest.exact);
        assert_eq!(cli.libtest.skip, ["x"]);
        assert!(parse(&[]).filters.is_empty());
    }

    #[test]
    fn filters_select_the_union_with_exact_and_skip() {
        let cli = parse(&["auction", "coupon"]);
        assert_eq!(
            selected(&cli, &NAMES),
            ["auction-bid", "auction-monitor", "cart-coupon"]
        );
        let cli = parse(&["--exact", "cart", "login", "auction"]);
        assert_eq!(selected(&cli, &NAMES), ["cart", "login"]);
        let cli = parse(&["auction", "cart", "--skip", "monitor", "--skip", "coupon"]);
        assert_eq!(selected(&cli, &NAMES), ["auction-bid", "cart"]);
        let cli = parse(&["--skip", "a", "--skip", "o"]);
        assert_eq!(selected(&cli, &NAMES), Vec::<String>::new());
        let cli = parse(&[]);
        assert_eq!(selected(&cli, &NAMES), NAMES);
    }

    #[test]
    fn libtest_gets_no_filter_and_skips_exactly_the_left_out() {
        let cli = parse(&["auction", "login", "--skip", "monitor"]);
        let trials: Vec<Trial> = NAMES.iter().map(|n| Trial::test(*n, || Ok(()))).collect();
        let args = cli.libtest_for(&trials);
        assert_eq!(args.filter, None);
        assert!(args.exact);
        assert_eq!(args.skip, ["auction-monitor", "cart", "cart-coupon"]);
        let kept: Vec<&str> = trials
            .iter()
            .filter(|t| !args.is_filtered_out(t))
            .map(|t| t.name())
            .collect();
        assert_eq!(kept, ["auction-bid", "login"]);
    }

    #[test]
    fn help_shows_the_usage_line_and_many_filters() {
        let help = Cli::command().render_long_help().to_string();
        assert!(
            help.starts_with("Runs the registered workflows concurrently"),
            "{help}"
        );
        assert!(
            help.contains("USAGE: cargo test --test workflows -- [OPTIONS] [FILTER]..."),
            "{help}"
        );
        assert!(help.contains("--no-tests <pass|warn|fail>"), "{help}");
        assert!(
            !help.contains("Cli::from_env"),
            "no rustdoc in --help:\n{help}"
        );
    }

    #[test]
    fn no_tests_flag_parses_and_refuses_other_values() {
        assert_eq!(parse(&["--no-tests", "fail"]).no_tests, Some(NoTests::Fail));
        assert_eq!(parse(&[]).no_tests, None);
        let error = Cli::try_from_iter(["workflows", "--no-tests", "maybe"]).unwrap_err();
        assert!(
            error.to_string().contains("expected pass, warn or fail"),
            "{error}"
        );
    }
}
