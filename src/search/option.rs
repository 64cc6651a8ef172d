//! Option-level steps (AlphaLLM's termination function): where the step a node holds ends.
//! With `eta_option_end = "stop"` a step ends at the first stop string, as in the reference.
//! With `"formula"`, AlphaLLM's rule for MATH: a sample that stopped without a formula
//! (`$…$` or a `<<…>>` calculator annotation, AlphaLLM's `find_equations_in_text`) — and,
//! in arbor's formats, without code or a final answer — is continued: the step delimiter is
//! appended and the policy writes on, until the text has one or `eta_option_max_extensions`
//! continuations were added. AlphaLLM extends once; arbor lets the cap decide.

use std::sync::LazyLock;

use regex::Regex;

use super::grow::Grower;
use super::prompt::FINAL_ANSWER;
use super::request::{GenerateNeed, Generated, ModelRole, Sample};
use crate::tree::NodeId;

/// AlphaLLM's formula patterns (Python's `.` does not cross newlines; neither does Rust's).
static FORMULA: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\$.*?\$|<<[^<>]*>>").unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

/// Whether a sample is a complete option under the formula rule: it has a formula, code or a
/// final answer, or it did not stop at a stop string (end of sequence, token limit).
pub fn is_complete(sample: &Sample) -> bool {
    let stopped = matches!(sample.finish.as_deref(), None | Some("stop"));
    !stopped
        || FORMULA.is_match(&sample.text)
        || sample.text.contains("```")
        || sample.text.contains(FINAL_ANSWER)
}

/// Where the samples of an expansion stand.
#[derive(Clone, Debug)]
pub enum Options {
    /// Some samples are being continued.
    Extending(Extension),
    /// Every sample is a finished option.
    Done(Generated),
}

/// The continuation of the incomplete samples of one expansion.
#[derive(Clone, Debug)]
pub struct Extension {
    /// The samples as they grow.
    pub generated: Generated,
    prompt: String,
    node: NodeId,
    /// Sample index of each request in `needs`.
    extending: Vec<usize>,
    pub needs: Vec<GenerateNeed>,
    rounds: u32,
}

impl Extension {
    /// Starts continuing the incomplete samples of `generated` (sampled from `prompt` at
    /// `node`).
    pub fn start(g: &mut Grower, node: NodeId, prompt: String, generated: Generated) -> Options {
        let mut ext =
            Extension { generated, prompt, node, extending: Vec::new(), needs: Vec::new(), rounds: 0 };
        let incomplete: Vec<usize> =
            (0..ext.generated.samples.len()).filter(|&i| !is_complete(&ext.generated.samples[i])).collect();
        if incomplete.is_empty() || g.config.eta_option_max_extensions == 0 {
            return Options::Done(ext.generated);
        }
        ext.request(g, incomplete);
        Options::Extending(ext)
    }

    fn request(&mut self, g: &mut Grower, samples: Vec<usize>) {
        self.needs = samples
            .iter()
            .map(|&i| GenerateNeed {
                node: self.node,
                prompt: format!("{}{}{}", self.prompt, self.generated.samples[i].text, g.delim()),
                n: 1,
                temperature: None,
                want_value: false,
                seed: g.next_seed(),
                role: ModelRole::Policy,
            })
            .collect();
        self.extending = samples;
    }

    /// Appends the continuations; asks for more while some sample is still incomplete and
    /// under the cap.
    pub fn answer(mut self, g: &mut Grower, results: Vec<Generated>) -> Options {
        self.rounds += 1;
        let delim = g.delim().to_owned();
        let mut again = Vec::new();
        for (&i, result) in self.extending.iter().zip(&results) {
            // A continuation that did not fit leaves the sample as it is.
            let Some(more) = result.samples.first() else { continue };
            let sample = &mut self.generated.samples[i];
            sample.text = format!("{}{delim}{}", sample.text, more.text);
            sample.tokens += more.tokens;
            sample.logprob_sum += more.logprob_sum;
            sample.finish.clone_from(&more.finish);
            self.generated.elapsed_ms += result.elapsed_ms;
            if !is_complete(sample) {
                again.push(i);
            }
        }
        if again.is_empty() || self.rounds >= g.config.eta_option_max_extensions {
            return Options::Done(self.generated);
        }
        self.request(g, again);
        Options::Extending(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(text: &str, finish: &str) -> Sample {
        Sample { text: text.to_owned(), tokens: 1, logprob_sum: 0.0, finish: Some(finish.to_owned()) }
    }

    #[test]
    fn formula_rule() {
        assert!(!is_complete(&sample("First, we are given the function:", "stop")));
        assert!(is_complete(&sample("So $f(2) = 4$.", "stop")));
        assert!(is_complete(&sample("Natalia sold 48/2 = <<48/2=24>>24 clips.", "stop")));
        assert!(is_complete(&sample("<code>\n```python\nprint(1)\n```", "stop")));
        assert!(is_complete(&sample("Final Answer: 3", "stop")));
        assert!(is_complete(&sample("no formula, but the sequence ended", "eos")));
        assert!(!is_complete(&sample("a dollar $ on one line\nand $ on the next", "stop")));
    }
}
