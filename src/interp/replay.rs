//! The reference's rule for which ancestors' code is replayed (`collect_action_inputs`).

use crate::tree::Step;

/// The three fields of a path node that the replay rule reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathStep<'a> {
    pub action: &'a str,
    pub action_input: &'a str,
    /// The full step text, including the wrapped observation.
    pub text: &'a str,
}

impl<'a> From<&'a Step> for PathStep<'a> {
    fn from(step: &'a Step) -> PathStep<'a> {
        PathStep { action: &step.action, action_input: &step.action_input, text: &step.text }
    }
}

/// True when the step's observation was a timeout: `TimeoutError` appears in its text after
/// the last occurrence of its code (Python's `text.split(action_input)[-1]`).
pub fn timed_out(step: PathStep<'_>) -> bool {
    let after = match step.action_input {
        "" => step.text,
        code => step.text.rsplit_once(code).map_or(step.text, |(_, after)| after),
    };
    after.contains("TimeoutError")
}

/// The code to replay before a new step of `action` under the given path (root first, up to
/// and including the new step's parent): the `action_input` of every node whose action is
/// `action` and whose observation was not a timeout, in path order.
pub fn replay_inputs<'a>(path: impl IntoIterator<Item = PathStep<'a>>, action: &str) -> Vec<String> {
    path.into_iter()
        .filter(|step| step.action == action && !timed_out(*step))
        .map(|step| step.action_input.to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::PYTHON_INTERPRETER;

    fn code_step<'a>(code: &'a str, text: &'a str) -> PathStep<'a> {
        PathStep { action: PYTHON_INTERPRETER, action_input: code, text }
    }

    #[test]
    fn keeps_code_steps_in_order_and_skips_timeouts_and_other_actions() {
        let a = "```python\nx = 1\n```";
        let b = "```python\nwhile True: pass\n```";
        let c = "```python\ny = x + 1\n```";
        let text_a = format!("<step>\n<code>\n{a}\n</code>\n<output>\n\n</output>\n</step>");
        let text_b = format!(
            "<code>\n{b}\n</code>\n<output>\nTimeoutError: 'Execution of the code snippet has timed out'\n</output>"
        );
        let text_c = format!("<code>\n{c}\n</code>\n<output>\n2\n</output>");
        let path = [
            PathStep { action: "", action_input: "", text: "" },
            code_step(a, &text_a),
            code_step(b, &text_b),
            PathStep { action: "None", action_input: "x = 5", text: "x = 5" },
            code_step(c, &text_c),
        ];
        assert_eq!(replay_inputs(path, PYTHON_INTERPRETER), vec![a.to_owned(), c.to_owned()]);
    }

    #[test]
    fn timeout_is_looked_for_only_after_the_code() {
        // The code itself mentions TimeoutError; its observation does not.
        let code = "```python\nprint('TimeoutError')\n```";
        let text = format!("{code}\n<output>\nfine\n</output>");
        assert!(!timed_out(code_step(code, &text)));
        let text = format!("{code}\n<output>\nTimeoutError: 'x'\n</output>");
        assert!(timed_out(code_step(code, &text)));
    }
}
