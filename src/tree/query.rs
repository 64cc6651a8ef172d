//! Read-only questions about a tree: paths, orderings, sibling statistics.

use std::collections::VecDeque;

use super::{NodeId, Tree};

/// How to rank nodes. The four reference strategies of offline re-selection, plus the prior.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SortKey {
    /// The node's own value; the `-100` sentinel when unset.
    Value,
    QValue,
    VisitCount,
    /// PUCT with the given constant: Q (0 when unvisited) + c · P · √N(parent) / (1 + N).
    Puct {
        c_puct: f64,
    },
    Prior,
}

impl SortKey {
    /// The key's score for `id` in `tree`.
    pub fn score(self, tree: &Tree, id: NodeId) -> f64 {
        let node = tree.node(id);
        let s = node.stats();
        match self {
            SortKey::Value => s.value_or_sentinel(),
            SortKey::QValue => s.q_value,
            SortKey::VisitCount => f64::from(s.visit_count),
            SortKey::Prior => s.prior,
            SortKey::Puct { c_puct } => {
                let parent_visits = node.parent().map_or(0, |p| tree.node(p).stats().visit_count);
                puct_score(s.q_value, s.visit_count, s.prior, parent_visits, c_puct)
            }
        }
    }
}

/// The reference's PUCT, in its order of operations so ties break the same way.
pub fn puct_score(q_value: f64, visits: u32, prior: f64, parent_visits: u32, c_puct: f64) -> f64 {
    let q = if visits > 0 { q_value } else { 0.0 };
    let u = c_puct * prior * f64::from(parent_visits).sqrt() / (1.0 + f64::from(visits));
    q + u
}

/// Sorts `ids` by `key`, highest first; equal scores keep their order (Python's stable
/// `sorted(..., reverse=True)`).
pub fn sort_desc(tree: &Tree, ids: &mut [NodeId], key: SortKey) {
    ids.sort_by(|a, b| key.score(tree, *b).total_cmp(&key.score(tree, *a)));
}

/// Where a node stands among its siblings (itself included).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SiblingStats {
    pub count: usize,
    /// 0-based rank by Q (stable, highest first).
    pub rank_by_q: usize,
    pub value: Range,
    pub q_value: Range,
    pub visits: Range,
    pub prior: Range,
}

/// Minimum, maximum and mean of a statistic over a set of nodes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    /// How many nodes had the statistic (unset values are left out).
    pub count: usize,
}

impl Range {
    fn of(values: impl Iterator<Item = f64>) -> Range {
        let (mut min, mut max, mut sum, mut count) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0);
        for v in values {
            min = min.min(v);
            max = max.max(v);
            sum += v;
            count += 1;
        }
        if count == 0 {
            Range { min: 0.0, max: 0.0, mean: 0.0, count }
        } else {
            Range { min, max, mean: sum / count as f64, count }
        }
    }
}

/// Counts over a whole tree.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub nodes: usize,
    pub max_depth: u32,
    pub leaves: usize,
    pub code_steps: usize,
    pub valid_answers: usize,
    pub failures: usize,
}

impl Tree {
    /// Ids from the root down to `id`, both included.
    pub fn path(&self, id: NodeId) -> Vec<NodeId> {
        let mut path = vec![id];
        let mut cursor = self.node(id).parent();
        while let Some(p) = cursor {
            path.push(p);
            cursor = self.node(p).parent();
        }
        path.reverse();
        path
    }

    /// The reference's `collect_partial_solution`: the non-empty texts on the path from the
    /// root to `id`, joined with `step_delim`.
    pub fn path_text(&self, id: NodeId, step_delim: &str) -> String {
        let texts: Vec<&str> = self
            .path(id)
            .into_iter()
            .map(|n| self.node(n).step().text.as_str())
            .filter(|t| !t.is_empty())
            .collect();
        texts.join(step_delim)
    }

    /// The children of `id`, highest `key` first (stable).
    pub fn sorted_children(&self, id: NodeId, key: SortKey) -> Vec<NodeId> {
        let mut children = self.node(id).children().to_vec();
        sort_desc(self, &mut children, key);
        children
    }

