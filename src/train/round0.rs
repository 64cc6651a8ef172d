//! Round 0 of value training: Monte-Carlo value targets before any MCTS data exists.
//!
//! A rollout plays steps from a state until a final answer (graded: +1 correct, −1 wrong), an
//! unparsable step, or the depth limit (both −1), running its code through the interpreter as
//! the search does. Two ways to estimate a state's value from rollouts ([`Estimate`]):
//!
//! - `Prefix`: `k` rollouts from the root and from every prefix of the gold solution (stage A),
//!   then `k` more from every non-terminal prefix of each root rollout (stage B); a state's
//!   target is the mean outcome of the rollouts started from it.
//! - `Shared`: `k` rollouts from the root only; a state's target is the mean outcome of the
//!   rollouts that passed through it (the same steps so far), as an MCTS backup would give.
//!   About ten times fewer rollouts per problem than `Prefix`, so the same time covers many
//!   more problems, and each problem's right and wrong paths sit side by side — what the
//!   value head needs to rank answers *within* a problem.
//! - `Siblings`: `k` rollouts from the root and from every prefix of the gold solution; every
//!   rollout is an example, its steps valued as `Shared` values them among the rollouts from the
//!   same state. Each gold state then shows the head `k` sampled next steps side by side with
//!   their outcomes: the choice a step-level beam search makes at every depth.
//! - `Corrupted`: `k` rollouts from the root and every gold state, and from corrupted copies of
//!   every gold code step ([`super::corrupt`]: a number miscopied, an operator or an earlier
//!   result swapped), each copy valued by its own rollouts; corrupted final answers are graded.
//!   The slips the policy makes put beside the step they spoil, which sampling alone seldom
//!   shows because the policy makes the same slip every time.
//! - `Process`: `k` rollouts from the root and corrupted copies of every gold step, every state
//!   valued by the gold solution instead of by outcomes: +1 while everything it printed is one
//!   of the gold solution's intermediate results (and its answer, if any, is right), −1 after.
//!   The synthetic domain knows every intermediate result, so it can give the exact process
//!   label a process reward model is trained on; rollout outcomes give only a noisy mean.
//!
//! A terminal state's target is its own outcome. The examples are the gold paths and the root
//! rollouts with those targets on every step end; the policy is trained on the correct ones only.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::corrupt;
use super::data::{Example, PathStep, state_prompt};
use super::recipe::gold_example;
use super::synth::{GoldStep, SynthProblem};
use crate::grade;
use crate::interp::{ExecRequest, InterpError, Pool};
use crate::model::{GenRequest, Policy};
use crate::search::prompt::StepFormat;

/// How a state's value target is estimated (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Estimate {
    /// `k` rollouts started from every state.
    Prefix,
    /// `k` rollouts from the root; states take the mean outcome of the rollouts through them.
    Shared,
    /// `k` rollouts from every gold state, each kept as an example valued as `Shared` does.
    Siblings,
    /// Gold states and corrupted copies of each gold step, each valued by `k` rollouts.
    Corrupted,
    /// Root rollouts and corrupted copies valued by the gold solution's intermediate results.
    Process,
    /// `k` next steps sampled at every gold state, the distinct ones valued as `Process` values
    /// its states: the choices a step-level search makes, each beside the gold step.
    Steps,
}

/// Which round-0 problems the value head is trained on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ValueTargets {
    /// Every problem's states.
    All,
    /// Only problems whose root rollouts disagree; the others still train the policy.
    Mixed,
}

/// Drops the value targets of problems whose rollouts all agreed (root value ±1): their states
/// differ only in how hard the problem is, which a search never has to choose between. Examples
/// left with nothing to train (no targets, not a policy path) are removed.
pub fn keep_mixed_values(examples: Vec<Example>) -> Vec<Example> {
    examples
        .into_iter()
        .filter_map(|mut ex| {
            if ex.root_value.is_some_and(|v| v.abs() >= 1.0) {
                ex.root_value = None;
                for step in &mut ex.steps {
                    step.value = None;
                }
            }
            (ex.policy || ex.root_value.is_some() || ex.steps.iter().any(|s| s.value.is_some())).then_some(ex)
        })
        .collect()
}

/// Sampling settings of round 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Round0Config {
    /// Rollouts per state.
    pub k: usize,
    pub temperature: f32,
    /// Tokens of one step at most.
    pub max_step_tokens: usize,
    /// Steps of a whole path at most (the search's `max_depth`).
    pub max_depth: usize,
    /// Generation requests per backend call.
    pub chunk: usize,
    pub seed: u64,
    pub estimate: Estimate,
    /// Corrupted copies per gold step (`Corrupted` and `Process`).
    #[serde(default)]
    pub corruptions: usize,
}

