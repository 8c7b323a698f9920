//! Request transcripts: recorded per step, kept for workflows that did not pass (or all, or
//! none), truncated, and redacted so that a token sent in a header or a body, a password or a
//! session cookie never appears in any report file, even where the server echoes it back.

mod local;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use workflow_harness::prelude::*;
use workflow_harness::report::{ReportFormat, StepStatus, write_reports};
use workflow_harness::{EngineConfig, Executor, RunReport, Status, Transcripts, WorkflowSpec};

const TOKEN: &str = "tok-very-secret-4242";
const PASSWORD: &str = "hunter2-correct-horse";
const SESSION: &str = "sess-cookie-value-777";

async fn server() -> String {
    let app = Router::new()
        .route(
            "/login",
            post(|| async {
                (
                    [(header::SET_COOKIE, format!("sid={SESSION}; Path=/"))],
                    axum::Json(json!({ "token": TOKEN, "user": { "name": "ada" } })),
                )
            }),
        )
        .route(
            "/orders",
            post(|headers: HeaderMap| async move {
                // A careless server: it echoes the credentials in its error.
                let auth = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                let cookie = headers
                    .get(header::COOKIE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("{{\"error\":\"boom\",\"auth\":\"{auth}\",\"cookie\":\"{cookie}\",\"pad\":\"{}\"}}", "x".repeat(300)),
                )
                    .into_response()
            }),
        )
        .route("/ok", get(|| async { axum::Json(json!({ "ok": true })) }));
    local::serve(app).await
}

fn shop(id: &str, fail: bool) -> WorkflowSpec {
    WorkflowSpec::new(id, id, move |cx| {
        Box::pin(async move {
            let token: String = cx
                .step("Log in", async |cx| {
                    let body = json!({ "user": "ada", "password": PASSWORD });
                    let session = cx.post_value("/login", &body).await?;
                    Ok(session.str_at("token")?.to_owned())
                })
                .await?;
            cx.set_bearer(&token)?;
            cx.step("Browse", async |cx| {
                cx.get_value("/ok").await?;
                Ok(())
            })
            .await?;
            if fail {
                cx.step("Order", async |cx| {
                    cx.post("/orders")
                        .json(&json!({ "item": "p1" }))
                        .await?
                        .expect_status(201)?;
                    Ok(())
                })
                .await?;
            }
            Ok(())
        })
    })
}

async fn run(base: &str, transcripts: Transcripts, body_limit: usize) -> RunReport {
    let mut executor = Executor::new();
    executor
        .config(EngineConfig {
            base_url: Some(base.parse().unwrap()),
            transcripts,
            transcript_body_limit: body_limit,
            ..EngineConfig::default()
        })
        .add(shop("fails", true))
        .add(shop("passes", false));
    executor.execute_all().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_workflow_keeps_the_transcripts_of_its_steps_and_no_secret_reaches_a_report() {
    let base = server().await;
    let report = run(&base, Transcripts::Failures, 200).await;
    let failed = &report.workflows[0];
    assert_eq!(failed.status, Status::Failed);
    let order = &failed.result.steps[2];
    assert_eq!(order.status, StepStatus::Failed);
    let exchange = &order.transcript[0];
    assert_eq!(exchange.method, "POST");
    assert_eq!(exchange.url, format!("{base}/orders"));
    assert_eq!(exchange.status, Some(500));
    assert!(
        exchange
            .request_headers
            .contains(&("authorization".into(), "<redacted>".into())),
        "{:?}",
        exchange.request_headers
    );
    assert_eq!(exchange.request_body.as_deref(), Some("{\"item\":\"p1\"}"));
    let body = exchange.response_body.as_deref().unwrap_or_default();
    assert!(body.contains("\"error\":\"boom\""), "{body}");
    assert!(body.ends_with("bytes in all)"), "cut at 200 bytes: {body}");
    // The steps before the failure keep theirs too: the login and what it answered.
    let login = &failed.result.steps[0].transcript[0];
    assert!(
        login
            .response_body
            .as_deref()
            .is_some_and(|b| b.contains("\"token\":\"<redacted>\"")),
        "{login:?}"
    );
    // A workflow that passed keeps none by default.
    assert!(
        report.workflows[1]
            .result
            .steps
            .iter()
            .all(|s| s.transcript.is_empty())
    );

    let dir = tempfile::tempdir().unwrap();
    let written = write_reports(&report, dir.path(), &ReportFormat::ALL).unwrap();
    assert!(!written.is_empty());
    for path in &written {
        let text = std::fs::read_to_string(path).unwrap();
        for secret in [TOKEN, PASSWORD, SESSION] {
            assert!(
                !text.contains(secret),
                "{secret} in {}:\n{text}",
                path.display()
            );
        }
    }
    let junit = report.to_junit();
    assert!(
        junit.contains("transcript of &quot;Order&quot;:")
            || junit.contains("transcript of \"Order\":"),
        "{junit}"
    );
    assert!(
        junit.contains(&format!("&gt; POST {base}/orders")),
        "{junit}"
    );
    // The step's error quotes the echoed body, scrubbed all the same.
    let error = order.error.clone().unwrap_or_default();
    assert!(error.contains("got 500"), "{error}");
    assert!(error.contains("<redacted>"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn transcripts_all_keeps_every_step_and_off_keeps_none() {
    let base = server().await;
    let all = run(&base, Transcripts::All, 8192).await;
    let passed = &all.workflows[1];
    assert_eq!(passed.status, Status::Completed);
    assert!(passed.result.steps.iter().all(|s| s.transcript.len() == 1));
    let json = all.to_json();
    assert!(!json.contains(TOKEN) && !json.contains(PASSWORD) && !json.contains(SESSION));

    let off = run(&base, Transcripts::Off, 8192).await;
    for w in &off.workflows {
        assert!(w.result.steps.iter().all(|s| s.transcript.is_empty()));
    }
    // With transcripts off the errors are still kept free of secrets.
    let error = off.workflows[0].error.clone().unwrap_or_default();
    assert!(!error.contains(TOKEN), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn steps_record_when_they_started() {
    let base = server().await;
    let report = run(&base, Transcripts::Off, 8192).await;
    let steps = &report.workflows[0].result.steps;
    for pair in steps.windows(2) {
        assert!(
            pair[1].start >= pair[0].start + pair[0].duration,
            "{:?} starts before {:?} ends",
            pair[1].name,
            pair[0].name
        );
    }
    let json: Value = serde_json::from_str(&report.to_json()).unwrap();
    assert!(json.at("/workflows/0/result/steps/1/startOffset").is_ok());
}
