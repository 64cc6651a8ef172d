//! What every algorithm does to grow its tree: render prompts, turn samples into children
//! (parse, dedup, priors), attach interpreter results, spot code errors, grade answers. The
//! algorithms decide *which* nodes grow and how values flow.

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use super::config::SearchConfig;
use super::prompt::{ParseError, ParsedStep, PromptFormat, StepFormat};
use super::request::{ExecuteNeed, Executed, GenerateNeed, Generated, ModelRole, Sample};
use crate::grade;
use crate::interp::{PYTHON_INTERPRETER, PathStep, replay_inputs};
use crate::problems::GroundTruth;
use crate::tree::{
    ExecStatus, Execution, Generation, NodeId, StatKeys, Step, TerminalReason, Tree, TreeEvent,
};

/// A child made from one sample.
#[derive(Clone, Debug, PartialEq)]
pub struct NewChild {
    pub id: NodeId,
    pub kind: ChildKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ChildKind {
    /// A code step waiting for its observation; `step_result` is its text before it.
    Code { step_result: String },
    /// A final answer (terminal).
    Final,
    /// A generation that could not be parsed (terminal, `NO_VALID_CHILD`).
    Unparsable,
}

/// What an unparsable sample does to an expansion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unparsable {
    /// It becomes a terminal `NO_VALID_CHILD` child.
    Keep,
    /// It fails the expansion; nothing is added.
    FailStep,
}

impl Unparsable {
    /// The reference's tree searches fail the step (quirk 2); arbor keeps the sample.
    pub fn for_search(compat: bool) -> Unparsable {
        if compat { Unparsable::FailStep } else { Unparsable::Keep }
    }
}

/// The tree of one search and the machinery to grow it.
pub struct Grower {
    pub config: SearchConfig,
    pub question: String,
    pub ground_truth: GroundTruth,
    tree: Tree,
    events: Vec<TreeEvent>,
    step_format: StepFormat,
    prompt_format: PromptFormat,
    delim: String,
    keys: StatKeys,
    rng: StdRng,
    base_seed: u64,
    requests: u64,
    /// Consecutive code errors on the path ending at each node, by node index.
    errors: Vec<u32>,
}

impl Grower {
    /// A tree with its root. `problem_seed` separates problems that share `config.seed`.
    pub fn new(
        config: SearchConfig,
        question: &str,
        ground_truth: GroundTruth,
        keys: StatKeys,
        problem_seed: u64,
    ) -> Grower {
        let base_seed = config.seed ^ problem_seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut g = Grower {
            step_format: config.step_format(),
            prompt_format: config.prompt_format(),
            delim: config.step_delim(),
            config,
            question: question.to_owned(),
            ground_truth,
            tree: Tree::new(),
            events: Vec::new(),
            keys,
            rng: StdRng::seed_from_u64(base_seed),
            base_seed,
            requests: 0,
            errors: Vec::new(),
        };
        let step = Step { extra_info: format!("question: {question}"), ..Step::default() };
        g.apply(TreeEvent::Root { step, keys });
        g
    }

    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    pub fn step_format(&self) -> StepFormat {
        self.step_format
    }

    pub fn delim(&self) -> &str {
        &self.delim
    }

    /// Applies an event the algorithm built, and queues it for observers. Algorithms only
    /// build events about nodes they know, so a failure is a bug, reported loudly in debug
    /// builds and ignored (the event dropped) in release builds.
    pub fn apply(&mut self, event: TreeEvent) -> NodeId {
        match self.tree.apply(&event) {
            Ok(id) => {
                if matches!(event, TreeEvent::Root { .. } | TreeEvent::Child { .. }) {
                    let parent_errors = match &event {
                        TreeEvent::Child { parent, .. } => self.errors[parent.index()],
                        _ => 0,
                    };
                    // A new node starts with its parent's count; execution updates it.
                    self.errors.push(parent_errors);
                }
                self.events.push(event);
                id
            }
            Err(e) => {
                debug_assert!(false, "search built an invalid event: {e}");
                event.target().unwrap_or(NodeId::ROOT)
            }
        }
    }

    pub fn take_events(&mut self) -> Vec<TreeEvent> {
        std::mem::take(&mut self.events)
    }

    /// The prompt for `node`: its path text in the configured format. The `react` format draws
    /// its demonstrations anew for every prompt, as the reference does.
    pub fn prompt(&mut self, node: NodeId) -> String {
        self.prompt_after(node, &[])
    }

