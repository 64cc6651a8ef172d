//! Training examples from search trees: AlphaMath's rounds after the first (reference §10.2–10.4).
//!
//! A tree collected with ground-truth rewards (`arbor collect`, the reference's `is_sampling`)
//! gives root-to-leaf paths that end in a graded answer or a failure. Per question, at most
//! `max_correct` right and `max_incorrect` wrong paths are drawn (the maintainers' 4 and 4).
//! Every step's value target is its node's Q; the last step's is the outcome, exactly ±1.
//! The policy learns from right paths only. The prompt carries no value target, as in the
//! reference's tokenization.
//!
//! Paths whose step texts are identical (MCTS often samples the same step twice) count once, so
//! the draw is over distinct solutions.

use std::collections::HashSet;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::data::{Example, PathStep};
use crate::grade;
use crate::tree::{NodeId, Tree};

/// Which paths of one question are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathLimits {
    pub max_correct: usize,
    pub max_incorrect: usize,
    /// Value targets only from trees with right and wrong paths; the right paths of the
    /// others still train the policy (as `train value --value-targets mixed`).
    pub mixed_only: bool,
}

impl Default for PathLimits {
    fn default() -> Self {
        PathLimits { max_correct: 4, max_incorrect: 4, mixed_only: false }
    }
}

/// What one tree gave.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TreeYield {
    /// Distinct terminal paths found, right and wrong.
    pub correct: usize,
    pub incorrect: usize,
    /// Examples kept (at most the limits).
    pub kept: usize,
}

/// The examples of one tree: its distinct terminal paths, drawn down to `limits` (seeded).
/// `accepted` are the question's ground-truth answers; a leaf is right when arbor recorded it
/// so, or else when its final answer grades equal to one of them. Failure leaves (too many
/// code errors, depth limit) are wrong.
pub fn examples(
    tree: &Tree,
    question: &str,
    accepted: &[String],
    limits: PathLimits,
    seed: u64,
) -> (Vec<Example>, TreeYield) {
    let mut seen = HashSet::new();
    let mut right = Vec::new();
    let mut wrong = Vec::new();
    for id in tree.ids() {
        let node = tree.node(id);
        if !node.is_leaf() || node.terminal().is_none() || node.parent().is_none() {
            continue;
        }
        let path: Vec<NodeId> = tree.path(id).into_iter().skip(1).collect();
        let texts: Vec<&str> = path.iter().map(|&n| tree.node(n).step().text.as_str()).collect();
        if !seen.insert(texts) {
            continue;
        }
        let correct = node.info().correct.unwrap_or_else(|| {
            node.is_valid_final_answer() && grade::is_equiv_any(accepted, &node.step().final_answer)
        });
        if correct { right.push(path) } else { wrong.push(path) }
    }
    let mut stats = TreeYield { correct: right.len(), incorrect: wrong.len(), kept: 0 };
    // A tree whose paths all agree teaches only how hard the problem is: under `mixed_only`
    // its wrong paths go and its right ones train the policy alone.
    let policy_only = limits.mixed_only && (right.is_empty() || wrong.is_empty());
    let mut rng = StdRng::seed_from_u64(seed);
    right.shuffle(&mut rng);
    wrong.shuffle(&mut rng);
    right.truncate(limits.max_correct);
    wrong.truncate(if policy_only { 0 } else { limits.max_incorrect });
    let right = right.iter().map(|path| example(tree, question, path, true, !policy_only));
    let wrong = wrong.iter().map(|path| example(tree, question, path, false, true));
    let out: Vec<Example> = right.chain(wrong).collect();
    stats.kept = out.len();
    (out, stats)
}

/// The example of one path; `valued` puts value targets on its steps.
fn example(tree: &Tree, question: &str, path: &[NodeId], correct: bool, valued: bool) -> Example {
    let outcome = if correct { 1.0 } else { -1.0 };
    let steps = path
        .iter()
        .enumerate()
        .map(|(i, &id)| {
            let node = tree.node(id);
            let (generated, observed) = split_step(&node.step().text);
            let value = if i + 1 == path.len() { outcome } else { node.stats().q_value as f32 };
            PathStep {
                generated: generated.to_owned(),
                observed: observed.to_owned(),
                value: valued.then_some(value),
            }
        })
        .collect();
    Example { question: question.to_owned(), steps, root_value: None, policy: correct }
}

