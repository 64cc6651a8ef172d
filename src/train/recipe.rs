//! Named training recipes (network shape, tokenizer, schedule) and the example sources of the
//! two phases: gold solutions of the synthetic train split (policy), and a fixed list of
//! round-0 examples (value, with the policy kept on correct paths).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use super::data::{Example, PathStep, root_prompt};
use super::net::NetConfig;
use super::optim::AdamWParams;
use super::synth::{self, Split, SynthProblem};
use super::tokenizer::{self, Bpe, TokenizerError};
use super::trainer::{Schedule, Source};
use crate::model::Rng;

/// Validation and test problems kept out of training.
pub const VALID_PROBLEMS: usize = 200;
pub const TEST_PROBLEMS: usize = 1000;

/// Everything a policy run needs besides its seed.
#[derive(Clone, Debug)]
pub struct Recipe {
    pub hidden_size: usize,
    pub num_layers: usize,
    pub num_heads: usize,
    pub intermediate_size: usize,
    /// The context the checkpoint declares. RoPE has no learned positions, and the search asks
    /// for up to `max_tokens` (2000 by default) beyond the prompt, so this is larger than any
    /// training sequence.
    pub max_position_embeddings: usize,
    /// Train problems the tokenizer is learned from, and its merges.
    pub tokenizer_problems: usize,
    pub merges: usize,
    pub schedule: Schedule,
    /// Validation problems scored at each validation.
    pub valid_problems: usize,
}

/// The recipes by name: `bundled` (the shipped model), `verifier` (a deeper trunk for a
/// separate value model) and `tiny` (tests, smoke runs).
pub fn preset(name: &str) -> Option<Recipe> {
    let schedule = Schedule {
        steps: 600,
        batch_size: 16,
        lr: 2e-3,
        warmup: 30,
        min_lr_ratio: 0.05,
        clip: 1.0,
        value_weight: 1.0,
        rank_weight: 0.0,
        max_len: 512,
        adamw: AdamWParams::default(),
        log_every: 10,
        valid_every: 100,
        checkpoint_every: 100,
    };
    match name {
        // Four heads of 48 rather than two of 96: copying a number from the question is an
        // attention lookup, and more heads give the model more of them at the same cost.
        "bundled" => Some(Recipe {
            hidden_size: 192,
            num_layers: 4,
            num_heads: 4,
            intermediate_size: 512,
            max_position_embeddings: 4096,
            tokenizer_problems: 3000,
            merges: 700,
            schedule: Schedule { steps: 1200, warmup: 50, ..schedule },
            valid_problems: 100,
        }),
        // A deeper trunk for a separate value model (`train round --value-only`): the same
        // tokenizer as `bundled`, six layers instead of four, in f32 within the ~14 MB the
        // bundled policy leaves of 25 MB. Measured (#7, README): on the same value labels it
        // orders right/wrong step pairs no better than a head on the bundled trunk (~70 %).
        "verifier" => preset("bundled").map(|bundled| Recipe { num_layers: 6, ..bundled }),
        "tiny" => Some(Recipe {
            hidden_size: 32,
            num_layers: 2,
            num_heads: 2,
            intermediate_size: 64,
            max_position_embeddings: 4096,
            tokenizer_problems: 200,
            merges: 100,
            schedule: Schedule {
                steps: 20,
                batch_size: 4,
                warmup: 4,
                log_every: 5,
                valid_every: 10,
                checkpoint_every: 10,
                ..schedule
            },
            valid_problems: 8,
        }),
        _ => None,
    }
}

/// The preset names, for messages.
pub const PRESETS: [&str; 3] = ["bundled", "verifier", "tiny"];

impl Recipe {
    pub fn net(&self, bpe: &Bpe) -> Result<NetConfig, TokenizerError> {
        let id = |t: &str| bpe.id(t).ok_or_else(|| TokenizerError::Build(format!("no token {t}")));
        Ok(NetConfig {
            vocab_size: bpe.vocab_size(),
            hidden_size: self.hidden_size,
            num_layers: self.num_layers,
            num_heads: self.num_heads,
            intermediate_size: self.intermediate_size,
            max_position_embeddings: self.max_position_embeddings,
            rope_theta: 10_000.0,
            rms_norm_eps: 1e-5,
            bos_token_id: id(tokenizer::BOS)?,
            eos_token_id: id(tokenizer::EOS)?,
        })
    }

    /// The tokenizer learned from the first train problems (deterministic by seed).
    pub fn tokenizer(&self, seed: u64) -> Result<Bpe, TokenizerError> {
        let texts: Vec<String> = synth::problems(seed, Split::Train, self.tokenizer_problems)
            .iter()
            .map(|p| format!("{}{}\n", root_prompt(&p.question), p.solution()))
            .collect();
        tokenizer::learn(&texts, self.merges, 2)
    }
}

/// A problem's gold path, trained as policy data (no value targets).
pub fn gold_example(p: &SynthProblem) -> Example {
    Example {
        question: p.question.clone(),
        steps: p
            .steps
            .iter()
            .map(|s| PathStep { generated: s.generated(), observed: s.observed(), value: None })
            .collect(),
        root_value: None,
        policy: true,
    }
}

/// Gold solutions of the train split, skipping held-out questions.
pub struct GoldSource {
    pub seed: u64,
    pub held_out: HashSet<String>,
}

