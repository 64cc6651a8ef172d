//! The local backend: arbor's transformer, a tokenizer, an optional value head and the prefix
//! KV cache, behind [`Policy`] and [`ValueModel`].

use std::path::{Path, PathBuf};

use candle_core::{DType, Tensor};

use super::error::{GGUF_HINT, HF_LAYOUT_HINT};
use super::gguf::{GgufSource, gguf_config, read_content};
use super::judge::{true_probability, verdict_tokens};
use super::prefix_cache::Hit;
use super::safetensors_weights::{SafetensorsSource, safetensors_files};
use super::sampling::{Rng, SampleParams, sample_token};
use super::stop::StopMatcher;
use super::text_stream::TextStream;
use super::transformer::{last_position, to_f32_vec};
use super::{
    ArchConfig, Candidate, DeviceChoice, Error, Finish, GenRequest, GenResponse, Judge, KvBuffer, Policy,
    PrefixCache, Tokenizer, Transformer, ValueHead, ValueModel, tokenizer_from_gguf,
};

/// How to load and run a local model.
#[derive(Debug, Clone)]
pub struct ModelOptions {
    pub device: DeviceChoice,
    /// Weight/activation dtype of safetensors models; `None` picks f32 on CPU (bf16 when the
    /// f32 copy would not fit comfortably) and bf16 on CUDA. GGUF models always run f32
    /// activations over their quantized weights.
    pub dtype: Option<DType>,
    /// Budget of the prefix KV cache in bytes; 0 disables it.
    pub kv_cache_bytes: usize,
    /// Also cache each sampled continuation, so a child's prompt (parent prompt + step) is found
    /// almost entirely in the cache.
    pub cache_samples: bool,
    /// Convert GGUF tensors without fast CPU kernels (Q4_1, Q5_x) to Q8_0 at load.
    pub requantize: bool,
    /// A value head file (`.pth` or `.safetensors`) to use instead of / in addition to the
    /// checkpoint's (GGUF files carry none).
    pub value_head: Option<PathBuf>,
    /// Override the context length.
    pub context_len: Option<usize>,
    /// Prompt tokens per prefill forward (bounds the attention matrix).
    pub prefill_chunk: usize,
    /// Samples decoded together at most (whole requests are grouped up to this many rows).
    pub max_batch_rows: usize,
    /// GGUF: keep an f32 copy of the quantized weights for prefill (about 4x faster prefill
    /// for 4 bytes per parameter of memory). `None`: on for files up to 1 GiB.
    pub dense_prefill: Option<bool>,
}

impl Default for ModelOptions {
    fn default() -> Self {
        Self {
            device: DeviceChoice::Cpu,
            dtype: None,
            kv_cache_bytes: 1 << 30,
            cache_samples: true,
            requantize: true,
            value_head: None,
            context_len: None,
            prefill_chunk: 512,
            dense_prefill: None,
            max_batch_rows: 64,
        }
    }
}

/// Token accounting, for benchmarks and the cache's effect.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Prompt tokens of all prefills.
    pub prompt_tokens: u64,
    /// Prompt tokens actually run through the network.
    pub prompt_tokens_encoded: u64,
    /// Prompt tokens whose keys/values came from the cache.
    pub prompt_tokens_reused: u64,
    /// Tokens sampled.
    pub generated_tokens: u64,
    /// Prefills (one per request or value query).
    pub prefills: u64,
}

/// The model's view of a prompt: last-position logits and the value there.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptState {
    pub tokens: usize,
    /// Leading tokens taken from the cache.
    pub reused: usize,
    pub logits: Vec<f32>,
    pub value: Option<f32>,
}

/// A loaded model. Not `Sync`: one engine thread drives it.
#[derive(Debug)]
pub struct CandleModel {
    net: Transformer,
    tokenizer: Tokenizer,
    value_head: Option<ValueHead>,
    cache: PrefixCache,
    opts: ModelOptions,
    stats: CacheStats,
    name: String,
}

