//! Monte Carlo tree search as the reference runs it (`mcts_math/agents/mcts.py` under the
//! batched `Solver`): PUCT selection over non-terminal children, expansion into
//! `n_generate_sample` samples whose priors are their geometric-mean token probabilities,
//! terminal answers rewarded ±1 against the ground truth (training) or scored by the value
//! head (test), the leaf's value-head estimate backed up as a plain mean.
//!
//! One iteration: select a leaf → generate from it (the same pass returns the leaf's value)
//! → run the children's code → evaluate terminal children and back up → (test mode) value the
//! terminal children and back them up.
//!
//! Options, all off by default (see [`SearchConfig`]):
//! * λ-mixing with rollouts and AlphaLLM's critics: the leaf's evaluation (and a terminal
//!   answer's, in test mode) becomes (1 − λ)·s + λ·mean r, with s the weighted critics and r
//!   the outcomes of rollouts from the node ([`super::evaluate`]); the parts are recorded in
//!   the node's `evaluation`, and the node's value becomes the mixed estimate.
//! * option-level steps: samples continued until their option ends ([`super::option`]);
//! * adaptive branching: a node whose allowed child count n(s) grew past the samples drawn
//!   from it is expanded again when selection reaches it; a widening adds children and backs
//!   up only their terminal rewards (the node's own evaluation was backed up when it was
//!   first expanded) ([`super::eta`]);
//! * state merge: near-duplicate samples join a sibling ([`super::eta`]).

use std::collections::HashMap;

use super::config::{LeafValue, OptionEnd, SearchConfig};
use super::eta::{self, Placement};
use super::evaluate::{Evaluator, Target};
use super::grow::{ChildKind, Grower, NewChild, Unparsable};
use super::offline::{self, OFFLINE_C_PUCT, OfflineConfig};
use super::option::{Extension, Options};
use super::request::{ExecuteNeed, Executed, GenerateNeed, Generated, Need, Outcome, Search, ValueNeed};
use crate::problems::GroundTruth;
use crate::tree::{
    Evaluation, NodeId, StatKeys, TerminalReason, Tree, TreeEvent, is_failure_answer, puct_score,
};

/// The expansion under way: the node grown, whether it had been expanded before (a widening
/// under adaptive branching), and its value-head estimate from the generation pass.
#[derive(Clone, Copy, Debug)]
struct Expansion {
    node: NodeId,
    widen: bool,
    value: Option<f64>,
}

enum Phase {
    Select,
    Generate {
        x: Expansion,
        need: GenerateNeed,
    },
    /// Option-level steps: incomplete samples are being continued.
    Extend {
        x: Expansion,
        ext: Extension,
    },
    Execute {
        x: Expansion,
        children: Vec<NewChild>,
        needs: Vec<ExecuteNeed>,
    },
    /// λ-mixing, rollouts and critics.
    Evaluate {
        eval: Box<Evaluator>,
    },
    Value {
        nodes: Vec<NodeId>,
        needs: Vec<ValueNeed>,
    },
    Done,
}

pub struct Mcts {
    g: Grower,
    phase: Phase,
    done_iterations: usize,
    budget: usize,
    stopping: bool,
    /// Samples drawn from each node, by node index (adaptive branching).
    drawn: Vec<usize>,
    /// The sample text each child was made from (state merge compares new samples to it).
    sample_texts: HashMap<NodeId, String>,
}

impl Mcts {
    pub fn new(config: SearchConfig, question: &str, ground_truth: GroundTruth, problem_seed: u64) -> Mcts {
        let budget = config.iterations;
        Mcts {
            g: Grower::new(config, question, ground_truth, StatKeys::MCTS, problem_seed),
            phase: Phase::Select,
            done_iterations: 0,
            budget,
            stopping: false,
            drawn: Vec::new(),
            sample_texts: HashMap::new(),
        }
    }

    fn training(&self) -> bool {
        self.g.config.is_sampling && self.g.ground_truth.is_known()
    }

    fn is_terminal(&self, id: NodeId) -> bool {
        self.g.tree().node(id).terminal().is_some()
    }

