//! The shape of a decoder-only transformer, read from an HF `config.json` or GGUF metadata.

use std::path::Path;

use serde::Deserialize;

use super::Error;
use super::error::HF_LAYOUT_HINT;

/// Model families arbor's forward implements. They differ only in details: qwen2 has biases on
/// the q/k/v projections, mistral may use a sliding attention window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Llama, DeepSeekMath, AlphaMath-7B, SmolLM2.
    Llama,
    /// Qwen2, Qwen2.5-Math.
    Qwen2,
    Mistral,
}

/// How rotary embeddings pair the dimensions of a head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RopeStyle {
    /// HF checkpoints: dimension i pairs with i + d/2 (`rotate_half`).
    Half,
    /// llama-family GGUF files, whose q/k weights were permuted for adjacent pairs.
    Interleaved,
}

/// Frequency scaling for long contexts.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum RopeScaling {
    #[default]
    None,
    Linear {
        factor: f32,
    },
    /// Llama 3.x's band-wise scaling.
    Llama3 {
        factor: f32,
        low_freq_factor: f32,
        high_freq_factor: f32,
        original_max_position_embeddings: usize,
    },
}

/// Everything the forward pass needs to know about a model's shape.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchConfig {
    pub family: Family,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_layers: usize,
    pub num_heads: usize,
    pub num_kv_heads: usize,
    pub head_dim: usize,
    pub rms_norm_eps: f64,
    pub rope_theta: f32,
    pub rope_scaling: RopeScaling,
    pub rope_style: RopeStyle,
    /// The context length: prompt plus generation must fit.
    pub max_position_embeddings: usize,
    pub tie_word_embeddings: bool,
    /// Biases on q/k/v (qwen2).
    pub qkv_bias: bool,
    pub sliding_window: Option<usize>,
    pub eos_token_ids: Vec<u32>,
    /// AlphaMath's flag: the checkpoint has a value head.
    pub value_model: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(u32),
    Many(Vec<u32>),
}

#[derive(Deserialize)]
struct RawRopeScaling {
    #[serde(alias = "rope_type")]
    r#type: Option<String>,
    factor: Option<f32>,
    low_freq_factor: Option<f32>,
    high_freq_factor: Option<f32>,
    original_max_position_embeddings: Option<usize>,
}

#[derive(Deserialize)]
struct RawConfig {
    model_type: Option<String>,
    vocab_size: usize,
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    num_key_value_heads: Option<usize>,
    head_dim: Option<usize>,
    rms_norm_eps: Option<f64>,
    rope_theta: Option<f32>,
    rope_scaling: Option<RawRopeScaling>,
    max_position_embeddings: Option<usize>,
    tie_word_embeddings: Option<bool>,
    attention_bias: Option<bool>,
    sliding_window: Option<usize>,
    use_sliding_window: Option<bool>,
    eos_token_id: Option<OneOrMany>,
    value_model: Option<bool>,
}

#[derive(Deserialize)]
struct GenerationConfig {
    eos_token_id: Option<OneOrMany>,
}

impl ArchConfig {
    /// Reads `config.json` (and `generation_config.json` for extra EOS ids) from an HF folder.
    pub fn from_hf_dir(dir: &Path) -> Result<Self, Error> {
        let path = dir.join("config.json");
        let bytes = std::fs::read(&path)
            .map_err(|e| Error::bad_model(&path, format!("cannot read config.json: {e}"), HF_LAYOUT_HINT))?;
        let mut config =
            Self::from_hf_json(&bytes).map_err(|problem| Error::bad_model(&path, problem, HF_LAYOUT_HINT))?;
        if let Ok(bytes) = std::fs::read(dir.join("generation_config.json"))
            && let Ok(GenerationConfig { eos_token_id: Some(ids) }) = serde_json::from_slice(&bytes)
        {
            for id in ids.into_vec() {
                if !config.eos_token_ids.contains(&id) {
                    config.eos_token_ids.push(id);
                }
            }
        }
        Ok(config)
    }