impl CandleModel {
    /// Loads an HF checkpoint folder or a `.gguf` file.
    pub fn load(path: &Path, opts: ModelOptions) -> Result<Self, Error> {
        if path.is_dir() {
            Self::load_hf(path, opts)
        } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gguf")) {
            if !path.exists() {
                return Err(Error::bad_model(path, "file not found", GGUF_HINT));
            }
            Self::load_gguf(path, opts)
        } else if !path.exists() {
            Err(Error::bad_model(path, "no such folder or .gguf file", HF_LAYOUT_HINT))
        } else {
            Err(Error::bad_model(path, "neither a checkpoint folder nor a .gguf file", HF_LAYOUT_HINT))
        }
    }

    fn load_hf(dir: &Path, opts: ModelOptions) -> Result<Self, Error> {
        let cfg = ArchConfig::from_hf_dir(dir)?;
        let tok_path = dir.join("tokenizer.json");
        if !tok_path.exists() {
            return Err(Error::bad_model(&tok_path, "tokenizer.json is missing", HF_LAYOUT_HINT));
        }
        let files = safetensors_files(dir)?;
        let device = opts.device.device()?;
        let dtype = opts.dtype.unwrap_or_else(|| {
            let bytes: u64 = files.iter().filter_map(|f| f.metadata().ok()).map(|m| m.len()).sum();
            // Stored bf16 weights double in f32: above ~6 GiB on disk keep them bf16.
            if device.is_cuda() || bytes > 6 << 30 { DType::BF16 } else { DType::F32 }
        });
        let mut src = SafetensorsSource::open(dir, &files, dtype, &device)?;
        let mut eos = cfg.eos_token_ids.clone();
        let value_model = cfg.value_model;
        let hidden = cfg.hidden_size;
        let net = Transformer::load(cfg, &mut src, dtype, &device, false)?;
        let value_head = match &opts.value_head {
            Some(p) => Some(load_head_file(p, hidden, &device)?),
            None if value_model => Some(find_value_head(dir, &src, hidden, &device)?),
            None => None,
        };
        let mut tokenizer = Tokenizer::from_file(&tok_path, Vec::new())?;
        if eos.is_empty() {
            eos = ["</s>", "<|endoftext|>", "<|im_end|>", "<｜end▁of▁sentence｜>"]
                .iter()
                .filter_map(|t| tokenizer.token_id(t))
                .collect();
        }
        tokenizer = Tokenizer::new(tokenizer.inner().clone(), eos);
        Ok(Self::assemble(net, tokenizer, value_head, opts, dir))
    }

    fn load_gguf(path: &Path, opts: ModelOptions) -> Result<Self, Error> {
        let (content, file) = read_content(path)?;
        let cfg = gguf_config(&content, path)?;
        let tokenizer = tokenizer_from_gguf(&content)
            .map_err(|e| Error::bad_model(path, format!("cannot rebuild the tokenizer: {e}"), GGUF_HINT))?;
        let device = opts.device.device()?;
        let hidden = cfg.hidden_size;
        let mut src = GgufSource::new(content, file, path, &device, opts.requantize);
        let small = path.metadata().map(|m| m.len() <= 1 << 30).unwrap_or(false);
        let dense_prefill = opts.dense_prefill.unwrap_or(small);
        let net = Transformer::load(cfg, &mut src, DType::F32, &device, dense_prefill)?;
        let value_head = match &opts.value_head {
            Some(p) => Some(load_head_file(p, hidden, &device)?),
            None => None,
        };
        Ok(Self::assemble(net, tokenizer, value_head, opts, path))
    }

    fn assemble(
        net: Transformer,
        tokenizer: Tokenizer,
        value_head: Option<ValueHead>,
        opts: ModelOptions,
        path: &Path,
    ) -> Self {
        let name = path.file_name().map_or_else(|| "model".to_string(), |n| n.to_string_lossy().into_owned());
        Self {
            net,
            tokenizer,
            value_head,
            cache: PrefixCache::new(opts.kv_cache_bytes),
            opts,
            stats: CacheStats::default(),
            name,
        }
    }

    /// Puts a model together from parts (tests, custom loaders).
    pub fn from_parts(
        net: Transformer,
        tokenizer: Tokenizer,
        value_head: Option<ValueHead>,
        opts: ModelOptions,
    ) -> Self {
        Self::assemble(net, tokenizer, value_head, opts, Path::new("model"))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    pub fn transformer(&self) -> &Transformer {
        &self.net
    }

    pub fn has_value_head(&self) -> bool {
        self.value_head.is_some()
    }

    pub fn stats(&self) -> CacheStats {
        self.stats
    }

    pub fn reset_stats(&mut self) {
        self.stats = CacheStats::default();
    }

    pub fn cache(&self) -> &PrefixCache {
        &self.cache
    }

    /// Empties the prefix cache (and optionally resizes it).
    pub fn reset_cache(&mut self, budget_bytes: Option<usize>) {
        self.cache = PrefixCache::new(budget_bytes.unwrap_or(self.cache.budget_bytes()));
    }

    /// Prompt plus generation must fit this many tokens.
    pub fn context_len(&self) -> usize {
        let ctx = self.net.config().max_position_embeddings;
        self.opts.context_len.map_or(ctx, |c| c.min(ctx))
    }

    /// Runs a prompt (reusing cached keys/values) and returns its last-position logits and value.
    pub fn prompt_state(&mut self, prompt: &str) -> Result<PromptState, Error> {
        let tokens = self.encode_prompt(prompt)?;
        let (_, hit, last) = self.prefill(&tokens, 0)?;
        let value = self.value_of(&last)?;
        Ok(PromptState {
            tokens: tokens.len(),
            reused: hit.reused,
            logits: to_f32_vec(&self.net.logits(&last)?)?,
            value,
        })
    }

    fn encode_prompt(&self, prompt: &str) -> Result<Vec<u32>, Error> {
        let tokens = self.tokenizer.encode(prompt)?;
        if tokens.is_empty() {
            return Err(Error::InvalidRequest("the prompt encodes to no tokens".into()));
        }
        Ok(tokens)
    }

    fn value_of(&self, last_hidden: &Tensor) -> Result<Option<f32>, Error> {
        match &self.value_head {
            Some(head) => Ok(head.apply(last_hidden)?.first().copied()),
            None => Ok(None),
        }
    }

    /// Encodes `tokens` into a one-row buffer, starting from the longest cached prefix (always
    /// re-running the last token, whose hidden state the caller needs), and caches the result.
    fn prefill(&mut self, tokens: &[u32], room: usize) -> Result<(super::KvBuffer, Hit, Tensor), Error> {
        let hit = self.cache.lookup(tokens, tokens.len() - 1);
        let mut kv = self.net.new_kv(1, tokens.len() + room)?;
        self.cache.restore(&hit, &kv)?;
        kv.set_len(hit.reused);
        let mut last = None;
        for chunk in tokens[hit.reused..].chunks(self.opts.prefill_chunk.max(1)) {
            let hidden = self.net.forward(&[chunk.to_vec()], &mut kv)?;
            last = Some(last_position(&hidden)?);
        }
        let last = last.ok_or_else(|| Error::InvalidRequest("empty prompt".into()))?;
        self.stats.prefills += 1;
        self.stats.prompt_tokens += tokens.len() as u64;
        self.stats.prompt_tokens_reused += hit.reused as u64;
        self.stats.prompt_tokens_encoded += (tokens.len() - hit.reused) as u64;
        self.cache.insert(tokens, &hit, &kv, 0, 0)?;
        Ok((kv, hit, last))
    }

    /// Prefills every request (reusing the cache), then decodes the samples of several
    /// requests together: rows of different prompt lengths are left-padded in one KV buffer.
    fn generate_all(&mut self, requests: &[GenRequest]) -> Result<Vec<GenResponse>, Error> {
        let mut responses = Vec::with_capacity(requests.len());
        let mut jobs = Vec::new();
        for (index, req) in requests.iter().enumerate() {
            let prompt = self.encode_prompt(&req.prompt)?;
            let prompt_tokens = prompt.len();
            if prompt_tokens + req.max_tokens > self.context_len() {
                // The reference's "prompt too long": no candidates, no value, not an error.
                responses.push(GenResponse { candidates: Vec::new(), value: None, prompt_tokens });
                continue;
            }
            let (kv, _, last) = self.prefill(&prompt, 0)?;
            let value = if req.want_value { self.value_of(&last)? } else { None };
            responses.push(GenResponse { candidates: Vec::new(), value, prompt_tokens });
            if req.n > 0 && req.max_tokens > 0 {
                let first_logits = to_f32_vec(&self.net.logits(&last)?)?;
                jobs.push(Job { index, prompt, kv, first_logits });
            }
        }
        let max_rows = self.opts.max_batch_rows.max(1);
        let mut rest: &[Job] = &jobs;
        while !rest.is_empty() {
            // As many whole requests as fit the row budget (at least one).
            let mut rows = 0;
            let take = rest
                .iter()
                .take_while(|j| {
                    rows += requests[j.index].n;
                    rows <= max_rows
                })
                .count()
                .max(1);
            let (group, tail) = rest.split_at(take);
            for (job, candidates) in group.iter().zip(self.decode(group, requests)?) {
                responses[job.index].candidates = candidates;
            }
            rest = tail;
        }
        Ok(responses)
    }

    /// Samples the candidates of `jobs` in one batch; returns them per job.
    fn decode(&mut self, jobs: &[Job], requests: &[GenRequest]) -> Result<Vec<Vec<Candidate>>, Error> {
        let len = jobs.iter().map(|j| j.prompt.len()).max().unwrap_or(0);
        let room = jobs.iter().map(|j| requests[j.index].max_tokens.min(256)).max().unwrap_or(1);
        let parts = jobs
            .iter()
            .map(|j| j.kv.fork_rows_padded(requests[j.index].n, len, len + room))
            .collect::<candle_core::Result<Vec<_>>>()?;
        let mut kv = KvBuffer::stack(parts)?;
        // One row per candidate, in job order.
        let rows: Vec<(usize, usize)> = jobs
            .iter()
            .enumerate()
            .flat_map(|(j, job)| (0..requests[job.index].n).map(move |c| (j, c)))
            .collect();
        let params: Vec<SampleParams> = jobs
            .iter()
            .map(|j| {
                let r = &requests[j.index];
                SampleParams { temperature: r.temperature, top_p: r.top_p, top_k: r.top_k }
            })
            .collect();
        let stops: Vec<StopMatcher> =
            jobs.iter().map(|j| StopMatcher::new(&requests[j.index].stop)).collect();
        let mut samples: Vec<Sample> = rows
            .iter()
            .map(|&(j, c)| Sample::new(Rng::for_candidate(requests[jobs[j].index].seed, c)))
            .collect();
        // Rows still in the batch (by row id); finished samples leave.
        let mut active: Vec<usize> = (0..rows.len()).collect();
        let mut rows_logits: Vec<Vec<f32>> =
            rows.iter().map(|&(j, _)| jobs[j].first_logits.clone()).collect();
        loop {
            let mut still = Vec::with_capacity(active.len());
            let mut keep = Vec::with_capacity(active.len());
            for (at, &row) in active.iter().enumerate() {
                let j = rows[row].0;
                let max_tokens = requests[jobs[j].index].max_tokens;
                let sample = &mut samples[row];
                sample.step(&rows_logits[at], params[j], &self.tokenizer, &stops[j], max_tokens)?;
                if sample.finish.is_none() {
                    still.push(row);
                    keep.push(at);
                } else if self.opts.cache_samples {
                    let pad = len - jobs[j].prompt.len();
                    self.cache_sample(&jobs[j].prompt, &samples[row], &kv, at, pad)?;
                }
            }
            if still.is_empty() {
                break;
            }
            kv.keep_rows(&keep)?;
            active = still;
            let feed: Vec<Vec<u32>> = active.iter().map(|&r| vec![samples[r].last_token()]).collect();
            // The fed token's position in its own sequence.
            let positions: Vec<usize> =
                active.iter().map(|&r| jobs[rows[r].0].prompt.len() + samples[r].tokens.len() - 1).collect();
            let hidden = self.net.forward_ragged(&feed, &positions, &mut kv)?;
            rows_logits = self.net.logits(&hidden.squeeze(1)?)?.to_vec2::<f32>()?;
        }
        self.stats.generated_tokens += samples.iter().map(|s| s.tokens.len() as u64).sum::<u64>();
        let mut out: Vec<Vec<Candidate>> = jobs.iter().map(|_| Vec::new()).collect();
        for (&(j, _), sample) in rows.iter().zip(samples) {
            out[j].push(sample.into_candidate(&self.tokenizer, &stops[j])?);
        }
        Ok(out)
    }

    /// Caches prompt + the sample's tokens whose keys/values are in the batch (all but the last
    /// sampled token, which was never fed); the row's sequence starts at slot `pad`.
    fn cache_sample(
        &mut self,
        prompt: &[u32],
        sample: &Sample,
        kv: &KvBuffer,
        row: usize,
        pad: usize,
    ) -> Result<(), Error> {
        let fed = sample.tokens.len().saturating_sub(1);
        if fed == 0 {
            return Ok(());
        }
        let mut seq = Vec::with_capacity(prompt.len() + fed);
        seq.extend_from_slice(prompt);
        seq.extend_from_slice(&sample.tokens[..fed]);
        let base = self.cache.lookup(&seq, prompt.len());
        self.cache.insert(&seq, &base, kv, row, pad)?;
        Ok(())
    }
}