    /// The prompt for the state reached from `node` by the steps `extra` (full step texts, as
    /// a rollout writes them), which are not nodes of the tree.
    pub fn prompt_after(&mut self, node: NodeId, extra: &[String]) -> String {
        let partial = self.path_text_after(node, extra);
        let examples: Vec<&str> = match &self.prompt_format {
            PromptFormat::React(few_shot) => {
                let k = self.config.num_few_shot.min(few_shot.examples.len());
                few_shot.examples.choose_multiple(&mut self.rng, k).map(String::as_str).collect()
            }
            _ => Vec::new(),
        };
        self.prompt_format.render(&self.question, &partial, &self.delim, &examples)
    }

    /// The path text of `node` followed by the steps `extra`, joined by the step delimiter.
    pub fn path_text_after(&self, node: NodeId, extra: &[String]) -> String {
        let mut parts = vec![self.tree.path_text(node, &self.delim)];
        parts.extend(extra.iter().cloned());
        parts.retain(|t| !t.is_empty());
        parts.join(&self.delim)
    }

    /// A generation request for `node` with a fresh, deterministic seed.
    pub fn generate_need(&mut self, node: NodeId, n: usize, want_value: bool) -> GenerateNeed {
        let prompt = self.prompt(node);
        GenerateNeed {
            node,
            prompt,
            n,
            temperature: None,
            want_value,
            seed: self.next_seed(),
            role: ModelRole::Policy,
        }
    }

    pub fn next_seed(&mut self) -> u64 {
        self.requests += 1;
        splitmix(self.base_seed.wrapping_add(self.requests))
    }

    /// A random index among `n` (tie-breaking), from the search's own stream.
    pub fn pick(&mut self, n: usize) -> usize {
        if n <= 1 { 0 } else { self.rng.random_range(0..n) }
    }

    /// Turns the samples of `generated` into children of `parent`, numbered from its current
    /// child count. Duplicates are dropped first when `remove_duplicate` is set (generation
    /// order kept). An unparsable sample becomes a terminal `NO_VALID_CHILD` child, or, with
    /// [`Unparsable::FailStep`], fails the whole expansion and leaves the tree unchanged (the
    /// reference's MCTS and beam search drop that tree's step and retry it, quirk 2).
    pub fn expand(
        &mut self,
        parent: NodeId,
        generated: &Generated,
        unparsable: Unparsable,
    ) -> Result<Vec<NewChild>, ParseError> {
        let mut samples: Vec<&Sample> = generated.samples.iter().collect();
        if self.config.remove_duplicate {
            let mut seen = std::collections::HashSet::new();
            samples.retain(|s| seen.insert(s.text.trim().to_owned()));
        }
        let prefix = self.prompt_format.step_prefix();
        let texts: Vec<String> = samples.iter().map(|s| format!("{prefix}{}", s.text)).collect();
        let parsed: Vec<Result<ParsedStep, ParseError>> =
            texts.iter().map(|t| self.step_format.parse(t)).collect();
        if unparsable == Unparsable::FailStep
            && let Some(Err(e)) = parsed.iter().find(|p| p.is_err())
        {
            return Err(e.clone());
        }
        let priors: Vec<f64> = samples.iter().map(|s| s.prior()).collect();
        let total: f64 = priors.iter().sum();
        let first_index = self.tree.node(parent).children().len() as u32;
        let mut children = Vec::with_capacity(samples.len());
        for (i, (sample, parsed)) in samples.iter().zip(parsed).enumerate() {
            // Arbor normalises priors over the siblings; the reference (compat) does not.
            let prior = if self.config.compat || total <= 0.0 { priors[i] } else { priors[i] / total };
            let (step, kind) = match parsed {
                Ok(p) if p.is_final() => (
                    Step { text: p.step_result, final_answer: p.final_answer, ..Step::default() },
                    ChildKind::Final,
                ),
                Ok(p) => (
                    Step {
                        text: p.step_result.clone(),
                        action: p.action,
                        action_input: p.action_input,
                        ..Step::default()
                    },
                    ChildKind::Code { step_result: p.step_result },
                ),
                Err(_) => {
                    (Step { text: texts[i].trim().to_owned(), ..Step::default() }, ChildKind::Unparsable)
                }
            };
            let id = self.apply(TreeEvent::Child {
                parent,
                index: first_index + i as u32,
                step,
                prior,
                keys: self.keys,
            });
            self.apply(TreeEvent::Generated {
                node: id,
                generation: Generation {
                    tokens: sample.tokens,
                    logprob_sum: sample.logprob_sum,
                    elapsed_ms: generated.elapsed_ms,
                    finish: sample.finish.clone(),
                },
            });
            match kind {
                ChildKind::Final => {
                    self.apply(TreeEvent::Terminal { node: id, reason: TerminalReason::FinalAnswer });
                }
                ChildKind::Unparsable => {
                    self.apply(TreeEvent::Terminal { node: id, reason: TerminalReason::NoValidChild });
                }
                ChildKind::Code { .. } => {}
            }
            children.push(NewChild { id, kind });
        }
        Ok(children)
    }

