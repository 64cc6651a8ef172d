//! Numeric evaluation of [`Node`]s in complex double precision.
//!
//! The reference compares numbers after `evalf()` (15 significant digits), so doubles are
//! faithful for numbers; symbolic expressions are compared by evaluating them at points.
//! Undefined functions (`f(x)`) evaluate to a fixed pseudo-random function of their arguments,
//! so `f(x)+1` equals `1+f(x)` but not `f(y)+1`.

use super::ast::{Constant, Func, Node};
use super::budget::{Budget, Exhausted};
use super::complex::C64;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    #[error("symbol {0} has no value")]
    Unbound(String),
    #[error("cannot evaluate {0}")]
    Unsupported(&'static str),
    #[error(transparent)]
    Budget(#[from] Exhausted),
}

/// Values of symbols at one evaluation point.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: Vec<(String, C64)>,
}

impl Env {
    pub fn new() -> Env {
        Env::default()
    }

    pub fn set(&mut self, name: &str, v: C64) {
        match self.vars.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = v,
            None => self.vars.push((name.to_string(), v)),
        }
    }

    fn get(&self, name: &str) -> Option<C64> {
        self.vars.iter().rev().find(|(n, _)| n == name).map(|(_, v)| *v)
    }
}

const MAX_SUM_TERMS: i64 = 100_000;

pub fn eval(node: &Node, env: &Env, budget: &Budget) -> Result<C64, EvalError> {
    budget.spend(1)?;
    Ok(match node {
        Node::Num(v) => C64::real(*v),
        Node::Const(Constant::Pi) => C64::real(std::f64::consts::PI),
        Node::Const(Constant::E) => C64::real(std::f64::consts::E),
        Node::Const(Constant::I) => C64::I,
        Node::Const(Constant::Infinity) => C64::real(f64::INFINITY),
        Node::Sym(s) => env.get(s).ok_or_else(|| EvalError::Unbound(s.clone()))?,
        Node::Add(xs) => {
            let mut acc = C64::ZERO;
            for x in xs {
                acc = acc + eval(x, env, budget)?;
            }
            acc
        }
        Node::Mul(xs) => {
            // Divisors are multiplied up separately and divided once, so `639/40` is the
            // correctly rounded 15.975 that SymPy's `evalf` gives, not 639 * 0.025.
            let (mut num, mut den) = (C64::ONE, C64::ONE);
            for x in xs {
                match x {
                    Node::Pow(b, e) if **e == Node::Num(-1.0) => den = den * eval(b, env, budget)?,
                    _ => num = num * eval(x, env, budget)?,
                }
            }
            if den == C64::ONE { num } else { num / den }
        }
        Node::Pow(b, e) => {
            let base = eval(b, env, budget)?;
            let ex = eval(e, env, budget)?;
            let v = if ex == C64::real(0.5) { base.sqrt() } else { base.pow(ex) };
            overflow_check(v, &[base, ex])?
        }
        Node::Func(f, args) => {
            let mut vals = Vec::with_capacity(args.len());
            for a in args {
                vals.push(eval(a, env, budget)?);
            }
            overflow_check(apply(*f, &vals)?, &vals)?
        }
        Node::Apply(name, args) => {
            let mut vals = Vec::with_capacity(args.len());
            for a in args {
                vals.push(eval(a, env, budget)?);
            }
            undefined_function(name, &vals)
        }
        Node::Sum { body, var, lo, hi, product } => sum(body, var, lo, hi, *product, env, budget)?,
        Node::Integral { body, var, bounds: Some((lo, hi)) } => integral(body, var, lo, hi, env, budget)?,
        Node::Integral { bounds: None, .. } => return Err(EvalError::Unsupported("an indefinite integral")),
        Node::Limit { body, var, to, dir } => limit(body, var, to, *dir, env, budget)?,
        Node::Derivative { body, var } => derivative(body, var, env, budget)?,
        Node::Det(rows) => determinant(rows, env, budget)?,
        Node::Matrix(_) => return Err(EvalError::Unsupported("a matrix as a scalar")),
        Node::PlusMinus(..) => return Err(EvalError::Unsupported("±")),
        Node::Relation(..) => return Err(EvalError::Unsupported("a relation as a value")),
    })
}

/// SymPy computes with exact integers and arbitrary exponents: `2004!` is finite there. A double
/// that overflows from finite inputs would turn `1/2004!` into 0, so the value is refused.
fn overflow_check(v: C64, inputs: &[C64]) -> Result<C64, EvalError> {
    if !v.is_finite() && !v.is_nan() && inputs.iter().all(|x| x.is_finite()) {
        // Division by zero is SymPy's `zoo`, not an overflow: 0^-1 stays infinite.
        if inputs.iter().any(|x| x.abs() == 0.0) {
            return Ok(v);
        }
        return Err(EvalError::Unsupported("a number beyond double precision range"));
    }
    Ok(v)
}

