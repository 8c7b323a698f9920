//! Checks a set of workflows before anything runs (ids, dependencies, cycles, groups), and
//! closes a selection over its dependencies.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::workflow::{WorkflowSpec, validate_id};

/// The workflows handed to a run are not a valid set.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SuiteError {
    /// An id breaks the id rules.
    #[error("{reason}{}", at(.location))]
    InvalidId {
        /// What is wrong.
        reason: String,
        /// Where the workflow was registered.
        location: Option<String>,
    },
    /// Two workflows share an id.
    #[error("two workflows have the id {id:?}: one registered{}, the other{}", at(.first), at(.second))]
    DuplicateId {
        /// The id.
        id: String,
        /// Where the first was registered.
        first: Option<String>,
        /// Where the second was registered.
        second: Option<String>,
    },
    /// A workflow depends on an id no workflow has.
    #[error("workflow {id:?}{} depends on {dependency:?}, which is not a registered workflow", at(.location))]
    UnknownDependency {
        /// The dependent.
        id: String,
        /// The missing id.
        dependency: String,
        /// Where the dependent was registered.
        location: Option<String>,
    },
    /// Dependencies form a cycle.
    #[error("dependency cycle: {}", .cycle.join(" → "))]
    Cycle {
        /// The ids around the cycle, the first repeated at the end.
        cycle: Vec<String>,
    },
    /// A workflow joins a group with no configured limit.
    #[error("workflow {id:?}{} joins group {group:?}, which has no limit: add `{group} = N` under [groups] in harness.toml", at(.location))]
    UnknownGroup {
        /// The workflow.
        id: String,
        /// The group.
        group: String,
        /// Where the workflow was registered.
        location: Option<String>,
    },
}

fn at(location: &Option<String>) -> String {
    location
        .as_deref()
        .map_or_else(String::new, |l| format!(" (at {l})"))
}

/// What to do with a dependency on an id outside the set being checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutsideDeps {
    /// It is an error (the set is the whole suite).
    Reject,
    /// It is taken as satisfied (the set is a selection, e.g. under `--no-deps`).
    Ignore,
}

/// Checks `workflows`: valid, unique ids; known dependencies; no cycle; known groups (unless
/// `groups` is `None`).
pub fn validate(
    workflows: &[WorkflowSpec],
    groups: Option<&BTreeMap<String, usize>>,
    outside: OutsideDeps,
) -> Result<(), SuiteError> {
    let mut by_id: HashMap<&str, &WorkflowSpec> = HashMap::new();
    for w in workflows {
        validate_id(&w.id).map_err(|reason| SuiteError::InvalidId {
            reason,
            location: w.location.clone(),
        })?;
        if let Some(first) = by_id.insert(&w.id, w) {
            return Err(SuiteError::DuplicateId {
                id: w.id.clone(),
                first: first.location.clone(),
                second: w.location.clone(),
            });
        }
    }
    for w in workflows {
        if let (Some(group), Some(groups)) = (&w.group, groups)
            && !groups.contains_key(group)
        {
            return Err(SuiteError::UnknownGroup {
                id: w.id.clone(),
                group: group.clone(),
                location: w.location.clone(),
            });
        }
        if outside == OutsideDeps::Reject
            && let Some(dep) = w
                .depends_on
                .iter()
                .find(|d| !by_id.contains_key(d.as_str()))
        {
            return Err(SuiteError::UnknownDependency {
                id: w.id.clone(),
                dependency: dep.clone(),
                location: w.location.clone(),
            });
        }
    }
    find_cycle(workflows, &by_id)
}

fn find_cycle(
    workflows: &[WorkflowSpec],
    by_id: &HashMap<&str, &WorkflowSpec>,
) -> Result<(), SuiteError> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Visiting,
        Done,
    }
    let mut marks: HashMap<&str, Mark> = HashMap::new();
    for root in workflows {
        if marks.contains_key(root.id.as_str()) {
            continue;
        }
        // Iterative depth-first search; `path` is the chain from the root to the current node.
        let mut path: Vec<(&str, usize)> = vec![(root.id.as_str(), 0)];
        marks.insert(&root.id, Mark::Visiting);
        while let Some((id, next)) = path.last_mut() {
            let deps = &by_id[*id].depends_on;
            if let Some(dep) = deps.get(*next) {
                *next += 1;
                let Some(dep_spec) = by_id.get(dep.as_str()) else {
                    continue; // outside the set
                };
                match marks.get(dep.as_str()) {
                    Some(Mark::Done) => {}
                    Some(Mark::Visiting) => {
                        let start = path.iter().position(|(p, _)| *p == dep).unwrap_or(0);
                        let mut cycle: Vec<String> =
                            path[start..].iter().map(|(p, _)| (*p).to_owned()).collect();
                        cycle.push(dep.clone());
                        return Err(SuiteError::Cycle { cycle });
                    }
                    None => {
                        marks.insert(&dep_spec.id, Mark::Visiting);
                        path.push((&dep_spec.id, 0));
                    }
                }
            } else {
                marks.insert(id, Mark::Done);
                path.pop();
            }
        }
    }
    Ok(())
}

