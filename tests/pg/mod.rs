//! A real PostgreSQL server for the history tests: the one `WORKFLOW_TEST_POSTGRES_URL`
//! names (CI starts one), else a throwaway server this process starts from a temporary
//! directory with the distribution's `initdb` and `pg_ctl` (as a non-root user when run as
//! root), stopped by [`stop`]. Each test gets a database of its own ([`database`]).
//!
//! Without a URL and without PostgreSQL binaries the tests that need it are skipped with a
//! loud message, unless `WORKFLOW_REQUIRE_POSTGRES=1` (CI sets it), which fails them.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The variable naming a server to use (a URL of a database the tests may create others from).
pub const URL_ENV: &str = "WORKFLOW_TEST_POSTGRES_URL";

struct Server {
    /// `postgres://USER@HOST:PORT` and the database to connect to for `CREATE DATABASE`.
    admin_url: String,
    own: Option<Own>,
}

/// A server this process started.
struct Own {
    _dir: tempfile::TempDir,
    data: PathBuf,
    pg_ctl: PathBuf,
    user: Option<String>,
}

static SERVER: Mutex<Option<Result<Server, String>>> = Mutex::new(None);
static DATABASES: AtomicUsize = AtomicUsize::new(0);

/// The URL of a fresh, empty database on the test server; `None` (after a loud message)
/// when there is no PostgreSQL to test against.
pub fn database() -> Option<String> {
    let mut server = SERVER.lock().unwrap_or_else(|p| p.into_inner());
    let server = server.get_or_insert_with(start);
    let server = match server {
        Ok(server) => server,
        Err(why) => {
            if std::env::var("WORKFLOW_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                panic!("PostgreSQL is required (WORKFLOW_REQUIRE_POSTGRES=1): {why}");
            }
            eprintln!(
                "\n*** SKIPPED: the PostgreSQL history tests need a server: {why}. Set {URL_ENV} \
                 or install PostgreSQL (Debian: apt-get install postgresql). ***\n"
            );
            return None;
        }
    };
    let name = format!(
        "history_{}_{}",
        std::process::id(),
        DATABASES.fetch_add(1, Ordering::SeqCst)
    );
    let mut client = postgres::Client::connect(&server.admin_url, postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", server.admin_url));
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
    let mut url = url::Url::parse(&server.admin_url).unwrap();
    url.set_path(&name);
    Some(url.to_string())
}

/// Stops the server this process started, if any.
pub fn stop() {
    let mut server = SERVER.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(Ok(Server { own: Some(own), .. })) = server.take() {
        let mut cmd = as_user(&own.user, &own.pg_ctl);
        cmd.arg("-D")
            .arg(&own.data)
            .args(["-m", "immediate", "-w", "stop"]);
        let _ = cmd.output();
    }
}

fn start() -> Result<Server, String> {
    if let Ok(url) = std::env::var(URL_ENV)
        && !url.trim().is_empty()
    {
        return Ok(Server {
            admin_url: url,
            own: None,
        });
    }
    let bin = bin_dir().ok_or("no PostgreSQL binaries (initdb, pg_ctl) found")?;
    let user = if is_root() {
        Some(
            ["postgres", "nobody"]
                .into_iter()
                .find(|u| uid_of(u).is_some())
                .ok_or("running as root and no non-root user (postgres, nobody) to run PostgreSQL")?
                .to_owned(),
        )
    } else {
        None
    };
    let dir = tempfile::Builder::new()
        .prefix("workflow-pg-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    if let Some(user) = &user {
        let uid = uid_of(user).unwrap_or(65534);
        std::os::unix::fs::chown(dir.path(), Some(uid), None).map_err(|e| e.to_string())?;
    }
    let data = dir.path().join("data");
    let out = as_user(&user, &bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"])
        .output()
        .map_err(|e| format!("initdb: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100",
        dir.path().display()
    );
    let log = dir.path().join("log");
    let pg_ctl = bin.join("pg_ctl");
    let out = as_user(&user, &pg_ctl)
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(&log)
        .args(["-w", "-o", &options, "start"])
        .output()
        .map_err(|e| format!("pg_ctl: {e}"))?;
    if !out.status.success() {
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        return Err(format!("pg_ctl start failed: {log}"));
    }
    Ok(Server {
        admin_url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        own: Some(Own {
            _dir: dir,
            data,
            pg_ctl,
            user,
        }),
    })
}

fn as_user(user: &Option<String>, program: &Path) -> Command {
    match user {
        Some(user) => {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", user, "--"]).arg(program);
            cmd
        }
        None => Command::new(program),
    }
}

/// Where `initdb` and `pg_ctl` are: on the PATH, else the newest Debian/Ubuntu
/// `/usr/lib/postgresql/N/bin`.
fn bin_dir() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file())
    });
    on_path.or_else(|| {
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| {
                let e = e.ok()?;
                let n = e.file_name().to_str()?.parse().ok()?;
                let bin = e.path().join("bin");
                bin.join("initdb").is_file().then_some((n, bin))
            })
            .collect();
        versions.sort();
        versions.pop().map(|(_, bin)| bin)
    })
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn uid_of(user: &str) -> Option<u32> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next()? == user).then_some(())?;
        fields.nth(1)?.parse().ok()
    })
}
