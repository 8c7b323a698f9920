//! Parallel efficiency of the engine: N workflows that each wait 200 ms, run with concurrency N.
//! Ideally the run takes 200 ms whatever N; the difference is the harness's overhead.
//!
//! `cargo bench --bench parallel` (sizes default to 50 and 1000; pass others as arguments:
//! `cargo bench --bench parallel -- 10 100`).

use std::time::{Duration, Instant};

use workflow_harness::{Executor, WorkflowSpec};

const WAIT: Duration = Duration::from_millis(200);

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![50, 1000]
    } else {
        sizes
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    println!(
        "{:>6}  {:>10}  {:>10}  {:>10}  {:>10}",
        "N", "wall (ms)", "ideal (ms)", "overhead", "efficiency"
    );
    for n in sizes {
        let mut best = Duration::MAX;
        for _ in 0..3 {
            let mut executor = Executor::new();
            executor.concurrency(n);
            for i in 0..n {
                executor.add(WorkflowSpec::new(
                    format!("w{i}"),
                    format!("Wait {i}"),
                    |cx| {
                        Box::pin(async move {
                            cx.step("Wait", async |_| {
                                tokio::time::sleep(WAIT).await;
                                Ok(())
                            })
                            .await
                        })
                    },
                ));
            }
            let started = Instant::now();
            let report = runtime.block_on(executor.execute_all()).expect("valid ids");
            let wall = started.elapsed();
            assert_eq!(report.completed, n);
            best = best.min(wall);
        }
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{n:>6}  {:>10.1}  {:>10.1}  {:>9.1}ms  {:>9.1}%",
            ms(best),
            ms(WAIT),
            ms(best) - ms(WAIT),
            100.0 * ms(WAIT) / ms(best)
        );
    }
}
