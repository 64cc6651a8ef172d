//! `arbor inspect`: one tree as indented text.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::problems::{self, GroundTruth};
use crate::store::{TreeFile, TreeRecord};
use crate::tree::{ExecStatus, NodeId, StepParts, Tree, observation_is_error};

/// Print one tree as indented text: tag, V, Q, N, prior, the first line of each step's
/// thought, code status and answer.
///
/// Columns: V is the node's value (· when never set), Q the mean backed-up value, N the
/// visit count, P the prior. A step shows `[code: output]`, `[code error: ...]` or
/// `[timeout]`, and `→ answer` with ✓/✗ when the answer was graded.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    arbor inspect --trees sample_trees/golden_tree_mcts_test.jsonl --problem 0\n  \
    arbor inspect --trees sample_trees/large_mcts.jsonl --problem 0 --depth 2")]
pub struct Args {
    /// Tree file (JSONL, one tree per line).
    #[arg(long)]
    trees: PathBuf,
    /// Which tree: its 0-based position among the file's trees.
    #[arg(long, default_value_t = 0)]
    problem: usize,
    /// Show nodes down to this depth only.
    #[arg(long)]
    depth: Option<u32>,
    /// Line width to fit (columns).
    #[arg(long, default_value_t = 80)]
    width: usize,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let file = TreeFile::open(&args.trees)?;
    if file.is_empty() {
        anyhow::bail!("{}: the file holds no trees (it is empty)", args.trees.display());
    }
    if args.problem >= file.len() {
        anyhow::bail!(
            "{}: there is no tree {} (the file has {}; --problem counts from 0)",
            args.trees.display(),
            args.problem,
            file.len()
        );
    }
    let loaded = match file.load(args.problem)? {
        Ok(loaded) => loaded,
        Err(diagnostic) => anyhow::bail!("{diagnostic}"),
    };
    for w in &loaded.warnings {
        eprintln!("{w}");
    }
    let text = render(&loaded.record, args.depth, args.width.max(40));
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// The tree of `record` as text lines at most `width` columns wide.
pub fn render(record: &TreeRecord, max_depth: Option<u32>, width: usize) -> String {
    let tree = &record.tree;
    let summary = tree.summary();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} nodes, depth {}, {} answers, {} code steps",
        summary.nodes, summary.max_depth, summary.valid_answers, summary.code_steps
    );
    let _ = writeln!(out, "{}", fit(&format!("question: {}", flatten(record.question())), width));
    if let Some(answer) = record.answer() {
        let gold = match answer {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let _ = writeln!(out, "{}", fit(&format!("answer:   {}", flatten(&gold)), width));
    }
    let _ = writeln!(out, "{:>6} {:>6} {:>4} {:>5}  tree", "V", "Q", "N", "P");
    if tree.is_empty() {
        return out;
    }
    let gold = problems::ground_truth_of(&record.fields).map(|g| g.0).unwrap_or(GroundTruth::Unknown);
    let view = View { tree, gold: &gold, max_depth, width };
    let mut prefix = String::new();
    view.node(NodeId::ROOT, &mut prefix, true, &mut out);
    out
}

/// What the rendering needs at every node.
struct View<'a> {
    tree: &'a Tree,
    gold: &'a GroundTruth,
    max_depth: Option<u32>,
    width: usize,
}

