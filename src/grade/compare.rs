//! Typed comparison of two parsed answers: arbor's counterpart of the reference's
//! `are_equal_under_sympy`.
//!
//! Each side is parsed into up to two candidates (LaTeX reading; plain reading when there is no
//! backslash), and the answers are equal when any pair of candidates is equal under the typed
//! rules: vectors in order, sets in any order, equations up to sign, inequalities by their
//! difference, functions by their right-hand sides, complex numbers by real and imaginary parts,
//! and everything else numerically under the reference's tolerances (§12.2), at random points
//! when symbols occur.

use std::collections::BTreeSet;

use super::ast::{Constant, Math, Node, RelOp};
use super::budget::Budget;
use super::complex::C64;
use super::eval::{Env, EvalError, eval};
use super::parse::parse_latex;
use super::plain::parse_plain;

/// Outcome of the symbolic stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymOutcome {
    Equal(&'static str),
    NotEqual(&'static str),
}

/// Why a comparison stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// The reference raises at this point, which makes its whole comparison false.
    Abort,
    Budget,
}

type Cmp = Result<Option<&'static str>, Stop>;

/// Parse candidates for one answer, like the reference's `possible_sympy_parse`. Shapes that
/// latex2sympy cannot produce (tuples, intervals, set operations) are not offered from the
/// LaTeX reading.
pub fn candidates(s: &str, budget: &Budget) -> Vec<Math> {
    let mut out = Vec::with_capacity(2);
    if let Ok(m) = parse_latex(s, budget)
        && !matches!(m, Math::Tuple(_) | Math::Interval { .. } | Math::Opaque(_))
    {
        out.push(m);
    }
    if !s.contains('\\')
        && let Ok(m) = parse_plain(s, budget)
        && !out.contains(&m)
    {
        out.push(m);
    }
    out
}

/// Are `gt` and `gv` equal under the reference's typed rules?
pub fn are_equal_under_sympy(gt: &str, gv: &str, budget: &Budget) -> SymOutcome {
    let gts = candidates(gt, budget);
    if gts.is_empty() {
        return SymOutcome::NotEqual("the ground truth does not parse");
    }
    let gvs = candidates(gv, budget);
    if gvs.is_empty() {
        return SymOutcome::NotEqual("the answer does not parse");
    }
    for a in &gts {
        for b in &gvs {
            match equal_typed(a, b, budget) {
                Ok(Some(why)) => return SymOutcome::Equal(why),
                Ok(None) => {}
                Err(Stop::Abort) => return SymOutcome::NotEqual("the values are of incomparable types"),
                Err(Stop::Budget) => return SymOutcome::NotEqual("work budget exhausted"),
            }
        }
    }
    SymOutcome::NotEqual("the values differ")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Vector,
    Set,
    Function,
    Equation,
    Inequality,
    Complex,
    Expr,
    Matrix,
    Other,
}

fn kind(m: &Math) -> Kind {
    match m {
        Math::Vector(_) => Kind::Vector,
        Math::Set(_) => Kind::Set,
        Math::Rel(RelOp::Eq, lhs, _) => {
            if is_function_lhs(lhs) {
                Kind::Function
            } else {
                Kind::Equation
            }
        }
        Math::Rel(..) => Kind::Inequality,
        Math::Expr(n) if n.has_i() => Kind::Complex,
        Math::Expr(_) => Kind::Expr,
        Math::Matrix(_) => Kind::Matrix,
        Math::Tuple(_) | Math::Interval { .. } | Math::Opaque(_) => Kind::Other,
    }
}

/// `f(x) =`, `f^{-1}(x) =`, `y =`: the reference compares right-hand sides only.
fn is_function_lhs(lhs: &Node) -> bool {
    match lhs {
        Node::Sym(_) | Node::Apply(..) => true,
        Node::Pow(b, e) => matches!(**b, Node::Apply(..)) && **e == Node::Num(-1.0),
        _ => false,
    }
}