/// A prefilled request waiting for its samples.
struct Job {
    index: usize,
    prompt: Vec<u32>,
    kv: KvBuffer,
    first_logits: Vec<f32>,
}

/// One candidate being decoded.
struct Sample {
    rng: Rng,
    tokens: Vec<u32>,
    logprobs: Vec<f32>,
    stream: TextStream,
    finish: Option<Finish>,
}

impl Sample {
    fn new(rng: Rng) -> Self {
        Self { rng, tokens: Vec::new(), logprobs: Vec::new(), stream: TextStream::default(), finish: None }
    }

    fn last_token(&self) -> u32 {
        self.tokens.last().copied().unwrap_or(0)
    }

    fn step(
        &mut self,
        logits: &[f32],
        params: SampleParams,
        tokenizer: &Tokenizer,
        stops: &StopMatcher,
        max_tokens: usize,
    ) -> Result<(), Error> {
        let (token, logprob) = sample_token(logits, params, &mut self.rng);
        self.tokens.push(token);
        self.logprobs.push(logprob);
        if tokenizer.is_eos(token) {
            self.finish = Some(Finish::Eos);
            return Ok(());
        }
        let checked = self.stream.text().len();
        let text = self.stream.push(token, tokenizer)?;
        if stops.find(text, checked).is_some() {
            self.finish = Some(Finish::Stop);
        } else if self.tokens.len() >= max_tokens {
            self.finish = Some(Finish::Length);
        }
        Ok(())
    }

