//! The README's `curl` example (the block after `<!-- readme-api-example -->` in the HTTP API
//! section), run with bash against a live server holding workflows named like the suite's.

mod serve;

use std::process::Command;

use serve::{Server, context, failing, passing};
use workflow_harness::WorkflowSpec;

/// The shell block the README documents.
fn readme_block() -> String {
    let readme = include_str!("../README.md");
    let (_, after) = readme
        .split_once("<!-- readme-api-example -->")
        .expect("the README marks its API example");
    let start = after
        .find("```sh\n")
        .expect("a sh block follows the marker")
        + "```sh\n".len();
    let end = after[start..].find("\n```").expect("the block ends");
    after[start..start + end].to_owned()
}

fn workflows(coupons_fail: bool) -> Vec<WorkflowSpec> {
    vec![
        passing("user-profile", 3, 1),
        passing("wishlist-favorites", 2, 1),
        if coupons_fail {
            failing("seller-coupons")
        } else {
            passing("seller-coupons", 4, 1)
        },
        passing("admin-blog", 1, 0),
    ]
}

/// Runs the block with bash; returns (exit code, stdout, stderr).
async fn run_block(base: &str, token: Option<&str>) -> (i32, String, String) {
    let script = readme_block();
    let base = base.to_owned();
    let token = token.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new("bash");
        cmd.args(["-euo", "pipefail", "-c", &script])
            .env("WORKFLOW_API", base)
            .env_remove("WORKFLOW_API_TOKEN");
        if let Some(token) = token {
            cmd.env("WORKFLOW_API_TOKEN", token);
        }
        let out = cmd.output().expect("bash runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_readme_example_lists_runs_and_summarizes() {
    let server = Server::start(context(workflows(false))).await;
    let (code, stdout, stderr) = run_block(&server.base, None).await;
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[..5],
        [
            "admin-blog",
            "seller-coupons",
            "user-profile",
            "wishlist-favorites",
            "run: run-1"
        ]
    );
    assert_eq!(
        lines[5],
        "Workflow ID,Workflow Name,Status,Duration (ms),Total Steps,Passed Steps,Failed Steps,Success Rate (%)"
    );
    for (row, id) in
        lines[6..9]
            .iter()
            .zip(["seller-coupons", "user-profile", "wishlist-favorites"])
    {
        assert!(
            row.starts_with(&format!("{id},Workflow {id},completed,")),
            "{row}"
        );
    }
    for needle in ["SUMMARY", "Total Workflows,3", "Completed,3", "Failed,0"] {
        assert!(lines.contains(&needle), "{needle} missing in:\n{stdout}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_readme_example_fails_on_a_failed_workflow_and_sends_the_token() {
    let mut ctx = context(workflows(true));
    ctx.token = Some("readme-token".into());
    let server = Server::start(ctx).await;

    let (code, stdout, _) = run_block(&server.base, None).await;
    assert_ne!(code, 0, "without the token curl fails: {stdout}");
    assert!(stdout.is_empty(), "{stdout}");

    let (code, stdout, stderr) = run_block(&server.base, Some("readme-token")).await;
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.contains("seller-coupons,Workflow seller-coupons,failed,"),
        "{stdout}"
    );
    assert!(stdout.lines().any(|l| l == "Failed,1"), "{stdout}");
}
