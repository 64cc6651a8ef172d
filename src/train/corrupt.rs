//! Corrupted copies of gold steps, for round 0's `corrupted` estimate.
//!
//! The bundled policy's wrong paths are rarely random: it restates a question's sentence with
//! a number miscopied (into the thought and the code alike, or into the code only), picks the
//! wrong operation, uses the wrong earlier result, or writes a final answer that is not its last
//! result. Sampling at a search's temperature seldom shows the value head such a slip next to
//! the right step, because the policy makes the same slip every time. These copies put each
//! kind of slip beside the gold step it spoils. A copy carries no verdict of its own: a code
//! step is run through the interpreter and valued by rollouts like any other state (so a slip
//! that does not matter, such as a distractor's number changed, is not taught as wrong), and a
//! final answer is graded.

use std::sync::LazyLock;

use regex::Regex;

use super::synth::GoldStep;
use crate::grade;
use crate::model::Rng;

static NUMBER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b\d+(?:\.\d+)?\b").expect("valid regex"));
static IDENT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b[a-z_][a-z0-9_]*\b").expect("valid regex"));
static OPERATOR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r" [-+*/] ").expect("valid regex"));

/// The kinds of slip, tried in turn so a step's copies differ in kind before they repeat one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slip {
    /// A number miscopied into the thought and the code.
    Number,
    /// A number miscopied into the code only.
    CodeNumber,
    /// An operator swapped.
    Operator,
    /// An earlier result swapped for another.
    Variable,
}

const CODE_SLIPS: [Slip; 4] = [Slip::Number, Slip::Operator, Slip::Variable, Slip::CodeNumber];

fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> Option<&'a T> {
    if items.is_empty() { None } else { items.get((rng.next_u64() % items.len() as u64) as usize) }
}

/// Replaces every whole-word `from` in `text` by `to`.
fn replace_word(text: &str, from: &str, to: &str) -> String {
    let re = Regex::new(&format!(r"\b{}\b", regex::escape(from))).expect("escaped literal");
    re.replace_all(text, regex::NoExpand(to)).into_owned()
}

