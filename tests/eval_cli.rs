//! `arbor eval` end to end on a real (random-weight, tiny) model with the real interpreter:
//! problems in, tree JSONL out that the reference's offline re-selection and `arbor score`
//! accept; resumable after an interrupted write.

#![allow(clippy::unwrap_used)] // tests unwrap what they built themselves

#[path = "support/tiny.rs"]
mod tiny;

use std::path::Path;
use std::process::Command;

use arbor::store::TreeFile;

fn arbor(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_arbor")).args(args).output().unwrap()
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn problems(dir: &Path) -> String {
    let path = dir.join("problems.jsonl");
    let lines = [
        r#"{"question": "Tom has 3 apples and buys 4 more. How many apples does he have?", "answer": "He has 3 + 4 = 7.\n#### 7"}"#,
        r#"{"question": "What is 6 times 7?", "answer": "42"}"#,
        r#"{"question": "What is 10 - 4?", "answer": "6"}"#,
    ];
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn eval_writes_trees_the_offline_selection_and_score_accept_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let (w, b) = tiny::head_weights(3);
    let model = tiny::write_hf(&dir.path().join("model"), "llama", 7, Some((&w, b, false)));
    let model = model.to_str().unwrap();
    let data = problems(dir.path());
    let out = dir.path().join("mcts.jsonl");
    let out_s = out.to_str().unwrap();
    let common =
        ["--model", model, "--set", "max_tokens=12", "--set", "iterations=3", "--set", "n_generate_sample=2"];
    let mut args = vec!["eval", "--data", &data, "--config", "mcts", "--out", out_s];
    args.extend_from_slice(&common);
    let log = ok(&arbor(&args));
    assert!(log.contains("3 searches"), "{log}");

    let file = TreeFile::open(&out).unwrap();
    assert_eq!(file.len(), 3);
    for i in 0..3 {
        let loaded = file.load(i).unwrap().unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        let record = loaded.record;
        assert_eq!(record.run["algorithm"], "mcts");
        assert_eq!(record.run["run"], 0);
        assert!(record.run["elapsed_s"].as_f64().unwrap() > 0.0);
        let root = record.tree.node(arbor::tree::NodeId::ROOT);
        assert!(root.stats().visit_count >= 1, "the root was expanded and backed up");
        assert!(root.stats().value.is_some(), "the value head scored the root");
        // Every node came from the model: generation facts recorded.
        for id in record.tree.ids().skip(1) {
            assert!(record.tree.node(id).info().generation.is_some());
        }
    }
    ok(&arbor(&["offline", "--trees", out_s, "--prune"]));
    let score = arbor(&["score", "--trees", out_s, "--json"]);
    ok(&score);
    let summary: serde_json::Value = serde_json::from_slice(&score.stdout).unwrap();
    assert_eq!(summary["trees"], 3);
    assert_eq!(summary["graded"], 3);
    assert!(summary["avg_seconds"].as_f64().is_some());

    // Resume: nothing left to do.
    let mut again = args.clone();
    again.push("--resume");
    assert!(ok(&arbor(&again)).contains("nothing to do"));
    // An interrupted write: the last tree cut in half is repaired and searched again.
    let bytes = std::fs::read(&out).unwrap();
    let last_start = bytes[..bytes.len() - 1].iter().rposition(|b| *b == b'\n').unwrap() + 1;
    std::fs::write(&out, &bytes[..last_start + (bytes.len() - last_start) / 2]).unwrap();
    let log = ok(&arbor(&again));
    assert!(log.contains("incomplete") && log.contains("1 searches"), "{log}");
    assert_eq!(TreeFile::open(&out).unwrap().load_all().unwrap().0.len(), 3);
    // Without --resume an existing file is never overwritten.
    let refused = arbor(&args);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("already exists"));
}

#[test]
fn beam_search_and_value_checks() {
    let dir = tempfile::tempdir().unwrap();
    let data = problems(dir.path());
    // A model without a value head cannot run the value-scored presets unless told.
    let bare = tiny::write_hf(&dir.path().join("bare"), "qwen2", 5, None);
    let out = dir.path().join("sbs.jsonl");
    let args = [
        "eval",
        "--data",
        &data,
        "--config",
        "sbs",
        "--set",
        "step_beam_width=2",
        "--set",
        "max_tokens=8",
        "--set",
        "max_depth=2",
        "--model",
        bare.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--limit",
        "2",
    ];
    let refused = arbor(&args);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("has no value head"));
    let mut with_flag = args.to_vec();
    with_flag.push("--no-value");
    ok(&arbor(&with_flag));
    let file = TreeFile::open(&out).unwrap();
    assert_eq!(file.len(), 2);
    let record = file.load(0).unwrap().unwrap().record;
    assert!(record.solutions.is_some(), "beam trees carry solutions");
    assert_eq!(record.tree.node(arbor::tree::NodeId::ROOT).children().len(), 10, "B1·B2 samples at the root");
    ok(&arbor(&[
        "offline",
        "--trees",
        out.to_str().unwrap(),
        "--strategy",
        "value",
        "--b1",
        "2",
        "--b2",
        "5",
    ]));
}

#[test]
fn rollouts_by_a_second_model() {
    let dir = tempfile::tempdir().unwrap();
    let (w, b) = tiny::head_weights(3);
    let model = tiny::write_hf(&dir.path().join("policy"), "llama", 7, Some((&w, b, false)));
    let fast = tiny::write_hf(&dir.path().join("fast"), "qwen2", 9, None);
    let data = problems(dir.path());
    let out = dir.path().join("lambda.jsonl");
    ok(&arbor(&[
        "eval",
        "--data",
        &data,
        "--limit",
        "1",
        "--config",
        "mcts",
        "--model",
        model.to_str().unwrap(),
        "--rollout-model",
        fast.to_str().unwrap(),
        "--set",
        "lambda=0.5",
        "--set",
        "rollouts=2",
        "--set",
        "rollout_max_steps=2",
        "--set",
        "iterations=2",
        "--set",
        "n_generate_sample=2",
        "--set",
        "max_tokens=8",
        "--out",
        out.to_str().unwrap(),
    ]));
    let record = TreeFile::open(&out).unwrap().load(0).unwrap().unwrap().record;
    let root = record.tree.node(arbor::tree::NodeId::ROOT);
    let evaluation = root.info().evaluation.as_ref().expect("the root's evaluation is recorded");
    assert_eq!(evaluation.rollouts.len(), 2, "{evaluation:?}");
    assert_eq!(evaluation.lambda, 0.5);
}
