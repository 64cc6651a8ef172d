//! A finished search as a tree-file record, in the reference's shape for its mode.

use serde_json::{Map, Number, Value, json};

use crate::search::config::{Mode, SearchConfig};
use crate::search::request::Search;
use crate::store::{Solution, TreeRecord};
use crate::tree::NodeId;

/// Facts about the run kept under `arbor.run`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunFacts {
    pub elapsed_s: Option<f64>,
    pub model: Option<String>,
}

/// The record for `search` over the problem `fields` (its keys are kept in order): the tree,
/// beam-search `solutions` as the reference writes them, and the run's settings and chosen
/// answer under `arbor.run`.
pub fn to_record(
    fields: &Map<String, Value>,
    search: &dyn Search,
    config: &SearchConfig,
    facts: &RunFacts,
) -> TreeRecord {
    let tree = search.tree().clone();
    let mut record = TreeRecord::new(fields.clone(), tree);
    let outcome = search.outcome();
    if config.mode == Mode::Sbs {
        let question = record.question().to_owned();
        // The reference passes the answer as ground truth only when sampling.
        let ground_truth = if config.is_sampling {
            fields.get("answer").cloned().unwrap_or(Value::Null)
        } else {
            Value::Null
        };
        let ordered: Vec<NodeId> = outcome
            .as_ref()
            .map(|o| o.node.into_iter().chain(o.alternatives.iter().copied()).collect())
            .unwrap_or_default();
        let delim = config.step_delim();
        let solutions = ordered
            .into_iter()
            .map(|id| {
                let node = record.tree.node(id);
                let value = match node.stats().value {
                    Some(v) => Number::from_f64(v).unwrap_or_else(|| Number::from(-100)),
                    None => Number::from(-100),
                };
                Solution {
                    question: question.clone(),
                    ground_truth: ground_truth.clone(),
                    value,
                    final_answer: node.step().final_answer.clone(),
                    solution: record.tree.path_text(id, &delim),
                    tag: node.tag().to_owned(),
                    other: Map::new(),
                }
            })
            .collect();
        record.solutions = Some(solutions);
    }
    let mut run = Map::new();
    run.insert("algorithm".into(), json!(mode_name(config.mode)));
    if let Ok(Value::Object(settings)) = serde_json::to_value(config) {
        run.insert("config".into(), Value::Object(settings));
    }
    run.insert("iterations".into(), json!(search.iterations()));
    if let Some(o) = &outcome {
        run.insert("answer".into(), o.answer.as_ref().map_or(Value::Null, |a| json!(a)));
        if let Some(node) = o.node {
            run.insert("answer_tag".into(), json!(record.tree.node(node).tag()));
        }
    }
    if let Some(s) = facts.elapsed_s {
        run.insert("elapsed_s".into(), json!(s));
    }
    if let Some(m) = &facts.model {
        run.insert("model".into(), json!(m));
    }
    record.run = run;
    record
}

pub fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::React => "react",
        Mode::Sample => "sample",
        Mode::Sbs => "sbs",
        Mode::Mcts => "mcts",
    }
}
