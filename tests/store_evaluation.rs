//! The `evaluation` a λ-mixing search records per evaluated node (value, critics, rollout
//! summaries, the mixed estimate) is written under `arbor.nodes.<tag>`, reads back into the
//! same tree, and an unknown key inside it keeps the whole `arbor` value raw, as for any other
//! unknown arbor key.

#![allow(clippy::unwrap_used)] // tests unwrap what they built themselves

use arbor::engine::driver::Driver;
use arbor::engine::scripted::Scripted;
use arbor::problems::GroundTruth;
use arbor::search::config::SearchConfig;
use arbor::search::new_search;
use arbor::search::request::{Executed, Generated, ModelRole, Sample};
use arbor::store::TreeRecord;
use arbor::tree::{ExecStatus, Tree};
use serde_json::{Map, Value, json};

fn sample(text: &str) -> Sample {
    Sample { text: text.to_owned(), tokens: 2, logprob_sum: -0.2, finish: Some("stop".into()) }
}

/// One MCTS iteration with λ = 0.5 and two rollouts, each answering 4 at once.
fn evaluated_tree() -> Tree {
    let policy = |need: &arbor::search::request::GenerateNeed| {
        let text = if need.role == ModelRole::Rollout {
            "<step>\n<p>\nFinal Answer: $4$\n</p>\n"
        } else {
            "<step>\n<p>\nAdd.\n</p>\n<code>\n```python\nprint(2 + 2)\n```"
        };
        Generated { samples: vec![sample(text)], value: Some(0.25), elapsed_ms: 0.0 }
    };
    let exec = |_: &arbor::search::request::ExecuteNeed| Executed {
        observation: "4".into(),
        status: ExecStatus::Ok,
        elapsed_ms: 0.0,
    };
    let config = SearchConfig {
        iterations: 1,
        lambda: 0.5,
        rollouts: 2,
        is_sampling: true,
        ..SearchConfig::default()
    };
    let mut driver = Driver::new();
    driver.add(new_search(config, "2 + 2?", GroundTruth::One("4".into()), 0));
    driver.run(&mut Scripted::new(policy, exec, |_| Some(0.0)), &mut |_, _| {}).unwrap();
    driver.search(0).tree().clone()
}

fn record(tree: Tree) -> TreeRecord {
    let mut fields = Map::new();
    fields.insert("question".into(), json!("2 + 2?"));
    fields.insert("answer".into(), json!("4"));
    TreeRecord::new(fields, tree)
}

#[test]
fn evaluations_are_written_under_arbor_and_read_back() {
    let record = record(evaluated_tree());
    let mut line = Vec::new();
    record.encode(&mut line).unwrap();
    let value: Value = serde_json::from_slice(&line).unwrap();
    let evaluation = &value["arbor"]["nodes"]["0"]["evaluation"];
    assert_eq!(evaluation["value"], json!(0.25));
    assert_eq!(evaluation["lambda"], json!(0.5));
    assert_eq!(evaluation["estimate"], json!(0.5 * 0.25 + 0.5 * 1.0));
    assert_eq!(
        evaluation["rollouts"],
        json!([{"outcome": 1.0, "steps": 1, "end": "final_answer", "final_answer": "4"},
               {"outcome": 1.0, "steps": 1, "end": "final_answer", "final_answer": "4"}])
    );
    assert!(evaluation.get("prm").is_none(), "absent critics are left out");
    // The reference's readers see the mixed estimate as the root's value.
    assert_eq!(value["react"]["0"]["value"], json!(0.625));

    let decoded = TreeRecord::decode(&line[..line.len() - 1]).unwrap();
    assert!(decoded.warnings.is_empty(), "{:?}", decoded.warnings);
    let (a, b) = (&decoded.record.tree, &record.tree);
    assert_eq!(a.len(), b.len());
    for id in a.ids() {
        assert_eq!(a.node(id).info(), b.node(id).info());
        assert_eq!(a.node(id).stats(), b.node(id).stats());
    }
    let mut again = Vec::new();
    decoded.record.encode(&mut again).unwrap();
    assert_eq!(String::from_utf8(again).unwrap(), String::from_utf8(line).unwrap());
}

#[test]
fn an_unknown_key_inside_an_evaluation_keeps_arbor_raw() {
    let mut line = Vec::new();
    record(evaluated_tree()).encode(&mut line).unwrap();
    let mut value: Value = serde_json::from_slice(&line).unwrap();
    value["arbor"]["nodes"]["0"]["evaluation"]["surprise"] = json!(1);
    let text = serde_json::to_vec(&value).unwrap();
    let decoded = TreeRecord::decode(&text).unwrap();
    assert_eq!(decoded.warnings.len(), 1, "{:?}", decoded.warnings);
    assert!(decoded.record.arbor_raw.is_some());
    assert!(decoded.record.tree.node(arbor::tree::NodeId::ROOT).info().evaluation.is_none());
}
