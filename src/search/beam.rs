//! Step-level beam search SBS(B1, B2) as the reference runs it (`step_beam.py`): each step
//! expands the kept nodes into B2 samples each (B1·B2 from the root), the value head scores
//! every new child, and the best B1 are kept; a kept final answer is collected and shrinks the
//! beam, as does a kept dead end. `step_beam_width = 1, n_generate_sample = 1` at temperature
//! 0 without values is plain greedy decoding (`sbs_greedy.yaml`).

use super::config::SearchConfig;
use super::grow::{Grower, NewChild, Unparsable};
use super::request::{ExecuteNeed, Executed, GenerateNeed, Generated, Need, Outcome, Search, ValueNeed};
use crate::problems::GroundTruth;
use crate::tree::{NodeId, StatKeys, TerminalReason, Tree, TreeEvent, VALUE_SENTINEL, is_failure_answer};

enum Phase {
    Generate {
        needs: Vec<GenerateNeed>,
    },
    Execute {
        children: Vec<NewChild>,
        needs: Vec<ExecuteNeed>,
    },
    Value {
        candidates: Vec<NodeId>,
        needs: Vec<ValueNeed>,
    },
    /// Between steps: decide whether another step runs.
    Next,
    Done,
}

pub struct Beam {
    g: Grower,
    phase: Phase,
    /// Nodes to expand at the next step.
    current: Vec<NodeId>,
    /// The reference's `current_top_num`: the beam width left.
    top: isize,
    final_nodes: Vec<NodeId>,
    steps: usize,
    max_steps: usize,
    stopping: bool,
}

impl Beam {
    pub fn new(config: SearchConfig, question: &str, ground_truth: GroundTruth, problem_seed: u64) -> Beam {
        let top = config.step_beam_width as isize;
        let max_steps = config.max_depth as usize;
        let g = Grower::new(config, question, ground_truth, StatKeys::BEAM, problem_seed);
        Beam {
            g,
            phase: Phase::Next,
            current: vec![NodeId::ROOT],
            top,
            final_nodes: Vec::new(),
            steps: 0,
            max_steps,
            stopping: false,
        }
    }

    fn value(&self, id: NodeId) -> f64 {
        self.g.tree().node(id).stats().value_or_sentinel()
    }

    /// Ignored nodes are not expanded: terminal, or deeper than `max_depth`.
    fn ignored(&self, id: NodeId) -> bool {
        let node = self.g.tree().node(id);
        node.terminal().is_some() || node.depth() > self.g.config.max_depth
    }

    fn valid_final(&self, id: NodeId) -> bool {
        let node = self.g.tree().node(id);
        node.terminal().is_some()
            && !node.step().final_answer.is_empty()
            && !is_failure_answer(&node.step().final_answer)
    }

    /// The reference's `select_next_step`: keep the best `top` candidates by value (stable),
    /// collect final answers, drop dead ends; each of those shrinks the beam.
    fn select(&mut self, mut candidates: Vec<NodeId>) {
        candidates.sort_by(|a, b| self.value(*b).total_cmp(&self.value(*a)));
        let keep = if self.top >= 0 {
            (self.top as usize).min(candidates.len())
        } else {
            candidates.len().saturating_sub(self.top.unsigned_abs())
        };
        candidates.truncate(keep);
        self.current.clear();
        for id in candidates {
            if self.valid_final(id) {
                self.final_nodes.push(id);
                self.top -= 1;
            } else if self.ignored(id) {
                self.top -= 1;
            } else {
                self.current.push(id);
            }
        }
    }

    fn after_execution(&mut self, children: Vec<NewChild>, results: Vec<Executed>) {
        self.g.apply_executions(&children, results);
        let candidates: Vec<NodeId> = children.iter().map(|c| c.id).collect();
        for &id in &candidates {
            if self.g.tree().node(id).terminal().is_some()
                && !is_failure_answer(&self.g.tree().node(id).step().final_answer)
            {
                self.g.grade(id);
            }
        }
        if self.g.config.need_value_func && !candidates.is_empty() {
            let needs =
                candidates.iter().map(|&node| ValueNeed { node, prompt: self.g.prompt(node) }).collect();
            self.phase = Phase::Value { candidates, needs };
        } else {
            self.end_step(candidates);
        }
    }

    fn end_step(&mut self, candidates: Vec<NodeId>) {
        self.select(candidates);
        self.steps += 1;
        self.phase = Phase::Next;
    }

