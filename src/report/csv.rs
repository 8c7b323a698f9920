//! `report.csv`: the seed's header and rows, a blank line, then the `SUMMARY` block. Written
//! with the `csv` crate, so a name holding a comma or a quote stays one field.
//!
//! Text is kept exactly as given, escape sequences and control characters included: the CSV is
//! data for spreadsheets and scripts, which must get the ids and names the suite declared, and
//! the `csv` crate quotes whatever needs it. Its texts (ids, names) come from the suite's code,
//! not from the system under test, and it holds no error messages, so printing it with `cat`
//! shows nothing the suite's author did not write.

use super::{RunReport, StepStatus};

const HEADER: [&str; 8] = [
    "Workflow ID",
    "Workflow Name",
    "Status",
    "Duration (ms)",
    "Total Steps",
    "Passed Steps",
    "Failed Steps",
    "Success Rate (%)",
];

pub(super) fn to_csv(report: &RunReport) -> String {
    // Writing to memory has no I/O to fail, and every record is made of plain strings.
    let bytes = write(report).expect("writing CSV to memory cannot fail");
    String::from_utf8(bytes).expect("CSV of UTF-8 strings is UTF-8")
}

/// `2026-01-02T03:04:05.678Z`.
pub(super) fn rfc3339(time: std::time::SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(time).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn write(report: &RunReport) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let mut table = csv::Writer::from_writer(Vec::new());
    table.write_record(HEADER)?;
    for w in &report.workflows {
        table.write_record([
            w.workflow_id.clone(),
            w.workflow_name.clone(),
            w.status.as_str().to_owned(),
            w.duration.as_millis().to_string(),
            w.result.total_steps.to_string(),
            w.result.passed.to_string(),
            w.result.failed.to_string(),
            format!("{:.1}", w.result.success_rate()),
        ])?;
    }
    let mut out = table.into_inner()?;
    out.push(b'\n');

    let stats = &report.aggregate_stats;
    let mut summary = csv::WriterBuilder::new().flexible(true).from_writer(out);
    summary.write_record(["SUMMARY"])?;
    let lines = [
        ("Total Workflows", report.total_workflows.to_string()),
        ("Completed", report.completed.to_string()),
        ("Failed", report.failed.to_string()),
        (
            "Total Duration (ms)",
            report.total_duration.as_millis().to_string(),
        ),
        (
            "Average Duration (ms)",
            format!("{:.0}", stats.average_duration),
        ),
        (
            "Overall Success Rate (%)",
            format!("{:.1}", stats.success_rate),
        ),
        ("Fastest Workflow", stats.fastest_workflow.clone()),
        ("Slowest Workflow", stats.slowest_workflow.clone()),
        // After the seed's lines, so tools reading those by position keep working.
        ("Run ID", report.run_id.clone()),
        ("Start Time", rfc3339(report.start_time)),
        ("Interrupted", report.interrupted.to_string()),
    ];
    for (key, value) in lines {
        summary.write_record([key, value.as_str()])?;
    }
    Ok(summary.into_inner()?)
}

/// The per-step CSV's header: the seed's browser exporter's, then what a reader needs to
/// tell rows apart: the attempt the steps come from, the workflow's id (names need not be
/// unique) and the run's id (every file of a report set names its run).
pub const STEPS_HEADER: [&str; 9] = [
    "Workflow",
    "Step Number",
    "Step Name",
    "Status",
    "Duration (ms)",
    "Error",
    "Attempt",
    "Workflow ID",
    "Run ID",
];

pub(super) fn to_steps_csv(report: &RunReport) -> String {
    // As `to_csv`: memory cannot fail to take the bytes, and every field is a UTF-8 string.
    let bytes = write_steps(report).expect("writing CSV to memory cannot fail");
    String::from_utf8(bytes).expect("CSV of UTF-8 strings is UTF-8")
}

