//! Model backends: the policy that writes steps and the value model that scores states.
//!
//! # Contract used by the search engine
//!
//! Both traits are batch-first and are driven from one engine thread (`&mut self`):
//!
//! * [`Policy::generate`] takes a slice of [`GenRequest`]s (one per node to expand) and returns one
//!   [`GenResponse`] per request, in order. A request asks for `n` independent samples from the
//!   prompt (the node's path text) with temperature, top-p, top-k, `max_tokens` and stop strings.
//!   Each [`Candidate`] carries its text (a matched stop string is *not* included, as in vLLM),
//!   its token count, the summed log-probability of its sampled tokens under the
//!   temperature/top-k/top-p-adjusted distribution (the reference's prior is
//!   `exp(logprob_sum / tokens)`, see [`Candidate::prior`]) and why it finished.
//! * The response also carries the value of the *prompt* state (value head at the last prompt
//!   token, tanh-bounded) when the backend computes it in the same pass, the reference's
//!   `value_estimate`; `None` when the backend has no value head or was not asked.
//! * A prompt whose tokens plus `max_tokens` do not fit the context is not an error: the
//!   response has no candidates and `value: None`, the reference's "prompt too long" behaviour
//!   that MCTS turns into a terminal node with reward -1.
//! * [`ValueModel::value`] scores a batch of states; `None` again means "does not fit".
//! * [`Judge::judge`] reads a judge model (AlphaLLM's PRM/ORM critics): for each prompt, the
//!   probability that the next token is "True" rather than "False", normalised between the two
//!   words; `None` when the prompt does not fit or neither word is among the tokens the backend
//!   can see.
//! * Given the same requests and seeds a backend returns the same candidates: every candidate
//!   draws from its own random stream derived from `(seed, candidate index)`, so results do not
//!   depend on how requests are batched, up to float rounding in the batched matmuls (tests
//!   check token-for-token equality on tiny models). Remote servers are as deterministic as
//!   they are.
//!
//! # Backends
//!
//! * [`CandleModel`]: local inference with arbor's own transformer forward (llama family,
//!   qwen2, mistral) from an HF checkpoint folder or a GGUF file, with the AlphaMath value head
//!   and a tree-aware prefix KV cache ([`PrefixCache`]): expanding a node re-encodes only the
//!   part of its prompt not already cached for its parent (or its own sampled step). The `n`
//!   samples of a node, and those of the other requests of the same call (left-padded to a
//!   common length, up to [`ModelOptions::max_batch_rows`] rows), decode together in one
//!   batched forward per token. Results do not depend on that grouping beyond float rounding.
//! * [`HttpPolicy`]: an OpenAI-compatible `/v1/completions` client (vLLM, SGLang, llama.cpp's
//!   server, mistral.rs, `arbor serve`) with retries, timeouts, a concurrency limit and several
//!   endpoints; values come from the same response (`arbor serve`), a value endpoint, or a local
//!   [`ValueModel`].
//! * [`serve`]: `arbor serve`, which puts a [`CandleModel`] behind the same HTTP API.
//!
//! [`open`] turns a `--model` argument (folder, `.gguf` file or URL) into a backend.

mod candle_model;
mod config;
mod device;
mod error;
mod gguf;
mod gguf_tokenizer;
mod http;
mod judge;
mod kv;
mod loader;
mod openai;
mod prefix_cache;
mod safetensors_weights;
mod sampling;
pub mod serve;
mod stop;
mod text_stream;
mod tokenizer;
mod transformer;
mod value_head;

pub use candle_model::{CacheStats, CandleModel, ModelOptions, PromptState};
pub use config::{ArchConfig, Family, RopeScaling};
pub use device::DeviceChoice;
pub use error::Error;
pub use gguf::requantize_gguf_file;
pub use gguf_tokenizer::tokenizer_from_gguf;
pub use http::{HttpOptions, HttpPolicy, ValueEndpoint, ValueEndpointKind};
pub use judge::{JUDGE_TOP_LOGPROBS, true_probability, true_probability_from_choice, verdict_tokens};
pub use kv::KvBuffer;
pub use loader::{Backend, ModelSpec, open};
pub use prefix_cache::PrefixCache;
pub use sampling::{Rng, SampleParams, sample_token};
pub use tokenizer::Tokenizer;
pub use transformer::Transformer;
pub use value_head::ValueHead;

/// Why a candidate stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Finish {
    /// A stop string appeared; it is cut from the text.
    Stop,
    /// `max_tokens` were generated.
    Length,
    /// The model produced an end-of-sequence token (counted in `tokens`, not in the text).
    Eos,
}

