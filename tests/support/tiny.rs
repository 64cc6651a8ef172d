//! Random-weight tiny models written to a temp folder: an HF checkpoint folder (config.json,
//! model.safetensors, tokenizer.json, optionally value_head.pth) per family, and a GGUF file
//! with its tokenizer in the metadata. Also the `.pth` writer (torch's zip + pickle format).
#![allow(dead_code, clippy::unwrap_used)] // test support: panics are test failures

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use arbor::model::Rng;
use candle_core::quantized::gguf_file::Value;
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{DType, Device, Tensor};
use serde_json::json;

pub const VOCAB: usize = 263;
pub const BOS: u32 = 256;
pub const EOS: u32 = 257;
pub const HIDDEN: usize = 64;
pub const LAYERS: usize = 2;
pub const HEADS: usize = 4;
pub const KV_HEADS: usize = 2;
pub const FFN: usize = 96;
pub const CONTEXT: usize = 192;

/// GPT-2's printable stand-ins for bytes.
pub fn byte_chars() -> Vec<char> {
    let mut bs: Vec<u32> = (b'!' as u32..=b'~' as u32).chain(0xA1..=0xAC).chain(0xAE..=0xFF).collect();
    let mut cs = bs.clone();
    let mut n = 0;
    for b in 0..256u32 {
        if !bs.contains(&b) {
            bs.push(b);
            cs.push(256 + n);
            n += 1;
        }
    }
    let mut out = vec![' '; 256];
    for (b, c) in bs.iter().zip(cs) {
        out[*b as usize] = char::from_u32(c).unwrap();
    }
    out
}

/// Byte-level BPE without merges: one token per byte (ids 0..256), then `<s>`, `</s>`, and
/// two unused ids; `<s>` is prepended like a llama tokenizer does.
pub fn tokenizer_json() -> String {
    let chars = byte_chars();
    let mut vocab = serde_json::Map::new();
    for (i, c) in chars.iter().enumerate() {
        vocab.insert(c.to_string(), json!(i));
    }
    for (i, t) in ["<s>", "</s>", "<unused0>", "<unused1>"].iter().enumerate() {
        vocab.insert(t.to_string(), json!(256 + i));
    }
    let special = |id: u32, s: &str| {
        json!({"id": id, "content": s, "single_word": false, "lstrip": false,
        "rstrip": false, "normalized": false, "special": true})
    };
    json!({
        "version": "1.0", "truncation": null, "padding": null, "normalizer": null,
        "added_tokens": [special(BOS, "<s>"), special(EOS, "</s>")],
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
        "post_processor": {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [BOS], "tokens": ["<s>"]}}},
        "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
        "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
                  "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                  "vocab": vocab, "merges": []}
    })
    .to_string()
}

pub fn random(rng: &mut Rng, shape: &[usize], scale: f32) -> Tensor {
    let n: usize = shape.iter().product();
    let data: Vec<f32> = (0..n).map(|_| (rng.next_f64() as f32 * 2.0 - 1.0) * scale).collect();
    Tensor::from_vec(data, shape, &Device::Cpu).unwrap()
}

fn norm(rng: &mut Rng) -> Tensor {
    (random(rng, &[HIDDEN], 0.1) + 1.0).unwrap()
}