    /// The reference's `selection`: descend by PUCT over non-terminal children (ties broken at
    /// random) to a leaf. A node whose children are all terminal is marked terminal; the
    /// reference then ends the whole search (quirk 1, kept under `compat`), arbor descends
    /// again from the root and ends only when the root itself is exhausted.
    ///
    /// Returns the node to expand, how many samples to draw, and whether it is a widening
    /// (adaptive branching lets an expanded node grow more children).
    fn select(&mut self) -> Option<(NodeId, usize, bool)> {
        loop {
            let mut id = NodeId::ROOT;
            loop {
                if self.is_terminal(id) {
                    return None;
                }
                let node = self.g.tree().node(id);
                if node.is_leaf() {
                    return Some((id, self.first_expansion(id), false));
                }
                if let Some(more) = self.widening(id) {
                    return Some((id, more, true));
                }
                let node = self.g.tree().node(id);
                let parent_visits = node.stats().visit_count;
                let c_puct = self.g.config.c_puct;
                let mut best = f64::NEG_INFINITY;
                let mut ties: Vec<NodeId> = Vec::new();
                for &child in node.children() {
                    if self.is_terminal(child) {
                        continue;
                    }
                    let s = self.g.tree().node(child).stats();
                    let score = puct_score(s.q_value, s.visit_count, s.prior, parent_visits, c_puct);
                    if score > best {
                        best = score;
                        ties.clear();
                        ties.push(child);
                    } else if score == best {
                        ties.push(child);
                    }
                }
                if ties.is_empty() {
                    self.g.apply(TreeEvent::Terminal { node: id, reason: TerminalReason::ChildrenExhausted });
                    if self.g.config.compat || id == NodeId::ROOT {
                        return None;
                    }
                    break;
                }
                id = ties[self.g.pick(ties.len())];
            }
        }
    }

    /// Samples drawn from a leaf: `n_generate_sample`, or c_min(t) under adaptive branching.
    fn first_expansion(&self, id: NodeId) -> usize {
        let config = &self.g.config;
        if config.eta_adaptive_branching {
            let depth = self.g.tree().node(id).depth();
            eta::allowed_children(config, depth, eta::importance(self.g.tree(), id))
        } else {
            config.n_generate_sample
        }
    }

    /// Under adaptive branching, the samples still allowed from an expanded node.
    fn widening(&self, id: NodeId) -> Option<usize> {
        let config = &self.g.config;
        if !config.eta_adaptive_branching {
            return None;
        }
        let depth = self.g.tree().node(id).depth();
        let allowed = eta::allowed_children(config, depth, eta::importance(self.g.tree(), id));
        let drawn = self.drawn.get(id.index()).copied().unwrap_or(0);
        (allowed > drawn).then(|| allowed - drawn)
    }

    fn note_drawn(&mut self, id: NodeId, n: usize) {
        if self.drawn.len() <= id.index() {
            self.drawn.resize(id.index() + 1, 0);
        }
        self.drawn[id.index()] += n;
    }

    fn finish_iteration(&mut self) {
        self.done_iterations += 1;
        self.phase = Phase::Select;
    }

    /// Backs up `value` from `node` to the root.
    fn backup(&mut self, node: NodeId, value: f64) {
        self.g.apply(TreeEvent::Backup { node, value });
    }

    /// The reference's `eval_final_answer`: failures back up the negative reward at once;
    /// answers back up ±1 in training mode, or wait for the value head in test mode.
    fn eval_terminal(&mut self, node: NodeId, candidates: &mut Vec<NodeId>) {
        let answer = self.g.tree().node(node).step().final_answer.clone();
        if is_failure_answer(&answer) {
            self.backup(node, self.g.config.negative_reward);
            return;
        }
        // Graded whenever the ground truth is known (the ✓/✗ of the viewer); used as the
        // reward only in training mode.
        let correct = self.g.grade(node);
        if self.training() {
            let reward = if correct == Some(true) {
                self.g.config.positive_reward
            } else {
                self.g.config.negative_reward
            };
            self.backup(node, reward);
        } else {
            candidates.push(node);
        }
    }

