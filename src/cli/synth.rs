//! `arbor synth`: write synthetic problems (with gold solutions) as a problem file.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};

use crate::interp::{Pool, PoolConfig};
use crate::train::synth::{self, Split};

/// Generate multi-step arithmetic word problems with gold solutions in the `react_sft` step
/// format (thought, Python code, the interpreter's output, `Final Answer:`), deterministic by
/// seed. Each line holds `id`, `question`, `answer`, `level` (operations, 1–5), `type` (story
/// family), `distractors` and `solution`. Validation and test problems cycle through the levels.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    arbor synth --split test --count 300 --out assets/datasets/synth_test.jsonl --check\n  \
    arbor synth --split train --count 5 --show")]
pub struct Args {
    #[arg(long, value_enum, default_value = "train")]
    split: Split,
    #[arg(long, default_value_t = 100)]
    count: usize,
    /// Start at this index of the split's stream.
    #[arg(long, default_value_t = 0)]
    start: u64,
    #[arg(long, default_value_t = synth::DEFAULT_SEED)]
    seed: u64,
    /// Write JSONL here (a new file) instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the problems and their solutions as text instead of JSONL.
    #[arg(long)]
    show: bool,
    /// Run every gold code step through the interpreter and fail on a differing output.
    #[arg(long)]
    check: bool,
    /// The Python interpreter for --check (default: $ARBOR_PYTHON, then python3).
    #[arg(long)]
    python: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let problems: Vec<_> = (args.start..args.start + args.count as u64)
        .map(|i| synth::problem(args.seed, args.split, i))
        .collect();
    if args.check {
        let pool = Pool::new(PoolConfig { python: args.python.clone(), ..PoolConfig::default() })
            .context("starting the Python interpreter")?;
        let mismatches = synth::verify(&pool, &problems)?;
        for m in &mismatches {
            eprintln!(
                "{} step {}: expected {:?}, the interpreter printed {:?}",
                m.problem, m.step, m.expected, m.observed
            );
        }
        if !mismatches.is_empty() {
            bail!("{} gold steps do not reproduce", mismatches.len());
        }
        eprintln!("checked {} problems: every gold step reproduces its output", problems.len());
    }
    let mut text = Vec::new();
    for p in &problems {
        if args.show {
            writeln!(
                text,
                "# {} (level {}, {}, {} distractors)\n{}\n\n{}\n",
                p.id,
                p.level,
                p.family,
                p.distractors,
                p.question,
                p.solution()
            )?;
        } else {
            serde_json::to_writer(&mut text, &p.record())?;
            text.push(b'\n');
        }
    }
    match &args.out {
        Some(path) => {
            if path.exists() {
                bail!("{} exists; remove it first", path.display());
            }
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {} problems to {}", problems.len(), path.display());
        }
        None => std::io::stdout().write_all(&text)?,
    }
    Ok(ExitCode::SUCCESS)
}
