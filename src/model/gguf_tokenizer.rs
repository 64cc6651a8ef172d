//! Rebuilds a `tokenizers` tokenizer from GGUF metadata (GGUF files ship no tokenizer.json).
//!
//! * `tokenizer.ggml.model = gpt2`: byte-level BPE with the file's vocab and merges; SmolLM2's
//!   pre-tokenizer (`pre = smollm`) splits digits individually before the byte-level split.
//! * `tokenizer.ggml.model = llama`: SentencePiece-style BPE with byte fallback; the merges are
//!   rebuilt from the vocab and scores, as transformers' `SentencePieceExtractor` does.
//!
//! Control tokens become special added tokens (skipped when decoding), user-defined ones
//! ordinary added tokens. BOS is prepended when `tokenizer.ggml.add_bos_token` says so.

use std::collections::HashMap;

use candle_core::quantized::gguf_file::{Content, Value};
use serde_json::{Value as Json, json};

use super::{Error, Tokenizer};

const TYPE_CONTROL: i32 = 3;
const TYPE_USER_DEFINED: i32 = 4;

/// The tokenizer described by a GGUF file's metadata.
pub fn tokenizer_from_gguf(content: &Content) -> Result<Tokenizer, Error> {
    let md = &content.metadata;
    let get = |k: &str| md.get(k).ok_or_else(|| Error::Tokenizer(format!("GGUF metadata lacks {k}")));
    let model = get("tokenizer.ggml.model")?.to_string().map_err(Error::tokenizer)?.clone();
    let tokens: Vec<String> = get("tokenizer.ggml.tokens")?
        .to_vec()
        .map_err(Error::tokenizer)?
        .iter()
        .map(|v| v.to_string().cloned())
        .collect::<Result<_, _>>()
        .map_err(Error::tokenizer)?;
    let types: Vec<i32> = match md.get("tokenizer.ggml.token_type") {
        Some(v) => v.to_vec().map_err(Error::tokenizer)?.iter().map(|t| t.to_i32().unwrap_or(1)).collect(),
        None => vec![1; tokens.len()],
    };
    let id = |k: &str| md.get(k).and_then(|v| v.to_u32().ok());
    let bos = id("tokenizer.ggml.bos_token_id");
    let eos = id("tokenizer.ggml.eos_token_id");
    let add_bos = md.get("tokenizer.ggml.add_bos_token").and_then(|v| v.to_bool().ok());

    let mut json = match model.as_str() {
        "gpt2" => {
            let merges = string_list(md.get("tokenizer.ggml.merges"))?;
            let pre = md.get("tokenizer.ggml.pre").and_then(|v| v.to_string().ok()).cloned();
            gpt2_json(&tokens, &merges, pre.as_deref())
        }
        "llama" => {
            let scores: Vec<f32> = match md.get("tokenizer.ggml.scores") {
                Some(v) => {
                    v.to_vec().map_err(Error::tokenizer)?.iter().map(|s| s.to_f32().unwrap_or(0.0)).collect()
                }
                None => vec![0.0; tokens.len()],
            };
            let add_space =
                md.get("tokenizer.ggml.add_space_prefix").and_then(|v| v.to_bool().ok()).unwrap_or(true);
            let unk = id("tokenizer.ggml.unknown_token_id").map(|i| tokens[i as usize].clone());
            spm_json(&tokens, &types, &scores, add_space, unk)
        }
        other => {
            return Err(Error::Tokenizer(format!(
                "GGUF tokenizer model {other:?} is not supported (supported: gpt2, llama)"
            )));
        }
    };
    json["added_tokens"] = added_tokens(&tokens, &types);
    // llama-family files without the flag add BOS; gpt2-style ones (SmolLM2) do not.
    let add_bos = add_bos.unwrap_or(model == "llama");
    if let (true, Some(bos)) = (add_bos, bos) {
        let name = &tokens[bos as usize];
        json["post_processor"] = json!({
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": name, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": name, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {name.clone(): {"id": name, "ids": [bos], "tokens": [name]}}
        });
    }
    let bytes = serde_json::to_vec(&json).map_err(Error::tokenizer)?;
    let inner = tokenizers::Tokenizer::from_bytes(&bytes).map_err(Error::tokenizer)?;
    Ok(Tokenizer::new(inner, eos.into_iter().collect()))
}