fn equal_typed(gt: &Math, gv: &Math, budget: &Budget) -> Cmp {
    if budget.spend(1).is_err() {
        return Err(Stop::Budget);
    }
    let (kt, kv) = (kind(gt), kind(gv));
    let seqlike = |k| matches!(k, Kind::Vector | Kind::Set);
    if seqlike(kt) && seqlike(kv) && kt != kv {
        return Ok(None);
    }
    match (gt, gv) {
        (Math::Vector(a), Math::Vector(b)) => {
            if a.len() != b.len() {
                return Ok(None);
            }
            for (x, y) in a.iter().zip(b) {
                if equal_typed(x, y, budget)?.is_none() {
                    return Ok(None);
                }
            }
            return Ok(Some("vectors equal element by element"));
        }
        (Math::Set(a), Math::Set(b)) => {
            if a.len() != b.len() {
                return Ok(None);
            }
            for x in a {
                let mut found = false;
                for y in b {
                    if equal_typed(x, y, budget)?.is_some() {
                        found = true;
                        break;
                    }
                }
                if !found {
                    return Ok(None);
                }
            }
            return Ok(Some("sets equal in some order"));
        }
        _ => {}
    }
    if kt == Kind::Equation && kv == Kind::Equation {
        let (Math::Rel(_, l1, r1), Math::Rel(_, l2, r2)) = (gt, gv) else {
            return Ok(None);
        };
        let d1 = Node::sub2(l1.clone(), r1.clone());
        let d2 = Node::sub2(l2.clone(), r2.clone());
        if scalars_typed(&d1, &d2, budget)?.is_some()
            || scalars_typed(&Node::negate(d1), &d2, budget)?.is_some()
        {
            return Ok(Some("equations equal up to sign"));
        }
        return Ok(None);
    }
    if kt == Kind::Inequality && kv == Kind::Inequality {
        let (Math::Rel(o1, l1, r1), Math::Rel(o2, l2, r2)) = (gt, gv) else {
            return Ok(None);
        };
        let weak = |o: RelOp| matches!(o, RelOp::Le | RelOp::Ge);
        let strict = |o: RelOp| matches!(o, RelOp::Lt | RelOp::Gt);
        if !((weak(*o1) && weak(*o2)) || (strict(*o1) && strict(*o2))) {
            // The reference's `!=` branch fails on its own bug, ending the comparison.
            return Err(Stop::Abort);
        }
        let as_expr = |o: RelOp, l: &Node, r: &Node| {
            if matches!(o, RelOp::Lt | RelOp::Le) {
                Node::sub2(l.clone(), r.clone())
            } else {
                Node::sub2(r.clone(), l.clone())
            }
        };
        return Ok(scalars_typed(&as_expr(*o1, l1, r1), &as_expr(*o2, l2, r2), budget)?
            .map(|_| "inequalities equal"));
    }
    match (gt, gv) {
        (Math::Matrix(a), Math::Matrix(b)) => return matrices_equal(a, b, budget),
        (Math::Matrix(a), Math::Vector(v)) => {
            return match reshape(v, a) {
                Some(b) => matrices_equal(a, &b, budget),
                None => Ok(None),
            };
        }
        (Math::Vector(v), Math::Matrix(b)) => {
            return match reshape(v, b) {
                Some(a) => matrices_equal(&a, b, budget),
                None => Ok(None),
            };
        }
        _ => {}
    }
    if kt == Kind::Function || kv == Kind::Function {
        let rhs = |m: &Math| match m {
            Math::Rel(RelOp::Eq, _, r) => Math::Expr(r.clone()),
            other => other.clone(),
        };
        return Ok(equal_typed(&rhs(gt), &rhs(gv), budget)?
            .map(|_| "right-hand sides of function definitions equal"));
    }
    match (gt, gv) {
        (Math::Expr(a), Math::Expr(b)) => scalars_typed(a, b, budget),
        (Math::Rel(..), _) | (_, Math::Rel(..)) => Ok(None),
        // The reference asks a container for `.is_number` here and raises.
        _ => Err(Stop::Abort),
    }
}

