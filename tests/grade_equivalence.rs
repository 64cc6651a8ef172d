//! Agreement with the six graders' test corpora in `equivalence/`.
//!
//! The graders disagree with each other on purpose (percent vs plain number, list order, units,
//! rounding); MARIO_EVAL is arbor's policy. Two figures per corpus:
//! - label agreement: arbor's default verdict (Super_MARIO's `math_is_equiv`; free text first
//!   goes through [`grade::extract_loose`]) against the corpus's expected verdict;
//! - reference agreement: arbor's bare `is_equiv` against MARIO_EVAL's own verdict on the same
//!   raw strings, recorded below from a run of the reference (MARIO_EVAL@13584f20, SymPy 1.14).
//!
//! Floors are set at the level reached, so a regression fails. GRADER.md has the table.

use std::collections::BTreeMap;
use std::path::Path;

use arbor::grade::{self, Options};
use serde_json::Value;

/// MARIO_EVAL's `is_equiv(gold, pred)` on the raw strings of `_all.jsonl`-ordered corpora
/// (mario_eval, hendrycks_math, qwen25_math, nemo_skills, math-verify, lighteval), one digit per row.
const REFERENCE_VERDICTS: &str = "1111111111111101011111111111111100111100111111111111111001111110101101111111101111111110010000101111111111111111000011001111111111111111111100111100000000001111100011111000000111100000000000001111111101010001100000010000000000000000000000000001000000001110101001010000111100000000001111111010000000000000000000000000000000000000000000000000000010000000000000000000000000000001000001010010000000000000001000000001010011010001111111000000000000000000000000000000001001001111100011111000001111000000000000011111111010100100000000000000000000000000010000000011101010010100000001111111010000000000000000000000000000000000000000000000000000000000000000000010000000000011111";

const CORPORA: [&str; 6] =
    ["mario_eval", "hendrycks_math", "qwen25_math", "nemo_skills", "math-verify", "lighteval"];

/// (corpus, minimum label agreement, minimum reference agreement), as fractions of rows.
const FLOORS: [(&str, f64, f64); 6] = [
    ("mario_eval", 1.0, 1.0),
    ("hendrycks_math", 0.87, 1.0),
    ("qwen25_math", 0.82, 0.94),
    ("nemo_skills", 0.83, 1.0),
    ("math-verify", 0.67, 0.99),
    ("lighteval", 0.63, 1.0),
];

fn label_verdict(row: &Value) -> bool {
    let gold = row["gold"].as_str().unwrap_or("");
    let pred = row["pred"].as_str().unwrap_or("");
    let fun = row["config"]["api"].as_str().unwrap_or("");
    if let Some(alts) = row["config"]["gold_alternatives"].as_array() {
        let golds: Vec<String> = alts.iter().filter_map(|g| g.as_str().map(String::from)).collect();
        return grade::is_equiv_any(&golds, pred);
    }
    if fun.starts_with("is_equiv") || fun.starts_with("math_equal") || fun.starts_with("are_equal") {
        return grade::is_equiv(gold, pred);
    }
    grade::is_equiv(&grade::extract_loose(gold), &grade::extract_loose(pred))
}

#[test]
fn agreement_per_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/equivalence");
    if !dir.join("mario_eval.jsonl").exists() {
        eprintln!("skipping: {} is absent", dir.display());
        return;
    }
    let bits: Vec<bool> = REFERENCE_VERDICTS.bytes().map(|b| b == b'1').collect();
    let mut k = 0;
    let mut table = BTreeMap::new();
    let mut report =
        String::from("| corpus | rows | label agreement | MARIO_EVAL agreement |\n|---|---|---|---|\n");
    for corpus in CORPORA {
        let text = std::fs::read_to_string(dir.join(format!("{corpus}.jsonl"))).expect("readable corpus");
        let (mut n, mut label_ok, mut ref_ok) = (0usize, 0usize, 0usize);
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let row: Value = serde_json::from_str(line).expect("valid JSON line");
            let expected = row["equal"].as_bool().expect("equal is a bool");
            let got = label_verdict(&row);
            label_ok += usize::from(got == expected);
            let gold = row["gold"].as_str().unwrap_or("");
            let pred = row["pred"].as_str().unwrap_or("");
            let bare =
                grade::judge_with(gold, pred, Options { strip_dollars: false, ..Options::default() }).equal;
            if bare != bits[k] {
                eprintln!("{corpus}: reference says {} for {gold:?} vs {pred:?}", bits[k]);
            }
            ref_ok += usize::from(bare == bits[k]);
            n += 1;
            k += 1;
        }
        report.push_str(&format!(
            "| {corpus} | {n} | {label_ok}/{n} ({:.1}%) | {ref_ok}/{n} ({:.1}%) |\n",
            100.0 * label_ok as f64 / n as f64,
            100.0 * ref_ok as f64 / n as f64
        ));
        table.insert(corpus, (n, label_ok, ref_ok));
    }
    assert_eq!(k, bits.len(), "corpus sizes changed; re-record the reference verdicts");
    eprintln!("{report}");
    for (corpus, label_floor, ref_floor) in FLOORS {
        let (n, label_ok, ref_ok) = table[corpus];
        let (label, reference) = (label_ok as f64 / n as f64, ref_ok as f64 / n as f64);
        assert!(label >= label_floor, "{corpus}: label agreement {label:.3} fell below {label_floor}");
        assert!(
            reference >= ref_floor,
            "{corpus}: MARIO_EVAL agreement {reference:.3} fell below {ref_floor}"
        );
    }
}
