//! Shared by the HTTP tests: a local axum server, and one workflow run against it.
#![allow(dead_code)]

use workflow_harness::{EngineConfig, Executor, WorkflowReport, WorkflowSpec};

/// Serves `app` on a free loopback port; its base URL.
pub async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// Runs `spec` alone with `base` as the base URL; its report entry.
pub async fn run_one(base: &str, spec: WorkflowSpec) -> WorkflowReport {
    let mut executor = Executor::new();
    executor
        .config(EngineConfig {
            base_url: Some(base.parse().unwrap()),
            ..EngineConfig::default()
        })
        .add(spec);
    executor.execute_all().await.unwrap().workflows.remove(0)
}
