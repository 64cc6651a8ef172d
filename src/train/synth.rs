//! The synthetic math domain arbor trains its bundled model on: multi-step arithmetic word
//! problems (1–5 operations) with several phrasings per operation, distractor sentences,
//! units, and a gold solution in the `react_sft` step format whose code the interpreter runs.
//!
//! A gold step's thought quotes the question's sentences it uses (`quote`), then the code.
//! The model has to choose the sentences, the operations and the numbers; the interpreter
//! does the arithmetic. What makes a problem hard for a small model: sentences that say the same
//! operation in different words ("has 5 fewer than" / "has 5 more than" read the other way),
//! distractor sentences with numbers of their own, constants that are not in the text (60
//! minutes in an hour, 7 days in a week), and later steps that build on earlier results. The
//! numbers are drawn so the gold path meets only positive whole numbers, while typical slips
//! (swapped operands, a distractor used, a missed halving) often print negative or fractional
//! numbers, which a value head can learn to distrust.
//!
//! Everything is a function of `(seed, split, index)`: the same triple gives the same problem
//! on every machine. Train, validation and test draw from separate streams; the trainer drops
//! any train problem whose question also appears in the validation or test split.

mod quote;
mod story;
mod words;

use std::collections::HashSet;

use serde_json::{Map, Value, json};

pub use story::GoldStep;
use story::{Story, chance, comparison, distractor, inventory, range, rates, shopping};

use crate::interp::{ExecRequest, InterpError, Pool};
use crate::model::Rng;
use crate::search::prompt::StepFormat;

/// The fewest and most operations (code steps) of a problem.
pub const MIN_LEVEL: usize = 1;
pub const MAX_LEVEL: usize = 5;

/// The seed of the shipped test split (`assets/datasets/synth_test.jsonl`) and of training.
pub const DEFAULT_SEED: u64 = 7;

/// Which stream a problem comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Split {
    Train,
    Valid,
    Test,
}

impl Split {
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Valid => "valid",
            Split::Test => "test",
        }
    }

    fn stream(self) -> u64 {
        match self {
            Split::Train => 0x7472_6169_6e00_0001,
            Split::Valid => 0x7661_6c69_6400_0002,
            Split::Test => 0x7465_7374_0000_0003,
        }
    }
}

/// One generated problem with its gold solution.
#[derive(Clone, Debug)]
pub struct SynthProblem {
    /// `"{split}-{index}"`.
    pub id: String,
    pub split: Split,
    pub index: u64,
    /// Number of operations, 1–5 (the gold solution has `level` code steps and a final step).
    pub level: usize,
    /// The story family (`inventory`, `comparison`, `shopping`, `rates`).
    pub family: &'static str,
    pub question: String,
    /// The gold answer, a whole number.
    pub answer: String,
    pub steps: Vec<GoldStep>,
    /// Irrelevant sentences in the question.
    pub distractors: usize,
}

impl GoldStep {
    /// What the policy writes for this step: up to and including `\n</code>` (a code step,
    /// whose stop string the model emits) or the whole final step.
    pub fn generated(&self) -> String {
        match self {
            GoldStep::Code { thought, code, .. } => {
                format!("<step>\n<p>\n{thought}\n</p>\n<code>\n```python\n{code}\n```\n</code>")
            }
            GoldStep::Final { thought, answer } => {
                format!("<step>\n<p>\n{thought}\n</p>\n<p>\nFinal Answer: {answer}\n</p>\n</step>")
            }
        }
    }

    /// What the interpreter adds after a code step (the wrapped observation with its leading
    /// delimiter); empty for the final step.
    pub fn observed(&self) -> String {
        match self {
            GoldStep::Code { output, .. } => format!("\n<output>\n{output}\n</output>\n</step>"),
            GoldStep::Final { .. } => String::new(),
        }
    }

    /// The node text in a search tree: generated part plus observation.
    pub fn text(&self) -> String {
        self.generated() + &self.observed()
    }
}

