//! `arbor train`: train the policy on gold synthetic solutions, then the value head on round-0
//! Monte-Carlo targets. Both phases write an HF folder the model backend loads and resume from
//! their last checkpoint when run again with the same `--out`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};

use crate::interp::{Pool, PoolConfig};
use crate::model::{CandleModel, ModelOptions};
use crate::problems;
use crate::store::{Severity, TreeFile};
use crate::train::data::Example;
use crate::train::net::{Net, NetConfig};
use crate::train::recipe::{self, GoldSource, ListSource, Recipe, gold_example};
use crate::train::round0::{self, Estimate, Round0Config, ValueTargets, keep_mixed_values};
use crate::train::synth::{self, Split};
use crate::train::tokenizer::{self, Bpe};
use crate::train::trainer::{Encoder, Run, Schedule, has_checkpoint};
use crate::train::trees::{self, PathLimits, TreeYield};

/// Train arbor's own policy + value model on the synthetic domain (`arbor synth`).
#[derive(Debug, clap::Args)]
#[command(after_help = "The bundled model (assets/model/synth) is made by scripts/train-bundled.sh:\n  \
    arbor train policy --preset bundled --out runs/policy\n  \
    arbor train value --policy runs/policy --out runs/value")]
pub struct Args {
    #[command(subcommand)]
    phase: Phase,
}

#[derive(Debug, clap::Subcommand)]
enum Phase {
    /// Phase 1: policy cross-entropy on gold solutions of the train split.
    Policy(PolicyArgs),
    /// Phase 2 ("round 0"): sample rollouts with the trained policy, then train the value head
    /// (jointly with the policy on correct paths) on their mean outcomes.
    Value(ValueArgs),
    /// Rounds 1 and later: train policy and value on the paths of search trees collected with
    /// ground-truth rewards (`arbor collect`): per question up to 4 right and 4 wrong paths,
    /// each step's value target its node's Q, the last step's the outcome ±1 (reference §10).
    Round(RoundArgs),
}

/// Overrides of a recipe's schedule.
#[derive(Debug, clap::Args)]
struct ScheduleArgs {
    #[arg(long)]
    steps: Option<u64>,
    #[arg(long)]
    batch_size: Option<usize>,
    #[arg(long)]
    lr: Option<f64>,
    #[arg(long)]
    warmup: Option<u64>,
    #[arg(long)]
    value_weight: Option<f64>,
    /// Weight of a ranking loss beside the value MSE: for every two examples of one question
    /// whose paths part at a step with value targets at least 0.5 apart, the step with the
    /// higher target should get the higher value (examples are then batched by question).
    #[arg(long)]
    rank_weight: Option<f64>,
    #[arg(long)]
    valid_every: Option<u64>,
    #[arg(long)]
    checkpoint_every: Option<u64>,
}

impl ScheduleArgs {
    fn apply(&self, s: &mut Schedule) {
        if let Some(v) = self.steps {
            s.steps = v;
        }
        if let Some(v) = self.batch_size {
            s.batch_size = v;
        }
        if let Some(v) = self.lr {
            s.lr = v;
        }
        if let Some(v) = self.warmup {
            s.warmup = v;
        }
        if let Some(v) = self.value_weight {
            s.value_weight = v;
        }
        if let Some(v) = self.rank_weight {
            s.rank_weight = v;
        }
        if let Some(v) = self.valid_every {
            s.valid_every = v;
        }
        if let Some(v) = self.checkpoint_every {
            s.checkpoint_every = v;
        }
    }
}

#[derive(Debug, clap::Args)]
struct PolicyArgs {
    /// The output folder (an HF checkpoint folder; resumed if it holds a checkpoint).
    #[arg(long)]
    out: PathBuf,
    /// bundled or tiny.
    #[arg(long, default_value = "bundled")]
    preset: String,
    #[arg(long, default_value_t = synth::DEFAULT_SEED)]
    seed: u64,
    #[command(flatten)]
    schedule: ScheduleArgs,
}

