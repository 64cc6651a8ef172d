//! GGUF files (llama family, and qwen2): shape from the metadata, quantized weights, and
//! re-quantisation of formats without fast CPU kernels.

use std::fs::File;
use std::path::{Path, PathBuf};

use candle_core::quantized::gguf_file::{Content, Value};
use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{Device, Tensor};

use super::config::RopeStyle;
use super::error::GGUF_HINT;
use super::transformer::{Linear, TensorName, WeightSource};
use super::{ArchConfig, Error, Family, RopeScaling};

/// candle 0.11 has SIMD kernels for Q4_0, Q8_0 and the K-quants only; these formats fall back
/// to scalar code (SmolLM2's Q4_1: 27 tok/s instead of 95 after conversion to Q8_0).
pub(crate) fn needs_requant(dtype: GgmlDType) -> bool {
    matches!(dtype, GgmlDType::Q4_1 | GgmlDType::Q5_0 | GgmlDType::Q5_1)
}

/// candle's CPU dot products for these formats assume an even number of blocks per row and
/// panic otherwise, so such tensors are converted whatever the options say.
fn unusable_as_is(t: &QTensor) -> bool {
    let cols = t.shape().dims().last().copied().unwrap_or(0);
    needs_requant(t.dtype()) && !(cols / t.dtype().block_size()).is_multiple_of(2)
}

/// Converts a tensor to Q8_0 when its format is slow (`wanted`) or unusable, and its rows fit
/// Q8_0 blocks.
pub(crate) fn requantize(t: QTensor, wanted: bool, device: &Device) -> Result<QTensor, Error> {
    let cols = t.shape().dims().last().copied().unwrap_or(0);
    let convert = (wanted && needs_requant(t.dtype())) || unusable_as_is(&t);
    if !convert || cols % GgmlDType::Q8_0.block_size() != 0 {
        return Ok(t);
    }
    Ok(QTensor::quantize(&t.dequantize(device)?, GgmlDType::Q8_0)?)
}