/// A step text split into what the model wrote and what the interpreter added: a `react_sft`
/// code step ends its generated part at `</code>`, a `react` one before `Observation:`.
/// Anything else (final answers, thoughts) is all generated.
pub fn split_step(text: &str) -> (&str, &str) {
    let cut = if let Some(i) = text.rfind("</code>") {
        Some(i + "</code>".len())
    } else {
        text.rfind("\nObservation:")
    };
    match cut {
        Some(i) if text[i..].contains("<output>") || text[i..].contains("Observation:") => text.split_at(i),
        _ => (text, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_step_separates_the_interpreter_output() {
        let code = "<step>\n<p>\nx\n</p>\n<code>\n```python\nprint(2)\n```\n</code>\n<output>\n2\n</output>\n</step>";
        assert_eq!(
            split_step(code),
            (
                "<step>\n<p>\nx\n</p>\n<code>\n```python\nprint(2)\n```\n</code>",
                "\n<output>\n2\n</output>\n</step>"
            )
        );
        let answer = "<step>\n<p>\nFinal Answer: 2\n</p>\n</step>";
        assert_eq!(split_step(answer), (answer, ""));
        let react = "Thought: add\nAction: python_interpreter\nAction Input: print(2)\nObservation: 2";
        assert_eq!(
            split_step(react),
            ("Thought: add\nAction: python_interpreter\nAction Input: print(2)", "\nObservation: 2")
        );
    }

    /// A reference-format tree: root ─ a ─ {right answer, wrong answer, the same wrong answer
    /// again}, and (`with_failure`) root ─ b ─ depth-limit failure.
    fn tree(with_failure: bool) -> Tree {
        let node = |text: &str, answer: &str, q: f64, n: u32| {
            serde_json::json!({"text": text, "extra_info": "", "action": "", "action_input": "",
                "final_answer": answer, "value": q, "q_value": q, "prior": 0.2, "visit_count": n})
        };
        let mut react = serde_json::json!({
            "0": node("", "", 0.2, 5),
            "0.0": node("step a", "", 0.5, 3),
            "0.0.0": node("Final Answer: 7", "7", 1.0, 1),
            "0.0.1": node("Final Answer: 8", "8", -1.0, 1),
            "0.0.2": node("Final Answer: 8", "8", -1.0, 1),
        });
        if with_failure {
            react["0.1"] = node("step b", "", -0.6, 2);
            react["0.1.0"] = node("step c", "Fail to sove the problem within limited steps.", -1.0, 1);
        }
        let line = serde_json::json!({"question": "q", "answer": "7", "react": react});
        crate::store::TreeRecord::decode(line.to_string().as_bytes()).unwrap().record.tree
    }

    #[test]
    fn paths_carry_q_targets_end_in_the_outcome_and_train_the_policy_only_when_right() {
        let tree = tree(true);
        let (examples, stats) = super::examples(&tree, "q", &["7".to_owned()], PathLimits::default(), 1);
        assert_eq!(stats, TreeYield { correct: 1, incorrect: 2, kept: 3 });
        let right: Vec<_> = examples.iter().filter(|e| e.policy).collect();
        assert_eq!(right.len(), 1);
        let values: Vec<_> = right[0].steps.iter().map(|s| s.value).collect();
        assert_eq!(values, [Some(0.5), Some(1.0)]);
        assert!(examples.iter().all(|e| e.root_value.is_none() && e.question == "q"));
        let failure = examples.iter().find(|e| e.steps[0].generated == "step b").unwrap();
        assert!(!failure.policy);
        assert_eq!(failure.steps.iter().map(|s| s.value).collect::<Vec<_>>(), [Some(-0.6), Some(-1.0)]);
        // Limits draw among distinct paths, deterministically by seed.
        let limits = PathLimits { max_correct: 0, max_incorrect: 1, mixed_only: false };
        let (one, stats) = super::examples(&tree, "q", &["7".to_owned()], limits, 1);
        assert_eq!((one.len(), stats.kept), (1, 1));
        assert_eq!(one, super::examples(&tree, "q", &["7".to_owned()], limits, 1).0);
        // Mixed only: a tree with right and wrong paths keeps its targets; one whose paths all
        // agree keeps only its right paths, for the policy, without targets.
        let mixed = PathLimits { mixed_only: true, ..PathLimits::default() };
        assert_eq!(super::examples(&tree, "q", &["7".to_owned()], mixed, 1).0, examples);
        let (wrong_only, _) = super::examples(&tree, "q", &["9".to_owned()], mixed, 1);
        assert!(wrong_only.is_empty());
        let accepted = ["7".to_owned(), "8".to_owned()];
        let (right_only, stats) = super::examples(&self::tree(false), "q", &accepted, mixed, 1);
        assert_eq!((stats.correct, stats.kept), (2, 2));
        assert!(right_only.iter().all(|e| e.policy && e.steps.iter().all(|s| s.value.is_none())));
    }
}
