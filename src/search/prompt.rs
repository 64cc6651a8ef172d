//! Prompt formats: how a node's path becomes a prompt, how a generated step is parsed, how an
//! interpreter observation is wrapped into the step text. `react_sft` and `react` follow the
//! reference (`mcts_math/agents/utils.py`) character for character; `chat` wraps the
//! `react_sft` step format in a ChatML conversation for instruct models.

use std::sync::LazyLock;

use regex::Regex;

use crate::grade::remove_single_dollar;

/// `Final Answer:`, the marker of a final step in both reference formats.
pub const FINAL_ANSWER: &str = "Final Answer:";
/// The reference's tool name.
pub const PYTHON_TOOL: &str = "python_interpreter";
/// `{name}: {description}` of the reference's Python tool (note the trailing space).
pub const PYTHON_TOOL_DESC: &str =
    "python_interpreter: A Python shell. Use this to execute python commands. ";

/// The few-shot instructions and examples of the round-1 `react` format, as shipped by the
/// reference (`few_shots/prompt.json`, `few_shots/math.json`).
pub const REACT_PROMPT_JSON: &str = include_str!("../../assets/few_shots/prompt.json");
pub const REACT_EXAMPLES_JSON: &str = include_str!("../../assets/few_shots/math.json");

/// A generated step, parsed (the reference's `parser_result` plus `step_result`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedStep {
    /// The step text to store before any observation (`react_sft` closes the tag it stopped at).
    pub step_result: String,
    /// The tool to run, or empty for a final step.
    pub action: String,
    /// The code, fences included, as the reference captures it.
    pub action_input: String,
    pub final_answer: String,
}

impl ParsedStep {
    pub fn is_final(&self) -> bool {
        !self.final_answer.is_empty()
    }
}

/// Why a generation is not a valid step; the messages are the reference's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("Parsing LLM output produced both a final answer and a parse-able action:: {0}")]
    ActionAndAnswer(String),
    #[error("Could not parse LLM output: `{0}`")]
    Unparsable(String),
}

/// The two step grammars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepFormat {
    /// XML steps: `<step><p>thought</p><code>```python ...```</code><output>...</output></step>`.
    ReactSft,
    /// `Thought: ... Action: python_interpreter Action Input: ```python ...``` Observation: ...`.
    React,
}

static SFT_CODE: LazyLock<Regex> = LazyLock::new(|| {
    // The reference: r"<code>[\s]*(.*[\s]```)" with re.DOTALL.
    Regex::new(r"(?s)<code>\s*(.*\s```)").unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});
static SFT_ANSWER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)Final Answer:\s*(.*)</p>").unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});
static REACT_ACTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)Action:\s*(.*?)\s*Action Input:\s*(.*)")
        .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

impl StepFormat {
    /// Parses a generated step as the reference's `*_step_result_unwrap` does. The reference
    /// strips the generation first; so does this.
    pub fn parse(self, generated: &str) -> Result<ParsedStep, ParseError> {
        let text = generated.trim();
        let includes_answer = text.contains(FINAL_ANSWER);
        match self {
            StepFormat::ReactSft => {
                if let Some(m) = SFT_CODE.captures(text) {
                    if includes_answer {
                        return Err(ParseError::ActionAndAnswer(text.to_owned()));
                    }
                    let code = m.get(1).map_or("", |g| g.as_str());
                    return Ok(ParsedStep {
                        step_result: format!("{}\n</code>", text.trim()),
                        action: PYTHON_TOOL.to_owned(),
                        action_input: strip_tool_input(code).to_owned(),
                        final_answer: String::new(),
                    });
                }
                if includes_answer {
                    let answer = match SFT_ANSWER.captures(text) {
                        Some(m) => m.get(1).map_or("", |g| g.as_str()).trim(),
                        None => text.rsplit(FINAL_ANSWER).next().unwrap_or("").trim(),
                    };
                    return Ok(ParsedStep {
                        step_result: format!("{}\n</step>", text.trim()),
                        action: String::new(),
                        action_input: String::new(),
                        final_answer: remove_single_dollar(answer).to_owned(),
                    });
                }
                Err(ParseError::Unparsable(text.to_owned()))
            }
            StepFormat::React => {
                if let Some(m) = REACT_ACTION.captures(text) {
                    if includes_answer {
                        return Err(ParseError::ActionAndAnswer(text.to_owned()));
                    }
                    return Ok(ParsedStep {
                        step_result: text.to_owned(),
                        action: m.get(1).map_or("", |g| g.as_str()).trim().to_owned(),
                        action_input: strip_tool_input(m.get(2).map_or("", |g| g.as_str())).to_owned(),
                        final_answer: String::new(),
                    });
                }
                if includes_answer {
                    return Ok(ParsedStep {
                        step_result: text.to_owned(),
                        action: String::new(),
                        action_input: String::new(),
                        final_answer: text.rsplit(FINAL_ANSWER).next().unwrap_or("").trim().to_owned(),
                    });
                }
                Err(ParseError::Unparsable(text.to_owned()))
            }
        }
    }

