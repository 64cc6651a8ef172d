//! The reference's interval reading (`_str_to_interval`): pieces joined by `\cup` / `\cap`,
//! each `a, b` with `(`/`)` marking open ends, numeric endpoints evaluated and snapped to
//! integers within 1e-7, the result simplified as SymPy's set algebra would (unions merged,
//! infinite ends open, `[a, a]` a point).

use super::ast::{Math, Node};
use super::budget::Budget;
use super::complex::C64;
use super::eval::{Env, eval};
use super::parse::parse_latex;
use super::pyfloat::is_int;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Piece {
    lo: f64,
    hi: f64,
    lo_open: bool,
    hi_open: bool,
}

/// A set of reals built from intervals.
#[derive(Debug, Clone, PartialEq)]
pub enum IntervalSet {
    /// Disjoint, sorted pieces (points are closed pieces of zero length).
    Numeric(Vec<Piece>),
    /// Some endpoint is symbolic: SymPy keeps the structure, so it is compared as text.
    Symbolic(String),
}

enum Endpoint {
    Num(f64),
    Sym(Node),
}

fn endpoint(text: &str, budget: &Budget) -> Option<Endpoint> {
    let Ok(Math::Expr(node)) = parse_latex(text, budget) else {
        return None;
    };
    let mut syms = std::collections::BTreeSet::new();
    node.free_symbols(&mut syms);
    if !syms.is_empty() {
        return Some(Endpoint::Sym(node));
    }
    let v: C64 = eval(&node, &Env::new(), budget).ok()?;
    if v.im != 0.0 || v.re.is_nan() {
        return None;
    }
    Some(Endpoint::Num(if is_int(v.re) { v.re.round() } else { v.re }))
}

/// Reads `x` as an interval set, or `None` when it is not one.
pub fn str_to_interval(x: &str, budget: &Budget) -> Option<IntervalSet> {
    let unions: Vec<&str> =
        if x.contains('⋃') { x.split('⋃').collect() } else { x.split(r"\cup").collect() };
    let mut numeric: Vec<Piece> = Vec::new();
    let mut symbolic: Vec<String> = Vec::new();
    for part in unions {
        let inter: Vec<&str> =
            if part.contains('∩') { part.split('∩').collect() } else { part.split(r"\cap").collect() };
        let mut acc: Option<Vec<Piece>> = None;
        let mut sym_parts: Vec<String> = Vec::new();
        for piece in inter {
            let piece = piece.trim();
            let ends: Vec<&str> = piece.split(',').collect();
            let [start, end] = ends.as_slice() else {
                return None;
            };
            let start: String = start.chars().filter(|c| *c != '(' && *c != '[').collect();
            let end: String = end.chars().filter(|c| *c != ')' && *c != ']').collect();
            let lo_open = piece.contains('(');
            let hi_open = piece.contains(')');
            match (endpoint(&start, budget)?, endpoint(&end, budget)?) {
                (Endpoint::Num(lo), Endpoint::Num(hi)) => {
                    if lo > hi {
                        return None;
                    }
                    let p = make_piece(lo, hi, lo_open, hi_open);
                    acc = Some(match acc {
                        None => p,
                        Some(a) => intersect(&a, &p),
                    });
                }
                (a, b) => {
                    let show = |e: Endpoint| match e {
                        Endpoint::Num(v) => format!("{v}"),
                        Endpoint::Sym(n) => n.to_string(),
                    };
                    sym_parts.push(format!(
                        "{}{}, {}{}",
                        if lo_open { "(" } else { "[" },
                        show(a),
                        show(b),
                        if hi_open { ")" } else { "]" }
                    ));
                }
            }
        }
        if sym_parts.is_empty() {
            numeric = union(numeric, acc.unwrap_or_default());
        } else {
            if let Some(a) = acc {
                sym_parts.push(format!("{a:?}"));
            }
            symbolic.push(sym_parts.join(" ∩ "));
        }
    }
    if symbolic.is_empty() {
        return Some(IntervalSet::Numeric(numeric));
    }
    if !numeric.is_empty() {
        symbolic.push(format!("{numeric:?}"));
    }
    Some(IntervalSet::Symbolic(symbolic.join(" ∪ ")))
}

