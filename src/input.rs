//! Workflow input (the seed's `context`): a JSON value given per run, read by a workflow with
//! [`Ctx::input`](crate::Ctx::input) or, typed, [`Ctx::input_as`](crate::Ctx::input_as).
//!
//! A run hands either one value to every workflow it runs, or a value per workflow id (both
//! may be combined: a workflow's own value wins).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

/// The inputs of one run's workflows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inputs {
    every: Option<Arc<Value>>,
    by_workflow: BTreeMap<String, Arc<Value>>,
}

impl Inputs {
    /// The same `value` for every workflow of the run.
    pub fn every(value: Value) -> Self {
        Inputs {
            every: Some(Arc::new(value)),
            by_workflow: BTreeMap::new(),
        }
    }

    /// Gives `value` to the workflow `id` (replacing what it had).
    pub fn set(&mut self, id: &str, value: Value) -> &mut Self {
        self.by_workflow.insert(id.to_owned(), Arc::new(value));
        self
    }

    /// Gives `value` to every workflow without a value of its own (replacing the previous).
    pub fn set_every(&mut self, value: Value) -> &mut Self {
        self.every = Some(Arc::new(value));
        self
    }

    /// Whether no workflow gets an input.
    pub fn is_empty(&self) -> bool {
        self.every.is_none() && self.by_workflow.is_empty()
    }

    /// What workflow `id` gets: its own value, else the one for every workflow.
    pub fn for_workflow(&self, id: &str) -> Option<&Value> {
        self.by_workflow
            .get(id)
            .or(self.every.as_ref())
            .map(|v| &**v)
    }

    /// Reads a context file's JSON (`--context FILE`): an object whose every key is one of
    /// `known` workflow ids is a value per workflow; anything else goes to every workflow.
    pub fn from_json<'a>(value: Value, known: impl IntoIterator<Item = &'a str>) -> Self {
        let known: Vec<&str> = known.into_iter().collect();
        match value {
            Value::Object(map)
                if !map.is_empty() && map.keys().all(|k| known.contains(&k.as_str())) =>
            {
                let mut inputs = Inputs::default();
                for (id, value) in map {
                    inputs.set(&id, value);
                }
                inputs
            }
            other => Inputs::every(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_map_of_known_ids_is_per_workflow_anything_else_for_all() {
        let known = ["a", "b"];
        let per = Inputs::from_json(json!({"a": {"x": 1}, "b": 2}), known);
        assert_eq!(per.for_workflow("a"), Some(&json!({"x": 1})));
        assert_eq!(per.for_workflow("b"), Some(&json!(2)));
        assert_eq!(per.for_workflow("c"), None);

        let all = Inputs::from_json(json!({"a": 1, "auctions": {}}), known);
        assert_eq!(
            all.for_workflow("a"),
            Some(&json!({"a": 1, "auctions": {}}))
        );
        assert_eq!(all.for_workflow("z"), all.for_workflow("a"));
        assert_eq!(
            Inputs::from_json(json!({}), known).for_workflow("a"),
            Some(&json!({}))
        );
    }

    #[test]
    fn a_workflow_s_own_value_wins() {
        let mut inputs = Inputs::every(json!("all"));
        inputs.set("a", json!("mine"));
        assert_eq!(inputs.for_workflow("a"), Some(&json!("mine")));
        assert_eq!(inputs.for_workflow("b"), Some(&json!("all")));
        assert!(!inputs.is_empty() && Inputs::default().is_empty());
    }
}
