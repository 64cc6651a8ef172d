//! arbor's own decoder-only transformer forward (llama, qwen2, mistral): it returns the hidden
//! states of every position, so a value head can read the last prompt token and tests can
//! compare all positions, and it keeps its keys/values in a caller-owned [`KvBuffer`].

use std::borrow::Cow;

use candle_core::quantized::{QMatMul, QStorage, QTensor};
use candle_core::{DType, Device, Module, Tensor};

use super::config::RopeStyle;
use super::{ArchConfig, Error, KvBuffer, RopeScaling};

/// A projection: dense weights (safetensors, f32/bf16), quantized ones (GGUF), or several
/// run one after the other with their outputs concatenated (fused projections that cannot
/// share one matrix).
#[derive(Debug, Clone)]
pub(crate) enum Linear {
    Dense {
        weight: Tensor,
        bias: Option<Tensor>,
    },
    Quantized {
        weight: QMatMul,
        bias: Option<Tensor>,
    },
    Stacked {
        parts: Vec<Linear>,
        bias: Option<Tensor>,
    },
    /// Quantized weights plus their f32 copy: many rows at once (prefill) go through gemm,
    /// which is several times faster than candle's row-by-row quantized kernel; few rows
    /// (decode) use the quantized kernel, which reads 4x less memory.
    Dual {
        quantized: QMatMul,
        dense: Tensor,
        bias: Option<Tensor>,
    },
}

/// From this many rows (batch x tokens) on, a [`Linear::Dual`] uses its f32 copy.
const DENSE_ROWS: usize = 16;

impl Linear {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let (out, bias) = match self {
            Linear::Dense { weight, bias } => {
                let (b, t, i) = x.dims3()?;
                let o = weight.dim(0)?;
                (x.reshape((b * t, i))?.matmul(&weight.t()?)?.reshape((b, t, o))?, bias)
            }
            // The quantized CPU kernel needs contiguous input (candle's own llama forgets this
            // for batched prefill).
            Linear::Quantized { weight, bias } => (weight.forward(&x.contiguous()?)?, bias),
            Linear::Dual { quantized, dense, bias } => {
                let (b, t, i) = x.dims3()?;
                if b * t >= DENSE_ROWS {
                    let o = dense.dim(0)?;
                    (x.reshape((b * t, i))?.matmul(&dense.t()?)?.reshape((b, t, o))?, bias)
                } else {
                    (quantized.forward(&x.contiguous()?)?, bias)
                }
            }
            Linear::Stacked { parts, bias } => {
                let outs = parts.iter().map(|p| p.forward(x)).collect::<candle_core::Result<Vec<_>>>()?;
                (Tensor::cat(&outs, 2)?, bias)
            }
        };
        match bias {
            Some(b) => out.broadcast_add(b),
            None => Ok(out),
        }
    }
}

impl Linear {
    /// Adds an f32 copy to quantized CPU weights (see [`Linear::Dual`]).
    fn with_dense_copy(self) -> Result<Linear, Error> {
        Ok(match self {
            Linear::Quantized { weight: QMatMul::QTensor(q), bias } if q.device().is_cpu() => {
                let dense = q.dequantize(&Device::Cpu)?;
                Linear::Dual { quantized: QMatMul::QTensor(q), dense, bias }
            }
            Linear::Stacked { parts, bias } => Linear::Stacked {
                parts: parts.into_iter().map(Linear::with_dense_copy).collect::<Result<_, _>>()?,
                bias,
            },
            other => other,
        })
    }
}

/// The tensors of a model, named independently of the file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TensorName {
    Embed,
    FinalNorm,
    Output,
    AttnNorm(usize),
    Q(usize),
    K(usize),
    V(usize),
    O(usize),
    QBias(usize),
    KBias(usize),
    VBias(usize),
    FfnNorm(usize),
    Gate(usize),
    Up(usize),
    Down(usize),
}

/// Where weights come from (safetensors folder, GGUF file).
pub(crate) trait WeightSource {
    /// A projection weight of shape `(out, in)`.
    fn linear(&mut self, name: TensorName) -> Result<Linear, Error>;
    /// A dense tensor in the compute dtype (norms, biases, the embedding table).
    fn dense(&mut self, name: TensorName) -> Result<Tensor, Error>;
    fn contains(&self, name: TensorName) -> bool;
    /// The output projection tied to the embedding table.
    fn tied_output(&mut self) -> Result<Linear, Error>;
}

