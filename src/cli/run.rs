//! `arbor solve`, `arbor eval` and `arbor collect`: problems in, tree JSONL out.

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::model_args::ModelArgs;
use crate::batch::score::{self, TreeScore};
use crate::engine::backends::{ModelBackends, Sampling};
use crate::engine::driver::Driver;
use crate::engine::output::{RunFacts, to_record};
use crate::interp::{Pool, PoolConfig};
use crate::model::Backend;
use crate::problems::{self, GroundTruth, Problem};
use crate::search::config::{LeafValue, Mode, SearchConfig};
use crate::search::{new_search, presets};
use crate::store::{TreeFile, TreeRecord, TreeWriter};

/// Settings shared by the commands that run searches.
#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// A preset (greedy, react, sbs, mcts, mcts_round, mcts_train, eta_mcts) or a TOML file.
    #[arg(long, default_value = "mcts")]
    config: String,
    /// Override a setting, e.g. --set iterations=10 --set prompt_wrap=chat (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Run without a value head (models that have none): the value head is not asked and
    /// leaves back up 0, so only terminal rewards and rollouts inform the search.
    #[arg(long)]
    no_value: bool,
    #[command(flatten)]
    model: ModelArgs,
    /// A second, smaller model that plays the rollouts (λ > 0 or ORM critics); the policy
    /// plays them otherwise. A folder, a .gguf file or a URL.
    #[arg(long, value_name = "PATH|URL")]
    rollout_model: Option<String>,
    /// The Python interpreter (default: $ARBOR_PYTHON, then python3).
    #[arg(long)]
    python: Option<PathBuf>,
    /// Interpreter workers running code at once.
    #[arg(long, default_value_t = 2)]
    workers: usize,
}

impl SearchArgs {
    fn config(&self) -> anyhow::Result<SearchConfig> {
        let mut config = presets::load(&self.config)?;
        for assignment in &self.set {
            config.set(assignment)?;
        }
        if self.no_value {
            config.need_value_func = false;
            config.leaf_value = LeafValue::None;
        }
        config.validate()?;
        Ok(config)
    }

    /// Loads the model and starts the interpreter pool.
    fn backends(&self, config: &SearchConfig) -> anyhow::Result<(ModelBackends<Backend>, String)> {
        eprintln!("loading {} ...", self.model.model);
        let backends = open_backends(
            &self.model,
            &BackendChoice {
                config_name: self.config.clone(),
                python: self.python.clone(),
                workers: self.workers,
                rollout_model: self.rollout_model.clone(),
            },
            config,
        )?;
        Ok((backends, self.model.model.clone()))
    }
}

/// What `open_backends` needs besides the model: shared by the commands and the TUI.
#[derive(Clone, Debug, Default)]
pub struct BackendChoice {
    /// The preset or file the settings came from, for error messages.
    pub config_name: String,
    pub python: Option<PathBuf>,
    pub workers: usize,
    pub rollout_model: Option<String>,
}

/// Loads the model `model` names and starts the interpreter pool for a search run with
/// `config`. Refuses a model without a value head when the settings ask for values.
pub fn open_backends(
    model: &ModelArgs,
    choice: &BackendChoice,
    config: &SearchConfig,
) -> anyhow::Result<ModelBackends<Backend>> {
    let backend = model.open()?;
    let wants_values =
        config.need_value_func || (config.mode == Mode::Mcts && config.leaf_value == LeafValue::ValueHead);
    if let Backend::Local(m) = &backend
        && wants_values
        && !m.has_value_head()
    {
        bail!(
            "{} has no value head, but the {} settings use one; pass --no-value (or --set \
             need_value_func=false --set leaf_value=none), or attach a head with --value-head FILE",
            model.model,
            choice.config_name
        );
    }
    let pool = Pool::new(PoolConfig {
        python: choice.python.clone(),
        workers: choice.workers.max(1),
        ..PoolConfig::default()
    })
    .context("starting the Python interpreter")?;
    let mut backends = ModelBackends::new(Box::new(backend), Arc::new(pool), Sampling::from_config(config));
    if let Some(spec) = &choice.rollout_model {
        let http = match crate::model::ModelSpec::parse(spec) {
            crate::model::ModelSpec::Remote(_) => Some(model.http_options()?),
            crate::model::ModelSpec::Local(_) => None,
        };
        let rollout = crate::model::open(spec, model.local_options(), http)
            .with_context(|| format!("opening --rollout-model {spec}"))?;
        backends = backends.with_rollout(Box::new(rollout));
    }
    Ok(backends)
}

/// Run one search on a question and print its tree as a JSON line.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    arbor solve --question 'What is 17 * 23?' --answer 391 --model .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf \\\n    \
    --config sbs --no-value --set prompt_wrap=chat --out tree.jsonl\n  \
    arbor solve --question 'Find x if 2x+3=11.' --model ../AlphaMath-7B --config mcts --set iterations=10")]
pub struct SolveArgs {
    #[arg(long)]
    question: String,
    /// The ground truth, for grading (and for rewards with is_sampling).
    #[arg(long)]
    answer: Option<String>,
    /// Write the tree here (a new file) instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    search: SearchArgs,
}