impl Default for Round0Config {
    fn default() -> Self {
        Round0Config {
            k: 4,
            temperature: 1.0,
            max_step_tokens: 160,
            max_depth: 8,
            chunk: 64,
            seed: 0,
            estimate: Estimate::Prefix,
            corruptions: 3,
        }
    }
}

/// Why round 0 failed.
#[derive(Debug, thiserror::Error)]
pub enum Round0Error {
    #[error(transparent)]
    Model(#[from] crate::model::Error),
    #[error(transparent)]
    Interp(#[from] InterpError),
}

/// A played path from some state.
#[derive(Clone, Debug)]
struct Play {
    /// Which start state it belongs to.
    start: usize,
    steps: Vec<PathStep>,
    codes: Vec<String>,
    outcome: Option<f32>,
    /// Ended with a final answer (its last step is terminal).
    finished: bool,
}

/// A state to estimate: a problem and a path prefix.
#[derive(Clone, Debug)]
struct Start<'a> {
    problem: &'a SynthProblem,
    steps: Vec<PathStep>,
    codes: Vec<String>,
}

fn seed_of(base: u64, a: u64, b: u64) -> u64 {
    base ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
}

/// Plays `k` rollouts from every start to the end, or until they took `max_steps` steps;
/// returns them grouped by start. A rollout cut short has no outcome.
fn play(
    policy: &mut dyn Policy,
    pool: &Pool,
    starts: &[Start<'_>],
    cfg: &Round0Config,
    salt: u64,
    max_steps: usize,
) -> Result<Vec<Vec<Play>>, Round0Error> {
    let mut plays: Vec<Play> = Vec::new();
    for (i, s) in starts.iter().enumerate() {
        for _ in 0..cfg.k {
            plays.push(Play {
                start: i,
                steps: s.steps.clone(),
                codes: s.codes.clone(),
                outcome: None,
                finished: false,
            });
        }
    }
    let fmt = StepFormat::ReactSft;
    loop {
        let taken = |p: &Play| p.steps.len() - starts[p.start].steps.len();
        let active: Vec<usize> = (0..plays.len())
            .filter(|&i| plays[i].outcome.is_none() && taken(&plays[i]) < max_steps)
            .collect();
        if active.is_empty() {
            break;
        }
        for chunk in active.chunks(cfg.chunk.max(1)) {
            let requests: Vec<GenRequest> = chunk
                .iter()
                .map(|&i| {
                    let p = &plays[i];
                    let prompt = state_prompt(&starts[p.start].problem.question, &p.steps);
                    let mut r = GenRequest::new(
                        prompt,
                        1,
                        cfg.max_step_tokens,
                        seed_of(cfg.seed ^ salt, i as u64, p.steps.len() as u64),
                    );
                    r.temperature = cfg.temperature;
                    r.stop = fmt.default_stop();
                    r
                })
                .collect();
            let responses = policy.generate(&requests)?;
            let mut exec = Vec::new();
            for (&i, response) in chunk.iter().zip(responses) {
                let p = &mut plays[i];
                let answer = &starts[p.start].problem.answer;
                let Some(candidate) = response.candidates.into_iter().next() else {
                    p.outcome = Some(-1.0);
                    continue;
                };
                match fmt.parse(&candidate.text) {
                    Err(_) => p.outcome = Some(-1.0),
                    Ok(step) if step.is_final() => {
                        let correct = grade::is_equiv(answer, &step.final_answer);
                        p.steps.push(PathStep {
                            generated: step.step_result,
                            observed: String::new(),
                            value: None,
                        });
                        p.outcome = Some(if correct { 1.0 } else { -1.0 });
                        p.finished = true;
                    }
                    Ok(step) => {
                        if p.steps.len() + 1 >= cfg.max_depth {
                            p.outcome = Some(-1.0);
                            continue;
                        }
                        exec.push((i, ExecRequest::new(p.codes.clone(), step.action_input.clone())));
                        p.codes.push(step.action_input);
                        p.steps.push(PathStep {
                            generated: step.step_result,
                            observed: String::new(),
                            value: None,
                        });
                    }
                }
            }
            let requests: Vec<ExecRequest> = exec.iter().map(|(_, r)| r.clone()).collect();
            let results = pool.execute(&requests)?;
            for ((i, _), result) in exec.iter().zip(results) {
                if let Some(last) = plays[*i].steps.last_mut() {
                    last.observed = format!("\n{}", fmt.wrap_observation(&result.observation));
                }
            }
        }
    }
    let mut grouped: Vec<Vec<Play>> = vec![Vec::new(); starts.len()];
    for p in plays {
        grouped[p.start].push(p);
    }
    Ok(grouped)
}

fn mean(plays: &[Play]) -> f32 {
    let n = plays.len().max(1) as f32;
    plays.iter().map(|p| p.outcome.unwrap_or(-1.0)).sum::<f32>() / n
}

/// Counts of what round 0 saw.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Round0Stats {
    pub problems: usize,
    pub rollouts: usize,
    /// Root rollouts that ended correct.
    pub root_correct: usize,
    pub root_rollouts: usize,
    pub examples: usize,
}

/// A problem's gold steps, each with the code block it runs (none for the final answer).
fn gold_steps(p: &SynthProblem) -> Vec<(PathStep, Option<String>)> {
    p.steps
        .iter()
        .map(|s| {
            let code = match s {
                super::synth::GoldStep::Code { code, .. } => Some(format!("```python\n{code}\n```")),
                super::synth::GoldStep::Final { .. } => None,
            };
            (PathStep { generated: s.generated(), observed: s.observed(), value: None }, code)
        })
        .collect()
}

/// The round-0 training examples for `problems`.
pub fn examples(
    policy: &mut dyn Policy,
    pool: &Pool,
    problems: &[SynthProblem],
    cfg: &Round0Config,
    progress: &mut dyn FnMut(&str),
) -> Result<(Vec<Example>, Round0Stats), Round0Error> {
    match cfg.estimate {
        Estimate::Prefix => prefix_examples(policy, pool, problems, cfg, progress),
        Estimate::Shared => shared_examples(policy, pool, problems, cfg, progress),
        Estimate::Siblings => sibling_examples(policy, pool, problems, cfg, progress),
        Estimate::Corrupted => corrupted_examples(policy, pool, problems, cfg, progress),
        Estimate::Process => process_examples(policy, pool, problems, cfg, progress),
        Estimate::Steps => step_examples(policy, pool, problems, cfg, progress),
    }
}

/// Outcome sums and counts of the rollouts through each state, keyed by the text the model
/// wrote up to it (each step followed by NUL).
type Through = HashMap<String, (f32, f32)>;

fn tally(rollouts: &[Play]) -> Through {
    let mut through = Through::new();
    for r in rollouts {
        let mut key = String::new();
        for step in &r.steps {
            key.push_str(&step.generated);
            key.push('\0');
            let e = through.entry(key.clone()).or_default();
            e.0 += r.outcome.unwrap_or(-1.0);
            e.1 += 1.0;
        }
    }
    through
}

/// Sets each step's target to the mean outcome of the rollouts through its state (none when
/// no rollout passed it).
fn label(steps: &mut [PathStep], through: &Through) {
    let mut key = String::new();
    for step in steps {
        key.push_str(&step.generated);
        key.push('\0');
        step.value = through.get(&key).map(|(sum, n)| sum / n);
    }
}

fn shared_examples(
    policy: &mut dyn Policy,
    pool: &Pool,
    problems: &[SynthProblem],
    cfg: &Round0Config,
    progress: &mut dyn FnMut(&str),
) -> Result<(Vec<Example>, Round0Stats), Round0Error> {
    progress(&format!("round 0: {} problems x {} rollouts from the root", problems.len(), cfg.k));
    let (played, mut stats) = play_roots(policy, pool, problems, cfg, 0x5)?;
    let mut out = Vec::new();
    for (p, rollouts) in problems.iter().zip(&played) {
        let through = tally(rollouts);
        let root_value = Some(mean(rollouts));
        let mut gold = gold_example(p);
        label(&mut gold.steps, &through);
        if let Some(last) = gold.steps.last_mut() {
            last.value = Some(1.0);
        }
        out.push(Example { root_value, ..gold });
        push_root_rollouts(p, rollouts, &|steps| label(steps, &through), &mut stats, &mut out);
    }
    stats.examples = out.len();
    Ok((out, stats))
}

/// The rollouts from a problem's root as examples, each step valued by `value_steps`, the
/// policy trained on the right ones; counted in `stats`.
fn push_root_rollouts(
    p: &SynthProblem,
    rollouts: &[Play],
    value_steps: &dyn Fn(&mut [PathStep]),
    stats: &mut Round0Stats,
    out: &mut Vec<Example>,
) {
    let root_value = Some(mean(rollouts));
    for r in rollouts {
        let outcome = r.outcome.unwrap_or(-1.0);
        stats.root_rollouts += 1;
        stats.root_correct += usize::from(outcome > 0.0);
        if r.steps.is_empty() {
            continue;
        }
        let mut steps = r.steps.clone();
        value_steps(&mut steps);
        out.push(Example { question: p.question.clone(), steps, root_value, policy: outcome > 0.0 });
    }
}

/// `k` rollouts from the root of every problem, and the stats that count them.
fn play_roots(
    policy: &mut dyn Policy,
    pool: &Pool,
    problems: &[SynthProblem],
    cfg: &Round0Config,
    salt: u64,
) -> Result<(Vec<Vec<Play>>, Round0Stats), Round0Error> {
    let roots: Vec<Start<'_>> =
        problems.iter().map(|p| Start { problem: p, steps: Vec::new(), codes: Vec::new() }).collect();
    let played = play(policy, pool, &roots, cfg, salt, usize::MAX)?;
    Ok((
        played,
        Round0Stats { problems: problems.len(), rollouts: roots.len() * cfg.k, ..Default::default() },
    ))
}

/// The root and every non-terminal prefix of each problem's gold solution, with the index of
/// each problem's first start and its count.
fn gold_starts(problems: &[SynthProblem]) -> (Vec<Start<'_>>, Vec<(usize, usize)>) {
    let mut starts = Vec::new();
    let mut spans = Vec::new();
    for p in problems {
        let gold = gold_steps(p);
        spans.push((starts.len(), gold.len()));
        for depth in 0..gold.len() {
            starts.push(Start {
                problem: p,
                steps: gold[..depth].iter().map(|g| g.0.clone()).collect(),
                codes: gold[..depth].iter().filter_map(|g| g.1.clone()).collect(),
            });
        }
    }
    (starts, spans)
}

/// What [`play_gold_states`] played.
struct GoldPlays<'a> {
    starts: Vec<Start<'a>>,
    /// Each problem's first start and its count.
    spans: Vec<(usize, usize)>,
    /// Grouped by start.
    played: Vec<Vec<Play>>,
    stats: Round0Stats,
}

