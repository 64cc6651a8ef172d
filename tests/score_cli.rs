//! `arbor score`: the reference's choice of answer per tree kind, grading, maj@k over runs.

#![allow(clippy::unwrap_used)] // tests unwrap what they built themselves

mod common;

use std::process::Command;

use arbor::batch::score::{self, TreeKind};
use arbor::store::{TreeFile, TreeRecord};
use common::repo_file;

fn score_json(files: &[&std::path::Path]) -> serde_json::Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_arbor"));
    cmd.arg("score").arg("--json");
    for f in files {
        cmd.arg("--trees").arg(f);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn record(line: &str) -> TreeRecord {
    TreeRecord::decode(line.as_bytes()).unwrap().record
}

/// A greedy chain as the reference's REACT writes it: five state keys, no statistics.
const GREEDY: &str = r#"{"question": "Q", "answer": "Natalia sold 48/2 = 24 clips.\n#### 72", "react": {"0": {"text": "", "extra_info": "question: Q", "action": "", "action_input": "", "final_answer": ""}, "0.0": {"text": "a", "extra_info": "", "action": "python_interpreter", "action_input": "```python\nprint(72)\n```", "final_answer": ""}, "0.0.0": {"text": "b", "extra_info": "", "action": "", "action_input": "", "final_answer": "72"}}}"#;

#[test]
fn each_kind_picks_the_reference_answer() {
    let beam = TreeFile::open(repo_file("sample_trees/golden_tree_sbs_b1_2_b2_5.jsonl"))
        .unwrap()
        .load(0)
        .unwrap()
        .unwrap()
        .record;
    assert_eq!(TreeKind::of(&beam), TreeKind::Beam);
    let chosen = score::chosen_answer(&beam).unwrap();
    assert_eq!((chosen.answer.as_str(), chosen.steps), ("20", Some(1)), "solutions[0] is tag 0.1");

    let mcts = TreeFile::open(repo_file("sample_trees/golden_tree_mcts_train.jsonl"))
        .unwrap()
        .load(0)
        .unwrap()
        .unwrap()
        .record;
    assert_eq!(TreeKind::of(&mcts), TreeKind::Mcts);
    let chosen = score::chosen_answer(&mcts).unwrap();
    assert_eq!(chosen.answer, "20");
    assert_eq!(chosen.node.map(|n| mcts.tree.node(n).tag().to_owned()).as_deref(), Some("0.4"));

    let greedy = record(GREEDY);
    assert_eq!(TreeKind::of(&greedy), TreeKind::Greedy);
    let s = score::score_tree(1, &greedy);
    assert_eq!(s.chosen.as_ref().unwrap().answer, "72");
    assert_eq!(s.correct, Some(true), "the GSM8K #### answer is the ground truth");
}

#[test]
fn pruned_to_nothing_and_wrong_answers_count_as_wrong() {
    // An MCTS tree whose only answer is a failure string has nothing left after pruning.
    let failed = r#"{"question": "Q", "answer": "5", "react": {"0": {"text": "", "extra_info": "", "action": "", "action_input": "", "final_answer": "", "value": 0.1, "q_value": -1.0, "prior": 1.0, "visit_count": 1}, "0.0": {"text": "t", "extra_info": "", "action": "", "action_input": "", "final_answer": "Fail to sove the problem within limited steps.", "value": -1.0, "q_value": -1.0, "prior": 0.5, "visit_count": 1}}}"#;
    let s = score::score_tree(1, &record(failed));
    assert_eq!(s.chosen, None);
    assert_eq!(s.correct, Some(false));
    let wrong = GREEDY.replace(r#""final_answer": "72""#, r#""final_answer": "71""#);
    assert_eq!(score::score_tree(1, &record(&wrong)).correct, Some(false));
    let summary =
        score::summarize(&[score::score_tree(1, &record(failed)), score::score_tree(2, &record(GREEDY))]);
    assert_eq!((summary.correct, summary.graded), (1, 2));
    assert_eq!(summary.accuracy, Some(0.5));
}

#[test]
fn reachable_counts_a_right_answer_the_choice_passed_over() {
    // An MCTS tree whose best-Q answer is wrong while another leaf holds the right one.
    let passed_over = r#"{"question": "Q", "answer": "5", "react": {"0": {"text": "", "extra_info": "", "action": "", "action_input": "", "final_answer": "", "value": 0.1, "q_value": 0.0, "prior": 1.0, "visit_count": 2}, "0.0": {"text": "t", "extra_info": "", "action": "", "action_input": "", "final_answer": "4", "value": 0.9, "q_value": 0.9, "prior": 0.5, "visit_count": 1}, "0.1": {"text": "u", "extra_info": "", "action": "", "action_input": "", "final_answer": "5", "value": -0.2, "q_value": -0.2, "prior": 0.5, "visit_count": 1}}}"#;
    let s = score::score_tree(1, &record(passed_over));
    assert_eq!(s.chosen.as_ref().unwrap().answer, "4");
    assert_eq!((s.correct, s.reachable), (Some(false), Some(true)));
    let wrong = GREEDY.replace(r#""final_answer": "72""#, r#""final_answer": "71""#);
    let summary =
        score::summarize(&[s, score::score_tree(2, &record(GREEDY)), score::score_tree(3, &record(&wrong))]);
    assert_eq!((summary.correct, summary.reachable, summary.graded), (1, 2, 3));
    let no_truth = GREEDY.replace(r#""answer": "Natalia sold 48/2 = 24 clips.\n#### 72", "#, "");
    assert_eq!(score::score_tree(1, &record(&no_truth)).reachable, None);
}

#[test]
fn maj_at_k_over_runs_and_solutions() {
    let dir = tempfile::tempdir().unwrap();
    // Three runs of one question: 72, 71, 72 → the majority is right; accuracy is 2/3.
    let mut paths = Vec::new();
    for (i, answer) in ["72", "71", "72"].iter().enumerate() {
        let path = dir.path().join(format!("run{i}.jsonl"));
        std::fs::write(
            &path,
            format!(
                "{}\n",
                GREEDY.replace(r#""final_answer": "72""#, &format!(r#""final_answer": "{answer}""#))
            ),
        )
        .unwrap();
        paths.push(path);
    }
    let refs: Vec<&std::path::Path> = paths.iter().map(|p| p.as_path()).collect();
    let v = score_json(&refs);
    assert_eq!(v["trees"], 3);
    assert_eq!(v["correct"], 2);
    assert_eq!(v["maj"]["k_max"], 3);
    assert_eq!(v["maj"]["correct"], 1);
    assert_eq!(v["avg_steps"], 2.0);
    assert_eq!(v["avg_seconds"], serde_json::Value::Null, "the reference's files hold no timing");
    // A beam tree's two solutions vote too.
    let v = score_json(&[&repo_file("sample_trees/golden_tree_sbs_b1_2_b2_5.jsonl")]);
    assert_eq!(v["maj"]["k_max"], 2);
    assert_eq!(v["kinds"]["beam"], 1);
}

#[test]
fn text_report_and_tokens() {
    let out = Command::new(env!("CARGO_BIN_EXE_arbor"))
        .args(["score", "--per-problem", "--trees"])
        .arg(repo_file("sample_trees/large_mcts.jsonl"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("line     1  ✓  answer 331"), "{text}");
    assert!(text.contains("accuracy    100.00%  (1/1)"), "{text}");
    assert!(text.contains("reachable   100.00%  (1/1 with a right final answer anywhere"), "{text}");
    assert!(text.contains("avg tokens  38181.00"), "{text}");
}
