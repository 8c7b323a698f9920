//! What narrows a run after libtest's filters: tags (`--tag`, `--skip-tag`, `tags` and
//! `skip_tags` in harness.toml) and the partition (`--partition`), and the shard a run records.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use crate::config::HistoryOptions;
use crate::history::{DEFAULT_FILE, Journal};
use crate::partition::{self, Partition, Shard};
use crate::report::RunReport;
use crate::workflow::WorkflowSpec;

/// Tag selection: a workflow runs when it has one of `any` (all workflows when `any` is
/// empty) and none of `none`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tags {
    /// Run only workflows with one of these tags.
    pub any: Vec<String>,
    /// Leave out workflows with one of these.
    pub none: Vec<String>,
}

impl Tags {
    /// Whether `workflow` is selected.
    pub fn admits(&self, workflow: &WorkflowSpec) -> bool {
        let has = |tag: &String| workflow.tags.iter().any(|t| t == tag);
        (self.any.is_empty() || self.any.iter().any(has)) && !self.none.iter().any(has)
    }
}

/// The durations to balance `duration:K/N` shards with: each workflow's median over the last
/// [`HISTORY_RUNS`] recorded runs of `suite` in the run history, when it holds any; else each
/// workflow's in the last report of `report_dir`, when there is one. A default SQLite history
/// that does not exist yet is not created just to be read.
pub fn recorded_durations(
    history: &HistoryOptions,
    report_dir: &Path,
    root: &Path,
    suite: &str,
) -> HashMap<String, Duration> {
    let exists = history.url.is_some() || report_dir.join(DEFAULT_FILE).exists();
    if history.enabled && exists {
        let mut journal = Journal::open(history, report_dir, root);
        let medians = journal
            .with(|store| store.workflow_history(suite, HISTORY_RUNS))
            .map(|h| {
                h.rows
                    .into_iter()
                    .filter(|row| row.runs > 0)
                    .map(|row| (row.id, Duration::from_millis(row.p50_ms.max(0) as u64)))
                    .collect::<HashMap<_, _>>()
            })
            .unwrap_or_default();
        if !medians.is_empty() {
            return medians;
        }
    }
    last_report_durations(report_dir)
}

/// How many recorded runs `duration` partitions take the median over.
pub const HISTORY_RUNS: usize = 20;

/// Each workflow's duration in the last report of `report_dir`.
fn last_report_durations(report_dir: &Path) -> HashMap<String, Duration> {
    let Ok(text) = std::fs::read_to_string(report_dir.join("report.json")) else {
        return HashMap::new();
    };
    let Ok(report) = serde_json::from_str::<RunReport>(&text) else {
        return HashMap::new();
    };
    report
        .workflows
        .into_iter()
        .filter(|w| !w.attempts.is_empty())
        .map(|w| (w.workflow_id, w.duration))
        .collect()
}

/// The shard `partition` of `selected`, whose units are closed over `depends_on` within the
/// selection (the selection already holds the dependencies it runs), and the plan's
/// fingerprint.
pub fn shard_of(
    selected: Vec<WorkflowSpec>,
    partition: &Partition,
    durations: &HashMap<String, Duration>,
) -> (Vec<WorkflowSpec>, String) {
    partition::select(selected, partition, durations)
}

/// What a shard's reports record: the partition, the suite (all registered ids) and the
/// plan it ran by.
pub fn shard_record(partition: Partition, all: &[WorkflowSpec], plan: Option<String>) -> Shard {
    Shard {
        partition,
        suite: partition::suite_fingerprint(all.iter().map(|w| w.id.as_str())),
        plan,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tagged(id: &str, tags: &[&str]) -> WorkflowSpec {
        let mut w = WorkflowSpec::new(id, id, |_| Box::pin(async { Ok(()) }));
        w.tags = tags.iter().map(|t| t.to_string()).collect();
        w
    }

    #[test]
    fn tags_select_any_of_and_skip_tags_remove() {
        let all = [
            tagged("a", &["shop"]),
            tagged("b", &["shop", "slow"]),
            tagged("c", &["admin"]),
            tagged("d", &[]),
        ];
        let ids = |tags: &Tags| -> Vec<String> {
            all.iter()
                .filter(|w| tags.admits(w))
                .map(|w| w.id.clone())
                .collect()
        };
        let shop_or_admin = Tags {
            any: vec!["shop".into(), "admin".into()],
            none: vec![],
        };
        assert_eq!(ids(&shop_or_admin), ["a", "b", "c"]);
        let not_slow = Tags {
            any: vec![],
            none: vec!["slow".into()],
        };
        assert_eq!(ids(&not_slow), ["a", "c", "d"]);
        let shop_not_slow = Tags {
            any: vec!["shop".into()],
            none: vec!["slow".into()],
        };
        assert_eq!(ids(&shop_not_slow), ["a"]);
        assert_eq!(ids(&Tags::default()).len(), 4);
    }
}