impl GoldSource {
    pub fn new(seed: u64) -> GoldSource {
        GoldSource { seed, held_out: synth::held_out_questions(seed, VALID_PROBLEMS, TEST_PROBLEMS) }
    }
}

impl Source for GoldSource {
    fn example(&self, position: u64) -> (Example, u64) {
        let mut i = position;
        loop {
            let p = synth::problem(self.seed, Split::Train, i);
            i += 1;
            if !self.held_out.contains(&p.question) {
                return (gold_example(&p), i);
            }
        }
    }
}

/// A fixed list of examples, reshuffled every epoch (deterministic by seed).
pub struct ListSource {
    examples: Vec<Example>,
    seed: u64,
    /// Indices of the examples by question, when a question's examples are to come together.
    groups: Option<Vec<Vec<usize>>>,
    /// The last epoch's order, shuffled once rather than for every example drawn.
    epoch_order: RefCell<Option<(u64, Vec<usize>)>>,
}

impl ListSource {
    /// Every example in its own place of the shuffle.
    pub fn new(examples: Vec<Example>, seed: u64) -> ListSource {
        ListSource { examples, seed, groups: None, epoch_order: RefCell::new(None) }
    }

    /// A question's examples one after another (the questions and each one's examples
    /// shuffled), so the siblings the ranking loss pairs share a batch.
    pub fn by_question(examples: Vec<Example>, seed: u64) -> ListSource {
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for (i, ex) in examples.iter().enumerate() {
            let g = *index.entry(ex.question.as_str()).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            groups[g].push(i);
        }
        ListSource { examples, seed, groups: Some(groups), epoch_order: RefCell::new(None) }
    }

    fn order(&self, epoch: u64) -> Vec<usize> {
        let mut rng = Rng::new(self.seed ^ epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        match &self.groups {
            None => {
                let mut order: Vec<usize> = (0..self.examples.len()).collect();
                shuffle(&mut order, &mut rng);
                order
            }
            Some(groups) => {
                let mut groups = groups.clone();
                shuffle(&mut groups, &mut rng);
                for g in &mut groups {
                    shuffle(g, &mut rng);
                }
                groups.concat()
            }
        }
    }
}

fn shuffle<T>(items: &mut [T], rng: &mut Rng) {
    for i in (1..items.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

impl Source for ListSource {
    fn example(&self, position: u64) -> (Example, u64) {
        let n = self.examples.len().max(1) as u64;
        let epoch = position / n;
        let mut cached = self.epoch_order.borrow_mut();
        if cached.as_ref().is_none_or(|(e, _)| *e != epoch) {
            *cached = Some((epoch, self.order(epoch)));
        }
        let idx =
            cached.as_ref().and_then(|(_, order)| order.get((position % n) as usize)).copied().unwrap_or(0);
        (
            self.examples
                .get(idx)
                .cloned()
                .unwrap_or_else(|| gold_example(&synth::problem(self.seed, Split::Train, 0))),
            position + 1,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The product's model budget: the bundled policy and, beside it, a separate value model
    /// with its tokenizer.
    const BUNDLE_BYTES: usize = 25 * 1000 * 1000;

    #[test]
    fn by_question_keeps_each_questions_examples_together_and_shuffles_the_rest() {
        let examples: Vec<Example> = (0..30)
            .map(|i| Example {
                question: format!("q{}", i % 7),
                steps: Vec::new(),
                root_value: Some(i as f32),
                policy: false,
            })
            .collect();
        let source = ListSource::by_question(examples.clone(), 3);
        for epoch in 0..2u64 {
            let seen: Vec<Example> = (0..30).map(|i| source.example(epoch * 30 + i).0).collect();
            let mut ids: Vec<i64> = seen.iter().map(|e| e.root_value.unwrap_or(-1.0) as i64).collect();
            // Seven runs of one question each, in an order other than the list's.
            let runs = 1 + seen.windows(2).filter(|w| w[0].question != w[1].question).count();
            assert_eq!(runs, 7);
            assert_ne!(ids, (0..30).collect::<Vec<_>>());
            ids.sort();
            assert_eq!(ids, (0..30).collect::<Vec<_>>(), "every example once per epoch");
        }
        let plain = ListSource::new(examples, 3);
        let seen: Vec<Example> = (0..30).map(|i| plain.example(i).0).collect();
        assert!(seen.windows(2).filter(|w| w[0].question != w[1].question).count() > 7);
    }

    #[test]
    fn a_verifier_fits_beside_the_bundled_policy_and_shares_its_tokenizer() {
        let (bundled, verifier) =
            (preset("bundled").expect("bundled"), preset("verifier").expect("verifier"));
        let bpe = bundled.tokenizer(7).expect("tokenizer");
        let tokenizer = bpe.to_json();
        assert_eq!(tokenizer, verifier.tokenizer(7).expect("tokenizer").to_json());
        // The tokenizers are equal, so one serves both nets.
        let f32_bytes = |recipe: &Recipe| 4 * recipe.net(&bpe).expect("net").parameters();
        let total = f32_bytes(&bundled) + f32_bytes(&verifier) + 2 * tokenizer.len();
        assert!(total <= BUNDLE_BYTES, "{total} bytes");
        assert!(f32_bytes(&verifier) > f32_bytes(&bundled));
    }
}
