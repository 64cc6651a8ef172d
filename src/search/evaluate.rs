//! The evaluation of MCTS nodes when λ-mixing or critics are on: play rollouts from each
//! target, ask the value head and the judges (PRM, ORM) what they need, then combine
//! (see [`super::critic`]). Sans-IO like the searches: it says what it needs next.
//!
//! Rounds: rollout generations and executions until every rollout has ended; then one batch of
//! values (targets that need one, rollout ends scored by the value head); then one batch of
//! judgements (PRM of each target's step, ORM of each rollout end).

use super::config::RolloutScore;
use super::critic::{self, Weights, orm_prompt, prm_prompt};
use super::grow::Grower;
use super::request::{ExecuteNeed, Executed, GenerateNeed, Generated, JudgeKind, JudgeNeed, Need, ValueNeed};
use super::rollout::{End, Rollouts};
use crate::tree::{Evaluation, NodeId, is_failure_answer};

/// A node to evaluate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Target {
    pub node: NodeId,
    /// The value head's estimate when it is already known (the expansion's generation pass
    /// returns the leaf's).
    pub value: Option<f64>,
    /// Ask the value head for it (terminal answers in test mode, children under
    /// `update_leaf_value`).
    pub ask_value: bool,
}

/// Where an outcome comes from: a rollout, or (for a terminal target) the node itself.
#[derive(Clone, Copy, Debug)]
enum Source {
    Rollout(usize),
    Itself,
}

/// One end to score for a target.
#[derive(Clone, Copy, Debug)]
struct EndScore {
    target: usize,
    source: Source,
    value: Option<f64>,
    orm: Option<f64>,
}

#[derive(Clone, Copy, Debug)]
enum ValueSlot {
    Target(usize),
    End(usize),
}

#[derive(Clone, Copy, Debug)]
enum JudgeSlot {
    Prm(usize),
    Orm(usize),
}

enum Phase {
    Roll,
    RollGenerate { indices: Vec<usize>, needs: Vec<GenerateNeed> },
    RollExecute { indices: Vec<usize>, needs: Vec<ExecuteNeed> },
    Values { slots: Vec<ValueSlot>, needs: Vec<ValueNeed> },
    Judges { slots: Vec<JudgeSlot>, needs: Vec<JudgeNeed> },
    Done,
}

/// The evaluation of a set of targets in progress.
pub struct Evaluator {
    targets: Vec<Target>,
    /// The value came back `None` (the prompt does not fit): the target fails.
    unfit: Vec<bool>,
    prm: Vec<Option<f64>>,
    ends: Vec<EndScore>,
    rollouts: Rollouts,
    training: bool,
    phase: Phase,
    /// Values and judgements are asked once each.
    asked_values: bool,
    asked_judges: bool,
}

impl Evaluator {
    /// Starts the rollouts of the targets (`rollouts` each when the config plays them; a
    /// terminal target is its own end). `training`: outcomes are graded ±1.
    pub fn new(g: &Grower, targets: Vec<Target>, training: bool) -> Evaluator {
        let mut rollouts = Rollouts::default();
        let mut ends = Vec::new();
        if g.config.plays_rollouts() {
            for (t, target) in targets.iter().enumerate() {
                if g.tree().node(target.node).terminal().is_some() {
                    ends.push(EndScore { target: t, source: Source::Itself, value: None, orm: None });
                } else {
                    let first = rollouts.items().len();
                    rollouts.start(g, target.node, g.config.rollouts);
                    for r in first..rollouts.items().len() {
                        ends.push(EndScore { target: t, source: Source::Rollout(r), value: None, orm: None });
                    }
                }
            }
        }
        let n = targets.len();
        Evaluator {
            targets,
            unfit: vec![false; n],
            prm: vec![None; n],
            ends,
            rollouts,
            training,
            phase: Phase::Roll,
            asked_values: false,
            asked_judges: false,
        }
    }

    /// What the evaluation needs next; [`Need::Done`] when [`Evaluator::finish`] can be called.
    pub fn poll(&mut self, g: &mut Grower) -> Need {
        loop {
            match &self.phase {
                Phase::Roll => {
                    let (indices, needs) = self.rollouts.generate_needs(g);
                    self.phase = if needs.is_empty() {
                        self.value_phase(g)
                    } else {
                        Phase::RollGenerate { indices, needs }
                    };
                }
                Phase::RollGenerate { needs, .. } => return Need::Generate(needs.clone()),
                Phase::RollExecute { needs, .. } => return Need::Execute(needs.clone()),
                Phase::Values { needs, .. } => return Need::Value(needs.clone()),
                Phase::Judges { needs, .. } => return Need::Judge(needs.clone()),
                Phase::Done => return Need::Done,
            }
        }
    }