impl View<'_> {
    fn node(&self, id: NodeId, prefix: &mut String, last: bool, out: &mut String) {
        let (tree, width) = (self.tree, self.width);
        let node = tree.node(id);
        let keys = node.form().keys;
        let s = node.stats();
        let v = s.value.map_or_else(|| "·".to_owned(), |v| format!("{v:.3}"));
        // An unvisited node's Q (the reference's int 0) means "no estimate yet".
        let q = if keys.q_value && s.visit_count > 0 { format!("{:.3}", s.q_value) } else { "·".to_owned() };
        let n = if keys.visit_count { s.visit_count.to_string() } else { "·".to_owned() };
        let p = if keys.prior { format!("{:.2}", s.prior) } else { "·".to_owned() };
        let branch = if node.parent().is_none() {
            String::new()
        } else {
            format!("{prefix}{}", if last { "└─" } else { "├─" })
        };
        let head = format!("{v:>6} {q:>6} {n:>4} {p:>5}  {branch}{} ", node.tag());
        let (thought, suffix) = describe_step(tree, id, self.gold);
        // The status and answer matter more than the end of the thought: cut the thought first.
        let room = width.saturating_sub(head.chars().count() + suffix.chars().count()).max(12);
        let line = format!("{head}{}{suffix}", fit(&thought, room));
        let _ = writeln!(out, "{}", fit(&line, width));

        let children = node.children();
        if children.is_empty() {
            return;
        }
        if self.max_depth.is_some_and(|d| node.depth() >= d) {
            let indent = if node.parent().is_some() { "   " } else { "" };
            let more = format!(
                "{:>6} {:>6} {:>4} {:>5}  {prefix}{indent}… {} more below",
                "",
                "",
                "",
                "",
                count_below(tree, id)
            );
            let _ = writeln!(out, "{}", fit(&more, width));
            return;
        }
        let saved = prefix.len();
        if node.parent().is_some() {
            prefix.push_str(if last { "   " } else { "│  " });
        }
        for (i, child) in children.iter().enumerate() {
            self.node(*child, prefix, i + 1 == children.len(), out);
        }
        prefix.truncate(saved);
    }
}

fn count_below(tree: &Tree, id: NodeId) -> usize {
    tree.node(id).children().iter().map(|c| 1 + count_below(tree, *c)).sum()
}

/// The thought's first line, and what follows it: ` [code: output]`, ` → answer ✓`.
fn describe_step(tree: &Tree, id: NodeId, gold: &GroundTruth) -> (String, String) {
    let node = tree.node(id);
    if node.parent().is_none() {
        return ("(root)".to_owned(), String::new());
    }
    let parts = StepParts::of(node);
    let mut suffix = String::new();
    if node.is_code() {
        let status = node.info().execution.as_ref().map(|e| e.status);
        let observation = parts.observation.unwrap_or("");
        let first = flatten(observation.lines().next().unwrap_or(""));
        let tag = match status {
            Some(ExecStatus::Timeout) => "[timeout]".to_owned(),
            Some(ExecStatus::Killed) => format!("[killed: {}]", fit(&first, 20)),
            _ if observation.contains("TimeoutError") => "[timeout]".to_owned(),
            _ if status == Some(ExecStatus::Error) || observation_is_error(observation) => {
                let kind = first.split(':').next().unwrap_or("error").to_owned();
                format!("[code error: {}]", fit(&kind, 24))
            }
            _ if first.is_empty() => "[code: no output]".to_owned(),
            _ => format!("[code: {}]", fit(&first, 16)),
        };
        suffix = format!(" {tag}");
    }
    let answer = &node.step().final_answer;
    if !answer.is_empty() {
        // arbor's recorded grading, else a grading now against the record's ground truth.
        let correct = node
            .info()
            .correct
            .or_else(|| gold.is_known().then(|| crate::grade::is_equiv_any(gold.accepted(), answer)));
        let mark = match correct {
            Some(true) => " ✓",
            Some(false) => " ✗",
            None => "",
        };
        if crate::tree::is_failure_answer(answer) {
            suffix = format!("{suffix} ✗ {}", flatten(answer));
        } else {
            suffix = format!("{suffix} → {}{mark}", fit(&flatten(answer), 20));
        }
    }
    (flatten(parts.headline()), suffix)
}

fn flatten(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cuts a line to `width` characters, ending in `…` when cut.
fn fit(line: &str, width: usize) -> String {
    if line.chars().count() <= width {
        return line.to_owned();
    }
    let mut cut: String = line.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}