    /// The samples of an expansion, once every option ended: state merge, the children, their
    /// code.
    fn grow(&mut self, x: Expansion, generated: Generated) {
        let placements = self.place(x.node, &generated);
        let kept = Generated {
            samples: generated
                .samples
                .iter()
                .zip(&placements)
                .filter(|(_, p)| **p == Placement::New)
                .map(|(s, _)| s.clone())
                .collect(),
            ..generated.clone()
        };
        match self.g.expand(x.node, &kept, Unparsable::for_search(self.g.config.compat)) {
            // compat: an unparsable sample drops the whole iteration (quirk 2).
            Err(_) => self.finish_iteration(),
            Ok(children) => {
                self.record_merges(&generated, &placements, &children);
                let needs = self.g.exec_needs(&children);
                if needs.is_empty() {
                    self.after_execution(x, children, Vec::new());
                } else {
                    self.phase = Phase::Execute { x, children, needs };
                }
            }
        }
    }

    /// Where each sample goes under state merge (all new children when it is off).
    fn place(&self, parent: NodeId, generated: &Generated) -> Vec<Placement> {
        let threshold = self.g.config.eta_merge_distance;
        if threshold == 0 {
            return vec![Placement::New; generated.samples.len()];
        }
        let existing: Vec<(NodeId, &str)> = self
            .g
            .tree()
            .node(parent)
            .children()
            .iter()
            .filter_map(|c| self.sample_texts.get(c).map(|t| (*c, t.as_str())))
            .collect();
        let texts: Vec<&str> = generated.samples.iter().map(|s| s.text.as_str()).collect();
        eta::place_samples(&existing, &texts, threshold)
    }

    /// Remembers the new children's sample texts and records how many samples each child that
    /// absorbed some now stands for.
    fn record_merges(&mut self, generated: &Generated, placements: &[Placement], children: &[NewChild]) {
        if self.g.config.eta_merge_distance == 0 {
            return;
        }
        let new_samples: Vec<usize> =
            (0..placements.len()).filter(|&i| placements[i] == Placement::New).collect();
        // The children follow the new samples in order (merging already removed duplicates).
        let child_of: HashMap<usize, NodeId> =
            new_samples.iter().copied().zip(children.iter().map(|c| c.id)).collect();
        for (&i, &id) in &child_of {
            self.sample_texts.insert(id, generated.samples[i].text.clone());
        }
        let mut absorbed: Vec<(NodeId, u32)> = Vec::new();
        for placement in placements {
            let target = match placement {
                Placement::New => continue,
                Placement::Existing(id) => Some(*id),
                Placement::Earlier(j) => child_of.get(j).copied(),
            };
            let Some(id) = target else { continue };
            match absorbed.iter_mut().find(|(n, _)| *n == id) {
                Some((_, k)) => *k += 1,
                None => absorbed.push((id, 1)),
            }
        }
        for (node, k) in absorbed {
            let count = self.g.tree().node(node).info().merged.unwrap_or(1) + k;
            self.g.apply(TreeEvent::Merged { node, count });
        }
    }

    fn after_execution(&mut self, x: Expansion, children: Vec<NewChild>, results: Vec<Executed>) {
        self.g.apply_executions(&children, results);
        let mut candidates = Vec::new();
        let (max_depth, threshold) = (self.g.config.max_depth, self.g.config.errors_threshold);
        for child in &children {
            let id = child.id;
            match child.kind {
                ChildKind::Final | ChildKind::Unparsable => self.eval_terminal(id, &mut candidates),
                ChildKind::Code { .. } => {
                    if self.g.consecutive_errors(id) > threshold {
                        self.g.apply(TreeEvent::Terminal {
                            node: id,
                            reason: TerminalReason::TooManyCodeErrors,
                        });
                        self.eval_terminal(id, &mut candidates);
                    }
                }
            }
            if !self.is_terminal(id) && self.g.tree().node(id).depth() > max_depth {
                self.g.apply(TreeEvent::Terminal { node: id, reason: TerminalReason::TooManySteps });
                self.eval_terminal(id, &mut candidates);
            }
        }
        if self.g.config.update_leaf_value {
            // Score the new unvisited children instead of backing up the leaf's own value.
            for child in &children {
                let s = self.g.tree().node(child.id).stats();
                if s.visit_count == 0 && !candidates.contains(&child.id) {
                    candidates.push(child.id);
                }
            }
        } else if self.g.config.mixes_evaluation() {
            if !x.widen {
                let leaf = Target { node: x.node, value: x.value, ask_value: false };
                return self.evaluate(vec![leaf], candidates);
            }
        } else if !x.widen {
            // Without a value head the leaf backs up a neutral 0, so visit counts still grow
            // and only terminal rewards carry signal.
            self.backup(x.node, x.value.unwrap_or(0.0));
        }
        if self.g.config.mixes_evaluation() {
            return self.evaluate(Vec::new(), candidates);
        }
        if self.g.config.need_value_func && !candidates.is_empty() {
            let needs =
                candidates.iter().map(|&node| ValueNeed { node, prompt: self.g.prompt(node) }).collect();
            self.phase = Phase::Value { nodes: candidates, needs };
        } else {
            self.finish_iteration();
        }
    }