    /// The observation as it is appended to the step text.
    pub fn wrap_observation(self, observation: &str) -> String {
        match self {
            StepFormat::ReactSft => format!("<output>\n{observation}\n</output>\n</step>"),
            StepFormat::React => format!("Observation: {observation}"),
        }
    }

    /// The default step delimiter of the format.
    pub fn default_step_delim(self) -> &'static str {
        match self {
            StepFormat::ReactSft => "\n",
            StepFormat::React => "\n\n",
        }
    }

    /// The default stop strings of the format (reference configs).
    pub fn default_stop(self) -> Vec<String> {
        let stops: &[&str] = match self {
            StepFormat::ReactSft => &["\n</code>", "</code>", "</step>"],
            StepFormat::React => &["\nObservation:", "Observation:", "<Solution complete>"],
        };
        stops.iter().map(|s| (*s).to_owned()).collect()
    }
}

/// `.strip(" ").strip('"')`, as the reference cleans a tool input.
fn strip_tool_input(s: &str) -> &str {
    s.trim_matches(' ').trim_matches('"')
}

/// The round-1 few-shot material.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FewShot {
    /// `react_format_instructions` with `{tool_desc}` and `{tool_names}` placeholders.
    pub instructions: String,
    /// `react_suffix` with its `{input}` placeholder.
    pub suffix: String,
    pub examples: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum FewShotError {
    #[error("few-shot prompt file: {0}")]
    Prompt(String),
    #[error("few-shot examples file: {0}")]
    Examples(String),
}

impl FewShot {
    /// The reference's files, shipped in `assets/few_shots/`.
    pub fn reference() -> Result<FewShot, FewShotError> {
        FewShot::from_json(REACT_PROMPT_JSON, REACT_EXAMPLES_JSON)
    }

    /// Reads a `prompt.json` (`react_format_instructions`, `react_suffix`) and a list of
    /// example strings.
    pub fn from_json(prompt: &str, examples: &str) -> Result<FewShot, FewShotError> {
        let prompt: serde_json::Value =
            serde_json::from_str(prompt).map_err(|e| FewShotError::Prompt(e.to_string()))?;
        let field = |k: &str| {
            prompt
                .get(k)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
                .ok_or_else(|| FewShotError::Prompt(format!("no string '{k}'")))
        };
        let examples: Vec<String> =
            serde_json::from_str(examples).map_err(|e| FewShotError::Examples(e.to_string()))?;
        if examples.is_empty() {
            return Err(FewShotError::Examples("no examples".to_owned()));
        }
        Ok(FewShot {
            instructions: field("react_format_instructions")?,
            suffix: field("react_suffix")?,
            examples,
        })
    }
}

/// Renders prompts for one format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PromptFormat {
    /// `<question> {question} </question>\n{partial}`: AlphaMath-7B and models trained on it.
    ReactSft,
    /// Instructions, demonstrations and `Now! It's your turn.`: round 1 on a base model.
    React(FewShot),
    /// A ChatML conversation (instruct models such as SmolLM2) whose system message teaches the
    /// `react_sft` step format; generation continues the assistant turn.
    Chat { system: String },
}

/// The demonstration question of the chat format.
pub const CHAT_EXAMPLE_QUESTION: &str = "A box holds 12 pencils. How many pencils are in 7 boxes?";
/// Its solution, in the react_sft step format.
pub const CHAT_EXAMPLE_SOLUTION: &str = "<step>\n<p>\nMultiply the pencils per box by the number of boxes.\n</p>\n<code>\n```python\nprint(12 * 7)\n```\n</code>\n<output>\n84\n</output>\n</step>\n<step>\n<p>\nThere are 84 pencils.\n</p>\n<p>\nFinal Answer: 84\n</p>\n</step>";

