//! The network being trained: a llama-architecture decoder with the AlphaMath value head,
//! written with differentiable candle operations only.
//!
//! candle-nn's fused CPU kernels (`softmax_last_dim`, `rms_norm`, `rope`, `sdpa`) have no
//! backward pass and silently drop gradients, so this forward composes the same functions from
//! basic operations (`ops::softmax`, `rms_norm_slow`, `rope_slow`). The weights carry the HF
//! names, so a checkpoint written here is an HF folder that `model::CandleModel` loads as it
//! loads any llama checkpoint, and gives the same logits and values (tested).

use std::collections::HashMap;
use std::path::Path;

use candle_core::{D, DType, Device, Tensor, Var};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::model::Rng;

/// The shape of the network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_layers: usize,
    pub num_heads: usize,
    pub intermediate_size: usize,
    /// The context the checkpoint declares (prompt plus generation must fit it).
    pub max_position_embeddings: usize,
    pub rope_theta: f32,
    pub rms_norm_eps: f64,
    pub bos_token_id: u32,
    pub eos_token_id: u32,
}

impl NetConfig {
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_heads
    }

    /// The HF `config.json` of a llama checkpoint with AlphaMath's `"value_model": true`.
    pub fn hf_config(&self) -> serde_json::Value {
        json!({
            "architectures": ["LlamaForCausalLM"],
            "model_type": "llama",
            "vocab_size": self.vocab_size,
            "hidden_size": self.hidden_size,
            "intermediate_size": self.intermediate_size,
            "num_hidden_layers": self.num_layers,
            "num_attention_heads": self.num_heads,
            "num_key_value_heads": self.num_heads,
            "hidden_act": "silu",
            "max_position_embeddings": self.max_position_embeddings,
            "rms_norm_eps": self.rms_norm_eps,
            "rope_theta": self.rope_theta,
            "tie_word_embeddings": false,
            "bos_token_id": self.bos_token_id,
            "eos_token_id": self.eos_token_id,
            "torch_dtype": "float32",
            "value_model": true,
        })
    }

    /// The shape written by [`NetConfig::hf_config`], read back from a `config.json`.
    pub fn from_hf_config(config: &serde_json::Value) -> Result<NetConfig, String> {
        let n = |k: &str| {
            config.get(k).and_then(|v| v.as_u64()).ok_or_else(|| format!("config.json: no integer {k}"))
        };
        let f = |k: &str| {
            config.get(k).and_then(|v| v.as_f64()).ok_or_else(|| format!("config.json: no number {k}"))
        };
        Ok(NetConfig {
            vocab_size: n("vocab_size")? as usize,
            hidden_size: n("hidden_size")? as usize,
            num_layers: n("num_hidden_layers")? as usize,
            num_heads: n("num_attention_heads")? as usize,
            intermediate_size: n("intermediate_size")? as usize,
            max_position_embeddings: n("max_position_embeddings")? as usize,
            rope_theta: f("rope_theta")? as f32,
            rms_norm_eps: f("rms_norm_eps")?,
            bos_token_id: n("bos_token_id")? as u32,
            eos_token_id: n("eos_token_id")? as u32,
        })
    }

    /// Parameters of the network (value head included).
    pub fn parameters(&self) -> usize {
        let (h, f, v) = (self.hidden_size, self.intermediate_size, self.vocab_size);
        2 * v * h + self.num_layers * (4 * h * h + 3 * h * f + 2 * h) + h + h + 1
    }
}

