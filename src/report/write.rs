//! Writing reports to disk as a set: every file is first written in full to a temporary file
//! beside it, then the temporary files are renamed into place one after the other.
//!
//! Files and the directories created for them follow the process's umask (`0666 & !umask`,
//! `0777 & !umask`: 0644 and 0755 under the usual 022), so a CI uploader or a web server running
//! as another user can read them.
//!
//! Temporary files are named `.report-tmp-<pid>-…`; each write removes the ones that processes
//! no longer running left behind (a run killed mid-write), and never leaves its own, on any path.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Deserialize;
use tempfile::NamedTempFile;

use super::RunReport;

/// A report file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ReportFormat {
    /// `report.json`.
    Json,
    /// `report.csv`.
    Csv,
    /// `junit.xml`.
    Junit,
    /// `report-steps.csv`: one row per step.
    Steps,
    /// `report.html`.
    Html,
}

impl ReportFormat {
    /// Every format, in the order they are written.
    pub const ALL: [ReportFormat; 5] = [
        ReportFormat::Json,
        ReportFormat::Csv,
        ReportFormat::Junit,
        ReportFormat::Html,
        ReportFormat::Steps,
    ];

    /// The formats written unless `reports.formats` says otherwise (`steps` is asked for).
    pub const DEFAULT: [ReportFormat; 4] = [
        ReportFormat::Json,
        ReportFormat::Csv,
        ReportFormat::Junit,
        ReportFormat::Html,
    ];

    /// The file name this format is written to.
    pub fn file_name(self) -> &'static str {
        match self {
            ReportFormat::Json => "report.json",
            ReportFormat::Csv => "report.csv",
            ReportFormat::Junit => "junit.xml",
            ReportFormat::Steps => "report-steps.csv",
            ReportFormat::Html => "report.html",
        }
    }

    fn render(self, report: &RunReport) -> String {
        match self {
            ReportFormat::Json => report.to_json(),
            ReportFormat::Csv => report.to_csv(),
            ReportFormat::Junit => report.to_junit(),
            ReportFormat::Steps => report.to_steps_csv(),
            ReportFormat::Html => report.to_html(),
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
            "html" => Ok(ReportFormat::Html),
            "steps" => Ok(ReportFormat::Steps),
            other => Err(format!(
                "unknown report format {other:?}: expected json, csv, junit, html or steps"
            )),
        }
    }
}

/// The name prefix of the temporary files a report is written to before it is renamed into
/// place; followed by the writing process's id and a dash.
pub const TEMP_PREFIX: &str = ".report-tmp-";

/// A report could not be written. Its message names the file and what was being done; the
/// I/O error is its [`source`](std::error::Error::source) (print the chain, e.g. anyhow's
/// `{:#}`, to see it).
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} {}", path.display())]
pub struct WriteError {
    /// What was being done: `write`, `create the directory`, `remove the previous run's`.
    pub action: &'static str,
    /// The file or directory concerned.
    pub path: PathBuf,
    /// The I/O error.
    #[source]
    pub source: std::io::Error,
}

impl WriteError {
    fn new(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_owned();
        move |source| WriteError {
            action,
            path,
            source,
        }
    }
}

/// How many report sets this process is writing right now.
static WRITING: AtomicUsize = AtomicUsize::new(0);

/// Whether this process is writing reports right now ([`write_reports`] or [`write_fragment`]
/// is running in some thread). A signal handler can defer a first Ctrl-C while this holds, so
/// that an interrupt does not land between the renames of a set; both functions are short and
/// synchronous, and clean up their temporary files on every error.
pub fn write_in_progress() -> bool {
    WRITING.load(Ordering::SeqCst) > 0
}

/// Marks the write phase for [`write_in_progress`] while it lives.
struct WritePhase;

impl WritePhase {
    fn enter() -> Self {
        WRITING.fetch_add(1, Ordering::SeqCst);
        WritePhase
    }
}

