//! The training loop: batches of [`Example`]s through [`Net`], policy cross-entropy plus
//! `value_weight` × value MSE (reference §10.5), AdamW with warm-up + cosine decay, gradient
//! clipping, periodic validation, and resumable checkpoints.
//!
//! Layout of an output folder:
//! * `config.json`, `model.safetensors`, `tokenizer.json`: the latest weights as an HF folder
//!   that arbor's model backend loads (`--model {out}`);
//! * `train_state/optimizer.safetensors`, `train_state/state.json`: what a resumed run needs
//!   (AdamW moments, step, position in the example stream, the run's settings);
//! * `train_log.jsonl`: one line per logged step and per validation.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::Tensor;
use candle_core::backprop::GradStore;
use serde::{Deserialize, Serialize};

use super::data::{Encoded, Example, encode};
use super::net::{Batch, IGNORE, Net, NetConfig, losses, losses_over, rank_loss};
use super::pairs::{Pair, pairs};

/// Threads (and batch parts) of one training step.
const SHARDS: usize = 2;
use super::optim::{AdamW, AdamWParams, schedule};

/// Why training stopped.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    #[error(transparent)]
    Tokenizer(#[from] super::tokenizer::TokenizerError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    State(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TrainError + '_ {
    move |source| TrainError::Io { path: path.to_owned(), source }
}

/// Optimisation settings of one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    pub steps: u64,
    pub batch_size: usize,
    pub lr: f64,
    pub warmup: u64,
    /// The learning rate decays to `lr * min_lr_ratio`.
    pub min_lr_ratio: f64,
    pub clip: f64,
    pub value_weight: f64,
    /// Weight of the ranking loss over sibling pairs ([`super::pairs`]); 0 leaves it out.
    #[serde(default)]
    pub rank_weight: f64,
    /// Longer examples are skipped.
    pub max_len: usize,
    pub adamw: AdamWParams,
    pub log_every: u64,
    pub valid_every: u64,
    pub checkpoint_every: u64,
}

/// Where a run is: written with every checkpoint.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct State {
    pub step: u64,
    /// Position in the example stream.
    pub position: u64,
    pub schedule: Schedule,
    pub net: NetConfig,
    /// Free-form description of the data (phase, seed), checked on resume.
    pub data: String,
}

/// A deterministic stream of training examples that can be repositioned.
pub trait Source {
    /// The example at `position` and the position after it.
    fn example(&self, position: u64) -> (Example, u64);
}

/// Mean losses over a validation set.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Validation {
    pub policy: f64,
    pub value: Option<f64>,
    /// Fraction of labelled tokens whose argmax is the label.
    pub token_accuracy: f64,
    /// Fraction of sibling pairs ([`super::pairs`]) the values put in order, and their count
    /// (pairs are found within each validation batch).
    pub pair_accuracy: Option<f64>,
    pub pairs: usize,
}

/// The tokenizer used to encode examples.
pub struct Encoder<'a> {
    pub tokenizer: &'a tokenizers::Tokenizer,
    pub bos: u32,
    pub pad: u32,
}

impl Encoder<'_> {
    fn encode(&self, ex: &Example, max_len: usize) -> Result<Option<Encoded>, TrainError> {
        Ok(encode(self.tokenizer, self.bos, ex, max_len)?)
    }
}

fn batch_of(rows: &[Encoded], pad: u32) -> candle_core::Result<Batch> {
    let refs: Vec<(&[u32], &[u32], &[f32])> =
        rows.iter().map(|r| (r.ids.as_slice(), r.labels.as_slice(), r.values.as_slice())).collect();
    Batch::new(&refs, pad)
}

/// The sibling pairs among `rows`.
fn pairs_in(rows: &[Encoded]) -> Vec<Pair> {
    let marks: Vec<_> = rows.iter().map(|r| (&r.marks, r.values.as_slice())).collect();
    pairs(&marks)
}

/// Pairs of (preferred, other) positions in a part's flattened outputs.
type FlatPairs = Vec<(u32, u32)>;

/// `pairs` as positions in the flattened outputs of a batch padded to `t` tokens.
fn flat(pairs: &[Pair], t: usize) -> FlatPairs {
    let at = |(row, pos): (usize, usize)| (row * t + pos) as u32;
    pairs.iter().map(|p| (at(p.better), at(p.worse))).collect()
}

