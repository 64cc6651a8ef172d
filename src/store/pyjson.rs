//! JSON written byte for byte as Python's `json.dumps(obj, ensure_ascii=False)` writes it:
//! `", "` and `": "` separators and floats in `repr` form (`1e-05`, `1e+16`, `0.1`, `20.0`).
//! String escaping already agrees with serde_json (`\"`, `\\`, `\n`, `\t`, ..., `\u00XX`).

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::Formatter;

/// A serde_json formatter that writes Python's separators and float spelling.
#[derive(Clone, Copy, Debug, Default)]
pub struct PythonFormatter;

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn write_f64<W: ?Sized + Write>(&mut self, w: &mut W, value: f64) -> io::Result<()> {
        write_python_float(w, value)
    }

    fn write_f32<W: ?Sized + Write>(&mut self, w: &mut W, value: f32) -> io::Result<()> {
        write_python_float(w, f64::from(value))
    }
}

/// Appends `value` as one line of Python-style JSON (without the newline) to `out`.
pub fn write_json<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), serde_json::Error> {
    let mut ser = serde_json::Serializer::with_formatter(out, PythonFormatter);
    value.serialize(&mut ser)
}

/// `value` as Python-style JSON text.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let mut out = Vec::new();
    write_json(&mut out, value)?;
    // serde_json only writes UTF-8.
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Writes a finite float as Python's `repr` does. Non-finite values never reach here:
/// serde_json writes them as `null`, and trees refuse them.
pub fn write_python_float<W: ?Sized + Write>(w: &mut W, value: f64) -> io::Result<()> {
    let mut buf = [0u8; 40];
    let len = python_float_repr(value, &mut buf);
    w.write_all(&buf[..len])
}

/// Python's float `repr` into `buf`, returning the length used. The shortest round-trip
/// digits come from Rust's `{:e}` (which, like Python, picks the shortest digit string that
/// reads back to the same double); the layout follows CPython's `format_float_short`:
/// exponent form when the decimal point position is `<= -4` or `> 16`.
pub fn python_float_repr(value: f64, buf: &mut [u8; 40]) -> usize {
    let mut out = Cursor { buf, len: 0 };
    if value.is_nan() {
        out.push_str("NaN");
        return out.len;
    }
    if value.is_infinite() {
        out.push_str(if value < 0.0 { "-Infinity" } else { "Infinity" });
        return out.len;
    }
    if value.is_sign_negative() {
        out.push(b'-');
    }
    if value == 0.0 {
        out.push_str("0.0");
        return out.len;
    }
    let mut sci = [0u8; 40];
    let mut sci_len = format_sci(&mut sci, value.abs(), None);
    // Rust's shortest digits break exact ties upward; CPython keeps the candidate nearest to
    // the value and breaks ties to even. Ties need 16+ digits, where the correctly rounded
    // n-digit form (half-even) is the one to take whenever it still reads back to the value.
    let e_at = sci[..sci_len].iter().position(|&b| b == b'e').unwrap_or(sci_len);
    let n_digits = sci[..e_at].iter().filter(|b| b.is_ascii_digit()).count();
    if n_digits >= 16 {
        let mut rounded = [0u8; 40];
        let len = format_sci(&mut rounded, value.abs(), Some(n_digits - 1));
        let reads_back = std::str::from_utf8(&rounded[..len])
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .is_some_and(|r| r == value.abs());
        if reads_back {
            sci = rounded;
            sci_len = len;
        }
    }
    let sci = &sci[..sci_len];
    let e_at = sci.iter().position(|&b| b == b'e').unwrap_or(sci.len());
    let mut digits = [0u8; 24];
    let mut n = 0;
    for &b in &sci[..e_at] {
        if b != b'.' {
            digits[n] = b;
            n += 1;
        }
    }
    let digits = &digits[..n];
    let exponent: i32 =
        std::str::from_utf8(&sci[(e_at + 1).min(sci.len())..]).ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    // CPython's decpt: the value is 0.DIGITS × 10^decpt.
    let decpt = exponent + 1;
    if decpt <= -4 || decpt > 16 {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.push_bytes(&digits[1..]);
        }
        out.push(b'e');
        out.push(if exponent < 0 { b'-' } else { b'+' });
        let e = exponent.unsigned_abs();
        if e < 10 {
            out.push(b'0');
        }
        out.push_u32(e);
    } else if decpt <= 0 {
        out.push_str("0.");
        for _ in 0..(-decpt) {
            out.push(b'0');
        }
        out.push_bytes(digits);
    } else {
        let point = decpt as usize;
        if point >= digits.len() {
            out.push_bytes(digits);
            for _ in digits.len()..point {
                out.push(b'0');
            }
            out.push_str(".0");
        } else {
            out.push_bytes(&digits[..point]);
            out.push(b'.');
            out.push_bytes(&digits[point..]);
        }
    }
    out.len
}

/// `value` in Rust's `{:e}` form (shortest digits, or `precision` digits after the point,
/// correctly rounded) into `buf`; returns the length. At most 17 digits and a 3-digit
/// exponent, so 40 bytes always suffice.
fn format_sci(buf: &mut [u8; 40], value: f64, precision: Option<usize>) -> usize {
    let mut c = io::Cursor::new(&mut buf[..]);
    let _ = match precision {
        None => write!(c, "{value:e}"),
        Some(p) => write!(c, "{value:.p$e}"),
    };
    c.position() as usize
}

struct Cursor<'a> {
    buf: &'a mut [u8; 40],
    len: usize,
}

impl Cursor<'_> {
    fn push(&mut self, b: u8) {
        self.buf[self.len] = b;
        self.len += 1;
    }
    fn push_bytes(&mut self, bytes: &[u8]) {
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }
    fn push_str(&mut self, s: &str) {
        self.push_bytes(s.as_bytes());
    }
    fn push_u32(&mut self, v: u32) {
        let mut tmp = [0u8; 10];
        let mut i = tmp.len();
        let mut v = v;
        loop {
            i -= 1;
            tmp[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.push_bytes(&tmp[i..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repr(v: f64) -> String {
        let mut buf = [0u8; 40];
        let n = python_float_repr(v, &mut buf);
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn float_repr_matches_python() {
        // Pairs checked against CPython 3.11 `repr`.
        let cases = [
            (0.49000000000000005, "0.49000000000000005"),
            (1.0, "1.0"),
            (-1.0, "-1.0"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (1e100, "1e+100"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (0.33375, "0.33375"),
            (20.0, "20.0"),
            (-100.0, "-100.0"),
            (0.9801986733067553, "0.9801986733067553"),
            (1234.5, "1234.5"),
            // The double is exactly ...182.25, a tie between two 17-digit strings: CPython
            // rounds half to even.
            (2127524128142182.2, "2127524128142182.2"),
        ];
        for (v, want) in cases {
            assert_eq!(repr(v), want, "repr({v:e})");
        }
    }

    #[test]
    fn separators_match_python() {
        let v = serde_json::json!({"a": [1, 2.5, {"b": null}], "c": "x\ny\u{1}é"});
        assert_eq!(to_string(&v).unwrap(), r#"{"a": [1, 2.5, {"b": null}], "c": "x\ny\u0001é"}"#);
        assert_eq!(to_string(&serde_json::json!({})).unwrap(), "{}");
        assert_eq!(to_string(&serde_json::json!([])).unwrap(), "[]");
    }
}