pub(crate) fn read_content(path: &Path) -> Result<(Content, File), Error> {
    let mut file = File::open(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    let content = Content::read(&mut file)
        .map_err(|e| Error::bad_model(path, format!("not a readable GGUF file: {e}"), GGUF_HINT))?;
    Ok((content, file))
}

/// The model shape from GGUF metadata (`general.architecture` llama or qwen2).
pub(crate) fn gguf_config(content: &Content, path: &Path) -> Result<ArchConfig, Error> {
    let md = &content.metadata;
    let arch = md
        .get("general.architecture")
        .and_then(|v| v.to_string().ok())
        .cloned()
        .ok_or_else(|| Error::bad_model(path, "metadata lacks general.architecture", GGUF_HINT))?;
    let family = match arch.as_str() {
        "llama" => Family::Llama,
        "qwen2" => Family::Qwen2,
        other => {
            return Err(Error::bad_model(
                path,
                format!("GGUF architecture {other:?} is not supported (llama, qwen2)"),
                GGUF_HINT,
            ));
        }
    };
    let get = |k: &str| -> Result<&Value, Error> {
        md.get(&format!("{arch}.{k}"))
            .ok_or_else(|| Error::bad_model(path, format!("metadata lacks {arch}.{k}"), GGUF_HINT))
    };
    let num = |k: &str| -> Result<usize, Error> {
        get(k)?
            .to_u32()
            .map(|v| v as usize)
            .map_err(|e| Error::bad_model(path, format!("{arch}.{k}: {e}"), GGUF_HINT))
    };
    let hidden = num("embedding_length")?;
    let heads = num("attention.head_count")?;
    let kv_heads = num("attention.head_count_kv").unwrap_or(heads);
    let head_dim = num("rope.dimension_count").unwrap_or(hidden / heads.max(1));
    let eps =
        get("attention.layer_norm_rms_epsilon").and_then(|v| v.to_f32().map_err(Error::from)).unwrap_or(1e-5);
    let theta = get("rope.freq_base").and_then(|v| v.to_f32().map_err(Error::from)).unwrap_or(10_000.0);
    let vocab = match md.get("tokenizer.ggml.tokens").and_then(|v| v.to_vec().ok()) {
        Some(tokens) => tokens.len(),
        None => num("vocab_size")?,
    };
    let eos = md.get("tokenizer.ggml.eos_token_id").and_then(|v| v.to_u32().ok());
    if heads == 0 || kv_heads == 0 || heads % kv_heads != 0 {
        return Err(Error::bad_model(path, "inconsistent head counts", GGUF_HINT));
    }
    Ok(ArchConfig {
        family,
        vocab_size: vocab,
        hidden_size: hidden,
        intermediate_size: num("feed_forward_length")?,
        num_layers: num("block_count")?,
        num_heads: heads,
        num_kv_heads: kv_heads,
        head_dim,
        rms_norm_eps: eps as f64,
        rope_theta: theta,
        rope_scaling: RopeScaling::None,
        // llama.cpp's converter permutes llama q/k weights for adjacent-pair rotation; qwen2
        // files keep the NeoX (half) layout.
        rope_style: if family == Family::Llama { RopeStyle::Interleaved } else { RopeStyle::Half },
        max_position_embeddings: num("context_length").unwrap_or(4096),
        tie_word_embeddings: !content.tensor_infos.contains_key("output.weight"),
        qkv_bias: content.tensor_infos.contains_key("blk.0.attn_q.bias"),
        sliding_window: None,
        eos_token_ids: eos.into_iter().collect(),
        value_model: false,
    })
}

fn key(name: TensorName) -> String {
    use TensorName::*;
    match name {
        Embed => "token_embd.weight".into(),
        FinalNorm => "output_norm.weight".into(),
        Output => "output.weight".into(),
        AttnNorm(i) => format!("blk.{i}.attn_norm.weight"),
        Q(i) => format!("blk.{i}.attn_q.weight"),
        K(i) => format!("blk.{i}.attn_k.weight"),
        V(i) => format!("blk.{i}.attn_v.weight"),
        O(i) => format!("blk.{i}.attn_output.weight"),
        QBias(i) => format!("blk.{i}.attn_q.bias"),
        KBias(i) => format!("blk.{i}.attn_k.bias"),
        VBias(i) => format!("blk.{i}.attn_v.bias"),
        FfnNorm(i) => format!("blk.{i}.ffn_norm.weight"),
        Gate(i) => format!("blk.{i}.ffn_gate.weight"),
        Up(i) => format!("blk.{i}.ffn_up.weight"),
        Down(i) => format!("blk.{i}.ffn_down.weight"),
    }
}

/// Tensors read on demand from an open GGUF file.
pub(crate) struct GgufSource {
    content: Content,
    file: File,
    path: PathBuf,
    device: Device,
    requant: bool,
}

impl GgufSource {
    pub(crate) fn new(content: Content, file: File, path: &Path, device: &Device, requant: bool) -> Self {
        Self { content, file, path: path.to_path_buf(), device: device.clone(), requant }
    }

    fn qtensor(&mut self, name: TensorName) -> Result<QTensor, Error> {
        let key = key(name);
        if !self.content.tensor_infos.contains_key(&key) {
            return Err(Error::bad_model(&self.path, format!("tensor {key} is missing"), GGUF_HINT));
        }
        let t = self.content.tensor(&mut self.file, &key, &self.device)?;
        requantize(t, self.requant, &self.device)
    }
}

impl WeightSource for GgufSource {
    fn linear(&mut self, name: TensorName) -> Result<Linear, Error> {
        Ok(Linear::Quantized { weight: QMatMul::from_qtensor(self.qtensor(name)?)?, bias: None })
    }

    fn dense(&mut self, name: TensorName) -> Result<Tensor, Error> {
        let key = key(name);
        if !self.content.tensor_infos.contains_key(&key) {
            return Err(Error::bad_model(&self.path, format!("tensor {key} is missing"), GGUF_HINT));
        }
        Ok(self.content.tensor(&mut self.file, &key, &self.device)?.dequantize(&self.device)?)
    }

    fn contains(&self, name: TensorName) -> bool {
        self.content.tensor_infos.contains_key(&key(name))
    }

    fn tied_output(&mut self) -> Result<Linear, Error> {
        self.linear(TensorName::Embed)
    }
}

/// Writes a copy of a GGUF file with slow formats (Q4_1, Q5_x) converted to Q8_0, e.g. so
/// llama.cpp can be benchmarked on the exact weights arbor runs.
pub fn requantize_gguf_file(src: &Path, dst: &Path) -> Result<(), Error> {
    let (content, mut file) = read_content(src)?;
    let device = Device::Cpu;
    let mut names: Vec<&String> = content.tensor_infos.keys().collect();
    names.sort();
    let tied = !content.tensor_infos.contains_key("output.weight");
    let mut tensors = Vec::with_capacity(names.len());
    for name in &names {
        let t = content.tensor(&mut file, name, &device)?;
        // An untied embedding table is only looked up (dequantized), never multiplied: keep it.
        let matmul = tied || name.as_str() != "token_embd.weight";
        tensors.push(requantize(t, matmul, &device)?);
    }
    let metadata: Vec<(&str, &Value)> = content.metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let pairs: Vec<(&str, &QTensor)> = names.iter().map(|n| n.as_str()).zip(tensors.iter()).collect();
    let mut out = File::create(dst).map_err(|source| Error::Io { path: dst.to_path_buf(), source })?;
    candle_core::quantized::gguf_file::write(&mut out, &metadata, &pairs)?;
    Ok(())
}