    pub fn answer_generate(&mut self, g: &Grower, results: Vec<Generated>) {
        let Phase::RollGenerate { indices, .. } = std::mem::replace(&mut self.phase, Phase::Roll) else {
            return;
        };
        self.rollouts.answer_generate(g, &indices, results);
        let (indices, needs) = self.rollouts.execute_needs(g);
        if !needs.is_empty() {
            self.phase = Phase::RollExecute { indices, needs };
        }
    }

    pub fn answer_execute(&mut self, g: &Grower, results: Vec<Executed>) {
        if let Phase::RollExecute { indices, .. } = std::mem::replace(&mut self.phase, Phase::Roll) {
            self.rollouts.answer_execute(g, &indices, results);
        }
    }

    pub fn answer_value(&mut self, g: &Grower, values: Vec<Option<f64>>) {
        let Phase::Values { slots, .. } = std::mem::replace(&mut self.phase, Phase::Done) else { return };
        for (slot, value) in slots.into_iter().zip(values) {
            match slot {
                ValueSlot::Target(t) => {
                    self.targets[t].value = value;
                    self.unfit[t] = value.is_none();
                }
                ValueSlot::End(e) => self.ends[e].value = value,
            }
        }
        self.phase = self.judge_phase(g);
    }

    pub fn answer_judge(&mut self, verdicts: Vec<Option<f64>>) {
        let Phase::Judges { slots, .. } = std::mem::replace(&mut self.phase, Phase::Done) else { return };
        for (slot, verdict) in slots.into_iter().zip(verdicts) {
            match slot {
                JudgeSlot::Prm(t) => self.prm[t] = verdict,
                JudgeSlot::Orm(e) => self.ends[e].orm = verdict,
            }
        }
    }

    /// Whether an end's outcome is the value head's score of it (test mode).
    fn end_needs_value(&self, g: &Grower, end: &EndScore) -> bool {
        !self.training
            && g.config.lambda != 0.0
            && g.config.rollout_score == RolloutScore::ValueHead
            && matches!(end.source, Source::Rollout(r) if self.rollouts.items()[r].scorable())
    }

    fn end_needs_orm(&self, g: &Grower, end: &EndScore) -> bool {
        let scored_by_orm = !self.training
            && g.config.lambda != 0.0
            && g.config.rollout_score == RolloutScore::Orm
            && match end.source {
                Source::Rollout(r) => self.rollouts.items()[r].scorable(),
                Source::Itself => true,
            };
        g.config.eta_orm_weight != 0.0 || scored_by_orm
    }

    fn value_phase(&mut self, g: &mut Grower) -> Phase {
        if self.asked_values {
            return self.judge_phase(g);
        }
        self.asked_values = true;
        let mut slots = Vec::new();
        let mut needs = Vec::new();
        for (t, target) in self.targets.iter().enumerate().filter(|(_, t)| t.ask_value) {
            slots.push(ValueSlot::Target(t));
            needs.push(ValueNeed { node: target.node, prompt: g.prompt(target.node) });
        }
        for e in 0..self.ends.len() {
            let end = self.ends[e];
            if let (Source::Rollout(r), true) = (end.source, self.end_needs_value(g, &end)) {
                let rollout = &self.rollouts.items()[r];
                slots.push(ValueSlot::End(e));
                needs.push(ValueNeed {
                    node: rollout.origin,
                    prompt: g.prompt_after(rollout.origin, &rollout.step_texts()),
                });
            }
        }
        if needs.is_empty() { self.judge_phase(g) } else { Phase::Values { slots, needs } }
    }

