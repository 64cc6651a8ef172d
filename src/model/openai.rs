//! The OpenAI-compatible wire format shared by the HTTP client and `arbor serve`.
//!
//! `/v1/completions` as vLLM, SGLang, llama.cpp's server and mistral.rs accept it, plus two
//! arbor extensions the others ignore: `top_k` in the request (vLLM and llama.cpp accept it
//! too) and `values` in the response (the value of each prompt, from the same prefill).
//! `/v1/values` (arbor's value contract): `{"prompts": [..]}` -> `{"values": [number|null, ..]}`,
//! `null` for a prompt that does not fit the context.

use serde::{Deserialize, Serialize};

/// `prompt` may be one string or a list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub(crate) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub(crate) fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CompletionRequest {
    #[serde(default)]
    pub model: String,
    pub prompt: OneOrMany,
    #[serde(default = "one")]
    pub n: usize,
    #[serde(default = "one_f32")]
    pub temperature: f32,
    #[serde(default = "one_f32")]
    pub top_p: f32,
    /// -1 or 0 disables it (vLLM uses -1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<i64>,
    #[serde(default = "sixteen")]
    pub max_tokens: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<OneOrMany>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

fn one() -> usize {
    1
}
fn one_f32() -> f32 {
    1.0
}
fn sixteen() -> usize {
    16
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub(crate) struct Logprobs {
    #[serde(default)]
    pub tokens: Vec<String>,
    #[serde(default)]
    pub token_logprobs: Vec<Option<f64>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Choice {
    #[serde(default)]
    pub index: usize,
    pub text: String,
    /// "stop" (stop string or EOS) or "length".
    #[serde(default)]
    pub finish_reason: Option<String>,
    /// vLLM: the matched stop string (or token id); null at EOS.
    #[serde(default)]
    pub stop_reason: Option<serde_json::Value>,
    #[serde(default)]
    pub logprobs: Option<Logprobs>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub(crate) struct Usage {
    #[serde(default)]
    pub prompt_tokens: usize,
    #[serde(default)]
    pub completion_tokens: usize,
    #[serde(default)]
    pub total_tokens: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CompletionResponse {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub object: String,
    #[serde(default)]
    pub model: String,
    pub choices: Vec<Choice>,
    #[serde(default)]
    pub usage: Option<Usage>,
    /// arbor extension: per prompt, the value of the prompt state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<Option<f32>>>,
    /// arbor extension: per prompt, its token count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_token_counts: Option<Vec<usize>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ValuesRequest {
    pub prompts: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ValuesResponse {
    pub values: Vec<Option<f32>>,
}

/// The OpenAI error body; `code: "context_length_exceeded"` marks a prompt that does not fit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ErrorDetail {
    pub message: String,
    #[serde(default)]
    pub r#type: String,
    #[serde(default)]
    pub code: Option<String>,
}

pub(crate) const CONTEXT_EXCEEDED: &str = "context_length_exceeded";

/// Does an error message from some server say the prompt does not fit? (vLLM: "maximum context
/// length", llama.cpp: "exceed context window", OpenAI: the code.)
pub(crate) fn is_context_error(body: &str) -> bool {
    let b = body.to_ascii_lowercase();
    b.contains(CONTEXT_EXCEEDED)
        || b.contains("maximum context length")
        || b.contains("context window")
        || b.contains("context length")
}
