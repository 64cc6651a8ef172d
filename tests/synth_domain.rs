//! The synthetic domain and the bundled model: gold solutions reproduce through arbor's real
//! interpreter and grade correct, the shipped test split is the generator's, and the shipped
//! model loads quickly and runs an SBS(3,5) search to a well-formed tree.

#![allow(clippy::unwrap_used)] // tests unwrap what they built themselves

use std::path::Path;
use std::process::Command;

use arbor::interp::{Pool, PoolConfig};
use arbor::search::prompt::StepFormat;
use arbor::train::synth::{self, GoldStep, Split};

const SHIPPED_TEST: &str = "assets/datasets/synth_test.jsonl";
const SHIPPED_MODEL: &str = "assets/model/synth";

#[test]
fn every_gold_solution_reproduces_through_the_interpreter_and_grades_correct() {
    let pool = Pool::new(PoolConfig { workers: 2, ..PoolConfig::default() }).unwrap();
    let mut problems = Vec::new();
    for split in [Split::Train, Split::Valid, Split::Test] {
        problems.extend(synth::problems(synth::DEFAULT_SEED, split, 100));
    }
    problems.extend(synth::problems(123, Split::Train, 100));
    for level in synth::MIN_LEVEL..=synth::MAX_LEVEL {
        assert!(problems.iter().filter(|p| p.level == level).count() >= 20, "level {level}");
    }
    let mismatches = synth::verify(&pool, &problems).unwrap();
    assert!(mismatches.is_empty(), "{mismatches:?}");
    for p in &problems {
        let Some(GoldStep::Final { answer, .. }) = p.steps.last() else { panic!("{}: no final step", p.id) };
        let Some(GoldStep::Code { output, .. }) = p.steps.iter().rev().nth(1) else { panic!("{}", p.id) };
        assert!(arbor::grade::is_equiv(&p.answer, answer), "{}", p.id);
        assert!(arbor::grade::is_equiv(&p.answer, output), "{}: last output {output}", p.id);
        // The search parses the final step to the same answer.
        let generated = p.steps.last().unwrap().generated();
        let parsed = StepFormat::ReactSft.parse(generated.strip_suffix("</step>").unwrap()).unwrap();
        assert!(arbor::grade::is_equiv(&p.answer, &parsed.final_answer));
    }
}

#[test]
fn the_shipped_test_split_is_the_generators() {
    let text = std::fs::read_to_string(SHIPPED_TEST).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 100);
    for (i, line) in lines.iter().enumerate() {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        let p = synth::problem(synth::DEFAULT_SEED, Split::Test, i as u64);
        assert_eq!(record, serde_json::Value::Object(p.record()), "line {i}");
    }
    let set = arbor::problems::load(SHIPPED_TEST).unwrap();
    assert_eq!(set.problems.len(), lines.len());
}