fn real_arg(z: C64) -> Option<f64> {
    if z.im == 0.0 { Some(z.re) } else { None }
}

fn apply(f: Func, v: &[C64]) -> Result<C64, EvalError> {
    let nan = C64::new(f64::NAN, f64::NAN);
    let x = v.first().copied().unwrap_or(nan);
    Ok(match f {
        Func::Sin => x.sin(),
        Func::Cos => x.cos(),
        Func::Tan => x.tan(),
        Func::Csc => C64::ONE / x.sin(),
        Func::Sec => C64::ONE / x.cos(),
        Func::Cot => C64::ONE / x.tan(),
        Func::Asin => x.asin(),
        Func::Acos => x.acos(),
        Func::Atan => x.atan(),
        Func::Acsc => (C64::ONE / x).asin(),
        Func::Asec => (C64::ONE / x).acos(),
        Func::Acot => (C64::ONE / x).atan(),
        Func::Sinh => x.sinh(),
        Func::Cosh => x.cosh(),
        Func::Tanh => x.tanh(),
        Func::Asinh => x.asinh(),
        Func::Acosh => x.acosh(),
        Func::Atanh => x.atanh(),
        Func::Exp => x.exp(),
        Func::Log => {
            let base = v.get(1).copied().unwrap_or(C64::real(std::f64::consts::E));
            if base == C64::real(std::f64::consts::E) { x.ln() } else { x.ln() / base.ln() }
        }
        Func::Abs => C64::real(x.abs()),
        Func::Floor => real_arg(x).map_or(nan, |r| C64::real(r.floor())),
        Func::Ceil => real_arg(x).map_or(nan, |r| C64::real(r.ceil())),
        Func::Re => C64::real(x.re),
        Func::Im => C64::real(x.im),
        Func::Factorial => real_arg(x).map_or(nan, |r| C64::real(gamma(r + 1.0))),
        Func::Binomial => {
            let k = v.get(1).copied().unwrap_or(nan);
            match (real_arg(x), real_arg(k)) {
                (Some(n), Some(k)) => C64::real(binomial(n, k)),
                _ => nan,
            }
        }
        Func::Gcd | Func::Lcm => {
            let mut reals = Vec::with_capacity(v.len());
            for z in v {
                match real_arg(*z) {
                    Some(r) => reals.push(r),
                    None => return Ok(nan),
                }
            }
            C64::real(rational_gcd_lcm(&reals, f == Func::Gcd))
        }
        Func::Max | Func::Min => {
            let mut best: Option<f64> = None;
            for z in v {
                let Some(r) = real_arg(*z) else { return Ok(nan) };
                best = Some(match best {
                    None => r,
                    Some(b) if f == Func::Max => b.max(r),
                    Some(b) => b.min(r),
                });
            }
            best.map_or(nan, C64::real)
        }
        Func::Mod => {
            let m = v.get(1).copied().unwrap_or(nan);
            match (real_arg(x), real_arg(m)) {
                (Some(a), Some(b)) if b != 0.0 => C64::real(a - b * (a / b).floor()),
                _ => nan,
            }
        }
    })
}

/// Γ(x) by the Lanczos approximation (g = 7), with exact products for small integers.
pub fn gamma(x: f64) -> f64 {
    if x.fract() == 0.0 {
        if x <= 0.0 {
            return f64::NAN;
        }
        if x <= 171.0 {
            let mut acc = 1.0;
            let mut k = 2.0;
            while k < x {
                acc *= k;
                k += 1.0;
            }
            return acc;
        }
        return f64::INFINITY;
    }
    if x < 0.5 {
        return std::f64::consts::PI / ((std::f64::consts::PI * x).sin() * gamma(1.0 - x));
    }
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (k, g) in G.iter().enumerate().skip(1) {
        a += g / (x + k as f64);
    }
    (2.0 * std::f64::consts::PI).sqrt() * t.powf(x + 0.5) * (-t).exp() * a
}

fn binomial(n: f64, k: f64) -> f64 {
    if k.fract() == 0.0 && (0.0..=10_000.0).contains(&k) {
        if n.fract() == 0.0 && n >= 0.0 && k > n {
            return 0.0;
        }
        let mut acc = 1.0;
        let mut j = 0.0;
        while j < k {
            acc = acc * (n - j) / (j + 1.0);
            j += 1.0;
        }
        return acc;
    }
    gamma(n + 1.0) / (gamma(k + 1.0) * gamma(n - k + 1.0))
}

