//! One search-tree node: the reference's fields plus arbor's own.

use serde::{Deserialize, Serialize};

/// Index of a node in its [`Tree`](super::Tree) arena. Ids are assigned in creation order, so
/// two trees built from the same event sequence give every node the same id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The root is always the first node.
    pub const ROOT: NodeId = NodeId(0);

    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The reference's `-100`: "value never set". Stored as `None` in [`Stats::value`].
pub const VALUE_SENTINEL: f64 = -100.0;

/// `final_answer` of a path abandoned after too many consecutive code errors (reference text).
pub const FAIL_TOO_MANY_CODE_ERRORS: &str = "Too many consecutive steps have code errors.";
/// `final_answer` of a path cut at the depth limit (the typo is the reference's).
pub const FAIL_TOO_MANY_STEPS: &str = "Fail to sove the problem within limited steps.";
/// `final_answer` of a greedy step that could not be parsed (reference text).
pub const FAIL_NO_VALID_CHILD: &str = "Fail to generate parsable text for next step.";

/// True for the three failure strings the reference writes into `final_answer`.
pub fn is_failure_answer(final_answer: &str) -> bool {
    matches!(final_answer, FAIL_TOO_MANY_CODE_ERRORS | FAIL_TOO_MANY_STEPS | FAIL_NO_VALID_CHILD)
}

/// The five string fields the reference keeps in a node's `state`, in its key order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Step {
    /// The full step text; for code steps it includes the wrapped interpreter output.
    pub text: String,
    /// `"question: {question}"` at the root, empty elsewhere.
    pub extra_info: String,
    /// `"python_interpreter"` for code steps, empty otherwise.
    pub action: String,
    /// The code, still inside its fences.
    pub action_input: String,
    /// The parsed answer, one of the failure strings, or empty.
    pub final_answer: String,
}

/// Search statistics. `value` is the value-head estimate or reward; `q_value` the mean of every
/// value backed up through the node.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    /// `None` is the reference's `-100` sentinel: never set.
    pub value: Option<f64>,
    pub q_value: f64,
    /// Sum of backed-up values; `q_value == value_sum / visit_count` once visited. For nodes
    /// restored from a file it is `q_value * visit_count`.
    pub value_sum: f64,
    pub visit_count: u32,
    /// exp(mean token log-prob) of the step, `1.0` at the root; not normalised across siblings.
    pub prior: f64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats { value: None, q_value: 0.0, value_sum: 0.0, visit_count: 0, prior: 1.0 }
    }
}

impl Stats {
    /// The value as the reference compares it: the sentinel `-100` when never set.
    pub fn value_or_sentinel(&self) -> f64 {
        self.value.unwrap_or(VALUE_SENTINEL)
    }
}

/// Which of the reference's numeric keys a node carries in a tree file. Greedy (REACT) trees
/// have none, beam-search trees only `value`, MCTS trees all four.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatKeys {
    pub value: bool,
    pub q_value: bool,
    pub prior: bool,
    pub visit_count: bool,
}

impl StatKeys {
    pub const REACT: StatKeys = StatKeys { value: false, q_value: false, prior: false, visit_count: false };
    pub const BEAM: StatKeys = StatKeys { value: true, q_value: false, prior: false, visit_count: false };
    pub const MCTS: StatKeys = StatKeys { value: true, q_value: true, prior: true, visit_count: true };
}

/// How a node's numbers are spelled in its file, so a file read and written back keeps its
/// bytes: `keys` says which numeric keys are present, `ints` which of them were integer
/// literals (the reference writes an unvisited `q_value` as the int `0`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileForm {
    pub keys: StatKeys,
    pub ints: StatKeys,
}

/// Why a node ends its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TerminalReason {
    /// The step gave a final answer.
    FinalAnswer,
    /// More consecutive code errors than `errors_threshold`.
    TooManyCodeErrors,
    /// Deeper than `max_depth`.
    TooManySteps,
    /// The generation could not be parsed (greedy chains).
    NoValidChild,
    /// The prompt did not fit the model context; nothing was generated.
    PromptTooLong,
    /// Every child is terminal, so selection cannot descend further (MCTS).
    ChildrenExhausted,
}

impl TerminalReason {
    /// The `final_answer` the reference writes for a failed path, if this is a failure.
    pub fn failure_text(self) -> Option<&'static str> {
        match self {
            TerminalReason::TooManyCodeErrors => Some(FAIL_TOO_MANY_CODE_ERRORS),
            TerminalReason::TooManySteps => Some(FAIL_TOO_MANY_STEPS),
            TerminalReason::NoValidChild => Some(FAIL_NO_VALID_CHILD),
            _ => None,
        }
    }

    /// The reason the reference's `final_answer` string implies, if any.
    pub fn from_final_answer(final_answer: &str) -> Option<TerminalReason> {
        match final_answer {
            "" => None,
            FAIL_TOO_MANY_CODE_ERRORS => Some(TerminalReason::TooManyCodeErrors),
            FAIL_TOO_MANY_STEPS => Some(TerminalReason::TooManySteps),
            FAIL_NO_VALID_CHILD => Some(TerminalReason::NoValidChild),
            _ => Some(TerminalReason::FinalAnswer),
        }
    }
}

