//! The reference's `string_normalize`, rule by rule (alphamath-reference.md §12.2).
//!
//! The result is one string, or a set of alternatives (percent: `x/100` and `x`; a base
//! subscript: the digits and their decimal value; degrees: the number and `N/180*\pi`; pm
//! times: 12 h and 24 h). The reference answers "equal" when any alternative matches.

use std::sync::LazyLock;

use regex::Regex;

use super::pyfloat::{int_string, is_int, py_float, py_format_e, py_repr};
use super::units;

/// A normalised answer: one string or a set of alternatives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Normalized {
    One(String),
    Alternatives(Vec<String>),
}

impl Normalized {
    fn set(items: impl IntoIterator<Item = String>) -> Normalized {
        let mut v: Vec<String> = Vec::new();
        for s in items {
            if !v.contains(&s) {
                v.push(s);
            }
        }
        v.sort();
        Normalized::Alternatives(v)
    }

    /// The alternatives (one for a plain string).
    pub fn items(&self) -> &[String] {
        match self {
            Normalized::One(s) => std::slice::from_ref(s),
            Normalized::Alternatives(v) => v,
        }
    }
}

/// The reference's two flags (`remove_mid_std_space`, `lower_case`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags {
    pub remove_spaces: bool,
    pub lower_case: bool,
}

impl Flags {
    pub const DEFAULT: Flags = Flags { remove_spaces: true, lower_case: true };
    pub const KEEP_SPACES: Flags = Flags { remove_spaces: false, lower_case: true };
    pub const KEEP_CASE: Flags = Flags { remove_spaces: true, lower_case: false };
}

macro_rules! re {
    ($name:ident, $pat:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| compile($pat));
    };
}

/// Compiles a pattern written in this file (not external data): a bad one is a bug that the
/// unit tests hit on first use.
fn compile(pat: &str) -> Regex {
    #[allow(clippy::expect_used)]
    Regex::new(pat).expect("built-in pattern compiles")
}

re!(TEXT_WRAP, r"(?s)^\\\s*(?:text|mbox)\{\s*(?P<text>.+?)\}$");
re!(SET_BUILDER, r"(?s)^\\\{(.*)\|(.*)\\\}$");
re!(BASE, r"^([0-9]+)_(?:([0-9])|\{([0-9]+)\})$");
re!(AND_OR, r",? *((\\text\{ *(and|or) *\})| (and|or) )");
re!(X_IN, r"[a-zA-Z]+\s*\\in");
re!(TIME_HOUR, r"(?i)^(\d{1,2})\s*((?:\\text\{\s*[ap]\.?m\.?\s*\})|(?:[ap]\.?m\.?))$");
re!(TIME_CLOCK, r"(?i)^(\d{1,2}):(\d{2})(?::(\d{2}))?\s*((?:\\text\{\s*[ap]\.?m\.?\s*\})|(?:[ap]\.?m\.?))?$");
re!(TEXT_ANY, r"(\\)+text\{[a-zA-Z ]+(\^\d|\^\{\d+\})? *\} *(\^\d|\^\{\d+\})?");
re!(CIRC, r"\^ *(?:\{ *\\circ *\}|\\circ)");
re!(CIRC_NUMBER, r"(\d*)(\.\d+)? *\^ *(?:\{ *\\circ *\}|\\circ)");
re!(DASH, r"- *");
re!(MIXED_SLASH, r"(\d+) +(\d+/\d+)");
re!(MIXED_FRAC, r"(\d+) *(\\frac(\d|\{\d+\})(\d|\{\d+\}))");
re!(THOUSANDS, r"\d{1,3}(?:, ?\d{3})+");

