//! `arbor interp`: code from stdin, replay from --ancestors, the doctor, and clear errors
//! about the Python environment.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

fn arbor(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_arbor"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run arbor");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write code");
    child.wait_with_output().expect("arbor finishes")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn prints_the_observation_of_code_from_stdin() {
    let out = arbor(
        &["interp"],
        "```python\nfrom sympy import *\nx = symbols('x')\nprint(solve(x**2 - 4, x))\n```",
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "[-2, 2]\n");
}

#[test]
fn replays_ancestors_from_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let strings = dir.path().join("strings.json");
    std::fs::write(&strings, r#"["from sympy import Rational", "r = Rational(1, 3)"]"#).expect("write");
    let out = arbor(&["interp", "--ancestors", strings.to_str().expect("utf-8")], "print(r * 2)", &[]);
    assert_eq!(text(&out.stdout), "2/3\n", "{}", text(&out.stderr));

    // Path nodes: the reference's rule skips the step whose observation was a timeout.
    let nodes = dir.path().join("nodes.json");
    let json = serde_json::json!([
        {"action": "", "action_input": "", "text": ""},
        {"action": "python_interpreter", "action_input": "a = 1", "text": "a = 1\n<output>\n\n</output>"},
        {"action": "python_interpreter", "action_input": "a = 2\nwhile True: pass",
         "text": "a = 2\nwhile True: pass\n<output>\nTimeoutError: 'Execution of the code snippet has timed out for exceeding 15 seconds.'\n</output>"},
    ]);
    std::fs::write(&nodes, json.to_string()).expect("write");
    let out = arbor(&["interp", "--ancestors", nodes.to_str().expect("utf-8")], "print(a)", &[]);
    assert_eq!(text(&out.stdout), "1\n", "{}", text(&out.stderr));
}

#[test]
fn failing_code_exits_2_and_json_carries_the_status() {
    let out = arbor(&["interp"], "print(1/0)", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stdout), "ZeroDivisionError: division by zero\n");
    assert!(text(&out.stderr).contains("status: error"));

    let out = arbor(&["interp", "--json", "--timeout", "1"], "import time\ntime.sleep(5)", &[]);
    assert_eq!(out.status.code(), Some(2));
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert_eq!(line["status"], "timeout");
    assert_eq!(
        line["observation"],
        "TimeoutError: 'Execution of the code snippet has timed out for exceeding 1 seconds.'"
    );
}

#[test]
fn the_callers_environment_does_not_reach_the_code() {
    let code = "import os\nprint(os.environ.get('ARBOR_TEST_SECRET'))";
    let out = arbor(&["interp"], code, &[("ARBOR_TEST_SECRET", "hunter2")]);
    assert_eq!(text(&out.stdout), "None\n", "{}", text(&out.stderr));
}

#[test]
fn doctor_reports_python_limits_and_isolation() {
    let out = arbor(&["interp", "--doctor"], "", &[]);
    let stdout = text(&out.stdout);
    for section in
        ["python ", "sympy ", "limits (per request):", "memory ", "isolation:", "landlock ", "checks ("]
    {
        assert!(stdout.contains(section), "no {section:?} in:\n{stdout}");
    }
    for line in stdout.lines().filter(|l| l.contains("NOT in force") || l.contains("NOT BLOCKED")) {
        eprintln!("NOTE (this machine): {}", line.trim());
    }
    let all_blocked = !stdout.contains("NOT BLOCKED");
    assert_eq!(out.status.success(), all_blocked, "{stdout}");
}

#[test]
fn a_python_without_sympy_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let venv = dir.path().join("venv");
    let made = Command::new("python3").args(["-m", "venv", "--without-pip"]).arg(&venv).output();
    if !made.as_ref().is_ok_and(|o| o.status.success()) {
        println!("skipped: `python3 -m venv` is not available here");
        return;
    }
    let python = venv.join("bin/python");
    let out = arbor(&["interp", "--python", python.to_str().expect("utf-8")], "print(1)", &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("sympy does not import"), "{stderr}");
    assert!(stderr.contains("-m pip install sympy"), "{stderr}");

    let out = arbor(&["interp", "--doctor", "--python", python.to_str().expect("utf-8")], "", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("sympy         MISSING"), "{}", text(&out.stdout));
}

#[test]
fn a_missing_python_is_reported() {
    let out = arbor(&["interp", "--python", "/nonexistent/python3"], "print(1)", &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("cannot run the Python interpreter `/nonexistent/python3` (from --python)"),
        "{stderr}"
    );
    assert!(stderr.contains("ARBOR_PYTHON"), "{stderr}");
}

#[test]
fn no_sandbox_mode_still_runs_code_with_limits() {
    let out = arbor(&["interp", "--no-sandbox", "--memory-mb", "512"], "x = bytearray(1 << 30)", &[]);
    assert_eq!(text(&out.stdout), "MemoryError:\n", "{}", text(&out.stderr));
    let out = arbor(&["interp", "--no-sandbox"], "print(sum(range(10)))", &[]);
    assert_eq!(text(&out.stdout), "45\n", "{}", text(&out.stderr));
}
