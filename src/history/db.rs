//! The two backends behind one interface: a connection to SQLite or to PostgreSQL, which
//! run the same SQL (`$1` placeholders, `ON CONFLICT`, `BIGINT`/`TEXT` columns only) with
//! values of one small type, so every query of the store is written once.

use std::error::Error as StdError;
use std::path::{Path, PathBuf};
use std::time::Duration;

use postgres::types::{IsNull, ToSql, Type, to_sql_checked};

/// How long a SQLite writer waits for another process's transaction before giving up: far
/// more than any recording takes, so parallel writers (nextest's processes) queue, never fail.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long connecting to PostgreSQL may take when the URL does not say.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A value going into or coming out of a query: integers, text and nulls are all the schema
/// holds (booleans are 0/1, times epoch milliseconds).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Text(String),
}

impl Value {
    pub fn int(&self) -> i64 {
        match self {
            Value::Int(n) => *n,
            Value::Text(t) => t.parse().unwrap_or(0),
            Value::Null => 0,
        }
    }

    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }

    pub fn string(&self) -> String {
        match self {
            Value::Text(t) => t.clone(),
            Value::Int(n) => n.to_string(),
            Value::Null => String::new(),
        }
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Int(i64::from(b))
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(n) => ToSqlOutput::Borrowed(ValueRef::Integer(*n)),
            Value::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
        })
    }
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            // Every integer column is BIGINT, so PostgreSQL infers INT8 for integer parameters.
            Value::Int(n) => n.to_sql(ty, out),
            Value::Text(t) => t.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// Where the history lives, as `[history] url` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A SQLite file (`sqlite://PATH`; relative paths start at the suite's directory).
    Sqlite(PathBuf),
    /// A PostgreSQL server (`postgres://…` or `postgresql://…`, libpq's URL form).
    Postgres(String),
}

impl Target {
    /// Parses a history URL; a relative SQLite path is taken from `root`.
    pub fn parse(url: &str, root: &Path) -> Result<Target, String> {
        let url = url.trim();
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(
                    "sqlite:// needs a file path, e.g. sqlite://target/history.sqlite".into(),
                );
            }
            return Ok(Target::Sqlite(root.join(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            url.parse::<postgres::Config>()
                .map_err(|e| format!("not a PostgreSQL URL: {e}"))?;
            return Ok(Target::Postgres(url.to_owned()));
        }
        Err("expected sqlite://PATH or postgres://USER@HOST[:PORT]/DATABASE".into())
    }

    /// How messages name it: the file, or the URL without its password.
    pub fn display(&self) -> String {
        match self {
            Target::Sqlite(path) => path.display().to_string(),
            Target::Postgres(url) => match url::Url::parse(url) {
                Ok(mut parsed) if parsed.password().is_some() => {
                    let _ = parsed.set_password(Some("***"));
                    parsed.to_string()
                }
                _ => url.clone(),
            },
        }
    }
}

/// An open connection to one of the backends.
pub(crate) enum Db {
    Sqlite(rusqlite::Connection),
    Postgres(PgClient),
}

/// The sync PostgreSQL client, which runs a runtime of its own: it must never block, nor be
/// dropped (closing blocks), on a thread driving async tasks. Used in `spawn_blocking` or off
/// the runtime; dropped on a thread of its own when the last owner goes away on a worker
/// (serve mode's state).
pub(crate) struct PgClient(Option<Box<postgres::Client>>);

impl PgClient {
    fn get(&mut self) -> &mut postgres::Client {
        match self.0.as_mut() {
            Some(client) => client,
            // Only `drop` takes it out.
            None => unreachable!("the PostgreSQL client is used after it was dropped"),
        }
    }
}

impl Drop for PgClient {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                std::thread::spawn(move || drop(client));
            } else {
                drop(client);
            }
        }
    }
}

/// A database error, as text (the store adds which database).
pub(crate) type DbResult<T> = Result<T, String>;