/// The llama/qwen2/mistral weights under HF names.
pub fn hf_tensors(family: &str, seed: u64) -> HashMap<String, Tensor> {
    let mut rng = Rng::new(seed);
    let hd = HIDDEN / HEADS;
    let mut t = HashMap::new();
    t.insert("model.embed_tokens.weight".to_string(), random(&mut rng, &[VOCAB, HIDDEN], 1.0));
    for i in 0..LAYERS {
        let p = |s: &str| format!("model.layers.{i}.{s}");
        t.insert(p("input_layernorm.weight"), norm(&mut rng));
        t.insert(p("post_attention_layernorm.weight"), norm(&mut rng));
        t.insert(p("self_attn.q_proj.weight"), random(&mut rng, &[HEADS * hd, HIDDEN], 0.3));
        t.insert(p("self_attn.k_proj.weight"), random(&mut rng, &[KV_HEADS * hd, HIDDEN], 0.3));
        t.insert(p("self_attn.v_proj.weight"), random(&mut rng, &[KV_HEADS * hd, HIDDEN], 0.3));
        t.insert(p("self_attn.o_proj.weight"), random(&mut rng, &[HIDDEN, HEADS * hd], 0.2));
        if family == "qwen2" {
            t.insert(p("self_attn.q_proj.bias"), random(&mut rng, &[HEADS * hd], 0.2));
            t.insert(p("self_attn.k_proj.bias"), random(&mut rng, &[KV_HEADS * hd], 0.2));
            t.insert(p("self_attn.v_proj.bias"), random(&mut rng, &[KV_HEADS * hd], 0.2));
        }
        t.insert(p("mlp.gate_proj.weight"), random(&mut rng, &[FFN, HIDDEN], 0.2));
        t.insert(p("mlp.up_proj.weight"), random(&mut rng, &[FFN, HIDDEN], 0.2));
        t.insert(p("mlp.down_proj.weight"), random(&mut rng, &[HIDDEN, FFN], 0.2));
    }
    t.insert("model.norm.weight".to_string(), norm(&mut rng));
    t.insert("lm_head.weight".to_string(), random(&mut rng, &[VOCAB, HIDDEN], 0.5));
    t
}

pub fn config_json(family: &str, value_model: bool) -> serde_json::Value {
    let mut c = json!({
        "model_type": family, "vocab_size": VOCAB, "hidden_size": HIDDEN, "intermediate_size": FFN,
        "num_hidden_layers": LAYERS, "num_attention_heads": HEADS, "num_key_value_heads": KV_HEADS,
        "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": CONTEXT,
        "tie_word_embeddings": false, "bos_token_id": BOS, "eos_token_id": EOS,
    });
    if family == "mistral" {
        // Shorter than the test prompts, so the window mask is exercised.
        c["sliding_window"] = json!(24);
    }
    if value_model {
        c["value_model"] = json!(true);
    }
    c
}

/// A value head: weight `[1, HIDDEN]`, bias `[1]`.
pub fn head_weights(seed: u64) -> (Vec<f32>, f32) {
    let mut rng = Rng::new(seed);
    ((0..HIDDEN).map(|_| (rng.next_f64() as f32 - 0.5) * 0.5).collect(), 0.1)
}

/// Writes an HF folder; `head` adds `"value_model": true` and `value_head.pth`.
pub fn write_hf(dir: &Path, family: &str, seed: u64, head: Option<(&[f32], f32, bool)>) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("config.json"), config_json(family, head.is_some()).to_string()).unwrap();
    std::fs::write(dir.join("tokenizer.json"), tokenizer_json()).unwrap();
    candle_core::safetensors::save(&hf_tensors(family, seed), dir.join("model.safetensors")).unwrap();
    if let Some((w, b, bf16)) = head {
        write_value_head_pth(&dir.join("value_head.pth"), w, b, bf16);
    }
    dir.to_path_buf()
}

