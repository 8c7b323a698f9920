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

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Args, Command, CommandFactory, FromArgMatches, Parser};
use libtest_mimic::{Arguments, Trial};

use crate::config::{self, Overrides, Setting};
use crate::partition::Partition;

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

    /// The declared settings given as flags ([`config::settings`]).
    #[command(flatten)]
    pub settings: SettingFlags,

    /// The positional filters, in order: a workflow is selected when it matches any of them
    /// (all workflows when there are none).
    #[arg(skip)]
    pub filters: Vec<String>,

    /// Read settings from this file instead of ./harness.toml.
    #[arg(long, value_name = "PATH", env = "WORKFLOW_CONFIG")]
    pub config: Option<PathBuf>,

    /// Serve the HTTP API and dashboard on HOST:PORT (or a port on 127.0.0.1) instead of
    /// running the workflows once.
    #[arg(long, value_name = "ADDR")]
    pub serve: Option<String>,

    /// Run only workflows with this tag (repeatable: any of them; replaces `tags` of
    /// harness.toml).
    #[arg(long = "tag", value_name = "TAG", action = ArgAction::Append)]
    pub tags: Vec<String>,

    /// Leave out workflows with this tag (repeatable; replaces `skip_tags` of harness.toml).
    #[arg(long = "skip-tag", value_name = "TAG", action = ArgAction::Append)]
    pub skip_tags: Vec<String>,

    /// Run one shard of the selection: count:K/N, hash:K/N or duration:K/N (a workflow and
    /// its dependencies stay together; the reports record the shard for --merge-reports).
    #[arg(long, value_name = "KIND:K/N", env = "WORKFLOW_PARTITION", value_parser = parse_partition)]
    pub partition: Option<Partition>,

    /// Merge the report.json files, shard report folders or nextest fragment folders at these
    /// paths into one report set in the report directory, run nothing, and exit with the
    /// merged run's verdict (0, or 101 when a workflow failed).
    #[arg(long = "merge-reports", value_name = "PATH", num_args = 1..)]
    pub merge_reports: Vec<PathBuf>,

    /// With --merge-reports: a workflow in two reports keeps its later entry instead of
    /// refusing the merge.
    #[arg(long)]
    pub keep_latest: bool,
}

fn parse_partition(text: &str) -> Result<Partition, String> {
    text.parse()
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
        // Before the derive takes libtest's values out of `matches` (`--test-threads`).
        let settings = SettingFlags::from_arg_matches(&matches)?;
        let mut cli = Cli::from_arg_matches_mut(&mut matches)?;
        cli.filters = filters;
        cli.settings = settings;
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
            flags: self.settings.0.clone(),
        }
    }
}

/// The settings given on the command line, with their values as typed, in the order of
/// [`config::settings`]. Each declared flag becomes an argument, its help the setting's doc
/// comment with its default, variable and key; a flag libtest already has (`--test-threads`)
/// only gets that help.
#[derive(Debug, Clone, Default)]
pub struct SettingFlags(pub Vec<(&'static Setting, String)>);

/// The arguments a flag may have been parsed under: ours use the long name as id,
/// libtest-mimic's derive the field name.
fn ids(flag: &'static str) -> [String; 2] {
    let long = flag.trim_start_matches('-');
    [long.to_owned(), long.replace('-', "_")]
}

impl Args for SettingFlags {
    fn augment_args(mut cmd: Command) -> Command {
        for s in config::settings() {
            let Some(flag) = s.flag else { continue };
            let help = format!(
                "{} [default: {}] [env: {}] [harness.toml: {}]",
                s.help(),
                s.default_value(),
                s.env,
                s.key
            );
            let long = flag.trim_start_matches('-');
            let existing = ids(flag).into_iter().find(|id| {
                cmd.get_arguments()
                    .any(|a| a.get_id().as_str() == id.as_str())
            });
            if let Some(id) = existing {
                cmd = cmd.mut_arg(id, |a| a.help(help));
                continue;
            }
            let arg = Arg::new(long).long(long).help(help);
            cmd = cmd.arg(match s.metavar {
                None => arg.action(ArgAction::SetTrue),
                Some(metavar) => arg
                    .value_name(metavar)
                    .value_parser(move |v: &str| s.check(v).map(|()| v.to_owned())),
            });
        }
        cmd
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for SettingFlags {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let given = |s: &'static Setting| {
            let id = ids(s.flag?).into_iter().find(|id| {
                matches.ids().any(|known| known.as_str() == id.as_str())
                    && matches.value_source(id) == Some(ValueSource::CommandLine)
            })?;
            let value = match s.metavar {
                None => "true".to_owned(),
                Some(_) => matches.get_raw(&id)?.next()?.to_string_lossy().into_owned(),
            };
            Some((s, value))
        };
        Ok(SettingFlags(config::settings().filter_map(given).collect()))
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = SettingFlags::from_arg_matches(matches)?;
        Ok(())
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
    fn declared_flags_are_collected_in_declaration_order() {
        let cli = parse(&["--no-tests", "fail", "--fail-fast", "--test-threads", "3"]);
        let given: Vec<(&str, &str)> = cli
            .settings
            .0
            .iter()
            .map(|(s, v)| (s.key, v.as_str()))
            .collect();
        assert_eq!(
            given,
            [
                ("fail_fast", "true"),
                ("concurrency", "3"),
                ("no_tests", "fail")
            ]
        );
        assert_eq!(cli.libtest.test_threads, Some(3), "libtest keeps its flag");
        assert!(parse(&["seq"]).settings.0.is_empty());
        let error = Cli::try_from_iter(["workflows", "--no-tests", "maybe"]).unwrap_err();
        assert!(
            error.to_string().contains("expected pass, warn or fail"),
            "{error}"
        );
    }

    #[test]
    fn help_is_generated_from_the_declarations() {
        let help = Cli::command().render_long_help().to_string();
        for s in config::settings() {
            if let Some(flag) = s.flag {
                assert!(help.contains(flag), "{flag} missing:\n{help}");
                assert!(help.contains(&format!("[env: {}]", s.env)), "{help}");
            }
        }
        assert!(
            help.contains("How many workflows run at once"),
            "--test-threads gets the help of `concurrency`:\n{help}"
        );
    }
}
