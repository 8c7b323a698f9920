//! Scale-out through the suite binary: `--partition` shards (count, hash, duration) merged with
//! `--merge-reports` give the same workflows, counts and verdict as one unsharded run; an empty
//! shard still reports; merge refusals; nextest fragments merged; tag selection from the
//! command line and harness.toml. This binary starts itself again as a fixture suite
//! (`support::run_suite`).

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;

use workflow_harness::RunReport;
use workflow_harness::prelude::*;

use support::run_suite;

// ---- fixture workflows (run only in the child process) ----

async fn ping(cx: &mut Ctx) -> StepResult {
    cx.step("Ping", async |cx| {
        cx.get("/ok").await?.expect_status(200)?;
        Ok(())
    })
    .await
}

async fn broken(cx: &mut Ctx) -> StepResult {
    cx.step("Unavailable", async |cx| {
        cx.get("/status/503").await?.expect_status(200)?;
        Ok(())
    })
    .await
}

workflow! { id: "shop-browse", name: "Shop browse", tags: ["shop"], run: ping }
workflow! { id: "shop-cart", name: "Shop cart", tags: ["shop", "slow"], run: ping }
workflow! { id: "shop-order", name: "Shop order", tags: ["shop"], depends_on: ["shop-cart"], run: ping }
workflow! { id: "admin-users", name: "Admin users", tags: ["admin"], run: ping }
workflow! { id: "admin-audit", name: "Admin audit", tags: ["admin", "slow"], run: broken }
workflow! { id: "admin-report", name: "Admin report", tags: ["admin"], depends_on: ["admin-audit"], run: ping }
workflow! { id: "user-profile", name: "User profile", tags: ["user"], run: ping }
workflow! { id: "user-wishlist", name: "User wishlist", tags: ["user"], run: ping }

// ---- tests ----

fn report(dir: &Path) -> RunReport {
    let text = std::fs::read_to_string(dir.join("report.json"))
        .unwrap_or_else(|e| panic!("no report.json in {}: {e}", dir.display()));
    serde_json::from_str(&text).unwrap()
}

fn ids(report: &RunReport) -> BTreeSet<String> {
    report
        .workflows
        .iter()
        .map(|w| w.workflow_id.clone())
        .collect()
}

fn env_dir(dir: &Path) -> String {
    dir.to_str().unwrap().to_owned()
}

fn three_shards_merge_into_the_unsharded_run() {
    let whole = run_suite(&[], &[]);
    assert_eq!(whole.code, 101, "{}", whole.stderr);
    let whole_report = whole.report();
    for kind in ["count", "hash", "duration"] {
        let root = tempfile::tempdir().unwrap();
        let mut seen = BTreeSet::new();
        for k in 1..=3 {
            let dir = root.path().join(format!("shard-{k}"));
            let partition = format!("{kind}:{k}/3");
            let run = run_suite(
                &["--partition", &partition],
                &[("WORKFLOW_REPORT_DIR", &env_dir(&dir))],
            );
            assert!(
                run.code == 0 || run.code == 101,
                "{partition}: {}",
                run.stderr
            );
            let shard = report(&dir);
            let recorded = shard.shard.as_ref().expect("the shard is recorded");
            assert_eq!(recorded.partition.to_string(), partition);
            for id in ids(&shard) {
                assert!(seen.insert(id.clone()), "{id} in two shards ({kind})");
            }
            // A dependency runs in its dependent's shard.
            for w in &shard.workflows {
                for dep in &w.depends_on {
                    assert!(
                        ids(&shard).contains(dep),
                        "{kind}: {dep} not beside {}",
                        w.workflow_id
                    );
                }
            }
        }
        let merged_dir = root.path().join("merged");
        let shards: Vec<String> = (1..=3)
            .map(|k| env_dir(&root.path().join(format!("shard-{k}"))))
            .collect();
        let mut args = vec!["--merge-reports"];
        args.extend(shards.iter().map(String::as_str));
        let merged = run_suite(&args, &[("WORKFLOW_REPORT_DIR", &env_dir(&merged_dir))]);
        assert_eq!(
            merged.code, whole.code,
            "{kind}: the verdict; {}",
            merged.stderr
        );
        let merged_report = report(&merged_dir);
        assert_eq!(ids(&merged_report), ids(&whole_report), "{kind}");
        assert_eq!(
            (
                merged_report.completed,
                merged_report.failed,
                merged_report.blocked
            ),
            (
                whole_report.completed,
                whole_report.failed,
                whole_report.blocked
            ),
            "{kind}"
        );
        assert_eq!(
            merged_report.aggregate_stats.total_steps,
            whole_report.aggregate_stats.total_steps
        );
        for file in ["report.csv", "junit.xml", "report.html"] {
            assert!(merged_dir.join(file).is_file(), "{file} of the merge");
        }
    }
}