#[test]
fn the_shipped_model_loads_and_sbs_grows_a_tree_on_a_shipped_problem() {
    let dir = Path::new(SHIPPED_MODEL);
    let size = std::fs::metadata(dir.join("model.safetensors")).unwrap().len();
    assert!(size <= 25 << 20, "{size} bytes");
    // Load time is a benchmark figure (README), not asserted here.
    let model = arbor::model::CandleModel::load(dir, arbor::model::ModelOptions::default()).unwrap();
    assert!(model.has_value_head());
    drop(model);

    let p = synth::problem(synth::DEFAULT_SEED, Split::Test, 1);
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("tree.jsonl");
    let run = Command::new(env!("CARGO_BIN_EXE_arbor"))
        .args(["solve", "--question", &p.question, "--answer", &p.answer, "--model", SHIPPED_MODEL])
        .args(["--config", "sbs", "--set", "step_beam_width=3", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let file = arbor::store::TreeFile::open(&out).unwrap();
    let loaded = file.load(0).unwrap().unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let tree = &loaded.record.tree;
    // The policy wrote parsable steps: the root has children, and some path ends in an answer.
    assert!(tree.ids().count() > 3, "a tree with {} nodes", tree.ids().count());
    let numeric = |id| tree.node(id).step().final_answer.trim().parse::<f64>().is_ok();
    assert!(tree.ids().any(numeric), "no numeric final answer in the tree");
}

/// Answers every request with a final step, correct and wrong in turn.
struct Alternating {
    answers: Vec<(String, String)>,
    calls: usize,
}

impl arbor::model::Policy for Alternating {
    fn generate(
        &mut self,
        requests: &[arbor::model::GenRequest],
    ) -> Result<Vec<arbor::model::GenResponse>, arbor::model::Error> {
        Ok(requests
            .iter()
            .map(|r| {
                let answer =
                    self.answers.iter().find(|(q, _)| r.prompt.contains(q.as_str())).unwrap().1.clone();
                let said = if self.calls.is_multiple_of(2) { answer } else { "-1".to_owned() };
                self.calls += 1;
                let text = format!("<step>\n<p>\nSo.\n</p>\n<p>\nFinal Answer: {said}\n</p>\n");
                arbor::model::GenResponse {
                    candidates: vec![arbor::model::Candidate {
                        text,
                        tokens: 5,
                        logprob_sum: -1.0,
                        token_logprobs: Vec::new(),
                        token_ids: Vec::new(),
                        finish: arbor::model::Finish::Stop,
                        stop_reason: Some("</step>".to_owned()),
                    }],
                    value: None,
                    prompt_tokens: 10,
                }
            })
            .collect())
    }
}

/// Writes one fixed code step first, then answers as [`Alternating`] does.
struct StepThenAlternate(Alternating);

impl arbor::model::Policy for StepThenAlternate {
    fn generate(
        &mut self,
        requests: &[arbor::model::GenRequest],
    ) -> Result<Vec<arbor::model::GenResponse>, arbor::model::Error> {
        let (first, rest): (Vec<_>, Vec<_>) = requests.iter().partition(|r| !r.prompt.contains("<code>"));
        assert!(first.is_empty() || rest.is_empty(), "the rollouts step together");
        let mut out = self.0.generate(requests)?;
        if rest.is_empty() {
            for response in &mut out {
                response.candidates[0].text =
                    "<step>\n<p>\nStart.\n</p>\n<code>\n```python\nx = 2\nprint(x)\n```".into();
                response.candidates[0].stop_reason = Some("\n</code>".into());
            }
        }
        Ok(out)
    }
}

#[test]
fn shared_round_zero_targets_are_mean_outcomes_of_the_rollouts_through_a_state() {
    use arbor::train::round0::{Estimate, Round0Config, examples};
    let pool = Pool::new(PoolConfig { workers: 1, ..PoolConfig::default() }).unwrap();
    let problems = synth::problems(3, Split::Train, 3);
    let mut policy = StepThenAlternate(Alternating {
        answers: problems.iter().map(|p| (p.question.clone(), p.answer.clone())).collect(),
        calls: 0,
    });
    let cfg = Round0Config { k: 4, estimate: Estimate::Shared, ..Round0Config::default() };
    let (out, stats) = examples(&mut policy, &pool, &problems, &cfg, &mut |_| {}).unwrap();
    assert_eq!(stats.rollouts, 12, "k rollouts per problem, from the root only");
    assert_eq!((stats.root_rollouts, stats.root_correct), (12, 6));
    for chunk in out.chunks(5) {
        let gold = &chunk[0];
        assert!(gold.policy);
        assert_eq!(gold.root_value, Some(0.0));
        let last = gold.steps.len() - 1;
        assert_eq!(gold.steps[last].value, Some(1.0), "the gold final state is correct");
        assert!(gold.steps[..last].iter().all(|s| s.value.is_none()), "no rollout passed the gold prefixes");
        for rollout in &chunk[1..] {
            assert_eq!(rollout.steps.len(), 2);
            assert_eq!(rollout.steps[0].observed, "\n<output>\n2\n</output>\n</step>");
            assert_eq!(rollout.steps[0].value, Some(0.0), "two of the four rollouts through it are right");
            let right = rollout.steps[1].value == Some(1.0);
            assert_eq!(rollout.policy, right);
            assert!(right || rollout.steps[1].value == Some(-1.0));
        }
        assert_eq!(chunk[1..].iter().filter(|r| r.policy).count(), 2);
    }
}

#[test]
fn round_zero_targets_are_mean_rollout_outcomes() {
    use arbor::train::round0::{Round0Config, examples};
    let pool = Pool::new(PoolConfig { workers: 1, ..PoolConfig::default() }).unwrap();
    let problems = synth::problems(3, Split::Train, 4);
    let mut policy = Alternating {
        answers: problems.iter().map(|p| (p.question.clone(), p.answer.clone())).collect(),
        calls: 0,
    };
    let cfg = Round0Config { k: 2, ..Round0Config::default() };
    let (out, stats) = examples(&mut policy, &pool, &problems, &cfg, &mut |_| {}).unwrap();
    // Per problem: the gold path and k root rollouts (one step each, so no stage B).
    assert_eq!(out.len(), problems.len() * 3);
    assert_eq!((stats.root_rollouts, stats.root_correct), (8, 4));
    for (p, chunk) in problems.iter().zip(out.chunks(3)) {
        let gold = &chunk[0];
        assert!(gold.policy);
        assert_eq!(gold.root_value, Some(0.0), "one of two rollouts from the root is right");
        let values: Vec<f32> = gold.steps.iter().map(|s| s.value.unwrap()).collect();
        assert_eq!(values.len(), p.level + 1);
        assert!(values[..p.level].iter().all(|&v| v == 0.0), "{values:?}");
        assert_eq!(values[p.level], 1.0, "the gold final state is correct");
        assert_eq!((chunk[1].policy, chunk[1].steps[0].value), (true, Some(1.0)));
        assert_eq!((chunk[2].policy, chunk[2].steps[0].value), (false, Some(-1.0)));
    }
}

#[test]
fn sibling_round_zero_keeps_every_rollout_from_every_gold_state_valued_among_its_siblings() {
    use arbor::train::round0::{Estimate, Round0Config, examples};
    let pool = Pool::new(PoolConfig { workers: 1, ..PoolConfig::default() }).unwrap();
    let problems = synth::problems(3, Split::Train, 3);
    // Each state's two rollouts answer at once: the first right, the second wrong.
    let mut policy = Alternating {
        answers: problems.iter().map(|p| (p.question.clone(), p.answer.clone())).collect(),
        calls: 0,
    };
    let cfg = Round0Config { k: 2, estimate: Estimate::Siblings, ..Round0Config::default() };
    let (out, stats) = examples(&mut policy, &pool, &problems, &cfg, &mut |_| {}).unwrap();
    let states: usize = problems.iter().map(|p| p.level + 1).sum();
    assert_eq!(stats.rollouts, 2 * states, "k rollouts from the root and every gold prefix");
    assert_eq!((stats.root_rollouts, stats.root_correct), (6, 3));
    assert_eq!(out.len(), problems.len() + 2 * states);
    let mut rest = out.as_slice();
    for p in &problems {
        let (chunk, tail) = rest.split_at(1 + 2 * (p.level + 1));
        rest = tail;
        let gold = &chunk[0];
        assert!(gold.policy);
        assert_eq!(gold.root_value, Some(0.0));
        let values: Vec<f32> = gold.steps.iter().map(|s| s.value.unwrap()).collect();
        assert!(
            values[..p.level].iter().all(|&v| v == 0.0),
            "one of two rollouts after each gold step is right"
        );
        assert_eq!(values[p.level], 1.0);
        for (depth, pair) in chunk[1..].chunks(2).enumerate() {
            for (rollout, right) in pair.iter().zip([true, false]) {
                assert_eq!(rollout.question, p.question);
                assert_eq!(rollout.steps.len(), depth + 1, "the gold prefix, then the sampled answer");
                for (step, gold_step) in rollout.steps[..depth].iter().zip(&gold.steps) {
                    assert_eq!(step.generated, gold_step.generated);
                    assert_eq!(step.value, None, "the gold prefix is valued once, in the gold example");
                }
                assert_eq!(rollout.steps[depth].value, Some(if right { 1.0 } else { -1.0 }));
                assert_eq!(rollout.policy, right);
                assert_eq!(rollout.root_value, (depth == 0).then_some(0.0));
            }
        }
    }
}

#[test]
fn final_step_siblings_are_graded_new_answers_after_the_same_steps() {
    use arbor::train::data::{Example, PathStep};
    use arbor::train::round0::{Round0Config, final_siblings};
    let problems = synth::problems(3, Split::Train, 2);
    let mut policy = Alternating {
        answers: problems.iter().map(|p| (p.question.clone(), p.answer.clone())).collect(),
        calls: 0,
    };
    // The wrong answer the policy writes every other time, as a path already holds it.
    let wrong = StepFormat::ReactSft
        .parse("<step>\n<p>\nSo.\n</p>\n<p>\nFinal Answer: -1\n</p>\n")
        .unwrap()
        .step_result;
    let path = |question: &str, final_value: f32| Example {
        question: question.to_owned(),
        steps: vec![
            PathStep {
                generated: "<step>\n<p>\nStart.\n</p>\n<code>\n```python\nx = 2\nprint(x)\n```\n</code>"
                    .into(),
                observed: "\n<output>\n2\n</output>\n</step>".into(),
                value: Some(0.5),
            },
            PathStep { generated: wrong.clone(), observed: String::new(), value: Some(final_value) },
        ],
        root_value: Some(0.0),
        policy: false,
    };
    // Two paths through the same state per problem, and one that never reached an answer.
    let mut examples = Vec::new();
    for p in &problems {
        examples.push(path(&p.question, -1.0));
        examples.push(path(&p.question, -1.0));
        let mut unfinished = path(&p.question, -1.0);
        unfinished.steps.pop();
        examples.push(unfinished);
    }
    let answers = problems.iter().map(|p| (p.question.clone(), p.answer.clone())).collect();
    let cfg = Round0Config::default();
    let (siblings, stats) = final_siblings(&mut policy, &examples, &answers, 4, &cfg).unwrap();
    assert_eq!(stats.states, 2, "one state per problem: the shared prefix, counted once");
    assert_eq!(stats.sampled, 8);
    // Per state: two right samples (one distinct text) and two wrong ones the path already had.
    assert_eq!((stats.examples, stats.correct), (2, 2));
    for (p, sibling) in problems.iter().zip(&siblings) {
        assert_eq!(sibling.question, p.question);
        assert!(!sibling.policy);
        assert_eq!(sibling.root_value, None);
        assert_eq!(sibling.steps.len(), 2);
        assert_eq!(sibling.steps[0].generated, examples[0].steps[0].generated);
        assert_eq!(sibling.steps[0].value, None, "the prefix keeps its targets in its own path");
        assert_eq!(sibling.steps[1].value, Some(1.0));
        assert!(sibling.steps[1].generated.contains(&format!("Final Answer: {}", p.answer)));
    }
}

#[test]
fn corrupted_round_zero_values_each_slip_beside_the_gold_step_it_spoils() {
    use arbor::train::round0::{Estimate, Round0Config, examples};
    let pool = Pool::new(PoolConfig { workers: 1, ..PoolConfig::default() }).unwrap();
    let problems = synth::problems(3, Split::Train, 4);
    // Each state's two rollouts answer at once: the first right, the second wrong.
    let mut policy = Alternating {
        answers: problems.iter().map(|p| (p.question.clone(), p.answer.clone())).collect(),
        calls: 0,
    };
    let cfg = Round0Config { k: 2, estimate: Estimate::Corrupted, corruptions: 2, ..Round0Config::default() };
    let (out, stats) = examples(&mut policy, &pool, &problems, &cfg, &mut |_| {}).unwrap();
    let states: usize = problems.iter().map(|p| p.level + 1).sum();
    let code_steps: usize = problems.iter().map(|p| p.level).sum();
    assert_eq!((stats.root_rollouts, stats.root_correct), (8, 4));
    let copies: Vec<_> = out.iter().filter(|ex| !ex.policy && ex.root_value.is_none()).collect();
    let (finals, codes): (Vec<&arbor::train::data::Example>, Vec<_>) =
        copies.iter().partition(|ex| ex.steps.last().unwrap().generated.contains("Final Answer:"));
    assert_eq!(finals.len(), 2 * problems.len(), "two wrong answers per problem");
    assert_eq!(codes.len(), 2 * code_steps, "two slips per code step");
    assert_eq!(stats.rollouts, 2 * states + 2 * codes.len(), "k rollouts per gold state and per slip");
    for copy in &copies {
        let p = problems.iter().find(|p| p.question == copy.question).unwrap();
        let (last, prefix) = copy.steps.split_last().unwrap();
        for (step, gold) in prefix.iter().zip(&p.steps) {
            assert_eq!(
                (step.generated.as_str(), step.observed.as_str()),
                (gold.generated().as_str(), gold.observed().as_str())
            );
            assert_eq!(step.value, None, "the gold prefix is valued in the gold example");
        }
        let gold = &p.steps[prefix.len()];
        assert_ne!(last.generated, gold.generated(), "a copy differs from the gold step");
        match gold {
            GoldStep::Final { .. } => {
                assert_eq!(last.value, Some(-1.0), "a wrong final answer is graded");
                let said = StepFormat::ReactSft.parse(&last.generated).unwrap().final_answer;
                assert!(!arbor::grade::is_equiv(&p.answer, &said), "{said} vs {}", p.answer);
            }
            GoldStep::Code { .. } => {
                // Valued by its own two rollouts, one right and one wrong.
                assert_eq!(last.value, Some(0.0));
                assert!(last.observed.starts_with("\n<output>\n"), "{:?}", last.observed);
            }
        }
    }
    // The interpreter really ran the slips: most print something other than the gold output.
    let differing = codes
        .iter()
        .filter(|ex| {
            let p = problems.iter().find(|p| p.question == ex.question).unwrap();
            ex.steps.last().unwrap().observed != p.steps[ex.steps.len() - 1].observed()
        })
        .count();
    assert!(differing * 2 > codes.len(), "{differing} of {} slips change the output", codes.len());
}

#[test]
fn process_round_zero_values_rollouts_and_slips_by_the_gold_solution() {
    use arbor::train::round0::{Estimate, Round0Config, examples};
    let pool = Pool::new(PoolConfig { workers: 1, ..PoolConfig::default() }).unwrap();
    let problems = synth::problems(3, Split::Train, 4);
    let mut policy = Alternating {
        answers: problems.iter().map(|p| (p.question.clone(), p.answer.clone())).collect(),
        calls: 0,
    };
    let cfg = Round0Config { k: 2, estimate: Estimate::Process, corruptions: 2, ..Round0Config::default() };
    let (out, stats) = examples(&mut policy, &pool, &problems, &cfg, &mut |_| {}).unwrap();
    assert_eq!(stats.rollouts, 2 * problems.len(), "rollouts from the root only; slips are not played");
    assert_eq!((stats.root_rollouts, stats.root_correct), (8, 4));
    let steps: usize = problems.iter().map(|p| p.level + 1).sum();
    assert_eq!(out.len(), problems.len() * 3 + 2 * steps, "gold, two rollouts, two slips per gold step");
    for ex in &out {
        let p = problems.iter().find(|p| p.question == ex.question).unwrap();
        let (last, prefix) = ex.steps.split_last().unwrap();
        if ex.root_value.is_some() {
            // The gold path and the root rollouts: every state valued.
            let right = last.generated.contains(&format!("Final Answer: {}", p.answer));
            assert!(ex.steps.iter().all(|s| s.value == Some(if right { 1.0 } else { -1.0 })), "{ex:?}");
            continue;
        }
        assert!(prefix.iter().all(|s| s.value.is_none()));
        let gold_outputs: Vec<String> =
            p.steps.iter().map(GoldStep::observed).filter(|o| !o.is_empty()).collect();
        let expected = if last.observed.is_empty() {
            -1.0 // a wrong final answer after the gold steps
        } else if gold_outputs.contains(&last.observed) {
            1.0 // the slip printed one of the gold results after all
        } else {
            -1.0
        };
        assert_eq!(last.value, Some(expected), "{:?} after {} gold steps", last, prefix.len());
    }
}

/// At even calls answers right at once; at odd calls writes a code step printing -7.
struct AnswerOrCode {
    answers: Vec<(String, String)>,
    calls: usize,
}

impl arbor::model::Policy for AnswerOrCode {
    fn generate(
        &mut self,
        requests: &[arbor::model::GenRequest],
    ) -> Result<Vec<arbor::model::GenResponse>, arbor::model::Error> {
        let mut out = Alternating { answers: self.answers.clone(), calls: 0 }.generate(requests)?;
        for response in &mut out {
            if !self.calls.is_multiple_of(2) {
                response.candidates[0].text =
                    "<step>\n<p>\nGo.\n</p>\n<code>\n```python\nprint(-7)\n```".into();
                response.candidates[0].stop_reason = Some("\n</code>".into());
            }
            self.calls += 1;
        }
        Ok(out)
    }
}

#[test]
fn step_round_zero_values_one_sampled_step_at_each_gold_state() {
    use arbor::train::round0::{Estimate, Round0Config, examples};
    let pool = Pool::new(PoolConfig { workers: 1, ..PoolConfig::default() }).unwrap();
    let problems = synth::problems(3, Split::Train, 4);
    let answers: Vec<_> = problems.iter().map(|p| (p.question.clone(), p.answer.clone())).collect();
    // Three samples per state: a right answer, a code step, the same right answer again.
    let mut policy = AnswerOrCode { answers, calls: 0 };
    let cfg = Round0Config { k: 3, estimate: Estimate::Steps, ..Round0Config::default() };
    let (out, stats) = examples(&mut policy, &pool, &problems, &cfg, &mut |_| {}).unwrap();
    let states: usize = problems.iter().map(|p| p.level + 1).sum();
    assert_eq!(stats.rollouts, 3 * states);
    assert_eq!(out.len(), problems.len() + 2 * states, "the gold path and two distinct steps per state");
    for ex in &out {
        let p = problems.iter().find(|p| p.question == ex.question).unwrap();
        assert_eq!(ex.root_value, None);
        if ex.steps.len() == p.steps.len()
            && ex.steps.iter().zip(&p.steps).all(|(s, g)| s.generated == g.generated())
        {
            assert!(ex.steps.iter().all(|s| s.value == Some(1.0)), "the gold path is on track");
            assert!(ex.policy, "the gold path trains the policy");
            continue;
        }
        assert!(!ex.policy);
        let (last, prefix) = ex.steps.split_last().unwrap();
        for (step, gold) in prefix.iter().zip(&p.steps) {
            assert_eq!(step.generated, gold.generated(), "a sampled step follows the gold prefix");
            assert_eq!(step.value, None);
        }
        if last.observed.is_empty() {
            assert!(last.generated.contains(&format!("Final Answer: {}", p.answer)));
            assert_eq!(last.value, Some(1.0), "a right answer is on track");
        } else {
            // The interpreter ran the step and the sample stopped after it.
            assert_eq!(last.observed, "\n<output>\n-7\n</output>\n</step>");
            assert_eq!(last.value, Some(-1.0), "-7 is no gold result");
        }
    }
}
