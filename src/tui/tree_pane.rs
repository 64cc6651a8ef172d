//! A tree being looked at: the tree itself (a mirror built by `Tree::apply`, or a loaded
//! record) and the view state over it: collapsed nodes, selection, scroll, marks, and which
//! detail pane shows beside it. The live search and the saved-tree browser share it.

use std::cell::Cell;
use std::collections::HashSet;

use crate::problems::GroundTruth;
use crate::tree::{NodeId, SortKey, Tree, puct_score};

/// What the right-hand pane shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pane {
    Inspector,
    Siblings,
    Compare,
}

/// How the tree ranks its nodes: decides the best path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ranking {
    /// MCTS: Q-values and visit counts.
    Mcts,
    /// Beam search: node values.
    Beam,
    /// Chains: the newest node.
    Chain,
}

pub struct TreePane {
    pub tree: Tree,
    pub ground_truth: GroundTruth,
    /// The exploration constant for the PUCT breakdown and the selected path.
    pub c_puct: f64,
    pub ranking: Ranking,
    collapsed: HashSet<NodeId>,
    pub selected: NodeId,
    /// First visible row; kept in step with the selection when rendering.
    pub offset: Cell<usize>,
    /// Rows the tree area had at the last render, for page moves.
    pub viewport: Cell<usize>,
    pub marks: [Option<NodeId>; 2],
    pub pane: Pane,
    /// The inspector fills the screen.
    pub zoom: bool,
    pub detail_scroll: u16,
    /// The end of the best path, when known from outside (the chosen answer).
    pub best_override: Option<NodeId>,
}

impl TreePane {
    pub fn new(tree: Tree, ground_truth: GroundTruth, c_puct: f64, ranking: Ranking) -> TreePane {
        TreePane {
            tree,
            ground_truth,
            c_puct,
            ranking,
            collapsed: HashSet::new(),
            selected: NodeId::ROOT,
            offset: Cell::new(0),
            viewport: Cell::new(20),
            marks: [None, None],
            pane: Pane::Inspector,
            zoom: false,
            detail_scroll: 0,
            best_override: None,
        }
    }

    /// The visible nodes in display order: depth first, children in creation order, nothing
    /// below a collapsed node.
    pub fn rows(&self) -> Vec<NodeId> {
        let mut rows = Vec::with_capacity(self.tree.len());
        if self.tree.is_empty() {
            return rows;
        }
        let mut stack = vec![NodeId::ROOT];
        while let Some(id) = stack.pop() {
            rows.push(id);
            if !self.collapsed.contains(&id) {
                stack.extend(self.tree.node(id).children().iter().rev());
            }
        }
        rows
    }

    pub fn is_collapsed(&self, id: NodeId) -> bool {
        self.collapsed.contains(&id)
    }

    fn selected_row(&self, rows: &[NodeId]) -> usize {
        rows.iter().position(|r| *r == self.selected).unwrap_or(0)
    }

    /// Moves the selection by `delta` rows.
    pub fn move_by(&mut self, delta: isize) {
        let rows = self.rows();
        if rows.is_empty() {
            return;
        }
        let at = self.selected_row(&rows) as isize;
        let to = (at + delta).clamp(0, rows.len() as isize - 1) as usize;
        self.select(rows[to]);
    }

    pub fn page(&mut self, down: bool) {
        let step = self.viewport.get().max(2) as isize - 1;
        self.move_by(if down { step } else { -step });
    }

    pub fn first(&mut self) {
        self.select(NodeId::ROOT);
    }

    pub fn last(&mut self) {
        if let Some(last) = self.rows().last() {
            self.select(*last);
        }
    }

    /// Selects `id`, expanding its ancestors so it is visible.
    pub fn select(&mut self, id: NodeId) {
        if self.tree.get(id).is_none() {
            return;
        }
        for a in self.tree.path(id) {
            if a != id {
                self.collapsed.remove(&a);
            }
        }
        if self.selected != id {
            self.detail_scroll = 0;
        }
        self.selected = id;
    }

    /// Collapses an open node with children; otherwise goes to the parent.
    pub fn left(&mut self) {
        let Some(node) = self.tree.get(self.selected) else { return };
        if !node.is_leaf() && !self.collapsed.contains(&self.selected) {
            self.collapsed.insert(self.selected);
        } else if let Some(p) = node.parent() {
            self.select(p);
        }
    }

