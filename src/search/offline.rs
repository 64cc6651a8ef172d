//! Choosing an answer from a finished tree: the reference's `offline_inference.get_solution`
//! (its §9), step for step, so that every (tree, strategy, prune) gives the same tag.
//!
//! The reference rebuilds the tree from the file with at most `b1 * b2` children per node
//! (indices `0..b1*b2`; missing ones skipped), optionally prunes branches without a valid final
//! answer, then descends level by level keeping the best `b1` candidates by the strategy,
//! collecting final answers and shrinking the beam for every answer or dead end.

use std::fmt;
use std::str::FromStr;

use crate::tree::{NodeId, Tree, VALUE_SENTINEL};

/// The reference hard-codes this constant for the `puct` strategy (`config.c_puct` is ignored).
pub const OFFLINE_C_PUCT: f64 = 1.25;

/// The ranking used to pick candidates and the final answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    Value,
    QValue,
    VisitCount,
    Puct,
}

impl Strategy {
    pub const ALL: [Strategy; 4] = [Strategy::QValue, Strategy::Value, Strategy::VisitCount, Strategy::Puct];

    pub fn name(self) -> &'static str {
        match self {
            Strategy::Value => "value",
            Strategy::QValue => "q_value",
            Strategy::VisitCount => "visit_count",
            Strategy::Puct => "puct",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Strategy::ALL
            .into_iter()
            .find(|st| st.name() == s)
            .ok_or_else(|| format!("unknown strategy '{s}' (expected value, q_value, visit_count or puct)"))
    }
}

/// Parameters of one re-selection.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OfflineConfig {
    pub strategy: Strategy,
    pub prune: bool,
    /// Beam width (`step_beam_width`).
    pub b1: usize,
    /// Samples per expansion (`n_generate_sample`).
    pub b2: usize,
    pub c_puct: f64,
}

impl OfflineConfig {
    /// The reference's `offline_inference.yaml`: q_value, prune, B1 = 1, B2 = 5.
    pub fn reference(strategy: Strategy, prune: bool) -> OfflineConfig {
        OfflineConfig { strategy, prune, b1: 1, b2: 5, c_puct: OFFLINE_C_PUCT }
    }
}

/// The chosen final-answer node.
#[derive(Clone, Debug, PartialEq)]
pub struct Selection {
    pub node: NodeId,
    pub tag: String,
    pub final_answer: String,
}

/// How a node looks to the reference's `InferNode`: fields it reads from the file, with its
/// defaults for absent keys (value 0, q_value 0, prior 1.0, visit_count 0).
#[derive(Clone, Copy)]
struct InferStats {
    value: f64,
    q_value: f64,
    prior: f64,
    visits: u32,
}

fn infer_stats(tree: &Tree, id: NodeId) -> InferStats {
    let node = tree.node(id);
    let keys = node.form().keys;
    let s = node.stats();
    InferStats {
        value: if keys.value { s.value.unwrap_or(VALUE_SENTINEL) } else { 0.0 },
        q_value: if keys.q_value { s.q_value } else { 0.0 },
        prior: if keys.prior { s.prior } else { 1.0 },
        visits: if keys.visit_count { s.visit_count } else { 0 },
    }
}

/// The rebuilt tree as the reference sees it.
struct View {
    /// Children kept by the rebuild (index < b1*b2), in index order.
    children: Vec<Vec<NodeId>>,
    parent: Vec<Option<NodeId>>,
    pruned: Vec<bool>,
    depth: usize,
}

impl View {
    fn build(tree: &Tree, max_children: usize) -> View {
        let n = tree.len();
        let mut view =
            View { children: vec![Vec::new(); n], parent: vec![None; n], pruned: vec![false; n], depth: 0 };
        let mut queue = std::collections::VecDeque::from([(NodeId::ROOT, 0usize)]);
        while let Some((id, depth)) = queue.pop_front() {
            let mut kids: Vec<NodeId> = tree
                .node(id)
                .children()
                .iter()
                .copied()
                .filter(|c| (tree.node(*c).index() as usize) < max_children)
                .collect();
            kids.sort_by_key(|c| tree.node(*c).index());
            for &c in &kids {
                view.parent[c.index()] = Some(id);
                view.depth = view.depth.max(depth + 1);
                queue.push_back((c, depth + 1));
            }
            view.children[id.index()] = kids;
        }
        view
    }

