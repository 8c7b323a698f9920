//! Partitions: which workflows one of N CI jobs runs (`--partition count:K/N`, `hash:K/N`,
//! `duration:K/N`). nextest's syntax and meaning, with one difference a workflow suite needs:
//! a workflow and everything it depends on (and what depends on it) form one unit that lands
//! in one shard, so no shard waits for a dependency that runs elsewhere.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::workflow::WorkflowSpec;

/// How the suite is split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum PartitionKind {
    /// Round robin over the units, in name order: unit i goes to shard (i mod N) + 1.
    Count,
    /// By a stable hash of the unit's first workflow id: a workflow keeps its shard when
    /// others are added or removed.
    Hash,
    /// Balanced by recorded durations (longest unit first onto the least loaded shard), so
    /// the shards finish together; by count when nothing is recorded.
    Duration,
}

/// One shard of N: `count:2/3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    /// How the suite is split.
    pub kind: PartitionKind,
    /// Which shard, from 1.
    pub shard: usize,
    /// How many shards.
    pub total: usize,
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            PartitionKind::Count => "count",
            PartitionKind::Hash => "hash",
            PartitionKind::Duration => "duration",
        };
        write!(f, "{kind}:{}/{}", self.shard, self.total)
    }
}

impl FromStr for Partition {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let expected = "expected count:K/N, hash:K/N or duration:K/N with 1 <= K <= N";
        let (kind, rest) = s
            .split_once(':')
            .ok_or_else(|| format!("{s:?}: {expected}"))?;
        let kind = match kind.trim() {
            "count" => PartitionKind::Count,
            "hash" => PartitionKind::Hash,
            "duration" => PartitionKind::Duration,
            other => {
                return Err(format!(
                    "{s:?}: unknown partition kind {other:?}; {expected}"
                ));
            }
        };
        let (k, n) = rest
            .split_once('/')
            .ok_or_else(|| format!("{s:?}: {expected}"))?;
        let number = |text: &str| {
            text.trim()
                .parse::<usize>()
                .map_err(|_| format!("{s:?}: {text:?} is not a number; {expected}"))
        };
        let (shard, total) = (number(k)?, number(n)?);
        if total == 0 || shard == 0 || shard > total {
            return Err(format!("{s:?}: shard {shard} of {total}; {expected}"));
        }
        Ok(Partition { kind, shard, total })
    }
}

/// The shard a run was, as its reports record it: the partition and the suite it split (a
/// fingerprint of every registered workflow id), so a merge can check it has all N shards of
/// one suite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// The partition (`kind`, `shard`, `total`).
    #[serde(flatten)]
    pub partition: Partition,
    /// The suite's fingerprint.
    pub suite: String,
    /// A fingerprint of the whole assignment (every selected workflow and its shard): shards
    /// that planned differently (another selection, or `duration` shards that saw other
    /// recorded durations) cannot be merged into one run. Absent in older reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
}

/// A fingerprint of a suite: its workflow ids, in any order.
pub fn suite_fingerprint<'a>(ids: impl IntoIterator<Item = &'a str>) -> String {
    let mut ids: Vec<&str> = ids.into_iter().collect();
    ids.sort_unstable();
    format!("{:016x}", stable_hash(&ids.join("\n")))
}

