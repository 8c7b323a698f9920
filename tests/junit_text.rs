//! Any Rust string in a workflow's id, name, tags, steps or errors: `junit.xml` stays well-formed
//! XML (checked with a real parser, roxmltree) and keeps the text's visible characters, even
//! after an escape sequence cut short; JSON and CSV keep the text exactly.

use std::time::{Duration, SystemTime};

use proptest::prelude::*;
use workflow_harness::RunReport;
use workflow_harness::report::{Attempt, FailureKind, Status, StepSummary, WorkflowReport};
use workflow_harness::report::{StepRecord, StepStatus};

/// Strings built from pieces that break XML or terminals, and ordinary text.
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9 ]{0,8}",
        Just("\u{1b}".to_owned()),
        // Colour codes, complete.
        "\\x1b\\[[0-9;]{0,5}m",
        // Escape sequences cut short: CSI, OSC, charset selection.
        "\\x1b\\[[0-9;]{0,4}",
        "\\x1b\\][0-9a-z;]{0,6}",
        "\\x1b[()][A-Z0-9]?",
        "\\x1b\\[[0-9]{1,2}[A-HJKSTf]",
        Just("\u{fffe}".to_owned()),
        Just("\u{ffff}".to_owned()),
        "[\\x00-\\x1f\\x7f\\x{80}-\\x{9f}]",
        Just("\r\n".to_owned()),
    ];
    proptest::collection::vec(piece, 0..10).prop_map(|pieces| pieces.concat())
}

