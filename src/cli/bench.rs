//! `arbor bench`: throughput and latency figures.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::bench;

/// Measure arbor's throughput and latency (figures, not pass/fail).
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// The search engine's own cost per iteration with instant scripted backends, per
    /// algorithm, against replaying the same tree events.
    Engine {
        /// Searches in flight together.
        #[arg(long, default_value_t = 64)]
        problems: usize,
    },
    /// Model throughput: prefill and decode tokens/s (1 and 2 threads, 1 and 5 samples)
    /// beside llama.cpp on the same GGUF, and the prefix cache's effect during MCTS.
    Model(super::bench_model::Args),
    /// Tree-file store: index + open of a large file, time to the first tree, decode and
    /// encode throughput, random access.
    #[command(after_help = "Examples:\n  \
        arbor bench store                          # generates bench-data/trees-1G.jsonl once\n  \
        arbor bench store --file my_trees.jsonl")]
    Store {
        /// Tree file to measure. Without it, a simulated file of --size is generated (once)
        /// under bench-data/.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Size of the generated file.
        #[arg(long, default_value = "1G")]
        size: String,
        /// Trees decoded and encoded for the throughput figures.
        #[arg(long, default_value_t = 200)]
        sample: usize,
    },
    /// Write simulated MCTS trees (reference semantics, synthetic steps) to a new file.
    #[command(after_help = "Examples:\n  \
        arbor bench gen --out sample_trees/large_mcts.jsonl --trees 1 --nodes 1200 --seed 1\n  \
        arbor bench gen --out big.jsonl --size 1G")]
    Gen {
        #[arg(long)]
        out: PathBuf,
        /// Number of trees (at least).
        #[arg(long, default_value_t = 1)]
        trees: usize,
        /// Keep writing until the file is at least this big (e.g. 1G).
        #[arg(long)]
        size: Option<String>,
        /// Nodes per tree.
        #[arg(long, default_value_t = 1200)]
        nodes: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.what {
        What::Model(args) => return super::bench_model::run(args),
        What::Engine { problems } => {
            println!("arbor bench engine");
            for figure in bench::engine(problems.max(1)) {
                println!("{figure}");
            }
        }
        What::Gen { out, trees, size, nodes, seed } => {
            let min_bytes = size.as_deref().map(bench::parse_size).transpose().map_err(anyhow::Error::msg)?;
            let (n, bytes) = generate(&out, trees, min_bytes.unwrap_or(0), nodes, seed)?;
            println!("wrote {n} trees, {:.1} MB, to {}", bytes as f64 / 1e6, out.display());
        }
        What::Store { file, size, sample } => {
            let file = match file {
                Some(f) => f,
                None => {
                    let bytes = bench::parse_size(&size).map_err(anyhow::Error::msg)?;
                    let path = PathBuf::from("bench-data").join(format!("trees-{size}.jsonl"));
                    if !path.exists() {
                        std::fs::create_dir_all("bench-data").context("creating bench-data/")?;
                        let partial = path.with_extension("jsonl.partial");
                        let _ = std::fs::remove_file(&partial);
                        eprintln!("generating {} (simulated MCTS trees, once)...", path.display());
                        generate(&partial, 1, bytes, 1200, 1)?;
                        std::fs::rename(&partial, &path).context("moving the generated file into place")?;
                    }
                    path
                }
            };
            let report = bench::store(&file, sample)?;
            println!("arbor bench store: {}", report.file.display());
            for figure in &report.figures {
                println!("{figure}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn generate(
    out: &std::path::Path,
    trees: usize,
    min_bytes: u64,
    nodes: usize,
    seed: u64,
) -> anyhow::Result<(usize, u64)> {
    let mut last = std::time::Instant::now();
    let result = bench::generate_trees(out, trees, min_bytes, nodes, seed, |n, bytes| {
        if last.elapsed().as_secs_f64() > 1.0 {
            eprint!("\r  {n} trees, {:.0} MB", bytes as f64 / 1e6);
            let _ = std::io::stderr().flush();
            last = std::time::Instant::now();
        }
    })?;
    eprint!("\r");
    Ok(result)
}