    /// Parses the text of an HF `config.json`; the error says what is wrong.
    pub fn from_hf_json(bytes: &[u8]) -> Result<Self, String> {
        let raw: RawConfig =
            serde_json::from_slice(bytes).map_err(|e| format!("malformed config.json: {e}"))?;
        let family = match raw.model_type.as_deref() {
            Some("llama") => Family::Llama,
            Some("qwen2") => Family::Qwen2,
            Some("mistral") => Family::Mistral,
            other => {
                return Err(format!(
                    "model_type {other:?} is not supported (supported: llama, qwen2, mistral)"
                ));
            }
        };
        if raw.num_attention_heads == 0
            || !raw.hidden_size.is_multiple_of(raw.num_attention_heads) && raw.head_dim.is_none()
        {
            return Err("hidden_size is not a multiple of num_attention_heads".into());
        }
        let num_kv_heads = raw.num_key_value_heads.unwrap_or(raw.num_attention_heads);
        if num_kv_heads == 0 || !raw.num_attention_heads.is_multiple_of(num_kv_heads) {
            return Err("num_attention_heads is not a multiple of num_key_value_heads".into());
        }
        let rope_scaling = match raw.rope_scaling {
            None => RopeScaling::None,
            Some(s) => match s.r#type.as_deref() {
                Some("linear") => RopeScaling::Linear { factor: s.factor.unwrap_or(1.0) },
                Some("llama3") => RopeScaling::Llama3 {
                    factor: s.factor.unwrap_or(8.0),
                    low_freq_factor: s.low_freq_factor.unwrap_or(1.0),
                    high_freq_factor: s.high_freq_factor.unwrap_or(4.0),
                    original_max_position_embeddings: s.original_max_position_embeddings.unwrap_or(8192),
                },
                Some("default") | None => RopeScaling::None,
                Some(other) => return Err(format!("rope_scaling type {other:?} is not supported")),
            },
        };
        let sliding_window = match family {
            Family::Mistral => raw.sliding_window,
            Family::Qwen2 if raw.use_sliding_window == Some(true) => raw.sliding_window,
            _ => None,
        };
        Ok(Self {
            family,
            vocab_size: raw.vocab_size,
            hidden_size: raw.hidden_size,
            intermediate_size: raw.intermediate_size,
            num_layers: raw.num_hidden_layers,
            num_heads: raw.num_attention_heads,
            num_kv_heads,
            head_dim: raw.head_dim.unwrap_or(raw.hidden_size / raw.num_attention_heads),
            rms_norm_eps: raw.rms_norm_eps.unwrap_or(1e-6),
            rope_theta: raw.rope_theta.unwrap_or(10_000.0),
            rope_scaling,
            rope_style: RopeStyle::Half,
            max_position_embeddings: raw.max_position_embeddings.unwrap_or(4096),
            tie_word_embeddings: raw.tie_word_embeddings.unwrap_or(false),
            qkv_bias: family == Family::Qwen2 || raw.attention_bias == Some(true),
            sliding_window,
            eos_token_ids: raw.eos_token_id.map(OneOrMany::into_vec).unwrap_or_default(),
            value_model: raw.value_model.unwrap_or(false),
        })
    }

    /// Bytes of keys plus values per token at `dtype_bytes` per element.
    pub fn kv_bytes_per_token(&self, dtype_bytes: usize) -> usize {
        2 * self.num_layers * self.num_kv_heads * self.head_dim * dtype_bytes
    }
}

impl OneOrMany {
    fn into_vec(self) -> Vec<u32> {
        match self {
            OneOrMany::One(i) => vec![i],
            OneOrMany::Many(v) => v,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_deepseek_math_style_config_and_rejects_unknown_types() {
        let c = ArchConfig::from_hf_json(
            br#"{"model_type":"llama","vocab_size":102400,"hidden_size":4096,"intermediate_size":11008,
            "num_hidden_layers":30,"num_attention_heads":32,"num_key_value_heads":32,"rms_norm_eps":1e-6,
            "max_position_embeddings":4096,"eos_token_id":100001,"value_model":true,"rope_scaling":null}"#,
        )
        .unwrap();
        assert_eq!(
            (c.family, c.head_dim, c.value_model, c.eos_token_ids.clone()),
            (Family::Llama, 128, true, vec![100001])
        );
        assert!(!c.qkv_bias);
        let e = ArchConfig::from_hf_json(
            br#"{"model_type":"gpt2","vocab_size":1,"hidden_size":4,
            "intermediate_size":4,"num_hidden_layers":1,"num_attention_heads":1}"#,
        )
        .unwrap_err();
        assert!(e.contains("gpt2") && e.contains("supported"), "{e}");
        let e = ArchConfig::from_hf_json(br#"{"model_type":"llama"}"#).unwrap_err();
        assert!(e.contains("vocab_size"), "{e}");
    }
}
