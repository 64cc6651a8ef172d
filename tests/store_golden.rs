//! The reference's golden trees read and written back: byte-identical lines, the same parsed
//! JSON, and the structure the reference's tree classes built.

#![allow(clippy::unwrap_used)] // tests unwrap what they built themselves

mod common;

use arbor::store::{TreeFile, TreeRecord};
use arbor::tree::{NodeId, TerminalReason};
use common::{GOLDEN_TREES, shared_data};

#[test]
fn golden_trees_round_trip_byte_for_byte() {
    for name in GOLDEN_TREES {
        let Some(path) = shared_data(&format!("super_mario/{name}")) else { return };
        let original = std::fs::read(&path).unwrap();
        let file = TreeFile::open(&path).unwrap();
        assert_eq!(file.len(), 1, "{name}");
        let loaded = file.load(0).unwrap().unwrap();
        assert!(loaded.warnings.is_empty(), "{name}: {:?}", loaded.warnings);
        let mut written = Vec::new();
        loaded.record.encode(&mut written).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&written),
            String::from_utf8_lossy(&original),
            "{name}: written bytes differ from the reference's"
        );
        let a: serde_json::Value = serde_json::from_slice(&original).unwrap();
        let b: serde_json::Value = serde_json::from_slice(&written).unwrap();
        assert_eq!(a, b, "{name}: parsed values differ");
    }
}

#[test]
fn golden_mcts_tree_structure_and_sentinels() {
    let Some(path) = shared_data("super_mario/golden_tree_mcts_test.jsonl") else { return };
    let loaded = TreeFile::open(&path).unwrap().load(0).unwrap().unwrap();
    let record = &loaded.record;
    let tree = &record.tree;
    assert_eq!(record.question(), "What is $2+3$ times $4$?");
    assert_eq!(record.answer(), Some(&serde_json::json!("20")));
    assert_eq!(tree.len(), 11);
    let root = tree.node(NodeId::ROOT);
    assert_eq!(root.stats().visit_count, 8);
    assert_eq!(root.stats().q_value, 0.33375);
    assert_eq!(root.step().extra_info, "question: What is $2+3$ times $4$?");
    let n03 = tree.node(tree.find("0.3").unwrap());
    assert_eq!(n03.stats().q_value, 0.49000000000000005);
    assert_eq!(n03.children().len(), 5);
    let n00 = tree.node(tree.find("0.0").unwrap());
    assert_eq!(n00.stats().value, None, "the int -100 is the unset sentinel");
    assert!(n00.form().ints.q_value, "an unvisited q_value is the int 0");
    assert!(n00.is_code());
    let n02 = tree.node(tree.find("0.2").unwrap());
    assert_eq!(n02.terminal(), Some(TerminalReason::FinalAnswer));
    assert!(n02.is_valid_final_answer());
    assert_eq!(
        tree.path_text(tree.find("0.3.0").unwrap(), "\n"),
        format!("{}\n{}", n03.step().text, tree.node(tree.find("0.3.0").unwrap()).step().text)
    );
}

#[test]
fn golden_sbs_tree_keeps_solutions_and_omits_mcts_keys() {
    let Some(path) = shared_data("super_mario/golden_tree_sbs_b1_2_b2_5.jsonl") else { return };
    let loaded = TreeFile::open(&path).unwrap().load(0).unwrap().unwrap();
    let record = &loaded.record;
    let solutions = record.solutions.as_ref().expect("beam trees have solutions");
    assert_eq!(solutions.len(), 2);
    assert_eq!(solutions[0].tag, "0.1");
    assert_eq!(solutions[1].tag, "0.2.1");
    assert_eq!(solutions[0].ground_truth, serde_json::Value::Null);
    let root = record.tree.node(NodeId::ROOT);
    assert!(root.form().keys.value && !root.form().keys.q_value && !root.form().keys.visit_count);
    // The solution text is the path text joined with the react_sft delimiter.
    let id = record.tree.find("0.2.1").unwrap();
    assert_eq!(record.tree.path_text(id, "\n"), solutions[1].solution);
}

#[test]
fn arbor_extension_round_trips_and_stays_out_of_react() {
    let Some(path) = shared_data("super_mario/golden_tree_mcts_test.jsonl") else { return };
    let loaded = TreeFile::open(&path).unwrap().load(0).unwrap().unwrap();
    let mut record = loaded.record;
    let id = record.tree.find("0.1").unwrap();
    record
        .tree
        .apply(&arbor::tree::TreeEvent::Executed {
            node: id,
            execution: arbor::tree::Execution {
                observation: "NameError: name 't' is not defined".into(),
                status: arbor::tree::ExecStatus::Error,
                elapsed_ms: 4.5,
            },
            text: record.tree.node(id).step().text.clone(),
        })
        .unwrap();
    record
        .tree
        .apply(&arbor::tree::TreeEvent::Graded { node: record.tree.find("0.4").unwrap(), correct: true })
        .unwrap();
    record.run.insert("algorithm".into(), serde_json::json!("mcts"));
    let mut line = Vec::new();
    record.encode(&mut line).unwrap();
    let value: serde_json::Value = serde_json::from_slice(&line).unwrap();
    // The reference's readers see the same react as before.
    let original: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(value["react"], original["react"]);
    assert_eq!(value["arbor"]["schema_version"], 1);
    assert_eq!(value["arbor"]["nodes"]["0.1"]["execution"]["status"], "error");
    assert_eq!(value["arbor"]["nodes"]["0.4"]["correct"], true);
    let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["index", "question", "answer", "human_type", "react", "arbor"]);
    // And it reads back into the same tree.
    let decoded = TreeRecord::decode(&line[..line.len() - 1]).unwrap();
    assert!(decoded.warnings.is_empty(), "{:?}", decoded.warnings);
    assert_eq!(decoded.record, record);
}
