//! arbor's JSON matches what CPython's `json.dumps(..., ensure_ascii=False)` writes, checked
//! against the real python3 on many floats and awkward strings.

#![allow(clippy::unwrap_used)] // tests unwrap what they built themselves

use std::io::Write;
use std::process::{Command, Stdio};

use arbor::store::pyjson;

/// xorshift64*: a fixed, dependency-free source of varied bit patterns.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545F4914F6CDD1D)
}

#[test]
fn floats_and_strings_match_python_json_dumps() {
    let mut floats =
        vec![0.1, 1.0 / 3.0, 2.0 / 3.0, 1e-4, 1e-5, 9.999e15, 1e16, 1.2345e-300, 0.49000000000000005];
    let mut state = 0x9E3779B97F4A7C15u64;
    for _ in 0..20_000 {
        let bits = next(&mut state);
        let f = f64::from_bits(bits);
        if f.is_finite() {
            floats.push(f);
        }
        // Values in the range trees actually hold.
        floats.push((next(&mut state) % 2_000_001) as f64 / 1_000_000.0 - 1.0);
        floats.push(((next(&mut state) >> 11) as f64 / (1u64 << 53) as f64).exp());
    }
    let strings = vec![
        "plain".to_owned(),
        "tab\there \"quoted\" back\\slash\nnew\rline\u{8}\u{c}".to_owned(),
        "\u{1}\u{1f}\u{7f}é中文🙂\u{2028}".to_owned(),
    ];
    let value = serde_json::json!({"floats": floats, "strings": strings, "nested": {"a": [], "b": {}, "c": [1, -2, true, null]}});
    let ours = pyjson::to_string(&value).unwrap();

    let script = "import json,sys\nv=json.loads(sys.stdin.read())\nsys.stdout.write(json.dumps(v, ensure_ascii=False))";
    let mut child = match Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            println!("SKIP: python3 is not available ({e})");
            return;
        }
    };
    child.stdin.take().unwrap().write_all(ours.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let theirs = String::from_utf8(out.stdout).unwrap();
    if ours != theirs {
        let at = ours.bytes().zip(theirs.bytes()).position(|(a, b)| a != b).unwrap_or(0);
        let lo = at.saturating_sub(60);
        panic!("differ at byte {at}:\n ours:   {}\n python: {}", &ours[lo..at + 40], &theirs[lo..at + 40]);
    }
}
