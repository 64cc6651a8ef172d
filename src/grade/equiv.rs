//! The reference's `is_equiv` / `is_latex_equiv` control flow, returning a [`Verdict`] that
//! names the rule that decided.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

use super::budget::{Budget, MAX_EQUIV_DEPTH};
use super::compare::{SymOutcome, are_equal_under_sympy};
use super::interval::{same_set, str_to_interval};
use super::normalize::{Flags, Normalized, normalize};
use super::split::{Container, MatrixSplit, Row, Split, Unbalanced, split_matrix, split_tuple};

/// Which rule decided a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The strings are equal after trimming.
    SameString,
    /// The normalised strings are equal.
    SameNormalized,
    /// One of the alternatives the normaliser produced (percent, base, degrees, time) matched.
    Alternative,
    /// Both sides read as the same interval set.
    Interval,
    /// Element-by-element comparison of a list, tuple or set.
    Elements,
    /// Element-by-element comparison of a matrix.
    Matrix,
    /// Typed symbolic / numeric comparison of the normalised strings.
    Symbolic,
    /// The last resort: typed comparison of the raw strings.
    RawSymbolic,
    /// Nothing matched.
    NoMatch,
    /// A missing or empty answer.
    Empty,
    /// Brackets do not balance (the reference raises, so "not equal").
    Unbalanced,
    /// Nesting or work limits were hit.
    Limit,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rule::SameString => "same string",
            Rule::SameNormalized => "same normalised string",
            Rule::Alternative => "normaliser alternative",
            Rule::Interval => "interval",
            Rule::Elements => "elements",
            Rule::Matrix => "matrix",
            Rule::Symbolic => "symbolic",
            Rule::RawSymbolic => "symbolic on raw strings",
            Rule::NoMatch => "no match",
            Rule::Empty => "empty answer",
            Rule::Unbalanced => "unbalanced brackets",
            Rule::Limit => "limit",
        })
    }
}

/// Which normalisation pass of the reference decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pass {
    /// Before normalisation.
    Raw,
    /// Spaces removed, lower case (the reference's defaults).
    Default,
    /// Inner spaces kept.
    KeepSpaces,
    /// Case kept.
    KeepCase,
}

/// The outcome of one comparison, with the rule that decided it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verdict {
    pub equal: bool,
    pub rule: Rule,
    pub pass: Pass,
    /// One line saying why, e.g. "numbers equal within tolerance".
    pub detail: String,
}

impl Verdict {
    fn new(equal: bool, rule: Rule, pass: Pass, detail: impl Into<String>) -> Verdict {
        Verdict { equal, rule, pass, detail: detail.into() }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = if self.equal { "equal" } else { "not equal" };
        write!(f, "{word} (rule: {}; {})", self.rule, self.detail)
    }
}

#[derive(Debug, Clone)]
struct Outcome {
    equal: bool,
    rule: Rule,
    detail: String,
}

impl Outcome {
    fn yes(rule: Rule, detail: impl Into<String>) -> Outcome {
        Outcome { equal: true, rule, detail: detail.into() }
    }

    fn no(rule: Rule, detail: impl Into<String>) -> Outcome {
        Outcome { equal: false, rule, detail: detail.into() }
    }
}

/// State of one top-level comparison: its budget, recursion depth and a memo of element
/// comparisons (the reference re-compares the same pairs across its passes).
pub struct Ctx<'a> {
    pub budget: &'a Budget,
    depth: std::cell::Cell<usize>,
    memo: RefCell<HashMap<(String, String), bool>>,
}

