//! All 24 (tree, prune, strategy) results of the reference's offline_inference.get_solution.

#![allow(clippy::unwrap_used)] // tests unwrap what they built themselves

mod common;

use std::process::Command;

use arbor::search::offline::{self, OfflineConfig, Strategy};
use arbor::store::TreeFile;
use common::shared_data;
use serde_json::Value;

fn golden() -> Option<Vec<Value>> {
    let path = shared_data("super_mario/golden_offline_inference_results.json")?;
    Some(serde_json::from_slice::<Vec<Value>>(&std::fs::read(path).unwrap()).unwrap())
}

fn config(entry: &Value) -> OfflineConfig {
    OfflineConfig {
        strategy: entry["strategy"].as_str().unwrap().parse::<Strategy>().unwrap(),
        prune: entry["prune"].as_bool().unwrap(),
        b1: entry["b1"].as_u64().unwrap() as usize,
        b2: entry["b2"].as_u64().unwrap() as usize,
        c_puct: entry["c_puct"].as_f64().unwrap(),
    }
}

#[test]
fn library_reproduces_every_golden_selection() {
    let Some(entries) = golden() else { return };
    assert_eq!(entries.len(), 24);
    for entry in &entries {
        let tree_file = entry["tree_file"].as_str().unwrap();
        let path = shared_data(&format!("super_mario/{tree_file}")).unwrap();
        let record = TreeFile::open(&path).unwrap().load(0).unwrap().unwrap().record;
        let got = offline::select(&record.tree, &config(entry));
        let want = &entry["result"];
        match got {
            None => assert!(want.is_null(), "{entry}: arbor chose nothing"),
            Some(sel) => {
                assert_eq!(sel.tag, want["tag"].as_str().unwrap_or("<null>"), "{entry}");
                assert_eq!(sel.final_answer, want["final_answer"].as_str().unwrap(), "{entry}");
            }
        }
    }
}

#[test]
fn cli_json_output_equals_the_reference_result_objects() {
    let Some(entries) = golden() else { return };
    for entry in &entries {
        let tree_file = entry["tree_file"].as_str().unwrap();
        let path = shared_data(&format!("super_mario/{tree_file}")).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_arbor"));
        cmd.arg("offline").arg("--trees").arg(&path).arg("--json");
        cmd.args(["--strategy", entry["strategy"].as_str().unwrap()]);
        cmd.args(["--b1", &entry["b1"].to_string(), "--b2", &entry["b2"].to_string()]);
        if entry["prune"].as_bool().unwrap() {
            cmd.arg("--prune");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{entry}: {}", String::from_utf8_lossy(&out.stderr));
        let got: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(got, entry["result"], "{entry}");
    }
}