/// The HF names of the weights, in a fixed order.
pub fn weight_names(cfg: &NetConfig) -> Vec<(String, Vec<usize>)> {
    let (h, f, v) = (cfg.hidden_size, cfg.intermediate_size, cfg.vocab_size);
    let mut names = vec![("model.embed_tokens.weight".to_owned(), vec![v, h])];
    for i in 0..cfg.num_layers {
        let l = |s: &str| format!("model.layers.{i}.{s}");
        names.extend([
            (l("input_layernorm.weight"), vec![h]),
            (l("self_attn.q_proj.weight"), vec![h, h]),
            (l("self_attn.k_proj.weight"), vec![h, h]),
            (l("self_attn.v_proj.weight"), vec![h, h]),
            (l("self_attn.o_proj.weight"), vec![h, h]),
            (l("post_attention_layernorm.weight"), vec![h]),
            (l("mlp.gate_proj.weight"), vec![f, h]),
            (l("mlp.up_proj.weight"), vec![f, h]),
            (l("mlp.down_proj.weight"), vec![h, f]),
        ]);
    }
    names.extend([
        ("model.norm.weight".to_owned(), vec![h]),
        ("lm_head.weight".to_owned(), vec![v, h]),
        ("v_head.summary.weight".to_owned(), vec![1, h]),
        ("v_head.summary.bias".to_owned(), vec![1]),
    ]);
    names
}

/// The network's trainable weights.
pub struct Net {
    pub cfg: NetConfig,
    /// Every weight by HF name, in [`weight_names`] order.
    params: Vec<(String, Var)>,
    cos: Tensor,
    sin: Tensor,
}

/// The network's outputs over a batch.
pub struct Outputs {
    /// `(batch * t, vocab)`.
    pub logits: Tensor,
    /// `(batch * t)`, tanh-bounded.
    pub values: Tensor,
    /// `(batch * t)`, the values before the tanh (the ranking loss's logits).
    pub scores: Tensor,
}

/// Normal(0, std) values from a seeded generator (Box-Muller), so initialisation does not
/// depend on candle's global random state.
fn normal(rng: &mut Rng, n: usize, std: f64) -> Vec<f32> {
    (0..n)
        .map(|_| {
            let u1 = rng.next_f64().max(1e-12);
            let u2 = rng.next_f64();
            ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos() * std) as f32
        })
        .collect()
}

impl Net {
    /// Fresh weights: normal(0, 0.02) projections (output projections scaled down with depth),
    /// unit norms, a zero value-head bias.
    pub fn new(cfg: NetConfig, seed: u64) -> candle_core::Result<Net> {
        let mut rng = Rng::new(seed);
        let out_std = 0.02 / (2.0 * cfg.num_layers as f64).sqrt();
        let mut params = Vec::new();
        for (name, shape) in weight_names(&cfg) {
            let n: usize = shape.iter().product();
            let data = if name.ends_with("norm.weight") {
                vec![1.0; n]
            } else if name == "v_head.summary.bias" {
                vec![0.0; n]
            } else if name.ends_with("o_proj.weight") || name.ends_with("down_proj.weight") {
                normal(&mut rng, n, out_std)
            } else {
                normal(&mut rng, n, 0.02)
            };
            params.push((name, Var::from_tensor(&Tensor::from_vec(data, shape, &Device::Cpu)?)?));
        }
        Net::assemble(cfg, params)
    }

    /// Weights from a safetensors file written by [`Net::save_weights`].
    pub fn load(cfg: NetConfig, path: &Path) -> candle_core::Result<Net> {
        let tensors = candle_core::safetensors::load(path, &Device::Cpu)?;
        let mut params = Vec::new();
        for (name, shape) in weight_names(&cfg) {
            let t = tensors
                .get(&name)
                .ok_or_else(|| candle_core::Error::Msg(format!("{}: no tensor {name}", path.display())))?;
            if t.dims() != shape.as_slice() {
                return Err(candle_core::Error::Msg(format!(
                    "{}: {name} has shape {:?}, expected {shape:?}",
                    path.display(),
                    t.dims()
                )));
            }
            params.push((name, Var::from_tensor(&t.to_dtype(DType::F32)?)?));
        }
        Net::assemble(cfg, params)
    }