fn write_steps(report: &RunReport) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let mut table = csv::Writer::from_writer(Vec::new());
    table.write_record(STEPS_HEADER)?;
    for w in &report.workflows {
        // The steps in `result` are those of the last attempt.
        let attempt = w.attempts.last().map_or(1, |a| a.attempt).to_string();
        let row = |number: usize, name: &str, status: &str, ms: u128, error: Option<&str>| {
            // Errors quote the system under test (response bodies): its escape sequences are
            // shown, not kept, so printing the file cannot drive a terminal.
            let error = error.map(crate::text::terminal_safe).unwrap_or_default();
            [
                w.workflow_name.clone(),
                number.to_string(),
                name.to_owned(),
                status.to_owned(),
                ms.to_string(),
                error.into_owned(),
                attempt.clone(),
                w.workflow_id.clone(),
                report.run_id.clone(),
            ]
        };
        if w.result.steps.is_empty() {
            // A workflow that ran no step (blocked, not started) still gets a row: step 0,
            // its verdict and reason, so every workflow of the run is in the file.
            let ms = w.duration.as_millis();
            table.write_record(row(0, "", w.status.as_str(), ms, w.error.as_deref()))?;
        }
        for (i, step) in w.result.steps.iter().enumerate() {
            // The JSON's words: `success` is the seed's.
            let status = match step.status {
                StepStatus::Passed => "success",
                StepStatus::Failed => "failed",
                StepStatus::Skipped => "skipped",
            };
            let ms = step.duration.as_millis();
            table.write_record(row(i + 1, &step.name, status, ms, step.error.as_deref()))?;
        }
    }
    Ok(table.into_inner()?)
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;

    #[test]
    fn csv_has_header_rows_and_summary() {
        let text = sample().to_csv();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "Workflow ID,Workflow Name,Status,Duration (ms),Total Steps,Passed Steps,Failed Steps,Success Rate (%)"
        );
        assert_eq!(
            lines[1],
            "a,\"Alpha, \"\"quoted\"\"\",completed,0,2,1,0,50.0"
        );
        assert_eq!(lines[2], "b,Beta,failed,30,2,1,1,50.0");
        assert_eq!(lines[4], "");
        assert_eq!(lines[5], "SUMMARY");
        assert_eq!(lines[6], "Total Workflows,3");
        assert!(lines.contains(&"Overall Success Rate (%),60.0"));
        assert!(lines.contains(&"Fastest Workflow,\"Alpha, \"\"quoted\"\"\""));
        assert_eq!(
            lines[14..],
            [
                "Run ID,run-42",
                "Start Time,1970-01-01T00:00:00.000Z",
                "Interrupted,false"
            ],
            "the run's lines come after the seed's"
        );
    }

    #[test]
    fn csv_reads_back_with_a_csv_reader() {
        let text = sample().to_csv();
        let table = text.split("\n\n").next().unwrap();
        let mut reader = csv::Reader::from_reader(table.as_bytes());
        let names: Vec<String> = reader.records().map(|r| r.unwrap()[1].to_owned()).collect();
        assert_eq!(names, ["Alpha, \"quoted\"", "Beta", "Gamma"]);
    }
}

#[cfg(test)]
mod steps_tests {
    use std::time::Duration;

    use super::super::tests::sample;
    use super::super::{Attempt, Status};

    fn rows(text: &str) -> Vec<Vec<String>> {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(header, super::STEPS_HEADER);
        reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect()
    }

    #[test]
    fn one_row_per_step_in_order_with_the_last_attempt() {
        let mut report = sample();
        report.workflows[1].attempts = vec![
            Attempt {
                attempt: 1,
                passed: false,
                duration: Duration::from_millis(5),
                error: Some("first".into()),
                failure_kind: None,
            },
            Attempt {
                attempt: 2,
                passed: false,
                duration: Duration::from_millis(30),
                error: Some("second".into()),
                failure_kind: None,
            },
        ];
        report.workflows[1].result.steps[1].error = Some("bad \x1b[2J body, \"quoted\"".into());
        let text = report.to_steps_csv();
        assert!(text.starts_with(
            "Workflow,Step Number,Step Name,Status,Duration (ms),Error,Attempt,Workflow ID,Run ID\n"
        ));
        let rows = rows(&text);
        let wanted: Vec<Vec<&str>> = vec![
            vec![
                "Alpha, \"quoted\"",
                "1",
                "a1",
                "success",
                "0",
                "",
                "1",
                "a",
                "run-42",
            ],
            vec![
                "Alpha, \"quoted\"",
                "2",
                "a2",
                "skipped",
                "1",
                "a2 broke",
                "1",
                "a",
                "run-42",
            ],
            vec!["Beta", "1", "b1", "success", "10", "", "2", "b", "run-42"],
            vec![
                "Beta",
                "2",
                "b",
                "failed",
                "20",
                "bad \\x1b[2J body, \"quoted\"",
                "2",
                "b",
                "run-42",
            ],
            vec!["Gamma", "1", "c1", "success", "30", "", "1", "c", "run-42"],
        ];
        assert_eq!(rows, wanted);
        assert!(
            !text.contains('\x1b'),
            "escape sequences are shown, not kept"
        );
    }

    #[test]
    fn a_workflow_without_steps_gets_row_zero_with_its_verdict() {
        let mut report = sample();
        let w = &mut report.workflows[2];
        w.result.steps.clear();
        w.status = Status::Blocked;
        w.error = Some("blocked by b: failed".into());
        let rows = rows(&report.to_steps_csv());
        let last = rows.last().unwrap();
        assert_eq!(
            last,
            &[
                "Gamma",
                "0",
                "",
                "blocked",
                "30",
                "blocked by b: failed",
                "1",
                "c",
                "run-42"
            ]
        );
        assert_eq!(
            rows.len(),
            5,
            "the four steps of a and b, then Gamma's row 0"
        );
    }
}