    fn judge_phase(&mut self, g: &Grower) -> Phase {
        if self.asked_judges {
            return Phase::Done;
        }
        self.asked_judges = true;
        let mut slots = Vec::new();
        let mut needs = Vec::new();
        if g.config.eta_prm_weight != 0.0 {
            for (t, target) in self.targets.iter().enumerate() {
                let node = g.tree().node(target.node);
                // The root holds no step to judge.
                let Some(parent) = node.parent() else { continue };
                let state = join_nonempty(&[&g.question, &g.tree().path_text(parent, g.delim())], g.delim());
                slots.push(JudgeSlot::Prm(t));
                needs.push(JudgeNeed {
                    node: target.node,
                    kind: JudgeKind::Prm,
                    prompt: prm_prompt(&state, &node.step().text),
                });
            }
        }
        for (e, end) in self.ends.iter().enumerate() {
            if !self.end_needs_orm(g, end) {
                continue;
            }
            let node = self.targets[end.target].node;
            let trajectory = match end.source {
                Source::Rollout(r) => g.path_text_after(node, &self.rollouts.items()[r].step_texts()),
                Source::Itself => g.tree().path_text(node, g.delim()),
            };
            slots.push(JudgeSlot::Orm(e));
            needs.push(JudgeNeed {
                node,
                kind: JudgeKind::Orm,
                prompt: orm_prompt(&g.question, &trajectory),
            });
        }
        if needs.is_empty() { Phase::Done } else { Phase::Judges { slots, needs } }
    }

    /// The outcome r of an end: ±1 from the grader in training mode (−1 without an answer);
    /// in test mode the negative reward for a failure, else the critic's score of the end.
    fn outcome(&self, g: &Grower, end: &EndScore) -> f64 {
        let (negative, positive) = (g.config.negative_reward, g.config.positive_reward);
        let target = &self.targets[end.target];
        let (answer, value) = match end.source {
            Source::Rollout(r) => match &self.rollouts.items()[r].end {
                Some(End::Answer(a)) => (Some(a.clone()), end.value),
                Some(End::Budget) => (None, end.value),
                Some(End::Failure(_)) | None => return negative,
            },
            Source::Itself => {
                let answer = g.tree().node(target.node).step().final_answer.clone();
                if is_failure_answer(&answer) {
                    return negative;
                }
                (Some(answer).filter(|a| !a.is_empty()), target.value)
            }
        };
        if self.training {
            return match answer.and_then(|a| g.is_correct(&a)) {
                Some(true) => positive,
                _ => negative,
            };
        }
        let score = match g.config.rollout_score {
            RolloutScore::ValueHead => value,
            RolloutScore::Orm => end.orm.map(|p| critic::probability_as_reward(p, negative, positive)),
        };
        score.unwrap_or(negative)
    }

    /// Each target's evaluation; `None` for a target whose own value was asked and did not
    /// fit (the caller treats it as the reference treats a prompt that is too long).
    pub fn finish(self, g: &Grower) -> Vec<(NodeId, Option<Evaluation>)> {
        let weights = Weights::from_config(&g.config);
        let lambda = g.config.lambda;
        let outcomes: Vec<Option<f64>> =
            self.ends.iter().map(|e| (lambda != 0.0).then(|| self.outcome(g, e))).collect();
        self.targets
            .iter()
            .enumerate()
            .map(|(t, target)| {
                if self.unfit[t] {
                    return (target.node, None);
                }
                let mine: Vec<usize> = (0..self.ends.len()).filter(|&e| self.ends[e].target == t).collect();
                let orm_scores: Vec<f64> = mine.iter().filter_map(|&e| self.ends[e].orm).collect();
                let orm = critic::mean(&orm_scores).filter(|_| weights.orm != 0.0);
                let critic = weights.score(target.value, self.prm[t], orm);
                let rs: Vec<f64> = mine.iter().filter_map(|&e| outcomes[e]).collect();
                let estimate = critic::mix(lambda, critic, &rs);
                let rollouts = mine
                    .iter()
                    .filter_map(|&e| match self.ends[e].source {
                        Source::Rollout(r) => Some(self.rollouts.items()[r].summary(outcomes[e])),
                        Source::Itself => None,
                    })
                    .collect();
                let evaluation = Evaluation {
                    value: target.value,
                    prm: self.prm[t],
                    orm,
                    critic,
                    rollouts,
                    lambda,
                    estimate,
                };
                (target.node, Some(evaluation))
            })
            .collect()
    }
}

fn join_nonempty(parts: &[&str], delim: &str) -> String {
    parts.iter().filter(|p| !p.is_empty()).copied().collect::<Vec<_>>().join(delim)
}
