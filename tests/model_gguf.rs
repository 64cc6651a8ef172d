//! GGUF: a tiny random llama file written by the test (tokenizer from metadata, quantized
//! weights, re-quantisation), and SmolLM2-135M-Instruct when `.cache/models/` has it.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns panic as test failures

#[path = "support/tiny.rs"]
mod tiny;

use std::path::Path;

use arbor::model::{CandleModel, Finish, GenRequest, ModelOptions, Policy, requantize_gguf_file};
use candle_core::quantized::GgmlDType;
use candle_core::quantized::gguf_file::Content;
use tiny::*;

const SMOLLM2: &str = ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf";

fn open(path: &Path, requantize: bool) -> CandleModel {
    CandleModel::load(path, ModelOptions { requantize, kv_cache_bytes: 64 << 20, ..ModelOptions::default() })
        .unwrap()
}

#[test]
fn tokenizer_is_rebuilt_from_gguf_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.gguf");
    write_gguf(&path, 1, GgmlDType::F32);
    let m = open(&path, true);
    let tok = m.tokenizer();
    let text = "<|im_start|>user\n the 12 cats<|im_end|>";
    let enc = tok.inner().encode(text, true).unwrap();
    // Control tokens are matched whole, merges apply ("Ġthe"), digits are split one by one.
    assert_eq!(enc.get_tokens()[..4], ["<|im_start|>", "u", "s", "e"]);
    assert!(enc.get_tokens().contains(&"Ġthe".to_string()), "{:?}", enc.get_tokens());
    assert!(enc.get_tokens().windows(2).any(|w| w == ["1", "2"]), "{:?}", enc.get_tokens());
    assert_eq!(enc.get_ids()[0], 256, "no BOS: add_bos_token is false");
    assert_eq!(tok.eos_ids(), &[257]);
    for s in ["3 + 5 = 8\n\n", "  two  spaces\tand tab", "ünïcödé ∑ 😀", "\\frac{1}{2}"] {
        assert_eq!(tok.decode(&tok.encode(s).unwrap()).unwrap(), s);
    }
    // Special tokens are dropped when decoding generated text.
    assert_eq!(tok.decode(&tok.encode(text).unwrap()).unwrap(), "user\n the 12 cats");
}

#[test]
fn sentencepiece_tokenizers_are_rebuilt_with_merges_from_scores_and_byte_fallback() {
    use candle_core::quantized::gguf_file::{Value, VersionedMagic};
    let mut tokens: Vec<String> = vec!["<unk>".into(), "<s>".into(), "</s>".into()];
    let mut types = vec![2, 3, 3];
    let mut scores = vec![0.0f32; 3];
    for b in 0..=255u8 {
        tokens.push(format!("<0x{b:02X}>"));
        types.push(6);
        scores.push(0.0);
    }
    for (piece, score) in [("▁", -1.0), ("a", -2.0), ("b", -2.0), ("c", -2.0), ("ab", -3.0), ("▁ab", -4.0)]
    {
        tokens.push(piece.into());
        types.push(1);
        scores.push(score);
    }
    let arr = |v: Vec<Value>| Value::Array(v);
    let metadata = [
        ("tokenizer.ggml.model", Value::String("llama".into())),
        ("tokenizer.ggml.tokens", arr(tokens.iter().map(|t| Value::String(t.clone())).collect())),
        ("tokenizer.ggml.token_type", arr(types.iter().map(|&t| Value::I32(t)).collect())),
        ("tokenizer.ggml.scores", arr(scores.iter().map(|&s| Value::F32(s)).collect())),
        ("tokenizer.ggml.bos_token_id", Value::U32(1)),
        ("tokenizer.ggml.eos_token_id", Value::U32(2)),
        ("tokenizer.ggml.unknown_token_id", Value::U32(0)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let content = Content {
        magic: VersionedMagic::GgufV3,
        metadata,
        tensor_infos: Default::default(),
        tensor_data_offset: 0,
    };
    let tok = arbor::model::tokenizer_from_gguf(&content).unwrap();
    let enc = tok.inner().encode("ab abc", true).unwrap();
    // BOS (llama default), a space prefix, merges by score, then byte fallback for nothing here.
    assert_eq!(enc.get_tokens(), ["<s>", "▁ab", "▁ab", "c"]);
    for s in ["ab abc", "cab  a", "é ∑"] {
        assert_eq!(tok.decode(&tok.encode(s).unwrap()).unwrap(), s, "{s:?}");
    }
    let bytes = tok.inner().encode("é", false).unwrap();
    assert_eq!(bytes.get_tokens(), ["▁", "<0xC3>", "<0xA9>"], "unknown characters fall back to bytes");
}

#[test]
fn q4_1_weights_are_requantized_to_q8_0_and_stay_close() {
    let dir = tempfile::tempdir().unwrap();
    let f32_path = dir.path().join("f32.gguf");
    let q41_path = dir.path().join("q41.gguf");
    write_gguf(&f32_path, 2, GgmlDType::F32);
    write_gguf(&q41_path, 2, GgmlDType::Q4_1);
    let prompt = "Step 1: compute the sum.";
    let exact = open(&f32_path, true).prompt_state(prompt).unwrap().logits;
    let as_shipped = open(&q41_path, false).prompt_state(prompt).unwrap().logits;
    let requant = open(&q41_path, true).prompt_state(prompt).unwrap().logits;
    let (d_ship, d_req) = (max_diff(&exact, &as_shipped), max_diff(&exact, &requant));
    // Q4_1 -> Q8_0 adds little error on top of Q4_1's own.
    assert!(d_req < 2.0 * d_ship + 0.05, "requantized {d_req} vs as shipped {d_ship}");
    assert!(max_diff(&as_shipped, &requant) < 0.5);

    let out = dir.path().join("q8.gguf");
    requantize_gguf_file(&q41_path, &out).unwrap();
    let content = Content::read(&mut std::fs::File::open(&out).unwrap()).unwrap();
    let q = &content.tensor_infos["blk.0.attn_q.weight"];
    assert_eq!(q.ggml_dtype, GgmlDType::Q8_0);
    assert_eq!(content.tensor_infos["output_norm.weight"].ggml_dtype, GgmlDType::F32);
    assert!(content.metadata.contains_key("tokenizer.ggml.tokens"));
    let reread = open(&out, false).prompt_state(prompt).unwrap().logits;
    let d = max_diff(&reread, &requant);
    println!("requantized file vs load-time requantization: {d}");
    assert!(d < 1e-4, "the written file holds the same weights: {d}");
}

#[test]
fn malformed_gguf_names_the_file_and_how_to_get_one() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.gguf");
    std::fs::write(&bad, b"not a gguf").unwrap();
    let e = CandleModel::load(&bad, ModelOptions::default()).unwrap_err().to_string();
    assert!(e.contains("broken.gguf") && e.contains("fetch-models.sh"), "{e}");
    let e =
        CandleModel::load(&dir.path().join("absent.gguf"), ModelOptions::default()).unwrap_err().to_string();
    assert!(e.contains("absent.gguf") && e.contains("not found"), "{e}");
    let empty = tempfile::tempdir().unwrap();
    let e = CandleModel::load(empty.path(), ModelOptions::default()).unwrap_err().to_string();
    assert!(e.contains("config.json") && e.contains("tokenizer.json"), "{e}");
}

fn smollm2() -> Option<CandleModel> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(SMOLLM2);
    if !path.exists() {
        println!("skipped: {SMOLLM2} is absent (scripts/fetch-models.sh downloads it)");
        return None;
    }
    Some(open(&path, true))
}