/// Splits a batch into [`SHARDS`] runs of rows, about equal; with `keep_questions` each cut
/// moves to the nearest change of question (none is made without one), so siblings share a
/// part.
fn shard_bounds(rows: &[Encoded], keep_questions: bool) -> Vec<std::ops::Range<usize>> {
    let n = rows.len();
    let per = n.div_ceil(SHARDS).max(1);
    let mut cuts = vec![0];
    for k in 1..SHARDS {
        let prev = cuts.last().copied().unwrap_or(0);
        let even = (k * per).clamp(prev, n);
        let cut = if keep_questions {
            (prev + 1..n)
                .filter(|&i| rows[i].marks.question != rows[i - 1].marks.question)
                .min_by_key(|&i| i.abs_diff(even))
                .unwrap_or(prev)
        } else {
            even
        };
        cuts.push(cut);
    }
    cuts.push(n);
    cuts.windows(2).map(|w| w[0]..w[1]).filter(|r| !r.is_empty()).collect()
}

/// Losses of `net` over `examples`, in batches of `batch_size`.
pub fn validate(
    net: &Net,
    enc: &Encoder<'_>,
    examples: &[Example],
    batch_size: usize,
    max_len: usize,
) -> Result<Validation, TrainError> {
    let mut rows = Vec::new();
    for ex in examples {
        rows.extend(enc.encode(ex, max_len)?);
    }
    let (mut policy, mut labelled, mut value, mut valued, mut correct) = (0f64, 0usize, 0f64, 0usize, 0f64);
    let (mut ordered, mut paired) = (0usize, 0usize);
    for chunk in rows.chunks(batch_size.max(1)) {
        let batch = batch_of(chunk, enc.pad)?;
        let out = net.forward(&batch.ids)?;
        let found = flat(&pairs_in(chunk), batch.ids.dim(1)?);
        if !found.is_empty() {
            let values: Vec<f32> = out.values.to_vec1()?;
            let get = |i: u32| values.get(i as usize).copied().unwrap_or(f32::NAN);
            ordered += found.iter().filter(|&&(b, w)| get(b) > get(w)).count();
            paired += found.len();
        }
        let l = losses(&out, &batch)?;
        policy += l.policy.to_scalar::<f32>()? as f64 * batch.labelled as f64;
        labelled += batch.labelled;
        value += l.value.to_scalar::<f32>()? as f64 * (batch.valued as f64 + 1e-3);
        valued += batch.valued;
        let hits = out.logits.argmax(1)?.eq(&batch.labels)?.to_dtype(candle_core::DType::F32)?;
        correct += (hits * &batch.label_mask)?.sum_all()?.to_scalar::<f32>()? as f64;
    }
    Ok(Validation {
        policy: policy / labelled.max(1) as f64,
        value: (valued > 0).then(|| value / valued as f64),
        token_accuracy: correct / labelled.max(1) as f64,
        pair_accuracy: (paired > 0).then(|| ordered as f64 / paired as f64),
        pairs: paired,
    })
}

/// One step's losses (each over the whole batch) and its sibling pair count.
#[derive(Clone, Copy, Debug, Default)]
struct StepLosses {
    policy: f64,
    value: f64,
    rank: f64,
    pairs: usize,
}

/// A training run writing into `out`.
pub struct Run<'a> {
    pub out: PathBuf,
    pub net: Net,
    pub opt: AdamW,
    pub state: State,
    pub tokenizer_json: String,
    pub encoder: Encoder<'a>,
}

fn state_dir(out: &Path) -> PathBuf {
    out.join("train_state")
}

/// Whether `out` holds a checkpoint to resume.
pub fn has_checkpoint(out: &Path) -> bool {
    state_dir(out).join("state.json").exists()
}

