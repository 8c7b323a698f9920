//! Errors state each cause once, wherever they are printed: a refused connection in the step
//! and workflow errors, the JSON and the JUnit message; a missing file in the setup error.

use workflow_harness::Executor;
use workflow_harness::prelude::*;

/// A port nothing listens on: bound, then released.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("a bound address").port()
}

fn assert_states_the_refusal_once(text: &str) {
    assert_eq!(text.matches("error sending request").count(), 1, "{text}");
    assert_eq!(text.matches("request failed").count(), 1, "{text}");
    assert!(
        text.to_lowercase().contains("connection refused"),
        "names the cause: {text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_connection_is_stated_once_in_every_report() {
    let base = format!("http://127.0.0.1:{}", closed_port());
    let mut executor = Executor::new();
    executor
        .base_url(base.parse().expect("a URL"))
        .add_workflow("refused", "Refused", |cx| {
            Box::pin(async move {
                cx.step("Fetch", async |cx| {
                    cx.get("/api/products").await?;
                    Ok(())
                })
                .await
            })
        });
    let report = executor.execute_all().await.expect("the run starts");
    let workflow = &report.workflows[0];
    let step_error = workflow.result.steps[0]
        .error
        .as_deref()
        .unwrap_or_default();
    assert_states_the_refusal_once(step_error);
    assert!(
        step_error.starts_with(&format!("GET {base}/api/products: request failed: ")),
        "{step_error}"
    );
    let error = workflow.error.as_deref().unwrap_or_default();
    assert_states_the_refusal_once(error);
    assert!(error.starts_with("step \"Fetch\" failed: "), "{error}");

    let json: Value = serde_json::from_str(&report.to_json()).expect("JSON");
    assert_states_the_refusal_once(json["workflows"][0]["error"].as_str().unwrap_or_default());

    let junit = report.to_junit();
    let doc = roxmltree::Document::parse(&junit).expect("well-formed XML");
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .expect("a failure");
    assert_states_the_refusal_once(failure.attribute("message").unwrap_or_default());
}

#[test]
fn a_missing_file_is_stated_once() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let missing = dir.path().join("missing.toml");
    let overrides = workflow_harness::config::Overrides {
        config: Some(missing.clone()),
        ..Default::default()
    };
    let error = workflow_harness::config::load(&overrides, &|_| None, dir.path())
        .expect_err("the file is missing");
    // As the harness prints a setup error: the whole chain.
    let text = format!("{:#}", anyhow::Error::from(error));
    assert_eq!(text.matches("os error 2").count(), 1, "{text}");
    assert_eq!(
        text,
        format!(
            "cannot read {}: No such file or directory (os error 2)",
            missing.display()
        )
    );
}