    fn assemble(cfg: NetConfig, params: Vec<(String, Var)>) -> candle_core::Result<Net> {
        let half = cfg.head_dim() / 2;
        let inv: Vec<f32> =
            (0..half).map(|i| 1.0 / cfg.rope_theta.powf(2.0 * i as f32 / cfg.head_dim() as f32)).collect();
        let n = cfg.max_position_embeddings;
        let inv = Tensor::from_vec(inv, (1, half), &Device::Cpu)?;
        let pos = Tensor::arange(0u32, n as u32, &Device::Cpu)?.to_dtype(DType::F32)?.reshape((n, 1))?;
        let freqs = pos.broadcast_mul(&inv)?;
        Ok(Net { cfg, params, cos: freqs.cos()?, sin: freqs.sin()? })
    }

    /// The weights with their names.
    pub fn params(&self) -> &[(String, Var)] {
        &self.params
    }

    fn w(&self, name: &str) -> candle_core::Result<&Tensor> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_tensor())
            .ok_or_else(|| candle_core::Error::Msg(format!("no weight {name}")))
    }

    /// Runs `ids` `(batch, t)` (right-padded; padding only ever sees earlier tokens, so the
    /// outputs at real positions do not depend on it).
    pub fn forward(&self, ids: &Tensor) -> candle_core::Result<Outputs> {
        let cfg = &self.cfg;
        let (b, t) = ids.dims2()?;
        let (h, nh, hd) = (cfg.hidden_size, cfg.num_heads, cfg.head_dim());
        let eps = cfg.rms_norm_eps as f32;
        let linear = |x: &Tensor, name: &str| -> candle_core::Result<Tensor> {
            let w = self.w(name)?;
            let (rows, cols) = (x.elem_count() / x.dim(D::Minus1)?, x.dim(D::Minus1)?);
            x.reshape((rows, cols))?.matmul(&w.t()?)
        };
        let mut x = self.w("model.embed_tokens.weight")?.index_select(&ids.flatten_all()?, 0)?; // (b*t, h)
        let cos = self.cos.narrow(0, 0, t)?;
        let sin = self.sin.narrow(0, 0, t)?;
        let mask: Vec<f32> =
            (0..t).flat_map(|i| (0..t).map(move |j| if j > i { -1e9f32 } else { 0.0 })).collect();
        let mask = Tensor::from_vec(mask, (t, t), &Device::Cpu)?;
        let scale = 1.0 / (hd as f64).sqrt();
        for i in 0..cfg.num_layers {
            let l = |s: &str| format!("model.layers.{i}.{s}");
            let hn = candle_nn::ops::rms_norm_slow(&x, self.w(&l("input_layernorm.weight"))?, eps)?;
            let heads = |name: &str| -> candle_core::Result<Tensor> {
                linear(&hn, name)?.reshape((b, t, nh, hd))?.transpose(1, 2)?.contiguous()
            };
            // The 1/sqrt(d) scale goes on q (t x d) rather than on the scores (t x t).
            let q = (candle_nn::rotary_emb::rope_slow(&heads(&l("self_attn.q_proj.weight"))?, &cos, &sin)?
                * scale)?;
            let k = candle_nn::rotary_emb::rope_slow(&heads(&l("self_attn.k_proj.weight"))?, &cos, &sin)?;
            let v = heads(&l("self_attn.v_proj.weight"))?;
            let att = q.matmul(&k.t()?)?.broadcast_add(&mask)?;
            let att = candle_nn::ops::softmax(&att, D::Minus1)?;
            let out = att.matmul(&v)?.transpose(1, 2)?.reshape((b * t, h))?;
            x = (x + linear(&out, &l("self_attn.o_proj.weight"))?)?;
            let hn = candle_nn::ops::rms_norm_slow(&x, self.w(&l("post_attention_layernorm.weight"))?, eps)?;
            let gate = candle_nn::ops::silu(&linear(&hn, &l("mlp.gate_proj.weight"))?)?;
            let up = linear(&hn, &l("mlp.up_proj.weight"))?;
            x = (x + linear(&(gate * up)?, &l("mlp.down_proj.weight"))?)?;
        }
        let hidden = candle_nn::ops::rms_norm_slow(&x, self.w("model.norm.weight")?, eps)?;
        let logits = linear(&hidden, "lm_head.weight")?;
        let scores = linear(&hidden, "v_head.summary.weight")?
            .broadcast_add(self.w("v_head.summary.bias")?)?
            .squeeze(1)?;
        let values = scores.tanh()?;
        Ok(Outputs { logits, values, scores })
    }

    /// The weights as tensors by name.
    pub fn tensors(&self) -> HashMap<String, Tensor> {
        self.params.iter().map(|(n, v)| (n.clone(), v.as_tensor().clone())).collect()
    }

    /// Writes the weights (value head included, as `v_head.summary.*`) to a safetensors file.
    pub fn save_weights(&self, path: &Path) -> candle_core::Result<()> {
        candle_core::safetensors::save(&self.tensors(), path)
    }

    /// Writes an HF checkpoint folder: `config.json`, `model.safetensors`, `tokenizer.json`.
    pub fn save_hf(&self, dir: &Path, tokenizer_json: &str) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let config = serde_json::to_string_pretty(&self.cfg.hf_config()).map_err(std::io::Error::other)?;
        std::fs::write(dir.join("config.json"), config + "\n")?;
        std::fs::write(dir.join("tokenizer.json"), tokenizer_json)?;
        self.save_weights(&dir.join("model.safetensors")).map_err(std::io::Error::other)
    }
}

