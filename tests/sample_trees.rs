//! The shipped sample trees: the goldens are the reference's files, and the large tree is
//! exactly what its documented command writes.

#![allow(clippy::unwrap_used)] // tests unwrap what they built themselves

mod common;

use arbor::store::TreeFile;
use common::{GOLDEN_TREES, repo_file, shared_data};

#[test]
fn golden_copies_match_the_shared_originals() {
    for name in GOLDEN_TREES {
        let Some(original) = shared_data(&format!("super_mario/{name}")) else { return };
        let copy = repo_file(&format!("sample_trees/{name}"));
        assert_eq!(std::fs::read(copy).unwrap(), std::fs::read(original).unwrap(), "{name}");
    }
}

#[test]
fn large_tree_is_reproduced_by_its_documented_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("large.jsonl");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_arbor"))
        .args(["bench", "gen", "--out"])
        .arg(&out)
        .args(["--trees", "1", "--nodes", "1200", "--seed", "1"])
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let committed = repo_file("sample_trees/large_mcts.jsonl");
    assert!(std::fs::read(&out).unwrap() == std::fs::read(&committed).unwrap(), "regenerated file differs");

    let file = TreeFile::open(&committed).unwrap();
    let loaded = file.load(0).unwrap().unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert!(loaded.record.tree.len() >= 1000);
    let mut written = Vec::new();
    loaded.record.encode(&mut written).unwrap();
    assert!(written == std::fs::read(&committed).unwrap(), "arbor-format file round-trips byte for byte");
}