/// Scalar comparison with the reference's complex handling.
fn scalars_typed(a: &Node, b: &Node, budget: &Budget) -> Cmp {
    let (ca, cb) = (a.has_i(), b.has_i());
    if ca && cb {
        return scalars_equal(a, b, true, budget);
    }
    if !ca && !cb {
        // `expr_with_only_i`: a lone free symbol `i` is the imaginary unit.
        let (a2, ia) = only_i_to_unit(a);
        let (b2, ib) = only_i_to_unit(b);
        if ia || ib {
            return scalars_equal(&a2, &b2, true, budget);
        }
    }
    scalars_equal(a, b, false, budget)
}

fn only_i_to_unit(n: &Node) -> (Node, bool) {
    let mut syms = BTreeSet::new();
    n.free_symbols(&mut syms);
    if syms.len() == 1 && syms.contains("i") {
        return (n.substitute("i", &Node::Const(Constant::I)), true);
    }
    (n.clone(), false)
}

fn matrices_equal(a: &[Vec<Node>], b: &[Vec<Node>], budget: &Budget) -> Cmp {
    if a.len() != b.len() {
        return Ok(None);
    }
    for (ra, rb) in a.iter().zip(b) {
        if ra.len() != rb.len() {
            return Ok(None);
        }
        for (x, y) in ra.iter().zip(rb) {
            if scalars_typed(x, y, budget)?.is_none() {
                return Ok(None);
            }
        }
    }
    Ok(Some("matrices equal element by element"))
}

/// The reference's `list_to_mat`: a list becomes a column (or a list of rows a matrix), and
/// row and column vectors are interchangeable.
fn reshape(v: &[Math], like: &[Vec<Node>]) -> Option<Vec<Vec<Node>>> {
    let rows: Vec<Vec<Node>> = if v.iter().all(|m| matches!(m, Math::Expr(_))) {
        v.iter().filter_map(|m| if let Math::Expr(n) = m { Some(vec![n.clone()]) } else { None }).collect()
    } else {
        let mut rows = Vec::new();
        for m in v {
            let Math::Vector(items) = m else { return None };
            let mut row = Vec::new();
            for it in items {
                let Math::Expr(n) = it else { return None };
                row.push(n.clone());
            }
            rows.push(row);
        }
        rows
    };
    let (r, c) = (rows.len(), rows.first().map_or(0, Vec::len));
    if rows.iter().any(|row| row.len() != c) {
        return None;
    }
    let (er, ec) = (like.len(), like.first().map_or(0, Vec::len));
    if r == er && c == ec {
        return Some(rows);
    }
    if (er == 1 && r == ec) || (ec == 1 && c == er) {
        let mut t = vec![Vec::with_capacity(r); c];
        for row in &rows {
            for (j, x) in row.iter().enumerate() {
                t[j].push(x.clone());
            }
        }
        return Some(t);
    }
    None
}

/// Numbers compare under the reference's tolerances after `evalf`: equal when the difference is
/// at double rounding level (SymPy's 15-digit `evalf` makes such values identical), or within
/// 1e-3 when the ground truth is 0, 5e-3 absolute when |gt| ≥ 1, 1e-3 relative otherwise.
pub fn numbers_close(gt: C64, gv: C64, rounding: f64) -> bool {
    if gt == gv {
        return true;
    }
    if !gt.is_finite() || !gv.is_finite() {
        return false;
    }
    let d = (gt - gv).abs();
    if d <= rounding * gt.abs().max(gv.abs()) {
        return true;
    }
    let g = gt.abs();
    if g == 0.0 {
        d < 1e-3
    } else if g >= 1.0 {
        d < 5e-3
    } else {
        d / g < 1e-3
    }
}

/// Drops a real or imaginary part that is rounding noise (`e^{i\pi}` is -1 + 1.2e-16 i in
/// doubles, exactly -1 in SymPy).
fn clean(z: C64) -> C64 {
    let scale = z.abs() * 1e-12;
    C64::new(if z.re.abs() <= scale { 0.0 } else { z.re }, if z.im.abs() <= scale { 0.0 } else { z.im })
}