impl Drop for WritePhase {
    fn drop(&mut self) {
        WRITING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Writes `report` in each of `formats` into `dir` (created if missing) as one set; returns
/// the paths written.
///
/// Every file is rendered and written in full to a temporary file `.report-tmp-<pid>-…` in
/// `dir` first; only then are they renamed into place, one right after the other. A report file
/// of a format this run does not write (`report.csv` from an earlier run with more formats) is
/// removed afterwards, so no file of an earlier run is left looking current. Temporary files of
/// processes no longer running (a run killed while writing) are removed first; those of a live
/// process (another run writing into the same folder) are left alone.
///
/// What a reader of `dir` sees, whenever the process is killed (even with SIGKILL): the previous
/// run's set, this run's set, or — killed within the few microseconds between the renames — some
/// files of each; every file is complete either way, and each names its run (`runId` in the
/// JSON, `Run ID` in the CSV, the `run-id` property in JUnit) so a reader can tell. A SIGKILL can
/// leave this run's temporary files behind; the next write removes them. On an error, no
/// temporary file is left and, when the error comes before the renames (a directory in the way,
/// a full disk), no file of the previous set has been replaced.
pub fn write_reports(
    report: &RunReport,
    dir: &Path,
    formats: &[ReportFormat],
) -> Result<Vec<PathBuf>, WriteError> {
    let _phase = WritePhase::enter();
    create_dir(dir)?;
    remove_stale_temps(dir);
    let mut unique: Vec<ReportFormat> = Vec::with_capacity(formats.len());
    for &format in formats {
        if !unique.contains(&format) {
            unique.push(format);
        }
    }
    let files: Vec<(PathBuf, String)> = unique
        .iter()
        .map(|format| (dir.join(format.file_name()), format.render(report)))
        .collect();
    write_set(dir, &files)?;
    for format in ReportFormat::ALL {
        if !unique.contains(&format) {
            remove_stale_report(&dir.join(format.file_name()))?;
        }
    }
    sync_dir(dir);
    Ok(files.into_iter().map(|(path, _)| path).collect())
}

/// Writes a one-workflow report as `dir/fragments/<run id>/<workflow id>.json`: under nextest
/// every process runs one workflow, and they must not overwrite each other's aggregate files.
///
/// Written like [`write_reports`]: a temporary file renamed into place, modes following the
/// umask, stale temporary files of dead processes removed, none left behind on an error.
///
/// The first fragment of a run removes the aggregate reports of an earlier run from `dir` (they
/// would look like this run's; `--merge-reports` writes this run's), and the fragments of all
/// but the [`FRAGMENT_RUNS_KEPT`] most recent runs.
pub fn write_fragment(report: &RunReport, dir: &Path, run_id: &str) -> Result<PathBuf, WriteError> {
    let _phase = WritePhase::enter();
    let run_dir = dir.join("fragments").join(sanitize(run_id));
    if !run_dir.exists() {
        for format in ReportFormat::ALL {
            remove_stale_report(&dir.join(format.file_name()))?;
        }
    }
    create_dir(&run_dir)?;
    prune_fragment_runs(&dir.join("fragments"), &run_dir);
    remove_stale_temps(&run_dir);
    let name = report
        .workflows
        .iter()
        .map(|w| sanitize(&w.workflow_id))
        .collect::<Vec<_>>()
        .join("+");
    let path = run_dir.join(format!("{name}.json"));
    write_set(&run_dir, &[(path.clone(), report.to_json())])?;
    sync_dir(&run_dir);
    Ok(path)
}

/// How many runs' fragment folders `write_fragment` keeps.
pub const FRAGMENT_RUNS_KEPT: usize = 5;

/// Removes the fragment folders of all but the most recent runs (by modification time),
/// never `current`'s. Best effort: a folder that cannot be removed only takes room.
fn prune_fragment_runs(fragments: &Path, current: &Path) {
    let Ok(entries) = std::fs::read_dir(fragments) else {
        return;
    };
    let mut runs: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir() && e.path() != current)
        .map(|e| {
            let at = e
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            (at, e.path())
        })
        .collect();
    runs.sort();
    let excess = (runs.len() + 1).saturating_sub(FRAGMENT_RUNS_KEPT);
    for (_, old) in runs.into_iter().take(excess) {
        let _ = std::fs::remove_dir_all(old);
    }
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

/// `std::fs::create_dir_all` asks for 0777, which the umask narrows.
fn create_dir(dir: &Path) -> Result<(), WriteError> {
    std::fs::create_dir_all(dir).map_err(WriteError::new("create the directory", dir))
}

/// Writes every file to a temporary file, then renames them all into place. A temporary file
/// is deleted when its `NamedTempFile` drops, so every early return cleans up the ones made.
fn write_set(dir: &Path, files: &[(PathBuf, String)]) -> Result<(), WriteError> {
    let mut temps = Vec::with_capacity(files.len());
    for (path, contents) in files {
        refuse_directory(path)?;
        temps.push((write_temp(dir, path, contents.as_bytes())?, path));
    }
    for (tmp, path) in temps {
        // On failure the error holds the temporary file, dropped (deleted) with it; the temporary
        // files not renamed yet drop with the iterator.
        tmp.persist(path)
            .map_err(|e| WriteError::new("write", path)(e.error))?;
    }
    Ok(())
}

/// A directory where a report goes would make its rename fail after others were renamed:
/// refuse it before anything is replaced.
fn refuse_directory(path: &Path) -> Result<(), WriteError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => Err(WriteError::new("write", path)(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "a directory is in the way",
        ))),
        _ => Ok(()),
    }
}