/// Token-level losses of one batch.
pub struct Losses {
    /// Mean cross-entropy over labelled positions (0 when there are none).
    pub policy: Tensor,
    /// Σ (tanh v − target)² over valued positions / (count + 1e-3), reference §10.5.
    pub value: Tensor,
}

/// A batch as tensors: token ids, next-token labels with their mask, value targets with theirs.
pub struct Batch {
    pub ids: Tensor,
    pub labels: Tensor,
    pub label_mask: Tensor,
    pub value_targets: Tensor,
    pub value_mask: Tensor,
    pub labelled: usize,
    pub valued: usize,
}

/// Label of a position that is not trained.
pub const IGNORE: u32 = u32::MAX;

impl Batch {
    /// Pads `rows` (tokens, labels, value targets; NaN = none) on the right with `pad`.
    pub fn new(rows: &[(&[u32], &[u32], &[f32])], pad: u32) -> candle_core::Result<Batch> {
        let t = rows.iter().map(|r| r.0.len()).max().unwrap_or(1).max(1);
        let b = rows.len();
        let mut ids = vec![pad; b * t];
        let mut labels = vec![0u32; b * t];
        let mut label_mask = vec![0f32; b * t];
        let mut targets = vec![0f32; b * t];
        let mut value_mask = vec![0f32; b * t];
        for (r, (tokens, lab, val)) in rows.iter().enumerate() {
            for (i, &tok) in tokens.iter().enumerate() {
                ids[r * t + i] = tok;
                if let Some(&l) = lab.get(i).filter(|&&l| l != IGNORE) {
                    labels[r * t + i] = l;
                    label_mask[r * t + i] = 1.0;
                }
                if let Some(&v) = val.get(i).filter(|v| !v.is_nan()) {
                    targets[r * t + i] = v;
                    value_mask[r * t + i] = 1.0;
                }
            }
        }
        let labelled = label_mask.iter().filter(|&&m| m > 0.0).count();
        let valued = value_mask.iter().filter(|&&m| m > 0.0).count();
        let dev = &Device::Cpu;
        Ok(Batch {
            ids: Tensor::from_vec(ids, (b, t), dev)?,
            labels: Tensor::from_vec(labels, b * t, dev)?,
            label_mask: Tensor::from_vec(label_mask, b * t, dev)?,
            value_targets: Tensor::from_vec(targets, b * t, dev)?,
            value_mask: Tensor::from_vec(value_mask, b * t, dev)?,
            labelled,
            valued,
        })
    }
}

