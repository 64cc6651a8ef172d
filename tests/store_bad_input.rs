//! Bad tree files: every problem is reported as file:line with a clear message, good lines
//! still load, nothing panics.

#![allow(clippy::unwrap_used)] // tests unwrap what they built themselves

mod common;

use std::path::PathBuf;
use std::process::Command;

use arbor::store::{Diagnostic, Severity, TreeFile, TreeWriter};

const GOOD: &str = r#"{"question": "1+1?", "answer": "2", "react": {"0": {"text": "", "extra_info": "question: 1+1?", "action": "", "action_input": "", "final_answer": "", "value": -100}, "0.0": {"text": "<step>\n<p>\nx\n</p>\n<p>\nFinal Answer: 2\n</p>\n</step>", "extra_info": "", "action": "", "action_input": "", "final_answer": "2", "value": 0.5}}}"#;

fn write_file(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Loads every line; returns the number of good trees and every diagnostic.
fn load(path: &PathBuf) -> (usize, Vec<Diagnostic>) {
    let file = TreeFile::open(path).unwrap();
    let (trees, diagnostics) = file.load_all().unwrap();
    (trees.len(), diagnostics)
}

fn one_error(path: &PathBuf) -> Diagnostic {
    let (good, diagnostics) = load(path);
    let errors: Vec<&Diagnostic> = diagnostics.iter().filter(|d| d.severity == Severity::Error).collect();
    assert_eq!(errors.len(), 1, "{diagnostics:?}");
    assert_eq!(good, 2, "the good lines around the bad one still load: {diagnostics:?}");
    errors[0].clone()
}

/// A file with the bad line between two good ones.
fn sandwich(dir: &tempfile::TempDir, bad: &[u8]) -> PathBuf {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(GOOD.as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(bad);
    bytes.push(b'\n');
    bytes.extend_from_slice(GOOD.as_bytes());
    bytes.push(b'\n');
    write_file(dir, "trees.jsonl", &bytes)
}

#[test]
fn truncated_last_line_is_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = format!("{GOOD}\n{GOOD}\n{}", &GOOD[..GOOD.len() / 2]);
    let path = write_file(&dir, "t.jsonl", bytes.as_bytes());
    let (good, diagnostics) = load(&path);
    assert_eq!(good, 2);
    assert_eq!(diagnostics.len(), 1);
    let d = &diagnostics[0];
    assert_eq!(d.line, 3);
    assert!(
        d.to_string().starts_with(&format!("{}:3: error: the last line is incomplete", path.display())),
        "{d}"
    );
}

#[test]
fn truncated_middle_line_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = sandwich(&dir, &GOOD.as_bytes()[..100]);
    let d = one_error(&path);
    assert_eq!(d.line, 2);
    assert!(d.message.contains("the JSON ends early"), "{d}");
}