/// `k` plays of at most `max_steps` steps from every gold state ([`gold_starts`]), announced
/// as `what`, and the stats that count them.
fn play_gold_states<'a>(
    policy: &mut dyn Policy,
    pool: &Pool,
    problems: &'a [SynthProblem],
    cfg: &Round0Config,
    (what, salt, max_steps): (&str, u64, usize),
    progress: &mut dyn FnMut(&str),
) -> Result<GoldPlays<'a>, Round0Error> {
    let (starts, spans) = gold_starts(problems);
    progress(&format!("round 0 {what}: {} plays from each of {} gold states", cfg.k, starts.len()));
    let played = play(policy, pool, &starts, cfg, salt, max_steps)?;
    let stats =
        Round0Stats { problems: problems.len(), rollouts: starts.len() * cfg.k, ..Default::default() };
    Ok(GoldPlays { starts, spans, played, stats })
}

/// A problem's gold path valued by the rollouts from its gold states (`from[d]` started
/// before gold step `d`): each step's target is the mean outcome from the state after it, the
/// final step's +1, the prompt's the mean from the root.
fn valued_gold(p: &SynthProblem, from: &[Vec<Play>]) -> Example {
    let mut gold = gold_example(p);
    let n = gold.steps.len();
    for (depth, step) in gold.steps.iter_mut().enumerate() {
        step.value = Some(if depth + 1 == n { 1.0 } else { mean(&from[depth + 1]) });
    }
    Example { root_value: Some(mean(&from[0])), ..gold }
}

