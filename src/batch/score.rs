//! Scoring tree files: which answer each tree gives, whether it is right, and the figures of
//! the AlphaMath README (accuracy, maj@k, average steps, average time).
//!
//! The answer of a tree follows the reference's evaluation scripts:
//! - beam-search trees (with `solutions`): `solutions[0]` (`eval_output_jsonl.py`); an empty
//!   list answers `""`;
//! - MCTS trees (with visit counts): offline re-selection by `q_value` with pruning, B1 = 1,
//!   B2 = 5 (`offline_inference.yaml`);
//! - greedy chains (no statistics): the final answer of the longest tag
//!   (`eval_output_jsonl.py --react`).
//!
//! The ground truth is read as problem files read it: a list accepts any element; a GSM8K
//! solution contributes its `#### n` (the reference would compare against the whole solution
//! text and count every GSM8K answer wrong).

use std::collections::HashMap;

use crate::grade;
use crate::problems::{self, GroundTruth};
use crate::search::offline::{self, OfflineConfig, Strategy};
use crate::store::TreeRecord;
use crate::tree::{NodeId, Tree};

/// What produced a tree, judged from its shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TreeKind {
    Beam,
    Mcts,
    Greedy,
}

impl TreeKind {
    pub fn of(record: &TreeRecord) -> TreeKind {
        if record.solutions.is_some() {
            TreeKind::Beam
        } else if record.tree.root().is_some_and(|r| r.form().keys.visit_count) {
            TreeKind::Mcts
        } else {
            TreeKind::Greedy
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TreeKind::Beam => "beam",
            TreeKind::Mcts => "mcts",
            TreeKind::Greedy => "greedy",
        }
    }
}

/// The answer a tree gives and where it sits.
#[derive(Clone, Debug, PartialEq)]
pub struct Chosen {
    pub answer: String,
    /// The answer's node, when the tree has it.
    pub node: Option<NodeId>,
    /// Steps on the answer's path (its depth).
    pub steps: Option<u32>,
}

/// The reference's choice of answer for `record` (see the module documentation). `None` when
/// the reference would find none (an MCTS tree pruned to nothing).
pub fn chosen_answer(record: &TreeRecord) -> Option<Chosen> {
    let tree = &record.tree;
    let at = |tag: &str| {
        let node = tree.find(tag);
        Chosen { answer: String::new(), node, steps: node.map(|n| tree.node(n).depth()) }
    };
    match TreeKind::of(record) {
        TreeKind::Beam => {
            let first = record.solutions.as_ref().and_then(|s| s.first());
            Some(match first {
                Some(sol) => Chosen { answer: sol.final_answer.clone(), ..at(&sol.tag) },
                None => Chosen { answer: String::new(), node: None, steps: None },
            })
        }
        TreeKind::Mcts => {
            let sel = offline::select(tree, &OfflineConfig::reference(Strategy::QValue, true))?;
            Some(Chosen { answer: sel.final_answer, ..at(&sel.tag) })
        }
        TreeKind::Greedy => {
            let last = longest_tag(tree)?;
            let node = tree.node(last);
            Some(Chosen {
                answer: node.step().final_answer.clone(),
                node: Some(last),
                steps: Some(node.depth()),
            })
        }
    }
}

/// The node with the longest tag, the first in breadth-first order among equals (Python's
/// stable `sorted(keys, key=len, reverse=True)[0]`).
fn longest_tag(tree: &Tree) -> Option<NodeId> {
    let mut best: Option<NodeId> = None;
    for id in tree.bfs() {
        if best.is_none_or(|b| tree.node(id).tag().len() > tree.node(b).tag().len()) {
            best = Some(id);
        }
    }
    best
}

/// Every answer a tree offers for voting: a beam tree's solutions in order, otherwise its
/// chosen answer.
pub fn candidate_answers(record: &TreeRecord) -> Vec<String> {
    match &record.solutions {
        Some(solutions) => solutions.iter().map(|s| s.final_answer.clone()).collect(),
        None => chosen_answer(record).map(|c| vec![c.answer]).unwrap_or_default(),
    }
}

/// The majority answer: answers are grouped by equivalence (each joins the first group whose
/// first answer it matches); the largest group wins, the earliest on ties.
pub fn majority(answers: &[String]) -> Option<&str> {
    let mut groups: Vec<(usize, usize)> = Vec::new(); // (first answer's index, size)
    for (i, a) in answers.iter().enumerate() {
        match groups.iter_mut().find(|(first, _)| grade::is_equiv(&answers[*first], a)) {
            Some(group) => group.1 += 1,
            None => groups.push((i, 1)),
        }
    }
    let mut best: Option<(usize, usize)> = None;
    for g in groups {
        if best.is_none_or(|b| g.1 > b.1) {
            best = Some(g);
        }
    }
    best.map(|(first, _)| answers[first].as_str())
}

/// One tree, scored.
#[derive(Clone, Debug, PartialEq)]
pub struct TreeScore {
    pub line: u64,
    pub question: String,
    pub kind: TreeKind,
    pub ground_truth: GroundTruth,
    pub chosen: Option<Chosen>,
    /// `None` without a ground truth.
    pub correct: Option<bool>,
    /// Some final answer anywhere in the tree is right (`None` without a ground truth): the
    /// most a better choice among the tree's answers could get.
    pub reachable: Option<bool>,
    pub candidates: Vec<String>,
    /// Wall-clock seconds of the search, when the file records it (`arbor.run.elapsed_s`).
    pub seconds: Option<f64>,
    /// Generated tokens, when the file records them.
    pub tokens: Option<u64>,
}