fn values_close(gt: C64, gv: C64, split_complex: bool, rounding: f64) -> bool {
    if split_complex {
        let (gt, gv) = (clean(gt), clean(gv));
        numbers_close(C64::real(gt.re), C64::real(gv.re), rounding)
            && numbers_close(C64::real(gt.im), C64::real(gv.im), rounding)
    } else {
        numbers_close(gt, gv, rounding)
    }
}

/// Relative agreement treated as "exactly equal" (a stand-in for SymPy's exact simplification).
const NUMBER_ROUNDING: f64 = 1e-14;
const POINT_ROUNDING: f64 = 1e-11;

fn eval_or_stop(n: &Node, env: &Env, budget: &Budget) -> Result<Option<C64>, Stop> {
    match eval(n, env, budget) {
        Ok(v) => Ok(Some(v)),
        Err(EvalError::Budget(_)) => Err(Stop::Budget),
        Err(_) => Ok(None),
    }
}

/// splitmix64: a small deterministic generator, so verdicts are reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn int_1_10(&mut self) -> f64 {
        (1 + self.next() % 10) as f64
    }

    fn uniform_1_10(&mut self) -> f64 {
        1.0 + 9.0 * ((self.next() >> 11) as f64 / (1u64 << 53) as f64)
    }
}

fn scalars_equal(a: &Node, b: &Node, split_complex: bool, budget: &Budget) -> Cmp {
    if a == b {
        return Ok(Some("identical expressions"));
    }
    let mut syms = BTreeSet::new();
    a.free_symbols(&mut syms);
    b.free_symbols(&mut syms);
    if syms.is_empty() {
        let env = Env::new();
        let (Some(x), Some(y)) = (eval_or_stop(a, &env, budget)?, eval_or_stop(b, &env, budget)?) else {
            return Ok(None);
        };
        return Ok(
            values_close(x, y, split_complex, NUMBER_ROUNDING).then_some("numbers equal within tolerance")
        );
    }
    // Ten integer points in [1, 10], then ten real ones, as the reference's `_numerical_equal`.
    let mut rng = Rng(0x5EED_0A2B_u64 ^ syms.len() as u64);
    for integer_round in [true, false] {
        let mut ok = true;
        let mut valid = 0;
        for _ in 0..10 {
            let mut env = Env::new();
            for s in &syms {
                let v = if integer_round { rng.int_1_10() } else { rng.uniform_1_10() };
                env.set(s, C64::real(v));
            }
            let (Some(x), Some(y)) = (eval_or_stop(a, &env, budget)?, eval_or_stop(b, &env, budget)?) else {
                return Ok(None);
            };
            if (x.is_nan() && y.is_nan()) || (!x.is_finite() && x == y) {
                // Both undefined at this point: no evidence either way.
                continue;
            }
            if !values_close(x, y, split_complex, POINT_ROUNDING) {
                ok = false;
                break;
            }
            valid += 1;
        }
        if ok && valid >= 3 {
            return Ok(Some("equal at random points"));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eq(a: &str, b: &str) -> bool {
        matches!(are_equal_under_sympy(a, b, &Budget::default()), SymOutcome::Equal(_))
    }

    #[test]
    fn reference_docstring_pairs() {
        assert!(eq("{x, x - 1}", "{x - 1, x}"));
        assert!(!eq("[x, x - 1]", "[x - 1, x]"));
        assert!(eq("f(x) = x^2", "y = x^2"));
        assert!(eq(r"\begin{matrix} \frac12 \\ 1 \end{matrix}", "[0.5, 1]"));
        assert!(eq("1+2i", "i(2-i)"));
    }

    #[test]
    fn tolerances() {
        assert!(numbers_close(C64::real(2.0), C64::real(2.004), 0.0));
        assert!(!numbers_close(C64::real(2.0), C64::real(2.006), 0.0));
        assert!(numbers_close(C64::real(0.5), C64::real(0.5004), 0.0));
        assert!(!numbers_close(C64::real(0.5), C64::real(0.5006), 0.0));
        assert!(numbers_close(C64::real(0.0), C64::real(0.0009), 0.0));
    }
}
