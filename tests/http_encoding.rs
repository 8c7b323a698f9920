//! The harness's HTTP client as a workflow sees it, against a local server: it says who it is
//! (`User-Agent`), asks for compressed bodies (`Accept-Encoding`) and decodes gzip, deflate and
//! brotli transparently, with nothing in the suite's Cargo.toml.

mod local;

use std::io::Write as _;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use workflow_harness::prelude::*;
use workflow_harness::{USER_AGENT, WorkflowSpec};

const BODY: &str = r#"{"items":[{"id":1,"name":"first"}],"total":1}"#;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
    writer.write_all(bytes).unwrap();
    drop(writer);
    out
}

/// Answers `BODY` in `encoding` when the request accepts it, 406 otherwise.
fn encoded(
    encoding: &'static str,
    encode: fn(&[u8]) -> Vec<u8>,
) -> impl Fn(HeaderMap) -> std::future::Ready<axum::response::Response> + Clone {
    move |headers: HeaderMap| {
        let accepts = headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains(encoding));
        let response = if accepts {
            (
                [
                    (header::CONTENT_ENCODING, encoding),
                    (header::CONTENT_TYPE, "application/json"),
                ],
                encode(BODY.as_bytes()),
            )
                .into_response()
        } else {
            (StatusCode::NOT_ACCEPTABLE, "no Accept-Encoding").into_response()
        };
        std::future::ready(response)
    }
}

async fn server() -> String {
    let app = Router::new()
        .route(
            "/agent",
            get(|headers: HeaderMap| async move {
                let agent = headers
                    .get(header::USER_AGENT)
                    .and_then(|v| v.to_str().ok());
                agent.unwrap_or_default().to_owned()
            }),
        )
        .route("/gzip", get(encoded("gzip", gzip)))
        .route("/deflate", get(encoded("deflate", deflate)))
        .route("/br", get(encoded("br", brotli)));
    local::serve(app).await
}

#[tokio::test(flavor = "multi_thread")]
async fn compressed_bodies_decode_and_the_harness_says_who_it_is() {
    let base = server().await;
    let spec = WorkflowSpec::new("encodings", "Encodings", |cx| {
        Box::pin(async move {
            cx.step("User-Agent", async |cx| {
                let response = cx.get("/agent").await?.expect_status(200)?;
                let agent = response.text();
                ensure!(agent == USER_AGENT, "sent {agent:?}");
                ensure!(agent.starts_with("workflow-harness/"), "{agent}");
                Ok(())
            })
            .await?;
            cx.step("A workflow's own User-Agent wins", async |cx| {
                let mut own = cx.as_user("token");
                own.set_header("User-Agent", "my-suite/2")?;
                let response = own.get("/agent").await?.expect_status(200)?;
                let agent = response.text();
                ensure_eq!(agent.as_ref(), "my-suite/2");
                Ok(())
            })
            .await?;
            for path in ["/gzip", "/deflate", "/br"] {
                cx.step(path, async |cx| {
                    let body = cx.get_value(path).await?;
                    expect_json!(body, { "total": 1, "items": [{ "name": "first" }] })?;
                    Ok(())
                })
                .await?;
            }
            Ok(())
        })
    });
    let w = local::run_one(&base, spec).await;
    assert_eq!(
        w.status,
        workflow_harness::Status::Completed,
        "{:?}",
        w.error
    );
    assert_eq!(w.result.passed, 5);
}
