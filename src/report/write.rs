//! Writing reports to disk, each atomically: a temporary file in the same directory, renamed
//! into place, so an interrupted run leaves the previous report or a complete new one.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;

use super::RunReport;

/// A report file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    /// `report.json`.
    Json,
    /// `report.csv`.
    Csv,
    /// `junit.xml`.
    Junit,
}

impl ReportFormat {
    /// Every format, in the order they are written.
    pub const ALL: [ReportFormat; 3] = [ReportFormat::Json, ReportFormat::Csv, ReportFormat::Junit];

    /// The file name this format is written to.
    pub fn file_name(self) -> &'static str {
        match self {
            ReportFormat::Json => "report.json",
            ReportFormat::Csv => "report.csv",
            ReportFormat::Junit => "junit.xml",
        }
    }

    fn render(self, report: &RunReport) -> String {
        match self {
            ReportFormat::Json => report.to_json(),
            ReportFormat::Csv => report.to_csv(),
            ReportFormat::Junit => report.to_junit(),
        }
    }
}

impl FromStr for ReportFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "json" => Ok(ReportFormat::Json),
            "csv" => Ok(ReportFormat::Csv),
            "junit" => Ok(ReportFormat::Junit),
            other => Err(format!(
                "unknown report format {other:?}: expected json, csv or junit"
            )),
        }
    }
}

/// A report could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct WriteError {
    /// The file or directory concerned.
    pub path: PathBuf,
    /// The I/O error.
    #[source]
    pub source: std::io::Error,
}

/// Writes `report` in each of `formats` into `dir` (created if missing); returns the paths.
pub fn write_reports(
    report: &RunReport,
    dir: &Path,
    formats: &[ReportFormat],
) -> Result<Vec<PathBuf>, WriteError> {
    create_dir(dir)?;
    formats
        .iter()
        .map(|format| {
            let path = dir.join(format.file_name());
            write_atomic(&path, format.render(report).as_bytes())?;
            Ok(path)
        })
        .collect()
}

/// Writes a one-workflow report as `dir/fragments/<run id>/<workflow id>.json`: under nextest
/// every process runs one workflow, and they must not overwrite each other's aggregate files.
pub fn write_fragment(report: &RunReport, dir: &Path, run_id: &str) -> Result<PathBuf, WriteError> {
    let run_dir = dir.join("fragments").join(sanitize(run_id));
    create_dir(&run_dir)?;
    let name = report
        .workflows
        .iter()
        .map(|w| sanitize(&w.workflow_id))
        .collect::<Vec<_>>()
        .join("+");
    let path = run_dir.join(format!("{name}.json"));
    write_atomic(&path, report.to_json().as_bytes())?;
    Ok(path)
}

fn sanitize(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() {
        "empty".into()
    } else {
        cleaned
    }
}

fn create_dir(dir: &Path) -> Result<(), WriteError> {
    std::fs::create_dir_all(dir).map_err(|source| WriteError {
        path: dir.to_owned(),
        source,
    })
}

fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), WriteError> {
    let error = |source| WriteError {
        path: path.to_owned(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(error)?;
    tmp.write_all(contents).map_err(error)?;
    tmp.as_file().sync_all().map_err(error)?;
    tmp.persist(path).map_err(|e| error(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::*;

    #[test]
    fn writes_every_format_and_replaces_old_files() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("nested/reports");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join("report.json"), "old").unwrap();
        let paths = write_reports(&sample(), &out, &ReportFormat::ALL).unwrap();
        assert_eq!(paths.len(), 3);
        let json = std::fs::read_to_string(out.join("report.json")).unwrap();
        assert!(json.contains("\"totalWorkflows\": 3"));
        let leftovers: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| !ReportFormat::ALL.iter().any(|f| f.file_name() == n))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }

    #[test]
    fn unwritable_dir_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        std::fs::write(&file, "x").unwrap();
        let err = write_reports(&sample(), &file.join("sub"), &ReportFormat::ALL).unwrap_err();
        assert!(err.to_string().contains("plain-file/sub"), "{err}");
    }

    #[test]
    fn fragments_go_under_the_run_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_fragment(&sample(), dir.path(), "run/1").unwrap();
        assert!(
            path.ends_with("fragments/run_1/a+b+c.json"),
            "{}",
            path.display()
        );
    }

    #[test]
    fn formats_parse() {
        assert_eq!("junit".parse::<ReportFormat>(), Ok(ReportFormat::Junit));
        assert!(
            "xml"
                .parse::<ReportFormat>()
                .unwrap_err()
                .contains("\"xml\"")
        );
    }
}