/// One decoder block. The q/k/v projections are fused into one matmul, as are gate and up:
/// one input quantization and one parallel region instead of three (two), which matters at
/// decode where a small model's matmuls are tiny.
#[derive(Debug, Clone)]
struct Layer {
    attn_norm: Tensor,
    qkv: Linear,
    o: Linear,
    ffn_norm: Tensor,
    gate_up: Linear,
    down: Linear,
}

/// Stacks projections sharing their input into one `(sum of outputs, in)` projection.
fn fuse(parts: Vec<Linear>) -> Result<Linear, Error> {
    let biases: Vec<Option<Tensor>> = parts
        .iter()
        .map(|p| match p {
            Linear::Dense { bias, .. }
            | Linear::Quantized { bias, .. }
            | Linear::Stacked { bias, .. }
            | Linear::Dual { bias, .. } => bias.clone(),
        })
        .collect();
    let bias = if biases.iter().all(Option::is_some) {
        Some(Tensor::cat(&biases.into_iter().flatten().collect::<Vec<_>>(), 0)?)
    } else if biases.iter().all(Option::is_none) {
        None
    } else {
        return Err(Error::InvalidRequest("cannot fuse projections with and without bias".into()));
    };
    let mut dense = Vec::new();
    let mut quantized = Vec::new();
    let mut other = Vec::new();
    for p in parts {
        match p {
            Linear::Dense { weight, .. } => dense.push(weight),
            Linear::Quantized { weight, .. } => quantized.push(weight),
            other_kind @ (Linear::Stacked { .. } | Linear::Dual { .. }) => other.push(other_kind),
        }
    }
    if !other.is_empty() || (!dense.is_empty() && !quantized.is_empty()) {
        return Err(Error::InvalidRequest("cannot fuse projections of different kinds".into()));
    }
    if quantized.is_empty() {
        return Ok(Linear::Dense { weight: Tensor::cat(&dense, 0)?, bias });
    }
    fuse_quantized(quantized, bias)
}

/// Quantized rows are independent runs of blocks, so stacking CPU matrices of one format is
/// concatenating their bytes. Anything else (mixed formats, GPU storage) stays separate.
fn fuse_quantized(parts: Vec<QMatMul>, bias: Option<Tensor>) -> Result<Linear, Error> {
    let qtensors: Vec<&std::sync::Arc<QTensor>> =
        parts.iter().filter_map(|p| if let QMatMul::QTensor(q) = p { Some(q) } else { None }).collect();
    let same_format = qtensors.len() == parts.len()
        && qtensors.iter().all(|q| q.dtype() == qtensors[0].dtype() && q.device().is_cpu());
    if !same_format {
        let parts = parts.into_iter().map(|weight| Linear::Quantized { weight, bias: None }).collect();
        return Ok(Linear::Stacked { parts, bias });
    }
    let cols = qtensors[0].shape().dims2()?.1;
    let mut rows = 0;
    let mut bytes = Vec::new();
    for q in &qtensors {
        let (r, c) = q.shape().dims2()?;
        if c != cols {
            return Err(Error::InvalidRequest("cannot fuse projections of different input sizes".into()));
        }
        rows += r;
        bytes.extend_from_slice(&q.data()?);
    }
    let storage = QStorage::from_data(Cow::Owned(bytes), &Device::Cpu, qtensors[0].dtype())?;
    Ok(Linear::Quantized { weight: QMatMul::from_qtensor(QTensor::new(storage, (rows, cols))?)?, bias })
}

/// The network: weights, rotary tables, and a forward over a caller-owned KV buffer.
#[derive(Debug, Clone)]
pub struct Transformer {
    cfg: ArchConfig,
    embed: Tensor,
    layers: Vec<Layer>,
    norm: Tensor,
    lm_head: Linear,
    cos: Tensor,
    sin: Tensor,
    dtype: DType,
    device: Device,
}

