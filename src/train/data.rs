//! Training sequences: a question and a path of steps, tokenized exactly as the search prompts
//! the model, with policy labels on the tokens the model writes and value targets on the
//! trailing `\n` of each step (reference §10.4).
//!
//! The search's prompt for a state is `<question> {q} </question>\n` followed by each step's
//! node text and the `react_sft` delimiter `\n`; the model writes a step's generated part
//! (ending in `\n</code>` or `</step>`), the interpreter adds the observation. So a sequence is
//! the concatenation of those pieces, encoded piece by piece (the tokenizer keeps newlines and
//! the format tags as tokens of their own, so this equals encoding the whole text; tested).

use super::pairs::{PathMarks, StepMark, fingerprints};
use super::tokenizer::{TokenizerError, encode_piece};
use crate::search::prompt::PromptFormat;

/// One step of a path: what the model wrote and what the interpreter added.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PathStep {
    pub generated: String,
    pub observed: String,
    /// Value target of the state after this step (`tanh(v)` is trained towards it), if any.
    pub value: Option<f32>,
}

/// A question with a path of steps.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Example {
    pub question: String,
    pub steps: Vec<PathStep>,
    /// Value target of the root state (the prompt alone), if any.
    pub root_value: Option<f32>,
    /// Train the policy on the generated parts (correct paths only).
    pub policy: bool,
}

/// An example as token rows for [`super::net::Batch`]: input ids, next-token labels
/// ([`super::net::IGNORE`] where untrained), value targets (NaN where none), and where its
/// steps end (for the ranking loss's sibling pairs).
#[derive(Clone, Debug, PartialEq)]
pub struct Encoded {
    pub ids: Vec<u32>,
    pub labels: Vec<u32>,
    pub values: Vec<f32>,
    pub marks: PathMarks,
}

impl Encoded {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// The search's prompt for the root state of `question`.
pub fn root_prompt(question: &str) -> String {
    PromptFormat::ReactSft.render(question, "", "\n", &[])
}

/// Tokenizes `example`; `None` when it is longer than `max_len` tokens.
pub fn encode(
    tok: &tokenizers::Tokenizer,
    bos: u32,
    example: &Example,
    max_len: usize,
) -> Result<Option<Encoded>, TokenizerError> {
    use super::net::IGNORE;
    // Token i predicts token i+1: a piece's tokens are labelled on the positions before them.
    let mut ids = vec![bos];
    let mut trained = vec![false];
    let mut values = vec![f32::NAN];
    let push =
        |ids: &mut Vec<u32>, trained: &mut Vec<bool>, values: &mut Vec<f32>, piece: &[u32], t: bool| {
            ids.extend_from_slice(piece);
            trained.extend(std::iter::repeat_n(t, piece.len()));
            values.extend(std::iter::repeat_n(f32::NAN, piece.len()));
        };
    let root = root_prompt(&example.question);
    push(&mut ids, &mut trained, &mut values, &encode_piece(tok, &root)?, false);
    if let (Some(v), Some(last)) = (example.root_value, values.last_mut()) {
        *last = v;
    }
    let (question, paths) = fingerprints(example);
    let mut marks = PathMarks { question, steps: Vec::with_capacity(paths.len()) };
    for (step, path) in example.steps.iter().zip(paths) {
        push(&mut ids, &mut trained, &mut values, &encode_piece(tok, &step.generated)?, example.policy);
        push(&mut ids, &mut trained, &mut values, &encode_piece(tok, &step.observed)?, false);
        push(&mut ids, &mut trained, &mut values, &encode_piece(tok, "\n")?, false);
        if let (Some(v), Some(last)) = (step.value, values.last_mut()) {
            *last = v;
        }
        marks.steps.push(StepMark { position: ids.len() - 1, path });
    }
    if ids.len() > max_len {
        return Ok(None);
    }
    let labels = (0..ids.len())
        .map(|i| match (ids.get(i + 1), trained.get(i + 1)) {
            (Some(&next), Some(true)) => next,
            _ => IGNORE,
        })
        .collect();
    Ok(Some(Encoded { ids, labels, values, marks }))
}

/// The prompt text of the state after `steps` (as the search renders it).
pub fn state_prompt(question: &str, steps: &[PathStep]) -> String {
    let partial: Vec<String> = steps.iter().map(|s| format!("{}{}", s.generated, s.observed)).collect();
    PromptFormat::ReactSft.render(question, &partial.join("\n"), "\n", &[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::synth::{self, Split};
    use crate::train::tokenizer::{BOS, learn};

    #[test]
    fn piecewise_encoding_equals_the_search_prompt_encoding() {
        let ps = synth::problems(4, Split::Train, 40);
        let texts: Vec<String> =
            ps.iter().map(|p| format!("{}{}", root_prompt(&p.question), p.solution())).collect();
        let bpe = learn(&texts, 150, 2).unwrap();
        let tok = bpe.tokenizer().unwrap();
        let bos = bpe.id(BOS).unwrap();
        for p in &ps {
            let ex = gold_example(p);
            let enc = encode(&tok, bos, &ex, 10_000).unwrap().unwrap();
            let whole = state_prompt(&p.question, &ex.steps);
            let ids = tok.encode(whole.as_str(), true).unwrap().get_ids().to_vec();
            assert_eq!(enc.ids, ids, "{whole}");
            // One value target per step, each on a newline token; labels only inside steps.
            let valued = enc.values.iter().filter(|v| !v.is_nan()).count();
            assert_eq!(valued, p.steps.len() + 1);
            let nl = bpe.id("\n").unwrap();
            for (i, v) in enc.values.iter().enumerate() {
                assert!(v.is_nan() || enc.ids[i] == nl);
            }
            let root_len = tok.encode(root_prompt(&p.question).as_str(), true).unwrap().len();
            assert!(enc.labels[..root_len - 1].iter().all(|&l| l == crate::train::net::IGNORE));
            assert!(enc.labels.iter().any(|&l| l != crate::train::net::IGNORE));
        }
    }

    /// The gold path of a problem with value targets 1.
    fn gold_example(p: &synth::SynthProblem) -> Example {
        Example {
            question: p.question.clone(),
            steps: p
                .steps
                .iter()
                .map(|s| PathStep { generated: s.generated(), observed: s.observed(), value: Some(1.0) })
                .collect(),
            root_value: Some(1.0),
            policy: true,
        }
    }
}