/// `selected` plus everything it depends on, transitively, from `all` (in `all`'s order); the
/// added ones are marked [`WorkflowSpec::as_dependency`].
pub fn with_dependencies(all: &[WorkflowSpec], selected: &[WorkflowSpec]) -> Vec<WorkflowSpec> {
    let by_id: HashMap<&str, &WorkflowSpec> = all.iter().map(|w| (w.id.as_str(), w)).collect();
    let chosen: HashSet<&str> = selected.iter().map(|w| w.id.as_str()).collect();
    let mut needed: HashSet<&str> = chosen.clone();
    let mut stack: Vec<&str> = chosen.iter().copied().collect();
    while let Some(id) = stack.pop() {
        for dep in by_id.get(id).map_or(&[][..], |w| &w.depends_on[..]) {
            if needed.insert(dep) {
                stack.push(dep);
            }
        }
    }
    all.iter()
        .filter(|w| needed.contains(w.id.as_str()))
        .map(|w| {
            let mut w = w.clone();
            w.as_dependency = !chosen.contains(w.id.as_str());
            w
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(id: &str, deps: &[&str]) -> WorkflowSpec {
        WorkflowSpec::new(id, id, |_| Box::pin(async { Ok(()) })).depends_on(deps.iter().copied())
    }

    fn check(specs: &[WorkflowSpec]) -> Result<(), SuiteError> {
        validate(specs, Some(&BTreeMap::new()), OutsideDeps::Reject)
    }

    #[test]
    fn unknown_dependency_names_both_ids() {
        let err = check(&[spec("b", &["a"])]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "workflow \"b\" depends on \"a\", which is not a registered workflow"
        );
        let lenient = validate(
            &[spec("b", &["a"])],
            Some(&BTreeMap::new()),
            OutsideDeps::Ignore,
        );
        assert!(lenient.is_ok());
    }

    #[test]
    fn cycles_are_named_whole() {
        let specs = [
            spec("a", &["b"]),
            spec("b", &["c"]),
            spec("c", &["a"]),
            spec("d", &[]),
        ];
        assert_eq!(
            check(&specs).unwrap_err().to_string(),
            "dependency cycle: a → b → c → a"
        );
        let err = check(&[spec("self", &["self"])]).unwrap_err();
        assert_eq!(
            err,
            SuiteError::Cycle {
                cycle: vec!["self".into(), "self".into()]
            }
        );
        // A diamond is not a cycle.
        let diamond = [
            spec("a", &[]),
            spec("b", &["a"]),
            spec("c", &["a"]),
            spec("d", &["b", "c"]),
        ];
        assert!(check(&diamond).is_ok());
    }

    #[test]
    fn unknown_group_is_refused() {
        let specs = [spec("a", &[]).group("checkout")];
        let err = check(&specs).unwrap_err();
        assert!(err.to_string().contains("[groups]"), "{err}");
        let groups = BTreeMap::from([("checkout".to_owned(), 2)]);
        assert!(validate(&specs, Some(&groups), OutsideDeps::Reject).is_ok());
    }

    #[test]
    fn selection_pulls_in_dependencies_transitively() {
        let all = [
            spec("a", &[]),
            spec("b", &["a"]),
            spec("c", &["b"]),
            spec("d", &[]),
        ];
        let picked = with_dependencies(&all, &[all[2].clone()]);
        let ids: Vec<(&str, bool)> = picked
            .iter()
            .map(|w| (w.id.as_str(), w.as_dependency))
            .collect();
        assert_eq!(ids, [("a", true), ("b", true), ("c", false)]);
    }
}
