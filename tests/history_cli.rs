//! Run history through the suite binary, as a user meets it: runs recorded into
//! `<report dir>/history.sqlite`, `--last-failed`, `--history`, regressions in the summary
//! and report.json, nextest's processes recorded into one run, concurrent writers, and a
//! store that fails (corrupt, newer) without changing the run.

mod pg;
mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use serde_json::Value;
use workflow_harness::history::{Store, Target};
use workflow_harness::prelude::*;

use support::fixture_command;

// ---- fixture workflows (run only in the child process) ----

/// Fails when its id is in `HIST_FAIL` (comma-separated).
async fn maybe_fail(cx: &mut Ctx, id: &str) -> StepResult {
    let fail = std::env::var("HIST_FAIL").unwrap_or_default();
    let fails = fail.split(',').any(|f| f == id);
    cx.step("Check", async move |_| {
        ensure!(!fails, "{id} was told to fail");
        Ok(())
    })
    .await
}

workflow! { id: "hist-a", name: "History A", run: hist_a }
async fn hist_a(cx: &mut Ctx) -> StepResult {
    maybe_fail(cx, "hist-a").await
}

workflow! { id: "hist-b", name: "History B", run: hist_b }
async fn hist_b(cx: &mut Ctx) -> StepResult {
    maybe_fail(cx, "hist-b").await
}

workflow! { id: "hist-c", name: "History C", run: hist_c }
async fn hist_c(cx: &mut Ctx) -> StepResult {
    maybe_fail(cx, "hist-c").await
}

workflow! { id: "hist-dep", name: "Needs B", depends_on: ["hist-b"], run: hist_dep }
async fn hist_dep(cx: &mut Ctx) -> StepResult {
    maybe_fail(cx, "hist-dep").await
}

workflow! { id: "hist-slow", name: "Sometimes slow", run: hist_slow }
async fn hist_slow(cx: &mut Ctx) -> StepResult {
    let ms: u64 = std::env::var("HIST_SLOW_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    cx.step("Wait", async move |_| {
        sleep(Duration::from_millis(ms)).await;
        Ok(())
    })
    .await?;
    cx.optional_step("Maybe", async |_| Ok(())).await;
    Ok(())
}

// ---- helpers ----

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

