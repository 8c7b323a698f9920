//! report.html from real runs: a run with failures (and their transcripts), a flaky workflow
//! and a dependency chain, and a synthetic 10,000-workflow run. Each page is checked here for
//! what can be read without a browser (its embedded data, nothing loaded from elsewhere, the
//! size budget) and written under `target/browser/` for the headless-Chromium test
//! (`tests/browser/report.mjs`, run by `scripts/browser-test.sh`), which opens it.

mod local;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::SystemTime;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use workflow_harness::prelude::*;
use workflow_harness::report::{
    Attempt, ReportFormat, Status, StepRecord, StepStatus, StepSummary, WorkflowReport,
    write_reports,
};
use workflow_harness::{EngineConfig, Executor, RunReport, WorkflowSpec};

fn out_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/browser")
        .join(name)
}

fn embedded(html: &str) -> RunReport {
    let start =
        html.find("id=\"report-data\">").expect("embedded data") + "id=\"report-data\">".len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).unwrap()
}

async fn server() -> String {
    let app = Router::new()
        .route("/ok", get(|| async { axum::Json(json!({ "ok": true })) }))
        .route(
            "/broken",
            get(|| async {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "{\"error\":\"database down\"}",
                )
            }),
        );
    local::serve(app).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_with_failures_a_flaky_workflow_and_a_chain_gives_a_complete_page() {
    let base = server().await;
    let tries = Arc::new(AtomicU32::new(0));
    let mut flaky = WorkflowSpec::new("flaky-checkout", "Flaky checkout", move |cx| {
        let tries = tries.clone();
        Box::pin(async move {
            cx.step("Browse", async |cx| {
                Ok(cx.get_value("/ok").await.map(|_| ())?)
            })
            .await?;
            cx.step("Pay", async |cx| {
                if tries.fetch_add(1, Ordering::SeqCst) == 0 {
                    cx.get_value("/broken").await?;
                }
                Ok(())
            })
            .await
        })
    });
    flaky.retries = Some(1);
    let broken = WorkflowSpec::new("order-history", "Order history", |cx| {
        Box::pin(async move {
            cx.step("Log in", async |cx| {
                Ok(cx.get_value("/ok").await.map(|_| ())?)
            })
            .await?;
            cx.step("List orders", async |cx| {
                Ok(cx.get_value("/broken").await.map(|_| ())?)
            })
            .await
        })
    });
    let mut blocked = WorkflowSpec::new("refund", "Refund", |cx| {
        Box::pin(async move { cx.step("Refund", async |_| Ok(())).await })
    });
    blocked.depends_on = vec!["order-history".into()];
    let setup = WorkflowSpec::new("seed-data", "Seed data", |cx| {
        Box::pin(async move {
            cx.step("Seed", async |cx| {
                Ok(cx.get_value("/ok").await.map(|_| ())?)
            })
            .await
        })
    });
    let mut chained = WorkflowSpec::new("browse-catalog", "Browse catalog", |cx| {
        Box::pin(async move {
            for page in 1..=3 {
                cx.step(&format!("Page {page}"), async |cx| {
                    Ok(cx.get_value("/ok").await.map(|_| ())?)
                })
                .await?;
            }
            Ok(())
        })
    });
    chained.depends_on = vec!["seed-data".into()];
    chained.tags = vec!["catalog".into()];

    let mut executor = Executor::new();
    executor
        .config(EngineConfig {
            base_url: Some(base.parse().unwrap()),
            retry_delay: Duration::from_millis(10),
            ..EngineConfig::default()
        })
        .add(flaky)
        .add(broken)
        .add(blocked)
        .add(setup)
        .add(chained);
    let report = executor.execute_all().await.unwrap();
    assert_eq!(report.total_workflows, 5);
    assert_eq!(
        (
            report.completed,
            report.failed,
            report.blocked,
            report.flaky
        ),
        (3, 2, 1, 1)
    );

    let dir = out_dir("report-fixture");
    let _ = std::fs::remove_dir_all(&dir);
    write_reports(&report, &dir, &[ReportFormat::Html]).unwrap();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let data = embedded(&html);
    let mut expected: RunReport = serde_json::from_str(&report.to_json()).unwrap();
    assert!(data.step_stats.is_empty(), "the page computes them");
    expected.step_stats.clear();
    assert_eq!(
        data, expected,
        "the page holds the whole report (its step stats computed)"
    );
    let failed = data
        .workflows
        .iter()
        .find(|w| w.workflow_id == "order-history")
        .unwrap();
    let transcript = &failed.result.steps[1].transcript;
    assert_eq!(transcript[0].status, Some(500), "{transcript:?}");
    for external in [
        "src=\"http",
        "href=\"http",
        "src=\"//",
        "@import",
        "url(http",
    ] {
        assert!(!html.contains(external), "report.html loads {external}…");
    }
}

/// 10,000 workflows of ten steps: the page stays within its 15 MB budget (first paint is
/// measured by the browser test and recorded in the README, not asserted here).
#[test]
fn a_ten_thousand_workflow_page_stays_within_its_budget() {
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let workflows: Vec<WorkflowReport> = (0..10_000)
        .map(|i| {
            let steps: Vec<StepRecord> = (0..10)
                .map(|s| StepRecord {
                    start: Duration::from_millis(s * 20),
                    ..StepRecord::new(
                        format!("Step {s}"),
                        StepStatus::Passed,
                        Duration::from_millis(18),
                    )
                })
                .collect();
            let at = start + Duration::from_millis((i % 500) * 7);
            WorkflowReport {
                workflow_id: format!("wf-{i:05}"),
                workflow_name: format!("Workflow {i:05}"),
                status: Status::Completed,
                progress: 100.0,
                current_step: "Completed".into(),
                start_time: at,
                end_time: at + Duration::from_millis(200),
                duration: Duration::from_millis(200),
                error: None,
                failure_kind: None,
                tags: vec!["scale".into()],
                planned_steps: Some(10),
                priority: 0,
                depends_on: Vec::new(),
                group: None,
                as_dependency: false,
                blocked_by: None,
                flaky: false,
                attempts: vec![Attempt {
                    attempt: 1,
                    passed: true,
                    duration: Duration::from_millis(200),
                    error: None,
                    failure_kind: None,
                }],
                result: StepSummary::new(steps),
            }
        })
        .collect();
    let mut report = RunReport::new(workflows, start, Duration::from_millis(3700));
    report.run_id = "scale-10k".into();
    let dir = out_dir("report-10k");
    let _ = std::fs::remove_dir_all(&dir);
    write_reports(&report, &dir, &[ReportFormat::Html]).unwrap();
    let size = std::fs::metadata(dir.join("report.html")).unwrap().len();
    assert!(
        size <= 15 * 1024 * 1024,
        "report.html of 10,000 workflows: {size} bytes"
    );
}