impl<'a> Run<'a> {
    /// A fresh run from `net`.
    pub fn new(
        out: &Path,
        net: Net,
        schedule: Schedule,
        data: String,
        tokenizer_json: String,
        encoder: Encoder<'a>,
    ) -> Result<Run<'a>, TrainError> {
        let opt = AdamW::new(net.params(), schedule.adamw.clone())?;
        let state = State { step: 0, position: 0, schedule, net: net.cfg.clone(), data };
        Ok(Run { out: out.to_owned(), net, opt, state, tokenizer_json, encoder })
    }

    /// Resumes the run in `out`; the weights, optimizer and position are the checkpoint's.
    pub fn resume(
        out: &Path,
        data: &str,
        tokenizer_json: String,
        encoder: Encoder<'a>,
    ) -> Result<Run<'a>, TrainError> {
        let dir = state_dir(out);
        let path = dir.join("state.json");
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let state: State =
            serde_json::from_str(&text).map_err(|e| TrainError::State(format!("{}: {e}", path.display())))?;
        if state.data != data {
            return Err(TrainError::State(format!(
                "{} was trained on {:?}, this run asks for {:?}; use a new --out",
                out.display(),
                state.data,
                data
            )));
        }
        let net = Net::load(state.net.clone(), &out.join("model.safetensors"))?;
        let mut opt = AdamW::new(net.params(), state.schedule.adamw.clone())?;
        let moments =
            candle_core::safetensors::load(dir.join("optimizer.safetensors"), &candle_core::Device::Cpu)?;
        opt.restore(&moments, state.step)?;
        Ok(Run { out: out.to_owned(), net, opt, state, tokenizer_json, encoder })
    }

    /// Writes the HF folder and the resumable state (each file replaced atomically).
    pub fn checkpoint(&self) -> Result<(), TrainError> {
        let tmp = self.out.join(".checkpoint.tmp");
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
        }
        self.net.save_hf(&tmp, &self.tokenizer_json).map_err(io(&tmp))?;
        candle_core::safetensors::save(&self.opt.state(), tmp.join("optimizer.safetensors"))?;
        let state =
            serde_json::to_string_pretty(&self.state).map_err(|e| TrainError::State(e.to_string()))?;
        std::fs::write(tmp.join("state.json"), state).map_err(io(&tmp))?;
        let dir = state_dir(&self.out);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        for f in ["config.json", "model.safetensors", "tokenizer.json"] {
            std::fs::rename(tmp.join(f), self.out.join(f)).map_err(io(&self.out))?;
        }
        for f in ["optimizer.safetensors", "state.json"] {
            std::fs::rename(tmp.join(f), dir.join(f)).map_err(io(&dir))?;
        }
        std::fs::remove_dir_all(&tmp).map_err(io(&tmp))
    }

    fn log(&self, line: serde_json::Value) -> Result<(), TrainError> {
        let path = self.out.join("train_log.jsonl");
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path).map_err(io(&path))?;
        writeln!(f, "{line}").map_err(io(&path))
    }

    /// Gradients of the batch `rows`, computed in [`SHARDS`] threads on parts of it (candle's
    /// element-wise CPU kernels are single-threaded); the parts' losses are normalised by the
    /// whole batch's counts, so their gradients add up to the whole batch's. The ranking loss
    /// sees the sibling pairs within each part. Returns the gradients, the losses and the
    /// padded token count.
    fn gradients(&self, rows: &[Encoded]) -> Result<(GradStore, StepLosses, usize), TrainError> {
        let (weight, rank_weight) = (self.state.schedule.value_weight, self.state.schedule.rank_weight);
        let labelled: usize = rows.iter().map(|r| r.labels.iter().filter(|&&l| l != IGNORE).count()).sum();
        let valued: usize = rows.iter().map(|r| r.values.iter().filter(|v| !v.is_nan()).count()).sum();
        let ranking = rank_weight > 0.0;
        let parts: Vec<(&[Encoded], Vec<Pair>)> = shard_bounds(rows, ranking)
            .into_iter()
            .map(|r| {
                let part = &rows[r];
                (part, if ranking { pairs_in(part) } else { Vec::new() })
            })
            .collect();
        let paired: usize = parts.iter().map(|(_, p)| p.len()).sum();
        let net = &self.net;
        let pad = self.encoder.pad;
        let shard = |part: &[Encoded],
                     pairs: &[Pair]|
         -> candle_core::Result<(GradStore, StepLosses, usize)> {
            let batch = batch_of(part, pad)?;
            let out = net.forward(&batch.ids)?;
            let l = losses_over(&out, &batch, labelled, valued)?;
            let mut total = (&l.policy + (&l.value * weight)?)?;
            let mut rank = 0.0;
            if !pairs.is_empty() {
                let r = rank_loss(&out, &flat(pairs, batch.ids.dim(1)?), paired)?;
                rank = scalar(&r)?;
                total = (total + (r * rank_weight)?)?;
            }
            let losses =
                StepLosses { policy: scalar(&l.policy)?, value: scalar(&l.value)?, rank, pairs: pairs.len() };
            Ok((total.backward()?, losses, batch.ids.elem_count()))
        };
        let results: Vec<candle_core::Result<(GradStore, StepLosses, usize)>> = std::thread::scope(|scope| {
            let handles: Vec<_> =
                parts.iter().map(|(part, pairs)| scope.spawn(move || shard(part, pairs))).collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(candle_core::Error::Msg("a training thread panicked".into())))
                })
                .collect()
        });
        let mut merged: Option<GradStore> = None;
        let mut sum = StepLosses::default();
        let mut tokens = 0;
        for r in results {
            let (grads, l, t) = r?;
            sum.policy += l.policy;
            sum.value += l.value;
            sum.rank += l.rank;
            sum.pairs += l.pairs;
            tokens += t;
            merged = Some(match merged {
                None => grads,
                Some(mut acc) => {
                    for (_, var) in self.net.params() {
                        let x = var.as_tensor();
                        if let Some(g) = grads.get(x) {
                            let sum = match acc.remove(x) {
                                Some(a) => (a + g)?,
                                None => g.clone(),
                            };
                            acc.insert(x, sum);
                        }
                    }
                    acc
                }
            });
        }
        let grads = merged.ok_or_else(|| TrainError::State("an empty batch".into()))?;
        Ok((grads, sum, tokens))
    }

    /// Trains until `state.schedule.steps`, validating on `valid` and checkpointing as the
    /// schedule says (and at the end). `progress` receives each log line.
    pub fn train(
        &mut self,
        source: &dyn Source,
        valid: &[Example],
        progress: &mut dyn FnMut(&str),
    ) -> Result<(), TrainError> {
        std::fs::create_dir_all(&self.out).map_err(io(&self.out))?;
        let s = self.state.schedule.clone();
        let started = Instant::now();
        let first = self.state.step;
        while self.state.step < s.steps {
            let t0 = Instant::now();
            let mut rows = Vec::with_capacity(s.batch_size);
            while rows.len() < s.batch_size {
                let (ex, next) = source.example(self.state.position);
                self.state.position = next;
                rows.extend(self.encoder.encode(&ex, s.max_len)?);
            }
            let (mut grads, l, tokens) = self.gradients(&rows)?;
            let norm = self.opt.clip(&mut grads, s.clip)?;
            let lr = schedule(s.lr, self.state.step, s.warmup, s.steps, s.min_lr_ratio);
            self.opt.step(&grads, lr)?;
            self.state.step += 1;
            let step = self.state.step;
            if step.is_multiple_of(s.log_every) || step == s.steps {
                let per_step = started.elapsed().as_secs_f64() / (step - first) as f64;
                let mut line = serde_json::json!({"step": step, "policy_loss": l.policy, "value_loss": l.value,
                    "lr": lr, "grad_norm": norm, "tokens": tokens, "s_per_step": per_step,
                    "this_step_s": t0.elapsed().as_secs_f64()});
                if s.rank_weight > 0.0 {
                    line["rank_loss"] = l.rank.into();
                    line["pairs"] = l.pairs.into();
                }
                progress(&line.to_string());
                self.log(line)?;
            }
            if (s.valid_every > 0 && step.is_multiple_of(s.valid_every)) || step == s.steps {
                let v = validate(&self.net, &self.encoder, valid, s.batch_size, s.max_len)?;
                let line = serde_json::json!({"step": step, "valid": v});
                progress(&line.to_string());
                self.log(line)?;
            }
            if (s.checkpoint_every > 0 && step.is_multiple_of(s.checkpoint_every)) || step == s.steps {
                self.checkpoint()?;
            }
        }
        Ok(())
    }
}