/// The fixture suite with `args` and `env`, its reports (and default history) in `dir`.
fn suite(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let out = command(dir, args, env).output().unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = fixture_command(std::env::current_exe().unwrap(), dir);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn db(dir: &Path) -> PathBuf {
    dir.join("reports").join("history.sqlite")
}

fn report(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("reports/report.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn ids(report: &Value) -> BTreeSet<String> {
    report["workflows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["workflowId"].as_str().unwrap().to_owned())
        .collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

/// `(run_id, source, workflows)` of every recorded run, oldest first, read with SQLite
/// itself (not through the store).
fn recorded(path: &Path) -> Vec<(String, String, BTreeSet<String>)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut runs = conn
        .prepare("SELECT run_id, source FROM runs ORDER BY started_at, run_id")
        .unwrap();
    let runs: Vec<(String, String)> = runs
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    runs.into_iter()
        .map(|(id, source)| {
            let mut q = conn
                .prepare("SELECT workflow_id FROM workflows WHERE run_id = ?1")
                .unwrap();
            let ws = q
                .query_map([&id], |r| r.get::<_, String>(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            (id, source, ws)
        })
        .collect()
}

// ---- tests ----

fn two_runs_then_last_failed_selects_exactly_the_failures() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let nothing = suite(dir, &["--last-failed"], &[]);
    assert_eq!(nothing.code, 2, "{}", nothing.stderr);
    assert!(
        nothing.stderr.contains("--last-failed: no run of")
            && nothing.stderr.contains("is recorded in")
            && nothing.stderr.contains("history.sqlite"),
        "{}",
        nothing.stderr
    );

    let first = suite(dir, &["hist-"], &[("HIST_FAIL", "hist-a,hist-b")]);
    assert_eq!(first.code, 101, "{}", first.stderr);
    let second = suite(dir, &["hist-"], &[("HIST_FAIL", "hist-b")]);
    assert_eq!(second.code, 101, "{}", second.stderr);
    assert_eq!(recorded(&db(dir)).len(), 2);

    // The second run's failures: hist-b failed, hist-dep was blocked by it. hist-a failed
    // only in the first run.
    let rerun = suite(dir, &["--last-failed"], &[]);
    assert_eq!(rerun.code, 0, "{}\n{}", rerun.stdout, rerun.stderr);
    assert!(
        rerun.stderr.contains("rerunning 2 workflow(s)"),
        "{}",
        rerun.stderr
    );
    assert_eq!(ids(&report(dir)), set(&["hist-b", "hist-dep"]));
    assert!(rerun.stdout.contains("2 passed"), "{}", rerun.stdout);

    // That run passed: nothing is left to rerun, nothing runs, the reports stay.
    let before = std::fs::read_to_string(dir.join("reports/report.json")).unwrap();
    let again = suite(dir, &["--last-failed"], &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stderr.contains("nothing to rerun"),
        "{}",
        again.stderr
    );
    let after = std::fs::read_to_string(dir.join("reports/report.json")).unwrap();
    assert_eq!(before, after, "no run, no new reports");
    assert_eq!(recorded(&db(dir)).len(), 3, "the empty rerun is not a run");

    // Filters narrow the rerun.
    suite(dir, &["hist-"], &[("HIST_FAIL", "hist-a,hist-c")]);
    let narrowed = suite(dir, &["--last-failed", "hist-c"], &[]);
    assert_eq!(narrowed.code, 0, "{}", narrowed.stderr);
    assert_eq!(ids(&report(dir)), set(&["hist-c"]));
}

fn history_prints_workflows_and_steps_as_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    for fail in ["", "hist-a", "", ""] {
        suite(dir, &["hist-a", "hist-slow"], &[("HIST_FAIL", fail)]);
    }
    let text = suite(dir, &["--history"], &[]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout.contains("over the last 4 run(s) (4 recorded)"),
        "{}",
        text.stdout
    );
    let line = text
        .stdout
        .lines()
        .find(|l| l.starts_with("hist-a "))
        .unwrap_or_else(|| panic!("{}", text.stdout));
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&cells[1..3], ["4", "75.0"], "{line}");
    assert_eq!(cells[6], "completed", "{line}");

    let json = suite(
        dir,
        &["--history", "--history-runs", "2", "--format", "json"],
        &[],
    );
    assert_eq!(json.code, 0, "{}", json.stderr);
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["runs"], 2);
    assert_eq!(v["recorded"], 4);
    let rows = v["rows"].as_array().unwrap();
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["hist-a", "hist-slow"]);
    assert_eq!(rows[0]["passRate"], 100.0);
    assert_eq!(
        rows[0]["statuses"],
        serde_json::json!(["completed", "completed"])
    );
    assert_eq!(rows[0]["trend"], "steady");

    let steps = suite(
        dir,
        &["--history-steps", "hist-slow", "--format", "json"],
        &[],
    );
    let v: Value = serde_json::from_str(&steps.stdout).unwrap();
    let names: Vec<&str> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Wait", "Maybe"], "in step order");
    assert_eq!(v["workflowId"], "hist-slow");
    assert_eq!(v["rows"][0]["runs"], 4);
    assert!(v["rows"][0]["p95Ms"].as_i64().unwrap() >= 2);
    let text = suite(dir, &["--history-steps", "hist-slow"], &[]);
    assert!(
        text.stdout.contains("steps of hist-slow"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("skip %"), "{}", text.stdout);
}

fn regressions_are_in_the_summary_and_report_json() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    for _ in 0..6 {
        let run = suite(dir, &["hist-a", "hist-slow"], &[]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(report(dir).get("regressions").is_none(), "none yet");
    }
    let run = suite(
        dir,
        &["hist-a", "hist-slow"],
        &[("HIST_SLOW_MS", "400"), ("HIST_FAIL", "hist-a")],
    );
    assert_eq!(
        run.code, 101,
        "the regression changes nothing of the verdict"
    );
    let regressions = report(dir)["regressions"].clone();
    let kinds: Vec<(&str, &str)> = regressions
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap(),
                r["workflowId"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [("startedFailing", "hist-a"), ("slowStep", "hist-slow")],
        "{regressions}"
    );
    assert_eq!(regressions[0]["passes"], 6);
    assert_eq!(regressions[1]["step"], "Wait");
    assert_eq!(regressions[1]["samples"], 6);
    assert!(regressions[1]["durationMs"].as_i64().unwrap() >= 400);
    assert!(
        run.stderr
            .contains("regressed  hist-a: failing after 6 passes in a row"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("regressed  hist-slow / Wait: "),
        "{}",
        run.stderr
    );
    // A higher factor: the slow step is within it.
    let run = suite(
        dir,
        &["hist-slow"],
        &[
            ("HIST_SLOW_MS", "400"),
            ("WORKFLOW_HISTORY_REGRESSION_FACTOR", "1000"),
        ],
    );
    assert_eq!(run.code, 0);
    assert!(report(dir).get("regressions").is_none(), "{}", run.stderr);
}

fn a_broken_store_changes_nothing_of_the_run() {
    for (fail, code) in [("", 0), ("hist-a", 101)] {
        // A corrupt file.
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        std::fs::create_dir_all(dir.join("reports")).unwrap();
        let garbage = b"this is not a database, just some bytes".repeat(200);
        std::fs::write(db(dir), &garbage).unwrap();
        let run = suite(dir, &["hist-a"], &[("HIST_FAIL", fail)]);
        assert_eq!(run.code, code, "{}", run.stderr);
        assert_eq!(
            run.stderr.matches("warning: run history:").count(),
            1,
            "reported once:\n{}",
            run.stderr
        );
        assert!(run.stderr.contains("history.sqlite"), "{}", run.stderr);
        assert_eq!(
            ids(&report(dir)),
            set(&["hist-a"]),
            "the reports are written"
        );
        assert_eq!(std::fs::read(db(dir)).unwrap(), garbage, "left as it was");

        // A database of a newer binary: refused, untouched.
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        std::fs::create_dir_all(dir.join("reports")).unwrap();
        {
            let conn = rusqlite::Connection::open(db(dir)).unwrap();
            conn.execute_batch(
                "CREATE TABLE schema_version (version BIGINT NOT NULL);
                 INSERT INTO schema_version VALUES (99);",
            )
            .unwrap();
        }
        let bytes = std::fs::read(db(dir)).unwrap();
        let run = suite(dir, &["hist-a"], &[("HIST_FAIL", fail)]);
        assert_eq!(run.code, code, "{}", run.stderr);
        assert!(
            run.stderr
                .contains("has schema version 99, newer than this binary's"),
            "{}",
            run.stderr
        );
        assert_eq!(run.stderr.matches("warning: run history:").count(), 1);
        assert_eq!(std::fs::read(db(dir)).unwrap(), bytes, "left untouched");
        assert!(!db(dir).with_extension("sqlite-wal").exists());

        // Switched off: no file at all.
        let dir = tempfile::tempdir().unwrap();
        let run = suite(
            dir.path(),
            &["hist-a"],
            &[("WORKFLOW_HISTORY_ENABLED", "false")],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(!db(dir.path()).exists());
    }
    // An unusable URL is refused where it is given.
    let dir = tempfile::tempdir().unwrap();
    let run = suite(dir.path(), &["--history-url", "mysql://x"], &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("expected sqlite://PATH"),
        "{}",
        run.stderr
    );
}

/// Starts `n` suite processes at once; returns their exit codes.
fn at_once(
    dir: &Path,
    n: usize,
    args: impl Fn(usize) -> Vec<String>,
    env: &[(&str, &str)],
) -> Vec<i32> {
    let children: Vec<_> = (0..n)
        .map(|i| {
            let args = args(i);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            command(dir, &args, env)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!stderr.contains("run history"), "{stderr}");
            out.status.code().unwrap_or(-1)
        })
        .collect()
}

fn concurrent_writers_lose_nothing() {
    for round in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        let codes = at_once(dir, 8, |_| vec!["hist-".into()], &[("HIST_FAIL", "hist-c")]);
        assert_eq!(codes, [101; 8], "round {round}");
        let runs = recorded(&db(dir));
        assert_eq!(runs.len(), 8, "round {round}: {runs:?}");
        for (_, source, workflows) in &runs {
            assert_eq!(source, "cargo");
            assert_eq!(
                workflows,
                &set(&["hist-a", "hist-b", "hist-c", "hist-dep", "hist-slow"])
            );
        }
    }
}

fn nextest_processes_record_one_whole_run() {
    for round in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        let all = ["hist-a", "hist-b", "hist-c", "hist-dep", "hist-slow"];
        // As nextest runs the suite: one process per workflow, all at once, one run id.
        let run_id = format!("0190e5d4-nextest-{round}");
        let codes = at_once(
            dir,
            all.len(),
            |i| vec!["--exact".into(), all[i].into()],
            &[("NEXTEST_RUN_ID", &run_id), ("HIST_FAIL", "hist-c")],
        );
        assert_eq!(codes.iter().filter(|c| **c == 101).count(), 1, "{codes:?}");
        let runs = recorded(&db(dir));
        assert_eq!(runs.len(), 1, "{runs:?}");
        let (id, source, workflows) = &runs[0];
        assert_eq!((id.as_str(), source.as_str()), (run_id.as_str(), "nextest"));
        assert_eq!(workflows, &set(&all));
        let conn = rusqlite::Connection::open(db(dir)).unwrap();
        let (exit, deps): (i64, i64) = conn
            .query_row(
                "SELECT exit_code, (SELECT SUM(as_dependency) FROM workflows) FROM runs",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(exit, 101, "the run failed: one process did");
        assert_eq!(
            deps, 0,
            "hist-b is recorded by its own process, not as hist-dep's dependency"
        );
        // --last-failed reads the whole nextest run.
        let rerun = suite(dir, &["--last-failed"], &[]);
        assert!(rerun.stderr.contains(&run_id), "{}", rerun.stderr);
        assert_eq!(ids(&report(dir)), set(&["hist-c"]));
    }
}

fn keep_runs_prunes_the_oldest() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    for _ in 0..4 {
        suite(dir, &["hist-a"], &[("WORKFLOW_HISTORY_KEEP_RUNS", "2")]);
    }
    let runs = recorded(&db(dir));
    assert_eq!(runs.len(), 2);
    let conn = rusqlite::Connection::open(db(dir)).unwrap();
    let steps: i64 = conn
        .query_row("SELECT COUNT(*) FROM steps", [], |r| r.get(0))
        .unwrap();
    assert_eq!(steps, 2, "the pruned runs' steps are gone too");
}