impl SynthProblem {
    /// The gold solution: the steps' node texts joined by the `react_sft` delimiter.
    pub fn solution(&self) -> String {
        self.steps.iter().map(GoldStep::text).collect::<Vec<_>>().join("\n")
    }

    /// The problem as a record of a problem file (`question`, `answer`, and the rest).
    pub fn record(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("question".into(), json!(self.question));
        m.insert("answer".into(), json!(self.answer));
        m.insert("level".into(), json!(self.level));
        m.insert("type".into(), json!(self.family));
        m.insert("distractors".into(), json!(self.distractors));
        m.insert("solution".into(), json!(self.solution()));
        m
    }
}

fn mix(seed: u64, split: Split, index: u64) -> u64 {
    let mut r = Rng::new(seed ^ split.stream());
    r.next_u64() ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Problem `index` of `split` under `seed`. Validation and test problems cycle through the
/// levels (index 0 has level 1, index 4 level 5); train problems draw theirs.
pub fn problem(seed: u64, split: Split, index: u64) -> SynthProblem {
    let mut rng = Rng::new(mix(seed, split, index));
    let level = match split {
        Split::Train => range(&mut rng, MIN_LEVEL as i64, MAX_LEVEL as i64) as usize,
        Split::Valid | Split::Test => MIN_LEVEL + (index as usize % (MAX_LEVEL - MIN_LEVEL + 1)),
    };
    let mut story = loop {
        let family = (rng.next_u64() % 4) as usize;
        let story = match family {
            0 => inventory(&mut rng, level),
            1 => comparison(&mut rng, level),
            2 => shopping(&mut rng, level),
            _ => rates(&mut rng, level),
        };
        if let Some(s) = story.filter(|s| s.steps.len() == level + 1) {
            break s;
        }
    };
    let distractors = if chance(&mut rng, 0.4) {
        0
    } else if chance(&mut rng, 0.67) {
        1
    } else {
        2
    };
    quote::quote_sources(&story.facts, &story.question, &mut story.steps);
    let question = compose(&mut rng, &story, distractors);
    SynthProblem {
        id: format!("{}-{index}", split.name()),
        split,
        index,
        level,
        family: story.family,
        question,
        answer: story.answer.to_string(),
        steps: story.steps,
        distractors,
    }
}

/// The question text: the story's facts with distractors put in at random places, then the
/// question sentence.
fn compose(rng: &mut Rng, story: &Story, distractors: usize) -> String {
    let mut facts = story.facts.clone();
    let mut used = Vec::new();
    for _ in 0..distractors {
        let d = distractor(rng, story, &mut used);
        let at = range(rng, 0, facts.len() as i64) as usize;
        facts.insert(at, d);
    }
    facts.push(story.question.clone());
    facts.join(" ")
}

/// Problems `0..count` of `split`.
pub fn problems(seed: u64, split: Split, count: usize) -> Vec<SynthProblem> {
    (0..count as u64).map(|i| problem(seed, split, i)).collect()
}

/// The training stream from `start` on, without any question of `held_out` (the validation
/// and test questions).
pub struct TrainStream<'a> {
    seed: u64,
    next: u64,
    held_out: &'a HashSet<String>,
}

impl<'a> TrainStream<'a> {
    pub fn new(seed: u64, start: u64, held_out: &'a HashSet<String>) -> TrainStream<'a> {
        TrainStream { seed, next: start, held_out }
    }

    /// The index the next problem will be drawn from (for resuming).
    pub fn position(&self) -> u64 {
        self.next
    }
}

impl Iterator for TrainStream<'_> {
    type Item = SynthProblem;

    fn next(&mut self) -> Option<SynthProblem> {
        loop {
            let p = problem(self.seed, Split::Train, self.next);
            self.next += 1;
            if !self.held_out.contains(&p.question) {
                return Some(p);
            }
        }
    }
}