    /// The samples of an expansion arrived: set the leaf's value, then continue options that
    /// have not ended, or grow the children.
    fn generated(&mut self, mut x: Expansion, need: GenerateNeed, results: Vec<Generated>) {
        let generated = results.into_iter().next().unwrap_or_default();
        if generated.prompt_too_long() {
            self.g.apply(TreeEvent::Terminal { node: x.node, reason: TerminalReason::PromptTooLong });
            self.backup(x.node, self.g.config.negative_reward);
            self.finish_iteration();
            return;
        }
        self.note_drawn(x.node, need.n);
        if !x.widen {
            x.value = match self.g.config.leaf_value {
                LeafValue::ValueHead => generated.value,
                LeafValue::None => None,
            };
            if let Some(v) = x.value {
                self.g.apply(TreeEvent::Value { node: x.node, value: v });
            }
        }
        match self.g.config.eta_option_end {
            OptionEnd::Stop => self.grow(x, generated),
            OptionEnd::Formula => match Extension::start(&mut self.g, x.node, need.prompt, generated) {
                Options::Extending(ext) => self.phase = Phase::Extend { x, ext },
                Options::Done(generated) => self.grow(x, generated),
            },
        }
    }

    /// λ-mixing and critics: evaluates `targets` and the nodes that wait for the value head
    /// (`candidates`, asked only with `need_value_func`, as in the plain search).
    fn evaluate(&mut self, mut targets: Vec<Target>, candidates: Vec<NodeId>) {
        if self.g.config.need_value_func {
            targets.extend(candidates.into_iter().map(|node| Target { node, value: None, ask_value: true }));
        }
        if targets.is_empty() {
            self.finish_iteration();
        } else {
            let eval = Evaluator::new(&self.g, targets, self.training());
            self.phase = Phase::Evaluate { eval: Box::new(eval) };
        }
    }

    /// Records and backs up each evaluation; a node whose own value did not fit fails as a
    /// prompt that is too long does.
    fn apply_evaluations(&mut self, evaluations: Vec<(NodeId, Option<Evaluation>)>) {
        for (node, evaluation) in evaluations {
            match evaluation {
                Some(evaluation) => {
                    let estimate = evaluation.estimate;
                    self.g.apply(TreeEvent::Evaluated { node, evaluation });
                    self.g.apply(TreeEvent::Value { node, value: estimate });
                    self.backup(node, estimate);
                }
                None => {
                    self.g.apply(TreeEvent::Terminal { node, reason: TerminalReason::PromptTooLong });
                    self.backup(node, self.g.config.negative_reward);
                }
            }
        }
        self.finish_iteration();
    }

    fn outcome_config(&self) -> OfflineConfig {
        let widest = self.g.tree().ids().map(|id| self.g.tree().node(id).children().len()).max().unwrap_or(1);
        OfflineConfig {
            strategy: self.g.config.mcts_infer_strategy,
            prune: self.g.config.prune,
            b1: 1,
            b2: widest.max(self.g.config.n_generate_sample).max(1),
            // The reference hard-codes 1.25 (quirk 9); arbor uses the configured c_puct.
            c_puct: if self.g.config.compat { OFFLINE_C_PUCT } else { self.g.config.c_puct },
        }
    }
}

