//! Every dataset in ../shared/data/datasets loads without conversion, with the row counts of
//! ../shared/data/README.md and the ground truths the datasets' own answer fields agree with.

#![allow(clippy::unwrap_used)] // tests unwrap what they built themselves

mod common;

use arbor::problems::{self, AnswerSource, GroundTruth};
use common::shared_data;

/// (file, rows, where the ground truth comes from)
const DATASETS: [(&str, usize, AnswerSource); 13] = [
    ("gsm8k/train.jsonl", 7473, AnswerSource::Gsm8kMarker),
    ("gsm8k/test.jsonl", 1319, AnswerSource::Gsm8kMarker),
    ("gsm8k/train.final.jsonl", 7473, AnswerSource::Gsm8kMarker),
    ("gsm8k/test.final.jsonl", 1319, AnswerSource::Gsm8kMarker),
    ("gsm8k/test_socratic.jsonl", 1319, AnswerSource::Gsm8kMarker),
    ("gsm8k/example_model_solutions.jsonl", 1319, AnswerSource::Gsm8kMarker),
    ("math/test_5000.jsonl", 5000, AnswerSource::Boxed),
    ("math500/prm800k_math_splits_test.jsonl", 500, AnswerSource::Plain),
    ("mario_eval/math_testset_annotation.json", 5000, AnswerSource::Plain),
    ("mario_eval/math_testset_annotation.jsonl", 5000, AnswerSource::Plain),
    ("ood/gaokao2023en.jsonl", 385, AnswerSource::Plain),
    ("ood/ocw_courses_minerva.jsonl", 272, AnswerSource::Plain),
    // The tree files' records are problems too.
    ("../super_mario/golden_tree_mcts_test.jsonl", 1, AnswerSource::Plain),
];

#[test]
fn every_dataset_loads_with_its_row_count() {
    for (rel, rows, source) in DATASETS {
        let Some(path) = shared_data(&format!("datasets/{rel}")) else { return };
        let set = problems::load(&path).unwrap();
        assert!(set.diagnostics.is_empty(), "{rel}: {:?}", set.diagnostics.first());
        assert_eq!(set.problems.len(), rows, "{rel}");
        for p in &set.problems {
            assert!(!p.question.trim().is_empty(), "{rel} {}: empty question", p.id);
            assert!(p.ground_truth.is_known(), "{rel} {}: no ground truth", p.id);
            assert_eq!(p.answer_source, source, "{rel} {}", p.id);
            assert!(!p.record.contains_key("react"));
        }
    }
}

#[test]
fn gsm8k_marker_agrees_with_the_final_answer_field() {
    for rel in ["gsm8k/train.final.jsonl", "gsm8k/test.final.jsonl"] {
        let Some(path) = shared_data(&format!("datasets/{rel}")) else { return };
        for p in problems::load(&path).unwrap().problems {
            let want = p.record["final_answer_raw"].as_str().unwrap();
            assert_eq!(p.ground_truth, GroundTruth::One(want.to_owned()), "{rel} {}", p.id);
        }
    }
}

#[test]
fn math_boxed_agrees_with_answer_boxed() {
    let Some(path) = shared_data("datasets/math/test_5000.jsonl") else { return };
    let set = problems::load(&path).unwrap();
    for p in &set.problems {
        let want = p.record["answer_boxed"].as_str().unwrap();
        assert_eq!(p.ground_truth, GroundTruth::One(want.to_owned()), "MATH {}", p.id);
    }
    assert_eq!(
        set.problems[0].labels(),
        vec![("level", "Level 3".to_owned()), ("type", "Algebra".to_owned())]
    );
}

