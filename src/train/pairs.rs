//! Sibling pairs for the value head's ranking loss.
//!
//! A step-level search compares states at one depth, the children of one state and those of
//! its neighbours in the beam, so what its value head must get right is their order, not each
//! value's distance from a target. Two examples of one question whose paths part at some step
//! are siblings there (the same state followed by different steps) and, past it, states at
//! the same depth down different branches. At each depth from where they part, when both have
//! value targets at least [`MIN_GAP`] apart, the pair says which state a search should have
//! kept, and the ranking loss trains exactly that.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use super::data::Example;

/// Targets closer than this (on the ±1 scale) do not make a pair: a rollout mean of 0.33
/// beside one of 0 says too little to rank by.
pub const MIN_GAP: f32 = 0.5;

/// Where a path stands in the tokens of its encoding: the question it answers and, for each
/// step, the position of the step's last token (where its value is read) and a fingerprint of
/// the path up to and including it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathMarks {
    pub question: u64,
    pub steps: Vec<StepMark>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepMark {
    pub position: usize,
    pub path: u64,
}

/// The fingerprints of `example`'s question and of each of its path's prefixes; positions are
/// filled in by the encoder.
pub fn fingerprints(example: &Example) -> (u64, Vec<u64>) {
    let mut h = DefaultHasher::new();
    example.question.hash(&mut h);
    let question = h.finish();
    let paths = example
        .steps
        .iter()
        .map(|s| {
            s.generated.hash(&mut h);
            s.observed.hash(&mut h);
            h.finish()
        })
        .collect();
    (question, paths)
}

/// One ranked pair: (row, position) of the preferred step and of the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pair {
    pub better: (usize, usize),
    pub worse: (usize, usize),
}

/// The ranked pairs among `rows` (marks and per-token value targets, NaN where none): every two
/// rows of one question, at each step from the one where their paths part, when both have a
/// target there and the targets differ by [`MIN_GAP`] or more.
pub fn pairs(rows: &[(&PathMarks, &[f32])]) -> Vec<Pair> {
    let mut out = Vec::new();
    for (a, (ma, va)) in rows.iter().enumerate() {
        for (b, (mb, vb)) in rows.iter().enumerate().skip(a + 1) {
            if ma.question != mb.question {
                continue;
            }
            // Where one path is a prefix of the other (or they are equal) they never part.
            let Some(part) = ma.steps.iter().zip(&mb.steps).position(|(x, y)| x.path != y.path) else {
                continue;
            };
            for (sa, sb) in ma.steps.iter().zip(&mb.steps).skip(part) {
                let (pa, pb) = (sa.position, sb.position);
                let (Some(&ta), Some(&tb)) = (va.get(pa), vb.get(pb)) else { continue };
                if ta.is_nan() || tb.is_nan() || (ta - tb).abs() < MIN_GAP {
                    continue;
                }
                let (x, y) = ((a, pa), (b, pb));
                out.push(if ta > tb { Pair { better: x, worse: y } } else { Pair { better: y, worse: x } });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::data::{PathStep, encode};
    use crate::train::synth::{self, Split};
    use crate::train::tokenizer::{BOS, learn};

    fn step(text: &str, value: Option<f32>) -> PathStep {
        PathStep { generated: format!("<step>\n<p>\n{text}\n</p>\n</step>"), observed: String::new(), value }
    }

    fn example(question: &str, steps: Vec<PathStep>) -> Example {
        Example { question: question.into(), steps, root_value: None, policy: false }
    }

    #[test]
    fn paths_pair_at_each_depth_from_where_they_part() {
        let ps = synth::problems(4, Split::Train, 20);
        let texts: Vec<String> = ps.iter().map(|p| p.solution()).collect();
        let bpe = learn(&texts, 120, 2).expect("tokenizer");
        let tok = bpe.tokenizer().expect("tokenizer");
        let bos = bpe.id(BOS).expect("bos");
        let q = "What is 2 + 3?";
        let examples = [
            // Right, then right.
            example(q, vec![step("a = 5", Some(1.0)), step("Final Answer: 5", Some(1.0))]),
            // The same first step, then a wrong answer: pairs with the first at step 2.
            example(q, vec![step("a = 5", Some(1.0)), step("Final Answer: 6", Some(-1.0))]),
            // A wrong first step: pairs with both at step 1, and with the first at step 2 too
            // (states at one depth down different branches).
            example(q, vec![step("a = 6", Some(-1.0)), step("Final Answer: 6", Some(-1.0))]),
            // A first step with a target too close to the others' to rank.
            example(q, vec![step("a = 2 + 3", Some(0.8))]),
            // The first path's prefix: nowhere to part.
            example(q, vec![step("a = 5", None)]),
            // Another question: never paired.
            example("What is 1 + 1?", vec![step("a = 7", Some(-1.0))]),
        ];
        let encoded: Vec<_> =
            examples.iter().map(|e| encode(&tok, bos, e, 10_000).expect("encodes").expect("fits")).collect();
        let rows: Vec<_> = encoded.iter().map(|e| (&e.marks, e.values.as_slice())).collect();
        let found = pairs(&rows);
        let at = |row: usize, step: usize| (row, encoded[row].marks.steps[step].position);
        assert_eq!(
            found,
            vec![
                Pair { better: at(0, 1), worse: at(1, 1) },
                Pair { better: at(0, 0), worse: at(2, 0) },
                Pair { better: at(0, 1), worse: at(2, 1) },
                Pair { better: at(1, 0), worse: at(2, 0) },
                Pair { better: at(3, 0), worse: at(2, 0) },
            ]
        );
        // Each pair reads the values at the steps' last tokens, where the targets sit.
        for p in &found {
            assert!(!encoded[p.better.0].values[p.better.1].is_nan());
            assert!(!encoded[p.worse.0].values[p.worse.1].is_nan());
        }
    }
}
