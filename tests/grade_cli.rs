//! `arbor grade` as a user runs it: exit codes, the explanation, and `--batch` order.

use std::io::Write;
use std::process::{Command, Stdio};

fn arbor() -> Command {
    Command::new(env!("CARGO_BIN_EXE_arbor"))
}

#[test]
fn single_pair_exit_codes_and_explanation() {
    let out = arbor().args(["grade", r"\frac{1}{2}", "0.5"]).output().expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("equal"), "{text}");
    assert!(text.contains("rule:"), "{text}");

    let out = arbor().args(["grade", "[1, 2, 3]", "(1, 3, 2)"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("not equal"));

    let out =
        arbor().args(["grade", "--extract", "42", r"so the total is \boxed{42}."]).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn batch_keeps_order_and_adds_equal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("preds.jsonl");
    let mut lines = Vec::new();
    for k in 0..400 {
        let pred = if k % 3 == 0 { format!("{k}.0") } else { format!("{}", k + 1) };
        lines.push(serde_json::json!({"id": k, "gold": k.to_string(), "pred": pred}).to_string());
    }
    lines.push(r#"{"id": "list", "gold": ["3", "-3"], "pred": "-3"}"#.to_string());
    std::fs::File::create(&path).and_then(|mut f| f.write_all(lines.join("\n").as_bytes())).expect("write");

    let out = arbor().args(["grade", "--batch"]).arg(&path).args(["--threads", "2"]).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON out"))
        .collect();
    assert_eq!(rows.len(), 401);
    for (k, row) in rows.iter().take(400).enumerate() {
        assert_eq!(row["id"], k, "order kept");
        assert_eq!(row["equal"], k % 3 == 0, "line {k}: {row}");
    }
    assert_eq!(rows[400]["equal"], true);
    // Keys keep their order, `equal` last.
    assert!(lines[0].len() < serde_json::to_string(&rows[0]).expect("json").len());
}

#[test]
fn batch_reports_bad_lines_with_their_number() {
    let mut child = arbor()
        .args(["grade", "--batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"{\"gold\": \"1\", \"pred\": \"1\"}\n{\"pred\": \"2\"}\n")
        .expect("write");
    let out = child.wait_with_output().expect("finishes");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2"), "{err}");
}
