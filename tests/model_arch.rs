//! arbor's forward on random-weight tiny models of each architecture: shapes, and cached
//! versus uncached logits (chunked forward, prefix cache, batched decode).
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns panic as test failures

#[path = "support/tiny.rs"]
mod tiny;

use arbor::model::{CandleModel, Finish, GenRequest, ModelOptions, Policy};
use candle_core::quantized::GgmlDType;
use tiny::*;

const PROMPT: &str = "Question: 3 + 5 = ?\nStep 1: add the numbers.\nStep 2:";
const CHILD: &str = "Question: 3 + 5 = ?\nStep 1: add the numbers.\nStep 2: 3 + 5 = 8.\nStep 3:";

/// HF folders of each family and GGUF files (f32 and Q8_0 weights, llama and qwen2 layouts).
fn families() -> Vec<(&'static str, tempfile::TempDir, std::path::PathBuf)> {
    let mut out = Vec::new();
    for family in ["llama", "qwen2", "mistral"] {
        let dir = tempfile::tempdir().unwrap();
        let path = write_hf(dir.path(), family, 11, None);
        out.push((family, dir, path));
    }
    for (name, arch, dtype) in [
        ("gguf-llama", "llama", GgmlDType::F32),
        ("gguf-llama-q8", "llama", GgmlDType::Q8_0),
        ("gguf-qwen2", "qwen2", GgmlDType::F32),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tiny.gguf");
        write_gguf_arch(&path, 11, dtype, arch);
        out.push((name, dir, path));
    }
    out
}

/// Quantized GGUF weights run through candle's quantized kernels only (`dense_prefill` off):
/// those quantize activations per row, so results do not depend on how rows are grouped.
fn load(path: &std::path::Path, cache_bytes: usize) -> CandleModel {
    let opts =
        ModelOptions { kv_cache_bytes: cache_bytes, dense_prefill: Some(false), ..ModelOptions::default() };
    CandleModel::load(path, opts).unwrap()
}

/// Logits `(t, vocab)` of every position of `tokens`, fed in chunks of `chunk`.
fn all_logits(model: &CandleModel, tokens: &[u32], chunk: usize) -> Vec<Vec<f32>> {
    let net = model.transformer();
    let mut kv = net.new_kv(1, 4).unwrap(); // small on purpose: the buffer must grow
    let mut out = Vec::new();
    for c in tokens.chunks(chunk) {
        let hidden = net.forward(&[c.to_vec()], &mut kv).unwrap();
        assert_eq!(hidden.dims(), &[1, c.len(), HIDDEN]);
        let logits = net.logits(&hidden.squeeze(0).unwrap()).unwrap();
        assert_eq!(logits.dims(), &[c.len(), VOCAB]);
        out.extend(logits.to_vec2::<f32>().unwrap());
    }
    assert_eq!(kv.len(), tokens.len());
    out
}

#[test]
fn chunked_and_token_by_token_forward_match_one_pass_for_each_architecture() {
    for (family, _dir, path) in families() {
        let model = load(&path, 0);
        let tokens = model.tokenizer().encode(CHILD).unwrap();
        assert!(tokens.len() > 40, "{family}: the prompt must exceed mistral's window of 24");
        let full = all_logits(&model, &tokens, tokens.len());
        for chunk in [1, 7, 16] {
            let chunked = all_logits(&model, &tokens, chunk);
            for (pos, (a, b)) in full.iter().zip(&chunked).enumerate() {
                let d = max_diff(a, b);
                assert!(d < 1e-4, "{family}: chunk {chunk}, position {pos}: max |Δlogit| {d}");
            }
        }
        // The logits are not degenerate: positions differ.
        assert!(max_diff(&full[3], &full[10]) > 1e-2, "{family}");
    }
}