pub fn score_tree(line: u64, record: &TreeRecord) -> TreeScore {
    let ground_truth = problems::ground_truth_of(&record.fields).map(|g| g.0).unwrap_or(GroundTruth::Unknown);
    let chosen = chosen_answer(record);
    let correct = ground_truth
        .is_known()
        .then(|| chosen.as_ref().is_some_and(|c| grade::is_equiv_any(ground_truth.accepted(), &c.answer)));
    let tree = &record.tree;
    let reachable = ground_truth.is_known().then(|| {
        tree.ids().map(|id| tree.node(id)).any(|node| {
            node.is_valid_final_answer()
                && grade::is_equiv_any(ground_truth.accepted(), &node.step().final_answer)
        })
    });
    let token_counts: Vec<u64> = tree
        .ids()
        .filter_map(|id| tree.node(id).info().generation.as_ref().map(|g| u64::from(g.tokens)))
        .collect();
    TreeScore {
        line,
        question: record.question().to_owned(),
        kind: TreeKind::of(record),
        ground_truth,
        candidates: candidate_answers(record),
        chosen,
        correct,
        reachable,
        seconds: record.run.get("elapsed_s").and_then(serde_json::Value::as_f64),
        tokens: (!token_counts.is_empty()).then(|| token_counts.iter().sum()),
    }
}

/// Figures over a set of scored trees.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Summary {
    pub trees: usize,
    /// Trees with a ground truth.
    pub graded: usize,
    pub correct: usize,
    /// correct / graded.
    pub accuracy: Option<f64>,
    /// Graded trees with a right final answer somewhere in them, chosen or not.
    pub reachable: usize,
    /// Majority vote per question, over the answers of every tree for that question (several
    /// runs) or of a beam tree's solutions; present when some question has 2 or more answers.
    pub maj: Option<Majority>,
    /// Mean depth of the chosen answers.
    pub avg_steps: Option<f64>,
    pub avg_seconds: Option<f64>,
    pub avg_tokens: Option<f64>,
    /// Trees per kind, e.g. `{"mcts": 12}`.
    pub kinds: std::collections::BTreeMap<&'static str, usize>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Majority {
    /// Answers per question: the smallest and largest k seen.
    pub k_min: usize,
    pub k_max: usize,
    pub questions: usize,
    pub correct: usize,
    pub accuracy: f64,
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

pub fn summarize(scores: &[TreeScore]) -> Summary {
    let graded = scores.iter().filter(|s| s.correct.is_some()).count();
    let correct = scores.iter().filter(|s| s.correct == Some(true)).count();
    let mut kinds = std::collections::BTreeMap::new();
    for s in scores {
        *kinds.entry(s.kind.name()).or_insert(0) += 1;
    }

    // Majority vote per question.
    let mut by_question: HashMap<&str, (Vec<String>, &GroundTruth)> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    for s in scores {
        let entry = by_question.entry(s.question.as_str()).or_insert_with(|| {
            order.push(s.question.as_str());
            (Vec::new(), &s.ground_truth)
        });
        entry.0.extend(s.candidates.iter().cloned());
    }
    let ks: Vec<usize> = order.iter().map(|q| by_question[q].0.len()).collect();
    let maj = if ks.iter().any(|k| *k >= 2) {
        let graded_questions: Vec<&str> =
            order.iter().copied().filter(|q| by_question[q].1.is_known()).collect();
        let right = graded_questions
            .iter()
            .filter(|q| {
                let (answers, gold) = &by_question[*q];
                majority(answers).is_some_and(|a| grade::is_equiv_any(gold.accepted(), a))
            })
            .count();
        Some(Majority {
            k_min: ks.iter().copied().min().unwrap_or(0),
            k_max: ks.iter().copied().max().unwrap_or(0),
            questions: graded_questions.len(),
            correct: right,
            accuracy: if graded_questions.is_empty() {
                0.0
            } else {
                right as f64 / graded_questions.len() as f64
            },
        })
    } else {
        None
    };

    Summary {
        trees: scores.len(),
        graded,
        correct,
        accuracy: (graded > 0).then(|| correct as f64 / graded as f64),
        reachable: scores.iter().filter(|s| s.reachable == Some(true)).count(),
        maj,
        avg_steps: mean(scores.iter().filter_map(|s| s.chosen.as_ref()?.steps.map(f64::from))),
        avg_seconds: mean(scores.iter().filter_map(|s| s.seconds)),
        avg_tokens: mean(scores.iter().filter_map(|s| s.tokens.map(|t| t as f64))),
        kinds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majority_groups_equivalent_answers() {
        let answers: Vec<String> =
            ["1/2", "3", "0.5", "\\frac{1}{2}", "3"].iter().map(|s| s.to_string()).collect();
        assert_eq!(majority(&answers), Some("1/2"));
        let tie: Vec<String> = ["4", "5"].iter().map(|s| s.to_string()).collect();
        assert_eq!(majority(&tie), Some("4"), "the earliest group wins a tie");
        assert_eq!(majority(&[]), None);
    }
}
