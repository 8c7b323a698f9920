//! `junit.xml`: one `<testsuite>` per run, one `<testcase>` per workflow; a failed workflow's
//! failed step and error as the `<failure>` message, every step with its timing in
//! `<system-out>`. Written with `quick-junit`; validates against Jenkins' junit-10.xsd.

use std::fmt::Write as _;

use quick_junit::{
    FlakyOrRerun, NonSuccessKind, Report, TestCase, TestCaseStatus, TestRerun, TestSuite,
};

use super::{Attempt, RunReport, WorkflowReport, WorkflowStatus};
use crate::step::StepStatus;

/// The suite's name in JUnit; CI dashboards group by it.
const SUITE: &str = "workflows";

pub(super) fn to_junit(report: &RunReport) -> String {
    let mut suite = TestSuite::new(SUITE);
    suite.set_time(report.total_duration);
    suite.set_timestamp(chrono::DateTime::<chrono::Utc>::from(report.start_time));
    suite.add_test_cases(report.workflows.iter().map(test_case));

    let mut junit = Report::new(SUITE);
    junit.set_time(report.total_duration);
    junit.add_test_suite(suite);
    // Only `fmt::Write` failures or invalid XML names could fail; ours are fixed, and text
    // content is escaped by quick-junit.
    let xml = junit
        .to_string()
        .expect("a JUnit report of escaped strings always serializes");
    drop_testsuites_skipped(xml)
}

/// quick-junit always writes `skipped` on `<testsuites>`, which Jenkins' junit-10.xsd (what CI
/// consumers validate against) does not allow there; `<testsuite>` keeps its own `skipped`.
fn drop_testsuites_skipped(mut xml: String) -> String {
    let Some(start) = xml.find("<testsuites") else {
        return xml;
    };
    let end = xml[start..].find('>').map_or(xml.len(), |e| start + e);
    if let Some(attr) = xml[start..end].find(" skipped=\"") {
        let attr = start + attr;
        let value_end = xml[attr + 10..end].find('"').map(|q| attr + 10 + q + 1);
        if let Some(value_end) = value_end {
            xml.replace_range(attr..value_end, "");
        }
    }
    xml
}

fn test_case(w: &WorkflowReport) -> TestCase {
    let message = || {
        w.error
            .clone()
            .unwrap_or_else(|| w.status.as_str().to_owned())
    };
    let mut status = match w.status {
        WorkflowStatus::Completed => TestCaseStatus::success(),
        WorkflowStatus::Cancelled => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(message());
            status
        }
        WorkflowStatus::Failed | WorkflowStatus::Blocked => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(message());
            status.set_type(w.failure_kind.map_or("error", |k| k.as_str()));
            status.set_description(message());
            // A flaky workflow counted as failed (`flaky_fails`) did pass in the end.
            if w.flaky {
                status.set_rerun_kind(FlakyOrRerun::Flaky);
            }
            status
        }
    };
    // Earlier attempts: `flakyFailure` when the workflow passed in the end, `rerunFailure` when
    // it failed every attempt (its last failure is the `failure` itself), as nextest does.
    let last = w.attempts.len().saturating_sub(1);
    let earlier = w.attempts[..last].iter().filter(|a| !a.passed).map(rerun);
    status.add_reruns(earlier.collect::<Vec<_>>());

    let mut case = TestCase::new(w.workflow_id.as_str(), status);
    case.set_classname(format!(
        "{SUITE}.{}",
        w.tags.first().map_or("workflow", String::as_str)
    ));
    case.set_time(w.duration);
    case.set_system_out(step_log(w));
    case
}

fn rerun(attempt: &Attempt) -> TestRerun {
    let mut rerun = TestRerun::new(NonSuccessKind::Failure);
    let message = attempt.error.clone().unwrap_or_else(|| "failed".into());
    rerun.set_type(attempt.failure_kind.map_or("error", |k| k.as_str()));
    // junit-10.xsd allows no `time` on reruns: the duration goes in the text.
    rerun.set_description(format!(
        "attempt {} ({} ms): {message}",
        attempt.attempt,
        attempt.duration.as_millis()
    ));
    rerun.set_message(message);
    rerun
}

/// One line per step: status, duration, name, and the error of failed and skipped steps.
fn step_log(w: &WorkflowReport) -> String {
    let mut out = format!("{} ({})\n", w.workflow_name, w.workflow_id);
    if w.attempts.len() > 1 {
        let _ = writeln!(
            out,
            "{} attempts{}",
            w.attempts.len(),
            if w.flaky { ", flaky" } else { "" }
        );
    }
    for (i, step) in w.result.steps.iter().enumerate() {
        let status = match step.status {
            StepStatus::Passed => "passed",
            StepStatus::Failed => "FAILED",
            StepStatus::Skipped => "skipped",
        };
        let _ = write!(
            out,
            "{:>3}. [{status:^7}] {:>7} ms  {}",
            i + 1,
            step.duration.as_millis(),
            step.name
        );
        if let Some(error) = &step.error {
            let _ = write!(out, "\n        {error}");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;

    #[test]
    fn junit_has_one_case_per_workflow_and_failure_messages() {
        let xml = sample().to_junit();
        assert_eq!(xml.matches("<testcase ").count(), 3);
        assert!(xml.contains("tests=\"3\""), "{xml}");
        assert!(xml.contains("failures=\"1\""), "{xml}");
        assert!(
            xml.contains("<failure message=\"step &quot;b&quot; failed: b broke\" type=\"error\""),
            "{xml}"
        );
        assert!(xml.contains("[FAILED ]"), "{xml}");
        assert!(
            xml.contains("Alpha, &quot;quoted&quot;") || xml.contains("Alpha, \"quoted\""),
            "{xml}"
        );
        let root = xml.lines().find(|l| l.starts_with("<testsuites")).unwrap();
        assert!(!root.contains("skipped="), "{root}");
        assert!(
            xml.contains("<testsuite name=\"workflows\" tests=\"3\""),
            "{xml}"
        );
    }

    #[test]
    fn control_characters_never_reach_the_xml() {
        let mut report = sample();
        report.workflows[1].error = Some("\u{1b}[31mred\u{1b}[0m and a \u{0} byte".into());
        let xml = report.to_junit();
        // quick-junit's `XmlString` strips escape sequences and characters XML forbids.
        assert!(!xml.contains('\u{1b}') && !xml.contains('\u{0}'), "{xml}");
        assert!(xml.contains("message=\"red and a  byte\""), "{xml}");
    }

    #[test]
    fn only_the_root_skipped_attribute_is_dropped() {
        let xml = super::drop_testsuites_skipped(
            "<?xml?>\n<testsuites name=\"w\" skipped=\"12\" time=\"1\">\n<testsuite skipped=\"3\">"
                .into(),
        );
        assert_eq!(
            xml,
            "<?xml?>\n<testsuites name=\"w\" time=\"1\">\n<testsuite skipped=\"3\">"
        );
    }
}