    fn into_candidate(self, tokenizer: &Tokenizer, stops: &StopMatcher) -> Result<Candidate, Error> {
        let finish = self.finish.unwrap_or(Finish::Length);
        let mut text = tokenizer.decode(&self.tokens)?;
        let mut stop_reason = None;
        if finish == Finish::Stop {
            // vLLM returns the text before the stop string.
            if stops.find_all(&text).is_none() {
                // A decoder that differs in full from incrementally (rare): trust the stream.
                text = self.stream.text().to_string();
            }
            if let Some((at, stop)) = stops.find_all(&text) {
                stop_reason = Some(stop.to_string());
                text.truncate(at);
            }
        }
        Ok(Candidate {
            text,
            tokens: self.tokens.len(),
            logprob_sum: self.logprobs.iter().map(|&l| l as f64).sum(),
            token_logprobs: self.logprobs,
            token_ids: self.tokens,
            finish,
            stop_reason,
        })
    }
}

fn load_head_file(path: &Path, hidden: usize, device: &candle_core::Device) -> Result<ValueHead, Error> {
    if !path.exists() {
        return Err(Error::bad_model(path, "value head file not found", HF_LAYOUT_HINT));
    }
    if path.extension().is_some_and(|e| e == "safetensors") {
        ValueHead::from_safetensors(path, hidden, device)
    } else {
        ValueHead::from_pth(path, hidden, device)
    }
}