#[derive(Debug, clap::Args)]
struct ValueArgs {
    /// The policy checkpoint folder (from `arbor train policy`).
    #[arg(long)]
    policy: PathBuf,
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value_t = synth::DEFAULT_SEED)]
    seed: u64,
    /// Train problems to sample rollouts on (taken after the ones the policy phase used).
    #[arg(long, default_value_t = 150)]
    problems: usize,
    /// Rollouts per state.
    #[arg(long, default_value_t = 3)]
    k: usize,
    #[arg(long, default_value_t = 1.0)]
    temperature: f32,
    /// How a state's value target is estimated: `prefix` rolls out `k` times from every state;
    /// `shared` rolls out `k` times from the root and gives each state the mean outcome of the
    /// rollouts through it; `siblings` rolls out `k` times from the root and every gold state
    /// and keeps every rollout, valued among those from its own state; `corrupted` also rolls
    /// out from corrupted copies of every gold step (a number miscopied, an operator or an
    /// earlier result swapped, a wrong final answer), the slips a search must rank lower;
    /// `process` rolls out from the root and values those rollouts and the corrupted copies by
    /// the gold solution (+1 while every printed output is one of its intermediate results);
    /// `steps` samples `k` next steps at every gold state and values the distinct ones as
    /// `process` does, the choices a step-level search ranks.
    #[arg(long, value_enum, default_value_t = Estimate::Prefix)]
    estimate: Estimate,
    /// Corrupted copies per gold step (`--estimate corrupted` and `process`).
    #[arg(long, default_value_t = 3)]
    corruptions: usize,
    /// Which problems' states get value targets: `all`, or only `mixed` ones (some rollouts
    /// right, some wrong), whose targets carry the within-problem contrast a search needs.
    #[arg(long, value_enum, default_value_t = ValueTargets::All)]
    value_targets: ValueTargets,
    /// Final steps to sample again at the state before each finished path's final answer,
    /// graded and trained as value targets next to the path's own (0: none). They show the
    /// value head right and wrong answers after the same steps.
    #[arg(long, default_value_t = 0)]
    final_samples: usize,
    #[command(flatten)]
    value_only: ValueOnly,
    /// The Python interpreter (default: $ARBOR_PYTHON, then python3).
    #[arg(long)]
    python: Option<PathBuf>,
    #[arg(long, default_value_t = 2)]
    workers: usize,
    #[command(flatten)]
    schedule: ScheduleArgs,
}

#[derive(Debug, clap::Args)]
struct RoundArgs {
    /// Tree files from `arbor collect` (repeatable; needed unless `--examples` is given).
    #[arg(long = "trees", required_unless_present = "examples")]
    trees: Vec<PathBuf>,
    /// The checkpoint to continue from: an HF folder with a value head and tokenizer.json
    /// (assets/model/synth, or a `train value` / `train round` output).
    #[arg(long)]
    model: PathBuf,
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value_t = synth::DEFAULT_SEED)]
    seed: u64,
    /// Right paths kept per question at most.
    #[arg(long, default_value_t = 4)]
    max_correct: usize,
    /// Wrong paths kept per question at most.
    #[arg(long, default_value_t = 4)]
    max_incorrect: usize,
    /// Which trees' paths get value targets: `all`, or only `mixed` ones (right and wrong paths
    /// both present); the right paths of the others still train the policy.
    #[arg(long, value_enum, default_value_t = ValueTargets::All)]
    value_targets: ValueTargets,
    /// More training examples (JSONL, as `train value` caches them in round0_examples.jsonl)
    /// to train on beside the trees' (repeatable).
    #[arg(long)]
    examples: Vec<PathBuf>,
    #[command(flatten)]
    value_only: ValueOnly,
    #[command(flatten)]
    schedule: ScheduleArgs,
}

/// The least context a value-phase checkpoint declares.
const CONTEXT: usize = 4096;

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.phase {
        Phase::Policy(a) => policy(a),
        Phase::Value(a) => value(a),
        Phase::Round(a) => round(a),
    }
}

fn recipe(name: &str) -> anyhow::Result<Recipe> {
    match recipe::preset(name) {
        Some(r) => Ok(r),
        None => bail!("unknown preset {name:?} (presets: {})", recipe::PRESETS.join(", ")),
    }
}

