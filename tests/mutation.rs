//! The suite catches what breaks: every route the 20 workflows call is broken in turn in the
//! marketplace (`[server] break`), and at least one workflow must fail.
//!
//! A clean run first logs the routes the suite calls (`[server] route_log`) and passes. Then,
//! each in a run of its own against a fresh marketplace:
//! - every route answers `500`: a workflow fails quoting the marketplace's
//!   `broken by --break '<rule>'`, so its error names the method, the URL and the route;
//! - every list the clean run saw non-empty comes back empty: a workflow fails;
//! - every write (`POST`, `PATCH`, `PUT`, `DELETE`) answers as if stored and stores nothing: a
//!   workflow fails, except for the few routes that store nothing anyway ([`STORE_NOTHING`]).
//!
//! The README's table of route families ("Breakage the suite catches") is checked against
//! what the runs show: every family has a row, and every workflow a row names did fail. On a
//! mismatch the message holds the table as observed.
//!
//! This binary holds the suite itself (the workflow modules, by path) and runs it as a child
//! process, as `cargo test --test workflows` would, a few children at a time.

#[path = "../workflows/admin/mod.rs"]
mod admin;
#[path = "../workflows/auction/mod.rs"]
mod auction;
#[path = "../workflows/checks.rs"]
mod checks;
#[path = "../workflows/common.rs"]
mod common;
#[path = "../workflows/seller/mod.rs"]
mod seller;
#[path = "../workflows/shop/mod.rs"]
mod shop;
mod support;
#[path = "../workflows/user/mod.rs"]
mod user;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use workflow_harness::config::Config;
use workflow_harness::{EmbeddedServer, Harness};

/// Writes that store nothing, so `nostore` cannot change what any client sees: a coupon check
/// is a read, and the verification routes only "send" a code.
const STORE_NOTHING: [&str; 3] = [
    "POST /api/coupons/validate",
    "POST /api/user/verify-email",
    "POST /api/user/verify-mobile",
];

/// Children at once: the machine has 2 cores, a child's run is half waiting on its server.
const PARALLEL: usize = 3;

fn main() -> ExitCode {
    if std::env::var_os(support::FIXTURE_ENV).is_some() {
        return Harness::new().embedded_server(start_marketplace).main();
    }
    let trials: [(&str, fn()); 4] = [
        (
            "every_route_the_suite_calls_fails_a_workflow_naming_it_when_it_answers_500",
            every_route_answering_500_is_caught,
        ),
        (
            "every_list_the_suite_reads_fails_a_workflow_when_it_comes_back_empty",
            every_empty_list_is_caught,
        ),
        (
            "every_write_the_suite_makes_fails_a_workflow_when_it_is_not_stored",
            every_lost_write_is_caught,
        ),
        (
            "the_readme_table_names_workflows_that_catch_each_route_family",
            readme_table_matches,
        ),
    ];
    let trials = trials
        .into_iter()
        .map(|(name, test)| {
            libtest_mimic::Trial::test(name, move || {
                test();
                Ok(())
            })
        })
        .collect();
    libtest_mimic::run(&libtest_mimic::Arguments::from_args(), trials).exit_code()
}

/// The suite's own server factory (`workflows/main.rs`).
async fn start_marketplace(config: Config) -> anyhow::Result<EmbeddedServer> {
    let options: marketplace::Options = config.server.parse()?;
    let running = marketplace::start(SocketAddr::from(([127, 0, 0, 1], 0)), options).await?;
    Ok(EmbeddedServer {
        base_url: running.base_url().parse()?,
        shutdown: Box::pin(async move { running.shutdown().await }),
    })
}

/// How a route is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Mode {
    Status500,
    Empty,
    NoStore,
}

impl Mode {
    fn rule_suffix(self) -> &'static str {
        match self {
            Mode::Status500 => "500",
            Mode::Empty => "empty",
            Mode::NoStore => "nostore",
        }
    }

    /// The README's column heading.
    fn heading(self) -> &'static str {
        match self {
            Mode::Status500 => "answers 500",
            Mode::Empty => "empty list",
            Mode::NoStore => "not stored",
        }
    }
}

/// One broken run: the workflows that failed, and those whose error names the rule.
#[derive(Debug, Default)]
struct Caught {
    failed: BTreeSet<String>,
    naming: BTreeSet<String>,
}

