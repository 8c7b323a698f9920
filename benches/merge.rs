//! Scale-out figures: merging 100 shards of 100 workflows each (`--merge-reports`), and how
//! evenly `duration:K/N` splits the suite by its recorded durations.
//!
//! `cargo bench --bench merge [REPORT_JSON]`: the second figure reads the workflows' durations
//! from a report.json (default: `target/workflow-reports/report.json`, the last suite run).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use workflow_harness::partition::{self, PartitionKind};
use workflow_harness::report::{
    Attempt, Status, StepRecord, StepStatus, StepSummary, WorkflowReport, merge_reports,
};
use workflow_harness::{Partition, RunReport, Shard, WorkflowSpec};

fn shard(k: usize, n: usize, per: usize) -> RunReport {
    let at = SystemTime::now();
    let workflows = (0..per)
        .map(|i| {
            let steps: Vec<StepRecord> = (0..8)
                .map(|s| {
                    StepRecord::new(
                        format!("Step {s}"),
                        StepStatus::Passed,
                        Duration::from_millis(9),
                    )
                })
                .collect();
            WorkflowReport {
                workflow_id: format!("s{k:03}-w{i:03}"),
                workflow_name: format!("Shard {k} workflow {i}"),
                status: Status::Completed,
                progress: 100.0,
                current_step: "Completed".into(),
                start_time: at,
                end_time: at + Duration::from_millis(80),
                duration: Duration::from_millis(80),
                error: None,
                failure_kind: None,
                tags: vec!["bench".into()],
                planned_steps: Some(8),
                priority: 0,
                depends_on: Vec::new(),
                group: None,
                as_dependency: false,
                blocked_by: None,
                flaky: false,
                attempts: vec![Attempt {
                    attempt: 1,
                    passed: true,
                    duration: Duration::from_millis(80),
                    error: None,
                    failure_kind: None,
                }],
                result: StepSummary::new(steps),
            }
        })
        .collect();
    let mut report = RunReport::new(workflows, at, Duration::from_millis(100));
    report.run_id = format!("shard-{k}");
    report.shard = Some(Shard {
        partition: Partition {
            kind: PartitionKind::Count,
            shard: k,
            total: n,
        },
        suite: "bench".into(),
        plan: None,
    });
    report
}

fn main() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (n, per) = (100, 100);
    let paths: Vec<PathBuf> = (1..=n)
        .map(|k| {
            let folder = dir.path().join(format!("shard-{k}"));
            std::fs::create_dir_all(&folder).expect("shard folder");
            std::fs::write(folder.join("report.json"), shard(k, n, per).to_json())
                .expect("shard written");
            folder
        })
        .collect();
    let started = Instant::now();
    let merged = merge_reports(&paths, false).expect("the shards merge");
    let took = started.elapsed();
    assert_eq!(merged.total_workflows, n * per);
    println!(
        "merge: {n} shards × {per} workflows read and merged in {} ms",
        took.as_millis()
    );

    let source = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/workflow-reports/report.json"));
    let Ok(text) = std::fs::read_to_string(&source) else {
        println!(
            "duration partitions: no {} (run the suite first)",
            source.display()
        );
        return;
    };
    let report: RunReport = serde_json::from_str(&text).expect("a report.json");
    let specs: Vec<WorkflowSpec> = report
        .workflows
        .iter()
        .map(|w| {
            let mut spec = WorkflowSpec::new(&w.workflow_id, &w.workflow_name, |_| {
                Box::pin(async { Ok(()) })
            });
            spec.depends_on = w.depends_on.clone();
            spec
        })
        .collect();
    let durations: HashMap<String, Duration> = report
        .workflows
        .iter()
        .map(|w| (w.workflow_id.clone(), w.duration))
        .collect();
    for total in [2, 3, 4] {
        for kind in [PartitionKind::Count, PartitionKind::Duration] {
            let shards = partition::assign(&specs, kind, total, &durations);
            let mut load = vec![Duration::ZERO; total];
            for (id, k) in &shards {
                load[k - 1] += durations[id];
            }
            let max = load.iter().max().copied().unwrap_or_default().as_secs_f64();
            let min = load.iter().min().copied().unwrap_or_default().as_secs_f64();
            println!(
                "{kind:?}:K/{total}: shard totals {:?} ms, spread {:.0} %",
                load.iter().map(Duration::as_millis).collect::<Vec<_>>(),
                if max > 0.0 {
                    (max - min) / max * 100.0
                } else {
                    0.0
                }
            );
        }
    }
}