fn special_ids(bpe: &Bpe) -> anyhow::Result<(u32, u32)> {
    let bos = bpe.id(tokenizer::BOS).context("tokenizer has no <s>")?;
    let pad = bpe.id(tokenizer::PAD).context("tokenizer has no <pad>")?;
    Ok((bos, pad))
}

fn print(line: &str) {
    eprintln!("{line}");
}

fn policy(args: PolicyArgs) -> anyhow::Result<ExitCode> {
    let recipe = recipe(&args.preset)?;
    let started = std::time::Instant::now();
    let bpe = recipe.tokenizer(args.seed)?;
    let tok = bpe.tokenizer()?;
    let (bos, pad) = special_ids(&bpe)?;
    let cfg = recipe.net(&bpe)?;
    eprintln!(
        "preset {}: {} parameters, vocabulary {} (tokenizer learned in {:.1}s)",
        args.preset,
        cfg.parameters(),
        cfg.vocab_size,
        started.elapsed().as_secs_f64()
    );
    let data = format!("policy seed={} preset={}", args.seed, args.preset);
    let enc = Encoder { tokenizer: &tok, bos, pad };
    let mut run = if has_checkpoint(&args.out) {
        let mut run = Run::resume(&args.out, &data, bpe.to_json(), enc)?;
        eprintln!("resuming {} at step {}", args.out.display(), run.state.step);
        extend_schedule(&mut run, args.schedule.steps);
        run
    } else {
        let mut schedule = recipe.schedule.clone();
        args.schedule.apply(&mut schedule);
        Run::new(&args.out, Net::new(cfg, args.seed)?, schedule, data, bpe.to_json(), enc)?
    };
    let valid: Vec<Example> =
        synth::problems(args.seed, Split::Valid, recipe.valid_problems).iter().map(gold_example).collect();
    run.train(&GoldSource::new(args.seed), &valid, &mut print)?;
    eprintln!("done in {:.0}s; the model is in {}", started.elapsed().as_secs_f64(), args.out.display());
    Ok(ExitCode::SUCCESS)
}

