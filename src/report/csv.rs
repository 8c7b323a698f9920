//! `report.csv`: the seed's header and rows, a blank line, then the `SUMMARY` block. Written
//! with the `csv` crate, so a name holding a comma or a quote stays one field.
//!
//! Text is kept exactly as given, escape sequences and control characters included: the CSV is
//! data for spreadsheets and scripts, which must get the ids and names the suite declared, and
//! the `csv` crate quotes whatever needs it. Its texts (ids, names) come from the suite's code,
//! not from the system under test, and it holds no error messages, so printing it with `cat`
//! shows nothing the suite's author did not write.

use super::RunReport;

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