fn sibling_examples(
    policy: &mut dyn Policy,
    pool: &Pool,
    problems: &[SynthProblem],
    cfg: &Round0Config,
    progress: &mut dyn FnMut(&str),
) -> Result<(Vec<Example>, Round0Stats), Round0Error> {
    let GoldPlays { spans, played, mut stats, .. } =
        play_gold_states(policy, pool, problems, cfg, ("siblings", 0x51, usize::MAX), progress)?;
    let mut out = Vec::new();
    for (p, &(first, n)) in problems.iter().zip(&spans) {
        let root_value = mean(&played[first]);
        out.push(valued_gold(p, &played[first..first + n]));
        for depth in 0..n {
            let rollouts = &played[first + depth];
            let through = tally(rollouts);
            for r in rollouts {
                let outcome = r.outcome.unwrap_or(-1.0);
                if depth == 0 {
                    stats.root_rollouts += 1;
                    stats.root_correct += usize::from(outcome > 0.0);
                }
                if r.steps.len() == depth {
                    continue; // nothing parsable was written
                }
                let mut steps = r.steps.clone();
                label(&mut steps, &through);
                // The gold prefix is valued once, in the gold example.
                for step in &mut steps[..depth] {
                    step.value = None;
                }
                out.push(Example {
                    question: p.question.clone(),
                    steps,
                    root_value: (depth == 0).then_some(root_value),
                    policy: outcome > 0.0,
                });
            }
        }
    }
    stats.examples = out.len();
    Ok((out, stats))
}