fn string_list(v: Option<&Value>) -> Result<Vec<String>, Error> {
    let Some(v) = v else { return Ok(Vec::new()) };
    v.to_vec()
        .map_err(Error::tokenizer)?
        .iter()
        .map(|s| s.to_string().cloned().map_err(Error::tokenizer))
        .collect()
}

fn vocab_map(tokens: &[String]) -> serde_json::Map<String, Json> {
    let mut vocab = serde_json::Map::new();
    for (i, t) in tokens.iter().enumerate() {
        // Duplicate spellings keep the first id, as llama.cpp does.
        vocab.entry(t.clone()).or_insert(json!(i));
    }
    vocab
}

fn added_tokens(tokens: &[String], types: &[i32]) -> Json {
    let list: Vec<Json> = tokens
        .iter()
        .zip(types)
        .enumerate()
        .filter(|(_, (_, t))| **t == TYPE_CONTROL || **t == TYPE_USER_DEFINED)
        .map(|(i, (content, t))| {
            json!({"id": i, "content": content, "single_word": false, "lstrip": false, "rstrip": false,
                   "normalized": false, "special": *t == TYPE_CONTROL})
        })
        .collect();
    Json::Array(list)
}

fn gpt2_json(tokens: &[String], merges: &[String], pre: Option<&str>) -> Json {
    let merges: Vec<Json> =
        merges.iter().filter_map(|m| m.split_once(' ').map(|(a, b)| json!([a, b]))).collect();
    let byte_level =
        json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true});
    let pre_tokenizer = match pre {
        // SmolLM2 (and other `smollm` files) split digits one by one first.
        Some("smollm") => json!({"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": true}, byte_level]}),
        _ => byte_level,
    };
    json!({
        "version": "1.0", "truncation": null, "padding": null, "normalizer": null,
        "pre_tokenizer": pre_tokenizer,
        "post_processor": null,
        "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
        "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
                  "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false,
                  "ignore_merges": false, "vocab": vocab_map(tokens), "merges": merges}
    })
}

fn spm_json(tokens: &[String], types: &[i32], scores: &[f32], add_space: bool, unk: Option<String>) -> Json {
    let ids: HashMap<&str, usize> = tokens.iter().enumerate().map(|(i, t)| (t.as_str(), i)).collect();
    // Every split of a normal token into two vocab pieces is a merge ranked by the token's score.
    let mut merges: Vec<(usize, usize, f32)> = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if types.get(i).copied().unwrap_or(1) != 1 {
            continue;
        }
        let mut local: Vec<(usize, usize, f32)> = token
            .char_indices()
            .skip(1)
            .filter_map(|(at, _)| {
                let (l, r) = token.split_at(at);
                Some((*ids.get(l)?, *ids.get(r)?, scores.get(i).copied().unwrap_or(0.0)))
            })
            .collect();
        local.sort_by_key(|&(l, r, _)| (l, r));
        merges.extend(local);
    }
    merges.sort_by(|a, b| b.2.total_cmp(&a.2));
    let merges: Vec<Json> = merges.iter().map(|&(l, r, _)| json!([tokens[l], tokens[r]])).collect();
    let mut normalizers = vec![json!({"type": "Replace", "pattern": {"String": " "}, "content": "▁"})];
    let mut decoders = vec![
        json!({"type": "Replace", "pattern": {"String": "▁"}, "content": " "}),
        json!({"type": "ByteFallback"}),
        json!({"type": "Fuse"}),
    ];
    if add_space {
        normalizers.insert(0, json!({"type": "Prepend", "prepend": "▁"}));
        decoders.push(json!({"type": "Strip", "content": " ", "start": 1, "stop": 0}));
    }
    json!({
        "version": "1.0", "truncation": null, "padding": null,
        "normalizer": {"type": "Sequence", "normalizers": normalizers},
        "pre_tokenizer": null, "post_processor": null,
        "decoder": {"type": "Sequence", "decoders": decoders},
        "model": {"type": "BPE", "dropout": null, "unk_token": unk, "continuing_subword_prefix": null,
                  "end_of_word_suffix": null, "fuse_unk": true, "byte_fallback": true,
                  "ignore_merges": false, "vocab": vocab_map(tokens), "merges": merges}
    })
}
