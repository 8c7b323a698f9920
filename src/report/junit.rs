//! `junit.xml`: one `<testsuite>` per run, one `<testcase>` per workflow; a failed workflow's
//! failed step and error as the `<failure>` message, every step with its timing in
//! `<system-out>`. Written with `quick-junit`; validates against Jenkins' junit-10.xsd.
//!
//! Every text goes through [`xml_text`] first, so the file is well-formed XML whatever the
//! strings hold: colour codes are dropped, any other escape sequence and every character XML
//! 1.0 forbids are shown as text (`\x1b`, `U+FFFE`), and no text after them is lost.

use std::fmt::Write as _;

use quick_junit::{
    FlakyOrRerun, NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite,
};

use super::{Attempt, RunReport, Status, WorkflowReport};
use crate::step::StepStatus;

/// The suite's name in JUnit; CI dashboards group by it.
const SUITE: &str = "workflows";

pub(super) fn to_junit(report: &RunReport) -> String {
    let mut suite = TestSuite::new(SUITE);
    suite.set_time(report.total_duration);
    // junit-10.xsd allows `timestamp` and `<properties>` on `<testsuite>` only.
    suite.set_timestamp(chrono::DateTime::<chrono::Utc>::from(report.start_time));
    suite.add_property(Property::new("run-id", xml_text(&report.run_id)));
    suite.add_property(Property::new("interrupted", report.interrupted.to_string()));
    if report.interrupted {
        suite.set_system_out(format!(
            "interrupted: the run was stopped before it finished; {} of {} workflow(s) did not run\n",
            report.cancelled, report.total_workflows
        ));
    }
    suite.add_test_cases(
        report
            .workflows
            .iter()
            .map(|w| test_case(w, report.interrupted)),
    );

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

fn test_case(w: &WorkflowReport, interrupted: bool) -> TestCase {
    let message = || xml_text(w.error.as_deref().unwrap_or(w.status.as_str()));
    let mut status = match w.status {
        Status::Completed => TestCaseStatus::success(),
        Status::Cancelled => {
            let mut status = TestCaseStatus::skipped();
            let message = message();
            if interrupted && !message.starts_with("interrupted") {
                status.set_message(format!("interrupted: {message}"));
            } else {
                status.set_message(message);
            }
            status
        }
        // A report holds verdicts only; anything else would be a workflow that never ended.
        _ => {
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

    let mut case = TestCase::new(xml_text(&w.workflow_id), status);
    case.set_classname(format!(
        "{SUITE}.{}",
        xml_text(w.tags.first().map_or("workflow", String::as_str))
    ));
    case.set_time(w.duration);
    case.set_system_out(xml_text(&step_log(w)));
    case
}

fn rerun(attempt: &Attempt) -> TestRerun {
    let mut rerun = TestRerun::new(NonSuccessKind::Failure);
    let message = xml_text(attempt.error.as_deref().unwrap_or("failed"));
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
            "{:>3}. [{status:^7}] {:>7} ms  {}{}",
            i + 1,
            step.duration.as_millis(),
            step.name,
            super::tries_note(step)
        );
        if let Some(error) = &step.error {
            let _ = write!(out, "\n        {error}");
        }
        out.push('\n');
    }
    // The transcript of the step that failed: the requests it sent and what came back.
    if let Some(failed) = w
        .result
        .steps
        .iter()
        .rev()
        .find(|s| s.status == StepStatus::Failed && !s.transcript.is_empty())
    {
        let _ = writeln!(out, "\ntranscript of {:?}:", failed.name);
        for exchange in &failed.transcript {
            out.push_str(&exchange.to_text());
            out.push('\n');
        }
    }
    out
}

/// `text` made safe for XML 1.0 and readable, without losing any of its visible text:
///
/// - a complete colour sequence (SGR, `ESC [ 0-9;: … m`) is dropped: it only styles text;
/// - any other `ESC` — another escape sequence, or one cut short — becomes the text `\x1b`,
///   the characters after it kept as they are (a terminal or an ANSI stripper would swallow
///   them, up to whatever ends the sequence);
/// - other C0 controls and DEL become `\xNN` (`\x00`, `\x07`, `\x7f`), C1 controls and the
///   non-characters U+FFFE and U+FFFF become `U+XXXX`; a tab becomes a space and a lone
///   carriage return a line feed (quick-junit's own filter would drop them, joining words).
///
/// What remains holds no character quick-junit's filter removes, so it reaches the file as is.
pub(crate) fn xml_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let len = match c {
            '\u{1b}' => match sgr_len(rest) {
                Some(len) => len,
                None => {
                    out.push_str("\\x1b");
                    1
                }
            },
            '\t' => {
                out.push(' ');
                1
            }
            '\r' if rest[1..].starts_with('\n') => 1,
            '\r' => {
                out.push('\n');
                1
            }
            '\n' => {
                out.push('\n');
                1
            }
            '\0'..='\u{1f}' | '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
                1
            }
            '\u{80}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}' => {
                let _ = write!(out, "U+{:04X}", u32::from(c));
                c.len_utf8()
            }
            _ => {
                out.push(c);
                c.len_utf8()
            }
        };
        rest = &rest[len..];
    }
    out
}