fn an_empty_shard_still_reports_and_a_missing_one_refuses_the_merge() {
    let root = tempfile::tempdir().unwrap();
    // Eight shards of five units (two chains): some are empty.
    let mut empty = 0;
    for k in 1..=8 {
        let dir = root.path().join(format!("s{k}"));
        let partition = format!("count:{k}/8");
        let run = run_suite(
            &["--partition", &partition],
            &[("WORKFLOW_REPORT_DIR", &env_dir(&dir))],
        );
        assert!(run.code == 0 || run.code == 101, "{}", run.stderr);
        if report(&dir).total_workflows == 0 {
            empty += 1;
        }
    }
    assert!(empty >= 2, "{empty} empty shards");
    let all: Vec<String> = (1..=8)
        .map(|k| env_dir(&root.path().join(format!("s{k}"))))
        .collect();
    let out = env_dir(&root.path().join("out"));
    let mut args = vec!["--merge-reports"];
    args.extend(all.iter().map(String::as_str));
    let merged = run_suite(&args, &[("WORKFLOW_REPORT_DIR", &out)]);
    assert_eq!(merged.code, 101, "{}", merged.stderr);
    assert_eq!(report(Path::new(&out)).total_workflows, 8);

    let mut args = vec!["--merge-reports"];
    args.extend(all.iter().skip(1).map(String::as_str));
    let refused = run_suite(&args, &[("WORKFLOW_REPORT_DIR", &out)]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("error: --merge-reports: shard 1 of 8 missing"),
        "{}",
        refused.stderr
    );
}

fn nextest_fragments_merge_with_one_command() {
    let root = tempfile::tempdir().unwrap();
    let dir = env_dir(root.path());
    // A previous aggregate run, then three nextest processes of a new run.
    let first = run_suite(
        &["--exact", "user-profile"],
        &[("WORKFLOW_REPORT_DIR", &dir)],
    );
    assert_eq!(first.code, 0, "{}", first.stderr);
    for id in ["shop-browse", "user-profile", "admin-audit"] {
        let run = run_suite(
            &["--exact", id],
            &[("WORKFLOW_REPORT_DIR", &dir), ("NEXTEST_RUN_ID", "nx-1")],
        );
        assert!(run.code == 0 || run.code == 101, "{}", run.stderr);
    }
    assert!(
        !root.path().join("report.json").exists(),
        "the previous run's aggregate is gone"
    );
    let merged = run_suite(&["--merge-reports", &dir], &[("WORKFLOW_REPORT_DIR", &dir)]);
    assert_eq!(merged.code, 101, "admin-audit failed: {}", merged.stderr);
    let ids = ids(&report(root.path()));
    assert_eq!(
        ids.into_iter().collect::<Vec<_>>(),
        ["admin-audit", "shop-browse", "user-profile"]
    );
}