/// A gold step whose code does not print what the solution says it prints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    pub problem: String,
    pub step: usize,
    pub expected: String,
    pub observed: String,
}

/// The code of a gold step as the search's parser captures it (fences included).
fn action_input(step: &GoldStep) -> Option<String> {
    let generated = step.generated();
    let raw = generated.strip_suffix("\n</code>")?;
    StepFormat::ReactSft.parse(raw).ok().map(|p| p.action_input)
}

/// Runs every gold code step through the interpreter, after its ancestors' code as the search
/// replays it, and reports the steps whose observation differs from the gold output.
pub fn verify(pool: &Pool, problems: &[SynthProblem]) -> Result<Vec<Mismatch>, InterpError> {
    let mut requests = Vec::new();
    let mut expected = Vec::new();
    for p in problems {
        let mut ancestors: Vec<String> = Vec::new();
        for (i, step) in p.steps.iter().enumerate() {
            let (GoldStep::Code { output, .. }, Some(code)) = (step, action_input(step)) else { continue };
            requests.push(ExecRequest::new(ancestors.clone(), code.clone()));
            expected.push((p.id.clone(), i, output.clone()));
            ancestors.push(code);
        }
    }
    let results = pool.execute(&requests)?;
    Ok(results
        .into_iter()
        .zip(expected)
        .filter(|(r, (_, _, out))| r.observation != *out)
        .map(|(r, (problem, step, expected))| Mismatch { problem, step, expected, observed: r.observation })
        .collect())
}

/// The questions of the first `valid` validation and `test` test problems.
pub fn held_out_questions(seed: u64, valid: usize, test: usize) -> HashSet<String> {
    problems(seed, Split::Valid, valid)
        .into_iter()
        .chain(problems(seed, Split::Test, test))
        .map(|p| p.question)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_repeat_by_seed_and_differ_between_splits() {
        let a = problem(1, Split::Test, 3);
        let b = problem(1, Split::Test, 3);
        assert_eq!((a.question.clone(), a.solution()), (b.question.clone(), b.solution()));
        assert_ne!(a.question, problem(1, Split::Valid, 3).question);
        assert_ne!(a.question, problem(2, Split::Test, 3).question);
        assert_eq!(a.level, 4);
    }

    #[test]
    fn gold_steps_parse_as_the_search_parses_them() {
        for p in problems(5, Split::Train, 200) {
            assert_eq!(p.steps.len(), p.level + 1, "{}", p.question);
            for step in &p.steps {
                let generated = step.generated();
                // The search sees the generation without its stop string.
                let raw = generated
                    .strip_suffix("\n</code>")
                    .or_else(|| generated.strip_suffix("</step>"))
                    .unwrap_or(&generated);
                let parsed = StepFormat::ReactSft.parse(raw).unwrap();
                match step {
                    GoldStep::Code { output, .. } => {
                        let text = format!(
                            "{}\n{}",
                            parsed.step_result,
                            StepFormat::ReactSft.wrap_observation(output)
                        );
                        assert_eq!(text, step.text());
                    }
                    GoldStep::Final { answer, .. } => {
                        assert_eq!(&parsed.final_answer, answer);
                        assert_eq!(&p.answer, answer);
                        assert_eq!(parsed.step_result, step.text());
                    }
                }
            }
        }
    }

    #[test]
    fn levels_families_and_distractors_all_occur() {
        let ps = problems(DEFAULT_SEED, Split::Train, 400);
        for level in MIN_LEVEL..=MAX_LEVEL {
            assert!(ps.iter().any(|p| p.level == level), "level {level}");
        }
        for family in ["inventory", "comparison", "shopping", "rates"] {
            assert!(ps.iter().any(|p| p.family == family), "{family}");
        }
        assert!((0..=2).all(|d| ps.iter().any(|p| p.distractors == d)));
        let answers_positive = ps.iter().all(|p| p.answer.parse::<i64>().is_ok_and(|a| a > 0));
        assert!(answers_positive);
    }
}
