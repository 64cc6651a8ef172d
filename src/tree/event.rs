//! The events that change a tree. The engine emits them, the TUI mirror and the file reader
//! replay them, all through [`Tree::apply`](super::Tree::apply).

use super::node::{
    Evaluation, Execution, FileForm, Generation, NodeId, NodeInfo, StatKeys, Stats, Step, TerminalReason,
};

#[derive(Clone, Debug, PartialEq)]
pub enum TreeEvent {
    /// Creates the root (tag `"0"`). Only valid on an empty tree.
    Root { step: Step, keys: StatKeys },
    /// Adds child number `index` under `parent` (tag `"{parent}.{index}"`), unvisited, value
    /// unset, with the given prior.
    Child { parent: NodeId, index: u32, step: Step, prior: f64, keys: StatKeys },
    /// Sets the node's own value (value-head estimate or reward) without backing it up.
    Value { node: NodeId, value: f64 },
    /// The reference's `update_recursive`: for the node and each ancestor, set the value if it
    /// was never set, add one visit and add `value` to the sum; Q becomes the mean.
    Backup { node: NodeId, value: f64 },
    /// Marks the node as ending its path. A failure reason also sets the node's final answer
    /// to the reference's failure string.
    Terminal { node: NodeId, reason: TerminalReason },
    /// The step's code ran: records the result and sets the step text, which now carries the
    /// wrapped observation.
    Executed { node: NodeId, execution: Execution, text: String },
    /// Generation facts (token count, log-prob sum, time) for the node's step.
    Generated { node: NodeId, generation: Generation },
    /// The node's final answer was graded against the ground truth.
    Graded { node: NodeId, correct: bool },
    /// The node absorbed `count` near-duplicate samples (state merge).
    Merged { node: NodeId, count: u32 },
    /// How the node was evaluated (λ-mixing, rollouts, critics); the value itself is backed up
    /// with [`TreeEvent::Backup`].
    Evaluated { node: NodeId, evaluation: Evaluation },
    /// Statistics and arbor data read back from a file, set verbatim.
    Restored {
        node: NodeId,
        stats: Stats,
        form: FileForm,
        info: NodeInfo,
        unknown: Vec<(String, serde_json::Value)>,
    },
}

impl TreeEvent {
    /// The node the event changes; `None` for [`TreeEvent::Root`] and [`TreeEvent::Child`],
    /// which create one.
    pub fn target(&self) -> Option<NodeId> {
        match self {
            TreeEvent::Root { .. } | TreeEvent::Child { .. } => None,
            TreeEvent::Value { node, .. }
            | TreeEvent::Backup { node, .. }
            | TreeEvent::Terminal { node, .. }
            | TreeEvent::Executed { node, .. }
            | TreeEvent::Generated { node, .. }
            | TreeEvent::Graded { node, .. }
            | TreeEvent::Merged { node, .. }
            | TreeEvent::Evaluated { node, .. }
            | TreeEvent::Restored { node, .. } => Some(*node),
        }
    }
}
