//! Rollouts: chains played from a tree node towards an answer by the rollout model (AlphaMath's
//! λ-mixing, AlphaLLM's fast rollout). Their code runs through the interpreter exactly as the
//! tree's does (ancestors replayed, observations wrapped, consecutive errors counted), but
//! their steps never become nodes: only a summary of each rollout is kept.

use super::grow::{Grower, tool_reply};
use super::request::{ExecuteNeed, Executed, GenerateNeed, Generated, ModelRole};
use crate::interp::{PYTHON_INTERPRETER, PathStep};
use crate::tree::{NodeId, RolloutSummary, TerminalReason};

/// A step a rollout played.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlayedStep {
    /// The full step text, with the wrapped observation for code steps.
    pub text: String,
    pub action: String,
    pub action_input: String,
}

impl PlayedStep {
    fn path_step(&self) -> PathStep<'_> {
        PathStep { action: &self.action, action_input: &self.action_input, text: &self.text }
    }
}

/// How a rollout ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// It gave a final answer.
    Answer(String),
    /// It failed as a tree path fails (unparsable step, too many code errors, too deep, the
    /// prompt did not fit).
    Failure(TerminalReason),
    /// `rollout_max_steps` steps were played without an answer.
    Budget,
}

/// A code step waiting for its observation.
#[derive(Clone, Debug)]
struct Pending {
    step_result: String,
    action: String,
    action_input: String,
}

/// One rollout from `origin`.
#[derive(Clone, Debug)]
pub struct Rollout {
    pub origin: NodeId,
    pub steps: Vec<PlayedStep>,
    pub end: Option<End>,
    errors: u32,
    pending: Option<Pending>,
}

impl Rollout {
    /// The texts of the steps played, in order.
    pub fn step_texts(&self) -> Vec<String> {
        self.steps.iter().map(|s| s.text.clone()).collect()
    }

    /// Whether its end is a state worth scoring (an answer, or a cut-off chain); failures
    /// take the negative reward as a failed tree path does.
    pub fn scorable(&self) -> bool {
        matches!(self.end, Some(End::Answer(_) | End::Budget))
    }

    pub fn summary(&self, outcome: Option<f64>) -> RolloutSummary {
        let (end, final_answer) = match &self.end {
            Some(End::Answer(a)) => (Some(TerminalReason::FinalAnswer), a.clone()),
            Some(End::Failure(reason)) => (Some(*reason), String::new()),
            Some(End::Budget) | None => (None, String::new()),
        };
        RolloutSummary { outcome, steps: self.steps.len() as u32, end, final_answer }
    }
}

/// Rollouts played in lockstep: every running rollout generates one step per round, then the
/// code steps among them run together.
#[derive(Clone, Debug, Default)]
pub struct Rollouts {
    items: Vec<Rollout>,
}

impl Rollouts {
    /// Starts `count` rollouts from `origin`.
    pub fn start(&mut self, g: &Grower, origin: NodeId, count: usize) {
        let errors = g.consecutive_errors(origin);
        for _ in 0..count {
            self.items.push(Rollout { origin, steps: Vec::new(), end: None, errors, pending: None });
        }
    }

    pub fn items(&self) -> &[Rollout] {
        &self.items
    }

    pub fn running(&self) -> bool {
        self.items.iter().any(|r| r.end.is_none())
    }

    /// One generation per running rollout (by index), from the rollout model.
    pub fn generate_needs(&self, g: &mut Grower) -> (Vec<usize>, Vec<GenerateNeed>) {
        let temperature = Some(g.config.rollout_temperature);
        let mut indices = Vec::new();
        let mut needs = Vec::new();
        for (i, r) in self.items.iter().enumerate().filter(|(_, r)| r.end.is_none()) {
            let prompt = g.prompt_after(r.origin, &r.step_texts());
            indices.push(i);
            needs.push(GenerateNeed {
                node: r.origin,
                prompt,
                n: 1,
                temperature,
                want_value: false,
                seed: g.next_seed(),
                role: ModelRole::Rollout,
            });
        }
        (indices, needs)
    }

    /// Takes the generated steps: final answers and failures end their rollouts, code steps
    /// wait for [`Rollouts::execute_needs`] (other tools get the reference's replies at once).
    pub fn answer_generate(&mut self, g: &Grower, indices: &[usize], results: Vec<Generated>) {
        for (&i, generated) in indices.iter().zip(results) {
            let Some(sample) = generated.samples.first() else {
                self.items[i].end = Some(End::Failure(TerminalReason::PromptTooLong));
                continue;
            };
            match g.step_format().parse(&sample.text) {
                Err(_) => {
                    let r = &mut self.items[i];
                    r.steps.push(PlayedStep {
                        text: sample.text.trim().to_owned(),
                        action: String::new(),
                        action_input: String::new(),
                    });
                    r.end = Some(End::Failure(TerminalReason::NoValidChild));
                }
                Ok(p) if p.is_final() => {
                    let r = &mut self.items[i];
                    r.steps.push(PlayedStep {
                        text: p.step_result,
                        action: String::new(),
                        action_input: String::new(),
                    });
                    r.end = Some(End::Answer(p.final_answer));
                }
                Ok(p) => {
                    let pending = Pending {
                        step_result: p.step_result,
                        action: p.action,
                        action_input: p.action_input,
                    };
                    if pending.action == PYTHON_INTERPRETER {
                        self.items[i].pending = Some(pending);
                    } else {
                        let reply = tool_reply(&pending.action);
                        self.observe(g, i, pending, &reply);
                    }
                }
            }
        }
    }

    /// The interpreter requests of the code steps waiting (by rollout index).
    pub fn execute_needs(&self, g: &Grower) -> (Vec<usize>, Vec<ExecuteNeed>) {
        let mut indices = Vec::new();
        let mut needs = Vec::new();
        for (i, r) in self.items.iter().enumerate() {
            let Some(p) = &r.pending else { continue };
            let played: Vec<PathStep<'_>> = r.steps.iter().map(PlayedStep::path_step).collect();
            indices.push(i);
            needs.push(ExecuteNeed {
                node: r.origin,
                ancestors: g.replay_after(r.origin, &played, &p.action),
                code: p.action_input.clone(),
            });
        }
        (indices, needs)
    }

    pub fn answer_execute(&mut self, g: &Grower, indices: &[usize], results: Vec<Executed>) {
        for (&i, result) in indices.iter().zip(results) {
            if let Some(pending) = self.items[i].pending.take() {
                self.observe(g, i, pending, &result);
            }
        }
    }

    /// Appends an executed code step and decides whether the rollout goes on, with the
    /// tree's limits (`errors_threshold`, `max_depth`) and its own step budget.
    fn observe(&mut self, g: &Grower, i: usize, pending: Pending, result: &Executed) {
        let (text, failed) = g.observed(&pending.step_result, result);
        let depth = g.tree().node(self.items[i].origin).depth();
        let r = &mut self.items[i];
        r.errors = if failed { r.errors + 1 } else { 0 };
        r.steps.push(PlayedStep { text, action: pending.action, action_input: pending.action_input });
        let played = r.steps.len() as u32;
        r.end = if r.errors > g.config.errors_threshold {
            Some(End::Failure(TerminalReason::TooManyCodeErrors))
        } else if depth + played > g.config.max_depth {
            Some(End::Failure(TerminalReason::TooManySteps))
        } else if played >= g.config.rollout_max_steps {
            Some(End::Budget)
        } else {
            None
        };
    }
}