/// The network shape of a checkpoint folder: from its training state, or else from its
/// `config.json` (a folder holding only the model, such as `assets/model/synth`).
fn load_net_config(dir: &Path) -> anyhow::Result<NetConfig> {
    let state = dir.join("train_state/state.json");
    if state.exists() {
        let text = std::fs::read_to_string(&state).with_context(|| format!("reading {}", state.display()))?;
        let state: crate::train::trainer::State = serde_json::from_str(&text)?;
        return Ok(state.net);
    }
    let path = dir.join("config.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    NetConfig::from_hf_config(&serde_json::from_str(&text)?)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn value(args: ValueArgs) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let (tok_json, tok, bos, pad) = load_tokenizer(&args.policy)?;
    // Settings at their first defaults are left out, so the first runs stay resumable.
    let mut sampling = String::new();
    if (args.estimate, args.temperature) != (Estimate::Prefix, 1.0) {
        sampling = format!(" estimate={:?} temperature={}", args.estimate, args.temperature);
    }
    if matches!(args.estimate, Estimate::Corrupted | Estimate::Process) {
        sampling.push_str(&format!(" corruptions={}", args.corruptions));
    }
    if args.value_targets == ValueTargets::Mixed {
        sampling.push_str(" value_targets=mixed");
    }
    if args.final_samples > 0 {
        sampling.push_str(&format!(" final_samples={}", args.final_samples));
    }
    sampling.push_str(args.value_only.tag());
    let data = format!(
        "round0 seed={} problems={} k={}{sampling} policy={}",
        args.seed,
        args.problems,
        args.k,
        args.policy.display()
    );
    let examples_path = args.out.join("round0_examples.jsonl");
    let schedule = value_schedule(&args.schedule)?;
    // Problems after the ones the policy phase could have seen.
    let held_out = synth::held_out_questions(args.seed, recipe::VALID_PROBLEMS, recipe::TEST_PROBLEMS);
    let problems: Vec<_> =
        synth::TrainStream::new(args.seed, 1 << 40, &held_out).take(args.problems).collect();
    let cfg = Round0Config {
        k: args.k,
        temperature: args.temperature,
        seed: args.seed,
        estimate: args.estimate,
        corruptions: args.corruptions,
        ..Round0Config::default()
    };
    let load_policy = || {
        CandleModel::load(&args.policy, ModelOptions::default())
            .with_context(|| format!("loading {}", args.policy.display()))
    };
    let examples: Vec<Example> = cached_examples(&examples_path, &data, || {
        let mut model = load_policy()?;
        let pool = Pool::new(PoolConfig {
            python: args.python.clone(),
            workers: args.workers.max(1),
            ..PoolConfig::default()
        })
        .context("starting the Python interpreter")?;
        let (examples, stats) = round0::examples(&mut model, &pool, &problems, &cfg, &mut print)?;
        // `steps` plays no rollouts from the root, so it has no root tally to report.
        let roots = match stats.root_rollouts {
            0 => String::new(),
            n => format!("; root rollouts correct {}/{n}", stats.root_correct),
        };
        eprintln!(
            "round 0: {} rollouts in {:.0}s{roots}; {} examples",
            stats.rollouts,
            started.elapsed().as_secs_f64(),
            stats.examples
        );
        Ok(examples)
    })?;
    let siblings = if args.final_samples == 0 {
        Vec::new()
    } else {
        cached_examples(&args.out.join("round0_final_siblings.jsonl"), &data, || {
            let answers = problems.iter().map(|p| (p.question.clone(), p.answer.clone())).collect();
            let t0 = std::time::Instant::now();
            let (siblings, stats) =
                round0::final_siblings(&mut load_policy()?, &examples, &answers, args.final_samples, &cfg)?;
            eprintln!(
                "final-step siblings: {} sampled at {} states in {:.0}s; {} new final steps, {} right",
                stats.sampled,
                stats.states,
                t0.elapsed().as_secs_f64(),
                stats.examples,
                stats.correct
            );
            Ok(siblings)
        })?
    };
    let mut examples = match args.value_targets {
        ValueTargets::All => examples,
        ValueTargets::Mixed => {
            let before = examples.len();
            let kept = keep_mixed_values(examples);
            eprintln!("value targets on mixed problems only: {} of {before} examples kept", kept.len());
            kept
        }
    };
    // Siblings sit with their problem's examples, so the validation split below keeps each
    // problem on one side.
    examples.extend(siblings);
    args.value_only.apply(&mut examples);
    let (train, valid) = split_by_problem(examples);
    let enc = Encoder { tokenizer: &tok, bos, pad };
    let mut run =
        start_run(&args.out, &args.policy, &data, schedule, args.schedule.steps, tok_json.clone(), enc)?;
    run.train(&list_source(&run, train, args.seed), &valid, &mut print)?;
    eprintln!("done in {:.0}s; the model is in {}", started.elapsed().as_secs_f64(), args.out.display());
    Ok(ExitCode::SUCCESS)
}

fn round(args: RoundArgs) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let (tok_json, tok, bos, pad) = load_tokenizer(&args.model)?;
    let limits = PathLimits {
        max_correct: args.max_correct,
        max_incorrect: args.max_incorrect,
        mixed_only: args.value_targets == ValueTargets::Mixed,
    };
    let list =
        |paths: &[PathBuf]| paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(",");
    let data = format!(
        "round seed={} trees={} paths={}+{}{}{} examples={} model={}",
        args.seed,
        list(&args.trees),
        limits.max_correct,
        limits.max_incorrect,
        if limits.mixed_only { " value_targets=mixed" } else { "" },
        args.value_only.tag(),
        list(&args.examples),
        args.model.display()
    );
    let cache = args.out.join("round_examples.jsonl");
    let mut examples = cached_examples(&cache, &data, || tree_examples(&args.trees, limits, args.seed))?;
    for path in &args.examples {
        let more = read_examples(path)?;
        eprintln!("{}: {} examples", path.display(), more.len());
        examples.extend(more);
    }
    args.value_only.apply(&mut examples);
    if examples.is_empty() {
        bail!(
            "no training paths: a tree gives paths when it has a ground truth and terminal leaves \
             (grow the trees with `arbor collect`)"
        );
    }
    let (train, valid) = split_by_problem(examples);
    let enc = Encoder { tokenizer: &tok, bos, pad };
    let schedule = value_schedule(&args.schedule)?;
    let mut run = start_run(&args.out, &args.model, &data, schedule, args.schedule.steps, tok_json, enc)?;
    run.train(&list_source(&run, train, args.seed), &valid, &mut print)?;
    eprintln!("done in {:.0}s; the model is in {}", started.elapsed().as_secs_f64(), args.out.display());
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Args)]
struct ValueOnly {
    /// Train the value loss only (no policy loss): a separate value model for `arbor eval
    /// --value-model`, whose trunk serves the value head alone while the policy stays untouched.
    #[arg(long = "value-only")]
    on: bool,
}