fn pg_error(e: postgres::Error) -> String {
    // The server's own message (with its detail) says more than the client's "db error".
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{}: {detail}", db.message()),
            None => db.message().to_owned(),
        },
        None => match e.source() {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

/// Whether a SQLite error is a lock conflict, worth trying again.
pub(crate) fn is_busy(message: &str) -> bool {
    message.contains("database is locked")
        || message.contains("database table is locked")
        || message.contains("database is busy")
}

fn lite_error(e: rusqlite::Error) -> String {
    e.to_string()
}

impl Db {
    /// Connects. SQLite: creates the file's directory and the file when missing, waits on
    /// locks up to [`BUSY_TIMEOUT`]; WAL is switched on by the schema, once the version is
    /// known to be ours (a newer database is left untouched).
    pub fn connect(target: &Target) -> DbResult<Db> {
        match target {
            Target::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                }
                let conn = rusqlite::Connection::open(path).map_err(lite_error)?;
                conn.busy_timeout(BUSY_TIMEOUT).map_err(lite_error)?;
                Ok(Db::Sqlite(conn))
            }
            Target::Postgres(url) => {
                let mut config: postgres::Config = url.parse().map_err(pg_error)?;
                if config.get_connect_timeout().is_none() {
                    config.connect_timeout(CONNECT_TIMEOUT);
                }
                let client = config.connect(postgres::NoTls).map_err(pg_error)?;
                Ok(Db::Postgres(PgClient(Some(Box::new(client)))))
            }
        }
    }

    /// Which backend: `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Runs statements without parameters (DDL, `BEGIN`).
    pub fn batch(&mut self, sql: &str) -> DbResult<()> {
        match self {
            Db::Sqlite(conn) => conn.execute_batch(sql).map_err(lite_error),
            Db::Postgres(client) => client.get().batch_execute(sql).map_err(pg_error),
        }
    }

    /// Runs one statement; returns the rows it changed.
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> DbResult<u64> {
        match self {
            Db::Sqlite(conn) => {
                let mut stmt = conn.prepare_cached(&numbered(sql)).map_err(lite_error)?;
                bind(&mut stmt, params)?;
                let n = stmt.raw_execute().map_err(lite_error)?;
                Ok(n as u64)
            }
            Db::Postgres(client) => {
                let refs: Vec<&(dyn ToSql + Sync)> =
                    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
                client.get().execute(sql, &refs).map_err(pg_error)
            }
        }
    }

    /// Runs one query; returns its rows, each as its columns' values.
    pub fn query(&mut self, sql: &str, params: &[Value]) -> DbResult<Vec<Vec<Value>>> {
        match self {
            Db::Sqlite(conn) => {
                use rusqlite::types::ValueRef;
                let mut stmt = conn.prepare_cached(&numbered(sql)).map_err(lite_error)?;
                let columns = stmt.column_count();
                bind(&mut stmt, params)?;
                let mut rows = stmt.raw_query();
                let mut out = Vec::new();
                while let Some(row) = rows.next().map_err(lite_error)? {
                    let mut values = Vec::with_capacity(columns);
                    for i in 0..columns {
                        values.push(match row.get_ref(i).map_err(lite_error)? {
                            ValueRef::Null => Value::Null,
                            ValueRef::Integer(n) => Value::Int(n),
                            ValueRef::Real(f) => Value::Int(f as i64),
                            ValueRef::Text(t) | ValueRef::Blob(t) => {
                                Value::Text(String::from_utf8_lossy(t).into_owned())
                            }
                        });
                    }
                    out.push(values);
                }
                Ok(out)
            }
            Db::Postgres(client) => {
                let refs: Vec<&(dyn ToSql + Sync)> =
                    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
                let rows = client.get().query(sql, &refs).map_err(pg_error)?;
                rows.iter()
                    .map(|row| {
                        (0..row.len())
                            .map(|i| pg_value(row, i))
                            .collect::<DbResult<Vec<Value>>>()
                    })
                    .collect()
            }
        }
    }

    /// Runs `work` in one write transaction: all of it is stored, or none. SQLite takes the
    /// write lock at `BEGIN IMMEDIATE` (waiting up to the busy timeout), so two writers never
    /// deadlock upgrading read locks.
    ///
    /// SQLite answers some lock conflicts at once instead of through the busy timeout (a
    /// snapshot gone stale while waiting, a journal-mode change under way in another process):
    /// such a transaction is rolled back and run again, with growing pauses, for up to the
    /// busy timeout.
    pub fn write<T>(&mut self, mut work: impl FnMut(&mut Db) -> DbResult<T>) -> DbResult<T> {
        let started = std::time::Instant::now();
        let mut pause = Duration::from_millis(5);
        loop {
            match self.write_once(&mut work) {
                Err(error)
                    if matches!(self, Db::Sqlite(_))
                        && is_busy(&error)
                        && started.elapsed() < BUSY_TIMEOUT =>
                {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(500));
                }
                result => return result,
            }
        }
    }

    fn write_once<T>(&mut self, work: &mut impl FnMut(&mut Db) -> DbResult<T>) -> DbResult<T> {
        let begin = match self {
            Db::Sqlite(_) => "BEGIN IMMEDIATE",
            Db::Postgres(_) => "BEGIN",
        };
        self.batch(begin)?;
        match work(self) {
            Ok(value) => {
                if let Err(error) = self.batch("COMMIT") {
                    let _ = self.batch("ROLLBACK");
                    return Err(error);
                }
                Ok(value)
            }
            Err(error) => {
                let _ = self.batch("ROLLBACK");
                Err(error)
            }
        }
    }
}