#[test]
fn prefix_cache_reuses_the_parent_and_matches_an_uncached_model() {
    for (family, _dir, path) in families() {
        let mut cached = load(&path, 64 << 20);
        let parent = cached.prompt_state(PROMPT).unwrap();
        assert_eq!(parent.reused, 0, "{family}");
        let child = cached.prompt_state(CHILD).unwrap();
        // Everything the parent's prompt shares with the child comes from the cache.
        let shared = cached.tokenizer().encode(PROMPT).unwrap().len();
        assert!(child.reused >= shared - 1, "{family}: reused {} of {shared}", child.reused);
        assert!(child.reused < child.tokens);
        let mut fresh = load(&path, 0);
        let reference = fresh.prompt_state(CHILD).unwrap();
        assert_eq!(reference.reused, 0);
        let d = max_diff(&child.logits, &reference.logits);
        assert!(d < 1e-4, "{family}: cached vs uncached max |Δlogit| {d}");
        // The same prompt again: all but the last token come from the cache.
        let again = cached.prompt_state(CHILD).unwrap();
        assert_eq!(again.reused, again.tokens - 1, "{family}");
        assert!(max_diff(&again.logits, &reference.logits) < 1e-4, "{family}");
        let stats = cached.stats();
        assert_eq!(stats.prompt_tokens, (parent.tokens + 2 * child.tokens) as u64);
        assert_eq!(stats.prompt_tokens_encoded + stats.prompt_tokens_reused, stats.prompt_tokens);
    }
}

#[test]
fn batched_samples_decode_like_single_ones_and_the_cache_changes_nothing() {
    for (family, _dir, path) in families() {
        let mut cached = load(&path, 64 << 20);
        let mut plain = load(&path, 0);
        let mut req = GenRequest::new(PROMPT, 4, 12, 99);
        req.temperature = 0.8;
        // Warm the cache with the prompt and with a sibling request, then sample.
        cached.generate(&[GenRequest::new(PROMPT, 2, 5, 1)]).unwrap();
        let a = cached.generate(std::slice::from_ref(&req)).unwrap().remove(0);
        let b = plain.generate(std::slice::from_ref(&req)).unwrap().remove(0);
        assert_eq!(a.candidates.len(), 4);
        for (x, y) in a.candidates.iter().zip(&b.candidates) {
            assert_eq!(x.token_ids, y.token_ids, "{family}");
            assert!((x.logprob_sum - y.logprob_sum).abs() < 1e-3, "{family}");
        }
        // Each of the 4 rows decoded in one batch equals that candidate decoded alone: greedy
        // decoding of n=3 gives 3 copies of the n=1 result.
        let mut greedy = GenRequest::new(PROMPT, 3, 10, 5);
        greedy.temperature = 0.0;
        let g3 = plain.generate(std::slice::from_ref(&greedy)).unwrap().remove(0);
        greedy.n = 1;
        let g1 = plain.generate(&[greedy]).unwrap().remove(0);
        for c in &g3.candidates {
            assert_eq!(c.token_ids, g1.candidates[0].token_ids, "{family}");
            assert!(c.finish == Finish::Length || c.finish == Finish::Eos);
        }
    }
}

#[test]
fn the_cache_stays_within_its_budget_and_evicts_least_recently_used() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_hf(dir.path(), "llama", 3, None);
    // Per token: 2 (k, v) x 2 layers x 2 kv heads x 16 dims x 4 bytes = 512 bytes.
    let budget = 100 * 512;
    let mut model = load(&path, budget);
    for i in 0..12 {
        model.prompt_state(&format!("{i} distinct prompt number {i} with some padding text")).unwrap();
        assert!(model.cache().used_bytes() <= budget, "{} > {budget}", model.cache().used_bytes());
    }
    assert!(model.cache().evictions() > 0);
    // The most recent prompt is still cached, the first one is gone.
    let recent = model.prompt_state("11 distinct prompt number 11 with some padding text").unwrap();
    assert_eq!(recent.reused, recent.tokens - 1);
    let old = model.prompt_state("0 distinct prompt number 0 with some padding text").unwrap();
    assert!(old.reused <= 1, "reused {}", old.reused);
}