fn chat(question: &str) -> String {
    format!("<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n")
}

#[test]
fn smollm2_tokenizer_matches_the_reference_tokenisation() {
    let Some(m) = smollm2() else { return };
    let tok = m.tokenizer();
    let enc = tok.inner().encode("Question: Tom has 3 apples", true).unwrap();
    assert_eq!(enc.get_tokens(), ["Question", ":", "ĠTom", "Ġhas", "Ġ", "3", "Ġapples"]);
    assert_eq!(tok.encode("<|im_start|>").unwrap(), [1]);
    assert_eq!(tok.eos_ids(), &[2]);
    for s in ["Tom has 3 apples and buys 5 more.\n\n", "  x\t= 17 * 23 ", "√2 ≈ 1.414 😀 数学", "\\boxed{42}"]
    {
        assert_eq!(tok.decode(&tok.encode(s).unwrap()).unwrap(), s);
    }
}

#[test]
fn smollm2_answers_a_one_step_problem_and_its_cache_is_consistent() {
    let Some(mut m) = smollm2() else { return };
    let prompt = chat("Tom has 3 apples and buys 5 more. How many apples does he have?");
    // Room for the model to finish: how soon greedy SmolLM2 reaches its end-of-turn token
    // varies with the CPU's float kernels (on one AVX-512 machine it added a sentence of
    // explanation after "= 8 apples." and needed more than 40 tokens).
    let mut req = GenRequest::new(prompt.clone(), 1, 160, 0);
    req.temperature = 0.0;
    let c = m.generate(&[req]).unwrap().remove(0).candidates.remove(0);
    assert!(c.text.contains('8'), "{:?}", c.text);
    assert_eq!(c.finish, Finish::Eos, "{:?}", c.text);

    // A child prompt (parent + generated step) reuses the parent's keys/values (cached when the
    // parent was expanded).
    let child = format!("{prompt}{}\n\n", c.text);
    let parent_ids = m.tokenizer().encode(&prompt).unwrap();
    let child_ids = m.tokenizer().encode(&child).unwrap();
    let cached = m.prompt_state(&child).unwrap();
    assert!(cached.reused >= parent_ids.len(), "reused {}", cached.reused);

    // Exactly what an uncached model computes when fed the same pieces: parent prompt, the
    // sampled tokens one by one (as decoding fed them), then the rest.
    let net = m.transformer();
    let mut kv = net.new_kv(1, child_ids.len()).unwrap();
    net.forward(std::slice::from_ref(&parent_ids), &mut kv).unwrap();
    for &t in &child_ids[parent_ids.len()..cached.reused] {
        net.forward(&[vec![t]], &mut kv).unwrap();
    }
    let hidden = net.forward(&[child_ids[cached.reused..].to_vec()], &mut kv).unwrap();
    let t = hidden.dim(1).unwrap();
    let pieces = tensor_f32(&net.logits(&hidden.narrow(1, t - 1, 1).unwrap().squeeze(1).unwrap()).unwrap());
    let d_cache = max_diff(&cached.logits, &pieces);
    assert!(d_cache < 1e-3, "cached vs same pieces uncached: max |Δlogit| {d_cache}");

    // One pass over the whole prompt differs more: candle's Q8_0 kernels quantize activations
    // differently for different matmul shapes. The prediction stays the same.
    let mut fresh = smollm2().unwrap();
    fresh.reset_cache(Some(0));
    let plain = fresh.prompt_state(&child).unwrap();
    let d = max_diff(&cached.logits, &plain.logits);
    let argmax = |l: &[f32]| l.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
    println!("SmolLM2 cached vs one-pass max |Δlogit| = {d}, vs same pieces = {d_cache}");
    assert_eq!(argmax(&cached.logits), argmax(&plain.logits));
    assert!(d < 2.0, "max |Δlogit| {d}");
}