#[test]
fn wrong_types_in_node_fields_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            GOOD.replace(r#""value": 0.5"#, r#""value": "high""#),
            r#"react['0.0'].value: expected a number, found a string ("high")"#,
        ),
        (
            GOOD.replace(r#""final_answer": "2""#, r#""final_answer": 2"#),
            "react['0.0'].final_answer: expected a string, found a number (2)",
        ),
        (
            GOOD.replace(r#""value": 0.5"#, r#""value": 0.5, "visit_count": -3"#),
            "react['0.0'].visit_count: expected a whole number of visits, found -3",
        ),
        (
            GOOD.replace(r#""value": 0.5"#, r#""value": null"#),
            "react['0.0'].value: expected a number, found null",
        ),
        (
            GOOD.replace(r#""0.0": {"#, r#""0.0": ["#).replace(r#""value": 0.5}"#, r#""value": 0.5]"#),
            "not valid JSON",
        ),
        (
            r#"{"question": "q", "react": [1, 2]}"#.to_owned(),
            "'react' must be an object of nodes keyed by tag, found an array",
        ),
        (
            r#"{"question": "q", "answer": "1"}"#.to_owned(),
            "no 'react' key: this line is a problem, not a search tree",
        ),
        (r#"{"question": "q", "react": {"0.1": {}}}"#.to_owned(), "react has no root node '0'"),
        (r#"[1, 2, 3]"#.to_owned(), "expected a JSON object per line, found an array"),
        (r#"{"react": {"0": {"value": NaN}}}"#.to_owned(), "not valid JSON"),
        (r#"{"react": {"0": {"value": 1e999}}}"#.to_owned(), "not valid JSON"),
    ];
    for (bad, want) in cases {
        let path = sandwich(&dir, bad.as_bytes());
        let d = one_error(&path);
        assert_eq!(d.line, 2);
        assert!(d.message.contains(want), "want {want:?} in {d}");
        assert!(d.to_string().starts_with(&format!("{}:2: error: ", path.display())), "{d}");
    }
}

#[test]
fn unknown_keys_are_kept_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let line = GOOD
        .replace(r#""value": 0.5}"#, r#""value": 0.5, "score": [1, 2]}"#)
        .replace(r#""react": {"#, r#""react": {"notes": "hand-edited", "#);
    let path = write_file(&dir, "u.jsonl", format!("{line}\n").as_bytes());
    let file = TreeFile::open(&path).unwrap();
    let loaded = file.load(0).unwrap().unwrap();
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert!(
        warnings.iter().any(|w| w.contains("unknown node keys are kept as they are: 0.0.score")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("not node tags are kept") && w.contains("notes")),
        "{warnings:?}"
    );
    assert!(warnings.iter().all(|w| w.starts_with(&format!("{}:1: warning: ", path.display()))));
    // Written back, nothing is lost.
    let mut out = Vec::new();
    loaded.record.encode(&mut out).unwrap();
    let a: serde_json::Value = serde_json::from_str(&line).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(a, b);
}

#[test]
fn binary_garbage_is_one_error_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let garbage: Vec<u8> =
        (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).filter(|b| *b != b'\n').collect();
    let path = sandwich(&dir, &garbage);
    let d = one_error(&path);
    assert!(d.message.contains("not valid JSON"), "{d}");
    assert!(d.message.len() < 300, "the message does not echo the garbage: {d}");
    // Invalid UTF-8 inside a string.
    let mut bad = br#"{"question": "x"#.to_vec();
    bad.extend_from_slice(&[0xff, 0xfe]);
    bad.extend_from_slice(br#"", "react": {}}"#);
    let d = one_error(&sandwich(&dir, &bad));
    assert!(d.message.contains("not valid JSON"), "{d}");
}

#[test]
fn hundred_megabyte_lines_load_or_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let big = "x".repeat(100 << 20);
    // A valid tree whose step text is 100 MB.
    let huge_tree = GOOD.replace(r#""text": "<step>"#, &format!(r#""text": "{big}<step>"#));
    let path = sandwich(&dir, huge_tree.as_bytes());
    let (good, diagnostics) = load(&path);
    assert_eq!(good, 3, "{diagnostics:?}");
    let file = TreeFile::open(&path).unwrap();
    let loaded = file.load(1).unwrap().unwrap();
    let text = &loaded.record.tree.node(loaded.record.tree.find("0.0").unwrap()).step().text;
    assert_eq!(text.len(), big.len() + "<step>\n<p>\nx\n</p>\n<p>\nFinal Answer: 2\n</p>\n</step>".len());
    // 100 MB that is not JSON: one short message.
    let path = sandwich(&dir, big.as_bytes());
    let d = one_error(&path);
    assert!(d.message.len() < 300, "{}", &d.message[..300.min(d.message.len())]);
}

#[test]
fn duplicate_tags_and_orphans_are_reported_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let node = r#"{"text": "t", "extra_info": "", "action": "", "action_input": "", "final_answer": "", "value": 0.25}"#;
    let line = format!(
        r#"{{"question": "q", "react": {{"0": {node}, "0.0": {node}, "0.0": {}, "0.3.1": {node}}}}}"#,
        node.replace("0.25", "0.75")
    );
    let path = write_file(&dir, "d.jsonl", format!("{line}\n").as_bytes());
    let loaded = TreeFile::open(&path).unwrap().load(0).unwrap().unwrap();
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert!(
        warnings.iter().any(|w| w.contains("the tag '0.0' appears twice; the last one is used")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("have no parent in this tree") && w.contains("0.3.1")),
        "{warnings:?}"
    );
    let tree = &loaded.record.tree;
    assert_eq!(tree.len(), 2);
    assert_eq!(
        tree.node(tree.find("0.0").unwrap()).stats().value,
        Some(0.75),
        "last duplicate wins, as in Python"
    );
    let mut out = Vec::new();
    loaded.record.encode(&mut out).unwrap();
    let written: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(written["react"]["0.3.1"].is_object(), "the orphan is written back");
}

#[test]
fn empty_file_holds_no_trees() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(&dir, "empty.jsonl", b"");
    let file = TreeFile::open(&path).unwrap();
    assert!(file.is_empty());
    let blank = write_file(&dir, "blank.jsonl", b"\n\n  \n");
    let (good, diagnostics) = load(&blank);
    assert_eq!(good, 0);
    assert_eq!(diagnostics.len(), 1, "a whitespace-only line is reported: {diagnostics:?}");
    for command in ["offline", "inspect"] {
        let out =
            Command::new(env!("CARGO_BIN_EXE_arbor")).args([command, "--trees"]).arg(&path).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("the file holds no trees (it is empty)"), "{stderr}");
    }
    let missing = dir.path().join("nope.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_arbor"))
        .args(["offline", "--trees"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.jsonl: No such file or directory"));
}

#[test]
fn offline_cli_skips_bad_lines_with_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = sandwich(&dir, b"{not json");
    let out =
        Command::new(env!("CARGO_BIN_EXE_arbor")).args(["offline", "--trees"]).arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("2 trees, 2 with an answer"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains(":2: error: not valid JSON"));
}

#[test]
fn writer_never_overwrites_and_repairs_an_interrupted_tail() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(&dir, "w.jsonl", format!("{GOOD}\n{}", &GOOD[..40]).as_bytes());
    assert!(matches!(TreeWriter::create(&path), Err(arbor::store::StoreError::Exists { .. })));
    let record = TreeFile::open(&path).unwrap().load(0).unwrap().unwrap().record;
    let (mut writer, repaired) = TreeWriter::append(&path).unwrap();
    let repaired = repaired.expect("the broken tail is reported");
    assert_eq!(repaired.line, 2);
    writer.write(&record).unwrap();
    drop(writer);
    let (good, diagnostics) = load(&path);
    assert_eq!((good, diagnostics.len()), (2, 0));
    // A complete last tree that only lacks its newline is kept.
    let path = write_file(&dir, "w2.jsonl", GOOD.as_bytes());
    let (mut writer, repaired) = TreeWriter::append(&path).unwrap();
    assert!(repaired.is_none());
    writer.write(&record).unwrap();
    drop(writer);
    assert_eq!(load(&path).0, 2);
}

#[test]
fn unreadable_arbor_data_is_kept_verbatim() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (r#"{"schema_version": 99, "future": {"x": 1}}"#, "schema version 99 is not the 1 this build reads"),
        (
            r#"{"schema_version": 1, "nodes": {"0": {"execution": {"observation": "1", "status": "ok", "elapsed_ms": 1, "gpu": true}}}}"#,
            "unknown field `gpu`",
        ),
        (r#"{"schema_version": 1, "nodes": {"0": {"correct": "yes"}}}"#, "invalid type"),
        (r#"[1, 2]"#, "expected an object"),
    ];
    for (arbor, want) in cases {
        let line = format!(r#"{}, "arbor": {arbor}}}"#, &GOOD[..GOOD.len() - 1]);
        let path = write_file(&dir, "a.jsonl", format!("{line}\n").as_bytes());
        let loaded = TreeFile::open(&path).unwrap().load(0).unwrap().unwrap();
        let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
        assert!(
            warnings.iter().any(|w| w.contains(want) && w.contains("kept but not shown")),
            "{want}: {warnings:?}"
        );
        let mut out = Vec::new();
        loaded.record.encode(&mut out).unwrap();
        let a: serde_json::Value = serde_json::from_str(&line).unwrap();
        let b: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(a, b, "written back unchanged");
    }
}
