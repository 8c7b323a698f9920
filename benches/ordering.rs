//! Scheduling scenarios that show the order is honoured: a dependency chain, and priorities
//! under a concurrency limit. Prints the start order and the wall time of each scenario.
//!
//! `cargo bench --bench ordering`

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use workflow_harness::{EngineConfig, Executor, WorkflowSpec};

type Log = Arc<Mutex<Vec<String>>>;

fn sleeper(id: &str, ms: u64, log: &Log) -> WorkflowSpec {
    let (name, log) = (id.to_owned(), log.clone());
    WorkflowSpec::new(id, id, move |cx| {
        let (name, log) = (name.clone(), log.clone());
        Box::pin(async move {
            log.lock().map(|mut l| l.push(name)).ok();
            cx.step("Wait", async move |_| {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok(())
            })
            .await
        })
    })
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");

    // A chain of 10 workflows of 20 ms each, plus 10 independent ones that run meanwhile.
    let log: Log = Arc::default();
    let mut executor = Executor::new();
    executor.config(EngineConfig {
        concurrency: 16,
        ..EngineConfig::default()
    });
    for i in 0..10 {
        let mut spec = sleeper(&format!("chain-{i:02}"), 20, &log);
        if i > 0 {
            spec = spec.depends_on([format!("chain-{:02}", i - 1)]);
        }
        executor.add(spec);
        executor.add(sleeper(&format!("free-{i:02}"), 20, &log));
    }
    let started = Instant::now();
    let report = runtime
        .block_on(executor.execute_all())
        .expect("valid suite");
    let wall = started.elapsed();
    let order = log.lock().map(|l| l.clone()).unwrap_or_default();
    let chain: Vec<&String> = order.iter().filter(|id| id.starts_with("chain")).collect();
    let honoured = chain.windows(2).all(|w| w[0] < w[1]);
    println!("dependency chain of 10 × 20 ms with 10 free workflows (concurrency 16):");
    println!(
        "  wall {:.0} ms (ideal 200 ms), completed {}, chain order honoured: {honoured}",
        wall.as_secs_f64() * 1000.0,
        report.completed
    );
    println!("  start order: {}", order.join(" "));

    // 12 workflows of 20 ms with priorities 0..=11 under a limit of 1. (With a larger limit the
    // slots are granted in priority order too, but workflows started together race to log.)
    let log: Log = Arc::default();
    let mut executor = Executor::new();
    executor.config(EngineConfig {
        concurrency: 1,
        ..EngineConfig::default()
    });
    for p in 0..12 {
        executor.add(sleeper(&format!("p{p:02}"), 20, &log).priority(p));
    }
    let started = Instant::now();
    runtime
        .block_on(executor.execute_all())
        .expect("valid suite");
    let wall = started.elapsed();
    let order = log.lock().map(|l| l.clone()).unwrap_or_default();
    let honoured = order.windows(2).all(|w| w[0] > w[1]);
    println!("priorities 0..=11 under a limit of 1:");
    println!(
        "  wall {:.0} ms (ideal 240 ms), highest first: {honoured}",
        wall.as_secs_f64() * 1000.0
    );
    println!("  start order: {}", order.join(" "));
}