static TEXT_UNITS: LazyLock<Regex> = LazyLock::new(|| {
    let alts: Vec<&str> = units::all().collect();
    compile(&format!(
        r"(\\)+(?:text|mbox)\{{\s*(?:{})(es|s)? *(\^\d|\^\{{\d+\}})?\}} *(\^\d|\^\{{\d+\}})?",
        alts.join("|")
    ))
});
static LONG_UNITS: LazyLock<Regex> =
    LazyLock::new(|| compile(&format!(r" *(?:{})(es|s)? *(\^\d|\^\{{\d+\}}+)?", units::LONG.join("|"))));
static SHORT_UNITS: LazyLock<Regex> =
    LazyLock::new(|| compile(&format!(r" +(?:{})(es|s)? *(\^\d|\^\{{\d+\}}+)?", units::SHORT.join("|"))));

/// `string_normalize(expr, remove_mid_std_space, lower_case)`.
pub fn normalize(input: &str, flags: Flags) -> Normalized {
    let mut current = input.to_string();
    // The reference recurses here; past Python's recursion limit it gives up and returns the
    // text unchanged. arbor gives up sooner.
    for _ in 0..MAX_UNWRAP {
        let expr = current.trim_matches(' ').to_string();
        let expr = matrix_normalize(&expr);
        // An enclosing `\text{...}` / `\mbox{...}`: unwrap and start again.
        if let Some(c) = TEXT_WRAP.captures(&expr) {
            current = c.name("text").map_or("", |m| m.as_str()).to_string();
            continue;
        }
        // Set-builder `\{x | cond\}`: keep the condition and start again. An empty condition makes
        // the reference raise, and its normaliser then returns its input unchanged.
        if let Some(c) = SET_BUILDER.captures(&expr) {
            match c.get(2).map(|m| m.as_str()).filter(|s| !s.is_empty()) {
                Some(cond) => {
                    current = cond.to_string();
                    continue;
                }
                None => return Normalized::One(current),
            }
        }
        return normalize_flat(expr, flags);
    }
    Normalized::One(current)
}

/// Enclosing `\text{}` / set-builder layers removed before giving up.
const MAX_UNWRAP: usize = 64;

fn normalize_flat(mut expr: String, flags: Flags) -> Normalized {
    for sp in [r"\:", r"\,", r"\;", r"\!"] {
        expr = expr.replace(sp, "");
    }
    expr = expr.replace("{,}", ",");

    if let Some(c) = BASE.captures(&expr) {
        let digits = c.get(1).map_or("", |m| m.as_str()).to_string();
        let base = c.get(2).or(c.get(3)).map_or("", |m| m.as_str());
        let mut alts = vec![digits.clone()];
        if let Some(dec) = base_to_decimal(&digits, base) {
            alts.push(dec);
        }
        return Normalized::set(alts);
    }

    if expr.contains('%') {
        expr = expr.replace(r"\%", "%").replace('%', "");
        if let Some(x) = py_float(&expr) {
            return Normalized::set([py_repr(x / 100.0), py_repr(x)]);
        }
    }

    expr = expr.replace(r"\$", "$").replace('$', "");
    expr = AND_OR.replace_all(&expr, " , ").into_owned();
    expr = expr.replace("million", "*10^6").replace("billion", "*10^9").replace("trillion", "*10^12");
    // Control characters from bad JSON escapes: "\tfrac" read as TAB + "frac".
    expr = expr
        .replace('\x0c', r"\f")
        .replace('\x08', r"\b")
        .replace('\x07', r"\a")
        .replace('\t', r"\t")
        .replace('\r', r"\r");
    expr = expr
        .replace(r"\left(", "(")
        .replace(r"\left[", "[")
        .replace(r"\right)", ")")
        .replace(r"\right]", "]");
    expr = X_IN.replace_all(&expr, "").into_owned();

    match time_of_day(&expr) {
        Some(Normalized::Alternatives(v)) => return Normalized::Alternatives(v),
        Some(Normalized::One(s)) => expr = s,
        None => {}
    }

    expr = TEXT_UNITS.replace_all(&expr, "").into_owned();
    expr = TEXT_ANY.replace_all(&expr, "").into_owned();
    expr = LONG_UNITS.replace_all(&expr, "").into_owned();
    expr = SHORT_UNITS.replace_all(&expr, "").into_owned();

    if CIRC.is_match(&expr) {
        let plain = CIRC.replace_all(&expr, "").into_owned();
        let radians = CIRC_NUMBER.replace_all(&expr, r"${1}${2}/180*\pi").into_owned();
        return Normalized::set([further_normalize(&plain, flags), further_normalize(&radians, flags)]);
    }
    Normalized::One(further_normalize(&expr, flags))
}