/// Writes a torch `state_dict` `{v_head.summary.weight: [1, n], v_head.summary.bias: [1]}` as
/// `torch.save` does (zip of `archive/data.pkl`, a protocol-2 pickle, and one raw little-endian
/// storage per tensor under `archive/data/N`), in f32 or bf16 storages.
pub fn write_value_head_pth(path: &Path, weight: &[f32], bias: f32, bf16: bool) {
    let (storage, elem) = if bf16 { ("BFloat16Storage", 2) } else { ("FloatStorage", 4) };
    let encode = |xs: &[f32]| -> Vec<u8> {
        xs.iter()
            .flat_map(|&x| {
                if bf16 {
                    let b = x.to_bits();
                    // Round to nearest even, as torch's .to(bfloat16) does.
                    (((b.wrapping_add(0x7FFF + ((b >> 16) & 1))) >> 16) as u16).to_le_bytes().to_vec()
                } else {
                    x.to_le_bytes().to_vec()
                }
            })
            .collect()
    };
    let mut p = Pickle::default();
    p.raw(&[0x80, 2]); // PROTO 2
    p.global("collections", "OrderedDict");
    p.raw(b")R"); // EMPTY_TUPLE, REDUCE -> OrderedDict()
    p.raw(b"("); // MARK for SETITEMS
    for (key, storage_key, shape, n) in [
        ("v_head.summary.weight", "0", vec![1usize, weight.len()], weight.len()),
        ("v_head.summary.bias", "1", vec![1], 1),
    ] {
        p.unicode(key);
        p.global("torch._utils", "_rebuild_tensor_v2");
        p.raw(b"("); // args tuple
        // persistent id ('storage', torch.<Storage>, key, 'cpu', numel)
        p.raw(b"(");
        p.unicode("storage");
        p.global("torch", storage);
        p.unicode(storage_key);
        p.unicode("cpu");
        p.int(n as u32);
        p.raw(b"tQ"); // TUPLE, BINPERSID
        p.int(0); // storage offset
        p.raw(b"(");
        for &d in &shape {
            p.int(d as u32);
        }
        p.raw(b"t"); // size
        p.raw(b"(");
        let mut stride = 1;
        let mut strides = vec![0; shape.len()];
        for i in (0..shape.len()).rev() {
            strides[i] = stride;
            stride *= shape[i];
        }
        for &s in &strides {
            p.int(s as u32);
        }
        p.raw(b"t"); // stride
        p.raw(&[0x89]); // NEWFALSE: requires_grad
        p.global("collections", "OrderedDict");
        p.raw(b")R"); // backward hooks
        p.raw(b"tR"); // TUPLE, REDUCE
    }
    p.raw(b"u."); // SETITEMS, STOP
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("archive/data.pkl", opts).unwrap();
    zip.write_all(&p.0).unwrap();
    zip.start_file("archive/data/0", opts).unwrap();
    zip.write_all(&encode(weight)).unwrap();
    zip.start_file("archive/data/1", opts).unwrap();
    zip.write_all(&encode(&[bias])).unwrap();
    zip.start_file("archive/version", opts).unwrap();
    zip.write_all(b"3\n").unwrap();
    zip.finish().unwrap();
    let _ = elem;
}

#[derive(Default)]
struct Pickle(Vec<u8>);

impl Pickle {
    fn raw(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }
    fn global(&mut self, module: &str, name: &str) {
        self.0.push(b'c');
        self.0.extend_from_slice(format!("{module}\n{name}\n").as_bytes());
    }
    fn unicode(&mut self, s: &str) {
        self.0.push(b'X');
        self.0.extend_from_slice(&(s.len() as u32).to_le_bytes());
        self.0.extend_from_slice(s.as_bytes());
    }
    fn int(&mut self, v: u32) {
        self.0.push(b'J'); // BININT
        self.0.extend_from_slice(&(v as i32).to_le_bytes());
    }
}

/// A tiny llama GGUF with a gpt2-style tokenizer in its metadata; projection tensors in `dtype`
/// (norms stay F32, as in real files).
pub fn write_gguf(path: &Path, seed: u64, dtype: GgmlDType) {
    write_gguf_arch(path, seed, dtype, "llama");
}