fn a_history_url_points_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("shared/h.db");
    let url = format!("sqlite://{}", elsewhere.display());
    let run = suite(dir.path(), &["hist-a", "--history-url", &url], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!db(dir.path()).exists());
    let mut store = Store::open(&Target::Sqlite(elsewhere)).unwrap();
    let suite_name = store.runs(None, 10, None).unwrap()[0].workflow_ids.clone();
    assert_eq!(suite_name, ["hist-a"]);
}

fn a_dead_postgres_url_keeps_the_run_as_it_was() {
    for (fail, code) in [("", 0), ("hist-a", 101)] {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        let url = "postgres://postgres@127.0.0.1:1/nothing_listens_here";
        let run = suite(
            dir,
            &["hist-a"],
            &[("HIST_FAIL", fail), ("WORKFLOW_HISTORY_URL", url)],
        );
        assert_eq!(run.code, code, "{}", run.stderr);
        assert_eq!(
            run.stderr.matches("warning: run history:").count(),
            1,
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("127.0.0.1:1"), "{}", run.stderr);
        assert_eq!(ids(&report(dir)), set(&["hist-a"]));
        assert!(run.stdout.contains("test result:"), "{}", run.stdout);
    }
}

fn nextest_processes_record_into_postgres() {
    let Some(url) = pg::database() else { return };
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let all = ["hist-a", "hist-b", "hist-c", "hist-dep", "hist-slow"];
    let env = [
        ("NEXTEST_RUN_ID", "pg-nextest-run"),
        ("HIST_FAIL", "hist-a"),
        ("WORKFLOW_HISTORY_URL", url.as_str()),
    ];
    let codes = at_once(
        dir,
        all.len(),
        |i| vec!["--exact".into(), all[i].into()],
        &env,
    );
    assert_eq!(codes.iter().filter(|c| **c == 101).count(), 1, "{codes:?}");
    assert!(!db(dir).exists(), "nothing in the default SQLite file");
    let mut store = Store::open(&Target::Postgres(url.clone())).unwrap();
    let runs = store.runs(None, 10, None).unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].run_id, "pg-nextest-run");
    assert_eq!(runs[0].workflow_ids, all);
    assert_eq!((runs[0].failed, runs[0].exit_code), (1, Some(101)));
    let rerun = suite(
        dir,
        &["--last-failed"],
        &[("WORKFLOW_HISTORY_URL", url.as_str())],
    );
    assert_eq!(rerun.code, 0, "{}", rerun.stderr);
    assert_eq!(ids(&report(dir)), set(&["hist-a"]));
    let history = suite(
        dir,
        &["--history", "--format", "json"],
        &[("WORKFLOW_HISTORY_URL", url.as_str())],
    );
    let v: Value = serde_json::from_str(&history.stdout).unwrap();
    assert_eq!(v["recorded"], 2, "{}", history.stdout);
    assert_eq!(
        v["rows"][0]["statuses"],
        serde_json::json!(["failed", "completed"])
    );
}

