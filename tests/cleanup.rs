//! `cx.defer`: cleanups run after the workflow's body however it ended — passed, failed,
//! panicked, timed out — as steps of their own, last registered first; a failed cleanup fails
//! a workflow that had passed.

mod support;

use std::process::ExitCode;

use serde_json::Value;
use workflow_harness::prelude::*;

workflow! { id: "after-pass", name: "Cleans up after a pass", run: after_pass }
workflow! { id: "after-failure", name: "Cleans up after a failure", run: after_failure }
workflow! { id: "after-panic", name: "Cleans up after a panic", run: after_panic }
workflow! {
    id: "after-timeout",
    name: "Cleans up after a timeout",
    timeout: Duration::from_millis(300),
    run: after_timeout,
}
workflow! { id: "failing-cleanup", name: "Its cleanup fails", run: failing_cleanup }

/// A cleanup that makes a request with the defaults the workflow had when it registered it.
fn defer_ok(cx: &Ctx, name: &str) {
    cx.defer(name, async |cx| {
        cx.get("/ok").await?.expect_success()?;
        Ok(())
    });
}

async fn after_pass(cx: &mut Ctx) -> StepResult {
    cx.step("Create", async |cx| {
        Ok(cx.get("/ok").await?.expect_success()?)
    })
    .await?;
    defer_ok(cx, "Delete first");
    defer_ok(cx, "Delete second");
    cx.step("Use", async |_| Ok(())).await
}

async fn after_failure(cx: &mut Ctx) -> StepResult {
    defer_ok(cx, "Clean up");
    cx.step("Fail", async |cx| {
        Ok(cx.get("/status/500").await?.expect_success()?)
    })
    .await?;
    Ok(())
}

async fn after_panic(cx: &mut Ctx) -> StepResult {
    defer_ok(cx, "Clean up");
    cx.step("Explode", async |_| -> StepResult { panic!("kaboom") })
        .await
}

async fn after_timeout(cx: &mut Ctx) -> StepResult {
    defer_ok(cx, "Clean up");
    cx.step("Hang", async |_| {
        sleep(Duration::from_secs(30)).await;
        Ok(())
    })
    .await
}

async fn failing_cleanup(cx: &mut Ctx) -> StepResult {
    cx.defer("Clean up", async |cx| {
        cx.get("/status/404").await?.expect_success()?;
        Ok(())
    });
    cx.step("Work", async |_| Ok(())).await
}

fn main() -> ExitCode {
    support::main(&[
        (
            "cleanups_run_after_a_pass_last_registered_first",
            after_a_pass,
        ),
        (
            "a_cleanup_runs_after_a_failure_panic_and_timeout",
            after_an_end,
        ),
        (
            "a_failed_cleanup_fails_a_passing_workflow",
            a_failed_cleanup_fails,
        ),
    ])
}

fn workflow<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["workflows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["workflowId"] == id)
        .unwrap_or_else(|| panic!("{id} is not in the report"))
}

fn steps(workflow: &Value) -> Vec<(String, String)> {
    workflow["result"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let status = s["status"].as_str().unwrap().to_owned();
            (s["name"].as_str().unwrap().to_owned(), status)
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn after_a_pass() {
    let run = support::run_suite(&["--exact", "after-pass"], &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    let w = workflow(&report, "after-pass");
    assert_eq!(w["status"], "completed");
    assert_eq!(
        steps(w),
        pairs(&[
            ("Create", "success"),
            ("Use", "success"),
            ("Delete second", "success"),
            ("Delete first", "success"),
        ])
    );
    assert_eq!(report["aggregateStats"]["totalSteps"], 4, "cleanups count");
    run.assert_reports_agree();
}

fn after_an_end() {
    let run = support::run_suite(&["after-failure", "after-panic", "after-timeout"], &[]);
    assert_eq!(run.code, 101, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    for (id, step, kind, says) in [
        (
            "after-failure",
            "Fail",
            "error",
            "step \"Fail\" failed: GET http://",
        ),
        (
            "after-panic",
            "Explode",
            "panic",
            "step \"Explode\" panicked at tests/cleanup.rs:",
        ),
        (
            "after-timeout",
            "Hang",
            "timeout",
            "timed out after 300ms in step \"Hang\"",
        ),
    ] {
        let w = workflow(&report, id);
        assert_eq!(w["status"], "failed", "{id}");
        assert_eq!(w["failureKind"], kind, "{id}");
        let error = w["error"].as_str().unwrap();
        assert!(
            error.starts_with(says),
            "{id}: the workflow's own error is kept: {error}"
        );
        assert_eq!(
            steps(w),
            pairs(&[(step, "failed"), ("Clean up", "success")]),
            "{id}"
        );
    }
}

fn a_failed_cleanup_fails() {
    let run = support::run_suite(&["--exact", "failing-cleanup"], &[]);
    assert_eq!(run.code, 101, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    let w = workflow(&report, "failing-cleanup");
    assert_eq!(w["status"], "failed");
    let error = w["error"].as_str().unwrap();
    assert!(
        error.starts_with("cleanup step \"Clean up\" failed: GET http://")
            && error.contains("/status/404"),
        "{error}"
    );
    assert_eq!(
        steps(w),
        pairs(&[("Work", "success"), ("Clean up", "failed")])
    );
    let rate = report["aggregateStats"]["successRate"].as_f64().unwrap();
    assert!(rate < 100.0, "a failed workflow never shows 100 %: {rate}");
}