/// One node expansion: `n` samples from `prompt`.
#[derive(Debug, Clone, PartialEq)]
pub struct GenRequest {
    pub prompt: String,
    pub n: usize,
    /// 0 means greedy.
    pub temperature: f32,
    /// 1.0 disables nucleus sampling.
    pub top_p: f32,
    /// 0 (or the reference's -1, mapped by the caller) disables top-k.
    pub top_k: usize,
    pub max_tokens: usize,
    /// Generation ends at the first of these; the string is not part of the returned text.
    pub stop: Vec<String>,
    pub seed: u64,
    /// Compute the value of the prompt state in the same pass (when the backend can).
    pub want_value: bool,
}

impl GenRequest {
    /// A request with the reference's defaults (temperature 1, top-p 1, no top-k, no stops).
    pub fn new(prompt: impl Into<String>, n: usize, max_tokens: usize, seed: u64) -> Self {
        Self {
            prompt: prompt.into(),
            n,
            temperature: 1.0,
            top_p: 1.0,
            top_k: 0,
            max_tokens,
            stop: Vec::new(),
            seed,
            want_value: false,
        }
    }
}

/// One sampled continuation.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Decoded text without special tokens and without the matched stop string.
    pub text: String,
    /// Number of generated tokens, including a final EOS and the tokens of a stop string.
    pub tokens: usize,
    /// Sum of the sampled tokens' log-probabilities under the adjusted distribution.
    pub logprob_sum: f64,
    /// Per-token log-probabilities (same distribution); empty when a backend does not report them.
    pub token_logprobs: Vec<f32>,
    /// Generated token ids; empty for remote backends.
    pub token_ids: Vec<u32>,
    pub finish: Finish,
    /// The stop string that ended it (vLLM's `stop_reason`), when `finish` is `Stop` and known.
    pub stop_reason: Option<String>,
}

impl Candidate {
    /// The reference's prior: the geometric-mean token probability, `exp(mean logprob)`.
    pub fn prior(&self) -> f64 {
        if self.tokens == 0 { 1.0 } else { (self.logprob_sum / self.tokens as f64).exp() }
    }
}

/// The answer to one [`GenRequest`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GenResponse {
    /// Empty when the prompt plus `max_tokens` does not fit the context.
    pub candidates: Vec<Candidate>,
    /// Value of the prompt state (tanh-bounded), from the same pass.
    pub value: Option<f32>,
    pub prompt_tokens: usize,
}

/// Writes steps: batch-first, one call per engine step.
pub trait Policy {
    fn generate(&mut self, requests: &[GenRequest]) -> Result<Vec<GenResponse>, Error>;
}

/// Scores states; `None` for a prompt that does not fit the context.
pub trait ValueModel {
    fn value(&mut self, prompts: &[String]) -> Result<Vec<Option<f32>>, Error>;
}

/// Gives the requests `eligible` picks the value `scorer` puts on their prompts, in one batch:
/// for backends whose generation does not carry the value a request asked for.
pub(crate) fn fill_values(
    requests: &[GenRequest],
    out: &mut [GenResponse],
    scorer: &mut dyn ValueModel,
    eligible: impl Fn(usize) -> bool,
) -> Result<(), Error> {
    let wanted: Vec<usize> = (0..requests.len()).filter(|&i| requests[i].want_value && eligible(i)).collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let prompts: Vec<String> = wanted.iter().map(|&i| requests[i].prompt.clone()).collect();
    for (i, v) in wanted.into_iter().zip(scorer.value(&prompts)?) {
        out[i].value = v;
    }
    Ok(())
}

/// Reads verdicts: P("True") of the next token, normalised between "True" and "False".
pub trait Judge {
    fn judge(&mut self, prompts: &[String]) -> Result<Vec<Option<f64>>, Error>;
}

impl<T: Judge + ?Sized> Judge for Box<T> {
    fn judge(&mut self, prompts: &[String]) -> Result<Vec<Option<f64>>, Error> {
        (**self).judge(prompts)
    }
}

impl<T: Policy + ?Sized> Policy for Box<T> {
    fn generate(&mut self, requests: &[GenRequest]) -> Result<Vec<GenResponse>, Error> {
        (**self).generate(requests)
    }
}

impl<T: ValueModel + ?Sized> ValueModel for Box<T> {
    fn value(&mut self, prompts: &[String]) -> Result<Vec<Option<f32>>, Error> {
        (**self).value(prompts)
    }
}