#[test]
fn mario_list_answers_accept_any_element() {
    let Some(json) = shared_data("datasets/mario_eval/math_testset_annotation.json") else { return };
    let jsonl = shared_data("datasets/mario_eval/math_testset_annotation.jsonl").unwrap();
    let a = problems::load(json).unwrap().problems;
    let b = problems::load(jsonl).unwrap().problems;
    let lists: Vec<_> = a.iter().filter(|p| matches!(p.ground_truth, GroundTruth::AnyOf(_))).collect();
    assert_eq!(lists.len(), 4, "README: four list answers");
    assert!(lists.iter().all(|p| p.ground_truth.accepted().len() >= 2));
    // The .json and .jsonl forms are the same problems.
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!((&x.id, &x.question, &x.ground_truth), (&y.id, &y.question, &y.ground_truth));
    }
    assert_eq!(a[0].id, "1");
    assert_eq!(a[0].labels(), vec![("human_type", "Real".to_owned())]);
}

#[test]
fn example_wrapper_and_bad_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.json");
    std::fs::write(
        &path,
        r#"{"example": [{"question": "1+1", "answer": 2}, {"problem": "x", "solution": "so \\boxed{3}."}]}"#,
    )
    .unwrap();
    let set = problems::load(&path).unwrap();
    assert_eq!(set.problems.len(), 2);
    assert_eq!(set.problems[0].ground_truth, GroundTruth::One("2".into()));
    assert_eq!(set.problems[1].ground_truth, GroundTruth::One("3".into()));

    let path = dir.path().join("p.jsonl");
    std::fs::write(
        &path,
        "{\"question\": \"ok\"}\n{\"answer\": \"1\"}\n{\"question\": 5}\nnot json\n\n{\"question\": \"cut",
    )
    .unwrap();
    let set = problems::load(&path).unwrap();
    assert_eq!(set.problems.len(), 1);
    assert_eq!(set.problems[0].ground_truth, GroundTruth::Unknown);
    let messages: Vec<String> = set.diagnostics.iter().map(ToString::to_string).collect();
    let p = path.display();
    assert_eq!(messages.len(), 4, "{messages:?}");
    assert!(
        messages[0].starts_with(&format!("{p}:2: error: no 'question' or 'problem' key")),
        "{messages:?}"
    );
    assert!(messages[1].starts_with(&format!("{p}:3: error: the question must be a string")), "{messages:?}");
    assert!(messages[2].starts_with(&format!("{p}:4: error: not valid JSON")), "{messages:?}");
    assert!(messages[3].starts_with(&format!("{p}:6: error: the last line is incomplete")), "{messages:?}");

    let path = dir.path().join("bad.json");
    std::fs::write(&path, "{\"examples\": []}").unwrap();
    let err = problems::load(&path).unwrap_err().to_string();
    assert!(err.contains("expected a list of problems or an object with an \"example\" list"), "{err}");
    std::fs::write(&path, "[{\"question\": \"a\"},\n {\"question\": }]").unwrap();
    let err = problems::load(&path).unwrap_err().to_string();
    assert!(err.contains("bad.json:2:"), "{err}");
}

/// The datasets shipped in assets/ (the picker's defaults) load on their own, without
/// ../shared, each problem with a question and a ground truth.
#[test]
fn shipped_datasets_load() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/datasets");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.ends_with(".jsonl") || name.ends_with(".json")) {
            continue;
        }
        let set = problems::load(&path).unwrap();
        assert!(set.diagnostics.is_empty(), "{name}: {:?}", set.diagnostics.first());
        let want = match name.as_str() {
            "gsm8k_test.jsonl" => Some(1319),
            "math500_test.jsonl" => Some(500),
            _ => None,
        };
        if let Some(rows) = want {
            assert_eq!(set.problems.len(), rows, "{name}");
        }
        assert!(!set.problems.is_empty(), "{name}");
        for p in &set.problems {
            assert!(p.ground_truth.is_known(), "{name} {}: no ground truth", p.id);
        }
        seen += 1;
    }
    assert!(seen >= 2, "assets/datasets should ship GSM8K and MATH-500 test sets");
}
