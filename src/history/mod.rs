//! Run history: every run recorded at its end, in one transaction, in SQLite (by default,
//! `<report dir>/history.sqlite`) or PostgreSQL (shared by a team), and the questions asked
//! of it: which workflows failed last time (`--last-failed`), how each workflow and step did
//! over the last runs (`--history`), which steps got slower than they used to be
//! (regressions), and serve mode's run list.
//!
//! - `db`: the two backends behind one interface (the same SQL for both);
//! - `schema`: the tables and their versioned migrations;
//! - `record`: writing a finished run; `query`: reading runs back; `stats`: per-workflow
//!   and per-step figures; `regress`: regressions; `meta`: where a run ran; `journal`: the
//!   harness's use of a store that may fail (reported once, never failing the run).

pub(crate) mod command;
mod db;
mod journal;
mod meta;
mod query;
mod record;
mod regress;
mod schedules;
mod schema;
mod stats;

pub use db::Target;
pub use journal::{DEFAULT_FILE, Journal, ServeHistory};
pub use meta::{RunMeta, Source, suite_name};
pub use query::{LastRun, RunSummary};
pub use regress::{Regression, Thresholds};
pub use schedules::{SlotRecord, SlotState};
pub use stats::{History, HistoryRow, Trend};

use db::Db;

/// The newest schema version this binary knows (and writes).
pub const SCHEMA_VERSION: u32 = schema::LATEST;

/// What went wrong with the history store; the message names the database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// The database was written by a newer workflow-harness; nothing was changed.
    #[error(
        "history database {target} has schema version {found}, newer than this binary's \
         {supported}: use a newer workflow-harness, or point [history] url elsewhere \
         (the database was left untouched)"
    )]
    Newer {
        /// The database.
        target: String,
        /// Its version.
        found: u32,
        /// The newest this binary knows.
        supported: u32,
    },
    /// Connecting, reading or writing failed.
    #[error("history database {target}: {message}")]
    Db {
        /// The database.
        target: String,
        /// What failed.
        message: String,
    },
}

/// An open history database.
pub struct Store {
    db: Db,
    target: Target,
    keep_runs: usize,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({}, {})", self.db.backend(), self.target.display())
    }
}

impl Store {
    /// Opens (creating and migrating it when needed) the database at `target`. A database
    /// with a newer schema is refused and left as it was.
    pub fn open(target: &Target) -> Result<Store, HistoryError> {
        Store::open_at(target, SCHEMA_VERSION)
    }

    /// Opens the database, migrating it to `version` at most: what an older binary did.
    /// For migration tests.
    #[doc(hidden)]
    pub fn open_at(target: &Target, version: u32) -> Result<Store, HistoryError> {
        // A lock conflict SQLite answers at once (see `Db::write`) is tried again, from the
        // connection on, for up to the busy timeout.
        let started = std::time::Instant::now();
        let mut pause = std::time::Duration::from_millis(5);
        loop {
            match Store::try_open(target, version) {
                Err(HistoryError::Db { message, .. })
                    if matches!(target, Target::Sqlite(_))
                        && db::is_busy(&message)
                        && started.elapsed() < db::BUSY_TIMEOUT =>
                {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(std::time::Duration::from_millis(500));
                }
                result => return result,
            }
        }
    }

    fn try_open(target: &Target, version: u32) -> Result<Store, HistoryError> {
        let fail = |message: String| HistoryError::Db {
            target: target.display(),
            message,
        };
        let mut db = Db::connect(target).map_err(fail)?;
        let found = schema::version(&mut db).map_err(fail)?;
        if found > SCHEMA_VERSION {
            return Err(HistoryError::Newer {
                target: target.display(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if let Db::Sqlite(_) = db {
            // Readers never wait for a writer, writers queue on the busy timeout.
            // `synchronous = NORMAL` is WAL's recommended setting: durable at checkpoints.
            db.query("PRAGMA journal_mode = WAL", &[]).map_err(fail)?;
            db.batch("PRAGMA synchronous = NORMAL").map_err(fail)?;
        }
        if found < version {
            schema::migrate(&mut db, version.min(SCHEMA_VERSION)).map_err(fail)?;
        }
        Ok(Store {
            db,
            target: target.clone(),
            keep_runs: 1000,
        })
    }

    /// Keeps at most `n` runs per suite: recording prunes the oldest beyond.
    pub fn keep_runs(mut self, n: usize) -> Self {
        self.keep_runs = n.max(1);
        self
    }

    /// Where it is.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The database's schema version.
    pub fn version(&mut self) -> Result<u32, HistoryError> {
        let result = schema::version(&mut self.db);
        result.map_err(|m| self.error(m))
    }

    fn error(&self, message: String) -> HistoryError {
        HistoryError::Db {
            target: self.target.display(),
            message,
        }
    }
}