/// Like [`write_gguf`] for `arch` `llama` or `qwen2` (biases on q/k/v, NeoX rotary layout).
pub fn write_gguf_arch(path: &Path, seed: u64, dtype: GgmlDType, arch: &str) {
    let hd = HIDDEN / HEADS;
    let hf = hf_tensors(arch, seed);
    let q = |name: &str, t: &Tensor, dt: GgmlDType| (name.to_string(), QTensor::quantize(t, dt).unwrap());
    let mut tensors = vec![
        q("token_embd.weight", &hf["model.embed_tokens.weight"], dtype),
        q("output_norm.weight", &hf["model.norm.weight"], GgmlDType::F32),
        q("output.weight", &hf["lm_head.weight"], dtype),
    ];
    for i in 0..LAYERS {
        let h = |s: &str| &hf[&format!("model.layers.{i}.{s}")];
        let g = |s: &str| format!("blk.{i}.{s}");
        tensors.push(q(&g("attn_norm.weight"), h("input_layernorm.weight"), GgmlDType::F32));
        tensors.push(q(&g("ffn_norm.weight"), h("post_attention_layernorm.weight"), GgmlDType::F32));
        tensors.push(q(&g("attn_q.weight"), h("self_attn.q_proj.weight"), dtype));
        tensors.push(q(&g("attn_k.weight"), h("self_attn.k_proj.weight"), dtype));
        tensors.push(q(&g("attn_v.weight"), h("self_attn.v_proj.weight"), dtype));
        tensors.push(q(&g("attn_output.weight"), h("self_attn.o_proj.weight"), dtype));
        tensors.push(q(&g("ffn_gate.weight"), h("mlp.gate_proj.weight"), dtype));
        tensors.push(q(&g("ffn_up.weight"), h("mlp.up_proj.weight"), dtype));
        tensors.push(q(&g("ffn_down.weight"), h("mlp.down_proj.weight"), dtype));
        if arch == "qwen2" {
            for x in ["q", "k", "v"] {
                tensors.push(q(
                    &g(&format!("attn_{x}.bias")),
                    h(&format!("self_attn.{x}_proj.bias")),
                    GgmlDType::F32,
                ));
            }
        }
    }
    let chars = byte_chars();
    let mut tokens: Vec<Value> = chars.iter().map(|c| Value::String(c.to_string())).collect();
    let mut types: Vec<Value> = vec![Value::I32(1); 256];
    for t in ["<|im_start|>", "<|im_end|>", "<unused0>", "<unused1>"] {
        tokens.push(Value::String(t.to_string()));
        types.push(Value::I32(3));
    }
    // A few merges so BPE actually merges: "Ġ" + "t" etc.
    let merges: Vec<Value> = ["Ġ t", "h e", "Ġt he"].iter().map(|m| Value::String(m.to_string())).collect();
    for m in ["Ġt", "he", "Ġthe"] {
        tokens.push(Value::String(m.to_string()));
        types.push(Value::I32(1));
    }
    let key = |k: &str| format!("{arch}.{k}");
    let md: Vec<(String, Value)> = vec![
        ("general.architecture".into(), Value::String(arch.into())),
        (key("embedding_length"), Value::U32(HIDDEN as u32)),
        (key("block_count"), Value::U32(LAYERS as u32)),
        (key("feed_forward_length"), Value::U32(FFN as u32)),
        (key("attention.head_count"), Value::U32(HEADS as u32)),
        (key("attention.head_count_kv"), Value::U32(KV_HEADS as u32)),
        (key("rope.dimension_count"), Value::U32(hd as u32)),
        (key("attention.layer_norm_rms_epsilon"), Value::F32(1e-5)),
        (key("rope.freq_base"), Value::F32(10000.0)),
        (key("context_length"), Value::U32(CONTEXT as u32)),
        ("tokenizer.ggml.model".into(), Value::String("gpt2".into())),
        ("tokenizer.ggml.pre".into(), Value::String("smollm".into())),
        ("tokenizer.ggml.tokens".into(), Value::Array(tokens)),
        ("tokenizer.ggml.token_type".into(), Value::Array(types)),
        ("tokenizer.ggml.merges".into(), Value::Array(merges)),
        ("tokenizer.ggml.bos_token_id".into(), Value::U32(256)),
        ("tokenizer.ggml.eos_token_id".into(), Value::U32(257)),
        ("tokenizer.ggml.add_bos_token".into(), Value::Bool(false)),
    ];
    let md_refs: Vec<(&str, &Value)> = md.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let t_refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let mut f = std::fs::File::create(path).unwrap();
    candle_core::quantized::gguf_file::write(&mut f, &md_refs, &t_refs).unwrap();
}

/// Max |a - b|.
pub fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

pub fn tensor_f32(t: &Tensor) -> Vec<f32> {
    t.to_dtype(DType::F32).unwrap().flatten_all().unwrap().to_vec1().unwrap()
}
