//! The expression parser against `latex_parse/`: parse rate on must-parse cases, every
//! must-fail case rejected, and numeric values where the expected value is a number.

use std::path::Path;

use arbor::grade;
use serde_json::Value;

struct Tally {
    must_parse: usize,
    parsed: usize,
    must_fail: usize,
    rejected: usize,
    numeric: usize,
    numeric_ok: usize,
    misparsed: Vec<String>,
    wrongly_accepted: Vec<String>,
    wrong_value: Vec<String>,
}

fn expected_number(row: &Value) -> Option<f64> {
    if let Some(v) = row["expected_numeric"].as_array() {
        let re = v.first()?.as_f64()?;
        let im = v.get(1)?.as_f64()?;
        return (im == 0.0 && re.is_finite()).then_some(re);
    }
    // latex2sympy2_extended gives SymPy's printed form: plain numbers and p/q only.
    let s = row["expected_sympy_str"].as_str()?.trim();
    if let Some((p, q)) = s.split_once('/') {
        let (p, q): (f64, f64) = (p.trim().parse().ok()?, q.trim().parse().ok()?);
        return Some(p / q);
    }
    s.parse().ok()
}

fn run(file: &str, t: &mut Tally) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/latex_parse").join(file);
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipping: {} is absent", path.display());
        return;
    };
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        // Python wrote bare `Infinity` / `NaN` for non-finite expected values; JSON has neither.
        let line = line.replace("-Infinity", "null").replace("Infinity", "null").replace("NaN", "null");
        let row: Value = serde_json::from_str(&line).expect("valid JSON line");
        let Some(parses) = row["parses"].as_bool() else { continue }; // normalisation rows
        let latex = row["latex"].as_str().expect("latex");
        let got = grade::parse(latex);
        if parses {
            t.must_parse += 1;
            match &got {
                Ok(m) => {
                    t.parsed += 1;
                    if let Some(want) = expected_number(&row) {
                        t.numeric += 1;
                        match grade::value(m) {
                            Some((re, im))
                                if im.abs() < 1e-9 && (re - want).abs() <= 1e-6 * want.abs().max(1.0) =>
                            {
                                t.numeric_ok += 1
                            }
                            other => t.wrong_value.push(format!("{latex:?}: want {want}, got {other:?}")),
                        }
                    }
                }
                Err(e) => t.misparsed.push(format!("{latex:?}: {e}")),
            }
        } else {
            t.must_fail += 1;
            match got {
                Err(_) => t.rejected += 1,
                Ok(m) => t.wrongly_accepted.push(format!("{latex:?} parsed as {m}")),
            }
        }
    }
}

#[test]
fn parse_rate_and_rejections() {
    let mut t = Tally {
        must_parse: 0,
        parsed: 0,
        must_fail: 0,
        rejected: 0,
        numeric: 0,
        numeric_ok: 0,
        misparsed: Vec::new(),
        wrongly_accepted: Vec::new(),
        wrong_value: Vec::new(),
    };
    run("mario_latex2sympy.jsonl", &mut t);
    run("latex2sympy2_extended.jsonl", &mut t);
    if t.must_parse == 0 {
        return;
    }
    let rate = t.parsed as f64 / t.must_parse as f64;
    eprintln!(
        "must-parse: {}/{} ({:.1}%); must-fail rejected: {}/{}; numeric values: {}/{}",
        t.parsed,
        t.must_parse,
        100.0 * rate,
        t.rejected,
        t.must_fail,
        t.numeric_ok,
        t.numeric
    );
    for m in t.misparsed.iter().chain(&t.wrong_value) {
        eprintln!("  {m}");
    }
    assert!(t.wrongly_accepted.is_empty(), "must-fail inputs accepted:\n{}", t.wrongly_accepted.join("\n"));
    assert!(rate >= 0.95, "parse rate {rate:.3} below 95%");
    assert!(
        t.numeric_ok as f64 >= 0.93 * t.numeric as f64,
        "numeric agreement {}/{}",
        t.numeric_ok,
        t.numeric
    );
}