/// Everything the runs showed, computed once for all trials.
struct Survey {
    /// `(route, mode)` → what failed.
    results: BTreeMap<(String, Mode), Caught>,
}

fn survey() -> &'static Survey {
    static SURVEY: OnceLock<Survey> = OnceLock::new();
    SURVEY.get_or_init(|| {
        let (routes, lists) = clean_run();
        let mut jobs: Vec<(String, Mode)> = Vec::new();
        for route in &routes {
            jobs.push((route.clone(), Mode::Status500));
            let write = !route.starts_with("GET ");
            if write && !STORE_NOTHING.contains(&route.as_str()) {
                jobs.push((route.clone(), Mode::NoStore));
            }
        }
        jobs.extend(lists.iter().map(|r| (r.clone(), Mode::Empty)));
        let next = AtomicUsize::new(0);
        let results = std::sync::Mutex::new(BTreeMap::new());
        std::thread::scope(|scope| {
            for _ in 0..PARALLEL {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((route, mode)) = jobs.get(i) else {
                            break;
                        };
                        let caught = broken_run(route, *mode);
                        results
                            .lock()
                            .unwrap()
                            .insert((route.clone(), *mode), caught);
                    }
                });
            }
        });
        Survey {
            results: results.into_inner().unwrap(),
        }
    })
}

/// The routes the suite calls and the lists it saw non-empty, from a clean run that passes.
fn clean_run() -> (BTreeSet<String>, BTreeSet<String>) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("routes.log");
    let out = support::fixture_command(std::env::current_exe().unwrap(), dir.path())
        .env("WORKFLOW_SERVER_ROUTE_LOG", &log)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the suite must pass against an unbroken marketplace:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&log).expect("the route log was written");
    let mut routes = BTreeSet::new();
    let mut lists = BTreeSet::new();
    for line in text.lines() {
        match line.strip_suffix(" list") {
            Some(route) => lists.insert(route.to_owned()),
            None => routes.insert(line.to_owned()),
        };
    }
    assert!(
        routes.len() >= 50,
        "the suite calls only {} routes?\n{text}",
        routes.len()
    );
    (routes, lists)
}

fn broken_run(route: &str, mode: Mode) -> Caught {
    let rule = format!("{route}={}", mode.rule_suffix());
    let dir = tempfile::tempdir().unwrap();
    let out = support::fixture_command(std::env::current_exe().unwrap(), dir.path())
        .env("WORKFLOW_SERVER_BREAK", &rule)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = dir.path().join("reports/report.json");
    let Ok(text) = std::fs::read_to_string(&report) else {
        panic!("{rule}: no report ({}):\n{stderr}", report.display());
    };
    let report: Value = serde_json::from_str(&text).unwrap();
    let named = format!("broken by --break '{rule}'");
    let mut caught = Caught::default();
    for w in report["workflows"].as_array().unwrap() {
        if w["status"] == "completed" {
            continue;
        }
        let id = w["workflowId"].as_str().unwrap().to_owned();
        if w["error"].as_str().is_some_and(|e| e.contains(&named)) {
            caught.naming.insert(id.clone());
        }
        caught.failed.insert(id);
    }
    assert_eq!(
        out.status.code(),
        Some(if caught.failed.is_empty() { 0 } else { 101 }),
        "{rule}: the exit code agrees with the report; stderr:\n{stderr}"
    );
    caught
}

/// Fails listing every `(route, mode)` of `mode` for which `missed` holds.
fn expect_all(mode: Mode, what: &str, missed: impl Fn(&Caught) -> bool) {
    let survey = survey();
    let mut gaps = Vec::new();
    let mut tried = 0;
    for ((route, m), caught) in &survey.results {
        if *m != mode {
            continue;
        }
        tried += 1;
        if missed(caught) {
            gaps.push(format!(
                "{route}={}: failed {:?}",
                mode.rule_suffix(),
                caught.failed
            ));
        }
    }
    assert!(tried > 0, "no route was broken with {mode:?}");
    assert!(
        gaps.is_empty(),
        "{} of {tried} routes broken ({}) and no workflow {what} — a gap in a workflow:\n{}",
        gaps.len(),
        mode.heading(),
        gaps.join("\n")
    );
}

fn every_route_answering_500_is_caught() {
    expect_all(Mode::Status500, "failed naming the route", |c: &Caught| {
        c.naming.is_empty()
    });
}