/// `value_head.pth`, else `value_head.safetensors`, else `v_head.summary.*` in the weights.
fn find_value_head(
    dir: &Path,
    src: &SafetensorsSource,
    hidden: usize,
    device: &candle_core::Device,
) -> Result<ValueHead, Error> {
    for file in ["value_head.pth", "value_head.safetensors"] {
        let p = dir.join(file);
        if p.exists() {
            return load_head_file(&p, hidden, device);
        }
    }
    let (w, b) = ValueHead::tensor_names();
    match (src.get_raw(w), src.get_raw(b)) {
        (Some(w), Some(b)) => ValueHead::from_tensors(&w, &b, hidden, device)
            .map_err(|p| Error::bad_model(dir, p, HF_LAYOUT_HINT)),
        _ => Err(Error::bad_model(
            dir.join("value_head.pth"),
            "config.json sets \"value_model\": true but there is no value_head.pth, value_head.safetensors \
             or v_head.summary.* tensor",
            HF_LAYOUT_HINT,
        )),
    }
}

impl Policy for CandleModel {
    fn generate(&mut self, requests: &[GenRequest]) -> Result<Vec<GenResponse>, Error> {
        self.generate_all(requests)
    }
}

impl ValueModel for CandleModel {
    fn value(&mut self, prompts: &[String]) -> Result<Vec<Option<f32>>, Error> {
        if self.value_head.is_none() {
            return Err(Error::NoValueHead);
        }
        let mut out = Vec::with_capacity(prompts.len());
        for p in prompts {
            let tokens = self.encode_prompt(p)?;
            if tokens.len() > self.context_len() {
                out.push(None);
                continue;
            }
            let (_, _, last) = self.prefill(&tokens, 0)?;
            out.push(self.value_of(&last)?);
        }
        Ok(out)
    }
}

impl Judge for CandleModel {
    /// Runs each prompt (through the prefix cache) and compares the next-token logits of the
    /// tokens that start "True" and "False"; `None` when the prompt leaves no room for a token.
    fn judge(&mut self, prompts: &[String]) -> Result<Vec<Option<f64>>, Error> {
        let (yes, no) = verdict_tokens(&self.tokenizer)?;
        let mut out = Vec::with_capacity(prompts.len());
        for p in prompts {
            let tokens = self.encode_prompt(p)?;
            if tokens.len() >= self.context_len() {
                out.push(None);
                continue;
            }
            let (_, _, last) = self.prefill(&tokens, 0)?;
            let logits = to_f32_vec(&self.net.logits(&last)?)?;
            out.push(true_probability(&logits, &yes, &no));
        }
        Ok(out)
    }
}
