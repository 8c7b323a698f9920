//! Report files on disk: written as a set, every file naming its run, no temporary file left
//! behind (after an error, or from an earlier run killed while writing), and no file of an
//! earlier run left looking current.
#![cfg(unix)]

use std::path::Path;
use std::time::{Duration, SystemTime};

use workflow_harness::RunReport;
use workflow_harness::report::{
    ReportFormat, Status, StepSummary, TEMP_PREFIX, WorkflowReport, write_fragment, write_reports,
};

fn workflow(id: &str) -> WorkflowReport {
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    WorkflowReport {
        workflow_id: id.into(),
        workflow_name: format!("Workflow {id}"),
        status: Status::Completed,
        progress: 100.0,
        current_step: "Completed".into(),
        start_time: at,
        end_time: at,
        duration: Duration::from_millis(5),
        error: None,
        failure_kind: None,
        tags: Vec::new(),
        planned_steps: None,
        priority: 0,
        depends_on: Vec::new(),
        group: None,
        as_dependency: false,
        blocked_by: None,
        flaky: false,
        attempts: Vec::new(),
        result: StepSummary::new(Vec::new()),
    }
}

fn report(run_id: &str) -> RunReport {
    let mut report = RunReport::new(
        vec![workflow("alpha"), workflow("beta")],
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        Duration::from_millis(12),
    );
    report.run_id = run_id.into();
    report
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn temps(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n.starts_with(TEMP_PREFIX))
        .collect()
}

/// The run id each report file names.
fn run_ids(dir: &Path) -> [String; 5] {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let csv = std::fs::read_to_string(dir.join("report.csv")).unwrap();
    let csv_id = csv
        .lines()
        .find_map(|l| l.strip_prefix("Run ID,"))
        .expect("the CSV has a Run ID line");
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&junit).unwrap();
    let property = doc
        .descendants()
        .find(|n| n.has_tag_name("property") && n.attribute("name") == Some("run-id"))
        .expect("junit.xml has a run-id property");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let start = html
        .find("id=\"report-data\">")
        .expect("report.html embeds its data")
        + "id=\"report-data\">".len();
    let end = start + html[start..].find("</script>").unwrap();
    let data: serde_json::Value = serde_json::from_str(&html[start..end]).unwrap();
    // Every row of the per-step CSV names the run; take the one all rows agree on.
    let steps = std::fs::read_to_string(dir.join("report-steps.csv")).unwrap();
    let mut rows = csv::Reader::from_reader(steps.as_bytes());
    let mut step_ids: Vec<String> = rows.records().map(|r| r.unwrap()[8].to_owned()).collect();
    step_ids.dedup();
    assert_eq!(
        step_ids.len(),
        1,
        "one run id in report-steps.csv: {step_ids:?}"
    );
    [
        json["runId"].as_str().unwrap().to_owned(),
        csv_id.to_owned(),
        property.attribute("value").unwrap().to_owned(),
        data["runId"].as_str().unwrap().to_owned(),
        step_ids.remove(0),
    ]
}

/// The pid of a process that has exited and been reaped.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[test]
fn every_file_of_a_set_names_the_same_run() {
    let dir = tempfile::tempdir().unwrap();
    write_reports(&report("run-a"), dir.path(), &ReportFormat::ALL).unwrap();
    assert_eq!(run_ids(dir.path()), ["run-a"; 5]);
    write_reports(&report("run-b"), dir.path(), &ReportFormat::ALL).unwrap();
    assert_eq!(run_ids(dir.path()), ["run-b"; 5]);
    assert_eq!(
        names(dir.path()),
        [
            "junit.xml",
            "report-steps.csv",
            "report.csv",
            "report.html",
            "report.json"
        ]
    );
}

#[test]
fn leftovers_of_a_killed_run_are_removed_by_the_next_write() {
    let dir = tempfile::tempdir().unwrap();
    let dead = format!("{TEMP_PREFIX}{}-Xy12ab.report.json", dead_pid());
    let parent = format!(
        "{TEMP_PREFIX}{}-Zz99zz.junit.xml",
        std::os::unix::process::parent_id()
    );
    let other = "notes.txt";
    for name in [&dead, &parent, other] {
        std::fs::write(dir.path().join(name), "half a report").unwrap();
    }
    write_reports(&report("run-c"), dir.path(), &ReportFormat::ALL).unwrap();
    let left = names(dir.path());
    assert!(
        !left.contains(&dead),
        "a dead process's temp file stays: {left:?}"
    );
    assert!(
        left.contains(&parent),
        "a live process's temp file (a write in progress) is removed: {left:?}"
    );
    assert!(left.contains(&other.to_owned()), "{left:?}");
}

