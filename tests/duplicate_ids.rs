//! Two workflows with one id stop the run before anything executes, naming both places.

mod support;

use std::process::ExitCode;

use workflow_harness::prelude::*;

workflow! { id: "same-id", name: "First", run: touch }
workflow! { id: "same-id", name: "Second", run: touch }

/// Would leave a trace if it ran.
async fn touch(cx: &mut Ctx) -> StepResult {
    cx.step("Touch", async |_| {
        let marker = std::env::var("MARKER").context("MARKER unset")?;
        std::fs::write(marker, "ran")?;
        Ok(())
    })
    .await
}

fn duplicate_ids_stop_the_run() {
    let marker = tempfile::tempdir().unwrap();
    let marker = marker.path().join("ran");
    let run = support::run_suite(&[], &[("MARKER", marker.to_str().unwrap())]);
    assert_eq!(
        run.code, 2,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert!(
        run.stderr.contains("two workflows have the id \"same-id\""),
        "{}",
        run.stderr
    );
    let file = "tests/duplicate_ids.rs";
    // The lines of the two registrations, found in this very file.
    let line_of = |name: &str| {
        include_str!("duplicate_ids.rs")
            .lines()
            .position(|l| l.starts_with("workflow!") && l.contains(name))
            .map(|i| i + 1)
            .unwrap()
    };
    for name in ["\"First\"", "\"Second\""] {
        let place = format!("{file}:{}", line_of(name));
        assert!(
            run.stderr.contains(&place),
            "{place} is named: {}",
            run.stderr
        );
    }
    assert!(!marker.exists(), "nothing ran");
    assert!(
        !run.stdout.contains("running"),
        "libtest did not start: {}",
        run.stdout
    );
    assert!(!run.report_dir().exists());
}

fn main() -> ExitCode {
    support::main(&[("duplicate_ids_stop_the_run", duplicate_ids_stop_the_run)])
}