/// The root and every gold prefix valued by rollouts (as `Siblings` plays them), the root
/// rollouts valued among themselves (as `Shared`), and corrupted copies of every gold step:
/// a code copy is valued by `k` rollouts from the state after it, a final copy graded. Only
/// the copy's own step carries a target; the gold prefix is valued in the gold example.
fn corrupted_examples(
    policy: &mut dyn Policy,
    pool: &Pool,
    problems: &[SynthProblem],
    cfg: &Round0Config,
    progress: &mut dyn FnMut(&str),
) -> Result<(Vec<Example>, Round0Stats), Round0Error> {
    let GoldPlays { starts, spans, played, mut stats } =
        play_gold_states(policy, pool, problems, cfg, ("corrupted", 0xC, usize::MAX), progress)?;
    let mut out = Vec::new();
    for (p, &(first, n)) in problems.iter().zip(&spans) {
        out.push(valued_gold(p, &played[first..first + n]));
        let rollouts = &played[first];
        let through = tally(rollouts);
        push_root_rollouts(p, rollouts, &|steps| label(steps, &through), &mut stats, &mut out);
    }
    let (finals, codes): (Vec<_>, Vec<_>) =
        corrupted_states(pool, problems, &starts, &spans, cfg)?.into_iter().partition(ends_final);
    progress(&format!("round 0 corrupted: {} corrupted code steps x {} rollouts", codes.len(), cfg.k));
    let from_codes = play(policy, pool, &codes, cfg, 0xC1, usize::MAX)?;
    stats.rollouts += codes.len() * cfg.k;
    let graded = finals.into_iter().map(|f| {
        let value = f.steps.last().map(|last| final_outcome(f.problem, last));
        (f, value)
    });
    let played = codes.into_iter().zip(&from_codes).map(|(c, rollouts)| (c, Some(mean(rollouts))));
    for (copy, value) in graded.chain(played) {
        out.push(last_step_example(copy.problem, copy.steps, value));
    }
    stats.examples = out.len();
    Ok((out, stats))
}

/// `k` rollouts from each root, and corrupted copies of every gold step (none when
/// `corruptions` is 0), every state valued by the gold solution rather than by outcomes: +1
/// while every output printed so far is one of the gold solution's intermediate results and
/// the final answer, if any, is right, −1 from the first step that leaves that track on. A
/// process label, as a process reward model is trained on; the root keeps the rollouts' mean.
fn process_examples(
    policy: &mut dyn Policy,
    pool: &Pool,
    problems: &[SynthProblem],
    cfg: &Round0Config,
    progress: &mut dyn FnMut(&str),
) -> Result<(Vec<Example>, Round0Stats), Round0Error> {
    progress(&format!("round 0 process: {} problems x {} rollouts from the root", problems.len(), cfg.k));
    let (played, mut stats) = play_roots(policy, pool, problems, cfg, 0xD)?;
    let mut out = Vec::new();
    for (p, rollouts) in problems.iter().zip(&played) {
        out.push(Example { root_value: Some(mean(rollouts)), ..gold_on_track(p) });
        let on_track = |steps: &mut [PathStep]| {
            let values = on_gold_track(p, steps);
            for (step, value) in steps.iter_mut().zip(values) {
                step.value = Some(value);
            }
        };
        push_root_rollouts(p, rollouts, &on_track, &mut stats, &mut out);
    }
    if cfg.corruptions > 0 {
        let (starts, spans) = gold_starts(problems);
        for copy in corrupted_states(pool, problems, &starts, &spans, cfg)? {
            let value = on_gold_track(copy.problem, &copy.steps).last().copied();
            out.push(last_step_example(copy.problem, copy.steps, value));
        }
    }
    stats.examples = out.len();
    Ok((out, stats))
}

/// Every problem's gold path, all on track, and at each gold state the distinct next steps
/// among `k` sampled there (the gold step aside), each valued by the gold solution. Only the
/// sampled step carries a target; the gold prefix is valued in the gold example. States
/// after one step are what step-level beam search ranks, so these put its choices side by
/// side: the same prefix, one step on the gold track and another off it.
fn step_examples(
    policy: &mut dyn Policy,
    pool: &Pool,
    problems: &[SynthProblem],
    cfg: &Round0Config,
    progress: &mut dyn FnMut(&str),
) -> Result<(Vec<Example>, Round0Stats), Round0Error> {
    // One step from each gold state: the samples are cut short and have no outcome.
    let GoldPlays { spans, played, mut stats, .. } =
        play_gold_states(policy, pool, problems, cfg, ("steps", 0x5E, 1), progress)?;
    let mut out = Vec::new();
    for (p, &(first, n)) in problems.iter().zip(&spans) {
        let gold = gold_on_track(p);
        for depth in 0..n {
            let mut seen = vec![gold.steps[depth].generated.clone()];
            for sample in &played[first + depth] {
                let Some(next) = sample.steps.get(depth) else { continue };
                if seen.contains(&next.generated) {
                    continue;
                }
                seen.push(next.generated.clone());
                // The gold prefix and the sample come unvalued from `play`.
                let value = on_gold_track(p, &sample.steps).last().copied();
                out.push(last_step_example(p, sample.steps.clone(), value));
            }
        }
        out.push(gold);
    }
    stats.examples = out.len();
    Ok((out, stats))
}

