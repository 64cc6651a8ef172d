//! The terminal UI end to end in tmux (`tests/tui_e2e.sh`): the real binary driven with
//! send-keys and read with capture-pane. Skips, saying why, where tmux is missing.

#![allow(clippy::unwrap_used)] // tests unwrap what they built themselves

use std::process::Command;

#[test]
fn the_tui_end_to_end_in_tmux() {
    if !Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success()) {
        eprintln!("skipping the TUI end-to-end test: tmux is not installed (apt-get install tmux)");
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let repo = env!("CARGO_MANIFEST_DIR");
    let output = Command::new("bash")
        .arg(format!("{repo}/tests/tui_e2e.sh"))
        .arg(env!("CARGO_BIN_EXE_arbor"))
        .arg(work.path())
        .arg(repo)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the tmux run failed:\n{stderr}\n--- screens so far:\n{stdout}");
    assert!(stdout.contains("every step passed"), "{stdout}");
}
