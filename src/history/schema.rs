//! The schema and its versioned migrations, the same SQL for both backends.
//!
//! `schema_version` holds one row: the version the database is at. Opening reads it before
//! changing anything: a database newer than this binary is refused and left as it was; an
//! older one is migrated step by step, in one transaction that also holds a lock, so two
//! processes opening a fresh database at once migrate it once.

use super::db::{Db, DbResult, Value};

/// The schema version this binary writes.
pub const LATEST: u32 = MIGRATIONS.len() as u32;

/// Each migration takes the schema from its index to its index + 1.
const MIGRATIONS: &[&str] = &[
    // 1: runs, their workflows and the workflows' steps.
    "CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        suite TEXT NOT NULL,
        source TEXT NOT NULL,
        started_at BIGINT NOT NULL,
        ended_at BIGINT NOT NULL,
        base_url TEXT,
        selection TEXT NOT NULL,
        exit_code BIGINT,
        interrupted BIGINT NOT NULL,
        shard TEXT,
        git_commit TEXT,
        git_branch TEXT,
        ci_build TEXT
    );
    CREATE INDEX runs_by_suite ON runs (suite, started_at);
    CREATE TABLE workflows (
        run_id TEXT NOT NULL,
        workflow_id TEXT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        failure_kind TEXT,
        error TEXT,
        started_at BIGINT NOT NULL,
        duration_ms BIGINT NOT NULL,
        attempts BIGINT NOT NULL,
        flaky BIGINT NOT NULL,
        tags TEXT NOT NULL,
        as_dependency BIGINT NOT NULL,
        PRIMARY KEY (run_id, workflow_id)
    );
    CREATE TABLE steps (
        run_id TEXT NOT NULL,
        workflow_id TEXT NOT NULL,
        idx BIGINT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        duration_ms BIGINT NOT NULL,
        error TEXT,
        optional BIGINT NOT NULL,
        PRIMARY KEY (run_id, workflow_id, idx)
    );",
    // 2: serve mode's runs: their number (`run-N`, unique across restarts) and their report,
    // served again after a restart.
    "ALTER TABLE runs ADD COLUMN serve_seq BIGINT;
    CREATE TABLE reports (
        run_id TEXT PRIMARY KEY,
        report TEXT NOT NULL
    );",
    // 3: scheduled runs: the schedule a run belongs to, every slot of a schedule (run or
    // skipped; a restarted server never runs a slot it finds here), and which workflows of a
    // schedule are failing (so an alert is not sent again after a restart), and the schedules
    // added through the API (back after a restart).
    "ALTER TABLE runs ADD COLUMN schedule TEXT;
    CREATE TABLE schedule_slots (
        suite TEXT NOT NULL,
        schedule TEXT NOT NULL,
        slot BIGINT NOT NULL,
        outcome TEXT NOT NULL,
        run_id TEXT,
        reason TEXT,
        PRIMARY KEY (suite, schedule, slot)
    );
    CREATE TABLE alert_states (
        suite TEXT NOT NULL,
        schedule TEXT NOT NULL,
        workflow_id TEXT NOT NULL,
        failing_since TEXT NOT NULL,
        PRIMARY KEY (suite, schedule, workflow_id)
    );
    CREATE TABLE api_schedules (
        suite TEXT NOT NULL,
        name TEXT NOT NULL,
        definition TEXT NOT NULL,
        PRIMARY KEY (suite, name)
    );",
];

/// An arbitrary constant: the PostgreSQL advisory lock migrations hold.
const MIGRATION_LOCK: i64 = 0x5746_4853_0001;

/// The database's schema version (0 for an empty database). Reads only.
pub(crate) fn version(db: &mut Db) -> DbResult<u32> {
    let exists = match db {
        Db::Sqlite(_) => db.query(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1",
            &["schema_version".into()],
        )?,
        Db::Postgres(_) => db.query(
            "SELECT COUNT(*) FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_name = $1",
            &["schema_version".into()],
        )?,
    };
    if exists.first().and_then(|r| r.first()).map(Value::int) != Some(1) {
        return Ok(0);
    }
    let rows = db.query("SELECT MAX(version) FROM schema_version", &[])?;
    let found = rows.first().and_then(|r| r.first()).map_or(0, Value::int);
    Ok(u32::try_from(found).unwrap_or(u32::MAX))
}

/// Migrates the database from its version to `target` (≤ [`LATEST`]), in one transaction.
pub(crate) fn migrate(db: &mut Db, target: u32) -> DbResult<()> {
    db.write(|db| {
        if let Db::Postgres(_) = db {
            db.batch(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))?;
        }
        // Again under the lock: another process may have migrated meanwhile.
        let from = version(db)?;
        if from >= target {
            return Ok(());
        }
        if from == 0 {
            db.batch("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")?;
        }
        for (i, sql) in MIGRATIONS
            .iter()
            .enumerate()
            .take(target as usize)
            .skip(from as usize)
        {
            db.batch(sql)
                .map_err(|e| format!("migration to schema version {}: {e}", i + 1))?;
        }
        db.execute("DELETE FROM schema_version", &[])?;
        db.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[i64::from(target).into()],
        )?;
        Ok(())
    })
}
