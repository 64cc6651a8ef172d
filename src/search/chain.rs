//! Chains: greedy step-by-step decoding (the reference's `REACT` under `REACTBatch`) and its
//! sampled variant for maj@k (`n_generate_sample` independent chains from the root, answer by
//! majority vote over their final answers).

use super::config::{Mode, SearchConfig};
use super::grow::{Grower, NewChild, Unparsable};
use super::request::{ExecuteNeed, Executed, GenerateNeed, Generated, Need, Outcome, Search};
use crate::batch::score::majority;
use crate::problems::GroundTruth;
use crate::tree::{NodeId, StatKeys, TerminalReason, Tree, TreeEvent, is_failure_answer};

enum Phase {
    Generate { needs: Vec<GenerateNeed> },
    Execute { children: Vec<NewChild>, needs: Vec<ExecuteNeed> },
    Next,
    Done,
}

pub struct Chains {
    g: Grower,
    phase: Phase,
    /// The tips of chains still running.
    tips: Vec<NodeId>,
    /// Chain ends, in the order they finished.
    ends: Vec<NodeId>,
    chains: usize,
    steps: usize,
    max_steps: usize,
    stopping: bool,
}

impl Chains {
    pub fn new(config: SearchConfig, question: &str, ground_truth: GroundTruth, problem_seed: u64) -> Chains {
        let chains = if config.mode == Mode::Sample { config.n_generate_sample.max(1) } else { 1 };
        let max_steps = config.max_depth as usize;
        Chains {
            g: Grower::new(config, question, ground_truth, StatKeys::REACT, problem_seed),
            phase: Phase::Next,
            tips: vec![NodeId::ROOT],
            ends: Vec::new(),
            chains,
            steps: 0,
            max_steps,
            stopping: false,
        }
    }

    /// The reference's `should_generate_next`: not terminal and not deeper than `max_depth`.
    fn open(&self, id: NodeId) -> bool {
        let node = self.g.tree().node(id);
        node.terminal().is_none() && node.depth() <= self.g.config.max_depth
    }

    fn after_execution(&mut self, children: Vec<NewChild>, results: Vec<Executed>) {
        self.g.apply_executions(&children, results);
        for child in children {
            let node = self.g.tree().node(child.id);
            if node.terminal().is_some() {
                if !is_failure_answer(&node.step().final_answer) {
                    self.g.grade(child.id);
                }
                self.ends.push(child.id);
            } else {
                self.tips.push(child.id);
            }
        }
        self.steps += 1;
        self.phase = Phase::Next;
    }
}

impl Search for Chains {
    fn poll(&mut self) -> Need {
        loop {
            match &self.phase {
                Phase::Next => {
                    let open: Vec<NodeId> = self.tips.iter().copied().filter(|id| self.open(*id)).collect();
                    if open.is_empty() || self.stopping || self.steps >= self.max_steps {
                        for &id in &open {
                            // arbor marks chains cut by the step budget (quirk 11).
                            if !self.g.config.compat && self.steps >= self.max_steps {
                                self.g.apply(TreeEvent::Terminal {
                                    node: id,
                                    reason: TerminalReason::TooManySteps,
                                });
                            }
                            self.ends.push(id);
                        }
                        self.tips.clear();
                        self.phase = Phase::Done;
                        continue;
                    }
                    let needs = open
                        .iter()
                        .map(|&id| {
                            let n = if id == NodeId::ROOT { self.chains } else { 1 };
                            self.g.generate_need(id, n, false)
                        })
                        .collect();
                    self.phase = Phase::Generate { needs };
                }
                Phase::Generate { needs } => return Need::Generate(needs.clone()),
                Phase::Execute { needs, .. } => return Need::Execute(needs.clone()),
                Phase::Done => return Need::Done,
            }
        }
    }

    fn answer_generate(&mut self, results: Vec<Generated>) {
        let Phase::Generate { needs } = std::mem::replace(&mut self.phase, Phase::Next) else { return };
        self.tips.clear();
        let mut children = Vec::new();
        for (need, generated) in needs.iter().zip(&results) {
            if generated.prompt_too_long() {
                self.g.apply(TreeEvent::Terminal { node: need.node, reason: TerminalReason::PromptTooLong });
                self.ends.push(need.node);
                continue;
            }
            // Chains never fail a step: an unparsable sample is a NO_VALID_CHILD end, as in
            // the reference's REACT, compat or not.
            if let Ok(mut c) = self.g.expand(need.node, generated, Unparsable::Keep) {
                children.append(&mut c);
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

    fn answer_value(&mut self, _values: Vec<Option<f64>>) {}

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
        let tree = self.g.tree();
        let answered: Vec<NodeId> =
            self.ends.iter().copied().filter(|id| tree.node(*id).is_valid_final_answer()).collect();
        let answers: Vec<String> =
            answered.iter().map(|id| tree.node(*id).step().final_answer.clone()).collect();
        let (answer, node) = if self.chains == 1 {
            // Greedy: the chain's end, whatever it says.
            let end = self.ends.first().copied();
            (end.map(|id| tree.node(id).step().final_answer.clone()).filter(|a| !a.is_empty()), end)
        } else {
            let winner = majority(&answers).map(str::to_owned);
            let node = winner
                .as_ref()
                .and_then(|w| answered.iter().copied().find(|id| &tree.node(*id).step().final_answer == w));
            (winner, node)
        };
        Some(Outcome {
            answer,
            node,
            alternatives: answered.into_iter().filter(|id| Some(*id) != node).collect(),
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
    }

    fn config_mut(&mut self) -> &mut SearchConfig {
        &mut self.g.config
    }
}