/// SymPy's `Interval(lo, hi, ...)`: infinite ends are open; `[a, a]` is a point, `(a, a)` empty.
fn make_piece(lo: f64, hi: f64, lo_open: bool, hi_open: bool) -> Vec<Piece> {
    let lo_open = lo_open || lo.is_infinite();
    let hi_open = hi_open || hi.is_infinite();
    if lo == hi && (lo_open || hi_open) {
        return Vec::new();
    }
    vec![Piece { lo, hi, lo_open, hi_open }]
}

fn intersect(a: &[Piece], b: &[Piece]) -> Vec<Piece> {
    let mut out = Vec::new();
    for x in a {
        for y in b {
            let (lo, lo_open) = if x.lo > y.lo {
                (x.lo, x.lo_open)
            } else if y.lo > x.lo {
                (y.lo, y.lo_open)
            } else {
                (x.lo, x.lo_open || y.lo_open)
            };
            let (hi, hi_open) = if x.hi < y.hi {
                (x.hi, x.hi_open)
            } else if y.hi < x.hi {
                (y.hi, y.hi_open)
            } else {
                (x.hi, x.hi_open || y.hi_open)
            };
            if lo < hi || (lo == hi && !lo_open && !hi_open) {
                out.push(Piece { lo, hi, lo_open, hi_open });
            }
        }
    }
    union(Vec::new(), out)
}

/// Sorted, merged union.
fn union(mut a: Vec<Piece>, b: Vec<Piece>) -> Vec<Piece> {
    a.extend(b);
    a.sort_by(|x, y| x.lo.total_cmp(&y.lo).then(x.lo_open.cmp(&y.lo_open)));
    let mut out: Vec<Piece> = Vec::new();
    for p in a {
        if let Some(last) = out.last_mut() {
            let touches = p.lo < last.hi || (p.lo == last.hi && !(p.lo_open && last.hi_open));
            if touches {
                if p.hi > last.hi || (p.hi == last.hi && !p.hi_open) {
                    last.hi = p.hi;
                    last.hi_open = p.hi_open;
                }
                if p.lo == last.lo && !p.lo_open {
                    last.lo_open = false;
                }
                continue;
            }
        }
        out.push(p);
    }
    out
}

fn same_number(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

/// SymPy's `compare(...) == 0` on the simplified sets.
pub fn same_set(a: &IntervalSet, b: &IntervalSet) -> bool {
    match (a, b) {
        (IntervalSet::Numeric(x), IntervalSet::Numeric(y)) => {
            x.len() == y.len()
                && x.iter().zip(y).all(|(p, q)| {
                    same_number(p.lo, q.lo)
                        && same_number(p.hi, q.hi)
                        && p.lo_open == q.lo_open
                        && p.hi_open == q.hi_open
                })
        }
        (IntervalSet::Symbolic(x), IntervalSet::Symbolic(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(s: &str) -> Option<IntervalSet> {
        str_to_interval(s, &Budget::default())
    }

    #[test]
    fn sympy_set_algebra() {
        let (Some(a), Some(b)) = (iv(r"[1,3]\cup[2,5]"), iv("[1,5]")) else { panic!("intervals") };
        assert!(same_set(&a, &b));
        let (Some(a), Some(b)) = (iv(r"[1,\infty]"), iv(r"[1,\infty)")) else { panic!("intervals") };
        assert!(same_set(&a, &b));
        let (Some(a), Some(b)) = (iv("[-3,2]"), iv("(-3,2)")) else { panic!("intervals") };
        assert!(!same_set(&a, &b));
        assert!(iv("(3,1)").is_none());
        assert!(iv("(1,2,3)").is_none());
    }
}