impl ValueOnly {
    /// What it adds to a run's data description.
    fn tag(&self) -> &'static str {
        if self.on { " value_only" } else { "" }
    }

    /// No example trains the policy; those left with no value target to train are dropped.
    fn apply(&self, examples: &mut Vec<Example>) {
        if self.on {
            examples.retain_mut(|ex| {
                ex.policy = false;
                ex.root_value.is_some() || ex.steps.iter().any(|s| s.value.is_some())
            });
        }
    }
}

/// The paths of every tree in `files`; unreadable lines are reported by file and line and
/// skipped, trees without a ground truth are skipped with a count.
fn tree_examples(files: &[PathBuf], limits: PathLimits, seed: u64) -> anyhow::Result<Vec<Example>> {
    let mut examples = Vec::new();
    let (mut total, mut ungraded) = (TreeYield::default(), 0usize);
    let mut trees = 0usize;
    for path in files {
        let file = TreeFile::open(path)?;
        let (loaded, diagnostics) = file.load_all()?;
        for d in diagnostics.iter().filter(|d| d.severity == Severity::Error) {
            eprintln!("{d}");
        }
        for tree in loaded {
            let record = &tree.record;
            let accepted = match problems::ground_truth_of(&record.fields) {
                Ok((truth, _)) if truth.is_known() => truth.accepted().to_vec(),
                _ => {
                    ungraded += 1;
                    continue;
                }
            };
            let (mut paths, got) = trees::examples(
                &record.tree,
                record.question(),
                &accepted,
                limits,
                seed.wrapping_add(tree.line),
            );
            trees += 1;
            total.correct += got.correct;
            total.incorrect += got.incorrect;
            total.kept += got.kept;
            examples.append(&mut paths);
        }
    }
    eprintln!(
        "{trees} trees: {} right and {} wrong distinct paths, {} kept{}",
        total.correct,
        total.incorrect,
        total.kept,
        if ungraded > 0 {
            format!("; {ungraded} trees without a ground truth skipped")
        } else {
            String::new()
        }
    );
    Ok(examples)
}