/// `text` without its complete colour sequences (`ESC [ [0-9;:]* m`), which style text and
/// hold none.
fn visible(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(params) = rest.strip_prefix("\u{1b}[") {
            let end = params
                .find(|c: char| !(c.is_ascii_digit() || c == ';' || c == ':'))
                .unwrap_or(params.len());
            if params[end..].starts_with('m') {
                rest = &params[end + 1..];
                continue;
            }
        }
        let c = rest.chars().next().unwrap();
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn alphanumerics(text: &str) -> Vec<char> {
    text.chars().filter(|c| c.is_alphanumeric()).collect()
}

/// Every alphanumeric character of `input`'s visible text appears in `output`, in order.
fn keeps_visible_text(input: &str, output: &str) -> bool {
    let mut out = alphanumerics(output).into_iter();
    alphanumerics(&visible(input))
        .into_iter()
        .all(|c| out.any(|o| o == c))
}

#[derive(Debug, Clone)]
struct Texts {
    id: String,
    name: String,
    tag: String,
    step: String,
    step_error: String,
    error: String,
    retry_error: String,
}

fn texts() -> impl Strategy<Value = Texts> {
    (text(), text(), text(), text(), text(), text(), text()).prop_map(
        |(id, name, tag, step, step_error, error, retry_error)| Texts {
            id,
            name,
            tag,
            step,
            step_error,
            error,
            retry_error,
        },
    )
}

fn workflow(t: &Texts, status: Status) -> WorkflowReport {
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let failed = status != Status::Completed;
    let step_status = if failed {
        StepStatus::Failed
    } else {
        StepStatus::Skipped
    };
    let steps = vec![StepRecord {
        error: Some(t.step_error.clone()),
        optional: !failed,
        ..StepRecord::new(t.step.clone(), step_status, Duration::from_millis(3))
    }];
    let attempt = |n, passed, error: &str| Attempt {
        attempt: n,
        passed,
        duration: Duration::from_millis(2),
        error: (!passed).then(|| error.to_owned()),
        failure_kind: (!passed).then_some(FailureKind::Error),
    };
    WorkflowReport {
        workflow_id: t.id.clone(),
        workflow_name: t.name.clone(),
        status,
        progress: 50.0,
        current_step: t.step.clone(),
        start_time: at,
        end_time: at,
        duration: Duration::from_millis(7),
        error: failed.then(|| t.error.clone()),
        failure_kind: failed.then_some(FailureKind::Error),
        tags: vec![t.tag.clone()],
        planned_steps: Some(2),
        priority: 0,
        depends_on: Vec::new(),
        group: None,
        as_dependency: false,
        blocked_by: None,
        flaky: false,
        // A cancelled workflow never started: it has no attempts.
        attempts: if status == Status::Cancelled {
            Vec::new()
        } else {
            vec![
                attempt(1, false, &t.retry_error),
                attempt(2, !failed, &t.error),
            ]
        },
        result: StepSummary::new(steps),
    }
}

fn report(all: &[Texts], run_id: &str, interrupted: bool) -> RunReport {
    let statuses = [
        Status::Failed,
        Status::Cancelled,
        Status::Completed,
        Status::Blocked,
    ];
    let workflows = all
        .iter()
        .zip(statuses.iter().cycle())
        .map(|(t, &status)| workflow(t, status))
        .collect();
    let mut report = RunReport::new(workflows, SystemTime::UNIX_EPOCH, Duration::from_millis(9));
    report.run_id = run_id.to_owned();
    report.interrupted = interrupted;
    report
}

/// Characters XML 1.0 allows.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

proptest! {
    // No regression files: a failure prints its minimal input.
    #![proptest_config(ProptestConfig {
        cases: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn junit_is_well_formed_and_keeps_the_visible_text(
        all in proptest::collection::vec(texts(), 1..4),
        run_id in text(),
        interrupted in any::<bool>(),
    ) {
        let report = report(&all, &run_id, interrupted);
        let xml = report.to_junit();
        prop_assert!(xml.chars().all(xml_char), "a character XML forbids: {xml:?}");
        prop_assert!(!xml.contains('\u{1b}'), "an escape character: {xml:?}");
        let doc = roxmltree::Document::parse(&xml)
            .map_err(|e| TestCaseError::fail(format!("{e}: {xml:?}")))?;

        let property = doc
            .descendants()
            .find(|n| n.has_tag_name("property") && n.attribute("name") == Some("run-id"))
            .and_then(|n| n.attribute("value"))
            .unwrap_or_default();
        prop_assert!(keeps_visible_text(&run_id, property), "run id {run_id:?} → {property:?}");

        let cases: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("testcase")).collect();
        prop_assert_eq!(cases.len(), all.len());
        for ((t, w), case) in all.iter().zip(&report.workflows).zip(&cases) {
            let name = case.attribute("name").unwrap_or_default();
            prop_assert!(keeps_visible_text(&t.id, name), "id {:?} → {name:?}", t.id);
            let classname = case.attribute("classname").unwrap_or_default();
            prop_assert!(keeps_visible_text(&t.tag, classname), "tag {:?} → {classname:?}", t.tag);

            let out = case
                .children()
                .find(|n| n.has_tag_name("system-out"))
                .and_then(|n| n.text())
                .unwrap_or_default();
            for part in [&t.name, &t.id, &t.step, &t.step_error] {
                prop_assert!(keeps_visible_text(part, out), "{part:?} → {out:?}");
            }
            let outcome = match w.status {
                Status::Completed => None,
                Status::Cancelled => Some("skipped"),
                _ => Some("failure"),
            };
            if let Some(tag) = outcome {
                let node = case.children().find(|n| n.has_tag_name(tag));
                let message = node.and_then(|n| n.attribute("message")).unwrap_or_default();
                prop_assert!(
                    keeps_visible_text(&t.error, message),
                    "error {:?} → {message:?}", t.error
                );
            }
            if w.attempts.is_empty() {
                continue;
            }
            let rerun = case
                .children()
                .find(|n| n.has_tag_name("rerunFailure") || n.has_tag_name("flakyFailure"));
            let rerun = rerun.and_then(|n| n.attribute("message")).unwrap_or_default();
            prop_assert!(
                keeps_visible_text(&t.retry_error, rerun),
                "retry error {:?} → {rerun:?}", t.retry_error
            );
        }
    }

    #[test]
    fn json_and_csv_keep_the_text_exactly(
        all in proptest::collection::vec(texts(), 1..4),
        run_id in text(),
    ) {
        let report = report(&all, &run_id, false);
        let back: RunReport = serde_json::from_str(&report.to_json())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &report);

        let csv = report.to_csv();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(csv.as_bytes());
        let records: Vec<csv::StringRecord> = reader
            .records()
            .collect::<Result<_, _>>()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (t, record) in all.iter().zip(&records) {
            prop_assert_eq!(record.get(0), Some(t.id.as_str()));
            prop_assert_eq!(record.get(1), Some(t.name.as_str()));
        }
        let run_line = records
            .iter()
            .find(|r| r.get(0) == Some("Run ID"))
            .and_then(|r| r.get(1));
        prop_assert_eq!(run_line, Some(run_id.as_str()));
    }
}

#[test]
fn an_escape_cut_short_does_not_swallow_the_text_after_it() {
    let t = Texts {
        id: "id\u{1b}[31".into(),
        name: "name".into(),
        tag: "tag".into(),
        step: "step \u{1b}]0;title".into(),
        step_error: "\u{1b}[31 then more text".into(),
        error: "\u{1b}[1;31mred\u{1b}[0m, \u{1b}[31 then more text, \u{fffe}\u{ffff}".into(),
        retry_error: "retry".into(),
    };
    let xml = report(&[t], "run-1", false).to_junit();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert_eq!(
        failure.attribute("message"),
        Some("red, \\x1b[31 then more text, U+FFFEU+FFFF")
    );
    let out = doc
        .descendants()
        .find(|n| n.has_tag_name("system-out"))
        .and_then(|n| n.text())
        .unwrap();
    assert!(out.contains("step \\x1b]0;title"), "{out}");
    assert!(out.contains("\\x1b[31 then more text"), "{out}");
}
