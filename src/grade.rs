//! Answer grading at MARIO_EVAL fidelity: extraction, normalisation, parsing and equivalence.
//!
//! Every accuracy figure, training reward and ✓/✗ in arbor comes from here. The rules are the
//! reference's (`math_evaluation.is_equiv` as Super_MARIO's `math_is_equiv` calls it); where
//! arbor deviates, GRADER.md says where and why.
//!
//! ```
//! use arbor::grade;
//!
//! assert!(grade::is_equiv(r"\frac{1}{2}", "0.5"));
//! assert!(grade::is_equiv(r"10\%", "0.1"));
//! assert!(!grade::is_equiv("[1, 2, 3]", "(1, 3, 2)"));
//! let v = grade::judge("f(x) = 2x + 3", "y = 2x + 3");
//! assert!(v.equal);
//! println!("{}", v); // equal (rule: symbolic; right-hand sides of function definitions equal)
//! assert_eq!(grade::extract_answer("... so\nFinal Answer: $42$").as_deref(), Some("42"));
//! ```
//!
//! Pipeline for one (gold, pred) pair, as in the reference:
//! 1. equal strings after trimming → equal;
//! 2. three normalisation passes ([`normalize`]): default, keep inner spaces, keep case; each
//!    compares the normalised forms: same string, alternatives (percent, base, degrees, times),
//!    intervals, lists / tuples / sets element by element, matrices, then a typed symbolic
//!    comparison (numbers under the reference's tolerances, expressions at random points);
//! 3. a last typed comparison of the raw strings.
//!
//! All functions are pure and thread-safe: no global mutable state (compiled regular
//! expressions are shared read-only), so batches can be graded on any number of threads.
//! Work is bounded by a budget ([`Budget`]) and nesting limits, so hostile input gets a verdict
//! in bounded time instead of a panic, a stack overflow or a hang.

mod ast;
mod budget;
mod compare;
mod complex;
mod equiv;
mod eval;
mod extract;
mod interval;
mod lex;
mod normalize;
mod parse;
mod plain;
mod pyfloat;
mod split;
mod units;

pub use ast::{Math, Node, RelOp};
pub use budget::{Budget, DEFAULT_BUDGET};
pub use equiv::{Pass, Rule, Verdict};
pub use extract::{
    answer_is, extract_answer, extract_loose, final_answer, gsm8k_answer, last_boxed, remove_single_dollar,
};
pub use normalize::{Flags, Normalized};
pub use parse::ParseError;

/// Options of one comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Remove one enclosing `$...$` from both sides first (Super_MARIO's `math_is_equiv` does;
    /// MARIO_EVAL's bare `is_equiv` does not).
    pub strip_dollars: bool,
    /// Work units for the comparison (see [`Budget`]).
    pub budget: u64,
}

impl Default for Options {
    fn default() -> Options {
        Options { strip_dollars: true, budget: DEFAULT_BUDGET }
    }
}

/// Is `pred` equivalent to the ground truth `gold`? (Super_MARIO's `math_is_equiv`.)
pub fn is_equiv(gold: &str, pred: &str) -> bool {
    judge(gold, pred).equal
}

/// Like [`is_equiv`], with the rule that decided.
pub fn judge(gold: &str, pred: &str) -> Verdict {
    judge_with(gold, pred, Options::default())
}

/// [`judge`] with explicit options.
pub fn judge_with(gold: &str, pred: &str, options: Options) -> Verdict {
    let budget = Budget::new(options.budget);
    let ctx = equiv::Ctx::new(&budget);
    let (gold, pred) = if options.strip_dollars {
        (remove_single_dollar(gold), remove_single_dollar(pred))
    } else {
        (gold, pred)
    };
    equiv::is_equiv(gold, pred, &ctx)
}

/// A list ground truth: correct when `pred` matches any element.
pub fn is_equiv_any(golds: &[String], pred: &str) -> bool {
    judge_any(golds, pred).equal
}

/// [`is_equiv_any`] with the verdict of the first matching element (or of the last one tried).
pub fn judge_any(golds: &[String], pred: &str) -> Verdict {
    let mut last = None;
    for g in golds {
        let v = judge(g, pred);
        if v.equal {
            return v;
        }
        last = Some(v);
    }
    last.unwrap_or_else(|| judge("", pred))
}

/// The reference's `string_normalize(expr)` with the given flags.
pub fn normalize(expr: &str, flags: Flags) -> Normalized {
    normalize::normalize(expr, flags)
}

/// Parses LaTeX or plain math into a typed value (the LaTeX reading). An answer wrapped in
/// `\boxed{...}` is unwrapped first (the comparison itself, like the reference, does not
/// accept `\boxed`).
pub fn parse(expr: &str) -> Result<Math, ParseError> {
    let t = expr.trim().trim_end_matches('.');
    let inner = match t.strip_prefix(r"\boxed{").and_then(|r| r.strip_suffix('}')) {
        Some(inner) => inner,
        None => expr,
    };
    parse::parse_latex(inner, &Budget::default())
}

/// Parses plain math the way SymPy's `parse_expr` reads it (the reference's third candidate).
pub fn parse_plain(expr: &str) -> Result<Math, ParseError> {
    plain::parse_plain(expr, &Budget::default())
}

/// Numeric value of a parsed scalar: `(re, im)`. Symbols that cancel (`2y - y - y`) are
/// allowed: the value must then be the same at two different points.
pub fn value(m: &Math) -> Option<(f64, f64)> {
    let Math::Expr(n) = m else { return None };
    let budget = Budget::default();
    let mut syms = std::collections::BTreeSet::new();
    n.free_symbols(&mut syms);
    let at = |x: f64| {
        let mut env = eval::Env::new();
        for (k, s) in syms.iter().enumerate() {
            env.set(s, complex::C64::real(x + k as f64 * 0.731));
        }
        eval::eval(n, &env, &budget).ok()
    };
    let v = at(1.618)?;
    if !syms.is_empty() && !compare::numbers_close(v, at(2.5)?, 1e-12) {
        return None;
    }
    Some((v.re, v.im))
}
