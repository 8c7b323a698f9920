//! The body of a run request, checked against the registered workflows: which workflows to
//! run, with their dependencies pulled in as under `cargo test`.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::plan;
use crate::workflow::WorkflowSpec;

/// Why a run request's `workflowIds` was refused. Every variant is a client error (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    /// Missing, not an array, or empty.
    #[error("workflowIds must be a non-empty array")]
    NotAnArray,
    /// An element is not a string.
    #[error("workflowIds[{0}] must be a string")]
    NotAString(usize),
    /// More ids than one run may name.
    #[error("too many workflows: {count} named, at most {max} per run")]
    TooMany {
        /// How many were named.
        count: usize,
        /// The configured limit (`[api] max_workflows`).
        max: usize,
    },
    /// Ids that are not registered workflows, in request order.
    #[error("Invalid workflow IDs: {}", .0.join(", "))]
    Unknown(Vec<String>),
    /// Ids named more than once, in request order.
    #[error("Duplicate workflow IDs: {}", .0.join(", "))]
    Duplicates(Vec<String>),
}

/// A checked run request.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The ids as the request named them.
    pub requested: Vec<String>,
    /// What runs: the named workflows and their dependencies (marked `as_dependency`), in
    /// the registry's order (by id), as `cargo test` orders them.
    pub workflows: Vec<WorkflowSpec>,
}

/// Checks `body` (`{"workflowIds": [...]}`) against `all`.
///
/// Checks run in this order, the first failing one answers: shape, count (`max`), element
/// types, unknown ids, duplicates.
pub fn select(body: &Value, all: &[WorkflowSpec], max: usize) -> Result<Selection, SelectionError> {
    let ids = match body.get("workflowIds") {
        Some(Value::Array(ids)) if !ids.is_empty() => ids,
        _ => return Err(SelectionError::NotAnArray),
    };
    if ids.len() > max {
        return Err(SelectionError::TooMany {
            count: ids.len(),
            max,
        });
    }
    let requested = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            id.as_str()
                .map(str::to_owned)
                .ok_or(SelectionError::NotAString(i))
        })
        .collect::<Result<Vec<String>, _>>()?;

    let by_id: HashMap<&str, &WorkflowSpec> = all.iter().map(|w| (w.id.as_str(), w)).collect();
    let mut unknown: Vec<String> = Vec::new();
    for id in &requested {
        if !by_id.contains_key(id.as_str()) && !unknown.contains(id) {
            unknown.push(id.clone());
        }
    }
    if !unknown.is_empty() {
        return Err(SelectionError::Unknown(unknown));
    }
    // A repeated id is most likely a client bug (two checkboxes bound to one id, a list
    // concatenated twice); running it once silently would hide that, so it is refused.
    let mut seen = HashSet::new();
    let mut repeated: Vec<String> = Vec::new();
    for id in &requested {
        if !seen.insert(id.as_str()) && !repeated.contains(id) {
            repeated.push(id.clone());
        }
    }
    if !repeated.is_empty() {
        return Err(SelectionError::Duplicates(repeated));
    }

    let chosen: Vec<WorkflowSpec> = requested
        .iter()
        .filter_map(|id| by_id.get(id.as_str()).map(|w| (*w).clone()))
        .collect();
    Ok(Selection {
        workflows: plan::with_dependencies(all, &chosen),
        requested,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec(id: &str, deps: &[&str]) -> WorkflowSpec {
        WorkflowSpec::new(id, id, |_| Box::pin(async { Ok(()) })).depends_on(deps.iter().copied())
    }

    fn all() -> Vec<WorkflowSpec> {
        vec![spec("a", &[]), spec("b", &["a"]), spec("c", &[])]
    }

    fn err(body: Value) -> String {
        select(&body, &all(), 3).unwrap_err().to_string()
    }

    #[test]
    fn shape_errors_share_the_seed_message() {
        for body in [
            json!({}),
            json!({"workflowIds": []}),
            json!({"workflowIds": "a"}),
            json!([]),
            json!(null),
            json!({"workflowIds": {"a": 1}}),
        ] {
            assert_eq!(err(body), "workflowIds must be a non-empty array");
        }
        assert_eq!(
            err(json!({"workflowIds": ["a", 2]})),
            "workflowIds[1] must be a string"
        );
    }

    #[test]
    fn unknown_duplicate_and_too_many_are_named() {
        assert_eq!(
            err(json!({"workflowIds": ["x", "y", "x"]})),
            "Invalid workflow IDs: x, y"
        );
        assert_eq!(
            err(json!({"workflowIds": ["a", "c", "a", "c", "a"]})),
            "too many workflows: 5 named, at most 3 per run"
        );
        assert_eq!(
            err(json!({"workflowIds": ["c", "a", "c"]})),
            "Duplicate workflow IDs: c"
        );
    }

    #[test]
    fn dependencies_are_pulled_in_and_marked() {
        let picked = select(&json!({"workflowIds": ["b"]}), &all(), 3).unwrap();
        assert_eq!(picked.requested, ["b"]);
        let ids: Vec<(&str, bool)> = picked
            .workflows
            .iter()
            .map(|w| (w.id.as_str(), w.as_dependency))
            .collect();
        assert_eq!(ids, [("a", true), ("b", false)]);
    }
}
