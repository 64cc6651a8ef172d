//! The `--model` options shared by every command that runs a model.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use candle_core::DType;
use clap::{Args as ClapArgs, ValueEnum};

use crate::model::{
    self, Backend, CandleModel, DeviceChoice, HttpOptions, ModelOptions, ModelSpec, ValueEndpoint,
    ValueEndpointKind,
};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DtypeArg {
    F32,
    Bf16,
    F16,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ValueApi {
    /// arbor's `/v1/values` (`arbor serve`).
    Arbor,
    /// vLLM's `/pooling` (a reward/value model served with `--runner pooling`).
    VllmPooling,
}

/// The bundled model's folder, relative to a checkout (made by `scripts/train-bundled.sh`).
pub const BUNDLED_MODEL: &str = "assets/model/synth";

/// The bundled model: beside the sources arbor was built from, else under the working
/// directory (the path is returned even when it is absent, so loading says what is missing).
pub fn bundled_model() -> PathBuf {
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join(BUNDLED_MODEL);
    if beside.join("config.json").exists() { beside } else { PathBuf::from(BUNDLED_MODEL) }
}

fn default_model() -> String {
    bundled_model().display().to_string()
}

/// Which model to run and how.
#[derive(Debug, Clone, ClapArgs)]
pub struct ModelArgs {
    /// An HF checkpoint folder, a .gguf file, or http(s) URL(s) of OpenAI-compatible servers
    /// (comma-separated for several). Default: the bundled model.
    #[arg(long, value_name = "PATH|URL", default_value_t = default_model(), hide_default_value = true)]
    pub model: String,
    /// cpu, cuda or cuda:N (cuda needs the `cuda` build feature).
    #[arg(long, default_value = "cpu")]
    pub device: DeviceChoice,
    /// Weight dtype of safetensors models (default: f32 on CPU, bf16 on CUDA or for big models).
    #[arg(long, value_enum)]
    pub dtype: Option<DtypeArg>,
    /// Memory budget of the prefix KV cache, MiB (0 disables it).
    #[arg(long, default_value_t = 1024)]
    pub kv_cache_mib: usize,
    /// Do not cache sampled continuations, only prompts.
    #[arg(long)]
    pub no_sample_cache: bool,
    /// Keep GGUF Q4_1/Q5_x tensors as they are (slow on CPU) instead of converting to Q8_0.
    #[arg(long)]
    pub no_requantize: bool,
    /// A value head (.pth or .safetensors) for a model that has none (e.g. a GGUF file).
    #[arg(long, value_name = "FILE")]
    pub value_head: Option<PathBuf>,
    /// Cap the context length (tokens).
    #[arg(long)]
    pub context_len: Option<usize>,
    /// HTTP: requests in flight at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// HTTP: retries on connection errors, 429 and 5xx.
    #[arg(long, default_value_t = 3)]
    pub retries: usize,
    /// HTTP: timeout of one request, seconds.
    #[arg(long, default_value_t = 600)]
    pub timeout_secs: u64,
    /// HTTP: the model name to request (default: the server's first model).
    #[arg(long)]
    pub model_name: Option<String>,
    /// HTTP: a server that scores states (when completions carry no value).
    #[arg(long, value_name = "URL")]
    pub value_url: Option<String>,
    #[arg(long, value_enum, default_value = "arbor")]
    pub value_api: ValueApi,
    /// HTTP: apply tanh to the values the value server returns.
    #[arg(long)]
    pub value_tanh: bool,
    /// Score states with this local model's value head (a folder, or a .gguf with --value-head)
    /// instead of the policy's own head or a value server; works with local and HTTP policies.
    #[arg(long, value_name = "PATH")]
    pub value_model: Option<PathBuf>,
}

impl ModelArgs {
    /// Loads the model or connects to the servers `--model` names.
    pub fn open(&self) -> Result<Backend> {
        let http = match ModelSpec::parse(&self.model) {
            ModelSpec::Remote(_) => Some(self.http_options()?),
            ModelSpec::Local(_) => None,
        };
        let backend = model::open(&self.model, self.local_options(), http)
            .with_context(|| format!("opening --model {}", self.model))?;
        let Some(path) = &self.value_model else { return Ok(backend) };
        let value = CandleModel::load(path, self.local_options())
            .with_context(|| format!("loading --value-model {}", path.display()))?;
        match backend {
            Backend::Remote(policy) => Ok(Backend::Remote(policy.boxed_with_local_value(Box::new(value)))),
            Backend::Local(policy) => {
                if !value.has_value_head() {
                    bail!(
                        "--value-model {} has no value head (config.json \"value_model\": true)",
                        path.display()
                    );
                }
                Ok(Backend::LocalWithValue { policy, value: Box::new(value) })
            }
            // model::open never pairs models itself.
            paired @ Backend::LocalWithValue { .. } => Ok(paired),
        }
    }

    pub fn local_options(&self) -> ModelOptions {
        ModelOptions {
            device: self.device,
            dtype: self.dtype.map(|d| match d {
                DtypeArg::F32 => DType::F32,
                DtypeArg::Bf16 => DType::BF16,
                DtypeArg::F16 => DType::F16,
            }),
            kv_cache_bytes: self.kv_cache_mib << 20,
            cache_samples: !self.no_sample_cache,
            requantize: !self.no_requantize,
            value_head: self.value_head.clone(),
            context_len: self.context_len,
            ..ModelOptions::default()
        }
    }

    pub fn http_options(&self) -> Result<HttpOptions> {
        if self.concurrency == 0 {
            bail!("--concurrency must be at least 1");
        }
        Ok(HttpOptions {
            endpoints: Vec::new(),
            model: self.model_name.clone(),
            concurrency: self.concurrency,
            retries: self.retries,
            backoff: Duration::from_millis(500),
            timeout: Duration::from_secs(self.timeout_secs),
            value: self.value_url.as_ref().map(|url| ValueEndpoint {
                url: url.clone(),
                kind: match self.value_api {
                    ValueApi::Arbor => ValueEndpointKind::Arbor,
                    ValueApi::VllmPooling => ValueEndpointKind::VllmPooling,
                },
                apply_tanh: self.value_tanh,
            }),
        })
    }
}
