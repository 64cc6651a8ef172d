//! What the search asks the interpreter, and what it gets back.

use std::time::Duration;

use serde::Serialize;

use super::PYTHON_INTERPRETER;
use super::replay::{PathStep, replay_inputs};
use crate::tree::ExecStatus;

/// One code step to run.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ExecRequest {
    /// The `action_input`s of the ancestors to replay first, root first, already filtered by
    /// the reference's rule (see [`super::replay_inputs`]). Their output is discarded.
    pub ancestors: Vec<String>,
    /// The step's `action_input`, fences included (the tool strips them).
    pub code: String,
}

impl ExecRequest {
    pub fn new(ancestors: Vec<String>, code: impl Into<String>) -> ExecRequest {
        ExecRequest { ancestors, code: code.into() }
    }

    /// The request for a new code step whose path (root first, up to and including its
    /// parent) is `path`: the ancestors are chosen by the reference's replay rule.
    pub fn after_path<'a>(
        path: impl IntoIterator<Item = PathStep<'a>>,
        code: impl Into<String>,
    ) -> ExecRequest {
        ExecRequest { ancestors: replay_inputs(path, PYTHON_INTERPRETER), code: code.into() }
    }
}

/// The outcome of one request.
#[derive(Clone, Debug, PartialEq)]
pub struct ExecResult {
    /// The observation exactly as the reference's tool formats it (already stripped), before
    /// it is wrapped in `<output>` tags.
    pub observation: String,
    /// `Ok` or `Error` (the code raised: the observation is `Type: message`), `Timeout` (the
    /// observation is the reference's timeout message) or `Killed` (the process died: crash,
    /// CPU limit, exit without result; the observation is a `ProcessError: ...` line).
    pub status: ExecStatus,
    /// Wall-clock time of the execution that produced the result.
    pub elapsed: Duration,
    /// True when the result came from the cache instead of a new execution.
    pub cached: bool,
}

/// The reference's timeout observation for a limit of `timeout`.
///
/// For 15 s this is `TimeoutError: 'Execution of the code snippet has timed out for exceeding
/// 15 seconds.'` (the quotes come from timeout-decorator's `TimeoutError.__str__`).
pub fn timeout_message(timeout: Duration) -> String {
    let seconds = if timeout.subsec_nanos() == 0 {
        timeout.as_secs().to_string()
    } else {
        format!("{}", timeout.as_secs_f64())
    };
    format!("TimeoutError: 'Execution of the code snippet has timed out for exceeding {seconds} seconds.'")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_path_applies_the_replay_rule() {
        let path = [
            PathStep { action: "", action_input: "", text: "" },
            PathStep {
                action: PYTHON_INTERPRETER,
                action_input: "a = 1",
                text: "a = 1\n<output>\n\n</output>",
            },
            PathStep { action: PYTHON_INTERPRETER, action_input: "b = 2", text: "b = 2\nTimeoutError: 'x'" },
        ];
        let request = ExecRequest::after_path(path, "print(a)");
        assert_eq!(request.ancestors, vec!["a = 1".to_owned()]);
        assert_eq!(request.code, "print(a)");
    }

    #[test]
    fn timeout_message_matches_the_reference_text() {
        assert_eq!(
            timeout_message(Duration::from_secs(15)),
            "TimeoutError: 'Execution of the code snippet has timed out for exceeding 15 seconds.'"
        );
        assert!(timeout_message(Duration::from_millis(2500)).contains("exceeding 2.5 seconds"));
    }
}