/// Each step's process value along `steps` (see [`process_examples`]). A path that ends in
/// the right answer is on a right track throughout, even where it printed results in another
/// order than the gold solution.
fn on_gold_track(p: &SynthProblem, steps: &[PathStep]) -> Vec<f32> {
    if steps.last().is_some_and(|last| last.observed.is_empty() && final_outcome(p, last) > 0.0) {
        return vec![1.0; steps.len()];
    }
    let gold: Vec<f64> = p
        .steps
        .iter()
        .filter_map(|s| match s {
            GoldStep::Code { output, .. } => output.trim().parse().ok(),
            GoldStep::Final { .. } => None,
        })
        .collect();
    let mut on = true;
    steps
        .iter()
        .map(|step| {
            if step.observed.is_empty() {
                on = on && final_outcome(p, step) > 0.0;
            } else {
                // The observed part is `\n<output>\n{printed}\n</output>\n</step>`.
                let printed = step
                    .observed
                    .trim()
                    .strip_prefix("<output>")
                    .and_then(|o| o.strip_suffix("</step>"))
                    .and_then(|o| o.trim().strip_suffix("</output>"))
                    .and_then(|o| o.trim().parse::<f64>().ok());
                on = on && printed.is_some_and(|v| gold.iter().any(|g| (g - v).abs() < 1e-6));
            }
            if on { 1.0 } else { -1.0 }
        })
        .collect()
}

/// ±1 for a final step: its answer graded against the problem's (−1 if it does not parse).
fn final_outcome(p: &SynthProblem, step: &PathStep) -> f32 {
    let right = StepFormat::ReactSft
        .parse(&step.generated)
        .is_ok_and(|s| s.is_final() && grade::is_equiv(&p.answer, &s.final_answer));
    if right { 1.0 } else { -1.0 }
}

/// Whether a state's last step is a final answer (no observation).
fn ends_final(state: &Start<'_>) -> bool {
    state.steps.last().is_some_and(|s| s.observed.is_empty())
}

/// A state as an example whose only target is its last step's `value` (a corrupted copy or a
/// sampled step after the gold prefix, which stays untargeted).
fn last_step_example(p: &SynthProblem, mut steps: Vec<PathStep>, value: Option<f32>) -> Example {
    if let Some(last) = steps.last_mut() {
        last.value = value;
    }
    Example { question: p.question.clone(), steps, root_value: None, policy: false }
}

/// A problem's gold path with every state on track (+1), for the gold-track estimates.
fn gold_on_track(p: &SynthProblem) -> Example {
    let mut gold = gold_example(p);
    for step in &mut gold.steps {
        step.value = Some(1.0);
    }
    gold
}

/// Corrupted copies of every gold step ([`corrupt`]), each as the state after it: a code copy
/// run through the interpreter after the gold steps before it, a final copy as written.
fn corrupted_states<'a>(
    pool: &Pool,
    problems: &'a [SynthProblem],
    starts: &[Start<'a>],
    spans: &[(usize, usize)],
    cfg: &Round0Config,
) -> Result<Vec<Start<'a>>, Round0Error> {
    let fmt = StepFormat::ReactSft;
    let mut rng = crate::model::Rng::new(cfg.seed ^ 0xC0);
    let mut copies: Vec<Start<'a>> = Vec::new();
    let mut runs: Vec<(usize, ExecRequest)> = Vec::new();
    for (p, &(first, n)) in problems.iter().zip(spans) {
        for depth in 0..n {
            let start = &starts[first + depth];
            for copy in
                corrupt::corrupt(&p.steps[depth], &p.steps[..depth], &p.question, cfg.corruptions, &mut rng)
            {
                let mut codes = start.codes.clone();
                if let GoldStep::Code { code, .. } = &copy {
                    let block = format!("```python\n{code}\n```");
                    runs.push((copies.len(), ExecRequest::new(start.codes.clone(), block.clone())));
                    codes.push(block);
                }
                let mut steps = start.steps.clone();
                steps.push(PathStep { generated: copy.generated(), observed: String::new(), value: None });
                copies.push(Start { problem: p, steps, codes });
            }
        }
    }
    let requests: Vec<ExecRequest> = runs.iter().map(|(_, r)| r.clone()).collect();
    for ((i, _), result) in runs.iter().zip(pool.execute(&requests)?) {
        if let Some(last) = copies[*i].steps.last_mut() {
            last.observed = format!("\n{}", fmt.wrap_observation(&result.observation));
        }
    }
    Ok(copies)
}

