//! `skipped_steps`: a skipped step passes its workflow by default, and fails it under `fail`
//! (flag, variable or harness.toml), naming the step and its error.

mod support;

use std::process::ExitCode;

use workflow_harness::prelude::*;

workflow! { id: "skips-one", name: "Skips one step", run: skips_one }

async fn skips_one(cx: &mut Ctx) -> StepResult {
    cx.step("Before", async |cx| {
        Ok(cx.get("/ok").await?.expect_success()?)
    })
    .await?;
    cx.optional_step("Missing feature", async |cx| {
        Ok(cx.get("/status/501").await?.expect_success()?)
    })
    .await;
    cx.step("After", async |cx| {
        Ok(cx.get("/ok").await?.expect_success()?)
    })
    .await?;
    Ok(())
}

fn main() -> ExitCode {
    support::main(&[
        ("a_skipped_step_passes_by_default", passes_by_default),
        (
            "skipped_steps_fail_fails_the_workflow_naming_the_step",
            fail_fails,
        ),
    ])
}

fn passes_by_default() {
    let run = support::run_suite(&[], &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    let workflow = &report["workflows"][0];
    assert_eq!(workflow["status"], "completed");
    assert_eq!(workflow["result"]["steps"][1]["status"], "skipped");
    assert_eq!(
        workflow["result"]["steps"][2]["name"], "After",
        "the workflow went on"
    );
}

fn fail_fails() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("harness.toml");
    std::fs::write(&config, "skipped_steps = \"fail\"\n").unwrap();
    let runs = [
        support::run_suite(&["--skipped-steps", "fail"], &[]),
        support::run_suite(&[], &[("WORKFLOW_SKIPPED_STEPS", "fail")]),
        support::run_suite(&[], &[("WORKFLOW_CONFIG", config.to_str().unwrap())]),
    ];
    for run in runs {
        assert_eq!(run.code, 101, "{}\n{}", run.stdout, run.stderr);
        let report = run.json();
        let workflow = &report["workflows"][0];
        assert_eq!(workflow["status"], "failed");
        let error = workflow["error"].as_str().unwrap();
        assert!(
            error.starts_with(
                "step \"Missing feature\" was skipped (skipped_steps = \"fail\"): GET http://"
            ) && error.contains("/status/501: expected a 2xx status, got 501"),
            "{error}"
        );
        let steps = workflow["result"]["steps"].as_array().unwrap();
        assert_eq!(steps.len(), 3, "the workflow ran to its end: {steps:?}");
        assert_eq!(steps[2]["status"], "success");
        assert!(
            run.stdout.contains("test skips-one ... FAILED"),
            "{}",
            run.stdout
        );
    }
    let bad = support::run_suite(&["--skipped-steps", "warn"], &[]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("expected pass or fail"),
        "{}",
        bad.stderr
    );
}