/// A checkpoint folder's tokenizer: its JSON, the tokenizer, and the BOS and PAD ids.
fn load_tokenizer(dir: &Path) -> anyhow::Result<(String, tokenizers::Tokenizer, u32, u32)> {
    let json = std::fs::read_to_string(dir.join("tokenizer.json"))
        .with_context(|| format!("reading {}/tokenizer.json", dir.display()))?;
    let tok = tokenizers::Tokenizer::from_bytes(json.as_bytes()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let id = |t: &str| tok.token_to_id(t).with_context(|| format!("tokenizer has no {t}"));
    let (bos, pad) = (id(tokenizer::BOS)?, id(tokenizer::PAD)?);
    Ok((json, tok, bos, pad))
}

/// The schedule of a value-training phase (a short fine-tune of a trained policy).
fn value_schedule(args: &ScheduleArgs) -> anyhow::Result<Schedule> {
    let mut schedule = Schedule {
        steps: 150,
        lr: 5e-4,
        warmup: 15,
        valid_every: 50,
        checkpoint_every: 50,
        ..recipe::preset("bundled").map(|r| r.schedule).context("no bundled preset")?
    };
    args.apply(&mut schedule);
    Ok(schedule)
}

/// Train and validation examples: every tenth problem's examples are held out, so a problem's
/// paths all sit on one side.
fn split_by_problem(mut examples: Vec<Example>) -> (Vec<Example>, Vec<Example>) {
    let first_seen: HashMap<String, usize> =
        examples.iter().enumerate().rev().map(|(i, ex)| (ex.question.clone(), i)).collect();
    examples.sort_by_key(|ex| first_seen.get(&ex.question).copied().unwrap_or(usize::MAX));
    let mut train = Vec::new();
    let mut valid = Vec::new();
    let mut question = String::new();
    let mut n = 0usize;
    for ex in examples {
        if ex.question != question {
            question = ex.question.clone();
            n += 1;
        }
        if n.is_multiple_of(10) { valid.push(ex) } else { train.push(ex) }
    }
    (train, valid)
}

/// The training examples as the run's schedule wants them: by question when the ranking loss
/// needs siblings in one batch.
fn list_source(run: &Run<'_>, examples: Vec<Example>, seed: u64) -> ListSource {
    if run.state.schedule.rank_weight > 0.0 {
        ListSource::by_question(examples, seed)
    } else {
        ListSource::new(examples, seed)
    }
}

/// Resumes the run in `out`, or starts one from the checkpoint in `from`.
fn start_run<'a>(
    out: &Path,
    from: &Path,
    data: &str,
    schedule: Schedule,
    steps_asked: Option<u64>,
    tok_json: String,
    enc: Encoder<'a>,
) -> anyhow::Result<Run<'a>> {
    if has_checkpoint(out) {
        let mut run = Run::resume(out, data, tok_json, enc)?;
        eprintln!("resuming {} at step {}", out.display(), run.state.step);
        extend_schedule(&mut run, steps_asked);
        return Ok(run);
    }
    let mut cfg = load_net_config(from)?;
    // The declared context must hold the search's default max_tokens (see Recipe).
    cfg.max_position_embeddings = cfg.max_position_embeddings.max(CONTEXT);
    let net = Net::load(cfg, &from.join("model.safetensors"))?;
    Ok(Run::new(out, net, schedule, data.to_owned(), tok_json, enc)?)
}

/// `--steps` beyond a resumed run's schedule extends it: the cosine is recomputed over the new
/// total (a warm restart from where the old schedule had decayed to).
fn extend_schedule(run: &mut Run<'_>, steps_asked: Option<u64>) {
    if let Some(steps) = steps_asked.filter(|&s| s > run.state.schedule.steps) {
        eprintln!("extending the schedule from {} to {steps} steps", run.state.schedule.steps);
        run.state.schedule.steps = steps;
    }
}

/// The examples cached at `path` for the run `data` describes, or else `build`'s, cached there.
/// Each cache has a `.data` file beside it naming what it was built from, so a run interrupted
/// before its first checkpoint cannot resume on another run's data. (Caches older than these
/// files are reused as before.)
fn cached_examples(
    path: &Path,
    data: &str,
    build: impl FnOnce() -> anyhow::Result<Vec<Example>>,
) -> anyhow::Result<Vec<Example>> {
    let tag = path.with_extension("data");
    if path.exists() {
        if let Ok(built_for) = std::fs::read_to_string(&tag)
            && built_for != data
        {
            bail!(
                "{} was built for \"{built_for}\", this run asks for \"{data}\"; use a new --out",
                path.display()
            );
        }
        return read_examples(path);
    }
    let examples = build()?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&tag, data).with_context(|| format!("writing {}", tag.display()))?;
    write_examples(path, &examples)?;
    Ok(examples)
}

fn read_examples(path: &Path) -> anyhow::Result<Vec<Example>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line)
                .with_context(|| format!("{}:{}: not a training example", path.display(), i + 1))
        })
        .collect()
}

fn write_examples(path: &Path, examples: &[Example]) -> anyhow::Result<()> {
    let mut text = String::new();
    for ex in examples {
        text.push_str(&serde_json::to_string(ex)?);
        text.push('\n');
    }
    // Written aside and renamed, so an interrupted run never leaves half a file to resume from.
    let partial = path.with_extension("jsonl.partial");
    std::fs::write(&partial, text).with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("writing {}", path.display()))
}
