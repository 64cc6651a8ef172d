//! The interpreter reproduces the reference tool's observations (reference §3), with the real
//! python3 (or $ARBOR_PYTHON) and sympy.

use std::path::Path;
use std::sync::OnceLock;

use arbor::interp::{ExecRequest, PYTHON_INTERPRETER, PathStep, Pool, PoolConfig, replay_inputs};
use arbor::tree::ExecStatus;
use serde::Deserialize;

/// One pool for the whole file (default limits: the reference's 15 s timeout).
fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| match Pool::new(PoolConfig { workers: 2, ..PoolConfig::default() }) {
        Ok(pool) => pool,
        Err(e) => panic!("the interpreter pool does not start: {e}"),
    })
}

fn run(ancestors: &[&str], code: &str) -> arbor::interp::ExecResult {
    let request = ExecRequest::new(ancestors.iter().map(|a| a.to_string()).collect(), code);
    pool().execute_one(&request).expect("the pool runs code")
}

#[derive(Deserialize)]
struct Example {
    action_input: String,
    tool_output: String,
    observation_after_strip: String,
}

#[test]
fn all_reference_tool_examples_are_reproduced_exactly() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/super_mario/python_tool_examples.jsonl");
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("skipped: {} is absent", path.display());
        return;
    };
    let examples: Vec<Example> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("example"))
        .collect();
    assert_eq!(examples.len(), 17);
    // All at once: the 15 s timeout case runs beside the others.
    let requests: Vec<_> =
        examples.iter().map(|e| ExecRequest::new(Vec::new(), e.action_input.clone())).collect();
    let results = pool().execute(&requests).expect("the pool runs code");
    for (example, result) in examples.iter().zip(&results) {
        assert_eq!(result.observation, example.observation_after_strip, "for {:?}", example.action_input);
        let expected_status = if example.tool_output.starts_with("TimeoutError") {
            ExecStatus::Timeout
        } else if example.tool_output.contains("Error: ") {
            ExecStatus::Error
        } else {
            ExecStatus::Ok
        };
        assert_eq!(result.status, expected_status, "for {:?}", example.action_input);
    }
}

#[test]
fn ancestors_are_replayed_in_a_fresh_namespace_and_their_output_is_discarded() {
    let result = run(
        &["from sympy import *\nx = symbols('x')\nprint('ancestor output')", "f = x**2 - 4"],
        "print(solve(f, x))",
    );
    assert_eq!(result.observation, "[-2, 2]");
    assert_eq!(result.status, ExecStatus::Ok);
    // Nothing leaks from one request to the next (the reference's namespace did leak).
    let leak = run(&[], "print(f)");
    assert_eq!(leak.observation, "NameError: name 'f' is not defined");
    assert_eq!(leak.status, ExecStatus::Error);
}

#[test]
fn an_ancestor_that_fails_does_not_stop_the_replay() {
    // As in the reference, each replayed snippet's error is swallowed; the next one runs.
    let result = run(&["a = 1", "b = 1/0", "c = a + 1"], "print(a, c)");
    assert_eq!(result.observation, "1 2");
    assert_eq!(result.status, ExecStatus::Ok);
}

#[test]
fn a_multi_print_ancestor_stops_at_its_last_print_during_replay() {
    // In the reference, statements after the last print of a multi-print snippet never run,
    // also when the snippet is replayed.
    let result = run(&["print(1)\nprint(2)\nz = 5"], "print(z)");
    assert_eq!(result.observation, "NameError: name 'z' is not defined");
}

#[test]
fn the_namespace_resembles_the_reference_module() {
    // The reference ran code in its tree.py module: `__name__` is not "__main__" and the
    // names that module imported exist.
    let result = run(&[], "print(__name__, os.sep, List)");
    assert_eq!(result.observation, "mcts_math.agents.tree / typing.List");
    let main_block = run(&[], "def main():\n    print('ran')\nif __name__ == '__main__':\n    main()");
    assert_eq!(main_block.observation, "");
}

#[test]
fn trailing_expression_is_echoed_and_fences_are_optional() {
    assert_eq!(run(&[], "```python\n6 * 7\n```").observation, "42");
    // Rounding applies to printed text only, not to an echoed float (as in the reference).
    assert_eq!(run(&[], "2/3").observation, "0.6666666666666666");
    assert_eq!(run(&[], "print(2/3)").observation, "0.6667");
    assert_eq!(run(&[], "Python\n  print('x')").observation, "x");
}

#[test]
fn long_output_is_cut_like_the_reference_even_past_the_capture_bound() {
    // 100 000 characters: past the 64 Ki characters kept in memory; the cut is the same.
    let result = run(&[], "print('a' * 100000)");
    let expected = format!("{}...{}", "a".repeat(250), "a".repeat(249));
    assert_eq!(result.observation, expected);
    let mixed = run(&[], "for i in range(30000):\n    print(i)");
    assert!(mixed.observation.starts_with("0\n1\n2\n"), "{}", mixed.observation);
    assert!(mixed.observation.ends_with("29998\n29999"), "{}", mixed.observation);
    assert_eq!(mixed.observation.len(), 503 - 1);
}

#[test]
fn identical_requests_are_cached_and_deduplicated() {
    let request = ExecRequest::new(vec!["import random".into()], "print(random.random() < 2)");
    let results = pool().execute(&[request.clone(), request.clone()]).expect("runs");
    assert_eq!(results[0].observation, "True");
    assert!(!results[0].cached);
    assert!(results[1].cached);
    let again = pool().execute_one(&request).expect("runs");
    assert!(again.cached);
    assert_eq!(again.observation, "True");
}

#[test]
fn replay_rule_helper_feeds_the_pool() {
    let first = "```python\nfrom sympy import Rational\nr = Rational(1, 3)\n```";
    let slow = "```python\nwhile True: pass\n```";
    let text_first = format!("<code>\n{first}\n</code>\n<output>\n\n</output>");
    let text_slow = format!(
        "<code>\n{slow}\n</code>\n<output>\nTimeoutError: 'Execution of the code snippet has timed out for exceeding 15 seconds.'\n</output>"
    );
    let path = [
        PathStep { action: "", action_input: "", text: "" },
        PathStep { action: PYTHON_INTERPRETER, action_input: first, text: &text_first },
        PathStep { action: PYTHON_INTERPRETER, action_input: slow, text: &text_slow },
    ];
    let ancestors = replay_inputs(path, PYTHON_INTERPRETER);
    assert_eq!(ancestors, vec![first.to_owned()]);
    let result =
        pool().execute_one(&ExecRequest::new(ancestors, "```python\nprint(r * 3)\n```")).expect("runs");
    assert_eq!(result.observation, "1");
}

#[test]
fn the_pool_serves_several_threads_at_once() {
    std::thread::scope(|scope| {
        for t in 0..4 {
            scope.spawn(move || {
                for i in 0..5 {
                    let result = run(&["base = 100"], &format!("print(base + {t} * 10 + {i})"));
                    assert_eq!(result.observation, (100 + t * 10 + i).to_string());
                }
            });
        }
    });
}