/// Numbers a slip could put in place of `n`: the question's other numbers (what a miscopy
/// usually takes), and numbers near `n`.
fn wrong_numbers(n: &str, question: &str) -> Vec<String> {
    let mut out: Vec<String> =
        NUMBER.find_iter(question).map(|m| m.as_str().to_string()).filter(|m| m != n).collect();
    if let Ok(v) = n.parse::<i64>() {
        for near in [v - 2, v - 1, v + 1, v + 2, v * 2] {
            if near > 0 && near != v {
                out.push(near.to_string());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The variables the code steps before this one assigned.
fn earlier_variables(earlier: &[GoldStep]) -> Vec<String> {
    let mut vars: Vec<String> = earlier
        .iter()
        .filter_map(|s| match s {
            GoldStep::Code { code, .. } => code.split_once(" = ").map(|(v, _)| v.trim().to_string()),
            GoldStep::Final { .. } => None,
        })
        .collect();
    vars.sort();
    vars.dedup();
    vars
}

/// One slip of kind `slip` in a code step, if the step has something to slip on.
fn code_slip(
    slip: Slip,
    thought: &str,
    code: &str,
    question: &str,
    earlier: &[GoldStep],
    rng: &mut Rng,
) -> Option<(String, String)> {
    let (first, rest) = code.split_once('\n').unwrap_or((code, ""));
    let (target, expr) = first.split_once(" = ")?;
    let join = |expr: &str| {
        if rest.is_empty() { format!("{target} = {expr}") } else { format!("{target} = {expr}\n{rest}") }
    };
    match slip {
        Slip::Number | Slip::CodeNumber => {
            let numbers: Vec<&str> = NUMBER.find_iter(expr).map(|m| m.as_str()).collect();
            let n = *pick(rng, &numbers)?;
            let to = pick(rng, &wrong_numbers(n, question))?.clone();
            let thought =
                if slip == Slip::Number { replace_word(thought, n, &to) } else { thought.to_string() };
            Some((thought, join(&replace_word(expr, n, &to))))
        }
        Slip::Operator => {
            let ops: Vec<_> = OPERATOR.find_iter(expr).collect();
            let at = pick(rng, &ops)?;
            let op = at.as_str().trim();
            let swaps: &[&str] = match op {
                "+" => &["-", "*"],
                "-" => &["+"],
                "*" => &["/", "+"],
                _ => &["*"],
            };
            let to = pick(rng, swaps)?;
            let expr = format!("{} {to} {}", &expr[..at.start()], &expr[at.end()..]);
            Some((thought.to_string(), join(&expr)))
        }
        Slip::Variable => {
            let vars = earlier_variables(earlier);
            let used: Vec<&str> =
                IDENT.find_iter(expr).map(|m| m.as_str()).filter(|v| vars.iter().any(|x| x == v)).collect();
            let from = *pick(rng, &used)?;
            let others: Vec<&String> = vars.iter().filter(|v| v.as_str() != from).collect();
            let to = pick(rng, &others)?;
            Some((thought.to_string(), join(&replace_word(expr, from, to))))
        }
    }
}

/// A wrong final answer: a number of the question, an earlier result, or one near the right
/// answer, written consistently into the thought or only after `Final Answer:`.
fn final_slip(
    thought: &str,
    answer: &str,
    question: &str,
    earlier: &[GoldStep],
    rng: &mut Rng,
) -> Option<GoldStep> {
    let mut wrong = wrong_numbers(answer, question);
    for s in earlier {
        if let GoldStep::Code { output, .. } = s {
            wrong.push(output.trim().trim_end_matches(".0").to_string());
        }
    }
    wrong.retain(|w| !grade::is_equiv(answer, w));
    wrong.sort();
    wrong.dedup();
    let to = pick(rng, &wrong)?.clone();
    let thought = if rng.next_u64().is_multiple_of(2) {
        replace_word(thought, answer, &to)
    } else {
        thought.to_string()
    };
    Some(GoldStep::Final { thought, answer: to })
}

/// Up to `n` distinct corrupted copies of `step`, the gold step after `earlier` in a problem
/// with `question`. Code copies have an empty output: the caller runs them.
pub fn corrupt(
    step: &GoldStep,
    earlier: &[GoldStep],
    question: &str,
    n: usize,
    rng: &mut Rng,
) -> Vec<GoldStep> {
    let mut out: Vec<GoldStep> = Vec::new();
    // A few more tries than copies: a slip can be impossible for a step or repeat one.
    for attempt in 0..n * 4 {
        if out.len() >= n {
            break;
        }
        let copy = match step {
            GoldStep::Code { thought, code, .. } => {
                let slip = CODE_SLIPS[attempt % CODE_SLIPS.len()];
                code_slip(slip, thought, code, question, earlier, rng)
                    .filter(|(_, c)| c != code)
                    .map(|(thought, code)| GoldStep::Code { thought, code, output: String::new() })
            }
            GoldStep::Final { thought, answer } => final_slip(thought, answer, question, earlier, rng),
        };
        if let Some(copy) = copy.filter(|c| !out.contains(c)) {
            out.push(copy);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(thought: &str, code: &str) -> GoldStep {
        GoldStep::Code { thought: thought.into(), code: code.into(), output: String::new() }
    }

    const QUESTION: &str = "Ivan has 21 stickers. Emma has 7 fewer stickers than Ivan. Omar has twice as many \
                            stickers as Emma. How many stickers do they have altogether?";

    #[test]
    fn code_copies_differ_from_the_gold_step_and_from_each_other_in_the_ways_the_policy_slips() {
        let earlier = [
            code("Ivan has 21 stickers. Emma has 7 fewer stickers than Ivan.", "emma = 21 - 7\nprint(emma)"),
            code("Omar has 2 times as many as Emma.", "omar = emma * 2\nprint(omar)"),
        ];
        let gold = code(
            "Ivan has 21 stickers. How many stickers do they have altogether?",
            "total = 21 + emma + omar\nprint(total)",
        );
        let mut rng = Rng::new(3);
        let copies = corrupt(&gold, &earlier, QUESTION, 4, &mut rng);
        assert_eq!(copies.len(), 4);
        let mut kinds = (false, false, false);
        for c in &copies {
            let GoldStep::Code { thought, code, output } = c else { panic!("a code step stays a code step") };
            assert_ne!(c, &gold);
            assert!(output.is_empty());
            assert!(code.starts_with("total = ") && code.ends_with("\nprint(total)"), "{code}");
            let expr = &code["total = ".len()..code.len() - "\nprint(total)".len()];
            if !expr.contains("21") {
                // A miscopied number: written into the thought too, or into the code only.
                kinds.0 = true;
                assert!(!thought.contains("21") || thought.contains("Ivan has 21"), "{thought}");
            } else if expr.matches(" + ").count() < 2 {
                kinds.1 = true;
            } else {
                assert!(expr.matches("emma").count() + expr.matches("omar").count() == 2, "{expr}");
                assert!(expr == "21 + emma + emma" || expr == "21 + omar + omar", "{expr}");
                kinds.2 = true;
            }
        }
        assert_eq!(kinds, (true, true, true), "{copies:?}");
        for (i, c) in copies.iter().enumerate() {
            assert!(!copies[..i].contains(c), "copies are distinct");
        }
    }

    #[test]
    fn a_miscopied_number_is_written_into_thought_and_code_alike() {
        let thought = "Ivan has 21 stickers. Emma has 7 fewer stickers than Ivan.";
        let slip = |kind, seed| {
            code_slip(kind, thought, "emma = 21 - 7\nprint(emma)", QUESTION, &[], &mut Rng::new(seed))
                .expect("the step has numbers")
        };
        for seed in 0..20 {
            let (t, c) = slip(Slip::Number, seed);
            let first = c.lines().next().unwrap_or_default();
            let nums: Vec<&str> = NUMBER.find_iter(first).map(|m| m.as_str()).collect();
            let (changed, to) = if nums[0] != "21" { ("21", nums[0]) } else { ("7", nums[1]) };
            assert_eq!(t, replace_word(thought, changed, to), "seed {seed}: {c}");
            let (t, _) = slip(Slip::CodeNumber, seed);
            assert_eq!(t, thought, "a code-only slip leaves the thought");
        }
    }

    #[test]
    fn final_copies_are_wrong_answers() {
        let earlier = [GoldStep::Code {
            thought: "Ivan has 21 stickers.".into(),
            code: "emma = 21 - 7\nprint(emma)".into(),
            output: "14".into(),
        }];
        let gold = GoldStep::Final { thought: "The answer is 63.".into(), answer: "63".into() };
        let copies = corrupt(&gold, &earlier, QUESTION, 3, &mut Rng::new(9));
        assert_eq!(copies.len(), 3);
        for c in &copies {
            let GoldStep::Final { thought, answer } = c else { panic!("a final step stays final") };
            assert!(!grade::is_equiv("63", answer), "{answer}");
            assert!(
                thought == "The answer is 63." || thought == &format!("The answer is {answer}."),
                "{thought}"
            );
        }
    }
}