fn scalar(t: &Tensor) -> candle_core::Result<f64> {
    Ok(t.to_scalar::<f32>()? as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::data::PathStep;
    use crate::train::recipe::gold_example;
    use crate::train::synth::{self, Split};
    use crate::train::tokenizer::{self, BOS, PAD};

    struct Fixed(Vec<Example>);

    impl Source for Fixed {
        fn example(&self, position: u64) -> (Example, u64) {
            (self.0[position as usize % self.0.len()].clone(), position + 1)
        }
    }

    fn setup() -> (tokenizer::Bpe, Vec<Example>) {
        let ps = synth::problems(2, Split::Train, 30);
        let texts: Vec<String> = ps.iter().map(|p| p.solution()).collect();
        let bpe = tokenizer::learn(&texts, 80, 2).unwrap();
        // Short examples (level 1) with value targets on both step ends.
        let examples: Vec<Example> = ps
            .iter()
            .filter(|p| p.level == 1)
            .take(2)
            .map(|p| {
                let mut ex = gold_example(p);
                ex.root_value = Some(0.5);
                for (s, v) in ex.steps.iter_mut().zip([0.25, 1.0]) {
                    *s = PathStep { value: Some(v), ..s.clone() };
                }
                ex
            })
            .collect();
        (bpe, examples)
    }

    fn schedule(steps: u64) -> Schedule {
        Schedule {
            steps,
            batch_size: 2,
            lr: 1e-2,
            warmup: 2,
            min_lr_ratio: 0.1,
            clip: 1.0,
            value_weight: 1.0,
            rank_weight: 0.0,
            max_len: 512,
            adamw: AdamWParams::default(),
            log_every: 1,
            valid_every: 0,
            checkpoint_every: 0,
        }
    }

    fn cfg(bpe: &tokenizer::Bpe) -> NetConfig {
        NetConfig {
            vocab_size: bpe.vocab_size(),
            hidden_size: 16,
            num_layers: 1,
            num_heads: 2,
            intermediate_size: 32,
            max_position_embeddings: 512,
            rope_theta: 10_000.0,
            rms_norm_eps: 1e-5,
            bos_token_id: bpe.id(BOS).unwrap(),
            eos_token_id: bpe.id(tokenizer::EOS).unwrap(),
        }
    }

    #[test]
    fn training_steps_reduce_both_losses() {
        let (bpe, examples) = setup();
        let tok = bpe.tokenizer().unwrap();
        let enc = || Encoder { tokenizer: &tok, bos: bpe.id(BOS).unwrap(), pad: bpe.id(PAD).unwrap() };
        let dir = tempfile::tempdir().unwrap();
        let net = Net::new(cfg(&bpe), 1).unwrap();
        let before = validate(&net, &enc(), &examples, 2, 512).unwrap();
        let mut run = Run::new(dir.path(), net, schedule(25), "t".into(), bpe.to_json(), enc()).unwrap();
        run.train(&Fixed(examples.clone()), &examples, &mut |_| {}).unwrap();
        let after = validate(&run.net, &enc(), &examples, 2, 512).unwrap();
        assert!(after.policy < 0.8 * before.policy, "{before:?} -> {after:?}");
        assert!(after.value.unwrap() < 0.5 * before.value.unwrap(), "{before:?} -> {after:?}");
    }

    #[test]
    fn the_ranking_loss_alone_teaches_the_value_head_to_order_siblings() {
        let ps = synth::problems(2, Split::Train, 60);
        let texts: Vec<String> = ps.iter().map(|p| p.solution()).collect();
        let bpe = tokenizer::learn(&texts, 80, 2).unwrap();
        let tok = bpe.tokenizer().unwrap();
        let enc = || Encoder { tokenizer: &tok, bos: bpe.id(BOS).unwrap(), pad: bpe.id(PAD).unwrap() };
        // Per question, the gold path and a sibling whose final answer is off by one, valued
        // only at the final step (+1 and −1): one pair each, two questions to a batch.
        let mut examples = Vec::new();
        for p in ps.iter().filter(|p| p.steps.len() == 2).take(6) {
            let mut right = gold_example(p);
            right.policy = false;
            right.steps[1].value = Some(1.0);
            let mut wrong = right.clone();
            let answer = p.answer.parse::<i64>().expect("an integer answer") + 1;
            wrong.steps[1].generated = format!("<step>\n<p>\nFinal Answer: {answer}\n</p>\n</step>");
            wrong.steps[1].value = Some(-1.0);
            examples.extend([right, wrong]);
        }
        assert_eq!(examples.len(), 12);
        let net = Net::new(cfg(&bpe), 2).unwrap();
        let schedule = Schedule { batch_size: 4, value_weight: 0.0, rank_weight: 1.0, ..schedule(60) };
        let dir = tempfile::tempdir().unwrap();
        let mut run = Run::new(dir.path(), net, schedule, "t".into(), bpe.to_json(), enc()).unwrap();
        let mut logged: Vec<(f64, u64)> = Vec::new();
        run.train(&Fixed(examples.clone()), &examples, &mut |line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            if let (Some(r), Some(n)) = (v["rank_loss"].as_f64(), v["pairs"].as_u64()) {
                logged.push((r, n));
            }
        })
        .unwrap();
        // Every batch of two whole questions holds their two pairs, in the parts' threads.
        assert!(logged.iter().all(|&(_, n)| n == 2), "{logged:?}");
        let (first, last) = (logged[0].0, logged[logged.len() - 1].0);
        assert!(last < 0.25 * first, "rank loss {first} -> {last}");
        let after = validate(&run.net, &enc(), &examples, 4, 512).unwrap();
        assert_eq!((after.pair_accuracy, after.pairs), (Some(1.0), 6), "{after:?}");
    }

    #[test]
    fn a_resumed_run_continues_as_an_uninterrupted_one_and_its_checkpoint_loads_in_the_backend() {
        use crate::model::{CandleModel, ModelOptions};
        let (bpe, examples) = setup();
        let tok = bpe.tokenizer().unwrap();
        let enc = || Encoder { tokenizer: &tok, bos: bpe.id(BOS).unwrap(), pad: bpe.id(PAD).unwrap() };
        let source = Fixed(examples.clone());
        let fresh = |dir: &Path| {
            Run::new(dir, Net::new(cfg(&bpe), 5).unwrap(), schedule(6), "t".into(), bpe.to_json(), enc())
                .unwrap()
        };
        let whole = tempfile::tempdir().unwrap();
        let mut run = fresh(whole.path());
        run.train(&source, &examples, &mut |_| {}).unwrap();

        let split = tempfile::tempdir().unwrap();
        let mut first = fresh(split.path());
        first.state.schedule.steps = 3; // stop early, as an interrupted run would
        first.train(&source, &examples, &mut |_| {}).unwrap();
        assert!(has_checkpoint(split.path()));
        let mut resumed = Run::resume(split.path(), "t", bpe.to_json(), enc()).unwrap();
        assert_eq!(resumed.state.step, 3);
        assert!(Run::resume(split.path(), "other data", bpe.to_json(), enc()).is_err());
        resumed.state.schedule.steps = 6;
        resumed.train(&source, &examples, &mut |_| {}).unwrap();
        for ((name, a), (_, b)) in run.net.params().iter().zip(resumed.net.params()) {
            let d = (a.as_tensor() - b.as_tensor()).unwrap().abs().unwrap().max_all().unwrap();
            assert!(d.to_scalar::<f32>().unwrap() < 1e-6, "{name}");
        }

        // The checkpoint folder is a model the backend runs, with the same values.
        let mut model = CandleModel::load(split.path(), ModelOptions::default()).unwrap();
        let prompt = crate::train::data::root_prompt(&examples[0].question);
        let state = model.prompt_state(&prompt).unwrap();
        let ids = tok.encode(prompt.as_str(), true).unwrap().get_ids().to_vec();
        let out = resumed
            .net
            .forward(&Tensor::new(ids.as_slice(), &candle_core::Device::Cpu).unwrap().unsqueeze(0).unwrap())
            .unwrap();
        let value: f32 = out.values.get(ids.len() - 1).unwrap().to_scalar().unwrap();
        assert!((value - state.value.unwrap()).abs() < 1e-4);
    }
}
