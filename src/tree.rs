//! The search tree: an arena of [`Node`]s addressed by [`NodeId`], changed only by
//! [`Tree::apply`] with a [`TreeEvent`].

mod anatomy;
mod event;
mod node;
mod query;

pub use anatomy::{StepParts, observation_is_error};
pub use event::TreeEvent;
pub use node::{
    Evaluation, ExecStatus, Execution, FAIL_NO_VALID_CHILD, FAIL_TOO_MANY_CODE_ERRORS, FAIL_TOO_MANY_STEPS,
    FileForm, Generation, Node, NodeId, NodeInfo, RolloutSummary, StatKeys, Stats, Step, TerminalReason,
    VALUE_SENTINEL, is_failure_answer,
};
pub use query::{Range, SiblingStats, SortKey, Summary, puct_score, sort_desc};

/// Why an event could not be applied. The tree is unchanged when `apply` fails.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TreeError {
    #[error("the tree already has a root")]
    RootExists,
    #[error("the tree has no root yet")]
    NoRoot,
    #[error("no node with id {0}")]
    UnknownNode(u32),
    #[error("node '{parent}' already has a child with tag '{parent}.{index}'")]
    DuplicateChild { parent: String, index: u32 },
    #[error("{what} must be a finite number, got {value}")]
    NotFinite { what: &'static str, value: f64 },
    #[error("the tree is full ({0} nodes)")]
    Full(usize),
}

/// An arena tree. Node ids are indices in creation order; the root is [`NodeId::ROOT`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    pub fn new() -> Tree {
        Tree::default()
    }

    /// Builds a tree by applying `events` in order.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a TreeEvent>) -> Result<Tree, TreeError> {
        let mut tree = Tree::new();
        for event in events {
            tree.apply(event)?;
        }
        Ok(tree)
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn root(&self) -> Option<&Node> {
        self.nodes.first()
    }

    pub fn get(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id.index())
    }

    /// The node `id`. Ids come from this tree, so a missing one is a caller bug.
    ///
    /// # Panics
    /// If `id` does not belong to this tree.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// All node ids in creation order.
    pub fn ids(&self) -> impl DoubleEndedIterator<Item = NodeId> + ExactSizeIterator + '_ {
        (0..self.nodes.len() as u32).map(NodeId)
    }

    /// Applies one event. On error the tree is left as it was.
    pub fn apply(&mut self, event: &TreeEvent) -> Result<NodeId, TreeError> {
        if let Some(node) = event.target() {
            self.check(node)?;
        }
        match event {
            TreeEvent::Root { step, keys } => {
                if !self.nodes.is_empty() {
                    return Err(TreeError::RootExists);
                }
                self.nodes.push(Node {
                    parent: None,
                    children: Vec::new(),
                    index: 0,
                    depth: 0,
                    tag: "0".to_owned(),
                    step: step.clone(),
                    stats: Stats::default(),
                    info: NodeInfo::default(),
                    form: FileForm { keys: *keys, ints: StatKeys { q_value: true, ..StatKeys::default() } },
                    unknown: Vec::new(),
                });
                Ok(NodeId::ROOT)
            }
            TreeEvent::Child { parent, index, step, prior, keys } => {
                if self.nodes.is_empty() {
                    return Err(TreeError::NoRoot);
                }
                self.check(*parent)?;
                finite("prior", *prior)?;
                let parent_node = &self.nodes[parent.index()];
                if parent_node.children.iter().any(|c| self.nodes[c.index()].index == *index) {
                    return Err(TreeError::DuplicateChild { parent: parent_node.tag.clone(), index: *index });
                }
                let id = u32::try_from(self.nodes.len())
                    .map(NodeId)
                    .map_err(|_| TreeError::Full(self.nodes.len()))?;
                let node = Node {
                    parent: Some(*parent),
                    children: Vec::new(),
                    index: *index,
                    depth: parent_node.depth + 1,
                    tag: format!("{}.{}", parent_node.tag, index),
                    step: step.clone(),
                    stats: Stats { prior: *prior, ..Stats::default() },
                    info: NodeInfo::default(),
                    // An unvisited node's q_value is the int 0 in the reference's files.
                    form: FileForm { keys: *keys, ints: StatKeys { q_value: true, ..StatKeys::default() } },
                    unknown: Vec::new(),
                };
                self.nodes[parent.index()].children.push(id);
                self.nodes.push(node);
                Ok(id)
            }
            TreeEvent::Value { node, value } => {
                finite("value", *value)?;
                let n = &mut self.nodes[node.index()];
                n.stats.value = Some(*value);
                n.form.ints.value = false;
                Ok(*node)
            }
            TreeEvent::Backup { node, value } => {
                finite("backed-up value", *value)?;
                let mut cursor = Some(*node);
                while let Some(id) = cursor {
                    let n = &mut self.nodes[id.index()];
                    if n.stats.value.is_none() {
                        n.stats.value = Some(*value);
                        n.form.ints.value = false;
                    }
                    n.stats.visit_count += 1;
                    n.stats.value_sum += value;
                    n.stats.q_value = n.stats.value_sum / f64::from(n.stats.visit_count);
                    n.form.ints.q_value = false;
                    cursor = n.parent;
                }
                Ok(*node)
            }
            TreeEvent::Terminal { node, reason } => {
                let n = &mut self.nodes[node.index()];
                n.info.terminal = Some(*reason);
                // A failed path carries the reference's failure string as its answer.
                if let Some(text) = reason.failure_text() {
                    n.step.final_answer = text.to_owned();
                }
                Ok(*node)
            }
            TreeEvent::Executed { node, execution, text } => {
                finite("execution time", execution.elapsed_ms)?;
                let n = &mut self.nodes[node.index()];
                n.step.text.clone_from(text);
                n.info.execution = Some(execution.clone());
                Ok(*node)
            }
            TreeEvent::Generated { node, generation } => {
                finite("log-prob sum", generation.logprob_sum)?;
                self.nodes[node.index()].info.generation = Some(generation.clone());
                Ok(*node)
            }
            TreeEvent::Graded { node, correct } => {
                self.nodes[node.index()].info.correct = Some(*correct);
                Ok(*node)
            }
            TreeEvent::Merged { node, count } => {
                self.nodes[node.index()].info.merged = Some(*count);
                Ok(*node)
            }
            TreeEvent::Evaluated { node, evaluation } => {
                finite("critic score", evaluation.critic)?;
                finite("estimate", evaluation.estimate)?;
                self.nodes[node.index()].info.evaluation = Some(evaluation.clone());
                Ok(*node)
            }
            TreeEvent::Restored { node, stats, form, info, unknown } => {
                finite("q_value", stats.q_value)?;
                finite("prior", stats.prior)?;
                if let Some(v) = stats.value {
                    finite("value", v)?;
                }
                let n = &mut self.nodes[node.index()];
                n.stats = *stats;
                n.form = *form;
                n.info = info.clone();
                n.unknown.clone_from(unknown);
                Ok(*node)
            }
        }
    }

    fn check(&self, id: NodeId) -> Result<(), TreeError> {
        if id.index() < self.nodes.len() { Ok(()) } else { Err(TreeError::UnknownNode(id.0)) }
    }
}