#[test]
fn an_error_mid_set_leaves_no_temporary_file_and_the_old_set_untouched() {
    let dir = tempfile::tempdir().unwrap();
    write_reports(&report("old"), dir.path(), &[ReportFormat::Json]).unwrap();
    std::fs::create_dir(dir.path().join("junit.xml")).unwrap();
    let err = write_reports(&report("new"), dir.path(), &ReportFormat::ALL).unwrap_err();
    let text = format!("{:#}", anyhow::Error::from(err));
    assert!(text.contains("junit.xml"), "{text}");
    assert_eq!(temps(dir.path()), Vec::<String>::new());
    let json = std::fs::read_to_string(dir.path().join("report.json")).unwrap();
    assert!(
        json.contains("\"runId\": \"old\""),
        "replaced before the error: {json}"
    );
    assert!(!dir.path().join("report.csv").exists());
}

#[test]
fn reports_of_formats_this_run_did_not_write_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    write_reports(&report("full"), dir.path(), &ReportFormat::ALL).unwrap();
    let written = write_reports(
        &report("json-only"),
        dir.path(),
        &[ReportFormat::Json, ReportFormat::Json],
    )
    .unwrap();
    assert_eq!(written, [dir.path().join("report.json")]);
    assert_eq!(names(dir.path()), ["report.json"]);
}

#[test]
fn fragments_follow_the_same_rules() {
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("fragments/nx-1");
    std::fs::create_dir_all(&run_dir).unwrap();
    let dead = format!("{TEMP_PREFIX}{}-Ab34cd.alpha+beta.json", dead_pid());
    std::fs::write(run_dir.join(&dead), "half").unwrap();
    let path = write_fragment(&report("nx-1"), dir.path(), "nx-1").unwrap();
    assert_eq!(names(&run_dir), ["alpha+beta.json"]);
    let json = std::fs::read_to_string(&path).unwrap();
    assert!(json.contains("\"runId\": \"nx-1\""), "{json}");

    // A directory in the way: an error, and no temporary file.
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    assert!(write_fragment(&report("nx-1"), dir.path(), "nx-1").is_err());
    assert_eq!(temps(&run_dir), Vec::<String>::new());
}

#[test]
fn write_errors_state_their_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing/report.json");
    let err = workflow_harness::report::WriteError {
        action: "write",
        path: missing.clone(),
        source: std::io::Error::from_raw_os_error(2),
    };
    let text = format!("{:#}", anyhow::Error::from(err));
    assert_eq!(text.matches("os error 2").count(), 1, "{text}");
    assert!(
        text.starts_with(&format!("cannot write {}: ", missing.display())),
        "{text}"
    );

    // A real one: a file where the report directory should be.
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let err = write_reports(&report("r"), &file.join("sub"), &ReportFormat::ALL).unwrap_err();
    let text = format!("{:#}", anyhow::Error::from(err));
    assert_eq!(text.matches("os error").count(), 1, "{text}");
}

/// The README's block of `lang` that follows the Reports section's heading.
fn readme_block(lang: &str) -> &'static str {
    let readme = include_str!("../README.md");
    let (_, reports) = readme
        .split_once("\n## Reports\n")
        .expect("a Reports section");
    let fence = format!("```{lang}\n");
    let start = reports.find(&fence).expect("the example block") + fence.len();
    let end = reports[start..].find("\n```").expect("the block ends");
    &reports[start..start + end]
}

#[test]
fn the_readme_examples_have_the_formats_fields() {
    let example: serde_json::Value = serde_json::from_str(readme_block("json")).unwrap();
    let back: RunReport = serde_json::from_value(example.clone()).unwrap();
    assert_eq!(back.run_id, "run-1");
    let rendered: serde_json::Value = serde_json::from_str(&report("run-1").to_json()).unwrap();
    let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&example), keys(&rendered), "top-level fields");

    let summary_keys = |csv: &str| -> Vec<String> {
        let (_, summary) = csv.split_once("\nSUMMARY\n").expect("a SUMMARY block");
        summary
            .lines()
            .map(|l| l.split(',').next().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(
        summary_keys(readme_block("csv")),
        summary_keys(&report("run-1").to_csv())
    );
}