/// The length of the colour sequence `ESC [ [0-9;:]* m` at the start of `text`, if complete.
fn sgr_len(text: &str) -> Option<usize> {
    let params = text.strip_prefix("\u{1b}[")?;
    let digits = params
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b';' || *b == b':')
        .count();
    (params.as_bytes().get(digits) == Some(&b'm')).then_some(2 + digits + 1)
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
        assert!(!xml.contains('\u{1b}') && !xml.contains('\u{0}'), "{xml}");
        assert!(xml.contains("message=\"red and a \\x00 byte\""), "{xml}");
    }

    #[test]
    fn forbidden_characters_are_shown_and_nothing_after_them_is_lost() {
        use super::xml_text;
        assert_eq!(xml_text("\u{1b}[1;31mbold red\u{1b}[m"), "bold red");
        assert_eq!(
            xml_text("\u{1b}[31 then more text"),
            "\\x1b[31 then more text"
        );
        assert_eq!(
            xml_text("\u{1b}]0;title, no terminator, then text"),
            "\\x1b]0;title, no terminator, then text"
        );
        assert_eq!(xml_text("\u{1b}[2Kcleared"), "\\x1b[2Kcleared");
        assert_eq!(xml_text("a\u{fffe}b\u{ffff}c"), "aU+FFFEbU+FFFFc");
        assert_eq!(
            xml_text("bell\u{7}\u{7f}\u{9b}31m"),
            "bell\\x07\\x7fU+009B31m"
        );
        assert_eq!(xml_text("tab\there\r\nline\rend"), "tab here\nline\nend");
        assert_eq!(xml_text("plain é ✓ 🦀"), "plain é ✓ 🦀");
    }

    #[test]
    fn the_suite_names_its_run_and_says_when_it_was_interrupted() {
        let mut report = sample();
        let xml = report.to_junit();
        assert!(
            xml.contains("<property name=\"run-id\" value=\"run-42\"/>"),
            "{xml}"
        );
        assert!(
            xml.contains("<property name=\"interrupted\" value=\"false\"/>"),
            "{xml}"
        );
        assert!(xml.contains("timestamp=\"1970-01-01T00:00:00"), "{xml}");
        assert!(!xml.contains("stopped before it finished"), "{xml}");

        report.interrupted = true;
        report.cancelled = 1;
        report.workflows[2].status = super::Status::Cancelled;
        report.workflows[2].error = Some("not run".into());
        let xml = report.to_junit();
        assert!(
            xml.contains("<property name=\"interrupted\" value=\"true\"/>"),
            "{xml}"
        );
        assert!(
            xml.contains("interrupted: the run was stopped before it finished; 1 of 3"),
            "{xml}"
        );
        assert!(
            xml.contains("<skipped message=\"interrupted: not run\""),
            "{xml}"
        );
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
