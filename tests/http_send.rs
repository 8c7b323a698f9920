//! The request builder and `Http::send`: a one-off header replaces the workflow's default of
//! the same name, a reqwest request built on another client (one that does not follow
//! redirects) is sent by that client once, and a request that cannot be built says why.

mod local;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use workflow_harness::prelude::*;
use workflow_harness::{Status, WorkflowSpec};

async fn server() -> String {
    let app = Router::new()
        .route(
            "/headers",
            get(|headers: HeaderMap| async move {
                let values: Vec<String> = headers
                    .get_all(header::AUTHORIZATION)
                    .iter()
                    .filter_map(|v| v.to_str().ok().map(str::to_owned))
                    .collect();
                axum::Json(json!({ "authorization": values }))
            }),
        )
        .route(
            "/auth",
            get(|| async {
                let challenge = [(header::WWW_AUTHENTICATE, "Bearer realm=\"api\"")];
                (
                    StatusCode::UNAUTHORIZED,
                    challenge,
                    "{\"error\":\"no token\"}",
                )
                    .into_response()
            }),
        )
        .route(
            "/png",
            get(|| async {
                let bytes = vec![0x89, b'P', b'N', b'G', 0xff, 0xfe, 0x00, 0x01];
                ([(header::CONTENT_TYPE, "image/png")], bytes).into_response()
            }),
        )
        .route(
            "/moved",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/gone")]).into_response() }),
        )
        .route(
            "/redirect",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/headers")]).into_response() }),
        );
    local::serve(app).await
}

#[tokio::test(flavor = "multi_thread")]
async fn one_off_headers_replace_defaults_and_the_builders_client_sends() {
    let base = server().await;
    let spec = WorkflowSpec::new("send", "Send", |cx| {
        Box::pin(async move {
            cx.set_bearer("default")?;
            cx.step("Default header", async |cx| {
                let body = cx.get("/headers").await?.json_value()?;
                expect_json!(body, { "authorization": ["Bearer default"] })?;
                let url = format!("{}headers", cx.base_url().map(|u| u.as_str()).unwrap_or(""));
                let raw = cx.send(cx.client().get(url)).await?.json_value()?;
                expect_json!(raw, { "authorization": ["Bearer default"] })?;
                Ok(())
            })
            .await?;
            cx.step("One-off header", async |cx| {
                let request = cx
                    .request(Method::GET, "/headers")
                    .header("Authorization", "Bearer one-off");
                let body = request.send().await?.json_value()?;
                expect_json!(body, { "authorization": ["Bearer one-off"] })?;
                let body = cx.get("/headers").bearer("b").await?.json_value()?;
                expect_json!(body, { "authorization": ["Bearer b"] })?;
                let url = format!("{}headers", cx.base_url().map(|u| u.as_str()).unwrap_or(""));
                let raw = cx.client().get(url).header("Authorization", "Bearer raw");
                let body = cx.send(raw).await?.json_value()?;
                expect_json!(body, { "authorization": ["Bearer raw"] })?;
                Ok(())
            })
            .await?;
            cx.step("No redirect", async |cx| {
                let client = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()?;
                let url = format!(
                    "{}redirect",
                    cx.base_url().map(|u| u.as_str()).unwrap_or("")
                );
                let response = cx.send(client.get(url)).await?;
                response.expect_status(302)?;
                Ok(())
            })
            .await
        })
    });
    let w = local::run_one(&base, spec).await;
    assert_eq!(w.status, Status::Completed, "{:?}", w.error);
    assert_eq!(w.result.passed, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_that_cannot_be_built_says_why() {
    let base = server().await;
    let spec = WorkflowSpec::new("bad", "Bad request", |cx| {
        Box::pin(async move {
            cx.optional_step("Bad header", async |cx| {
                cx.post("/headers").header("x", "a\nb").send().await?;
                Ok(())
            })
            .await;
            cx.step("Bad header, raw", async |cx| {
                let request = cx.client().post(format!(
                    "{}x",
                    cx.base_url().map(|u| u.as_str()).unwrap_or("")
                ));
                cx.send(request.header("x", "a\nb")).await?;
                Ok(())
            })
            .await
        })
    });
    let w = local::run_one(&base, spec).await;
    let built = w.result.steps[0].error.clone().unwrap_or_default();
    assert!(
        built.contains(&format!(
            "cannot build POST {base}/headers: invalid header x"
        )),
        "the method, the URL and the cause: {built}"
    );
    let error = w.error.unwrap_or_default();
    assert!(error.contains("cannot build the request"), "{error}");
    assert!(!error.contains("GET"), "not a GET: {error}");
    assert!(error.contains("header"), "the cause is named: {error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_name_the_headers_that_explain_them_and_describe_binary_bodies() {
    let base = server().await;
    let spec = WorkflowSpec::new("explain", "Explain", |cx| {
        Box::pin(async move {
            let refused = cx.optional_step("Refused", async |cx| {
                cx.get("/auth").await?.expect_status(200)?;
                Ok(())
            });
            refused.await;
            cx.step("Binary", async |cx| {
                cx.get_value("/png").await?;
                Ok(())
            })
            .await
        })
    });
    let w = local::run_one(&base, spec).await;
    let refused = w.result.steps[0].error.clone().unwrap_or_default();
    assert!(
        refused.contains("got 401 Unauthorized (www-authenticate: Bearer realm=\"api\")"),
        "{refused}"
    );
    assert!(refused.contains("no token"), "{refused}");
    let binary = w.error.unwrap_or_default();
    assert!(
        binary.contains("<8 bytes, not text, content-type: image/png>"),
        "{binary}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn responses_know_where_redirects_led_and_check_headers() {
    let base = server().await;
    let spec = WorkflowSpec::new("redirects", "Redirects", |cx| {
        Box::pin(async move {
            cx.step("Follow", async |cx| {
                let response = cx.get("/redirect").await?.expect_status(200)?;
                ensure!(
                    response.final_url().ends_with("/headers"),
                    "{}",
                    response.final_url()
                );
                response.expect_header("content-type", "application/json")?;
                Ok(())
            })
            .await?;
            cx.optional_step("Header mismatch", async |cx| {
                cx.get("/headers").await?.expect_header("x-version", "2")?;
                Ok(())
            })
            .await;
            cx.optional_step("Moved to nowhere", async |cx| {
                cx.get("/moved").await?.expect_status(200)?;
                Ok(())
            })
            .await;
            Ok(())
        })
    });
    let w = local::run_one(&base, spec).await;
    assert_eq!(w.status, Status::Completed, "{:?}", w.error);
    let error = |i: usize| w.result.steps[i].error.clone().unwrap_or_default();
    assert!(
        error(1).contains("expected header x-version: \"2\", got no such header"),
        "{}",
        error(1)
    );
    let moved = error(2);
    assert!(moved.contains("/moved → http://"), "the chain: {moved}");
    assert!(
        moved.contains("/gone: expected status 200, got 404"),
        "{moved}"
    );
}