/// `_str_matrix_normalize`: `cases`/`array` become `matrix`; doubled backslashes are undone
/// unless the string is a correctly escaped matrix.
fn matrix_normalize(expr: &str) -> String {
    let mut e = expr.replace("{cases}", "{matrix}").replace("{array}", "{matrix}");
    let proper_matrix = !e.contains(r"\\begin") && e.contains(r"\begin") && e.contains("matrix");
    if !proper_matrix {
        e = e.replace(r"\\", r"\");
    }
    e
}

/// Digits in base `base` to a decimal string (arbitrary length, as Python's integers).
fn base_to_decimal(digits: &str, base: &str) -> Option<String> {
    let base: u64 = base.parse().ok()?;
    if digits.len() > 5_000 || base > u64::from(u32::MAX) {
        return None;
    }
    // Little-endian limbs of 10^9.
    let mut limbs: Vec<u64> = vec![0];
    for d in digits.bytes() {
        let d = u64::from(d - b'0');
        let mut carry = d;
        for limb in limbs.iter_mut() {
            let v = *limb * base + carry;
            *limb = v % 1_000_000_000;
            carry = v / 1_000_000_000;
        }
        while carry > 0 {
            limbs.push(carry % 1_000_000_000);
            carry /= 1_000_000_000;
        }
    }
    let mut s = limbs.last().map_or(String::from("0"), |l| l.to_string());
    for limb in limbs.iter().rev().skip(1) {
        s.push_str(&format!("{limb:09}"));
    }
    Some(s)
}

/// `_str_to_time_list`: `2 pm`, `08:30 \text{pm}`, `20:34:00`.
fn time_of_day(expr: &str) -> Option<Normalized> {
    let is_pm = |m: &str| {
        let l = m.to_lowercase();
        l.contains("p.m.") || l.contains("pm")
    };
    if let Some(c) = TIME_HOUR.captures(expr) {
        let hour = c.get(1)?.as_str();
        let meridiem = c.get(2)?.as_str();
        if is_pm(meridiem) {
            let h: u32 = hour.parse().ok()?;
            return Some(Normalized::set([(h % 12).to_string(), (h % 12 + 12).to_string()]));
        }
        return Some(Normalized::One(hour.to_string()));
    }
    let c = TIME_CLOCK.captures(expr)?;
    let h: u32 = c.get(1)?.as_str().parse().ok()?;
    let m: u32 = c.get(2)?.as_str().parse().ok()?;
    let s: u32 = c.get(3).map_or(Some(0), |x| x.as_str().parse().ok())?;
    let pm = c.get(4).is_some_and(|x| is_pm(x.as_str()));
    let hours: Vec<u32> = if pm { vec![h % 12, h % 12 + 12] } else { vec![h] };
    let show = |h: u32| {
        if s != 0 {
            format!("[{h}, {m}, {s}]")
        } else if m == 0 {
            h.to_string()
        } else {
            format!("[{h}, {m}]")
        }
    };
    Some(if pm { Normalized::set(hours.into_iter().map(show)) } else { Normalized::One(show(h)) })
}

/// `further_string_normalize`.
pub fn further_normalize(input: &str, flags: Flags) -> String {
    let mut expr = input.to_string();
    if expr.starts_with('{') && expr.ends_with('}') && !expr.is_empty() {
        expr = expr[1..expr.len() - 1].to_string();
    }
    if let Some(x) = py_float(&expr).filter(|x| is_int(*x)) {
        expr = if expr.contains('e') {
            if x != 0.0 { py_format_e(x).replace('e', "*10^{") + "}" } else { expr }
        } else {
            int_string(x)
        };
    }
    if expr.contains('\\') {
        expr = expr
            .replace(r"\tfrac", r"\frac")
            .replace(r"\cfrac", r"\frac")
            .replace(r"\dfrac", r"\frac")
            .replace('√', "sqrt")
            .replace('π', "pi")
            .replace('∞', "inf")
            .replace('∪', "U")
            .replace(['·', '×'], "*")
            .trim()
            .to_string();
    }
    expr = DASH.replace_all(&expr, "-").into_owned();
    expr = MIXED_SLASH.replace_all(&expr, "${1}+${2}").into_owned();
    expr = MIXED_FRAC.replace_all(&expr, "${1}+${2}").into_owned();
    if flags.remove_spaces {
        expr = expr.replace(' ', "");
    }
    if flags.lower_case {
        expr = expr.to_lowercase();
    }
    if str_is_int(&expr)
        && let Some(s) = int_like_to_sympy(&expr)
    {
        expr = s;
    }
    expr
}

/// Removes commas of well-formed thousands groups (`1,234` → `1234`; `1, 234` → `1 234`).
pub fn strip_thousands(expr: &str) -> String {
    THOUSANDS.replace_all(expr, |c: &regex::Captures<'_>| c[0].replace(',', "")).into_owned()
}

fn str_is_int(x: &str) -> bool {
    py_float(&strip_thousands(x)).is_some_and(is_int)
}

/// `str(latex2sympy(x))` for an integer-like decimal string: the exact rational it denotes.
fn int_like_to_sympy(x: &str) -> Option<String> {
    let s: String = x.chars().filter(|c| *c != ',' && !c.is_whitespace()).collect();
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(&s)),
    };
    let (int_part, frac_part) = body.split_once('.').unwrap_or((body, ""));
    if !int_part.bytes().chain(frac_part.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac_trim = frac_part.trim_end_matches('0');
    let sign = if neg { "-" } else { "" };
    if frac_trim.is_empty() {
        let digits = int_part.trim_start_matches('0');
        return Some(if digits.is_empty() { "0".into() } else { format!("{sign}{digits}") });
    }
    let all: String = format!("{int_part}{frac_trim}");
    if all.len() > 36 {
        return None;
    }
    let mut num: u128 = all.parse().ok()?;
    let mut den: u128 = 10u128.checked_pow(frac_trim.len() as u32)?;
    for p in [2u128, 5] {
        while num.is_multiple_of(p) && den.is_multiple_of(p) {
            num /= p;
            den /= p;
        }
    }
    if num == 0 {
        return Some("0".into());
    }
    Some(format!("{sign}{num}/{den}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> String {
        match normalize(s, Flags::DEFAULT) {
            Normalized::One(x) => x,
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn reference_examples() {
        assert_eq!(one(r"\text{(A)}"), "(a)");
        assert_eq!(one(r"\text{ 5 cm}"), "5");
        assert_eq!(one("1,000"), "1000");
        assert_eq!(one(r"7, -2, \text{ and } -5"), "7,-2,-5");
        assert_eq!(one("1e5"), "1.000000*10^{+05}");
        assert_eq!(one("5cm"), "5cm");
        assert_eq!(one("5weeks"), "5");
        assert_eq!(
            normalize(r"10\%", Flags::DEFAULT),
            Normalized::Alternatives(vec!["0.1".into(), "10.0".into()])
        );
        assert_eq!(
            normalize("4210_{7}", Flags::DEFAULT),
            Normalized::Alternatives(vec!["1477".into(), "4210".into()])
        );
        assert_eq!(int_like_to_sympy("4.0000001"), Some("40000001/10000000".into()));
    }
}