fn tags_select_from_the_command_line_and_harness_toml() {
    let run = run_suite(
        &["--tag", "shop", "--tag", "user", "--skip-tag", "slow"],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // shop-order depends on shop-cart (slow): it still runs, as a dependency.
    assert_eq!(
        ids(&run.report()).into_iter().collect::<Vec<_>>(),
        [
            "shop-browse",
            "shop-cart",
            "shop-order",
            "user-profile",
            "user-wishlist"
        ]
    );
    assert!(
        run.stdout
            .contains("test result: ok. 5 passed; 0 failed; 0 ignored; 0 measured; 3 filtered out"),
        "{}",
        run.stdout
    );
    let list = run_suite(&["--tag", "admin", "--list"], &[]);
    assert_eq!(
        list.stdout
            .lines()
            .filter(|l| l.ends_with(": test"))
            .count(),
        3,
        "{}",
        list.stdout
    );
    let filtered = run_suite(&["--tag", "admin", "report"], &[]);
    assert_eq!(
        ids(&filtered.report()).into_iter().collect::<Vec<_>>(),
        ["admin-audit", "admin-report"],
        "a name filter narrows the tag selection (with the dependency)"
    );
    let from_env = run_suite(&[], &[("WORKFLOW_TAGS", "user")]);
    assert_eq!(ids(&from_env.report()).len(), 2, "{}", from_env.stderr);
    let from_file = support::run_suite_with_config(&[], "skip_tags = [\"admin\", \"slow\"]\n");
    // shop-cart is slow, but shop-order needs it: it runs as a dependency.
    assert_eq!(
        ids(&from_file.report()).into_iter().collect::<Vec<_>>(),
        [
            "shop-browse",
            "shop-cart",
            "shop-order",
            "user-profile",
            "user-wishlist"
        ],
        "{}",
        from_file.stderr
    );
}

/// The listed workflows of `--partition P --list` in `dir`.
fn listed(partition: &str, dir: &Path) -> BTreeSet<String> {
    let list = run_suite(
        &["--partition", partition, "--list"],
        &[("WORKFLOW_REPORT_DIR", &env_dir(dir))],
    );
    assert_eq!(list.code, 0, "{}", list.stderr);
    list.stdout
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(str::to_owned)
        .collect()
}

fn duration_shards_balance_by_the_run_history() {
    use workflow_harness::history::{RunMeta, Store, Target, suite_name};
    let root = tempfile::tempdir().unwrap();
    let (with_history, without) = (root.path().join("a"), root.path().join("b"));
    // A real run's report, recorded with user-profile taking 5 s: duration:K/2 puts it alone
    // in the first shard (count would put three units there).
    let whole = run_suite(&[], &[("WORKFLOW_HISTORY_ENABLED", "false")]);
    std::fs::create_dir_all(&with_history).unwrap();
    let mut recorded = whole.report();
    for w in &mut recorded.workflows {
        w.duration = std::time::Duration::from_millis(if w.workflow_id == "user-profile" {
            5000
        } else {
            10
        });
    }
    assert!(!with_history.join("history.sqlite").exists());
    let env = |k: &str| std::env::var(k).ok();
    let meta = RunMeta {
        run_id: "recorded".into(),
        suite: suite_name(&env, Path::new(env!("CARGO_MANIFEST_DIR"))),
        ..RunMeta::default()
    };
    let mut store = Store::open(&Target::Sqlite(with_history.join("history.sqlite"))).unwrap();
    store.record(&recorded, &meta).unwrap();
    drop(store);
    // And a report.json that says otherwise (admin-users the slow one): the history wins.
    let mut last = recorded.clone();
    for w in &mut last.workflows {
        let ms = if w.workflow_id == "admin-users" {
            5000
        } else {
            10
        };
        w.duration = std::time::Duration::from_millis(ms);
    }
    std::fs::write(with_history.join("report.json"), last.to_json()).unwrap();
    let no_history = root.path().join("c");
    std::fs::create_dir_all(&no_history).unwrap();
    std::fs::write(no_history.join("report.json"), last.to_json()).unwrap();
    assert_eq!(
        listed("duration:1/2", &no_history)
            .into_iter()
            .collect::<Vec<_>>(),
        ["admin-users"],
        "without a history, the last report balances"
    );
    assert!(
        !no_history.join("history.sqlite").exists(),
        "reading created no history"
    );

    let first = listed("duration:1/2", &with_history);
    assert_eq!(first.into_iter().collect::<Vec<_>>(), ["user-profile"]);
    assert_eq!(listed("duration:2/2", &with_history).len(), 7);

    // The run is the list; both shards from one history merge.
    let shard_dir = |k: usize| root.path().join(format!("shard-{k}"));
    for k in 1..=2 {
        std::fs::create_dir_all(shard_dir(k)).unwrap();
        std::fs::copy(
            with_history.join("history.sqlite"),
            shard_dir(k).join("history.sqlite"),
        )
        .unwrap();
        let run = run_suite(
            &["--partition", &format!("duration:{k}/2")],
            &[("WORKFLOW_REPORT_DIR", &env_dir(&shard_dir(k)))],
        );
        assert!(run.code == 0 || run.code == 101, "{}", run.stderr);
        let shard = report(&shard_dir(k));
        assert!(shard.shard.as_ref().unwrap().plan.is_some());
        if k == 1 {
            assert_eq!(
                ids(&shard).into_iter().collect::<Vec<_>>(),
                ["user-profile"]
            );
        }
    }
    let merged_dir = env_dir(&root.path().join("merged"));
    let merged = run_suite(
        &[
            "--merge-reports",
            &env_dir(&shard_dir(1)),
            &env_dir(&shard_dir(2)),
        ],
        &[("WORKFLOW_REPORT_DIR", &merged_dir)],
    );
    assert_eq!(merged.code, 101, "admin-audit fails: {}", merged.stderr);
    assert_eq!(report(Path::new(&merged_dir)).total_workflows, 8);

    // A second shard that saw no history planned by count: the merge refuses, by name,
    // instead of losing or doubling workflows.
    let run = run_suite(
        &["--partition", "duration:2/2"],
        &[("WORKFLOW_REPORT_DIR", &env_dir(&without))],
    );
    assert!(run.code == 0 || run.code == 101, "{}", run.stderr);
    let refused = run_suite(
        &[
            "--merge-reports",
            &env_dir(&shard_dir(1)),
            &env_dir(&without),
        ],
        &[("WORKFLOW_REPORT_DIR", &merged_dir)],
    );
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("the shards planned differently"),
        "{}",
        refused.stderr
    );
}

fn main() -> ExitCode {
    support::main(&[
        (
            "three_shards_merge_into_the_unsharded_run",
            three_shards_merge_into_the_unsharded_run,
        ),
        (
            "an_empty_shard_still_reports_and_a_missing_one_refuses_the_merge",
            an_empty_shard_still_reports_and_a_missing_one_refuses_the_merge,
        ),
        (
            "nextest_fragments_merge_with_one_command",
            nextest_fragments_merge_with_one_command,
        ),
        (
            "duration_shards_balance_by_the_run_history",
            duration_shards_balance_by_the_run_history,
        ),
        (
            "tags_select_from_the_command_line_and_harness_toml",
            tags_select_from_the_command_line_and_harness_toml,
        ),
    ])
}
