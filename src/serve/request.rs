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
    /// `tags` or `skipTags` is not an array of strings.
    #[error("{0} must be an array of strings")]
    NotTags(&'static str),
    /// Tags no registered workflow has (a typo would silently select nothing, or skip
    /// nothing).
    #[error("{key}: unknown tags: {} (known: {})", .unknown.join(", "), .known.join(", "))]
    UnknownTags {
        /// `tags` or `skipTags`.
        key: &'static str,
        /// The unknown tags, in request order.
        unknown: Vec<String>,
        /// Every tag of the registered workflows.
        known: Vec<String>,
    },
    /// The ids and tags together select no workflow.
    #[error("no workflow matches the request's workflowIds, tags and skipTags")]
    NothingSelected,
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

/// Checks `body` (`{"workflowIds"?: [...], "tags"?: [...], "skipTags"?: [...]}`) against
/// `all`. Without tags, `workflowIds` is required (the seed's shape); tags select the
/// workflows with any of `tags` and none of `skipTags`, and narrow `workflowIds` when both
/// are given, as name filters and `--tag` do under `cargo test`.
///
/// Checks run in this order, the first failing one answers: shape, count (`max`), element
/// types, unknown ids, duplicates, tags; then the count of what tags selected.
pub fn select(body: &Value, all: &[WorkflowSpec], max: usize) -> Result<Selection, SelectionError> {
    let tags = tag_list(body, "tags", all)?;
    let skip_tags = tag_list(body, "skipTags", all)?;
    let tagged = tags.is_some() || skip_tags.is_some();
    let ids = match body.get("workflowIds") {
        Some(Value::Array(ids)) if !ids.is_empty() => Some(ids),
        None if tagged => None,
        _ => return Err(SelectionError::NotAnArray),
    };
    let by_id: HashMap<&str, &WorkflowSpec> = all.iter().map(|w| (w.id.as_str(), w)).collect();
    let requested = match ids {
        Some(ids) => named(ids, &by_id, max)?,
        None => all.iter().map(|w| w.id.clone()).collect(),
    };
    let selection = crate::selection::Tags {
        any: tags.unwrap_or_default(),
        none: skip_tags.unwrap_or_default(),
    };
    let chosen: Vec<WorkflowSpec> = requested
        .iter()
        .filter_map(|id| by_id.get(id.as_str()).map(|w| (*w).clone()))
        .filter(|w| selection.admits(w))
        .collect();
    if chosen.is_empty() {
        return Err(SelectionError::NothingSelected);
    }
    if chosen.len() > max {
        return Err(SelectionError::TooMany {
            count: chosen.len(),
            max,
        });
    }
    Ok(Selection {
        workflows: plan::with_dependencies(all, &chosen),
        requested: chosen.into_iter().map(|w| w.id).collect(),
    })
}

/// The ids of `workflowIds`, checked: count, types, unknown, duplicates.
fn named(
    ids: &[Value],
    by_id: &HashMap<&str, &WorkflowSpec>,
    max: usize,
) -> Result<Vec<String>, SelectionError> {
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
    Ok(requested)
}

/// `body[key]` as a list of known tags; absent or null: `None`.
fn tag_list(
    body: &Value,
    key: &'static str,
    all: &[WorkflowSpec],
) -> Result<Option<Vec<String>>, SelectionError> {
    let list = match body.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(SelectionError::NotTags(key)),
    };
    let tags = list
        .iter()
        .map(|t| t.as_str().map(str::to_owned))
        .collect::<Option<Vec<String>>>()
        .ok_or(SelectionError::NotTags(key))?;
    let mut known: Vec<String> = all.iter().flat_map(|w| w.tags.iter().cloned()).collect();
    known.sort_unstable();
    known.dedup();
    let mut unknown: Vec<String> = Vec::new();
    for tag in &tags {
        if known.binary_search(tag).is_err() && !unknown.contains(tag) {
            unknown.push(tag.clone());
        }
    }
    if !unknown.is_empty() {
        return Err(SelectionError::UnknownTags {
            key,
            unknown,
            known,
        });
    }
    Ok(Some(tags))
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

    fn tagged() -> Vec<WorkflowSpec> {
        let mut all = all();
        all[0].tags = vec!["shop".into()];
        all[1].tags = vec!["shop".into(), "slow".into()];
        all[2].tags = vec!["admin".into()];
        all
    }

    fn picked(body: Value) -> Result<Vec<String>, String> {
        select(&body, &tagged(), 3)
            .map(|s| s.requested)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn tags_select_narrow_ids_and_unknown_tags_are_named() {
        assert_eq!(picked(json!({"tags": ["shop"]})).unwrap(), ["a", "b"]);
        assert_eq!(
            picked(json!({"tags": ["shop"], "skipTags": ["slow"]})).unwrap(),
            ["a"]
        );
        assert_eq!(picked(json!({"skipTags": ["shop"]})).unwrap(), ["c"]);
        assert_eq!(
            picked(json!({"workflowIds": ["b", "c"], "tags": ["shop"]})).unwrap(),
            ["b"]
        );
        assert_eq!(
            picked(json!({"tags": ["shop", "shoop"]})).unwrap_err(),
            "tags: unknown tags: shoop (known: admin, shop, slow)"
        );
        assert_eq!(
            picked(json!({"skipTags": "slow"})).unwrap_err(),
            "skipTags must be an array of strings"
        );
        assert_eq!(
            picked(json!({"workflowIds": ["c"], "tags": ["shop"]})).unwrap_err(),
            "no workflow matches the request's workflowIds, tags and skipTags"
        );
        // A dependency a tag left out still runs, as under cargo test.
        let run = select(
            &json!({"tags": ["shop"], "skipTags": ["shop"]}),
            &tagged(),
            3,
        );
        assert!(run.is_err());
        let deps = select(&json!({"tags": ["slow"]}), &tagged(), 3).unwrap();
        let ids: Vec<&str> = deps.workflows.iter().map(|w| w.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        // The limit counts what the tags selected.
        assert_eq!(
            select(&json!({"skipTags": ["admin"]}), &tagged(), 1)
                .unwrap_err()
                .to_string(),
            "too many workflows: 2 named, at most 1 per run"
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
