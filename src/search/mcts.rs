//! Monte Carlo tree search as the reference runs it (`mcts_math/agents/mcts.py` under the
//! batched `Solver`): PUCT selection over non-terminal children, expansion into
//! `n_generate_sample` samples whose priors are their geometric-mean token probabilities,
//! terminal answers rewarded ±1 against the ground truth (training) or scored by the value
//! head (test), the leaf's value-head estimate backed up as a plain mean.
//!
//! One iteration: select a leaf → generate from it (the same pass returns the leaf's value)
//! → run the children's code → evaluate terminal children and back up → (test mode) value the
//! terminal children and back them up.

use super::config::{LeafValue, SearchConfig};
use super::grow::{ChildKind, Grower, NewChild, Unparsable};
use super::offline::{self, OFFLINE_C_PUCT, OfflineConfig};
use super::request::{ExecuteNeed, Executed, GenerateNeed, Generated, Need, Outcome, Search, ValueNeed};
use crate::problems::GroundTruth;
use crate::tree::{NodeId, StatKeys, TerminalReason, Tree, TreeEvent, is_failure_answer, puct_score};

enum Phase {
    Select,
    Generate { leaf: NodeId, need: GenerateNeed },
    Execute { leaf: NodeId, leaf_value: Option<f64>, children: Vec<NewChild>, needs: Vec<ExecuteNeed> },
    Value { nodes: Vec<NodeId>, needs: Vec<ValueNeed> },
    Done,
}

pub struct Mcts {
    g: Grower,
    phase: Phase,
    done_iterations: usize,
    budget: usize,
    stopping: bool,
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
    fn select(&mut self) -> Option<NodeId> {
        loop {
            let mut id = NodeId::ROOT;
            loop {
                if self.is_terminal(id) {
                    return None;
                }
                let node = self.g.tree().node(id);
                if node.is_leaf() {
                    return Some(id);
                }
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

    fn after_execution(
        &mut self,
        leaf: NodeId,
        leaf_value: Option<f64>,
        children: Vec<NewChild>,
        results: Vec<Executed>,
    ) {
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
        } else {
            // Without a value head the leaf backs up a neutral 0, so visit counts still grow
            // and only terminal rewards carry signal.
            self.backup(leaf, leaf_value.unwrap_or(0.0));
        }
        if self.g.config.need_value_func && !candidates.is_empty() {
            let needs =
                candidates.iter().map(|&node| ValueNeed { node, prompt: self.g.prompt(node) }).collect();
            self.phase = Phase::Value { nodes: candidates, needs };
        } else {
            self.finish_iteration();
        }
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
            match &self.phase {
                Phase::Select => {
                    if self.stopping || self.done_iterations >= self.budget {
                        self.phase = Phase::Done;
                        continue;
                    }
                    match self.select() {
                        None => self.phase = Phase::Done,
                        Some(leaf) => {
                            let want_value = self.g.config.leaf_value == LeafValue::ValueHead;
                            let n = self.g.config.n_generate_sample;
                            let need = self.g.generate_need(leaf, n, want_value);
                            self.phase = Phase::Generate { leaf, need };
                        }
                    }
                }
                Phase::Generate { need, .. } => return Need::Generate(vec![need.clone()]),
                Phase::Execute { needs, .. } => return Need::Execute(needs.clone()),
                Phase::Value { needs, .. } => return Need::Value(needs.clone()),
                Phase::Done => return Need::Done,
            }
        }
    }

    fn answer_generate(&mut self, results: Vec<Generated>) {
        let Phase::Generate { leaf, .. } = std::mem::replace(&mut self.phase, Phase::Select) else {
            return;
        };
        let generated = results.into_iter().next().unwrap_or_default();
        if generated.prompt_too_long() {
            self.g.apply(TreeEvent::Terminal { node: leaf, reason: TerminalReason::PromptTooLong });
            self.backup(leaf, self.g.config.negative_reward);
            self.finish_iteration();
            return;
        }
        let leaf_value = match self.g.config.leaf_value {
            LeafValue::ValueHead => generated.value,
            LeafValue::None => None,
        };
        if let Some(v) = leaf_value {
            self.g.apply(TreeEvent::Value { node: leaf, value: v });
        }
        match self.g.expand(leaf, &generated, Unparsable::for_search(self.g.config.compat)) {
            // compat: an unparsable sample drops the whole iteration (quirk 2).
            Err(_) => self.finish_iteration(),
            Ok(children) => {
                let needs = self.g.exec_needs(&children);
                if needs.is_empty() {
                    self.after_execution(leaf, leaf_value, children, Vec::new());
                } else {
                    self.phase = Phase::Execute { leaf, leaf_value, children, needs };
                }
            }
        }
    }

    fn answer_execute(&mut self, results: Vec<Executed>) {
        if let Phase::Execute { leaf, leaf_value, children, .. } =
            std::mem::replace(&mut self.phase, Phase::Select)
        {
            self.after_execution(leaf, leaf_value, children, results);
        }
    }

    fn answer_value(&mut self, values: Vec<Option<f64>>) {
        let Phase::Value { nodes, .. } = std::mem::replace(&mut self.phase, Phase::Select) else {
            return;
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