    /// Expands a collapsed node; otherwise goes to the first child.
    pub fn right(&mut self) {
        let Some(node) = self.tree.get(self.selected) else { return };
        if self.collapsed.remove(&self.selected) {
            return;
        }
        if let Some(first) = node.children().first() {
            self.select(*first);
        }
    }

    pub fn toggle_collapse(&mut self) {
        let Some(node) = self.tree.get(self.selected) else { return };
        if node.is_leaf() {
            return;
        }
        if !self.collapsed.remove(&self.selected) {
            self.collapsed.insert(self.selected);
        }
    }

    /// Marks the selection: the first mark, then the second, then starts over.
    pub fn mark(&mut self) {
        let id = self.selected;
        match self.marks {
            [Some(a), None] if a != id => self.marks[1] = Some(id),
            [Some(a), Some(b)] if a == id || b == id => self.marks = [None, None],
            _ => self.marks = [Some(id), None],
        }
    }

    /// The node PUCT would descend to next: from the root, the best non-terminal child by
    /// PUCT (first on ties) until a leaf. Empty for trees without visit counts.
    pub fn puct_path(&self) -> Vec<NodeId> {
        if self.ranking != Ranking::Mcts || self.tree.is_empty() {
            return Vec::new();
        }
        let mut path = vec![NodeId::ROOT];
        let mut id = NodeId::ROOT;
        loop {
            let node = self.tree.node(id);
            if node.terminal().is_some() {
                break;
            }
            let parent_visits = node.stats().visit_count;
            let mut best: Option<(f64, NodeId)> = None;
            for &child in node.children() {
                let c = self.tree.node(child);
                if c.terminal().is_some() {
                    continue;
                }
                let s = c.stats();
                let score = puct_score(s.q_value, s.visit_count, s.prior, parent_visits, self.c_puct);
                if best.is_none_or(|(b, _)| score > b) {
                    best = Some((score, child));
                }
            }
            match best {
                Some((_, child)) => {
                    path.push(child);
                    id = child;
                }
                None => break,
            }
        }
        path
    }

    /// The best path: to the chosen answer when known, else down the best child by the
    /// tree's ranking (Q for MCTS, value for beam search, the newest child for chains).
    pub fn best_path(&self) -> Vec<NodeId> {
        if self.tree.is_empty() {
            return Vec::new();
        }
        if let Some(end) = self.best_override.filter(|e| self.tree.get(*e).is_some()) {
            return self.tree.path(end);
        }
        let mut path = vec![NodeId::ROOT];
        let mut id = NodeId::ROOT;
        loop {
            let node = self.tree.node(id);
            let next = match self.ranking {
                Ranking::Mcts => {
                    let visited: Vec<NodeId> = node
                        .children()
                        .iter()
                        .copied()
                        .filter(|c| self.tree.node(*c).stats().visit_count > 0)
                        .collect();
                    best_by(&self.tree, &visited, SortKey::QValue)
                }
                Ranking::Beam => best_by(&self.tree, node.children(), SortKey::Value),
                Ranking::Chain => node.children().last().copied(),
            };
            match next {
                Some(n) => {
                    path.push(n);
                    id = n;
                }
                None => break,
            }
        }
        path
    }

    /// PUCT parts for each child of `id`: (child, Q term, exploration term).
    pub fn puct_breakdown(&self, id: NodeId) -> Vec<(NodeId, f64, f64)> {
        let node = self.tree.node(id);
        let parent_visits = node.stats().visit_count;
        node.children()
            .iter()
            .map(|&c| {
                let s = self.tree.node(c).stats();
                let total = puct_score(s.q_value, s.visit_count, s.prior, parent_visits, self.c_puct);
                let q = if s.visit_count > 0 { s.q_value } else { 0.0 };
                (c, q, total - q)
            })
            .collect()
    }

    /// Generated tokens over the tree.
    pub fn tokens(&self) -> u64 {
        self.tree
            .ids()
            .filter_map(|id| self.tree.node(id).info().generation.as_ref())
            .map(|g| u64::from(g.tokens))
            .sum()
    }
}

/// The first highest-scoring of `ids` (the reference's stable descending sort).
fn best_by(tree: &Tree, ids: &[NodeId], key: SortKey) -> Option<NodeId> {
    let mut best: Option<(f64, NodeId)> = None;
    for &id in ids {
        let s = key.score(tree, id);
        if best.is_none_or(|(b, _)| s > b) {
            best = Some((s, id));
        }
    }
    best.map(|(_, id)| id)
}

