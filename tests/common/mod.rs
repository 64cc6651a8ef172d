//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `../shared/data/<rel>` beside the repository, or `None` (with a printed reason) when the
/// shared data is not there.
pub fn shared_data(rel: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(rel);
    if path.exists() {
        Some(path)
    } else {
        println!("SKIP: {} is absent (the shared data folder is not beside the repo)", path.display());
        None
    }
}

/// A file in this repository.
pub fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

pub const GOLDEN_TREES: [&str; 3] =
    ["golden_tree_mcts_test.jsonl", "golden_tree_mcts_train.jsonl", "golden_tree_sbs_b1_2_b2_5.jsonl"];
