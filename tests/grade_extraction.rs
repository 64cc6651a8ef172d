//! Answer extraction: the GSM8K example solutions (5,276 labelled completions ending in
//! `A: <n>`), Math-Verify's extraction cases, and the formats arbor reads.

use std::path::Path;

use arbor::grade;
use serde_json::Value;

#[test]
fn gsm8k_example_solutions_reproduce_their_labels() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/extraction/gsm8k_example_model_solutions.jsonl");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipping: {} is absent", path.display());
        return;
    };
    let (mut n, mut agree, mut extracted) = (0, 0, 0);
    let mut disagreements = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let row: Value = serde_json::from_str(line).expect("valid JSON");
        let gold = row["gold"].as_str().expect("gold");
        let label = row["equal"].as_bool().expect("label");
        let answer = grade::extract_answer(row["pred"].as_str().expect("pred"));
        extracted += usize::from(answer.is_some());
        let got = answer.as_deref().is_some_and(|a| grade::is_equiv(gold, a));
        n += 1;
        if got == label {
            agree += 1;
        } else {
            disagreements.push(format!("{gold:?} vs {answer:?}: label {label}"));
        }
    }
    eprintln!("GSM8K example solutions: extracted {extracted}/{n}, verdict = label on {agree}/{n}");
    for d in disagreements.iter().take(20) {
        eprintln!("  {d}");
    }
    // A few completions were cut off before their answer line (all labelled incorrect).
    assert!(extracted as f64 >= 0.997 * n as f64, "{extracted}/{n}");
    // The labels are exact string matches; every one is reproduced.
    assert_eq!(agree, n, "verdicts differing from labels");
}

#[test]
fn math_verify_extraction_cases() {
    // Only the cases with arbor's priority (boxed before "final answer is") and default
    // normalisation apply; the others exercise Math-Verify options arbor does not have.
    assert_eq!(grade::extract_answer(r"\boxed{1}").as_deref(), Some("1"));
    assert_eq!(grade::extract_answer(r"final answer is $9999$, \boxed{1}").as_deref(), Some("1"));
    assert!(grade::is_equiv(r"\frac12", "1/2"));
}

#[test]
fn formats_arbor_reads() {
    let react = "<step>\n<p>\nSo the area is 12.\n</p>\n<p>\nFinal Answer: $12\\text{ cm}^2$\n</p>\n</step>";
    assert_eq!(grade::extract_answer(react).as_deref(), Some(r"12\text{ cm}^2"));
    assert!(grade::is_equiv("12", &grade::extract_answer(react).unwrap_or_default()));
    assert_eq!(
        grade::extract_answer(r"The answer is \boxed{\frac{\sqrt{3}}{2}}.").as_deref(),
        Some(r"\frac{\sqrt{3}}{2}")
    );
    assert_eq!(grade::extract_answer("Natalia sold 48+24 = 72 clips.\n#### 72").as_deref(), Some("72"));
    assert_eq!(grade::extract_answer("Therefore, the answer is 3/4.").as_deref(), Some("3/4"));
    assert_eq!(
        grade::extract_answer(r"nested \boxed{\frac{a}{b^{2}}} end").as_deref(),
        Some(r"\frac{a}{b^{2}}")
    );
    assert_eq!(grade::extract_answer("no answer here"), None);
}
