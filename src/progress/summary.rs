//! The summary block printed on stderr after a run: the seed's console summary, done well.

use std::fmt::Write as _;
use std::time::Duration;

use owo_colors::OwoColorize;

use crate::report::{RunReport, Status};
use crate::text::terminal_safe;

/// Writes the summary of `report` to stderr.
pub(crate) fn print_summary(report: &RunReport, color: bool) {
    eprint!("{}", render(report, color));
}

fn render(report: &RunReport, color: bool) -> String {
    let paint = |text: String, style: fn(&String) -> String| {
        if color { style(&text) } else { text }
    };
    let green = |t: String| paint(t, |t| t.green().to_string());
    let red = |t: String| paint(t, |t| t.red().bold().to_string());
    let yellow = |t: String| paint(t, |t| t.yellow().to_string());
    let bold = |t: String| paint(t, |t| t.bold().to_string());
    let stats = &report.aggregate_stats;
    let mut out = String::new();
    let _ = writeln!(out, "\n{}", bold("workflow summary".into()));
    let mut counts = vec![
        green(format!("{} completed", report.completed)),
        nonzero(report.failed - report.blocked, "failed", &red),
    ];
    counts.push(nonzero(report.blocked, "blocked", &red));
    counts.push(nonzero(report.cancelled, "cancelled", &yellow));
    counts.push(nonzero(report.flaky, "flaky", &yellow));
    let counts: Vec<String> = counts.into_iter().filter(|c| !c.is_empty()).collect();
    let _ = writeln!(
        out,
        "  workflows  {}: {}",
        report.total_workflows,
        counts.join(", ")
    );
    let _ = writeln!(
        out,
        "  steps      {} run: {} passed, {} failed, {} skipped · success rate {:.1} %",
        stats.total_steps,
        stats.passed_steps,
        stats.failed_steps,
        stats.skipped_steps,
        stats.success_rate
    );
    let _ = writeln!(
        out,
        "  time       {} in all · {} on average",
        seconds(report.total_duration),
        seconds(Duration::from_secs_f64(stats.average_duration / 1000.0))
    );
    let duration_of = |name: &str| {
        report
            .workflows
            .iter()
            .find(|w| w.workflow_name == name)
            .map_or_else(String::new, |w| format!(" ({})", seconds(w.duration)))
    };
    let _ = writeln!(
        out,
        "  fastest    {}{}\n  slowest    {}{}",
        terminal_safe(&stats.fastest_workflow),
        duration_of(&stats.fastest_workflow),
        terminal_safe(&stats.slowest_workflow),
        duration_of(&stats.slowest_workflow)
    );
    let slow: Vec<String> = crate::report::slowest_steps(&report.step_stats, 3)
        .into_iter()
        .map(|s| {
            format!(
                "{} › {} ({})",
                terminal_safe(&s.workflow_id),
                terminal_safe(&s.step),
                seconds(s.max)
            )
        })
        .collect();
    if !slow.is_empty() {
        let _ = writeln!(out, "  slow steps {}", slow.join(", "));
    }
    for w in &report.workflows {
        let line = match w.status {
            Status::Failed | Status::Blocked => red(format!("{:<9}", w.status.as_str())),
            Status::Completed if w.flaky => yellow(format!("{:<9}", "flaky")),
            _ => continue,
        };
        let detail = if w.flaky && w.status == Status::Completed {
            let n = w.attempts.len();
            format!(
                "passed on attempt {n} after {} failure(s)",
                n.saturating_sub(1)
            )
        } else {
            w.error.clone().unwrap_or_default()
        };
        // Errors quote response bodies: shown, never obeyed by the terminal.
        let detail = terminal_safe(first_line(&detail));
        let _ = writeln!(out, "  {line}  {}: {detail}", w.workflow_id);
    }
    for w in report.workflows.iter().filter(|w| w.as_dependency) {
        let _ = writeln!(
            out,
            "  dependency {} ran because a selected workflow needs it: {}",
            w.workflow_id,
            w.status.as_str()
        );
    }
    out
}

fn nonzero(n: usize, label: &str, style: &dyn Fn(String) -> String) -> String {
    if n == 0 {
        String::new()
    } else {
        style(format!("{n} {label}"))
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample;

    #[test]
    fn summary_names_counts_rate_and_failures() {
        let text = render(&sample(), false);
        assert!(
            text.contains("workflows  3: 2 completed, 1 failed"),
            "{text}"
        );
        assert!(text.contains("success rate 60.0 %"), "{text}");
        assert!(
            text.contains("fastest    Alpha, \"quoted\" (0.00 s)"),
            "{text}"
        );
        assert!(
            text.contains("failed     b: step \"b\" failed: b broke"),
            "{text}"
        );
        assert!(!text.contains('\u{1b}'), "no escape codes without color");
        let mut hostile = sample();
        hostile.workflows[1].error = Some("body: \u{1b}[2J\u{1b}[32mALL TESTS PASSED".into());
        hostile.aggregate_stats.fastest_workflow = "\u{1b}]0;title\u{7}".into();
        let text = render(&hostile, false);
        assert!(!text.contains('\u{1b}'), "{text:?}");
        assert!(
            text.contains("body: \\x1b[2J\\x1b[32mALL TESTS PASSED"),
            "{text}"
        );
        assert!(render(&sample(), true).contains('\u{1b}'));
    }
}
