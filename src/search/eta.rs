//! AlphaLLM's η-MCTS tree-shape options: importance-based adaptive branching and state merge.
//! (Option-level steps are in [`super::option`], the critics in [`super::critic`].)

use super::config::SearchConfig;
use crate::tree::{NodeId, Tree};

/// Importance I(s) = max over children o of |v(s, o) − v(s)|: how much the best-known move out
/// of `node` changes its value. v(s, o) is the child's value (its evaluation, or its reward),
/// v(s) the node's; children not yet evaluated do not count. 0 when nothing is known.
pub fn importance(tree: &Tree, node: NodeId) -> f64 {
    let n = tree.node(node);
    let Some(v) = n.stats().value else { return 0.0 };
    n.children()
        .iter()
        .filter_map(|&c| tree.node(c).stats().value)
        .map(|vc| (vc - v).abs())
        .fold(0.0, f64::max)
}

/// The children a node at `depth` with importance `importance` may have:
/// n(s) = max(c_min(t), min(⌊α·I(s)⌋ + 1, c_max(t))).
pub fn allowed_children(config: &SearchConfig, depth: u32, importance: f64) -> usize {
    let (c_min, c_max) = if depth == 0 {
        (config.eta_c_min_root, config.eta_c_max_root)
    } else {
        (config.eta_c_min, config.eta_c_max)
    };
    let scaled = (config.eta_alpha * importance).floor();
    // Saturating: a huge α·I is simply "as many as c_max allows".
    let wanted = if scaled >= c_max as f64 { c_max } else { scaled as usize + 1 };
    c_min.max(wanted.min(c_max))
}

/// Where a sample goes under state merge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// It makes a new child.
    New,
    /// It joins an existing child of the node.
    Existing(NodeId),
    /// It joins the new child made by an earlier sample of the same batch (by sample index).
    Earlier(usize),
}

/// Places each sample: it joins the nearest sibling (existing children first, then the new
/// children of earlier samples; ties go to the first) whose text is fewer than `threshold`
/// character edits away, else it makes a child. Texts are compared trimmed.
pub fn place_samples(existing: &[(NodeId, &str)], samples: &[&str], threshold: usize) -> Vec<Placement> {
    let mut placements = Vec::with_capacity(samples.len());
    for (i, sample) in samples.iter().enumerate() {
        let sample = sample.trim();
        let earlier = samples[..i]
            .iter()
            .enumerate()
            .filter(|(j, _)| placements[*j] == Placement::New)
            .map(|(j, text)| (Placement::Earlier(j), *text));
        let candidates = existing.iter().map(|(id, text)| (Placement::Existing(*id), *text)).chain(earlier);
        let mut best: Option<(usize, Placement)> = None;
        for (placement, text) in candidates {
            let d = strsim::levenshtein(sample, text.trim());
            if d < threshold && best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, placement));
            }
        }
        placements.push(best.map_or(Placement::New, |(_, p)| p));
    }
    placements
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(alpha: f64) -> SearchConfig {
        SearchConfig {
            eta_alpha: alpha,
            eta_c_min_root: 4,
            eta_c_max_root: 8,
            eta_c_min: 2,
            eta_c_max: 3,
            ..SearchConfig::default()
        }
    }

    #[test]
    fn allowed_children_is_clamped_by_depth() {
        let c = config(5.0);
        assert_eq!(allowed_children(&c, 0, 0.0), 4, "c_min(0)");
        assert_eq!(allowed_children(&c, 0, 1.0), 6, "⌊5·1⌋ + 1");
        assert_eq!(allowed_children(&c, 0, 2.0), 8, "c_max(0)");
        assert_eq!(allowed_children(&c, 3, 0.1), 2, "c_min(t)");
        assert_eq!(allowed_children(&c, 3, 0.3), 2, "⌊1.5⌋ + 1");
        assert_eq!(allowed_children(&c, 3, 0.4), 3, "⌊2⌋ + 1");
        assert_eq!(allowed_children(&c, 3, 2.0), 3, "c_max(t)");
        assert_eq!(allowed_children(&config(f64::MAX), 1, 2.0), 3);
    }

    #[test]
    fn samples_join_their_nearest_sibling_under_the_threshold() {
        let existing = [(NodeId(1), "x = 6 * 7"), (NodeId(2), "y = 13")];
        let samples = ["x = 6 * 7 ", "x = 6*7", "something else entirely", "something else entirely!"];
        let p = place_samples(&existing, &samples, 3);
        assert_eq!(
            p,
            vec![
                Placement::Existing(NodeId(1)),
                Placement::Existing(NodeId(1)),
                Placement::New,
                Placement::Earlier(2)
            ]
        );
        assert!(place_samples(&existing, &samples, 0).iter().all(|p| *p == Placement::New));
    }
}