/// The tree-drawing prefix of `id`: `│  ` for each ancestor level that continues, then
/// `├─ ` or `└─ `. Empty for the root.
pub fn guides(tree: &Tree, id: NodeId) -> String {
    let path = tree.path(id);
    let mut out = String::new();
    // Levels below the root: for each ancestor (excluding the root), whether it is a last child.
    for (i, &n) in path.iter().enumerate().skip(1) {
        let is_last = tree
            .node(n)
            .parent()
            .and_then(|p| tree.node(p).children().last().copied())
            .is_none_or(|last| last == n);
        let is_self = i == path.len() - 1;
        out.push_str(match (is_self, is_last) {
            (true, true) => "└─",
            (true, false) => "├─",
            (false, true) => "  ",
            (false, false) => "│ ",
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{StatKeys, Step, TreeEvent};

    /// 0 ── 0.0 ── 0.0.0
    ///  │     └─── 0.0.1
    ///  └── 0.1
    fn pane() -> TreePane {
        let mut t = Tree::new();
        t.apply(&TreeEvent::Root { step: Step::default(), keys: StatKeys::MCTS }).unwrap();
        for (parent, index, prior) in [(0, 0, 0.9), (0, 1, 0.5), (1, 0, 0.7), (1, 1, 0.2)] {
            t.apply(&TreeEvent::Child {
                parent: NodeId(parent),
                index,
                step: Step { text: format!("s{parent}.{index}"), ..Step::default() },
                prior,
                keys: StatKeys::MCTS,
            })
            .unwrap();
        }
        t.apply(&TreeEvent::Backup { node: NodeId(2), value: 0.8 }).unwrap();
        t.apply(&TreeEvent::Backup { node: NodeId(3), value: -0.5 }).unwrap();
        TreePane::new(t, GroundTruth::Unknown, 1.25, Ranking::Mcts)
    }

    #[test]
    fn rows_follow_depth_first_order_and_collapse() {
        let mut p = pane();
        assert_eq!(p.rows(), vec![NodeId(0), NodeId(1), NodeId(3), NodeId(4), NodeId(2)]);
        p.move_by(1);
        assert_eq!(p.selected, NodeId(1));
        p.left();
        assert_eq!(p.rows(), vec![NodeId(0), NodeId(1), NodeId(2)], "0.0 collapsed");
        p.move_by(1);
        assert_eq!(p.selected, NodeId(2), "moving skips the collapsed subtree");
        p.select(NodeId(4));
        assert!(!p.is_collapsed(NodeId(1)), "selecting a hidden node opens its ancestors");
        p.left();
        assert_eq!(p.selected, NodeId(1), "left on a leaf goes to the parent");
        p.right();
        assert_eq!(p.selected, NodeId(3), "right on an open node goes to its first child");
        p.last();
        assert_eq!(p.selected, NodeId(2));
        p.move_by(10);
        assert_eq!(p.selected, NodeId(2), "moves stop at the ends");
    }

    #[test]
    fn marks_cycle_and_paths_rank() {
        let mut p = pane();
        p.select(NodeId(3));
        p.mark();
        p.select(NodeId(2));
        p.mark();
        assert_eq!(p.marks, [Some(NodeId(3)), Some(NodeId(2))]);
        p.mark();
        assert_eq!(p.marks, [None, None], "marking a marked node clears the marks");
        assert_eq!(p.best_path(), vec![NodeId(0), NodeId(2)], "0.1 has the higher Q");
        // Root N=2; 0.0 Q=-0.5 N=1 P=0.9: -0.5 + 1.25*0.9*√2/2 = 0.295; 0.1 Q=0.8 N=1 P=0.5:
        // 0.8 + 0.442 = 1.242.
        assert_eq!(p.puct_path(), vec![NodeId(0), NodeId(2)]);
        let parts = p.puct_breakdown(NodeId::ROOT);
        assert_eq!(parts.len(), 2);
        assert!(
            (parts[0].1 + 0.5).abs() < 1e-12 && (parts[0].2 - 1.25 * 0.9 * 2f64.sqrt() / 2.0).abs() < 1e-12
        );
        assert_eq!(guides(&p.tree, NodeId(3)), "│ ├─");
        assert_eq!(guides(&p.tree, NodeId(4)), "│ └─");
        assert_eq!(guides(&p.tree, NodeId(2)), "└─");
    }
}