fn main() -> ExitCode {
    let code = tests();
    pg::stop();
    code
}

fn tests() -> ExitCode {
    support::main(&[
        (
            "a_dead_postgres_url_keeps_the_run_as_it_was",
            a_dead_postgres_url_keeps_the_run_as_it_was,
        ),
        (
            "nextest_processes_record_into_postgres",
            nextest_processes_record_into_postgres,
        ),
        (
            "two_runs_then_last_failed_selects_exactly_the_failures",
            two_runs_then_last_failed_selects_exactly_the_failures,
        ),
        (
            "history_prints_workflows_and_steps_as_text_and_json",
            history_prints_workflows_and_steps_as_text_and_json,
        ),
        (
            "regressions_are_in_the_summary_and_report_json",
            regressions_are_in_the_summary_and_report_json,
        ),
        (
            "a_broken_store_changes_nothing_of_the_run",
            a_broken_store_changes_nothing_of_the_run,
        ),
        (
            "concurrent_writers_lose_nothing",
            concurrent_writers_lose_nothing,
        ),
        (
            "nextest_processes_record_one_whole_run",
            nextest_processes_record_one_whole_run,
        ),
        ("keep_runs_prunes_the_oldest", keep_runs_prunes_the_oldest),
        (
            "a_history_url_points_elsewhere",
            a_history_url_points_elsewhere,
        ),
    ])
}