/// The exact decimal value of `x`'s shortest representation, as p/q (SymPy's `nsimplify` of a
/// decimal), when it fits in 128 bits.
fn to_fraction(x: f64) -> Option<(i128, i128)> {
    if !x.is_finite() {
        return None;
    }
    let sci = format!("{:e}", x.abs());
    let (mant, exp) = sci.split_once('e')?;
    let exp: i32 = exp.parse().ok()?;
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let frac_digits = mant.split_once('.').map_or(0, |(_, f)| f.len()) as i32;
    let mut num: i128 = digits.parse().ok()?;
    let shift = exp - frac_digits; // value = num * 10^shift
    let mut den: i128 = 1;
    if shift >= 0 {
        num = num.checked_mul(10i128.checked_pow(shift as u32)?)?;
    } else {
        den = 10i128.checked_pow((-shift) as u32)?;
    }
    let g = igcd(num, den).max(1);
    Some((if x < 0.0 { -num / g } else { num / g }, den / g))
}

fn igcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// gcd / lcm of rationals: gcd(a/b, c/d) = gcd(a, c) / lcm(b, d).
fn rational_gcd_lcm(xs: &[f64], gcd: bool) -> f64 {
    let mut acc: Option<(i128, i128)> = None;
    for &x in xs {
        let Some((p, q)) = to_fraction(x) else { return f64::NAN };
        acc = Some(match acc {
            None => (p.abs(), q),
            Some((ap, aq)) => {
                if gcd {
                    let num = igcd(ap, p);
                    let l = aq / igcd(aq, q) * q;
                    (num, l)
                } else {
                    if ap == 0 || p == 0 {
                        return 0.0;
                    }
                    let num = (ap / igcd(ap, p)).checked_mul(p.abs()).unwrap_or(0);
                    (num, igcd(aq, q))
                }
            }
        });
    }
    acc.map_or(f64::NAN, |(p, q)| p as f64 / q as f64)
}

/// A deterministic stand-in for an undefined function: a hash of its name and (rounded)
/// arguments mapped to [1, 2).
fn undefined_function(name: &str, args: &[C64]) -> C64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut mix = |b: u64| {
        h ^= b;
        h = h.wrapping_mul(0x0100_0000_01b3);
    };
    name.bytes().for_each(|b| mix(u64::from(b)));
    for a in args {
        for part in [a.re, a.im] {
            let rounded = if part == 0.0 || !part.is_finite() { part } else { round_sig(part, 9) };
            mix(rounded.to_bits());
        }
    }
    C64::real(1.0 + (h >> 11) as f64 / (1u64 << 53) as f64)
}

fn round_sig(x: f64, digits: i32) -> f64 {
    let mag = x.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits - 1 - mag);
    (x * scale).round() / scale
}

fn integer_value(n: &Node, env: &Env, budget: &Budget) -> Result<Option<f64>, EvalError> {
    let v = eval(n, env, budget)?;
    Ok(real_arg(v).filter(|r| r.fract() == 0.0 || r.is_infinite()))
}

fn sum(
    body: &Node,
    var: &str,
    lo: &Node,
    hi: &Node,
    product: bool,
    env: &Env,
    budget: &Budget,
) -> Result<C64, EvalError> {
    let (Some(a), Some(b)) = (integer_value(lo, env, budget)?, integer_value(hi, env, budget)?) else {
        return Err(EvalError::Unsupported("a sum with non-integer bounds"));
    };
    if !a.is_finite() {
        return Err(EvalError::Unsupported("a sum from infinity"));
    }
    let infinite = b == f64::INFINITY;
    let last = if infinite { a + MAX_SUM_TERMS as f64 } else { b };
    if last - a > MAX_SUM_TERMS as f64 {
        return Err(EvalError::Unsupported("a sum with too many terms"));
    }
    let mut acc = if product { C64::ONE } else { C64::ZERO };
    let mut inner = env.clone();
    let mut k = a;
    let mut last_term = C64::ZERO;
    while k <= last {
        inner.set(var, C64::real(k));
        last_term = eval(body, &inner, budget)?;
        acc = if product { acc * last_term } else { acc + last_term };
        k += 1.0;
        // An infinite series stops once its terms no longer change the sum.
        if infinite && !product && k > a + 10.0 && last_term.abs() <= 1e-17 * acc.abs() {
            return Ok(acc);
        }
    }
    if infinite && !product && last_term.abs() > 1e-12 * acc.abs().max(1.0) {
        return Err(EvalError::Unsupported("a slowly converging infinite sum"));
    }
    Ok(acc)
}