fn finite(what: &'static str, value: f64) -> Result<(), TreeError> {
    if value.is_finite() { Ok(()) } else { Err(TreeError::NotFinite { what, value }) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root_step(q: &str) -> Step {
        Step { extra_info: format!("question: {q}"), ..Step::default() }
    }

    fn child(parent: u32, index: u32, prior: f64) -> TreeEvent {
        TreeEvent::Child {
            parent: NodeId(parent),
            index,
            step: Step { text: format!("step {parent}.{index}"), ..Step::default() },
            prior,
            keys: StatKeys::MCTS,
        }
    }

    #[test]
    fn backup_matches_the_reference_arithmetic() {
        // The order of backups in the golden MCTS test tree: the root's own estimate, then the
        // value head on its terminal children 0.2 and 0.4, then node 0.3 expanded with its
        // terminal children 0.3.0, 0.3.1, 0.3.2 and 0.3.4 scored.
        let mut t = Tree::new();
        t.apply(&TreeEvent::Root { step: root_step("q"), keys: StatKeys::MCTS }).unwrap();
        for i in 0..5 {
            t.apply(&child(0, i, 0.5)).unwrap();
        }
        t.apply(&TreeEvent::Backup { node: NodeId::ROOT, value: 0.12 }).unwrap();
        t.apply(&TreeEvent::Backup { node: NodeId(3), value: -0.8 }).unwrap();
        t.apply(&TreeEvent::Backup { node: NodeId(5), value: 0.9 }).unwrap();
        for i in 0..5 {
            t.apply(&child(4, i, 0.5)).unwrap();
        }
        t.apply(&TreeEvent::Backup { node: NodeId(4), value: 0.55 }).unwrap();
        for (id, v) in [(6, 0.9), (7, -0.8), (8, 0.9), (10, 0.9)] {
            t.apply(&TreeEvent::Backup { node: NodeId(id), value: v }).unwrap();
        }
        let root = t.node(NodeId::ROOT).stats();
        assert_eq!(root.visit_count, 8);
        assert_eq!(root.value, Some(0.12));
        assert_eq!(root.q_value, 0.33375, "golden root q_value");
        let n03 = t.node(NodeId(4));
        assert_eq!(n03.tag(), "0.3");
        assert_eq!(n03.stats().visit_count, 5);
        assert_eq!(n03.stats().q_value, 0.49000000000000005, "golden q_value of 0.3");
        assert_eq!(n03.stats().value, Some(0.55), "the first backed-up value becomes the node's value");
        assert_eq!(n03.depth(), 1);
        assert_eq!(t.node(NodeId(6)).tag(), "0.3.0");
        assert_eq!(t.node(NodeId(6)).depth(), 2);
        assert_eq!(t.node(NodeId(9)).stats().value, None, "0.3.3 was never evaluated");
    }

    #[test]
    fn bad_events_leave_the_tree_unchanged() {
        let mut t = Tree::new();
        assert_eq!(t.apply(&child(0, 0, 1.0)), Err(TreeError::NoRoot));
        t.apply(&TreeEvent::Root { step: root_step("q"), keys: StatKeys::MCTS }).unwrap();
        assert_eq!(
            t.apply(&TreeEvent::Root { step: root_step("q"), keys: StatKeys::MCTS }),
            Err(TreeError::RootExists)
        );
        t.apply(&child(0, 0, 1.0)).unwrap();
        let before = t.clone();
        assert!(matches!(t.apply(&child(0, 0, 1.0)), Err(TreeError::DuplicateChild { .. })));
        assert!(matches!(t.apply(&child(7, 0, 1.0)), Err(TreeError::UnknownNode(7))));
        assert!(matches!(
            t.apply(&TreeEvent::Backup { node: NodeId(1), value: f64::NAN }),
            Err(TreeError::NotFinite { .. })
        ));
        assert!(matches!(t.apply(&child(0, 1, f64::INFINITY)), Err(TreeError::NotFinite { .. })));
        assert_eq!(t, before);
    }
}
