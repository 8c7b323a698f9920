//! A `cargo test` run's workflow input (`--context FILE`, `WORKFLOW_CONTEXT`, `context` in
//! harness.toml) and its per-step CSV (`--report-formats … steps`), through the suite binary
//! (this test binary run again as a fixture suite).

mod support;

use std::process::ExitCode;

use workflow_harness::prelude::*;
use workflow_harness::report::{ReportFormat, StepStatus};

use support::run_suite;

// ---- fixture workflows (run only in the child process) ----

workflow! { id: "echo-input", name: "Echo, \"the input\"", run: echo_input }

async fn echo_input(cx: &mut Ctx) -> StepResult {
    cx.step("Ping, \"first\"", async |cx| {
        cx.get("/ok").await?.expect_status(200)?;
        Ok(())
    })
    .await?;
    // The input, as the error of a skipped step: what the workflow got is in the report.
    cx.optional_step("Show the input", async |cx| -> StepResult {
        match cx.input() {
            Some(input) => bail!("input: {input}"),
            None => bail!("input: none"),
        }
    })
    .await;
    Ok(())
}

workflow! { id: "typed-input", name: "Typed input", run: typed_input }

#[derive(serde::Deserialize)]
struct Typed {
    count: u32,
}

async fn typed_input(cx: &mut Ctx) -> StepResult {
    cx.step("Decode", async |cx| {
        let typed = cx.input_as::<Typed>()?.context("no input")?;
        ensure!(typed.count > 0, "count is 0");
        Ok(())
    })
    .await
}

// ---- tests ----

fn shown_input(run: &support::Run) -> String {
    let report = run.report();
    let echo = report
        .workflows
        .iter()
        .find(|w| w.workflow_id == "echo-input")
        .unwrap();
    echo.result.steps[1].error.clone().unwrap()
}

fn one_value_reaches_every_selected_workflow() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("context.json");
    std::fs::write(&file, r#"{"count": 2}"#).unwrap();
    let run = run_suite(&[], &[("WORKFLOW_CONTEXT", file.to_str().unwrap())]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(shown_input(&run), r#"input: {"count":2}"#);

    // The flag wins over the variable.
    let other = dir.path().join("other.json");
    std::fs::write(&other, r#"{"count": 5, "x": [1]}"#).unwrap();
    let run = run_suite(
        &["--context", other.to_str().unwrap()],
        &[("WORKFLOW_CONTEXT", file.to_str().unwrap())],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(shown_input(&run), r#"input: {"count":5,"x":[1]}"#);

    // Without one, workflows get none.
    let run = run_suite(&["--exact", "echo-input"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(shown_input(&run), "input: none");
}

fn a_map_keyed_by_ids_gives_each_its_own_and_a_bad_one_fails_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("inputs.json"),
        r#"{"echo-input": {"mine": true}, "typed-input": {"count": "three"}}"#,
    )
    .unwrap();
    // In harness.toml, relative to the file.
    std::fs::write(
        dir.path().join("harness.toml"),
        "context = \"inputs.json\"\n",
    )
    .unwrap();
    let config = dir.path().join("harness.toml");
    let run = run_suite(&[], &[("WORKFLOW_CONFIG", config.to_str().unwrap())]);
    assert_eq!(run.code, 101, "{}", run.stderr);
    assert_eq!(shown_input(&run), r#"input: {"mine":true}"#);
    let report = run.report();
    let typed = report
        .workflows
        .iter()
        .find(|w| w.workflow_id == "typed-input")
        .unwrap();
    assert_eq!(
        typed.error.as_deref(),
        Some(
            "step \"Decode\" failed: the input of \"typed-input\" does not fit: count: invalid type: string \"three\", expected u32"
        )
    );
}

fn a_missing_or_malformed_file_stops_the_run_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.json");
    let run = run_suite(&["--context", missing.to_str().unwrap()], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "cannot read the context file {}",
            missing.display()
        )),
        "{}",
        run.stderr
    );
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\n  \"count\": 2,\n}\n").unwrap();
    let run = run_suite(&["--context", bad.to_str().unwrap()], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "the context file {} is not JSON: trailing comma at line 3 column 1",
            bad.display()
        )),
        "{}",
        run.stderr
    );
    assert!(!run.report_dir().exists(), "nothing ran");
}

fn the_per_step_csv_matches_the_json_steps() {
    let run = run_suite(
        &["--report-formats", "json,steps"],
        &[("WORKFLOW_CONTEXT", "/dev/null")],
    );
    // `/dev/null` is not JSON: the run does not start.
    assert_eq!(run.code, 2);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("context.json");
    std::fs::write(&file, r#"{"count": 1}"#).unwrap();
    let run = run_suite(
        &["--report-formats", "json,steps"],
        &[("WORKFLOW_CONTEXT", file.to_str().unwrap())],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.report_path(ReportFormat::Csv).exists());
    let text = std::fs::read_to_string(run.report_path(ReportFormat::Steps)).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "Workflow",
            "Step Number",
            "Step Name",
            "Status",
            "Duration (ms)",
            "Error",
            "Attempt",
            "Workflow ID",
            "Run ID"
        ]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let report = run.report();
    let mut wanted = Vec::new();
    for w in &report.workflows {
        for (i, step) in w.result.steps.iter().enumerate() {
            let status = match step.status {
                StepStatus::Passed => "success",
                StepStatus::Failed => "failed",
                _ => "skipped",
            };
            wanted.push(vec![
                w.workflow_name.clone(),
                (i + 1).to_string(),
                step.name.clone(),
                status.to_owned(),
                step.duration.as_millis().to_string(),
                step.error.clone().unwrap_or_default(),
                "1".to_owned(),
                w.workflow_id.clone(),
                report.run_id.clone(),
            ]);
        }
    }
    assert_eq!(rows, wanted);
    // Names with commas and quotes came through as single fields.
    assert_eq!(rows[0][0], "Echo, \"the input\"");
    assert_eq!(rows[0][2], "Ping, \"first\"");
    assert_eq!(rows[1][5], r#"input: {"count":1}"#);
}

fn main() -> ExitCode {
    support::main(&[
        (
            "one_value_reaches_every_selected_workflow",
            one_value_reaches_every_selected_workflow,
        ),
        (
            "a_map_keyed_by_ids_gives_each_its_own_and_a_bad_one_fails_naming_the_field",
            a_map_keyed_by_ids_gives_each_its_own_and_a_bad_one_fails_naming_the_field,
        ),
        (
            "a_missing_or_malformed_file_stops_the_run_naming_it",
            a_missing_or_malformed_file_stops_the_run_naming_it,
        ),
        (
            "the_per_step_csv_matches_the_json_steps",
            the_per_step_csv_matches_the_json_steps,
        ),
    ])
}