/// The reference's losses (§10.5) on `out` for `batch`.
pub fn losses(out: &Outputs, batch: &Batch) -> candle_core::Result<Losses> {
    losses_over(out, batch, batch.labelled, batch.valued)
}

/// [`losses`] normalised by the counts of a larger batch `batch` is a shard of, so the shards'
/// losses (and gradients) add up to the whole batch's.
pub fn losses_over(
    out: &Outputs,
    batch: &Batch,
    labelled: usize,
    valued: usize,
) -> candle_core::Result<Losses> {
    // Without labels the policy loss is left out of the graph, so the output projection gets
    // no gradient at all (and no weight decay) rather than a zero one.
    let policy = if batch.labelled == 0 {
        Tensor::zeros((), out.values.dtype(), out.values.device())?
    } else {
        let logp = candle_nn::ops::log_softmax(&out.logits, D::Minus1)?;
        let picked = logp.gather(&batch.labels.unsqueeze(1)?, 1)?.squeeze(1)?;
        ((picked * &batch.label_mask)?.sum_all()? * (-1.0 / labelled.max(1) as f64))?
    };
    let diff = (&out.values - &batch.value_targets)?;
    let value = ((diff.sqr()? * &batch.value_mask)?.sum_all()? / (valued as f64 + 1e-3))?;
    Ok(Losses { policy, value })
}