    /// The interpreter requests for the code children, with their ancestors' code to replay.
    pub fn exec_needs(&self, children: &[NewChild]) -> Vec<ExecuteNeed> {
        children
            .iter()
            .filter(|c| matches!(c.kind, ChildKind::Code { .. }) && self.runs_python(c.id))
            .map(|c| {
                let node = self.tree.node(c.id);
                let parent = node.parent().unwrap_or(NodeId::ROOT);
                let path: Vec<PathStep> = self
                    .tree
                    .path(parent)
                    .into_iter()
                    .map(|id| PathStep::from(self.tree.node(id).step()))
                    .collect();
                ExecuteNeed {
                    node: c.id,
                    ancestors: replay_inputs(path, &node.step().action),
                    code: node.step().action_input.clone(),
                }
            })
            .collect()
    }

    fn runs_python(&self, id: NodeId) -> bool {
        self.tree.node(id).step().action == PYTHON_INTERPRETER
    }

    /// Attaches interpreter results (one per [`Grower::exec_needs`] request, in order) to the
    /// code children: the wrapped observation joins the step text, and the node's
    /// consecutive-error count is set. Steps naming another tool get the reference's answers:
    /// `None` a fixed reminder, anything else a `KeyError`.
    pub fn apply_executions(&mut self, children: &[NewChild], results: Vec<Executed>) {
        let mut results = results.into_iter();
        for child in children {
            let ChildKind::Code { step_result } = &child.kind else { continue };
            let id = child.id;
            let result = if self.runs_python(id) {
                let Some(result) = results.next() else { break };
                result
            } else {
                tool_reply(&self.tree.node(id).step().action)
            };
            let (text, failed) = self.observed(step_result, &result);
            let parent_errors = self.tree.node(id).parent().map_or(0, |p| self.errors[p.index()]);
            self.errors[id.index()] = if failed { parent_errors + 1 } else { 0 };
            self.apply(TreeEvent::Executed {
                node: id,
                execution: Execution {
                    observation: result.observation,
                    status: result.status,
                    elapsed_ms: result.elapsed_ms,
                },
                text,
            });
        }
    }

    /// The step text once `result` is appended to `step_result`, and whether it counts as a
    /// code error.
    pub fn observed(&self, step_result: &str, result: &Executed) -> (String, bool) {
        let wrapped = self.step_format.wrap_observation(&result.observation);
        let text = format!("{step_result}{}{wrapped}", self.delim);
        // The reference counts any "Error" in the wrapped observation (quirk 8); arbor
        // counts what the interpreter reports as failed.
        let failed =
            if self.config.compat { wrapped.contains("Error") } else { result.status != ExecStatus::Ok };
        (text, failed)
    }

    /// The code to replay before running a new step of `action` that follows `node` and the
    /// (not in the tree) steps `extra`.
    pub fn replay_after(&self, node: NodeId, extra: &[PathStep<'_>], action: &str) -> Vec<String> {
        let path = self.tree.path(node).into_iter().map(|id| PathStep::from(self.tree.node(id).step()));
        replay_inputs(path.chain(extra.iter().copied()), action)
    }

    /// Whether `answer` matches the ground truth; `None` without one.
    pub fn is_correct(&self, answer: &str) -> Option<bool> {
        if !self.ground_truth.is_known() {
            return None;
        }
        Some(grade::is_equiv_any(self.ground_truth.accepted(), answer))
    }

    /// Consecutive code errors on the path ending at `node`.
    pub fn consecutive_errors(&self, node: NodeId) -> u32 {
        self.errors[node.index()]
    }

    /// Grades a final answer against the ground truth and records the verdict; `None` without
    /// a ground truth.
    pub fn grade(&mut self, node: NodeId) -> Option<bool> {
        let correct = self.is_correct(&self.tree.node(node).step().final_answer)?;
        self.apply(TreeEvent::Graded { node, correct });
        Some(correct)
    }
}

/// What a step naming a tool other than Python gets, as in the reference: `None` a fixed
/// reminder, anything else a `KeyError`.
pub fn tool_reply(action: &str) -> Executed {
    let (observation, status) = if action == "None" {
        ("No action, no observation. Please continue to solve.".to_owned(), ExecStatus::Ok)
    } else {
        (format!("KeyError: '{action}'"), ExecStatus::Error)
    };
    Executed { observation, status, elapsed_ms: 0.0 }
}

/// A well-mixed 64-bit value from a counter (SplitMix64), for per-request seeds.
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