#[test]
fn sharded_checkpoints_load_like_single_files_and_name_a_missing_shard() {
    let dir = tempfile::tempdir().unwrap();
    let single = write_hf(&dir.path().join("single"), "qwen2", 17, None);
    let sharded = write_hf(&dir.path().join("sharded"), "qwen2", 17, None);
    std::fs::remove_file(sharded.join("model.safetensors")).unwrap();
    let tensors = hf_tensors("qwen2", 17);
    let mut names: Vec<&String> = tensors.keys().collect();
    names.sort();
    let (first, second) = names.split_at(names.len() / 2);
    let mut map = serde_json::Map::new();
    for (file, part) in
        [("model-00001-of-00002.safetensors", first), ("model-00002-of-00002.safetensors", second)]
    {
        let shard: std::collections::HashMap<String, candle_core::Tensor> =
            part.iter().map(|n| ((*n).clone(), tensors[*n].clone())).collect();
        candle_core::safetensors::save(&shard, sharded.join(file)).unwrap();
        for n in part {
            map.insert((*n).clone(), serde_json::json!(file));
        }
    }
    let index = serde_json::json!({"metadata": {}, "weight_map": map});
    std::fs::write(sharded.join("model.safetensors.index.json"), index.to_string()).unwrap();
    let a = load(&single, 0).prompt_state(PROMPT).unwrap().logits;
    let b = load(&sharded, 0).prompt_state(PROMPT).unwrap().logits;
    assert_eq!(a, b);
    std::fs::remove_file(sharded.join("model-00002-of-00002.safetensors")).unwrap();
    let e = CandleModel::load(&sharded, ModelOptions::default()).unwrap_err().to_string();
    assert!(e.contains("model-00002-of-00002.safetensors") && e.contains("missing"), "{e}");
}

#[test]
fn dense_prefill_of_quantized_weights_stays_close_to_the_quantized_kernels() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q8.gguf");
    write_gguf_arch(&path, 5, GgmlDType::Q8_0, "llama");
    let quantized = load(&path, 0).prompt_state(CHILD).unwrap().logits;
    let opts = ModelOptions { kv_cache_bytes: 0, dense_prefill: Some(true), ..ModelOptions::default() };
    let dense = CandleModel::load(&path, opts).unwrap().prompt_state(CHILD).unwrap().logits;
    let d = max_diff(&quantized, &dense);
    // f32 activations instead of 8-bit ones: a small difference, not none.
    assert!(d > 0.0 && d < 0.25, "max |Δlogit| {d}");
}

#[test]
fn requests_of_different_lengths_decode_together_like_alone() {
    for (family, _dir, path) in families() {
        let mut reqs = Vec::new();
        for (i, prompt) in ["Hi", PROMPT, CHILD, "Question: 12 / 4 = ?"].iter().enumerate() {
            let mut r = GenRequest::new(*prompt, 1 + i % 3, 14, 100 + i as u64);
            r.temperature = if i == 1 { 0.0 } else { 0.9 };
            r.stop = vec!["\n".into()];
            reqs.push(r);
        }
        let mut together = load(&path, 0);
        let batched = together.generate(&reqs).unwrap();
        let opts = ModelOptions {
            kv_cache_bytes: 0,
            dense_prefill: Some(false),
            max_batch_rows: 1,
            ..ModelOptions::default()
        };
        let mut apart = CandleModel::load(&path, opts).unwrap();
        let alone = apart.generate(&reqs).unwrap();
        for (i, (a, b)) in batched.iter().zip(&alone).enumerate() {
            assert_eq!(a.candidates.len(), reqs[i].n);
            for (x, y) in a.candidates.iter().zip(&b.candidates) {
                assert_eq!((&x.token_ids, x.finish), (&y.token_ids, y.finish), "{family}, request {i}");
                assert!((x.logprob_sum - y.logprob_sum).abs() < 1e-3, "{family}, request {i}");
            }
        }
    }
}
