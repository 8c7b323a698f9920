//! Merging reports: the shards of a partitioned run (`--partition`), or the fragments nextest's
//! processes wrote, into one report with its totals recomputed.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::{RunReport, WorkflowReport};

/// Why reports could not be merged; each names the files involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MergeError {
    /// Nothing to merge was given or found.
    #[error("no report to merge in {0}")]
    Nothing(String),
    /// A file or folder could not be read.
    #[error("cannot read {path}: {reason}")]
    Read {
        /// The path.
        path: PathBuf,
        /// The system's words.
        reason: String,
    },
    /// A file is not a report.
    #[error("{path} is not a report.json: {reason}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The decoder's words (with line and column).
        reason: String,
    },
    /// Shards of different suites, or of different partitions.
    #[error("{first} and {second} are not shards of one partitioned run: {what}")]
    Mismatch {
        /// One file.
        first: PathBuf,
        /// Another.
        second: PathBuf,
        /// What differs.
        what: String,
    },
    /// A shard is missing.
    #[error("shard{} {} of {total} missing (have: {have})", if missing.len() > 1 { "s" } else { "" }, list(missing))]
    MissingShards {
        /// The missing shards.
        missing: Vec<usize>,
        /// How many there are.
        total: usize,
        /// The files given.
        have: String,
    },
    /// A shard given twice.
    #[error("shard {shard} given twice: {first} and {second}")]
    DuplicateShard {
        /// The shard.
        shard: usize,
        /// One file.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },
    /// A workflow in two reports.
    #[error(
        "workflow {id:?} is in {first} and in {second} (to keep the later of the two, merge with --keep-latest)"
    )]
    DuplicateWorkflow {
        /// The workflow's id.
        id: String,
        /// One file.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },
}

