//! Python's `float()` parsing and `repr()` / `'{:e}'` formatting, because the reference's
//! normaliser prints numbers with them (`10\%` → `{"0.1", "10.0"}`, `1e5` → `1.000000*10^{+05}`).

/// `float(s)` in Python: surrounding whitespace, underscores between digits, `inf`/`nan`.
pub fn py_float(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    let lower = t.to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    if lower.len() - body.len() > 1 {
        return None;
    }
    if matches!(body, "inf" | "infinity" | "nan") {
        return t.parse::<f64>().ok().or(Some(if lower.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        }));
    }
    if !body.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'_' | b'+' | b'-')) {
        return None;
    }
    if t.contains('_') {
        // Underscores only between two digits.
        let b = t.as_bytes();
        for (k, &c) in b.iter().enumerate() {
            if c == b'_'
                && !(k > 0 && b[k - 1].is_ascii_digit() && b.get(k + 1).is_some_and(|n| n.is_ascii_digit()))
            {
                return None;
            }
        }
        return t.replace('_', "").parse().ok();
    }
    t.parse().ok()
}

/// The reference's `_is_int`: within 1e-7 of an integer (infinities and NaN are not).
pub fn is_int(x: f64) -> bool {
    x.is_finite() && (x - x.round_ties_even()).abs() <= 1e-7
}

/// `str(int(round(x)))` for a finite float.
pub fn int_string(x: f64) -> String {
    let r = x.round_ties_even();
    if r == 0.0 { "0".to_string() } else { format!("{r:.0}") }
}

/// Python's `repr(float)`: shortest round-trip digits, scientific outside [1e-4, 1e16).
pub fn py_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0".into() } else { "0.0".into() };
    }
    // `{:e}` gives the shortest round-trip mantissa, e.g. "1.2345e-5".
    let sci = format!("{x:e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let sign = if neg { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        let s = if point <= 0 {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        } else if point as usize >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
        } else {
            format!("{}.{}", &digits[..point as usize], &digits[point as usize..])
        };
        return format!("{sign}{s}");
    }
    let rest = &digits[1..];
    let mant = if rest.is_empty() { digits[..1].to_string() } else { format!("{}.{}", &digits[..1], rest) };
    format!("{sign}{mant}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
}

/// Python's `'{:e}'.format(x)`: six decimals and a signed two-digit exponent.
pub fn py_format_e(x: f64) -> String {
    let s = format!("{x:.6e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    format!("{mant}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_python() {
        assert_eq!(py_repr(0.1), "0.1");
        assert_eq!(py_repr(10.0), "10.0");
        assert_eq!(py_repr(0.125), "0.125");
        assert_eq!(py_repr(1e-5), "1e-05");
        assert_eq!(py_repr(1e16), "1e+16");
        assert_eq!(py_repr(123456.789), "123456.789");
        assert_eq!(py_repr(0.0001), "0.0001");
        assert_eq!(py_format_e(100000.0), "1.000000e+05");
        assert_eq!(py_format_e(4.5e33), "4.500000e+33");
        assert_eq!(py_float(" 1_000 "), Some(1000.0));
        assert_eq!(py_float("1e5"), Some(1e5));
        assert_eq!(py_float("1,000"), None);
        assert_eq!(py_float("-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(int_string(2.0), "2");
        assert_eq!(int_string(-0.0), "0");
    }
}
