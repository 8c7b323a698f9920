//! The suite binary's history commands: `--history` / `--history-steps ID` print (nothing
//! runs), and `--last-failed` picks what to run again.

use std::path::Path;

use super::Journal;
use crate::cli::Cli;
use crate::config::Config;

/// `--history` or `--history-steps ID`: the table (or JSON, under `--format json`) on stdout.
/// `Err` carries the message of a store that could not be read.
pub(crate) fn print(cli: &Cli, config: &Config, suite: &str, root: &Path) -> Result<(), String> {
    let mut options = config.history.clone();
    // Asking for the history reads it even where recording is switched off.
    options.enabled = true;
    let mut journal = Journal::open(&options, &config.report_dir, root);
    let runs = cli.history_runs as usize;
    let history = journal.with(|store| match &cli.history_steps {
        Some(id) => store.step_history(suite, id, runs),
        None => store.workflow_history(suite, runs),
    });
    let Some(history) = history else {
        return Err(journal
            .error()
            .unwrap_or("the history database could not be opened")
            .to_owned());
    };
    if matches!(cli.libtest.format, Some(libtest_mimic::FormatSetting::Json)) {
        let json = serde_json::to_string_pretty(&history).map_err(|e| e.to_string())?;
        println!("{json}");
    } else {
        print!("{}", history.to_text());
    }
    Ok(())
}

/// What `--last-failed` runs: the ids to select, or why there is nothing (`Err(message)`,
/// `Ok(None)` when the latest run had nothing to rerun, with the message to print).
pub(crate) enum Rerun {
    /// Select exactly these (dependencies come as usual).
    Select(Vec<String>),
    /// The latest run had no failure: nothing to run (the message says which run).
    Nothing(String),
}

/// The workflows `--last-failed` selects from the latest recorded run of `suite`.
pub(crate) fn last_failed(journal: &mut Journal, suite: &str) -> Result<Rerun, String> {
    let where_ = journal
        .target()
        .map(|t| t.display())
        .unwrap_or_else(|| "the history (disabled: [history] enabled = false)".into());
    if !journal.is_open() {
        return Err(format!(
            "--last-failed needs the run history, which is not available ({})",
            journal.error().unwrap_or("history is disabled")
        ));
    }
    match journal.with(|store| store.last_run(suite)) {
        None => Err(format!(
            "--last-failed: cannot read the run history: {}",
            journal.error().unwrap_or("unknown error")
        )),
        Some(None) => Err(format!(
            "--last-failed: no run of {suite} is recorded in {where_}; run the suite once first"
        )),
        Some(Some(last)) if last.rerun.is_empty() => Ok(Rerun::Nothing(format!(
            "--last-failed: nothing to rerun: in the latest recorded run of {suite} ({}) all \
             {} workflow(s) passed",
            last.run_id, last.workflows
        ))),
        Some(Some(last)) => {
            eprintln!(
                "--last-failed: rerunning {} workflow(s) of run {}: {}",
                last.rerun.len(),
                last.run_id,
                last.rerun.join(", ")
            );
            Ok(Rerun::Select(last.rerun))
        }
    }
}