/// The units of `workflows`: each a set of workflows joined by `depends_on` (either way), in
/// name order of their members, units ordered by their first member's id.
fn units(workflows: &[WorkflowSpec]) -> Vec<Vec<usize>> {
    let index: HashMap<&str, usize> = workflows
        .iter()
        .enumerate()
        .map(|(i, w)| (w.id.as_str(), i))
        .collect();
    let mut parent: Vec<usize> = (0..workflows.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (i, w) in workflows.iter().enumerate() {
        for dep in &w.depends_on {
            if let Some(&j) = index.get(dep.as_str()) {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                parent[a] = b;
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..workflows.len() {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    let mut units: Vec<Vec<usize>> = groups.into_values().collect();
    for unit in &mut units {
        unit.sort_by(|&a, &b| workflows[a].id.cmp(&workflows[b].id));
    }
    units.sort_by(|a, b| workflows[a[0]].id.cmp(&workflows[b[0]].id));
    units
}

/// FNV-1a, 64 bits: stable across processes, machines and Rust versions (std's hasher is
/// not), which is what a shard assignment must be.
fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The shard (from 1) of every workflow, by `kind` over `total` shards; `durations` (by
/// workflow id, from the run history) balance `duration`, which falls back to `count` when
/// none is known.
pub fn assign(
    workflows: &[WorkflowSpec],
    kind: PartitionKind,
    total: usize,
    durations: &HashMap<String, Duration>,
) -> HashMap<String, usize> {
    let total = total.max(1);
    let units = units(workflows);
    let mut shard_of_unit = vec![0usize; units.len()];
    match kind {
        PartitionKind::Count => {
            for (i, shard) in shard_of_unit.iter_mut().enumerate() {
                *shard = i % total + 1;
            }
        }
        PartitionKind::Hash => {
            for (i, unit) in units.iter().enumerate() {
                let key = &workflows[unit[0]].id;
                shard_of_unit[i] = (stable_hash(key) % total as u64) as usize + 1;
            }
        }
        PartitionKind::Duration if durations.is_empty() => {
            return assign(workflows, PartitionKind::Count, total, durations);
        }
        PartitionKind::Duration => {
            // Unknown durations count as the mean of the known ones.
            let known: Vec<Duration> = durations.values().copied().collect();
            let mean = known.iter().sum::<Duration>() / known.len().max(1) as u32;
            let weight = |unit: &[usize]| -> Duration {
                unit.iter()
                    .map(|&i| durations.get(&workflows[i].id).copied().unwrap_or(mean))
                    .sum()
            };
            let mut order: Vec<usize> = (0..units.len()).collect();
            order.sort_by(|&a, &b| {
                weight(&units[b])
                    .cmp(&weight(&units[a]))
                    .then_with(|| workflows[units[a][0]].id.cmp(&workflows[units[b][0]].id))
            });
            let mut load = vec![Duration::ZERO; total];
            for u in order {
                let lightest = (0..total).min_by_key(|&s| (load[s], s)).unwrap_or(0);
                load[lightest] += weight(&units[u]);
                shard_of_unit[u] = lightest + 1;
            }
        }
    }
    let mut shards = HashMap::new();
    for (unit, shard) in units.iter().zip(shard_of_unit) {
        for &i in unit {
            shards.insert(workflows[i].id.clone(), shard);
        }
    }
    shards
}

/// The workflows of `partition`'s shard, in their order, and the plan's fingerprint (see
/// [`Shard::plan`]).
pub fn select(
    workflows: Vec<WorkflowSpec>,
    partition: &Partition,
    durations: &HashMap<String, Duration>,
) -> (Vec<WorkflowSpec>, String) {
    let shards = assign(&workflows, partition.kind, partition.total, durations);
    let plan = plan_fingerprint(&shards);
    let mine = workflows
        .into_iter()
        .filter(|w| shards.get(&w.id) == Some(&partition.shard))
        .collect();
    (mine, plan)
}

/// A fingerprint of an assignment (workflow id → shard), in any order.
pub fn plan_fingerprint(shards: &HashMap<String, usize>) -> String {
    let mut lines: Vec<String> = shards.iter().map(|(id, k)| format!("{id} {k}")).collect();
    lines.sort_unstable();
    format!("{:016x}", stable_hash(&lines.join("\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_durations_give_another_plan() {
        let partition = Partition {
            kind: PartitionKind::Duration,
            shard: 1,
            total: 2,
        };
        let ms = |pairs: &[(&str, u64)]| -> HashMap<String, Duration> {
            pairs
                .iter()
                .map(|(id, ms)| (id.to_string(), Duration::from_millis(*ms)))
                .collect()
        };
        let fast_first = ms(&[("w00", 900), ("w01", 10), ("w02", 10), ("w03", 10)]);
        let slow_last = ms(&[("w00", 10), ("w01", 10), ("w02", 10), ("w03", 900)]);
        let (a, plan_a) = select(suite(4), &partition, &fast_first);
        let (b, plan_b) = select(suite(4), &partition, &slow_last);
        assert_ne!(plan_a, plan_b);
        let ids = |ws: &[WorkflowSpec]| ws.iter().map(|w| w.id.clone()).collect::<Vec<_>>();
        assert_ne!(ids(&a), ids(&b));
        assert_eq!(select(suite(4), &partition, &fast_first).1, plan_a);
    }

    fn suite(n: usize) -> Vec<WorkflowSpec> {
        (0..n)
            .map(|i| {
                let mut w =
                    WorkflowSpec::new(format!("w{i:02}"), "W", |_| Box::pin(async { Ok(()) }));
                // Chains: every fifth depends on the one before it.
                if i % 5 == 4 {
                    w.depends_on = vec![format!("w{:02}", i - 1)];
                }
                w
            })
            .collect()
    }

    #[test]
    fn parses_nextests_syntax_and_names_mistakes() {
        let p: Partition = "hash:2/3".parse().unwrap();
        assert_eq!((p.kind, p.shard, p.total), (PartitionKind::Hash, 2, 3));
        assert_eq!(p.to_string(), "hash:2/3");
        for (bad, says) in [
            ("count:0/3", "shard 0 of 3"),
            ("count:4/3", "shard 4 of 3"),
            ("slice:1/2", "unknown partition kind \"slice\""),
            ("count:1-2", "expected count:K/N"),
            ("count:a/2", "\"a\" is not a number"),
        ] {
            let error = bad.parse::<Partition>().unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }

    /// For N = 1..8 and each kind: every workflow in exactly one shard, and each dependency
    /// in its dependent's shard.
    #[test]
    fn every_kind_covers_the_suite_once_and_keeps_dependencies_together() {
        let workflows = suite(37);
        let durations: HashMap<String, Duration> = workflows
            .iter()
            .enumerate()
            .map(|(i, w)| {
                (
                    w.id.clone(),
                    Duration::from_millis(10 + (i as u64 * 37) % 200),
                )
            })
            .collect();
        for kind in [
            PartitionKind::Count,
            PartitionKind::Hash,
            PartitionKind::Duration,
        ] {
            for total in 1..=8 {
                let mut seen: HashMap<String, usize> = HashMap::new();
                let mut plans = std::collections::HashSet::new();
                for shard in 1..=total {
                    let partition = Partition { kind, shard, total };
                    let (mine, plan) = select(suite(37), &partition, &durations);
                    plans.insert(plan);
                    for w in mine {
                        assert!(seen.insert(w.id.clone(), shard).is_none(), "{} twice", w.id);
                    }
                }
                assert_eq!(plans.len(), 1, "{kind:?} {total}: the shards planned alike");
                assert_eq!(seen.len(), workflows.len(), "{kind:?} {total}");
                for w in &workflows {
                    for dep in &w.depends_on {
                        assert_eq!(
                            seen[dep], seen[&w.id],
                            "{kind:?} {total}: {} and {dep}",
                            w.id
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn duration_balances_the_recorded_time_and_hash_is_stable() {
        let workflows: Vec<WorkflowSpec> = (0..12)
            .map(|i| WorkflowSpec::new(format!("d{i}"), "D", |_| Box::pin(async { Ok(()) })))
            .collect();
        // One long workflow and many short ones: count would put the long one with others.
        let durations: HashMap<String, Duration> = (0..12)
            .map(|i| {
                (
                    format!("d{i}"),
                    Duration::from_millis(if i == 0 { 600 } else { 100 }),
                )
            })
            .collect();
        let shards = assign(&workflows, PartitionKind::Duration, 3, &durations);
        let mut load = [Duration::ZERO; 3];
        for (id, shard) in &shards {
            load[shard - 1] += durations[id];
        }
        let max = load.iter().max().unwrap();
        let min = load.iter().min().unwrap();
        assert!(max.as_millis() - min.as_millis() <= 100, "{load:?}");
        // The same ids, another order: the same hash shards.
        let mut reversed = workflows.clone();
        reversed.reverse();
        let a = assign(&workflows, PartitionKind::Hash, 4, &HashMap::new());
        let b = assign(&reversed, PartitionKind::Hash, 4, &HashMap::new());
        assert_eq!(a, b);
        assert_eq!(stable_hash("abc"), 0xe71fa2190541574b);
    }
}