fn every_empty_list_is_caught() {
    expect_all(Mode::Empty, "failed", |c: &Caught| c.failed.is_empty());
}

fn every_lost_write_is_caught() {
    expect_all(Mode::NoStore, "failed", |c: &Caught| c.failed.is_empty());
}

/// What catches a family in the README: for 500, the workflows naming the rule; else those
/// failing.
fn catchers(mode: Mode, caught: &Caught) -> &BTreeSet<String> {
    match mode {
        Mode::Status500 => &caught.naming,
        _ => &caught.failed,
    }
}

fn readme_table_matches() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let numbers = workflow_numbers(&readme);
    let survey = survey();
    let mut observed: BTreeMap<&str, BTreeMap<Mode, Vec<String>>> = BTreeMap::new();
    for ((route, mode), caught) in &survey.results {
        let mut nums: Vec<String> = catchers(*mode, caught)
            .iter()
            .map(|id| {
                numbers
                    .get(id.as_str())
                    .cloned()
                    .unwrap_or_else(|| id.clone())
            })
            .collect();
        nums.sort();
        observed.entry(route).or_default().insert(*mode, nums);
    }
    let modes = [Mode::Status500, Mode::Empty, Mode::NoStore];
    let mut table =
        String::from("| route | answers 500 | empty list | not stored |\n|---|---|---|---|\n");
    for (route, by_mode) in &observed {
        let cells: Vec<String> = modes
            .iter()
            .map(|m| by_mode.get(m).map_or("—".to_owned(), |n| n.join(", ")))
            .collect();
        table.push_str(&format!("| `{route}` | {} |\n", cells.join(" | ")));
    }

    let Some(documented) = readme_rows(&readme) else {
        panic!("README.md has no <!-- BEGIN/END mutation-table --> markers; observed:\n{table}");
    };
    let mut problems = Vec::new();
    for (route, by_mode) in &observed {
        let Some(row) = documented.get(*route) else {
            problems.push(format!("no README row for `{route}`"));
            continue;
        };
        for (i, mode) in modes.iter().enumerate() {
            let cell = &row[i];
            match by_mode.get(mode) {
                None if cell == "—" => {}
                None => problems.push(format!(
                    "`{route}` {}: not tried, README says {cell}",
                    mode.heading()
                )),
                Some(_) if cell == "—" => problems.push(format!(
                    "`{route}` {}: tried, README says —",
                    mode.heading()
                )),
                Some(seen) => {
                    let claimed: Vec<&str> = cell.split(", ").collect();
                    let wrong: Vec<&&str> = claimed
                        .iter()
                        .filter(|n| !seen.iter().any(|s| s == **n))
                        .collect();
                    if claimed.is_empty() || !wrong.is_empty() {
                        problems.push(format!(
                            "`{route}` {}: README names {wrong:?}, which did not catch it (caught by {seen:?})",
                            mode.heading()
                        ));
                    }
                }
            }
        }
    }
    for route in documented.keys() {
        if !observed.contains_key(route.as_str()) {
            problems.push(format!(
                "README row `{route}`: the suite no longer calls it"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "the README's route table disagrees with the runs:\n{}\n\nobserved:\n{table}",
        problems.join("\n")
    );
}

/// `workflow id → "01"…"20"`, from the README's workflow table.
fn workflow_numbers(readme: &str) -> BTreeMap<&str, String> {
    let numbers: BTreeMap<&str, String> = readme
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let (num, id) = (cells.get(1)?, cells.get(2)?);
            let id = id.strip_prefix('`')?.strip_suffix('`')?;
            (num.len() == 2 && num.chars().all(|c| c.is_ascii_digit()))
                .then(|| (id, num.to_string()))
        })
        .collect();
    assert_eq!(
        numbers.len(),
        20,
        "the README's workflow table: {numbers:?}"
    );
    numbers
}

/// The rows of the table between the `mutation-table` markers: route → its three cells.
fn readme_rows(readme: &str) -> Option<BTreeMap<String, Vec<String>>> {
    let start = readme.find("<!-- BEGIN mutation-table -->")?;
    let end = readme.find("<!-- END mutation-table -->")?;
    let rows = readme[start..end]
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let route = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let rest: Vec<String> = cells.get(2..5)?.iter().map(|c| c.to_string()).collect();
            Some((route.to_owned(), rest))
        })
        .collect();
    Some(rows)
}
