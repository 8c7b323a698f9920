//! Serve mode as a user starts it: this test binary runs itself as a fixture suite with
//! `--serve 127.0.0.1:0`, a run goes through the API, and its report is compared with the
//! report of the same selection run the `cargo test` way.

mod poll;
mod support;

use std::io::{BufRead as _, BufReader};
use std::process::{Child, ExitCode, Stdio};

use libtest_mimic::{Arguments, Trial};
use serde_json::json;
use workflow_harness::RunReport;
use workflow_harness::prelude::*;

use support::{FIXTURE_ENV, run_suite};

// ---- fixture workflows (run only in the child process) ----

workflow! { id: "user-profile", name: "User Profile (fixture)", tags: ["user"], steps: 3, run: user_profile }

async fn user_profile(cx: &mut Ctx) -> StepResult {
    let items: Vec<Value> = cx
        .step("List items", async |cx| Ok(cx.get_json("/items").await?))
        .await?;
    let first = items.first().cloned().context("no items")?;
    cx.step("Echo", async move |cx| {
        cx.post("/echo").json(&first).await?.expect_status(200)?;
        Ok(())
    })
    .await?;
    cx.step("Ping", async |cx| {
        cx.get("/ok").await?.expect_status(200)?;
        Ok(())
    })
    .await
}

workflow! { id: "wishlist-favorites", name: "Wishlist (fixture)", tags: ["user"], run: wishlist }

async fn wishlist(cx: &mut Ctx) -> StepResult {
    cx.step("Ping", async |cx| {
        cx.get("/ok").await?.expect_status(200)?;
        Ok(())
    })
    .await?;
    cx.optional_step("Optional outage", async |cx| {
        cx.get("/status/503").await?.expect_status(200)?;
        Ok(())
    })
    .await;
    Ok(())
}

workflow! { id: "seller-shop", name: "Seller Shop (fixture)", tags: ["seller"], run: seller_shop }

async fn seller_shop(cx: &mut Ctx) -> StepResult {
    cx.step("Open shop", async |_| Ok(())).await
}

workflow! {
    id: "seller-coupons",
    name: "Seller Coupons (fixture)",
    tags: ["seller"],
    steps: 3,
    depends_on: ["seller-shop"],
    run: seller_coupons,
}

async fn seller_coupons(cx: &mut Ctx) -> StepResult {
    cx.step("Create coupon", async |_| Ok(())).await?;
    cx.step("Missing coupon", async |cx| {
        cx.get("/status/404").await?.expect_status(200)?;
        Ok(())
    })
    .await?;
    cx.step("Never reached", async |_| Ok(())).await
}

workflow! { id: "unrelated", name: "Not selected", run: seller_shop }

// ---- tests (run in the parent process) ----

/// This binary as a fixture suite serving the API; killed on drop.
struct Served {
    child: Child,
    base: String,
    dir: tempfile::TempDir,
}