impl<'a> Ctx<'a> {
    pub fn new(budget: &'a Budget) -> Ctx<'a> {
        Ctx { budget, depth: std::cell::Cell::new(0), memo: RefCell::new(HashMap::new()) }
    }
}

const PASSES: [(Pass, Flags); 3] = [
    (Pass::Default, Flags::DEFAULT),
    (Pass::KeepSpaces, Flags::KEEP_SPACES),
    (Pass::KeepCase, Flags::KEEP_CASE),
];

/// The reference's `is_equiv(ground_truth, given)` with `fast=False`.
pub fn is_equiv(gt: &str, gv: &str, ctx: &Ctx<'_>) -> Verdict {
    if gt.trim() == gv.trim() {
        return Verdict::new(true, Rule::SameString, Pass::Raw, "identical after trimming");
    }
    let depth = ctx.depth.get();
    if depth >= MAX_EQUIV_DEPTH {
        return Verdict::new(false, Rule::Limit, Pass::Raw, "nested deeper than the grader follows");
    }
    ctx.depth.set(depth + 1);
    let v = is_equiv_passes(gt, gv, ctx);
    ctx.depth.set(depth);
    if ctx.budget.is_exhausted() && !v.equal {
        return Verdict::new(false, Rule::Limit, v.pass, "work budget exhausted");
    }
    v
}

fn is_equiv_passes(gt: &str, gv: &str, ctx: &Ctx<'_>) -> Verdict {
    let mut first_failure: Option<Outcome> = None;
    for (pass, flags) in PASSES {
        let out = default_is_equiv(&normalize(gt, flags), &normalize(gv, flags), ctx);
        if out.equal {
            return Verdict::new(true, out.rule, pass, out.detail);
        }
        first_failure.get_or_insert(out);
        if ctx.budget.is_exhausted() {
            break;
        }
    }
    if let SymOutcome::Equal(why) = are_equal_under_sympy(gt, gv, ctx.budget) {
        return Verdict::new(true, Rule::RawSymbolic, Pass::Raw, why);
    }
    let out = first_failure.unwrap_or_else(|| Outcome::no(Rule::NoMatch, "nothing matched"));
    Verdict::new(false, out.rule, Pass::Default, out.detail)
}

/// Element comparison inside containers: a full `is_equiv`, memoised.
fn element_equiv(gt: &str, gv: &str, ctx: &Ctx<'_>) -> bool {
    let key = (gt.to_string(), gv.to_string());
    if let Some(&v) = ctx.memo.borrow().get(&key) {
        return v;
    }
    let v = is_equiv(gt, gv, ctx).equal;
    ctx.memo.borrow_mut().insert(key, v);
    v
}

fn default_is_equiv(gt: &Normalized, gv: &Normalized, ctx: &Ctx<'_>) -> Outcome {
    if let (Normalized::One(a), Normalized::One(b)) = (gt, gv) {
        if a == b {
            return Outcome::yes(Rule::SameNormalized, format!("both normalise to {a:?}"));
        }
        return match is_latex_equiv(a, b, ctx) {
            Ok(o) => o,
            Err(Unbalanced) => Outcome::no(Rule::Unbalanced, "brackets do not balance"),
        };
    }
    let mut last = Outcome::no(Rule::NoMatch, "no alternative matched");
    for a in gt.items() {
        for b in gv.items() {
            match is_latex_equiv(a, b, ctx) {
                Ok(o) if o.equal => {
                    return Outcome::yes(
                        Rule::Alternative,
                        format!("{a:?} matches {b:?} ({}: {})", o.rule, o.detail),
                    );
                }
                Ok(o) => last = o,
                // An exception inside the reference's loop ends the whole comparison.
                Err(Unbalanced) => return Outcome::no(Rule::Unbalanced, "brackets do not balance"),
            }
        }
    }
    last
}

fn is_latex_equiv(gt: &str, gv: &str, ctx: &Ctx<'_>) -> Result<Outcome, Unbalanced> {
    if gv.is_empty() {
        return Ok(Outcome::no(Rule::Empty, "the answer is empty"));
    }
    let mut result = Outcome::no(Rule::NoMatch, "nothing matched");
    let mut split = false;
    if gt.contains(['(', ')', '[', ']']) {
        let (o, s) = intervals(gt, gv, ctx);
        if o.equal {
            return Ok(o);
        }
        (result, split) = (o, s);
    }
    let (o, s) = tuples(gt, gv, ctx)?;
    if o.equal {
        return Ok(o);
    }
    if s || !split {
        result = o;
    }
    split = s;
    if gt.contains("matrix") || gv.contains("matrix") {
        let (o, s) = matrices(gt, gv, ctx)?;
        if o.equal {
            return Ok(o);
        }
        result = o;
        split = s;
    }
    if !split {
        return Ok(match are_equal_under_sympy(gt, gv, ctx.budget) {
            SymOutcome::Equal(why) => Outcome::yes(Rule::Symbolic, why),
            SymOutcome::NotEqual(why) => Outcome::no(Rule::Symbolic, why),
        });
    }
    Ok(result)
}

fn intervals(gt: &str, gv: &str, ctx: &Ctx<'_>) -> (Outcome, bool) {
    let a = str_to_interval(gt, ctx.budget);
    let b = str_to_interval(gv, ctx.budget);
    let split = a.is_some() || b.is_some();
    match (a, b) {
        (Some(x), Some(y)) if same_set(&x, &y) => {
            (Outcome::yes(Rule::Interval, "the same interval set"), split)
        }
        (Some(_), Some(_)) => (Outcome::no(Rule::Interval, "different intervals"), split),
        _ => (Outcome::no(Rule::Interval, "not both intervals"), split),
    }
}

fn tuples(gt: &str, gv: &str, ctx: &Ctx<'_>) -> Result<(Outcome, bool), Unbalanced> {
    let a = split_tuple(gt, None)?;
    let b = split_tuple(gv, None)?;
    let (ka, ea, kb, eb) = match (a, b) {
        (Split::Str(x), Split::Str(y)) => {
            if x == gt && y == gv {
                return Ok((Outcome::no(Rule::NoMatch, "not a list"), false));
            }
            let equal = element_equiv(&x, &y, ctx);
            let o = if equal {
                Outcome::yes(Rule::Elements, format!("{x:?} and {y:?} after removing brackets"))
            } else {
                Outcome::no(Rule::Elements, format!("{x:?} and {y:?} differ after removing brackets"))
            };
            return Ok((o, true));
        }
        (Split::Elems(ka, ea), Split::Elems(kb, eb)) => (ka, ea, kb, eb),
        _ => return Ok((Outcome::no(Rule::Elements, "one side is a list, the other is not"), true)),
    };
    if ea.len() != eb.len() && !eb.iter().any(|e| e == r"\in") {
        return Ok((
            Outcome::no(Rule::Elements, format!("{} elements against {}", ea.len(), eb.len())),
            true,
        ));
    }
    if ka != kb {
        return Ok((Outcome::no(Rule::Elements, format!("a {} against a {}", ka.name(), kb.name())), true));
    }
    if ka == Container::Set {
        let mut used = vec![false; eb.len()];
        for (i, x) in ea.iter().enumerate() {
            let mut found = false;
            for (j, y) in eb.iter().enumerate() {
                if !used[j] && element_equiv(x, y, ctx) {
                    used[j] = true;
                    found = true;
                    break;
                }
            }
            if !found {
                return Ok((
                    Outcome::no(Rule::Elements, format!("element {} ({x:?}) has no match", i + 1)),
                    true,
                ));
            }
        }
        return Ok((Outcome::yes(Rule::Elements, format!("sets of {} equal in some order", ea.len())), true));
    }
    for (i, (x, y)) in ea.iter().zip(&eb).enumerate() {
        if !element_equiv(x, y, ctx) {
            return Ok((
                Outcome::no(Rule::Elements, format!("element {} differs: {x:?} vs {y:?}", i + 1)),
                true,
            ));
        }
    }
    Ok((Outcome::yes(Rule::Elements, format!("{}s of {} equal in order", ka.name(), ea.len())), true))
}

fn matrices(gt: &str, gv: &str, ctx: &Ctx<'_>) -> Result<(Outcome, bool), Unbalanced> {
    let a = split_matrix(gt)?;
    let b = split_matrix(gv)?;
    match (a, b) {
        (MatrixSplit::Str(x), MatrixSplit::Str(y)) => {
            if x == gt && y == gv {
                return Ok((Outcome::no(Rule::NoMatch, "not a matrix"), false));
            }
            let equal = element_equiv(&x, &y, ctx);
            Ok((
                if equal {
                    Outcome::yes(Rule::Matrix, "single entries equal")
                } else {
                    Outcome::no(Rule::Matrix, "single entries differ")
                },
                true,
            ))
        }
        (MatrixSplit::Rows(ra), MatrixSplit::Rows(rb)) => {
            if ra.len() != rb.len() {
                return Ok((
                    Outcome::no(Rule::Matrix, format!("{} rows against {}", ra.len(), rb.len())),
                    true,
                ));
            }
            for (i, (x, y)) in ra.iter().zip(&rb).enumerate() {
                let ok = match (x, y) {
                    (Row::Cell(p), Row::Cell(q)) => element_equiv(p, q, ctx),
                    (Row::Cols(p), Row::Cols(q)) => {
                        p.len() == q.len() && p.iter().zip(q).all(|(s, t)| element_equiv(s, t, ctx))
                    }
                    _ => false,
                };
                if !ok {
                    return Ok((Outcome::no(Rule::Matrix, format!("row {} differs", i + 1)), true));
                }
            }
            Ok((Outcome::yes(Rule::Matrix, format!("{} rows equal", ra.len())), true))
        }
        _ => Ok((Outcome::no(Rule::Matrix, "a matrix against a non-matrix"), true)),
    }
}
