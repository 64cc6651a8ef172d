//! `arbor train round`: an MCTS tree collected with the shipped model and ground-truth rewards
//! becomes training paths (Q targets, ±1 outcomes, policy on right paths only), and a short
//! training run on them writes a checkpoint the model backend loads with its value head.

#![allow(clippy::unwrap_used)] // tests unwrap what they built themselves

use std::process::Command;

use arbor::train::data::Example;
use arbor::train::synth::{self, Split};

const SHIPPED_MODEL: &str = "assets/model/synth";

#[test]
fn a_collected_tree_trains_a_round_that_the_backend_loads() {
    let dir = tempfile::tempdir().unwrap();
    let problems = dir.path().join("problems.jsonl");
    let text: String = (0..2)
        .map(|i| {
            format!("{}\n", serde_json::Value::Object(synth::problem(7, Split::Train, 500_000 + i).record()))
        })
        .collect();
    std::fs::write(&problems, text).unwrap();
    let trees = dir.path().join("trees.jsonl");
    let collect = Command::new(env!("CARGO_BIN_EXE_arbor"))
        .args(["collect", "--config", "mcts_round", "--model", SHIPPED_MODEL, "--set", "iterations=8"])
        .args(["--data", problems.to_str().unwrap(), "--out", trees.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(collect.status.success(), "{}", String::from_utf8_lossy(&collect.stderr));

    // A round of `steps` steps from the shipped model into `out`, with more options.
    let train_round_for = |steps: &str, out: &std::path::Path, more: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_arbor"))
            .args(["train", "round", "--trees", trees.to_str().unwrap(), "--model", SHIPPED_MODEL])
            .args(["--out", out.to_str().unwrap(), "--steps", steps, "--batch-size", "4"])
            .args(["--valid-every", "2", "--checkpoint-every", "2"])
            .args(more)
            .output()
            .unwrap()
    };
    let train_round = |out: &std::path::Path, more: &[&str]| train_round_for("2", out, more);
    let out = dir.path().join("round");
    let round =
        |max_correct: &str| train_round(&out, &["--max-incorrect", "2", "--max-correct", max_correct]);
    let train = round("2");
    let stderr = String::from_utf8_lossy(&train.stderr);
    assert!(train.status.success(), "{stderr}");
    assert!(stderr.contains("2 trees:"), "{stderr}");

    // The paths: every step valued, the last exactly ±1, the policy trained on right ones only.
    let cache = std::fs::read_to_string(out.join("round_examples.jsonl")).unwrap();
    let examples: Vec<Example> = cache.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!examples.is_empty());
    for ex in &examples {
        assert!(ex.root_value.is_none());
        let values: Vec<f32> = ex.steps.iter().map(|s| s.value.unwrap()).collect();
        assert!(values.iter().all(|v| (-1.0..=1.0).contains(v)), "{values:?}");
        let last = *values.last().unwrap();
        assert_eq!(last, if ex.policy { 1.0 } else { -1.0 });
        // Code steps keep the model's text apart from the interpreter's.
        for s in &ex.steps {
            assert!(!s.generated.contains("<output>"), "{:?}", s.generated);
            assert_eq!(s.observed.is_empty(), !s.generated.ends_with("</code>"), "{s:?}");
        }
    }
    for q in examples.iter().map(|e| &e.question) {
        let n = |right: bool| examples.iter().filter(|e| &e.question == q && e.policy == right).count();
        assert!(n(true) <= 2 && n(false) <= 2);
    }

    let model = arbor::model::CandleModel::load(&out, arbor::model::ModelOptions::default()).unwrap();
    assert!(model.has_value_head());

    // Interrupted before its first checkpoint, a run resumes on its cached paths, and a run
    // asking for other paths in the same folder is refused rather than fed the old ones.
    for f in ["config.json", "model.safetensors"] {
        std::fs::remove_file(out.join(f)).unwrap();
    }
    std::fs::remove_dir_all(out.join("train_state")).unwrap();
    let other = round("1");
    let stderr = String::from_utf8_lossy(&other.stderr);
    assert!(!other.status.success());
    assert!(
        stderr.contains("round_examples.jsonl was built for") && stderr.contains("use a new --out"),
        "{stderr}"
    );
    let again = round("2");
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert!(!stderr.contains("trees:"), "the cached paths were not reused: {stderr}");

    // `--steps` beyond a finished run's schedule extends it (a warm restart), as in `train policy`.
    let step_of = || {
        let state = std::fs::read_to_string(out.join("train_state/state.json")).unwrap();
        serde_json::from_str::<serde_json::Value>(&state).unwrap()["step"].as_u64()
    };
    assert_eq!(step_of(), Some(2));
    let longer = train_round_for("3", &out, &["--max-incorrect", "2", "--max-correct", "2"]);
    let stderr = String::from_utf8_lossy(&longer.stderr);
    assert!(longer.status.success(), "{stderr}");
    assert!(stderr.contains("extending the schedule from 2 to 3 steps"), "{stderr}");
    assert_eq!(step_of(), Some(3));

    // `--value-only`: a separate value model. Nothing trains the policy: the output projection
    // is left exactly as it was, while the value head moves.
    let value_out = dir.path().join("value_only");
    let train = train_round(&value_out, &["--value-only"]);
    assert!(train.status.success(), "{}", String::from_utf8_lossy(&train.stderr));
    let log = std::fs::read_to_string(value_out.join("train_log.jsonl")).unwrap();
    let steps: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["step"].is_u64() && v["value_loss"].is_f64())
        .collect();
    assert!(!steps.is_empty(), "{log}");
    for s in &steps {
        assert_eq!(s["policy_loss"].as_f64(), Some(0.0), "{s}");
        assert!(s["value_loss"].as_f64().unwrap() > 0.0, "{s}");
    }
    let load = |dir: &std::path::Path| {
        candle_core::safetensors::load(dir.join("model.safetensors"), &candle_core::Device::Cpu).unwrap()
    };
    let (before, after) = (load(std::path::Path::new(SHIPPED_MODEL)), load(&value_out));
    let same = |name: &str| {
        let diff = (&before[name] - &after[name]).unwrap().abs().unwrap();
        diff.flatten_all().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap() == 0.0
    };
    assert!(same("lm_head.weight"), "the policy's output projection changed");
    assert!(!same("v_head.summary.weight"), "the value head did not train");

    // Example files alone (no trees) train a round; with neither there is nothing to train.
    let cached = out.join("round_examples.jsonl");
    let examples_only = |more: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_arbor"))
            .args(["train", "round", "--model", SHIPPED_MODEL, "--steps", "1", "--batch-size", "4"])
            .args(["--out", dir.path().join("examples_only").to_str().unwrap()])
            .args(more)
            .output()
            .unwrap()
    };
    let train = examples_only(&["--examples", cached.to_str().unwrap(), "--value-only"]);
    let stderr = String::from_utf8_lossy(&train.stderr);
    assert!(train.status.success(), "{stderr}");
    assert!(stderr.contains(&format!("{}: {} examples", cached.display(), examples.len())), "{stderr}");
    let neither = examples_only(&[]);
    assert!(!neither.status.success());
    assert!(String::from_utf8_lossy(&neither.stderr).contains("--trees"));
}