    /// The final answers, best value first (stable): the reference's `solutions` order.
    pub fn solutions(&self) -> Vec<NodeId> {
        let mut nodes = self.final_nodes.clone();
        nodes.sort_by(|a, b| self.value(*b).total_cmp(&self.value(*a)));
        nodes
    }
}

impl Search for Beam {
    fn poll(&mut self) -> Need {
        loop {
            match &self.phase {
                Phase::Next => {
                    let open: Vec<NodeId> =
                        self.current.iter().copied().filter(|id| !self.ignored(*id)).collect();
                    if open.is_empty() || self.stopping || self.steps >= self.max_steps {
                        // arbor marks partial paths cut by the step budget (the reference
                        // leaves them unmarked, quirk 11).
                        if !self.g.config.compat && self.steps >= self.max_steps {
                            for id in open {
                                self.g.apply(TreeEvent::Terminal {
                                    node: id,
                                    reason: TerminalReason::TooManySteps,
                                });
                            }
                        }
                        self.phase = Phase::Done;
                        continue;
                    }
                    let width = self.g.config.step_beam_width;
                    let samples = self.g.config.n_generate_sample;
                    let n = if self.steps == 0 { width * samples } else { samples };
                    let needs = open.iter().map(|&id| self.g.generate_need(id, n, false)).collect();
                    self.phase = Phase::Generate { needs };
                }
                Phase::Generate { needs } => return Need::Generate(needs.clone()),
                Phase::Execute { needs, .. } => return Need::Execute(needs.clone()),
                Phase::Value { needs, .. } => return Need::Value(needs.clone()),
                Phase::Done => return Need::Done,
            }
        }
    }

    fn answer_generate(&mut self, results: Vec<Generated>) {
        let Phase::Generate { needs } = std::mem::replace(&mut self.phase, Phase::Next) else { return };
        let mut children = Vec::new();
        for (need, generated) in needs.iter().zip(&results) {
            match self.g.expand(need.node, generated, Unparsable::for_search(self.g.config.compat)) {
                Ok(mut c) => children.append(&mut c),
                // compat: an unparsable sample drops this tree's whole step (quirk 2); the
                // step still counts, as the reference's solver step does.
                Err(_) => {
                    self.steps += 1;
                    return;
                }
            }
        }
        let exec = self.g.exec_needs(&children);
        if exec.is_empty() {
            self.after_execution(children, Vec::new());
        } else {
            self.phase = Phase::Execute { children, needs: exec };
        }
    }

    fn answer_execute(&mut self, results: Vec<Executed>) {
        if let Phase::Execute { children, .. } = std::mem::replace(&mut self.phase, Phase::Next) {
            self.after_execution(children, results);
        }
    }

    fn answer_value(&mut self, values: Vec<Option<f64>>) {
        let Phase::Value { candidates, .. } = std::mem::replace(&mut self.phase, Phase::Next) else { return };
        for (&node, value) in candidates.iter().zip(values) {
            // A prompt that does not fit keeps the unset value (-100), as in the reference.
            if let Some(v) = value.filter(|v| *v != VALUE_SENTINEL) {
                self.g.apply(TreeEvent::Value { node, value: v });
            }
        }
        self.end_step(candidates);
    }

    fn tree(&self) -> &Tree {
        self.g.tree()
    }

    fn take_events(&mut self) -> Vec<TreeEvent> {
        self.g.take_events()
    }

    fn iterations(&self) -> usize {
        self.steps
    }

    fn outcome(&self) -> Option<Outcome> {
        let solutions = self.solutions();
        let best = solutions.first().copied();
        Some(Outcome {
            answer: best.map(|id| self.g.tree().node(id).step().final_answer.clone()),
            node: best,
            alternatives: solutions.into_iter().skip(1).collect(),
        })
    }

    fn finish_early(&mut self) {
        self.stopping = true;
        // A generation asked for but not answered has changed nothing yet: drop it.
        if matches!(self.phase, Phase::Generate { .. }) {
            self.phase = Phase::Next;
        }
    }

    fn extend(&mut self, iterations: usize) {
        self.max_steps = self.steps.max(self.max_steps) + iterations;
        self.stopping = false;
        if matches!(self.phase, Phase::Done) {
            self.phase = Phase::Next;
        }
    }

    fn config_mut(&mut self) -> &mut SearchConfig {
        &mut self.g.config
    }
}