fn list(numbers: &[usize]) -> String {
    numbers
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The report files behind `path`: the file itself; a folder's `report.json`; or the fragment
/// files of a folder of fragments (`fragments/<run id>/`, or a report folder holding
/// `fragments/`, whose most recent run is taken).
fn files_of(path: &Path) -> Result<Vec<PathBuf>, MergeError> {
    let read = |e: std::io::Error| MergeError::Read {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    if path.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    let meta = std::fs::metadata(path).map_err(read)?;
    if !meta.is_dir() {
        return Err(MergeError::Nothing(path.display().to_string()));
    }
    if path.join("report.json").is_file() {
        return Ok(vec![path.join("report.json")]);
    }
    let fragments = path.join("fragments");
    if fragments.is_dir() {
        // The most recent run's folder.
        let mut runs: Vec<(SystemTime, PathBuf)> = std::fs::read_dir(&fragments)
            .map_err(read)?
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| {
                let at = e
                    .metadata()
                    .and_then(|m| m.modified())
                    .unwrap_or(SystemTime::UNIX_EPOCH);
                (at, e.path())
            })
            .collect();
        runs.sort();
        return match runs.pop() {
            Some((_, latest)) => files_of(&latest),
            None => Err(MergeError::Nothing(fragments.display().to_string())),
        };
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(read)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(MergeError::Nothing(path.display().to_string()));
    }
    Ok(files)
}

fn load(path: &Path) -> Result<RunReport, MergeError> {
    let text = std::fs::read_to_string(path).map_err(|e| MergeError::Read {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| MergeError::Parse {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// Merges the reports at `paths` (files, shard folders, fragment folders) into one. Shards must
/// be of one suite and one partition, all N of them once each; a workflow may appear once,
/// unless `keep_latest` (then the entry that ended last is kept). The merged run starts at the
/// earliest start and ends at the latest end; its totals are recomputed.
pub fn merge_reports(paths: &[PathBuf], keep_latest: bool) -> Result<RunReport, MergeError> {
    let mut files = Vec::new();
    for path in paths {
        files.extend(files_of(path)?);
    }
    if files.is_empty() {
        return Err(MergeError::Nothing("the paths given".into()));
    }
    let reports: Vec<(PathBuf, RunReport)> = files
        .into_iter()
        .map(|f| load(&f).map(|r| (f, r)))
        .collect::<Result<_, _>>()?;
    check_shards(&reports)?;

    let mut by_id: HashMap<String, (PathBuf, WorkflowReport)> = HashMap::new();
    let mut start: Option<SystemTime> = None;
    let mut end: Option<SystemTime> = None;
    let mut interrupted = false;
    for (path, report) in &reports {
        let report_end = report.start_time + report.total_duration;
        start = Some(start.map_or(report.start_time, |s| s.min(report.start_time)));
        end = Some(end.map_or(report_end, |e| e.max(report_end)));
        interrupted |= report.interrupted;
        for w in &report.workflows {
            match by_id.get(&w.workflow_id) {
                Some((first, _)) if !keep_latest => {
                    return Err(MergeError::DuplicateWorkflow {
                        id: w.workflow_id.clone(),
                        first: first.clone(),
                        second: path.clone(),
                    });
                }
                Some((_, kept)) if kept.end_time >= w.end_time => {}
                _ => {
                    by_id.insert(w.workflow_id.clone(), (path.clone(), w.clone()));
                }
            }
        }
    }
    let mut workflows: Vec<WorkflowReport> = by_id.into_values().map(|(_, w)| w).collect();
    // Name order, as `cargo test` runs and reports them.
    workflows.sort_by(|a, b| {
        (&a.workflow_name, &a.workflow_id).cmp(&(&b.workflow_name, &b.workflow_id))
    });
    let start = start.unwrap_or(SystemTime::UNIX_EPOCH);
    let end = end.unwrap_or(start);
    let mut merged = RunReport::new(
        workflows,
        start,
        end.duration_since(start).unwrap_or_default(),
    );
    merged.interrupted = interrupted;
    let ids: Vec<&str> = reports.iter().map(|(_, r)| r.run_id.as_str()).collect();
    merged.run_id = if ids.windows(2).all(|w| w[0] == w[1]) {
        ids[0].to_owned()
    } else {
        crate::event::new_run_id(SystemTime::now())
    };
    Ok(merged)
}

/// Shards must all be shards of one partition of one suite, every one of them once; reports
/// without a partition (nextest fragments, whole runs) merge as they are.
fn check_shards(reports: &[(PathBuf, RunReport)]) -> Result<(), MergeError> {
    let sharded: Vec<&(PathBuf, RunReport)> =
        reports.iter().filter(|(_, r)| r.shard.is_some()).collect();
    let Some((first_path, first)) = sharded.first().copied() else {
        return Ok(());
    };
    if let Some((plain, _)) = reports.iter().find(|(_, r)| r.shard.is_none()) {
        return Err(MergeError::Mismatch {
            first: first_path.clone(),
            second: plain.clone(),
            what: "one is a shard, the other is not".into(),
        });
    }
    let Some(reference) = &first.shard else {
        return Ok(());
    };
    let mut seen: BTreeMap<usize, &PathBuf> = BTreeMap::new();
    for (path, report) in &sharded.iter().map(|(p, r)| (p, r)).collect::<Vec<_>>() {
        let Some(shard) = &report.shard else { continue };
        let differs = if shard.suite != reference.suite {
            Some(format!("suites {} and {}", reference.suite, shard.suite))
        } else if shard.partition.total != reference.partition.total
            || shard.partition.kind != reference.partition.kind
        {
            Some(format!(
                "partitions {} and {}",
                reference.partition, shard.partition
            ))
        } else if shard.plan.is_some() && reference.plan.is_some() && shard.plan != reference.plan {
            Some(format!(
                "the shards planned differently (plans {} and {}): each ran another selection, \
                 or, with duration partitions, saw other recorded durations, so workflows may \
                 be missing or doubled; give every shard the same filters and the same history \
                 (a shared [history] url, or one report.json restored before the run)",
                reference.plan.as_deref().unwrap_or_default(),
                shard.plan.as_deref().unwrap_or_default()
            ))
        } else {
            None
        };
        if let Some(what) = differs {
            return Err(MergeError::Mismatch {
                first: first_path.clone(),
                second: (*path).clone(),
                what,
            });
        }
        if let Some(previous) = seen.insert(shard.partition.shard, path) {
            return Err(MergeError::DuplicateShard {
                shard: shard.partition.shard,
                first: previous.clone(),
                second: (*path).clone(),
            });
        }
    }
    let total = reference.partition.total;
    let missing: Vec<usize> = (1..=total).filter(|k| !seen.contains_key(k)).collect();
    if !missing.is_empty() {
        return Err(MergeError::MissingShards {
            missing,
            total,
            have: seen
                .values()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::partition::{Partition, PartitionKind, Shard};
    use crate::report::tests::{step, workflow};
    use crate::step::StepStatus;

    fn shard_report(k: usize, n: usize, suite: &str, ids: &[&str], ms: u64) -> RunReport {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + k as u64);
        let workflows = ids
            .iter()
            .map(|id| {
                let status = if id.starts_with("bad") {
                    StepStatus::Failed
                } else {
                    StepStatus::Passed
                };
                let mut w = workflow(id, &id.to_uppercase(), ms, vec![step("s", status, ms)]);
                w.start_time = at;
                w.end_time = at + Duration::from_millis(ms);
                w
            })
            .collect();
        let mut report = RunReport::new(workflows, at, Duration::from_millis(ms));
        report.run_id = format!("run-{k}");
        report.shard = Some(Shard {
            partition: Partition {
                kind: PartitionKind::Count,
                shard: k,
                total: n,
            },
            suite: suite.into(),
            plan: None,
        });
        report
    }

    fn write(dir: &Path, name: &str, report: &RunReport) -> PathBuf {
        let folder = dir.join(name);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("report.json"), report.to_json()).unwrap();
        folder
    }

    #[test]
    fn three_shards_merge_into_one_run_with_its_totals_recomputed() {
        let dir = tempfile::tempdir().unwrap();
        let paths = vec![
            write(
                dir.path(),
                "s1",
                &shard_report(1, 3, "x", &["a", "bad-d"], 100),
            ),
            write(dir.path(), "s2", &shard_report(2, 3, "x", &["b"], 300)),
            write(dir.path(), "s3", &shard_report(3, 3, "x", &["c"], 50)),
        ];
        let merged = merge_reports(&paths, false).unwrap();
        assert_eq!(merged.total_workflows, 4);
        assert_eq!((merged.completed, merged.failed), (3, 1));
        assert_eq!(merged.aggregate_stats.total_steps, 4);
        assert_eq!(merged.aggregate_stats.slowest_workflow, "B");
        assert_eq!(merged.aggregate_stats.fastest_workflow, "C");
        // From shard 1's start (t + 1 s) to the latest end, shard 3's (t + 3 s + 50 ms).
        assert_eq!(merged.total_duration, Duration::from_millis(2050));
        assert!(merged.shard.is_none());
        let ids: Vec<&str> = merged
            .workflows
            .iter()
            .map(|w| w.workflow_id.as_str())
            .collect();
        assert_eq!(ids, ["a", "b", "bad-d", "c"], "name order");
    }

    #[test]
    fn every_refusal_names_its_files() {
        let dir = tempfile::tempdir().unwrap();
        let s1 = write(dir.path(), "s1", &shard_report(1, 3, "x", &["a"], 1));
        let s2 = write(dir.path(), "s2", &shard_report(2, 3, "x", &["b"], 1));
        let s3 = write(dir.path(), "s3", &shard_report(3, 3, "x", &["c"], 1));
        let other = write(dir.path(), "other", &shard_report(3, 3, "y", &["c"], 1));
        let again = write(dir.path(), "again", &shard_report(2, 3, "x", &["z"], 1));
        let twice = write(dir.path(), "twice", &shard_report(3, 3, "x", &["a"], 1));
        let error = |paths: &[&PathBuf], keep: bool| {
            let paths: Vec<PathBuf> = paths.iter().map(|p| (*p).clone()).collect();
            merge_reports(&paths, keep).unwrap_err().to_string()
        };
        let missing = error(&[&s1, &s3], false);
        assert!(
            missing.starts_with("shard 2 of 3 missing (have: "),
            "{missing}"
        );
        let suites = error(&[&s1, &s2, &other], false);
        assert!(
            suites.contains("not shards of one partitioned run: suites x and y"),
            "{suites}"
        );
        let duplicate = error(&[&s1, &s2, &again, &s3], false);
        assert!(
            duplicate.starts_with("shard 2 given twice: "),
            "{duplicate}"
        );
        assert!(duplicate.contains("again"), "{duplicate}");
        let workflow = error(&[&s1, &s2, &twice], false);
        assert!(workflow.starts_with("workflow \"a\" is in "), "{workflow}");
        assert!(workflow.contains("--keep-latest"), "{workflow}");
        let kept = merge_reports(&[s1.clone(), s2.clone(), twice.clone()], true).unwrap();
        assert_eq!(kept.total_workflows, 2);
        let garbage = dir.path().join("garbage.json");
        std::fs::write(&garbage, "{ not json").unwrap();
        let parse = error(&[&garbage], false);
        assert!(
            parse.contains("garbage.json is not a report.json: "),
            "{parse}"
        );
        let none = error(&[&dir.path().join("nowhere")], false);
        assert!(none.starts_with("cannot read "), "{none}");
    }

    #[test]
    fn nextest_fragments_of_the_latest_run_merge() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("fragments/old-run");
        let new = dir.path().join("fragments/new-run");
        std::fs::create_dir_all(&old).unwrap();
        std::fs::write(
            old.join("x.json"),
            shard_report(1, 1, "x", &["x"], 1).to_json(),
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(20));
        std::fs::create_dir_all(&new).unwrap();
        for id in ["a", "bad-b"] {
            let mut fragment = shard_report(1, 1, "x", &[id], 5);
            fragment.shard = None;
            std::fs::write(new.join(format!("{id}.json")), fragment.to_json()).unwrap();
        }
        let merged = merge_reports(&[dir.path().to_owned()], false).unwrap();
        let ids: Vec<&str> = merged
            .workflows
            .iter()
            .map(|w| w.workflow_id.as_str())
            .collect();
        assert_eq!(ids, ["a", "bad-b"]);
        assert_eq!((merged.completed, merged.failed), (1, 1));
    }
}
