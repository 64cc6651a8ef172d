//! `arbor offline`: the reference's offline re-selection over a tree file.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::{Map, Value};

use crate::grade;
use crate::problems::{self, GroundTruth};
use crate::search::offline::{self, OfflineConfig, Strategy};
use crate::store::{TreeFile, pyjson};

/// Choose each tree's answer again, as the reference's offline_inference.py does.
///
/// Rebuilds each tree with at most B1·B2 children per node, optionally prunes branches
/// without a valid final answer, and descends keeping the best B1 candidates by the
/// strategy. The reference's offline_inference.yaml is `--strategy q_value --prune` with
/// B1 = 1, B2 = 5; for beam-search trees use `--strategy value` and the search's B1/B2.
/// The puct strategy uses c_puct = 1.25, hard-coded as in the reference.
///
/// Each chosen answer is graded against the record's ground truth (✓/✗), and the summary
/// gives the accuracy, as offline_inference.py prints it.
///
/// Exit status: 0, or 2 when some lines could not be read (they are reported on stderr and
/// left out).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    arbor offline --trees sample_trees/golden_tree_mcts_test.jsonl --prune\n  \
    arbor offline --trees sample_trees/golden_tree_sbs_b1_2_b2_5.jsonl --strategy value --b1 2 --b2 5 --json")]
pub struct Args {
    /// Tree file (JSONL, one tree per line).
    #[arg(long)]
    trees: PathBuf,
    /// Ranking of candidates and answers: value, q_value, visit_count or puct.
    #[arg(long, default_value = "q_value")]
    strategy: Strategy,
    /// Drop branches that end in no valid final answer before descending.
    #[arg(long)]
    prune: bool,
    /// Beam width (the search's step_beam_width).
    #[arg(long, default_value_t = 1)]
    b1: usize,
    /// Samples per expansion (the search's n_generate_sample).
    #[arg(long, default_value_t = 5)]
    b2: usize,
    /// One JSON value per tree: the reference's result object, or null when nothing is chosen.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let file = TreeFile::open(&args.trees)?;
    if file.is_empty() {
        anyhow::bail!("{}: the file holds no trees (it is empty)", args.trees.display());
    }
    let config = OfflineConfig {
        strategy: args.strategy,
        prune: args.prune,
        b1: args.b1,
        b2: args.b2,
        c_puct: offline::OFFLINE_C_PUCT,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut trees, mut chosen, mut skipped) = (0usize, 0usize, 0usize);
    let (mut graded, mut correct) = (0usize, 0usize);
    for i in 0..file.len() {
        let loaded = match file.load(i)? {
            Ok(loaded) => loaded,
            Err(diagnostic) => {
                eprintln!("{diagnostic}");
                skipped += 1;
                continue;
            }
        };
        for w in &loaded.warnings {
            eprintln!("{w}");
        }
        trees += 1;
        let record = &loaded.record;
        let selection = offline::select(&record.tree, &config);
        chosen += usize::from(selection.is_some());
        let gold = problems::ground_truth_of(&record.fields).map(|g| g.0).unwrap_or(GroundTruth::Unknown);
        let verdict = gold.is_known().then(|| {
            selection.as_ref().is_some_and(|sel| grade::is_equiv_any(gold.accepted(), &sel.final_answer))
        });
        graded += usize::from(verdict.is_some());
        correct += usize::from(verdict == Some(true));
        if args.json {
            let value = match &selection {
                None => Value::Null,
                Some(sel) => {
                    let mut result = Map::new();
                    result.insert("question".into(), Value::String(record.question().to_owned()));
                    result.insert("ground_truth".into(), record.answer().cloned().unwrap_or(Value::Null));
                    result.insert("final_answer".into(), Value::String(sel.final_answer.clone()));
                    result.insert("tag".into(), Value::String(sel.tag.clone()));
                    Value::Object(result)
                }
            };
            let mut line = Vec::new();
            pyjson::write_json(&mut line, &value).context("encoding a result")?;
            line.push(b'\n');
            out.write_all(&line)?;
        } else {
            let mark = match verdict {
                Some(true) => "✓",
                Some(false) => "✗",
                None => "?",
            };
            match &selection {
                Some(sel) => writeln!(
                    out,
                    "line {:>5}  {mark}  tag {:<12} answer {:<20} gold {}",
                    loaded.line,
                    sel.tag,
                    one_line(&sel.final_answer),
                    one_line(&gold.to_string())
                )?,
                None => writeln!(
                    out,
                    "line {:>5}  {mark}  no answer chosen{}",
                    loaded.line,
                    if args.prune { " (no valid final answer survives pruning)" } else { "" }
                )?,
            }
        }
    }
    if !args.json {
        let accuracy = if graded > 0 {
            format!("accuracy {:.2}% ({correct}/{graded}); ", correct as f64 * 100.0 / graded as f64)
        } else {
            String::new()
        };
        writeln!(
            out,
            "{accuracy}{trees} trees, {chosen} with an answer, {} without (strategy {}, prune {}, b1 {}, b2 {}){}",
            trees - chosen,
            config.strategy,
            config.prune,
            config.b1,
            config.b2,
            if skipped > 0 { format!("; {skipped} unreadable lines skipped") } else { String::new() }
        )?;
    }
    out.flush()?;
    Ok(if skipped > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

fn one_line(s: &str) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    crate::store::clip(&flat, 60)
}