impl Search for Mcts {
    fn poll(&mut self) -> Need {
        loop {
            match &mut self.phase {
                Phase::Select => {
                    if self.stopping || self.done_iterations >= self.budget {
                        self.phase = Phase::Done;
                        continue;
                    }
                    match self.select() {
                        None => self.phase = Phase::Done,
                        Some((node, n, widen)) => {
                            // A widened node already has its value.
                            let want_value = !widen && self.g.config.leaf_value == LeafValue::ValueHead;
                            let need = self.g.generate_need(node, n, want_value);
                            let x = Expansion { node, widen, value: None };
                            self.phase = Phase::Generate { x, need };
                        }
                    }
                }
                Phase::Generate { need, .. } => return Need::Generate(vec![need.clone()]),
                Phase::Extend { ext, .. } => return Need::Generate(ext.needs.clone()),
                Phase::Execute { needs, .. } => return Need::Execute(needs.clone()),
                Phase::Evaluate { eval } => match eval.poll(&mut self.g) {
                    Need::Done => {
                        if let Phase::Evaluate { eval } = std::mem::replace(&mut self.phase, Phase::Select) {
                            let evaluations = eval.finish(&self.g);
                            self.apply_evaluations(evaluations);
                        }
                    }
                    need => return need,
                },
                Phase::Value { needs, .. } => return Need::Value(needs.clone()),
                Phase::Done => return Need::Done,
            }
        }
    }

    fn answer_generate(&mut self, results: Vec<Generated>) {
        match std::mem::replace(&mut self.phase, Phase::Select) {
            Phase::Generate { x, need } => self.generated(x, need, results),
            Phase::Extend { x, ext } => match ext.answer(&mut self.g, results) {
                Options::Extending(ext) => self.phase = Phase::Extend { x, ext },
                Options::Done(generated) => self.grow(x, generated),
            },
            Phase::Evaluate { mut eval } => {
                eval.answer_generate(&self.g, results);
                self.phase = Phase::Evaluate { eval };
            }
            other => self.phase = other,
        }
    }

    fn answer_execute(&mut self, results: Vec<Executed>) {
        match std::mem::replace(&mut self.phase, Phase::Select) {
            Phase::Execute { x, children, .. } => self.after_execution(x, children, results),
            Phase::Evaluate { mut eval } => {
                eval.answer_execute(&self.g, results);
                self.phase = Phase::Evaluate { eval };
            }
            other => self.phase = other,
        }
    }

    fn answer_judge(&mut self, verdicts: Vec<Option<f64>>) {
        match std::mem::replace(&mut self.phase, Phase::Select) {
            Phase::Evaluate { mut eval } => {
                eval.answer_judge(verdicts);
                self.phase = Phase::Evaluate { eval };
            }
            other => self.phase = other,
        }
    }

    fn answer_value(&mut self, values: Vec<Option<f64>>) {
        let nodes = match std::mem::replace(&mut self.phase, Phase::Select) {
            Phase::Value { nodes, .. } => nodes,
            Phase::Evaluate { mut eval } => {
                eval.answer_value(&self.g, values);
                self.phase = Phase::Evaluate { eval };
                return;
            }
            other => {
                self.phase = other;
                return;
            }
        };
        for (node, value) in nodes.into_iter().zip(values) {
            if self.is_terminal(node) && self.training() {
                continue;
            }
            let value = match value {
                Some(v) => v,
                None => {
                    self.g.apply(TreeEvent::Terminal { node, reason: TerminalReason::PromptTooLong });
                    self.g.config.negative_reward
                }
            };
            self.backup(node, value);
        }
        self.finish_iteration();
    }

    fn tree(&self) -> &Tree {
        self.g.tree()
    }

    fn take_events(&mut self) -> Vec<TreeEvent> {
        self.g.take_events()
    }

    fn iterations(&self) -> usize {
        self.done_iterations
    }

    fn outcome(&self) -> Option<Outcome> {
        let selection = offline::select(self.g.tree(), &self.outcome_config());
        Some(Outcome {
            answer: selection.as_ref().map(|s| s.final_answer.clone()),
            node: selection.map(|s| s.node),
            alternatives: Vec::new(),
        })
    }

    fn finish_early(&mut self) {
        self.stopping = true;
        // A generation asked for but not answered has changed nothing yet: drop it.
        if matches!(self.phase, Phase::Generate { .. }) {
            self.phase = Phase::Select;
        }
    }

    fn extend(&mut self, iterations: usize) {
        self.budget = self.done_iterations.max(self.budget) + iterations;
        self.stopping = false;
        if matches!(self.phase, Phase::Done) {
            self.phase = Phase::Select;
        }
    }

    fn config_mut(&mut self) -> &mut SearchConfig {
        &mut self.g.config
    }
}