/// The ranking loss over `pairs` of flat positions `(better, worse)` in `out`:
/// Σ log(1 + exp(−(s_better − s_worse))) / `total`, on the scores before the tanh so a pair
/// the head already orders by a wide margin stops pulling (Bradley–Terry). `total` is the pair
/// count of the whole batch this is a part of.
pub fn rank_loss(out: &Outputs, pairs: &[(u32, u32)], total: usize) -> candle_core::Result<Tensor> {
    if pairs.is_empty() {
        return Tensor::zeros((), out.scores.dtype(), out.scores.device());
    }
    let (better, worse): (Vec<u32>, Vec<u32>) = pairs.iter().copied().unzip();
    let n = pairs.len();
    let dev = out.scores.device();
    let margin = (out.scores.index_select(&Tensor::from_vec(better, n, dev)?, 0)?
        - out.scores.index_select(&Tensor::from_vec(worse, n, dev)?, 0)?)?;
    // softplus(−m) = relu(−m) + log(1 + exp(−|m|)), which never overflows.
    let x = margin.neg()?;
    let softplus = (x.relu()? + (x.abs()?.neg()?.exp()? + 1.0)?.log()?)?;
    softplus.sum_all()? / total.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn tiny() -> NetConfig {
        NetConfig {
            vocab_size: 40,
            hidden_size: 16,
            num_layers: 2,
            num_heads: 2,
            intermediate_size: 24,
            max_position_embeddings: 64,
            rope_theta: 10_000.0,
            rms_norm_eps: 1e-5,
            bos_token_id: 1,
            eos_token_id: 2,
        }
    }

    #[test]
    fn every_weight_gets_a_gradient() {
        let net = Net::new(tiny(), 3).unwrap();
        let rows: Vec<(Vec<u32>, Vec<u32>, Vec<f32>)> = vec![
            (vec![1, 5, 6, 7, 8], vec![5, 6, 7, 8, IGNORE], vec![f32::NAN, 0.5, f32::NAN, -1.0, f32::NAN]),
            (vec![1, 9, 10], vec![9, 10, IGNORE], vec![f32::NAN, f32::NAN, 1.0]),
        ];
        let refs: Vec<(&[u32], &[u32], &[f32])> =
            rows.iter().map(|(a, b, c)| (a.as_slice(), b.as_slice(), c.as_slice())).collect();
        let batch = Batch::new(&refs, 0).unwrap();
        assert_eq!(NetConfig::from_hf_config(&tiny().hf_config()).unwrap(), tiny());
        let out = net.forward(&batch.ids).unwrap();
        let l = losses(&out, &batch).unwrap();
        let total = (&l.policy + &l.value).unwrap();
        let grads = total.backward().unwrap();
        for (name, var) in net.params() {
            let g = grads.get(var.as_tensor()).unwrap_or_else(|| panic!("{name} got no gradient"));
            let norm = g.sqr().unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap();
            assert!(norm > 0.0 && norm.is_finite(), "{name}: gradient norm {norm}");
        }
        assert_eq!(net.params().len(), weight_names(&tiny()).len());
        let n: usize = net.params().iter().map(|(_, v)| v.elem_count()).sum();
        assert_eq!(n, tiny().parameters());
    }

    #[test]
    fn the_ranking_loss_is_the_logistic_loss_of_the_margin_and_a_step_on_it_widens_the_margin() {
        let net = Net::new(tiny(), 5).unwrap();
        let ids = Tensor::from_vec(vec![1u32, 5, 6, 7, 1, 9, 10, 11], (2, 4), &Device::Cpu).unwrap();
        // Row 0's last token is preferred over row 1's last token.
        let pair = [(3u32, 7u32)];
        let margin = |net: &Net| -> f32 {
            let s: Vec<f32> = net.forward(&ids).unwrap().scores.to_vec1().unwrap();
            s[3] - s[7]
        };
        let out = net.forward(&ids).unwrap();
        let loss = rank_loss(&out, &pair, 1).unwrap();
        let m = margin(&net);
        let expected = (1.0 + (-m).exp()).ln();
        assert!((loss.to_scalar::<f32>().unwrap() - expected).abs() < 1e-5, "{loss} vs {expected}");
        // Halving the loss over a batch twice as large.
        let half = rank_loss(&out, &pair, 2).unwrap().to_scalar::<f32>().unwrap();
        assert!((half - expected / 2.0).abs() < 1e-5);
        let grads = loss.backward().unwrap();
        for (_, var) in net.params() {
            if let Some(g) = grads.get(var.as_tensor()) {
                var.set(&(var.as_tensor() - (g * 0.05).unwrap()).unwrap()).unwrap();
            }
        }
        assert!(margin(&net) > m, "margin {m} did not grow: {}", margin(&net));
        assert_eq!(rank_loss(&out, &[], 4).unwrap().to_scalar::<f32>().unwrap(), 0.0);
    }

    #[test]
    fn a_saved_checkpoint_gives_the_same_logits_and_values_in_the_model_backend() {
        use crate::model::{CandleModel, ModelOptions};
        let texts: Vec<String> = crate::train::synth::problems(1, crate::train::synth::Split::Train, 20)
            .iter()
            .map(|p| p.solution())
            .collect();
        let bpe = crate::train::tokenizer::learn(&texts, 50, 2).unwrap();
        let cfg = NetConfig {
            vocab_size: bpe.vocab_size(),
            bos_token_id: bpe.id(crate::train::tokenizer::BOS).unwrap(),
            eos_token_id: bpe.id(crate::train::tokenizer::EOS).unwrap(),
            ..tiny()
        };
        let net = Net::new(cfg, 11).unwrap();
        let dir = tempfile::tempdir().unwrap();
        net.save_hf(dir.path(), &bpe.to_json()).unwrap();
        let mut model = CandleModel::load(dir.path(), ModelOptions::default()).unwrap();
        let prompt = "<question> Mia has 5 apples. </question>\n<step>\n<p>\n";
        let state = model.prompt_state(prompt).unwrap();
        let ids = bpe.tokenizer().unwrap().encode(prompt, true).unwrap().get_ids().to_vec();
        let out =
            net.forward(&Tensor::new(ids.as_slice(), &Device::Cpu).unwrap().unsqueeze(0).unwrap()).unwrap();
        let last = ids.len() - 1;
        let logits: Vec<f32> = out.logits.get(last).unwrap().to_vec1().unwrap();
        let diff = logits.iter().zip(&state.logits).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(diff < 1e-4, "logits differ by {diff}");
        let value: f32 = out.values.get(last).unwrap().to_scalar().unwrap();
        assert!((value - state.value.unwrap()).abs() < 1e-5, "{value} vs {:?}", state.value);
    }

    /// The shipped model's folder, loaded in the training network and in the model backend,
    /// with its tokenizer.
    fn shipped_model() -> (tokenizers::Tokenizer, Net, crate::model::CandleModel) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/model/synth");
        let config: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
        let weights = dir.join("model.safetensors");
        let net = Net::load(NetConfig::from_hf_config(&config).unwrap(), &weights).unwrap();
        let model = crate::model::CandleModel::load(&dir, crate::model::ModelOptions::default()).unwrap();
        let tok = tokenizers::Tokenizer::from_file(dir.join("tokenizer.json")).unwrap();
        (tok, net, model)
    }

    /// The training forward pass over one sequence.
    fn forward_ids(net: &Net, ids: &[u32]) -> Outputs {
        net.forward(&Tensor::new(ids, &Device::Cpu).unwrap().unsqueeze(0).unwrap()).unwrap()
    }

    /// A trained model has sharp attention, so a RoPE or masking difference between the
    /// training forward pass and the backend shows up here (a random one attends uniformly).
    #[test]
    fn the_trained_bundled_model_gives_the_same_logits_in_training_and_in_the_backend() {
        let (tok, net, mut model) = shipped_model();
        let p = crate::train::synth::problem(7, crate::train::synth::Split::Test, 3);
        let text = format!("{}{}", crate::train::data::root_prompt(&p.question), p.solution());
        let ids = tok.encode(text.as_str(), true).unwrap().get_ids().to_vec();
        let out = forward_ids(&net, &ids);
        // Every prefix that ends a line (a state the search could prompt with).
        let mut checked = 0;
        for (i, _) in text.match_indices('\n') {
            let prefix = &text[..=i];
            let n = tok.encode(prefix, true).unwrap().get_ids().len();
            let state = model.prompt_state(prefix).unwrap();
            let logits: Vec<f32> = out.logits.get(n - 1).unwrap().to_vec1().unwrap();
            let diff = logits.iter().zip(&state.logits).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
            assert!(diff < 1e-3, "logits differ by {diff} after {n} tokens");
            checked += 1;
        }
        assert!(checked > 10);
    }

    /// Greedy decoding through the backend's KV cache writes, token by token, the argmax of the
    /// training forward pass over the whole sequence (positions and cache agree).
    #[test]
    fn greedy_generation_with_the_kv_cache_follows_the_training_forward_pass() {
        use crate::model::{GenRequest, Policy};
        let (tok, net, mut model) = shipped_model();
        let p = crate::train::synth::problem(7, crate::train::synth::Split::Test, 3);
        let prompt = format!("{}{}\n", crate::train::data::root_prompt(&p.question), p.steps[0].generated());
        let mut request = GenRequest::new(prompt.clone(), 1, 60, 0);
        request.temperature = 0.0;
        let response = model.generate(&[request]).unwrap().remove(0);
        let generated = &response.candidates[0].token_ids;
        assert!(generated.len() > 20);
        let mut ids = tok.encode(prompt.as_str(), true).unwrap().get_ids().to_vec();
        let start = ids.len();
        ids.extend_from_slice(generated);
        let out = forward_ids(&net, &ids);
        let argmax = out.logits.argmax(D::Minus1).unwrap().to_vec1::<u32>().unwrap();
        for (i, &g) in generated.iter().enumerate() {
            assert_eq!(argmax[start + i - 1], g, "token {i} of the generation");
        }
    }
}
