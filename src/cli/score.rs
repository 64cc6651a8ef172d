//! `arbor score`: accuracy and the AlphaMath README figures for tree files.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::batch::score::{self, TreeScore};
use crate::store::TreeFile;

/// Score tree files: accuracy, maj@k, average steps, average time, tokens.
///
/// Each tree's answer is chosen as the reference's scripts choose it: `solutions[0]` for
/// beam-search trees, offline re-selection (q_value, pruned, B1=1, B2=5) for MCTS trees, the
/// longest tag for greedy chains. maj@k votes over all answers given for the same question
/// (several runs in the files, or a beam tree's top-k solutions). Average time (each
/// search's start-to-finish wall time; searches overlap in batch runs, whose own summary gives
/// the throughput) and tokens are shown when the files record them.
///
/// Exit status: 0, or 2 when some lines could not be read (reported on stderr, left out).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    arbor score --trees sample_trees/golden_tree_mcts_test.jsonl\n  \
    arbor score --trees run1.jsonl --trees run2.jsonl --trees run3.jsonl   # maj@3 over runs\n  \
    arbor score --trees trees.jsonl --json --per-problem")]
pub struct Args {
    /// Tree file(s); repeat to pool several runs.
    #[arg(long, required = true)]
    trees: Vec<PathBuf>,
    /// Print the summary as one JSON object.
    #[arg(long)]
    json: bool,
    /// Also print one line (or JSON object) per tree.
    #[arg(long)]
    per_problem: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut scores: Vec<TreeScore> = Vec::new();
    let mut skipped = 0usize;
    for path in &args.trees {
        let file = TreeFile::open(path)?;
        if file.is_empty() {
            anyhow::bail!("{}: the file holds no trees (it is empty)", path.display());
        }
        for i in 0..file.len() {
            match file.load(i)? {
                Ok(loaded) => {
                    for w in &loaded.warnings {
                        eprintln!("{w}");
                    }
                    scores.push(score::score_tree(loaded.line, &loaded.record));
                }
                Err(d) => {
                    eprintln!("{d}");
                    skipped += 1;
                }
            }
        }
    }
    let summary = score::summarize(&scores);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if args.per_problem {
        for s in &scores {
            let answer = s.chosen.as_ref().map(|c| c.answer.as_str());
            if args.json {
                let value = serde_json::json!({
                    "line": s.line,
                    "question": s.question,
                    "kind": s.kind.name(),
                    "ground_truth": s.ground_truth.accepted(),
                    "answer": answer,
                    "correct": s.correct,
                    "reachable": s.reachable,
                    "steps": s.chosen.as_ref().and_then(|c| c.steps),
                });
                writeln!(out, "{value}")?;
            } else {
                let mark = match s.correct {
                    Some(true) => "✓",
                    Some(false) => "✗",
                    None => "?",
                };
                writeln!(
                    out,
                    "line {:>5}  {mark}  answer {:<24} gold {}",
                    s.line,
                    answer.map_or_else(|| "(none)".to_owned(), clip),
                    clip(&s.ground_truth.to_string())
                )?;
            }
        }
    }
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&summary)?)?;
    } else {
        let kinds: Vec<String> = summary.kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
        writeln!(out, "trees       {} ({})", summary.trees, kinds.join(", "))?;
        match summary.accuracy {
            Some(acc) => {
                writeln!(out, "accuracy    {:.2}%  ({}/{})", acc * 100.0, summary.correct, summary.graded)?
            }
            None => writeln!(out, "accuracy    n/a (no ground truth in the files)")?,
        }
        if summary.graded > 0 {
            writeln!(
                out,
                "reachable   {:.2}%  ({}/{} with a right final answer anywhere in the tree)",
                summary.reachable as f64 * 100.0 / summary.graded as f64,
                summary.reachable,
                summary.graded
            )?;
        }
        match &summary.maj {
            Some(m) => {
                let k = if m.k_min == m.k_max {
                    m.k_max.to_string()
                } else {
                    format!("{}–{}", m.k_min, m.k_max)
                };
                writeln!(
                    out,
                    "maj@{k:<7} {:.2}%  ({}/{} questions)",
                    m.accuracy * 100.0,
                    m.correct,
                    m.questions
                )?;
            }
            None => writeln!(out, "maj@k       n/a (one answer per question)")?,
        }
        let or_na = |v: Option<f64>, unit: &str| {
            v.map_or_else(|| "n/a (not in the files)".to_owned(), |v| format!("{v:.2}{unit}"))
        };
        writeln!(out, "avg steps   {}", or_na(summary.avg_steps, ""))?;
        // Batch runs overlap their searches, so this is latency, not throughput.
        writeln!(out, "avg time    {}", or_na(summary.avg_seconds, " s per search, start to finish"))?;
        writeln!(out, "avg tokens  {}", or_na(summary.avg_tokens, ""))?;
        if skipped > 0 {
            writeln!(out, "skipped     {skipped} unreadable lines")?;
        }
    }
    out.flush()?;
    Ok(if skipped > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

fn clip(s: &str) -> String {
    crate::store::clip(&s.split_whitespace().collect::<Vec<_>>().join(" "), 40)
}
