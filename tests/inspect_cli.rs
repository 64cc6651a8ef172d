//! `arbor inspect` output, pinned by snapshots.

#![allow(clippy::unwrap_used)] // tests unwrap what they built themselves

mod common;

use std::process::Command;

use common::repo_file;

fn inspect(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_arbor")).arg("inspect").args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn golden_mcts_tree() {
    let path = repo_file("sample_trees/golden_tree_mcts_test.jsonl");
    insta::assert_snapshot!(inspect(&["--trees", path.to_str().unwrap()]));
}

#[test]
fn golden_beam_tree() {
    let path = repo_file("sample_trees/golden_tree_sbs_b1_2_b2_5.jsonl");
    insta::assert_snapshot!(inspect(&["--trees", path.to_str().unwrap(), "--problem", "0"]));
}

#[test]
fn large_tree_cut_at_depth_one_fits_80_columns() {
    let path = repo_file("sample_trees/large_mcts.jsonl");
    let text = inspect(&["--trees", path.to_str().unwrap(), "--depth", "1"]);
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn missing_tree_index_is_a_clear_error() {
    let path = repo_file("sample_trees/golden_tree_mcts_test.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_arbor"))
        .args(["inspect", "--trees", path.to_str().unwrap(), "--problem", "3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("there is no tree 3 (the file has 1; --problem counts from 0)"), "{stderr}");
}
