//! A simulated MCTS: the reference's search loop (PUCT selection over non-terminal children,
//! expansion into 5 samples, ±1 rewards at final answers, value-head backup at the leaf)
//! driven by a random stand-in for the policy, the interpreter and the value head.
//!
//! It exists to make realistic trees without a model: sample files for the viewer, and large
//! files for the store benchmark. Its trees follow every rule a real search's trees follow
//! (tags, sentinels, Q = mean of backups, failure strings), but the steps are synthetic.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

use crate::store::TreeRecord;
use crate::tree::{
    ExecStatus, Execution, Generation, NodeId, StatKeys, Step, TerminalReason, Tree, TreeEvent, puct_score,
};

/// Settings of one simulated search.
#[derive(Clone, Copy, Debug)]
pub struct SimConfig {
    /// Stop once the tree has at least this many nodes (or nothing is left to expand).
    pub nodes: usize,
    /// Samples per expansion (`n_generate_sample`).
    pub children: u32,
    pub c_puct: f64,
    pub max_depth: u32,
    pub errors_threshold: u32,
    pub seed: u64,
}

impl SimConfig {
    /// The reference's MCTS settings with a node budget.
    pub fn reference(nodes: usize, seed: u64) -> SimConfig {
        SimConfig { nodes, children: 5, c_puct: 1.25, max_depth: 8, errors_threshold: 3, seed }
    }
}

/// The hidden truth about a simulated node: whether its path is still heading to the answer.
#[derive(Clone, Copy)]
struct Latent {
    on_track: bool,
    errors: u32,
    /// The running value the synthetic code has computed so far.
    acc: i64,
}

struct Sim<'a> {
    cfg: &'a SimConfig,
    rng: StdRng,
    tree: Tree,
    latent: Vec<Latent>,
    exhausted: Vec<bool>,
    answer: i64,
}