impl Transformer {
    /// `dense_prefill` keeps an f32 copy of quantized weights for prefill (see [`Linear::Dual`]).
    pub(crate) fn load(
        cfg: ArchConfig,
        src: &mut dyn WeightSource,
        dtype: DType,
        device: &Device,
        dense_prefill: bool,
    ) -> Result<Self, Error> {
        let dual = |l: Linear| if dense_prefill { l.with_dense_copy() } else { Ok(l) };
        let embed = src.dense(TensorName::Embed)?;
        let mut layers = Vec::with_capacity(cfg.num_layers);
        for i in 0..cfg.num_layers {
            let with_bias =
                |src: &mut dyn WeightSource, w: TensorName, b: TensorName| -> Result<Linear, Error> {
                    let lin = src.linear(w)?;
                    if !cfg.qkv_bias {
                        return Ok(lin);
                    }
                    let bias = Some(src.dense(b)?);
                    Ok(match lin {
                        Linear::Dense { weight, .. } => Linear::Dense { weight, bias },
                        Linear::Quantized { weight, .. } => Linear::Quantized { weight, bias },
                        Linear::Stacked { parts, .. } => Linear::Stacked { parts, bias },
                        Linear::Dual { quantized, dense, .. } => Linear::Dual { quantized, dense, bias },
                    })
                };
            let q = with_bias(src, TensorName::Q(i), TensorName::QBias(i))?;
            let k = with_bias(src, TensorName::K(i), TensorName::KBias(i))?;
            let v = with_bias(src, TensorName::V(i), TensorName::VBias(i))?;
            let gate = src.linear(TensorName::Gate(i))?;
            let up = src.linear(TensorName::Up(i))?;
            layers.push(Layer {
                attn_norm: src.dense(TensorName::AttnNorm(i))?,
                qkv: dual(fuse(vec![q, k, v])?)?,
                o: dual(src.linear(TensorName::O(i))?)?,
                ffn_norm: src.dense(TensorName::FfnNorm(i))?,
                gate_up: dual(fuse(vec![gate, up])?)?,
                down: dual(src.linear(TensorName::Down(i))?)?,
            });
        }
        let norm = src.dense(TensorName::FinalNorm)?;
        let lm_head = if !cfg.tie_word_embeddings && src.contains(TensorName::Output) {
            src.linear(TensorName::Output)?
        } else {
            src.tied_output()?
        };
        let (cos, sin) = rope_tables(&cfg, dtype, device)?;
        Ok(Self { cfg, embed, layers, norm, lm_head, cos, sin, dtype, device: device.clone() })
    }