fn integral(
    body: &Node,
    var: &str,
    lo: &Node,
    hi: &Node,
    env: &Env,
    budget: &Budget,
) -> Result<C64, EvalError> {
    let (Some(a), Some(b)) = (real_arg(eval(lo, env, budget)?), real_arg(eval(hi, env, budget)?)) else {
        return Err(EvalError::Unsupported("an integral with complex bounds"));
    };
    if !a.is_finite() || !b.is_finite() {
        return Err(EvalError::Unsupported("an improper integral"));
    }
    // Composite Simpson's rule; answers with integrals are rare, precision needs are modest.
    let n = 1000;
    let h = (b - a) / n as f64;
    let mut inner = env.clone();
    let mut f = |x: f64| -> Result<C64, EvalError> {
        inner.set(var, C64::real(x));
        eval(body, &inner, budget)
    };
    let mut acc = f(a)? + f(b)?;
    for k in 1..n {
        let w = if k % 2 == 1 { 4.0 } else { 2.0 };
        acc = acc + f(a + k as f64 * h)? * C64::real(w);
    }
    Ok(acc * C64::real(h / 3.0))
}

fn limit(body: &Node, var: &str, to: &Node, dir: i8, env: &Env, budget: &Budget) -> Result<C64, EvalError> {
    let target = eval(to, env, budget)?;
    let mut inner = env.clone();
    let mut at = |x: C64| -> Result<C64, EvalError> {
        inner.set(var, x);
        eval(body, &inner, budget)
    };
    let (near, nearer) = if target.re.is_infinite() {
        let s = target.re.signum();
        (at(C64::real(s * 1e7))?, at(C64::real(s * 1e9))?)
    } else if dir < 0 {
        (at(target - C64::real(1e-6))?, at(target - C64::real(1e-8))?)
    } else {
        (at(target + C64::real(1e-6))?, at(target + C64::real(1e-8))?)
    };
    if (near - nearer).abs() > 1e-4 * nearer.abs().max(1.0) {
        return Err(EvalError::Unsupported("a limit that does not settle numerically"));
    }
    Ok(nearer)
}

fn derivative(body: &Node, var: &str, env: &Env, budget: &Budget) -> Result<C64, EvalError> {
    let x = env.get(var).ok_or_else(|| EvalError::Unbound(var.to_string()))?;
    let h = 1e-5 * x.abs().max(1.0);
    let mut inner = env.clone();
    inner.set(var, x + C64::real(h));
    let up = eval(body, &inner, budget)?;
    inner.set(var, x - C64::real(h));
    let down = eval(body, &inner, budget)?;
    Ok((up - down) / C64::real(2.0 * h))
}

fn determinant(rows: &[Vec<Node>], env: &Env, budget: &Budget) -> Result<C64, EvalError> {
    let n = rows.len();
    if n == 0 || n > 12 || rows.iter().any(|r| r.len() != n) {
        return Err(EvalError::Unsupported("a non-square determinant"));
    }
    let mut m: Vec<Vec<C64>> = Vec::with_capacity(n);
    for r in rows {
        let mut row = Vec::with_capacity(n);
        for x in r {
            row.push(eval(x, env, budget)?);
        }
        m.push(row);
    }
    let mut det = C64::ONE;
    for col in 0..n {
        let pivot = (col..n).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs())).unwrap_or(col);
        if m[pivot][col].abs() == 0.0 {
            return Ok(C64::ZERO);
        }
        if pivot != col {
            m.swap(pivot, col);
            det = -det;
        }
        det = det * m[col][col];
        let pivot_row = m[col].clone();
        for row in m.iter_mut().skip(col + 1) {
            let factor = row[col] / pivot_row[col];
            for (x, p) in row.iter_mut().zip(&pivot_row).skip(col) {
                *x = *x - factor * *p;
            }
        }
    }
    Ok(det)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_functions() {
        assert!((gamma(5.0) - 24.0).abs() < 1e-12);
        assert!((gamma(0.5) - std::f64::consts::PI.sqrt()).abs() < 1e-12);
        assert_eq!(binomial(16.0, 2.0), 120.0);
        assert_eq!(rational_gcd_lcm(&[18.0, 3.0], true), 3.0);
        assert!((rational_gcd_lcm(&[2.4, 3.6, 0.6], true) - 0.6).abs() < 1e-12);
        assert_eq!(rational_gcd_lcm(&[-8.0, -12.0], false), 24.0);
    }
}