/// `contents` in a new temporary file beside `path`, flushed to disk. It is created with mode
/// 0666, narrowed by the umask like any file a program creates (tempfile's default is 0600).
fn write_temp(dir: &Path, path: &Path, contents: &[u8]) -> Result<NamedTempFile, WriteError> {
    let error = WriteError::new("write", path);
    let prefix = format!("{TEMP_PREFIX}{}-", std::process::id());
    let suffix = format!(
        ".{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("report")
    );
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(&suffix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = match builder.tempfile_in(dir) {
        Ok(tmp) => tmp,
        Err(e) => return Err(error(e)),
    };
    match tmp
        .write_all(contents)
        .and_then(|()| tmp.as_file().sync_all())
    {
        Ok(()) => Ok(tmp),
        Err(e) => Err(error(e)),
    }
}

/// Removes the report file of a format this run did not write (a regular file or a link; a
/// directory of that name is not ours to remove).
fn remove_stale_report(path: &Path) -> Result<(), WriteError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.is_dir() => match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(WriteError::new("remove the previous run's", path)(e))
            }
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

/// Removes the temporary files in `dir` that processes no longer running left behind. Best
/// effort: a leftover that cannot be removed only takes room.
fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let own = std::process::id();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(temp_owner) else {
            continue;
        };
        // Our own may be another thread's set in progress (serve mode writes several runs).
        if pid != own && !process_alive(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The writer's process id, for a temporary file's name.
fn temp_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(TEMP_PREFIX)?;
    let (pid, _) = rest.split_once('-')?;
    pid.parse().ok()
}

#[cfg(unix)]
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks whether the process exists and may be signalled.
    let found = unsafe { libc::kill(pid, 0) } == 0;
    found || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn process_alive(_pid: u32) -> bool {
    false
}

/// Makes the renames durable; best effort (some file systems refuse to sync a directory).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(handle) = std::fs::File::open(dir) {
        let _ = handle.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
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
        assert_eq!(paths.len(), ReportFormat::ALL.len());
        let json = std::fs::read_to_string(out.join("report.json")).unwrap();
        assert!(json.contains("\"totalWorkflows\": 3"));
        let steps = std::fs::read_to_string(out.join("report-steps.csv")).unwrap();
        assert_eq!(steps, sample().to_steps_csv());
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
    fn a_new_runs_fragment_removes_the_stale_aggregate_and_old_runs_fragments() {
        let dir = tempfile::tempdir().unwrap();
        write_reports(&sample(), dir.path(), &ReportFormat::ALL).unwrap();
        for run in 0..7 {
            let first = write_fragment(&sample(), dir.path(), &format!("run-{run}")).unwrap();
            // The same run's second process leaves its sibling's fragment alone.
            write_fragment(&sample(), dir.path(), &format!("run-{run}")).unwrap();
            assert!(first.exists());
            std::thread::sleep(std::time::Duration::from_millis(15));
        }
        for format in ReportFormat::ALL {
            assert!(
                !dir.path().join(format.file_name()).exists(),
                "{format:?} left"
            );
        }
        let mut runs: Vec<String> = std::fs::read_dir(dir.path().join("fragments"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        runs.sort();
        assert_eq!(runs, ["run-2", "run-3", "run-4", "run-5", "run-6"]);
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
    fn the_write_phase_is_visible_while_it_lasts() {
        let phase = WritePhase::enter();
        assert!(write_in_progress());
        drop(phase);
    }

    #[test]
    fn temporary_files_name_their_writer() {
        assert_eq!(temp_owner(".report-tmp-4242-aB3xYz.junit.xml"), Some(4242));
        assert_eq!(temp_owner(".report-tmp-x-aB3xYz.junit.xml"), None);
        assert_eq!(temp_owner(".tmpaB3xYz"), None);
        assert_eq!(temp_owner("report.json"), None);
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