    pub fn config(&self) -> &ArchConfig {
        &self.cfg
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// A KV buffer for `batch` rows with room for `capacity` positions.
    pub fn new_kv(&self, batch: usize, capacity: usize) -> Result<KvBuffer, Error> {
        Ok(KvBuffer::new(&self.cfg, batch, capacity, self.dtype, &self.device)?)
    }

    /// Runs `tokens` (`batch x t`, every row at positions `kv.len()..kv.len() + t`) and returns
    /// the final-norm hidden states `(batch, t, hidden)`; the buffer grows by `t`.
    pub fn forward(&self, tokens: &[Vec<u32>], kv: &mut KvBuffer) -> Result<Tensor, Error> {
        self.forward_rows(tokens, None, kv)
    }

    /// Like [`Transformer::forward`] for rows of different lengths, left-padded in the buffer:
    /// row `i` continues at position `positions[i]` (at most `kv.len()`), so its first
    /// `kv.len() - positions[i]` slots are padding that attention masks out.
    pub fn forward_ragged(
        &self,
        tokens: &[Vec<u32>],
        positions: &[usize],
        kv: &mut KvBuffer,
    ) -> Result<Tensor, Error> {
        self.forward_rows(tokens, Some(positions), kv)
    }

    fn forward_rows(
        &self,
        tokens: &[Vec<u32>],
        positions: Option<&[usize]>,
        kv: &mut KvBuffer,
    ) -> Result<Tensor, Error> {
        let b = tokens.len();
        let t = tokens.first().map_or(0, Vec::len);
        if b != kv.batch() || t == 0 || tokens.iter().any(|r| r.len() != t) {
            return Err(Error::InvalidRequest(format!(
                "forward needs {} rows of equal, non-zero length",
                kv.batch()
            )));
        }
        let slot = kv.len();
        // Per-row positions only when some row is padded.
        let ragged = positions.filter(|p| p.iter().any(|&x| x != slot));
        if let Some(p) = ragged
            && (p.len() != b || p.iter().any(|&x| x > slot))
        {
            return Err(Error::InvalidRequest("one position per row, at most the buffer length".into()));
        }
        let max_pos = ragged.map_or(slot, |p| p.iter().copied().max().unwrap_or(slot));
        if max_pos + t > self.cos.dim(0)? {
            return Err(Error::InvalidRequest(format!(
                "position {} is beyond the context of {} tokens",
                max_pos + t,
                self.cos.dim(0)?
            )));
        }
        kv.reserve(slot + t)?;
        let flat: Vec<u32> = tokens.iter().flatten().copied().collect();
        let ids = Tensor::new(flat, &self.device)?;
        let mut x = self.embed.index_select(&ids, 0)?.reshape((b, t, self.cfg.hidden_size))?;
        let (cos, sin, mask) = match ragged {
            None => (self.cos.narrow(0, slot, t)?, self.sin.narrow(0, slot, t)?, self.mask(slot, t)?),
            Some(p) => {
                let idx: Vec<u32> =
                    p.iter().flat_map(|&start| (start..start + t).map(|i| i as u32)).collect();
                let idx = Tensor::new(idx, &self.device)?;
                let half = self.cfg.head_dim / 2;
                let gather = |table: &Tensor| table.index_select(&idx, 0)?.reshape((b, t, half));
                (gather(&self.cos)?, gather(&self.sin)?, Some(self.ragged_mask(slot, t, p)?))
            }
        };
        for (i, layer) in self.layers.iter().enumerate() {
            let h = rms_norm(&x, &layer.attn_norm, self.cfg.rms_norm_eps)?;
            let h = self.attention(i, layer, &h, &cos, &sin, mask.as_ref(), kv, slot)?;
            x = (x + h)?;
            let h = rms_norm(&x, &layer.ffn_norm, self.cfg.rms_norm_eps)?;
            let gate_up = layer.gate_up.forward(&h)?;
            let ffn = self.cfg.intermediate_size;
            let gate = candle_nn::ops::silu(&gate_up.narrow(2, 0, ffn)?)?;
            let h = layer.down.forward(&(gate * gate_up.narrow(2, ffn, ffn)?)?)?;
            x = (x + h)?;
        }
        kv.set_len(slot + t);
        Ok(rms_norm(&x, &self.norm, self.cfg.rms_norm_eps)?)
    }

    /// Logits `(rows, vocab)` in f32 for hidden states `(rows, hidden)`.
    pub fn logits(&self, hidden: &Tensor) -> Result<Tensor, Error> {
        let h = hidden.unsqueeze(0)?;
        Ok(self.lm_head.forward(&h)?.squeeze(0)?.to_dtype(DType::F32)?)
    }

    #[allow(clippy::too_many_arguments)]
    fn attention(
        &self,
        index: usize,
        layer: &Layer,
        x: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        mask: Option<&Tensor>,
        kv: &KvBuffer,
        pos: usize,
    ) -> candle_core::Result<Tensor> {
        let cfg = &self.cfg;
        let (b, t, _) = x.dims3()?;
        let (nh, nkv, hd) = (cfg.num_heads, cfg.num_kv_heads, cfg.head_dim);
        let qkv = layer.qkv.forward(x)?;
        let heads = |from: usize, n: usize| -> candle_core::Result<Tensor> {
            qkv.narrow(2, from * hd, n * hd)?.reshape((b, t, n, hd))?.transpose(1, 2)?.contiguous()
        };
        let rope = |x: &Tensor| match cfg.rope_style {
            RopeStyle::Half => candle_nn::rotary_emb::rope(x, cos, sin),
            RopeStyle::Interleaved => candle_nn::rotary_emb::rope_i(x, cos, sin),
        };
        let q = rope(&heads(0, nh)?)?;
        let k = rope(&heads(nh, nkv)?)?;
        let v = heads(nh + nkv, nkv)?;
        kv.write(index, &k, &v, pos)?;
        let (keys, values) = kv.view(index, pos + t)?;
        // Grouped-query attention without copying keys per head: the query heads sharing a KV
        // head become extra rows of one matmul (head h uses KV head h / group, as in HF).
        let group = nh / nkv;
        let q = q.reshape((b, nkv, group * t, hd))?;
        let scale = 1.0 / (hd as f64).sqrt();
        let att = (q.matmul(&keys.t()?)? * scale)?;
        let att = match mask {
            Some(m) => att.broadcast_add(m)?,
            None => att,
        };
        let att = candle_nn::ops::softmax_last_dim(&att.to_dtype(DType::F32)?)?.to_dtype(self.dtype)?;
        let out = att.matmul(&values)?.reshape((b, nh, t, hd))?.transpose(1, 2)?.reshape((b, t, nh * hd))?;
        layer.o.forward(&out)
    }

    /// Additive mask `(group * t, pos + t)` for queries at `pos..pos + t`: causal, plus the
    /// sliding window when the model has one. `None` when nothing is masked.
    fn mask(&self, pos: usize, t: usize) -> candle_core::Result<Option<Tensor>> {
        let total = pos + t;
        let window = self.cfg.sliding_window.filter(|&w| w < total);
        if t == 1 && window.is_none() {
            return Ok(None);
        }
        let group = self.cfg.num_heads / self.cfg.num_kv_heads;
        let mut data = Vec::with_capacity(group * t * total);
        for _ in 0..group {
            for i in 0..t {
                let q = pos + i;
                data.extend((0..total).map(|j| {
                    let hidden = j > q || window.is_some_and(|w| q - j >= w);
                    if hidden { f32::NEG_INFINITY } else { 0.0 }
                }));
            }
        }
        Ok(Some(Tensor::from_vec(data, (group * t, total), &self.device)?.to_dtype(self.dtype)?))
    }
}

impl Transformer {
    /// Additive mask `(b, 1, group * t, slot + t)` for left-padded rows: row `i`'s padding
    /// slots `0..slot - positions[i]`, later slots (causal) and, with a sliding window, slots
    /// too far back are hidden. Slot distance equals position distance within a row.
    fn ragged_mask(&self, slot: usize, t: usize, positions: &[usize]) -> candle_core::Result<Tensor> {
        let total = slot + t;
        let group = self.cfg.num_heads / self.cfg.num_kv_heads;
        let window = self.cfg.sliding_window;
        let mut data = Vec::with_capacity(positions.len() * group * t * total);
        for &p in positions {
            let pad = slot - p;
            for _ in 0..group {
                for i in 0..t {
                    let q = slot + i;
                    data.extend((0..total).map(|j| {
                        let hidden = j < pad || j > q || window.is_some_and(|w| q - j >= w);
                        if hidden { f32::NEG_INFINITY } else { 0.0 }
                    }));
                }
            }
        }
        Tensor::from_vec(data, (positions.len(), 1, group * t, total), &self.device)?.to_dtype(self.dtype)
    }
}

fn rms_norm(x: &Tensor, weight: &Tensor, eps: f64) -> candle_core::Result<Tensor> {
    candle_nn::ops::rms_norm(&x.contiguous()?, weight, eps as f32)
}

/// cos/sin tables `(max_positions, head_dim / 2)`.
fn rope_tables(cfg: &ArchConfig, dtype: DType, device: &Device) -> candle_core::Result<(Tensor, Tensor)> {
    let half = cfg.head_dim / 2;
    let inv_freq: Vec<f32> = (0..half)
        .map(|i| {
            let f = 1.0 / cfg.rope_theta.powf(2.0 * i as f32 / cfg.head_dim as f32);
            scale_frequency(f, cfg.rope_scaling)
        })
        .collect();
    let positions = cfg.max_position_embeddings;
    let inv_freq = Tensor::from_vec(inv_freq, (1, half), device)?;
    let t = Tensor::arange(0u32, positions as u32, device)?.to_dtype(DType::F32)?.reshape((positions, 1))?;
    let freqs = t.broadcast_mul(&inv_freq)?;
    Ok((freqs.cos()?.to_dtype(dtype)?, freqs.sin()?.to_dtype(dtype)?))
}

fn scale_frequency(f: f32, scaling: RopeScaling) -> f32 {
    match scaling {
        RopeScaling::None => f,
        RopeScaling::Linear { factor } => f / factor,
        RopeScaling::Llama3 {
            factor,
            low_freq_factor,
            high_freq_factor,
            original_max_position_embeddings,
        } => {
            let old = original_max_position_embeddings as f32;
            let wavelen = 2.0 * std::f32::consts::PI / f;
            let (low_wavelen, high_wavelen) = (old / low_freq_factor, old / high_freq_factor);
            if wavelen < high_wavelen {
                f
            } else if wavelen > low_wavelen {
                f / factor
            } else {
                let smooth = (old / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor);
                (1.0 - smooth) * f / factor + smooth * f
            }
        }
    }
}

/// Row `row` of the last position of `hidden` `(b, t, h)`, as `(1, h)`.
pub(crate) fn last_position(hidden: &Tensor) -> candle_core::Result<Tensor> {
    let t = hidden.dim(1)?;
    hidden.narrow(1, t - 1, 1)?.squeeze(1)
}

/// `x` as a flat f32 vector.
pub(crate) fn to_f32_vec(x: &Tensor) -> candle_core::Result<Vec<f32>> {
    x.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()
}