    /// The reference's `is_valid_final_answer_node`, on the rebuilt children.
    fn is_valid_final_answer(&self, tree: &Tree, id: NodeId) -> bool {
        let answer = &tree.node(id).step().final_answer;
        self.children[id.index()].is_empty() && !answer.is_empty() && !crate::tree::is_failure_answer(answer)
    }

    fn prune(&mut self, tree: &Tree, id: NodeId) -> bool {
        let pruned = if self.children[id.index()].is_empty() {
            !self.is_valid_final_answer(tree, id)
        } else {
            let kids = self.children[id.index()].clone();
            // Every child is visited (no short-circuit), as the reference's list comprehension.
            let results: Vec<bool> = kids.iter().map(|c| self.prune(tree, *c)).collect();
            results.iter().all(|p| *p)
        };
        self.pruned[id.index()] = pruned;
        pruned
    }

    fn score(&self, tree: &Tree, id: NodeId, config: &OfflineConfig) -> f64 {
        let s = infer_stats(tree, id);
        match config.strategy {
            Strategy::Value => s.value,
            Strategy::QValue => s.q_value,
            Strategy::VisitCount => f64::from(s.visits),
            Strategy::Puct => {
                let parent_visits = self.parent[id.index()].map_or(0, |p| infer_stats(tree, p).visits);
                crate::tree::puct_score(s.q_value, s.visits, s.prior, parent_visits, config.c_puct)
            }
        }
    }

    /// Python's `sorted(..., reverse=True)`: descending and stable.
    fn sort(&self, tree: &Tree, ids: &mut [NodeId], config: &OfflineConfig) {
        let scores: Vec<(NodeId, f64)> = ids.iter().map(|id| (*id, self.score(tree, *id, config))).collect();
        let mut scored = scores;
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        for (slot, (id, _)) in ids.iter_mut().zip(scored) {
            *slot = id;
        }
    }
}

/// Re-selects an answer from `tree` as the reference does. `None` when the tree has no valid
/// final answer reachable under the rules (the reference returns `None`, counted wrong).
pub fn select(tree: &Tree, config: &OfflineConfig) -> Option<Selection> {
    if tree.is_empty() {
        return None;
    }
    let mut view = View::build(tree, config.b1.saturating_mul(config.b2));
    if config.prune && view.prune(tree, NodeId::ROOT) {
        return None;
    }
    let mut answers: Vec<NodeId> = Vec::new();
    let mut top = config.b1 as isize;
    let mut current = vec![NodeId::ROOT];
    for _ in 0..view.depth {
        let mut candidates: Vec<NodeId> = current
            .iter()
            .flat_map(|id| view.children[id.index()].iter().copied())
            .filter(|c| !view.pruned[c.index()])
            .collect();
        view.sort(tree, &mut candidates, config);
        // `candidate_nodes[:current_top_num]` with Python's slice semantics for a negative end.
        let keep = python_slice_end(candidates.len(), top);
        candidates.truncate(keep);
        let mut next = Vec::with_capacity(candidates.len());
        for id in candidates {
            if view.is_valid_final_answer(tree, id) {
                answers.push(id);
                top -= 1;
            } else if view.children[id.index()].is_empty() {
                top -= 1;
            } else {
                next.push(id);
            }
        }
        current = next;
    }
    view.sort(tree, &mut answers, config);
    let best = *answers.first()?;
    let node = tree.node(best);
    Some(Selection { node: best, tag: node.tag().to_owned(), final_answer: node.step().final_answer.clone() })
}

/// The end index of `list[:end]` in Python for a list of `len` items.
fn python_slice_end(len: usize, end: isize) -> usize {
    if end >= 0 { (end as usize).min(len) } else { len.saturating_sub(end.unsigned_abs()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_beam_slices_like_python() {
        assert_eq!(python_slice_end(5, 1), 1);
        assert_eq!(python_slice_end(5, 9), 5);
        assert_eq!(python_slice_end(5, 0), 0);
        assert_eq!(python_slice_end(5, -1), 4);
        assert_eq!(python_slice_end(2, -3), 0);
    }

    #[test]
    fn strategy_names_round_trip() {
        for s in Strategy::ALL {
            assert_eq!(s.name().parse::<Strategy>(), Ok(s));
        }
        assert!("best".parse::<Strategy>().is_err());
    }
}