fn prefix_examples(
    policy: &mut dyn Policy,
    pool: &Pool,
    problems: &[SynthProblem],
    cfg: &Round0Config,
    progress: &mut dyn FnMut(&str),
) -> Result<(Vec<Example>, Round0Stats), Round0Error> {
    // Stage A: the root and every non-terminal gold prefix.
    let GoldPlays { starts, played: a, mut stats, .. } =
        play_gold_states(policy, pool, problems, cfg, ("stage A", 0xA, usize::MAX), progress)?;
    // Stage B: every non-terminal prefix of every root rollout.
    let mut b_starts = Vec::new();
    let mut b_index = Vec::new(); // (root start index, rollout index, depth)
    for (si, s) in starts.iter().enumerate().filter(|(_, s)| s.steps.is_empty()) {
        for (ri, r) in a[si].iter().enumerate() {
            let mut codes = 0;
            let last = if r.finished { r.steps.len() } else { r.steps.len() + 1 };
            for depth in 1..last {
                if !r.steps[depth - 1].observed.is_empty() {
                    codes += 1;
                }
                b_starts.push(Start {
                    problem: s.problem,
                    steps: r.steps[..depth].to_vec(),
                    codes: r.codes[..codes].to_vec(),
                });
                b_index.push((si, ri, depth));
            }
        }
    }
    progress(&format!("round 0 stage B: {} states x {} rollouts", b_starts.len(), cfg.k));
    let b = play(policy, pool, &b_starts, cfg, 0xB, usize::MAX)?;
    stats.rollouts += b_starts.len() * cfg.k;
    let mut out = Vec::new();
    let mut si = 0;
    for p in problems {
        let root = si;
        let n = p.steps.len();
        let root_value = mean(&a[root]);
        out.push(valued_gold(p, &a[root..root + n]));
        for (ri, r) in a[root].iter().enumerate() {
            let outcome = r.outcome.unwrap_or(-1.0);
            stats.root_rollouts += 1;
            stats.root_correct += usize::from(outcome > 0.0);
            let mut steps = r.steps.clone();
            let last = steps.len().saturating_sub(1);
            for (depth, step) in steps.iter_mut().enumerate() {
                step.value = if depth == last && r.finished {
                    Some(outcome)
                } else {
                    b_index
                        .iter()
                        .position(|&(s, q, d)| s == root && q == ri && d == depth + 1)
                        .map(|j| mean(&b[j]))
                };
            }
            if steps.is_empty() {
                continue;
            }
            out.push(Example {
                question: p.question.clone(),
                steps,
                root_value: Some(root_value),
                policy: outcome > 0.0,
            });
        }
        si += n;
    }
    stats.examples = out.len();
    Ok((out, stats))
}

/// Counts of what [`final_siblings`] sampled.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SiblingStats {
    /// Distinct states just before a final answer.
    pub states: usize,
    /// Final steps sampled there.
    pub sampled: usize,
    /// New examples (distinct final steps not already in the data), and how many were right.
    pub examples: usize,
    pub correct: usize,
}

