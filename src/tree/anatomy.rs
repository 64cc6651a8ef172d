//! A step's text taken apart for display: the thought, the code, the interpreter output and
//! the final answer. Understands both reference formats (`react_sft` XML steps and `react`
//! Thought/Action/Observation steps); anything else is all thought.

use super::Node;

/// The readable parts of a step.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StepParts<'a> {
    pub thought: &'a str,
    /// The code without its ```` ```python ```` fences.
    pub code: Option<&'a str>,
    pub observation: Option<&'a str>,
    pub answer: Option<&'a str>,
}

impl<'a> StepParts<'a> {
    /// Splits `node`'s step. The observation comes from arbor's execution record when there
    /// is one, else from the text.
    pub fn of(node: &'a Node) -> StepParts<'a> {
        let mut parts = StepParts::parse(&node.step().text);
        if let Some(exec) = &node.info().execution {
            parts.observation = Some(exec.observation.as_str());
        }
        if !node.step().final_answer.is_empty() {
            parts.answer = Some(node.step().final_answer.as_str());
        }
        parts
    }

    /// Splits a step text.
    pub fn parse(text: &'a str) -> StepParts<'a> {
        if text.contains("<step>") || text.contains("<p>") { parse_sft(text) } else { parse_react(text) }
    }

    /// The first non-empty line of the thought.
    pub fn headline(&self) -> &'a str {
        self.thought.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("")
    }
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let len = text[start..].find(close).unwrap_or(text.len() - start);
    Some(text[start..start + len].trim_matches('\n'))
}

fn parse_sft(text: &str) -> StepParts<'_> {
    let thought = between(text, "<p>", "</p>").unwrap_or("");
    let code = between(text, "<code>", "</code>").map(strip_fences);
    let observation = between(text, "<output>", "</output>");
    let answer = text.rfind("Final Answer:").map(|i| {
        let rest = &text[i + "Final Answer:".len()..];
        rest[..rest.find("</p>").unwrap_or(rest.len())].trim()
    });
    StepParts { thought, code, observation, answer }
}

fn parse_react(text: &str) -> StepParts<'_> {
    let body = text.strip_prefix("Thought:").unwrap_or(text);
    let thought_end =
        ["Action:", "Final Answer:"].iter().filter_map(|m| body.find(m)).min().unwrap_or(body.len());
    let thought = body[..thought_end].trim();
    let code = body.find("Action Input:").map(|i| {
        let rest = &body[i + "Action Input:".len()..];
        strip_fences(&rest[..rest.find("Observation:").unwrap_or(rest.len())])
    });
    let observation = body.rfind("Observation:").map(|i| body[i + "Observation:".len()..].trim());
    let answer = body.rfind("Final Answer:").map(|i| body[i + "Final Answer:".len()..].trim());
    StepParts { thought, code, observation, answer }
}

fn strip_fences(code: &str) -> &str {
    let code = code.trim();
    let code = code.strip_prefix("```python").or_else(|| code.strip_prefix("```")).unwrap_or(code);
    code.strip_suffix("```").unwrap_or(code).trim_matches('\n')
}

/// The reference's error test: `Error` anywhere in the observation.
pub fn observation_is_error(observation: &str) -> bool {
    observation.contains("Error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sft_code_step() {
        let text = "<step>\n<p>\nCompute it.\n</p>\n<code>\n```python\ns = 2 + 3\nprint(s * 4)\n```\n</code>\n<output>\n20\n</output>\n</step>";
        let p = StepParts::parse(text);
        assert_eq!(p.thought, "Compute it.");
        assert_eq!(p.code, Some("s = 2 + 3\nprint(s * 4)"));
        assert_eq!(p.observation, Some("20"));
        assert_eq!(p.answer, None);
    }

    #[test]
    fn sft_answer_step() {
        let text = "<step>\n<p>\nThe result is 20.\n</p>\n<p>\nFinal Answer: $20$\n</p>\n</step>";
        let p = StepParts::parse(text);
        assert_eq!(p.headline(), "The result is 20.");
        assert_eq!(p.answer, Some("$20$"));
        assert_eq!(p.code, None);
    }

    #[test]
    fn react_steps() {
        let text = "Thought: add them\n\nAction: python_interpreter\n\nAction Input: ```python\nprint(1+1)\n```\n\nObservation: 2";
        let p = StepParts::parse(text);
        assert_eq!(p.thought, "add them");
        assert_eq!(p.code, Some("print(1+1)"));
        assert_eq!(p.observation, Some("2"));
        let p = StepParts::parse("Thought: done\n\nFinal Answer: 2");
        assert_eq!((p.thought, p.answer), ("done", Some("2")));
    }
}
