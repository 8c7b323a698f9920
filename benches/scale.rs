//! Overhead at scale: 10,000 workflows of one trivial step each, run with the default
//! concurrency, then all three reports written. Prints wall times and the peak resident memory.
//!
//! `cargo bench --bench scale` (pass another count as the first argument).

use std::time::Instant;

use workflow_harness::report::{ReportFormat, write_reports};
use workflow_harness::{EngineConfig, Executor, WorkflowSpec};

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut executor = Executor::new();
    executor.config(EngineConfig::default());
    for i in 0..n {
        executor.add(WorkflowSpec::new(
            format!("w{i:05}"),
            format!("Trivial {i}"),
            |cx| Box::pin(async move { cx.step("Nothing", async |_| Ok(())).await }),
        ));
    }
    let started = Instant::now();
    let report = runtime.block_on(executor.execute_all()).expect("valid ids");
    let run = started.elapsed();
    assert_eq!(report.completed, n);

    let dir = tempfile::tempdir().expect("temporary directory");
    let written = Instant::now();
    write_reports(&report, dir.path(), &ReportFormat::ALL).expect("reports written");
    let write = written.elapsed();
    let size = |f: ReportFormat| {
        std::fs::metadata(dir.path().join(f.file_name())).map_or(0, |m| m.len()) / 1024
    };
    println!("workflows: {n}");
    println!("run:       {:.0} ms", run.as_secs_f64() * 1000.0);
    println!(
        "reports:   {:.0} ms (json {} KiB, csv {} KiB, junit {} KiB)",
        write.as_secs_f64() * 1000.0,
        size(ReportFormat::Json),
        size(ReportFormat::Csv),
        size(ReportFormat::Junit)
    );
    println!("total:     {:.0} ms", (run + write).as_secs_f64() * 1000.0);
    println!("peak RSS:  {}", peak_rss());
}

/// `VmHWM` of this process (Linux), the peak resident set size.
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l[6..].trim().to_owned())
        })
        .unwrap_or_else(|| "unknown (no /proc)".into())
}