    /// Statistics of `id` and its siblings. The root is its own only sibling.
    pub fn sibling_stats(&self, id: NodeId) -> SiblingStats {
        let siblings: Vec<NodeId> = match self.node(id).parent() {
            Some(p) => self.node(p).children().to_vec(),
            None => vec![id],
        };
        let by_q = {
            let mut s = siblings.clone();
            sort_desc(self, &mut s, SortKey::QValue);
            s
        };
        let stats = || siblings.iter().map(|s| self.node(*s).stats());
        SiblingStats {
            count: siblings.len(),
            rank_by_q: by_q.iter().position(|s| *s == id).unwrap_or(0),
            value: Range::of(stats().filter_map(|s| s.value)),
            q_value: Range::of(stats().map(|s| s.q_value)),
            visits: Range::of(stats().map(|s| f64::from(s.visit_count))),
            prior: Range::of(stats().map(|s| s.prior)),
        }
    }

    /// Node ids in breadth-first order, children by creation order: the reference's order of
    /// `react` keys.
    pub fn bfs(&self) -> Vec<NodeId> {
        let mut order = Vec::with_capacity(self.len());
        let mut queue: VecDeque<NodeId> = self.root().map(|_| NodeId::ROOT).into_iter().collect();
        while let Some(id) = queue.pop_front() {
            order.push(id);
            queue.extend(self.node(id).children());
        }
        order
    }

    /// The node with a dotted tag such as `"0.3.1"`.
    pub fn find(&self, tag: &str) -> Option<NodeId> {
        let mut parts = tag.split('.');
        if parts.next() != Some("0") || self.is_empty() {
            return None;
        }
        let mut id = NodeId::ROOT;
        for part in parts {
            let index: u32 = part.parse().ok()?;
            id = *self.node(id).children().iter().find(|c| self.node(**c).index() == index)?;
        }
        Some(id)
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary { nodes: self.len(), ..Summary::default() };
        for id in self.ids() {
            let n = self.node(id);
            s.max_depth = s.max_depth.max(n.depth());
            s.leaves += usize::from(n.is_leaf());
            s.code_steps += usize::from(n.is_code());
            s.valid_answers += usize::from(n.is_valid_final_answer());
            s.failures += usize::from(super::is_failure_answer(&n.step().final_answer));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::super::{StatKeys, Step, TreeEvent};
    use super::*;

    fn tree() -> Tree {
        let mut t = Tree::new();
        t.apply(&TreeEvent::Root { step: Step::default(), keys: StatKeys::MCTS }).unwrap();
        for (parent, index, text, prior) in
            [(0, 0, "a", 0.9), (0, 1, "b", 0.5), (1, 0, "c", 0.7), (0, 2, "", 0.5)]
        {
            let step = Step { text: text.into(), ..Step::default() };
            t.apply(&TreeEvent::Child { parent: NodeId(parent), index, step, prior, keys: StatKeys::MCTS })
                .unwrap();
        }
        t.apply(&TreeEvent::Backup { node: NodeId(3), value: 0.5 }).unwrap();
        t.apply(&TreeEvent::Backup { node: NodeId(2), value: -0.5 }).unwrap();
        t
    }

    #[test]
    fn paths_and_tags() {
        let t = tree();
        assert_eq!(t.path(NodeId(3)), vec![NodeId(0), NodeId(1), NodeId(3)]);
        assert_eq!(t.path_text(NodeId(3), "\n"), "a\nc");
        assert_eq!(t.find("0.0.0"), Some(NodeId(3)));
        assert_eq!(t.find("0.2"), Some(NodeId(4)));
        assert_eq!(t.find("0.3"), None);
        assert_eq!(t.find("1"), None);
        assert_eq!(t.bfs(), vec![NodeId(0), NodeId(1), NodeId(2), NodeId(4), NodeId(3)]);
    }

    #[test]
    fn sorting_is_stable_and_descending() {
        let t = tree();
        // 0.1 and 0.2 share prior 0.5: stable order keeps 0.1 first.
        assert_eq!(t.sorted_children(NodeId::ROOT, SortKey::Prior), vec![NodeId(1), NodeId(2), NodeId(4)]);
        assert_eq!(t.sorted_children(NodeId::ROOT, SortKey::QValue), vec![NodeId(1), NodeId(4), NodeId(2)]);
        // Unvisited nodes rank by exploration: 0.2 (N=0) beats 0.1 (N=1, Q=-0.5).
        let puct = t.sorted_children(NodeId::ROOT, SortKey::Puct { c_puct: 1.25 });
        assert_eq!(puct[0], NodeId(1));
        let s = t.sibling_stats(NodeId(2));
        assert_eq!(s.count, 3);
        assert_eq!(s.rank_by_q, 2);
        assert_eq!(s.value.count, 2, "unset values are left out");
        assert_eq!(s.visits.max, 1.0);
    }
}