/// Simulates one search on a synthetic arithmetic problem and returns the finished record:
/// the problem's keys (`index`, `question`, `answer`), the tree, and run facts under `arbor`.
pub fn simulate(index: usize, cfg: &SimConfig) -> TreeRecord {
    let mut rng = StdRng::seed_from_u64(cfg.seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let (a, b, c) = (rng.random_range(2..60i64), rng.random_range(2..30i64), rng.random_range(2..30i64));
    let question = format!(
        "A crate holds {a} apples. A farmer adds {b} bags of {c} apples each. How many apples are in the crate now?"
    );
    let answer = a + b * c;
    let mut sim = Sim { cfg, rng, tree: Tree::new(), latent: Vec::new(), exhausted: Vec::new(), answer };
    sim.run(&question);

    let mut fields = Map::new();
    fields.insert("index".into(), json!(index));
    fields.insert("question".into(), Value::String(question));
    fields.insert("answer".into(), Value::String(answer.to_string()));
    let mut record = TreeRecord::new(fields, sim.tree);
    record.run.insert("algorithm".into(), json!("mcts"));
    record.run.insert("simulated".into(), json!(true));
    record.run.insert("seed".into(), json!(cfg.seed));
    record.run.insert("c_puct".into(), json!(cfg.c_puct));
    record.run.insert("n_generate_sample".into(), json!(cfg.children));
    record
}

impl Sim<'_> {
    fn apply(&mut self, event: TreeEvent) -> NodeId {
        // The simulator only emits events about nodes it created.
        match self.tree.apply(&event) {
            Ok(id) => id,
            Err(e) => unreachable!("simulator produced an invalid event: {e}"),
        }
    }

    fn run(&mut self, question: &str) {
        let step = Step { extra_info: format!("question: {question}"), ..Step::default() };
        self.apply(TreeEvent::Root { step, keys: StatKeys::MCTS });
        self.latent.push(Latent { on_track: true, errors: 0, acc: 0 });
        self.exhausted.push(false);
        // Each round adds `children` nodes unless the tree is exhausted.
        let max_rounds = self.cfg.nodes * 4 + 100;
        for _ in 0..max_rounds {
            if self.tree.len() >= self.cfg.nodes {
                break;
            }
            let Some(leaf) = self.select() else { break };
            self.expand(leaf);
        }
    }

    /// PUCT descent over non-terminal children; a node whose children are all terminal is
    /// marked exhausted and selection starts again (the reference would stop the whole tree).
    fn select(&mut self) -> Option<NodeId> {
        loop {
            let mut id = NodeId::ROOT;
            if self.exhausted[0] {
                return None;
            }
            loop {
                let node = self.tree.node(id);
                if node.is_leaf() {
                    return Some(id);
                }
                let open: Vec<NodeId> = node
                    .children()
                    .iter()
                    .copied()
                    .filter(|c| self.tree.node(*c).terminal().is_none() && !self.exhausted[c.index()])
                    .collect();
                if open.is_empty() {
                    self.exhausted[id.index()] = true;
                    self.apply(TreeEvent::Terminal { node: id, reason: TerminalReason::ChildrenExhausted });
                    break;
                }
                let parent_visits = node.stats().visit_count;
                let score = |c: &NodeId| {
                    let s = self.tree.node(*c).stats();
                    puct_score(s.q_value, s.visit_count, s.prior, parent_visits, self.cfg.c_puct)
                };
                let best = open.iter().map(score).fold(f64::NEG_INFINITY, f64::max);
                let ties: Vec<NodeId> = open.iter().copied().filter(|c| score(c) == best).collect();
                id = ties[self.rng.random_range(0..ties.len())];
            }
        }
    }

    fn expand(&mut self, leaf: NodeId) {
        let parent = self.latent[leaf.index()];
        let depth = self.tree.node(leaf).depth() + 1;
        // The reference sets the leaf's value from the generation request's estimate, backs up
        // each terminal child's reward as the child is made (training mode), then backs up
        // the leaf's estimate.
        let leaf_value = self.value_estimate(parent);
        self.apply(TreeEvent::Value { node: leaf, value: leaf_value });
        for index in 0..self.cfg.children {
            let (child, reward) = self.sample_child(leaf, index, depth, parent);
            if let Some(r) = reward {
                self.apply(TreeEvent::Backup { node: child, value: r });
            }
        }
        self.apply(TreeEvent::Backup { node: leaf, value: leaf_value });
    }

    fn value_estimate(&mut self, latent: Latent) -> f64 {
        let (mean, spread) = if latent.on_track { (0.45, 0.35) } else { (-0.35, 0.35) };
        let v: f64 = mean + spread * (self.rng.random::<f64>() * 2.0 - 1.0);
        (v.clamp(-1.0, 1.0) * 1000.0).round() / 1000.0
    }

    /// Creates one sampled child; returns it and its reward when it is terminal.
    fn sample_child(
        &mut self,
        parent: NodeId,
        index: u32,
        depth: u32,
        latent: Latent,
    ) -> (NodeId, Option<f64>) {
        let on_track = latent.on_track && self.rng.random::<f64>() < 0.9;
        let final_chance = 0.06 + 0.08 * f64::from(depth);
        let logprob_mean = -self.rng.random_range(0.02..0.9f64);
        let prior = logprob_mean.exp();
        let elapsed_ms = self.rng.random_range(40.0..400.0f64).round();
        if self.rng.random::<f64>() < final_chance {
            let answer = if on_track && self.rng.random::<f64>() < 0.9 {
                self.answer
            } else {
                self.answer + self.rng.random_range(-40..40i64)
            };
            let correct = answer == self.answer;
            let thought =
                if correct { "Putting it together, the total is" } else { "So the total should be" };
            let text = format!(
                "<step>\n<p>\n{thought} {answer}.\n</p>\n<p>\nFinal Answer: ${answer}$\n</p>\n</step>"
            );
            let step = Step { text, final_answer: answer.to_string(), ..Step::default() };
            let tokens = 14 + self.rng.random_range(0..10u32);
            let id = self.child(parent, index, step, prior, tokens, logprob_mean, elapsed_ms);
            self.latent.push(Latent { on_track, ..latent });
            self.apply(TreeEvent::Terminal { node: id, reason: TerminalReason::FinalAnswer });
            self.apply(TreeEvent::Graded { node: id, correct });
            return (id, Some(if correct { 1.0 } else { -1.0 }));
        }

        let var = format!("x{depth}");
        let error = self.rng.random::<f64>() < 0.12;
        let (code, observation, acc, status) = if error {
            let code = format!("{var} = total_{} * {}\nprint({var})", depth, self.rng.random_range(2..9));
            (code, format!("NameError: name 'total_{depth}' is not defined"), latent.acc, ExecStatus::Error)
        } else {
            let k = self.rng.random_range(2..30i64);
            let acc = if on_track { latent.acc + k } else { latent.acc * k };
            (format!("{var} = {} + {k}\nprint({var})", latent.acc), acc.to_string(), acc, ExecStatus::Ok)
        };
        let thought = match (error, on_track) {
            (true, _) => "Reuse the running total from before.",
            (false, true) => "Add the next group to the running total.",
            (false, false) => "Multiply the running total by the count.",
        };
        let action_input = format!("```python\n{code}\n```");
        let step_result = format!("<step>\n<p>\n{thought}\n</p>\n<code>\n{action_input}\n</code>");
        let text = format!("{step_result}\n<output>\n{observation}\n</output>\n</step>");
        let step = Step {
            text: step_result,
            action: "python_interpreter".to_owned(),
            action_input,
            ..Step::default()
        };
        let tokens = 30 + self.rng.random_range(0..40u32);
        let id = self.child(parent, index, step, prior, tokens, logprob_mean, elapsed_ms);
        let exec_ms = self.rng.random_range(3.0..30.0f64).round();
        self.apply(TreeEvent::Executed {
            node: id,
            execution: Execution { observation, status, elapsed_ms: exec_ms },
            text,
        });
        let errors = if error { latent.errors + 1 } else { 0 };
        self.latent.push(Latent { on_track: on_track && !error, errors, acc });
        if errors > self.cfg.errors_threshold {
            return (self.fail(id, TerminalReason::TooManyCodeErrors), Some(-1.0));
        }
        if depth > self.cfg.max_depth {
            return (self.fail(id, TerminalReason::TooManySteps), Some(-1.0));
        }
        (id, None)
    }

    #[allow(clippy::too_many_arguments)]
    fn child(
        &mut self,
        parent: NodeId,
        index: u32,
        step: Step,
        prior: f64,
        tokens: u32,
        logprob_mean: f64,
        elapsed_ms: f64,
    ) -> NodeId {
        let id = self.apply(TreeEvent::Child { parent, index, step, prior, keys: StatKeys::MCTS });
        self.exhausted.push(false);
        let generation = Generation {
            tokens,
            logprob_sum: logprob_mean * f64::from(tokens),
            elapsed_ms,
            finish: Some("stop".to_owned()),
        };
        self.apply(TreeEvent::Generated { node: id, generation });
        id
    }

    /// Marks a non-final node as a failed path; the tree writes the reference's failure
    /// string into its final answer.
    fn fail(&mut self, id: NodeId, reason: TerminalReason) -> NodeId {
        self.apply(TreeEvent::Terminal { node: id, reason });
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulated_trees_obey_mcts_invariants() {
        let record = simulate(3, &SimConfig::reference(400, 7));
        let tree = &record.tree;
        assert!(tree.len() >= 400);
        for id in tree.ids() {
            let node = tree.node(id);
            let s = node.stats();
            // Visits: one per backup through the node; a parent has at least its children's.
            let child_visits: u32 = node.children().iter().map(|c| tree.node(*c).stats().visit_count).sum();
            assert!(s.visit_count >= child_visits, "{}", node.tag());
            if s.visit_count > 0 {
                assert!((s.q_value - s.value_sum / f64::from(s.visit_count)).abs() < 1e-12);
                assert!(s.value.is_some());
            }
            assert!(node.children().len() <= 5);
            assert!(node.depth() <= 9);
        }
        // Deterministic by seed.
        assert_eq!(simulate(3, &SimConfig::reference(400, 7)).tree, record.tree);
    }
}