/// The statement with PostgreSQL's `$N` parameters spelled `?N`: SQLite numbers `$N` (a
/// named parameter to it) in the order of first appearance, `?N` by N, as PostgreSQL does.
/// Statements hold no `$` but in parameters.
fn numbered(sql: &str) -> std::borrow::Cow<'_, str> {
    if sql.contains('$') {
        std::borrow::Cow::Owned(sql.replace('$', "?"))
    } else {
        std::borrow::Cow::Borrowed(sql)
    }
}

/// Binds `params[i]` to `?{i + 1}`.
fn bind(stmt: &mut rusqlite::CachedStatement<'_>, params: &[Value]) -> DbResult<()> {
    for (i, value) in params.iter().enumerate() {
        stmt.raw_bind_parameter(i + 1, value).map_err(lite_error)?;
    }
    Ok(())
}

fn pg_value(row: &postgres::Row, i: usize) -> DbResult<Value> {
    let ty = row.columns()[i].type_();
    let value = if *ty == Type::INT8 {
        row.try_get::<_, Option<i64>>(i).map(Value::from)
    } else if *ty == Type::INT4 {
        row.try_get::<_, Option<i32>>(i)
            .map(|v| Value::from(v.map(i64::from)))
    } else if *ty == Type::INT2 {
        row.try_get::<_, Option<i16>>(i)
            .map(|v| Value::from(v.map(i64::from)))
    } else if *ty == Type::NUMERIC || *ty == Type::FLOAT8 {
        row.try_get::<_, Option<f64>>(i)
            .map(|v| Value::from(v.map(|f| f as i64)))
    } else {
        row.try_get::<_, Option<String>>(i).map(Value::from)
    };
    value.map_err(pg_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_conflict_answered_at_once_reruns_the_transaction_and_others_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::connect(&Target::Sqlite(dir.path().join("h.sqlite"))).unwrap();
        db.batch("CREATE TABLE t (n BIGINT)").unwrap();
        let mut calls = 0;
        let stored = db.write(|db| {
            calls += 1;
            db.execute("INSERT INTO t (n) VALUES ($1)", &[Value::Int(calls)])?;
            match calls {
                1 => Err("database is locked".to_owned()),
                _ => Ok(calls),
            }
        });
        assert_eq!(stored, Ok(2));
        // The first try was rolled back: one row, the second's.
        let rows = db.query("SELECT n FROM t", &[]).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0][0].int(), 2);

        let mut calls = 0;
        let failed: DbResult<()> = db.write(|_| {
            calls += 1;
            Err("no such table: x".to_owned())
        });
        assert!(failed.is_err());
        assert_eq!(calls, 1, "only lock conflicts are tried again");
    }
}