/// Outcome of running a step's code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecStatus {
    Ok,
    /// Python raised; the observation is `Type: message`.
    Error,
    /// The wall-clock limit was hit.
    Timeout,
    /// The sandbox killed the process (memory, CPU, output size, forbidden call).
    Killed,
}

/// The interpreter's result for a code step, kept apart from the step text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Execution {
    /// The observation as the tool returned it, before wrapping into the step text.
    pub observation: String,
    pub status: ExecStatus,
    pub elapsed_ms: f64,
}

/// Generation facts for a step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generation {
    pub tokens: u32,
    /// Sum of the sampled tokens' log-probs; the prior is `exp(logprob_sum / tokens)`.
    pub logprob_sum: f64,
    pub elapsed_ms: f64,
    /// Why decoding stopped: `stop`, `length`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish: Option<String>,
}

/// arbor's own per-node data. Written under the record's `arbor` key, which the reference's
/// tools ignore.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution: Option<Execution>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<Generation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminal: Option<TerminalReason>,
    /// Whether `final_answer` matches the ground truth, when one is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correct: Option<bool>,
    /// How many generated samples this node stands for after state merge (η-MCTS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<u32>,
    /// How the node was evaluated when λ-mixing with rollouts or critics were on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<Evaluation>,
}

/// The parts of a node's evaluation under λ-mixing and critics (AlphaMath's λ, AlphaLLM's
/// critics): what each critic said, the rollouts, and the value that was backed up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evaluation {
    /// The value head's estimate V.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// The process reward model's P("True") for the node's step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prm: Option<f64>,
    /// The outcome reward model's mean P("True") over the rollout ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orm: Option<f64>,
    /// The critics' weighted sum s = β_value·V + β_PRM·PRM + β_ORM·ORM.
    pub critic: f64,
    /// The rollouts played from the node (not nodes of the tree), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rollouts: Vec<RolloutSummary>,
    pub lambda: f64,
    /// The value backed up: (1 − λ)·s + λ·(mean rollout outcome).
    pub estimate: f64,
}

/// One rollout from an evaluated node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolloutSummary {
    /// Its outcome r: ±1 against the ground truth, or the critic's score of its end; absent
    /// when λ = 0 (the rollout was played for the ORM critic only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<f64>,
    /// Steps generated.
    pub steps: u32,
    /// Why it ended; absent when its step budget ran out first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<TerminalReason>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub final_answer: String,
}

impl NodeInfo {
    pub fn is_empty(&self) -> bool {
        *self == NodeInfo::default()
    }
}

/// A node of the arena. Read-only outside the `tree` module: every change goes through
/// [`Tree::apply`](super::Tree::apply).
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub(super) parent: Option<NodeId>,
    pub(super) children: Vec<NodeId>,
    /// The last number of the tag: this node is child `index` of its parent.
    pub(super) index: u32,
    pub(super) depth: u32,
    pub(super) tag: String,
    pub(super) step: Step,
    pub(super) stats: Stats,
    pub(super) info: NodeInfo,
    pub(super) form: FileForm,
    /// Keys of the node's JSON object that arbor does not know, kept to be written back.
    pub(super) unknown: Vec<(String, serde_json::Value)>,
}

impl Node {
    pub fn parent(&self) -> Option<NodeId> {
        self.parent
    }
    pub fn children(&self) -> &[NodeId] {
        &self.children
    }
    pub fn index(&self) -> u32 {
        self.index
    }
    pub fn depth(&self) -> u32 {
        self.depth
    }
    /// Dotted tag: `"0"`, `"0.3"`, `"0.3.1"`.
    pub fn tag(&self) -> &str {
        &self.tag
    }
    pub fn step(&self) -> &Step {
        &self.step
    }
    pub fn stats(&self) -> &Stats {
        &self.stats
    }
    pub fn info(&self) -> &NodeInfo {
        &self.info
    }
    pub fn form(&self) -> FileForm {
        self.form
    }
    pub fn unknown_keys(&self) -> &[(String, serde_json::Value)] {
        &self.unknown
    }
    pub fn is_leaf(&self) -> bool {
        self.children.is_empty()
    }
    pub fn is_code(&self) -> bool {
        !self.step.action.is_empty()
    }
    /// Terminal as recorded by arbor, or as implied by a non-empty `final_answer`.
    pub fn terminal(&self) -> Option<TerminalReason> {
        self.info.terminal.or_else(|| TerminalReason::from_final_answer(&self.step.final_answer))
    }
    /// A leaf whose `final_answer` is a real answer, not a failure string (reference
    /// `is_valid_final_answer_node`).
    pub fn is_valid_final_answer(&self) -> bool {
        self.children.is_empty()
            && !self.step.final_answer.is_empty()
            && !is_failure_answer(&self.step.final_answer)
    }
}