/// Final-step siblings: `m` more final steps sampled at the state before each finished path's
/// final answer, each graded against `answers` (question → gold answer). Each distinct new
/// final step becomes an example whose only target is that step's ±1 outcome, with the same
/// prefix as the path it came from. Root rollouts seldom share the state before their final
/// answers, so round 0 alone shows the value head few pairs that differ only in the answer
/// (a miscopied result against the right one); these put such pairs side by side.
pub fn final_siblings(
    policy: &mut dyn Policy,
    examples: &[Example],
    answers: &HashMap<String, String>,
    m: usize,
    cfg: &Round0Config,
) -> Result<(Vec<Example>, SiblingStats), Round0Error> {
    /// A distinct (question, prefix), its prompt, and the final steps already seen there.
    struct State<'a> {
        example: &'a Example,
        answer: &'a str,
        depth: usize,
        prompt: String,
        seen: Vec<String>,
    }
    let fmt = StepFormat::ReactSft;
    let mut states: Vec<State<'_>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for ex in examples {
        let Some((last, prefix)) = ex.steps.split_last() else { continue };
        if prefix.is_empty() || !fmt.parse(&last.generated).is_ok_and(|s| s.is_final()) {
            continue;
        }
        let Some(answer) = answers.get(&ex.question) else { continue };
        let prompt = state_prompt(&ex.question, prefix);
        let i = *index.entry(prompt.clone()).or_insert_with(|| {
            states.push(State { example: ex, answer, depth: prefix.len(), prompt, seen: Vec::new() });
            states.len() - 1
        });
        states[i].seen.push(last.generated.clone());
    }
    let mut stats = SiblingStats { states: states.len(), ..Default::default() };
    let mut out = Vec::new();
    let jobs: Vec<(usize, usize)> = (0..states.len()).flat_map(|i| (0..m).map(move |j| (i, j))).collect();
    for chunk in jobs.chunks(cfg.chunk.max(1)) {
        let requests: Vec<GenRequest> = chunk
            .iter()
            .map(|&(i, j)| {
                let mut r = GenRequest::new(
                    states[i].prompt.clone(),
                    1,
                    cfg.max_step_tokens,
                    seed_of(cfg.seed ^ 0xF, i as u64, j as u64),
                );
                r.temperature = cfg.temperature;
                r.stop = fmt.default_stop();
                r
            })
            .collect();
        let responses = policy.generate(&requests)?;
        for (&(i, _), response) in chunk.iter().zip(responses) {
            let state = &mut states[i];
            let Some(candidate) = response.candidates.into_iter().next() else { continue };
            stats.sampled += 1;
            let Ok(step) = fmt.parse(&candidate.text) else { continue };
            if !step.is_final() || state.seen.contains(&step.step_result) {
                continue;
            }
            state.seen.push(step.step_result.clone());
            let correct = grade::is_equiv(state.answer, &step.final_answer);
            stats.correct += usize::from(correct);
            let ex = state.example;
            let mut steps: Vec<PathStep> =
                ex.steps[..state.depth].iter().map(|s| PathStep { value: None, ..s.clone() }).collect();
            steps.push(PathStep {
                generated: step.step_result,
                observed: String::new(),
                value: Some(if correct { 1.0 } else { -1.0 }),
            });
            out.push(Example { question: ex.question.clone(), steps, root_value: None, policy: false });
        }
    }
    stats.examples = out.len();
    Ok((out, stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(question: &str, root: f32, steps: &[f32], policy: bool) -> Example {
        Example {
            question: question.into(),
            steps: steps
                .iter()
                .map(|&v| PathStep { generated: "g".into(), observed: "o".into(), value: Some(v) })
                .collect(),
            root_value: Some(root),
            policy,
        }
    }

    #[test]
    fn process_values_follow_the_gold_solution_until_a_step_leaves_it() {
        let p = crate::train::synth::problems(3, crate::train::synth::Split::Train, 40)
            .into_iter()
            .find(|p| p.level >= 2)
            .expect("a problem with two code steps");
        let gold: Vec<PathStep> = gold_steps(&p).into_iter().map(|g| g.0).collect();
        let n = gold.len();
        assert_eq!(on_gold_track(&p, &gold), vec![1.0; n], "the gold path stays on track");

        // The second step prints a number no gold step prints.
        let mut slipped = gold.clone();
        slipped[1].observed = "\n<output>\n-987654\n</output>\n</step>".into();
        assert_eq!(on_gold_track(&p, &slipped[..2]), [1.0, -1.0]);
        assert_eq!(on_gold_track(&p, &slipped), vec![1.0; n], "a path that ends right was on a right track");

        // Right results, wrong answer: only the answer is off.
        let mut wrong = gold.clone();
        wrong[n - 1].generated =
            wrong[n - 1].generated.replace(&format!("Final Answer: {}", p.answer), "Final Answer: -5");
        let mut expected = vec![1.0; n];
        expected[n - 1] = -1.0;
        assert_eq!(on_gold_track(&p, &wrong), expected);

        // An error printed instead of a number is off track.
        let mut error = gold.clone();
        error[0].observed = "\n<output>\nNameError: name 'x' is not defined\n</output>\n</step>".into();
        assert_eq!(on_gold_track(&p, &error[..1]), [-1.0]);
    }

    #[test]
    fn mixed_value_targets_keep_disagreeing_problems_and_the_policy_paths_of_the_rest() {
        let kept = keep_mixed_values(vec![
            example("all right", 1.0, &[1.0, 1.0], false),
            example("all right", 1.0, &[1.0, 1.0], true),
            example("all wrong", -1.0, &[-1.0], false),
            example("mixed", 0.25, &[0.5, -1.0], false),
        ]);
        assert_eq!(kept.len(), 2, "the unanimous non-policy examples have nothing left to train");
        assert_eq!(kept[0].question, "all right");
        assert!(kept[0].policy);
        assert_eq!(kept[0].root_value, None);
        assert!(kept[0].steps.iter().all(|s| s.value.is_none()));
        assert_eq!(kept[1].question, "mixed");
        assert_eq!(kept[1].root_value, Some(0.25));
        assert_eq!(kept[1].steps.iter().map(|s| s.value).collect::<Vec<_>>(), [Some(0.5), Some(-1.0)]);
    }
}