pub fn solve(args: SolveArgs) -> anyhow::Result<ExitCode> {
    let config = args.search.config()?;
    let (mut backends, model) = args.search.backends(&config)?;
    let gold = args.answer.clone().map_or(GroundTruth::Unknown, GroundTruth::One);
    let mut fields = serde_json::Map::new();
    fields.insert("question".into(), json!(args.question));
    if let Some(a) = &args.answer {
        fields.insert("answer".into(), json!(a));
    }
    let started = Instant::now();
    let mut driver = Driver::new();
    driver.add(new_search(config.clone(), &args.question, gold.clone(), 0));
    let mut last = Instant::now();
    while driver.round(&mut backends, &mut |_, _| {})? {
        if last.elapsed().as_secs_f64() > 1.0 {
            let s = driver.search(0);
            eprint!("\r  iteration {}, {} nodes", s.iterations(), s.tree().len());
            let _ = std::io::stderr().flush();
            last = Instant::now();
        }
    }
    eprint!("\r");
    let search = driver.search(0);
    let facts = RunFacts { elapsed_s: Some(started.elapsed().as_secs_f64()), model: Some(model) };
    let record = to_record(&fields, search, &config, &facts);
    let outcome = search.outcome();
    let answer = outcome.as_ref().and_then(|o| o.answer.clone());
    let verdict = match (&answer, gold.is_known()) {
        (Some(a), true) if crate::grade::is_equiv_any(gold.accepted(), a) => " ✓",
        (_, true) => " ✗",
        _ => "",
    };
    eprintln!(
        "answer: {}{verdict}  ({} iterations, {} nodes, {:.1} s)",
        answer.as_deref().unwrap_or("(none)"),
        search.iterations(),
        search.tree().len(),
        started.elapsed().as_secs_f64()
    );
    match &args.out {
        Some(path) => TreeWriter::create(path)?.write(&record)?,
        None => {
            let mut line = Vec::new();
            record.encode(&mut line).context("encoding the tree")?;
            std::io::stdout().write_all(&line)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Run a search on every problem of a file and write the trees (the reference's
/// solver_demo.py). Resumable: with --resume, problems already in --out are skipped and an
/// interrupted last line is repaired.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    arbor eval --data assets/datasets/synth_test.jsonl --config sbs --set step_beam_width=3 \\\n    \
    --model assets/model --out sbs35.jsonl\n  \
    arbor eval --data ../shared/data/datasets/math500/prm800k_math_splits_test.jsonl --limit 20 \\\n    \
    --model .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf --no-value --set prompt_wrap=chat --out t.jsonl --resume")]
pub struct EvalArgs {
    /// Problem file (.json or .jsonl).
    #[arg(long)]
    data: PathBuf,
    /// Tree file to write.
    #[arg(long)]
    out: PathBuf,
    /// Continue --out: skip the problems (and runs) it already holds.
    #[arg(long)]
    resume: bool,
    /// Only the first N problems.
    #[arg(long)]
    limit: Option<usize>,
    /// I/N: only problems whose position modulo N is I (for several machines).
    #[arg(long)]
    shard: Option<String>,
    /// Searches per problem, with different seeds (for maj@k over runs).
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// Problems searched together (one batched model call per round for all of them).
    #[arg(long, default_value_t = 16)]
    batch: usize,
    #[command(flatten)]
    search: SearchArgs,
}

pub fn eval(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let config = args.search.config()?;
    run_batch(args, config)
}

/// `eval` with ground-truth rewards: the reference's is_sampling data collection.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  \
    arbor collect --data train.jsonl --config mcts_round --model assets/model --out round2.jsonl --resume")]
pub struct CollectArgs {
    #[command(flatten)]
    eval: EvalArgs,
}

pub fn collect(args: CollectArgs) -> anyhow::Result<ExitCode> {
    let mut config = args.eval.search.config()?;
    config.is_sampling = true;
    run_batch(args.eval, config)
}

fn parse_shard(shard: &str) -> anyhow::Result<(usize, usize)> {
    let (i, n) = shard.split_once('/').context("--shard takes I/N, e.g. 0/4")?;
    let (i, n): (usize, usize) = (i.trim().parse()?, n.trim().parse()?);
    if n == 0 || i >= n {
        bail!("--shard {shard}: I must be below N");
    }
    Ok((i, n))
}

/// (problem id, run) of the trees already in a file.
fn done_keys(path: &PathBuf) -> anyhow::Result<HashSet<(String, u64)>> {
    let mut keys = HashSet::new();
    if !path.exists() {
        return Ok(keys);
    }
    let file = TreeFile::open(path)?;
    for i in 0..file.len() {
        if let Ok(loaded) = file.load(i)? {
            let run = &loaded.record.run;
            if let (Some(id), Some(k)) =
                (run.get("problem").and_then(Value::as_str), run.get("run").and_then(Value::as_u64))
            {
                keys.insert((id.to_owned(), k));
            }
        }
    }
    Ok(keys)
}

fn run_batch(args: EvalArgs, config: SearchConfig) -> anyhow::Result<ExitCode> {
    let set = problems::load(&args.data)?;
    for d in set.diagnostics.iter().take(10) {
        eprintln!("{d}");
    }
    let mut problems: Vec<Problem> = set.problems;
    if let Some(shard) = &args.shard {
        let (i, n) = parse_shard(shard)?;
        problems = problems.into_iter().enumerate().filter(|(j, _)| j % n == i).map(|(_, p)| p).collect();
    }
    if let Some(limit) = args.limit {
        problems.truncate(limit);
    }
    let done = if args.resume { done_keys(&args.out)? } else { HashSet::new() };
    let mut queue: std::collections::VecDeque<(usize, u64)> = (0..problems.len())
        .flat_map(|p| (0..args.runs as u64).map(move |k| (p, k)))
        .filter(|(p, k)| !done.contains(&(problems[*p].id.clone(), *k)))
        .collect();
    let total = queue.len();
    if total == 0 {
        eprintln!("nothing to do: every problem is already in {}", args.out.display());
        return Ok(ExitCode::SUCCESS);
    }
    // The model first: a run that cannot start leaves no output file behind.
    if !args.resume && args.out.exists() {
        return Err(crate::store::StoreError::Exists { path: args.out.clone() }.into());
    }
    let (mut backends, model) = args.search.backends(&config)?;
    let mut writer = if args.resume {
        let (writer, repaired) = TreeWriter::append(&args.out)?;
        if let Some(d) = repaired {
            eprintln!("{d}");
        }
        writer
    } else {
        TreeWriter::create(&args.out)?
    };
    eprintln!(
        "{total} searches ({} problems × {} runs, {} already done), {} at a time",
        problems.len(),
        args.runs,
        done.len(),
        args.batch
    );

    let mut driver = Driver::new();
    let mut live: std::collections::HashMap<usize, (usize, u64, Instant)> = std::collections::HashMap::new();
    let mut scores: Vec<TreeScore> = Vec::new();
    let started = Instant::now();
    loop {
        while live.len() < args.batch.max(1) {
            let Some((p, k)) = queue.pop_front() else { break };
            let problem = &problems[p];
            let seed = (p as u64) * 1_000_003 + k;
            let id =
                driver.add(new_search(config.clone(), &problem.question, problem.ground_truth.clone(), seed));
            live.insert(id, (p, k, Instant::now()));
        }
        if live.is_empty() {
            break;
        }
        driver.round(&mut backends, &mut |_, _| {})?;
        for id in driver.done() {
            let Some((p, k, t0)) = live.remove(&id) else { continue };
            let Some(search) = driver.remove(id) else { continue };
            let problem = &problems[p];
            let facts = RunFacts { elapsed_s: Some(t0.elapsed().as_secs_f64()), model: Some(model.clone()) };
            let mut record: TreeRecord = to_record(&problem.record, search.as_ref(), &config, &facts);
            record.run.insert("problem".into(), json!(problem.id));
            record.run.insert("run".into(), json!(k));
            writer.write(&record)?;
            scores.push(score::score_tree(0, &record));
            let summary = score::summarize(&scores);
            let finished = scores.len();
            let per = started.elapsed().as_secs_f64() / finished as f64;
            let eta = per * (total - finished) as f64;
            eprint!(
                "\r[{finished:>5}/{total}] accuracy {} | {:.1} s/search | ETA {} ",
                summary.accuracy.map_or_else(|| "n/a".to_owned(), |a| format!("{:.1}%", a * 100.0)),
                per,
                format_duration(eta)
            );
            let _ = std::io::stderr().flush();
        }
    }
    eprintln!();
    let summary = score::summarize(&scores);
    let time = backends.time;
    let wall = started.elapsed().as_secs_f64();
    let share = |d: std::time::Duration| 100.0 * d.as_secs_f64() / wall.max(1e-9);
    let backend_share = share(time.generate) + share(time.execute) + share(time.value) + share(time.judge);
    eprintln!(
        "done: {} searches in {} ({:.2} s each), accuracy {} ({}/{}), avg steps {}",
        scores.len(),
        format_duration(wall),
        wall / scores.len().max(1) as f64,
        summary.accuracy.map_or_else(|| "n/a".to_owned(), |a| format!("{:.2}%", a * 100.0)),
        summary.correct,
        summary.graded,
        summary.avg_steps.map_or_else(|| "n/a".to_owned(), |s| format!("{s:.2}")),
    );
    eprintln!(
        "time: model {:.1}%, interpreter {:.1}%, value {:.1}%, judge {:.1}%, engine and writing {:.1}%; {} tokens generated ({:.0} tok/s)",
        share(time.generate),
        share(time.execute),
        share(time.value),
        share(time.judge),
        (100.0 - backend_share).max(0.0),
        time.generated_tokens,
        time.generated_tokens as f64 / wall.max(1e-9),
    );
    eprintln!(
        "trees written to {} (score them with: arbor score --trees {})",
        args.out.display(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn format_duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}