/// The system message of the chat format.
pub const CHAT_SYSTEM: &str = "Solve the math problem step by step. Write each step as\n<step>\n<p>\nyour reasoning\n</p>\n<code>\n```python\nPython code that prints a result\n```\n</code>\n</step>\nand stop after </code>; the code's output will be shown to you in <output> tags. When you know the answer, write\n<step>\n<p>\nyour reasoning\n</p>\n<p>\nFinal Answer: the answer\n</p>\n</step>";

impl PromptFormat {
    /// Text the prompt already opens the next step with; generations continue it, so it is
    /// put back in front of every sample. The chat format opens the step for instruct models,
    /// which otherwise answer in free prose.
    pub fn step_prefix(&self) -> &'static str {
        match self {
            PromptFormat::Chat { .. } => "<step>\n<p>\n",
            PromptFormat::ReactSft | PromptFormat::React(_) => "",
        }
    }

    pub fn step_format(&self) -> StepFormat {
        match self {
            PromptFormat::React(_) => StepFormat::React,
            PromptFormat::ReactSft | PromptFormat::Chat { .. } => StepFormat::ReactSft,
        }
    }

    /// The prompt for a node whose path text is `partial_solution` (empty at the root).
    /// `examples` are the demonstrations to show (the `react` format draws them anew for
    /// every prompt; see [`FewShot`]); other formats ignore them.
    pub fn render(
        &self,
        question: &str,
        partial_solution: &str,
        step_delim: &str,
        examples: &[&str],
    ) -> String {
        match self {
            PromptFormat::ReactSft => {
                let partial = if partial_solution.is_empty() {
                    String::new()
                } else {
                    format!("{partial_solution}{step_delim}")
                };
                format!("<question> {question} </question>\n{partial}")
            }
            PromptFormat::React(few_shot) => {
                let input = if partial_solution.is_empty() {
                    format!("{question}{step_delim}")
                } else {
                    format!("{question}{step_delim}{partial_solution}{step_delim}")
                };
                let prefix = if examples.len() == 1 {
                    "The following is a demonstration example.".to_owned()
                } else {
                    format!("The following are {} demonstration examples.", examples.len())
                };
                let instructions = python_format(
                    &few_shot.instructions,
                    &[("tool_desc", PYTHON_TOOL_DESC), ("tool_names", PYTHON_TOOL)],
                );
                let suffix = python_format(&few_shot.suffix, &[("input", &input)]);
                let mut parts: Vec<&str> = vec![&instructions, &prefix];
                parts.extend_from_slice(examples);
                parts.push(&suffix);
                parts.join("\n\n")
            }
            PromptFormat::Chat { system } => {
                let partial = if partial_solution.is_empty() {
                    String::new()
                } else {
                    format!("{partial_solution}{step_delim}")
                };
                // One worked exchange shows small instruct models the step format in action.
                format!(
                    "<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{CHAT_EXAMPLE_QUESTION}<|im_end|>\n<|im_start|>assistant\n{CHAT_EXAMPLE_SOLUTION}<|im_end|>\n<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n{partial}{}",
                    self.step_prefix()
                )
            }
        }
    }
}

/// Python's `str.format` for named fields: `{name}` is replaced, `{{` and `}}` become single
/// braces. Unknown fields are left as they are (the reference never has any).
fn python_format(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        if tail.starts_with('{')
            && let Some(end) = tail.find('}')
            && let Some((_, value)) = args.iter().find(|(name, _)| *name == &tail[1..end])
        {
            out.push_str(value);
            rest = &tail[end + 1..];
            continue;
        }
        out.push_str(&tail[..1]);
        rest = &tail[1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_format_handles_braces() {
        assert_eq!(python_format("a {x} {{y}} }}", &[("x", "1")]), "a 1 {y} }");
        assert_eq!(python_format("{unknown}", &[]), "{unknown}");
    }

    #[test]
    fn sft_parse_cases() {
        let p = StepFormat::ReactSft;
        let code = p.parse("<step>\n<p>\nx\n</p>\n<code>\n```python\nprint(1)\n```").unwrap();
        assert_eq!(code.action_input, "```python\nprint(1)\n```");
        let unclosed = p.parse("<step>\n<p>\nx\n</p>\n<code>\n```").unwrap();
        assert_eq!(unclosed.action_input, "\n```", "the capture backtracks into the whitespace");
        assert!(matches!(
            p.parse("<code>\n```python\nx\n```\nFinal Answer: 1"),
            Err(ParseError::ActionAndAnswer(_))
        ));
        let no_p = p.parse("Final Answer: $3$").unwrap();
        assert_eq!(no_p.final_answer, "3");
        assert_eq!(no_p.step_result, "Final Answer: $3$\n</step>");
    }
}