impl Served {
    fn start(env: &[(&str, &str)]) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = support::fixture_command(std::env::current_exe().unwrap(), dir.path());
        cmd.args(["--serve", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd.envs(env.iter().copied());
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let base = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                panic!("the server exited before announcing its address");
            };
            if let Some(rest) = line.strip_prefix("workflow API and dashboard on ") {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        // Keep draining stderr so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Served { child, base, dir }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// What must agree between the two ways of running: everything but times, ports and ids.
fn shape(report: &RunReport) -> Value {
    let workflows: Vec<Value> = report
        .workflows
        .iter()
        .map(|w| {
            let steps: Vec<Value> = w
                .result
                .steps
                .iter()
                .map(|s| json!([s.name, s.status, s.optional, s.error.is_some()]))
                .collect();
            json!({
                "id": w.workflow_id,
                "name": w.workflow_name,
                "status": w.status,
                "asDependency": w.as_dependency,
                "progress": w.progress,
                "currentStep": w.current_step,
                "failureKind": w.failure_kind,
                "counts": [w.result.total_steps, w.result.passed, w.result.failed, w.result.skipped],
                "steps": steps,
            })
        })
        .collect();
    let s = &report.aggregate_stats;
    json!({
        "counts": [report.total_workflows, report.completed, report.failed, report.blocked, report.cancelled],
        "steps": [s.total_steps, s.passed_steps, s.failed_steps, s.skipped_steps],
        "successRate": s.success_rate,
        "workflows": workflows,
    })
}

fn api_run_equals_cargo_test_run() {
    let served = Served::start(&[]);
    let (report, run_id) = runtime().block_on(async {
        let client = reqwest::Client::new();
        let listed: Value = client
            .get(format!("{}/api/test-workflows/parallel", served.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(listed["totalWorkflows"], 5);
        let response = client
            .post(format!("{}/api/test-workflows/parallel", served.base))
            .json(&json!({"workflowIds": ["user-profile", "wishlist-favorites", "seller-coupons"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let run_id = response.headers()["x-run-id"].to_str().unwrap().to_owned();
        (response.json::<RunReport>().await.unwrap(), run_id)
    });

    // The same selection the `cargo test` way: skipping the dependency does not stop it from
    // being pulled in, as the API does.
    let cli = run_suite(&["--skip", "unrelated", "--skip", "seller-shop"], &[]);
    assert_eq!(
        cli.code, 101,
        "seller-coupons fails:\n{}\n{}",
        cli.stdout, cli.stderr
    );
    let expected = cli.report();
    assert_eq!(shape(&report), shape(&expected));
    let ids: Vec<&str> = report
        .workflows
        .iter()
        .map(|w| w.workflow_id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "seller-coupons",
            "seller-shop",
            "user-profile",
            "wishlist-favorites"
        ]
    );

    // The served run's reports are also on disk, under runs/<run id>/ (written just after the
    // run ends, each file renamed into place whole).
    let on_disk = served
        .dir
        .path()
        .join("reports/runs")
        .join(&run_id)
        .join("report.json");
    poll::until_blocking(&format!("{} is written", on_disk.display()), || {
        on_disk.exists()
    });
    let saved: RunReport =
        serde_json::from_str(&std::fs::read_to_string(&on_disk).unwrap()).unwrap();
    assert_eq!(saved, report);
}

fn the_configured_token_is_required() {
    let served = Served::start(&[("WORKFLOW_API_TOKEN", "t0ken")]);
    runtime().block_on(async {
        let client = reqwest::Client::new();
        let url = format!("{}/api/test-workflows/parallel", served.base);
        let denied = client.get(&url).send().await.unwrap();
        assert_eq!(denied.status(), 401);
        let allowed = client.get(&url).bearer_auth("t0ken").send().await.unwrap();
        assert_eq!(allowed.status(), 200);
    });
}

fn api_tags_select_as_cargo_test_tags_do() {
    let served = Served::start(&[]);
    let (report, unknown) = runtime().block_on(async {
        let client = reqwest::Client::new();
        let url = format!("{}/api/test-workflows/parallel", served.base);
        let response = client
            .post(&url)
            .json(&json!({"tags": ["seller", "user"], "skipTags": ["user"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let report = response.json::<RunReport>().await.unwrap();
        let unknown = client
            .post(&url)
            .json(&json!({"tags": ["sellr"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(unknown.status(), 400);
        (report, unknown.json::<Value>().await.unwrap())
    });
    let cli = run_suite(
        &["--tag", "seller", "--tag", "user", "--skip-tag", "user"],
        &[],
    );
    assert_eq!(shape(&report), shape(&cli.report()));
    let ids: Vec<&str> = report
        .workflows
        .iter()
        .map(|w| w.workflow_id.as_str())
        .collect();
    assert_eq!(ids, ["seller-coupons", "seller-shop"]);
    assert!(
        unknown
            .to_string()
            .contains("tags: unknown tags: sellr (known: seller, user)"),
        "{unknown}"
    );
}

/// A schedule whose selection names no workflow of the suite stops `--serve` before it
/// listens, naming the schedule; a bad cron expression names it too.
fn a_bad_schedule_stops_serve_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    for (entry, says) in [
        (
            "name = \"watch\"\ncron = \"* * * * *\"\nworkflow_ids = [\"nope\"]",
            "schedule \"watch\": Invalid workflow IDs: nope",
        ),
        (
            "name = \"watch\"\ncron = \"* * * * *\"\ntags = [\"sellr\"]",
            "schedule \"watch\": tags: unknown tags: sellr",
        ),
        (
            "name = \"watch\"\ncron = \"every minute\"",
            "schedule \"watch\": cron \"every minute\"",
        ),
    ] {
        let file = dir.path().join("harness.toml");
        std::fs::write(&file, format!("[[schedule]]\n{entry}\n")).unwrap();
        let run = run_suite(
            &["--serve", "127.0.0.1:0"],
            &[("WORKFLOW_CONFIG", file.to_str().unwrap())],
        );
        assert_eq!(run.code, 2, "{entry}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{entry}: {}", run.stderr);
        assert!(!run.stderr.contains("listening") && !run.stderr.contains("dashboard on"));
    }
}

fn main() -> ExitCode {
    if std::env::var_os(FIXTURE_ENV).is_some() {
        return support::fixture_main();
    }
    let tests: [(&str, fn()); 4] = [
        (
            "a_bad_schedule_stops_serve_naming_it",
            a_bad_schedule_stops_serve_naming_it,
        ),
        (
            "api_run_equals_cargo_test_run",
            api_run_equals_cargo_test_run,
        ),
        (
            "api_tags_select_as_cargo_test_tags_do",
            api_tags_select_as_cargo_test_tags_do,
        ),
        (
            "the_configured_token_is_required",
            the_configured_token_is_required,
        ),
    ];
    let trials = tests
        .into_iter()
        .map(|(name, f)| {
            Trial::test(name, move || {
                f();
                Ok(())
            })
        })
        .collect();
    libtest_mimic::run(&Arguments::from_args(), trials).exit_code()
}
