//! Shared by the fixture-suite tests: a small real HTTP server for fixture workflows, and a
//! runner that starts the current test binary again as a workflow suite (a subprocess with
//! libtest arguments, as a user runs `cargo test --test workflows -- …`).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use axum::Json;
use axum::Router;
use axum::extract::Path as UrlPath;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde_json::{Value, json};
use workflow_harness::report::ReportFormat;
use workflow_harness::{EmbeddedServer, Harness, RunReport};

/// Set in the child process: run as a workflow suite instead of as tests.
pub const FIXTURE_ENV: &str = "WORKFLOW_HARNESS_FIXTURE";

/// The `main` of a fixture-suite test binary: in the child process (see [`run_suite`]) the
/// registered fixture workflows, else `tests` as libtest trials.
pub fn main(tests: &[(&'static str, fn())]) -> ExitCode {
    if std::env::var_os(FIXTURE_ENV).is_some() {
        return fixture_main();
    }
    let trials = tests
        .iter()
        .map(|&(name, test)| {
            libtest_mimic::Trial::test(name, move || {
                test();
                Ok(())
            })
        })
        .collect();
    libtest_mimic::run(&libtest_mimic::Arguments::from_args(), trials).exit_code()
}

/// The child's `main`: the registered fixture workflows, against the fixture server.
pub fn fixture_main() -> ExitCode {
    Harness::new()
        .embedded_server(|_config| async {
            let listener =
                tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
            let addr = listener.local_addr()?;
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let server = tokio::spawn(async move {
                axum::serve(listener, app())
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
            });
            Ok(EmbeddedServer {
                base_url: format!("http://{addr}").parse()?,
                shutdown: Box::pin(async move {
                    let _ = stop.send(());
                    let _ = server.await;
                }),
            })
        })
        .main()
}

fn app() -> Router {
    Router::new()
        .route("/ok", get(|| async { Json(json!({"ok": true})) }))
        .route(
            "/items",
            get(|| async {
                Json(json!([{"id": 1, "name": "first"}, {"id": 2, "name": "second"}]))
            }),
        )
        .route(
            "/echo",
            post(|Json(body): Json<Value>| async move { Json(body) }),
        )
        .route(
            "/hostile",
            get(|| async {
                let body = "\u{1b}[2J\u{1b}[H\u{1b}[32mALL TESTS PASSED\u{1b}[0m";
                (StatusCode::INTERNAL_SERVER_ERROR, body)
            }),
        )
        .route(
            "/status/{code}",
            get(|UrlPath(code): UrlPath<u16>| async move {
                let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
                (status, Json(json!({"error": format!("status {code}")})))
            }),
        )
}

/// What one suite run left behind.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub dir: tempfile::TempDir,
}

impl Run {
    pub fn report_dir(&self) -> PathBuf {
        self.dir.path().join("reports")
    }

    pub fn report_path(&self, format: ReportFormat) -> PathBuf {
        self.report_dir().join(format.file_name())
    }

    pub fn report(&self) -> RunReport {
        let text = std::fs::read_to_string(self.report_path(ReportFormat::Json))
            .unwrap_or_else(|e| panic!("no report.json ({e}); stderr:\n{}", self.stderr));
        serde_json::from_str(&text).expect("report.json parses as a RunReport")
    }

    pub fn json(&self) -> Value {
        let text = std::fs::read_to_string(self.report_path(ReportFormat::Json)).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// `(id, name, status, total, passed, failed)` of each CSV row, and the SUMMARY pairs.
    pub fn csv(&self) -> (Vec<Vec<String>>, Vec<(String, String)>) {
        let text = std::fs::read_to_string(self.report_path(ReportFormat::Csv)).unwrap();
        let (table, summary) = text
            .split_once("\n\nSUMMARY\n")
            .expect("CSV has a SUMMARY block");
        let rows = csv::Reader::from_reader(table.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        let pairs = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(summary.as_bytes())
            .records()
            .map(|r| {
                let r = r.unwrap();
                (r[0].to_owned(), r[1].to_owned())
            })
            .collect();
        (rows, pairs)
    }

    pub fn junit(&self) -> quick_junit::Report {
        let text = std::fs::read_to_string(self.report_path(ReportFormat::Junit)).unwrap();
        quick_junit::Report::deserialize_from_str(&text).expect("junit.xml parses")
    }

    /// The JSON, CSV and JUnit reports describe the same workflows with the same counts.
    pub fn assert_reports_agree(&self) {
        let report = self.report();
        let (rows, summary) = self.csv();
        let junit = self.junit();
        assert_eq!(
            rows.len(),
            report.workflows.len(),
            "CSV rows vs JSON workflows"
        );
        assert_eq!(junit.test_suites.len(), 1);
        let suite = &junit.test_suites[0];
        assert_eq!(suite.tests, report.total_workflows, "JUnit tests vs JSON");
        assert_eq!(suite.failures, report.failed, "JUnit failures vs JSON");
        assert_eq!(suite.errors, 0);
        assert_eq!(
            suite.skipped, report.cancelled,
            "JUnit skipped vs JSON cancelled"
        );
        for ((w, row), case) in report.workflows.iter().zip(&rows).zip(&suite.test_cases) {
            assert_eq!(row[0], w.workflow_id);
            assert_eq!(row[1], w.workflow_name);
            let status = serde_json::to_value(w.status).unwrap();
            assert_eq!(row[2], status.as_str().unwrap());
            assert_eq!(row[3], w.duration.as_millis().to_string());
            assert_eq!(row[4], w.result.total_steps.to_string());
            assert_eq!(row[5], w.result.passed.to_string());
            assert_eq!(row[6], w.result.failed.to_string());
            assert_eq!(case.name.as_str(), w.workflow_id);
            let failed = matches!(case.status, quick_junit::TestCaseStatus::NonSuccess { .. });
            assert_eq!(failed, w.status.is_failure(), "{}", w.workflow_id);
            let skipped = matches!(case.status, quick_junit::TestCaseStatus::Skipped { .. });
            let cancelled = w.status == workflow_harness::report::Status::Cancelled;
            assert_eq!(skipped, cancelled, "{}", w.workflow_id);
            let out = case
                .system_out
                .as_ref()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default();
            for step in &w.result.steps {
                assert!(
                    out.contains(&step.name),
                    "JUnit system-out of {} lacks step {}",
                    w.workflow_id,
                    step.name
                );
            }
        }
        let get = |k: &str| {
            summary
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(get("Total Workflows"), report.total_workflows.to_string());
        assert_eq!(get("Completed"), report.completed.to_string());
        assert_eq!(get("Failed"), report.failed.to_string());
    }

    /// `xmllint --schema` accepts junit.xml (CI installs libxml2-utils).
    pub fn assert_junit_validates(&self) {
        let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/junit-10.xsd");
        let out = Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(&schema)
            .arg(self.report_path(ReportFormat::Junit))
            .output()
            .expect("xmllint runs (install libxml2-utils)");
        assert!(
            out.status.success(),
            "junit.xml does not validate:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The libtest summary line.
    pub fn summary_line(&self) -> &str {
        self.stdout
            .lines()
            .find(|l| l.starts_with("test result:"))
            .unwrap_or_else(|| panic!("no summary line in:\n{}", self.stdout))
    }
}

/// Like [`run_suite`], but with stdout and stderr on a pseudo-terminal (util-linux `script`),
/// as in a developer's terminal. `Run::stdout` is what the terminal shows at the end (the raw
/// stream, bars, cursor moves and clears included, played on a 120×100 terminal emulator);
/// `Run::stderr` is the raw stream without its color codes.
pub fn run_suite_in_terminal(args: &[&str], env: &[(&str, &str)]) -> Run {
    let exe = std::env::current_exe().unwrap();
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    // A known size, so the emulator below wraps lines where the bars expect it.
    let mut command = format!("stty cols 120 rows 100; {}", quote(exe.to_str().unwrap()));
    for arg in args {
        command.push(' ');
        command.push_str(&quote(arg));
    }
    let mut script_args = vec!["-qec".to_owned(), command, "/dev/null".to_owned()];
    script_args.retain(|a| !a.is_empty());
    let script: Vec<&str> = script_args.iter().map(String::as_str).collect();
    let mut run = run_command("script", &script, env);
    let mut terminal = vt100::Parser::new(100, 120, 0);
    terminal.process(run.stdout.as_bytes());
    run.stderr = strip_ansi(&run.stdout, true);
    run.stdout = terminal.screen().contents();
    run
}

/// `text` without ANSI CSI escape sequences: only the color ones (`…m`) when `colors_only`,
/// else all (colors, cursor moves, line clears) and carriage returns too.
pub fn strip_ansi(text: &str, colors_only: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("\u{1b}[") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        // Parameters and intermediates, then one final byte in @..~.
        let end = after
            .find(|c: char| ('@'..='~').contains(&c))
            .map_or(after.len(), |e| e + 1);
        let sequence = &rest[start..start + 2 + end];
        if colors_only && !sequence.ends_with('m') {
            out.push_str(sequence);
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    if colors_only {
        out
    } else {
        out.replace('\r', "")
    }
}

/// Runs this test binary as the fixture suite with `args`, reports into a temporary
/// directory, and no configuration but what `env` gives.
pub fn run_suite(args: &[&str], env: &[(&str, &str)]) -> Run {
    let exe = std::env::current_exe().unwrap();
    run_command(exe.to_str().unwrap(), args, env)
}

/// `program` as the fixture suite: in the child mode, with `dir` as its (empty) manifest
/// directory, reports in `dir/reports`, no `WORKFLOW_*` setting of the parent's, not under
/// nextest.
pub fn fixture_command(program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.env(FIXTURE_ENV, "1")
        // An empty manifest dir: no harness.toml but what a test writes.
        .env("CARGO_MANIFEST_DIR", dir)
        .env_remove("NEXTEST_RUN_ID");
    for (key, _) in std::env::vars() {
        if key.starts_with("WORKFLOW_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("WORKFLOW_REPORT_DIR", dir.join("reports"));
    cmd
}

/// [`run_suite`] with `toml` as the fixture suite's harness.toml.
pub fn run_suite_with_config(args: &[&str], toml: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("harness.toml"), toml).unwrap();
    let exe = std::env::current_exe().unwrap();
    run_in(dir, exe.to_str().unwrap(), args, &[])
}

fn run_command(program: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    run_in(tempfile::tempdir().unwrap(), program, args, env)
}

fn run_in(dir: tempfile::TempDir, program: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = fixture_command(program, dir.path());
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        dir,
    }
}
