//! The history as a run uses it: a store that may be missing, locked, corrupt or
//! unreachable. The first failure is reported once on stderr and the store is dropped for
//! the rest of the process; nothing about the run (its reports, its exit code) changes.

use std::path::Path;

use super::db::Target;
use super::{HistoryError, Store};
use crate::config::HistoryOptions;

/// The file name of the default SQLite history, in the report directory.
pub const DEFAULT_FILE: &str = "history.sqlite";

/// A history store, or the memory that it failed.
#[derive(Debug)]
pub struct Journal {
    store: Option<Store>,
    target: Option<Target>,
    error: Option<String>,
}

impl Journal {
    /// The store `options` name (`url`, else `<report_dir>/history.sqlite`; relative SQLite
    /// paths start at `root`), opened; a failure is reported on stderr. Disabled: no store.
    pub fn open(options: &HistoryOptions, report_dir: &Path, root: &Path) -> Journal {
        if !options.enabled {
            return Journal::disabled();
        }
        let target = match &options.url {
            Some(url) => match Target::parse(url, root) {
                Ok(target) => target,
                Err(reason) => {
                    let mut journal = Journal::disabled();
                    journal.report(&format!("[history] url {url:?}: {reason}"));
                    return journal;
                }
            },
            None => Target::Sqlite(report_dir.join(DEFAULT_FILE)),
        };
        Journal::open_target(target, options.keep_runs)
    }

    /// The store at `target`, opened; a failure is reported on stderr.
    pub fn open_target(target: Target, keep_runs: usize) -> Journal {
        let mut journal = Journal {
            store: None,
            target: Some(target.clone()),
            error: None,
        };
        match Store::open(&target) {
            Ok(store) => journal.store = Some(store.keep_runs(keep_runs)),
            Err(error) => journal.fail(error),
        }
        journal
    }

    /// No history.
    pub fn disabled() -> Journal {
        Journal {
            store: None,
            target: None,
            error: None,
        }
    }

    /// Whether a store is open.
    pub fn is_open(&self) -> bool {
        self.store.is_some()
    }

    /// Where the history is (also after it failed).
    pub fn target(&self) -> Option<&Target> {
        self.target.as_ref()
    }

    /// Why it is not open, when it failed.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Runs `work` on the store; a failure is reported (once per process) and closes it.
    pub fn with<T>(
        &mut self,
        work: impl FnOnce(&mut Store) -> Result<T, HistoryError>,
    ) -> Option<T> {
        let store = self.store.as_mut()?;
        match work(store) {
            Ok(value) => Some(value),
            Err(error) => {
                self.fail(error);
                None
            }
        }
    }

    fn fail(&mut self, error: HistoryError) {
        self.store = None;
        self.report(&error.to_string());
    }

    fn report(&mut self, message: &str) {
        if self.error.is_none() {
            eprintln!(
                "warning: run history: {message}; history is off for this run (its reports \
                 and exit code are not affected)"
            );
            self.error = Some(message.to_owned());
        }
    }
}

/// Serve mode's history: one journal shared by every run (used off the async runtime, in
/// `spawn_blocking`), the suite, and the number the server's first run gets (one past the
/// highest recorded, so ids stay unique across restarts).
#[derive(Debug)]
pub struct ServeHistory {
    /// The store.
    pub journal: std::sync::Mutex<Journal>,
    /// The suite whose runs are listed and recorded.
    pub suite: String,
    /// The N of this server's first `run-N`.
    pub first_run: u64,
}

impl ServeHistory {
    /// Wraps `journal`, reading the highest recorded serve-mode run number (blocking).
    pub fn new(mut journal: Journal, suite: String) -> ServeHistory {
        let last = journal.with(|store| store.last_serve_seq()).unwrap_or(0);
        ServeHistory {
            journal: std::sync::Mutex::new(journal),
            suite,
            first_run: u64::try_from(last).unwrap_or(0) + 1,
        }
    }

    /// Runs `work` on the store (blocking); `None` when the history is off or failed.
    pub fn with<T>(&self, work: impl FnOnce(&mut Store) -> Result<T, HistoryError>) -> Option<T> {
        let mut journal = self.journal.lock().unwrap_or_else(|p| p.into_inner());
        journal.with(work)
    }
}
