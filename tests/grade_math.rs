//! MATH test set (`datasets/math/test_5000.jsonl`): every hand-corrected MARIO answer is
//! equivalent to itself (after the normaliser has had its way with it), and the MARIO answers
//! agree with the last-boxed answers wherever the strings agree, plus the recorded verdicts of the
//! reference on the 13 problems where they differ.

use std::path::Path;

use arbor::grade;
use serde_json::Value;

fn rows() -> Option<Vec<Value>> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/datasets/math/test_5000.jsonl");
    let Ok(text) = std::fs::read_to_string(&p) else {
        eprintln!("skipping: {} is absent", p.display());
        return None;
    };
    Some(
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("valid JSON"))
            .collect(),
    )
}

fn golds(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(xs) => xs.iter().filter_map(|x| x.as_str().map(String::from)).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn every_mario_answer_is_equivalent_to_itself() {
    let Some(rows) = rows() else { return };
    assert_eq!(rows.len(), 5000);
    let mut failures = Vec::new();
    for r in &rows {
        for g in golds(&r["answer_mario"]) {
            let v = grade::judge(&g, &g);
            if !v.equal {
                failures.push(format!("{}: {g:?} ({v})", r["idx"]));
            }
            // A copy with different spacing must not short-circuit on string equality.
            let spaced = format!(" {g} ");
            assert!(grade::is_equiv(&g, &spaced), "{g:?} vs {spaced:?}");
        }
    }
    assert!(
        failures.is_empty(),
        "{} answers not equivalent to themselves:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The reference's verdicts for the 13 problems whose MARIO answer differs from the last box
/// (`is_equiv(answer_mario, answer_boxed)`, list answers: any element), in file order.
const DIFFERING_REFERENCE: [bool; 13] =
    [true, false, false, false, false, false, true, true, true, false, false, false, false];

#[test]
fn mario_answers_against_boxed_answers() {
    let Some(rows) = rows() else { return };
    let mut differing = Vec::new();
    for r in &rows {
        let boxed = r["answer_boxed"].as_str().expect("answer_boxed");
        let gold = golds(&r["answer_mario"]);
        let same = matches!(&r["answer_mario"], Value::String(s) if s == boxed);
        let v = grade::judge_any(&gold, boxed);
        if same {
            assert!(v.equal, "{}: {boxed:?}", r["idx"]);
        } else {
            differing.push((r["idx"].clone(), v.equal));
        }
    }
    assert_eq!(differing.len(), DIFFERING_REFERENCE.len());
    for ((idx, got), want) in differing.iter().zip(DIFFERING_REFERENCE) {
        assert_eq!(*got, want, "problem {idx}");
    }
}

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn grading_on_threads_matches_sequential() {
    assert_send_sync::<grade::Verdict>();
    assert_send_sync::<grade::Normalized>();
    assert_send_sync::<grade::Math>();
    let Some(rows) = rows() else { return };
    // Each MARIO answer against the next problem's answer: every pass of the pipeline runs.
    let pairs: Vec<(Vec<String>, String)> = rows
        .iter()
        .zip(rows.iter().cycle().skip(1))
        .take(600)
        .map(|(r, next)| (golds(&r["answer_mario"]), next["answer_boxed"].as_str().unwrap_or("").to_string()))
        .collect();
    let sequential: Vec<bool> = pairs.iter().map(|(g, p)| grade::is_equiv_any(g, p)).collect();
    let parallel: Vec<bool> = std::thread::scope(|s| {
        let handles: Vec<_> = pairs
            .chunks(150)
            .map(|chunk| {
                s.spawn(move || chunk.iter().map(|(g, p)| grade::is_equiv_any(g, p)).collect::<Vec<_>>())
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("grading thread")).collect()
    });
    assert_eq!(sequential, parallel);
    assert!(sequential.iter().any(|&e| e) && sequential.iter().any(|&e| !e));
}
