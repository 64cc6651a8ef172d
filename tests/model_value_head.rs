//! The AlphaMath value head: loaded from a generated `value_head.pth` (f32 and bf16 storages)
//! and from safetensors, applied to the final-norm hidden state of the last prompt token.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns panic as test failures

#[path = "support/tiny.rs"]
mod tiny;

use std::collections::HashMap;

use arbor::model::{CandleModel, Error, GenRequest, ModelOptions, Policy, ValueModel};
use candle_core::{Device, Tensor};
use tiny::*;

const PROMPT: &str = "Question: 2 * 21 = ?\nStep 1:";

/// tanh(w . h + b) with h the hidden state of the last prompt token, computed independently.
fn expected_value(model: &CandleModel, prompt: &str, w: &[f32], b: f32) -> f32 {
    let net = model.transformer();
    let tokens = model.tokenizer().encode(prompt).unwrap();
    let mut kv = net.new_kv(1, tokens.len()).unwrap();
    let hidden = net.forward(std::slice::from_ref(&tokens), &mut kv).unwrap();
    let h = tensor_f32(&hidden.narrow(1, tokens.len() - 1, 1).unwrap());
    (h.iter().zip(w).map(|(x, y)| x * y).sum::<f32>() + b).tanh()
}

fn bf16(x: f32) -> f32 {
    let b = x.to_bits();
    f32::from_bits(b.wrapping_add(0x7FFF + ((b >> 16) & 1)) & 0xFFFF_0000)
}

#[test]
fn value_head_from_f32_pth_matches_an_independent_computation() {
    let dir = tempfile::tempdir().unwrap();
    let (w, b) = head_weights(4);
    let path = write_hf(dir.path(), "llama", 8, Some((&w, b, false)));
    let mut model = CandleModel::load(&path, ModelOptions::default()).unwrap();
    assert!(model.has_value_head());
    let expected = expected_value(&model, PROMPT, &w, b);
    assert!(expected.abs() > 0.05 && expected.abs() < 0.999, "degenerate test value {expected}");
    let v = model.value(&[PROMPT.to_string()]).unwrap()[0].unwrap();
    assert!((v - expected).abs() < 1e-5, "{v} vs {expected}");
    // The same value comes with a generation request, from the same prefill.
    let mut req = GenRequest::new(PROMPT, 2, 4, 1);
    req.want_value = true;
    let r = model.generate(&[req.clone()]).unwrap().remove(0);
    assert!((r.value.unwrap() - expected).abs() < 1e-5);
    req.want_value = false;
    assert_eq!(model.generate(&[req]).unwrap()[0].value, None);
}

#[test]
fn bf16_pth_values_are_rounded_like_the_reference_bf16_layer() {
    let dir = tempfile::tempdir().unwrap();
    let (w, b) = head_weights(5);
    let path = write_hf(dir.path(), "qwen2", 9, Some((&w, b, true)));
    let mut model = CandleModel::load(&path, ModelOptions::default()).unwrap();
    let w16: Vec<f32> = w.iter().map(|&x| bf16(x)).collect();
    let expected = bf16(expected_value(&model, PROMPT, &w16, bf16(b)));
    let v = model.value(&[PROMPT.to_string()]).unwrap()[0].unwrap();
    assert_eq!(v, bf16(v), "the value is a bf16 number");
    assert!((v - expected).abs() <= 1.0 / 128.0, "{v} vs {expected}");
}

#[test]
fn value_head_from_safetensors_separate_or_inside_the_weights() {
    let (w, b) = head_weights(6);
    let head = |prefix: &str| {
        let mut t = HashMap::new();
        t.insert(
            format!("{prefix}summary.weight"),
            Tensor::from_vec(w.clone(), (1, HIDDEN), &Device::Cpu).unwrap(),
        );
        t.insert(format!("{prefix}summary.bias"), Tensor::from_vec(vec![b], 1, &Device::Cpu).unwrap());
        t
    };
    // 1. value_head.safetensors next to the weights.
    let dir = tempfile::tempdir().unwrap();
    let path = write_hf(dir.path(), "mistral", 10, None);
    let mut cfg = config_json("mistral", true);
    std::fs::write(path.join("config.json"), cfg.to_string()).unwrap();
    candle_core::safetensors::save(&head("v_head."), path.join("value_head.safetensors")).unwrap();
    let mut model = CandleModel::load(&path, ModelOptions::default()).unwrap();
    let expected = expected_value(&model, PROMPT, &w, b);
    assert!((model.value(&[PROMPT.into()]).unwrap()[0].unwrap() - expected).abs() < 1e-5);

    // 2. v_head.summary.* inside model.safetensors.
    std::fs::remove_file(path.join("value_head.safetensors")).unwrap();
    let mut tensors = hf_tensors("mistral", 10);
    tensors.extend(head("v_head."));
    candle_core::safetensors::save(&tensors, path.join("model.safetensors")).unwrap();
    let mut model = CandleModel::load(&path, ModelOptions::default()).unwrap();
    assert!((model.value(&[PROMPT.into()]).unwrap()[0].unwrap() - expected).abs() < 1e-5);

    // 3. Without "value_model": true there is no head, and value() says how to add one.
    cfg["value_model"] = serde_json::json!(false);
    std::fs::write(path.join("config.json"), cfg.to_string()).unwrap();
    let mut model = CandleModel::load(&path, ModelOptions::default()).unwrap();
    assert!(matches!(model.value(&[PROMPT.into()]), Err(Error::NoValueHead)));
}

#[test]
fn a_declared_but_missing_value_head_is_a_clear_load_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_hf(dir.path(), "llama", 8, None);
    std::fs::write(path.join("config.json"), config_json("llama", true).to_string()).unwrap();
    let e = CandleModel::load(&path, ModelOptions::default()).unwrap_err().to_string();
    assert!(e.contains("value_head.pth") && e.contains("value_model"), "{e}");
    // A head of the wrong size names the tensor and the expected shape.
    write_value_head_pth(&path.join("value_head.pth"), &[0.5; 7], 0.0, false);
    let e = CandleModel::load(&path, ModelOptions::default()).unwrap_err().to_string();
    assert!(e.contains("v_head.summary.weight") && e.contains(&format!("[1, {HIDDEN}]")), "{e}");
}

#[test]
fn a_value_head_file_can_be_attached_to_a_gguf_model() {
    let dir = tempfile::tempdir().unwrap();
    let gguf = dir.path().join("m.gguf");
    write_gguf(&gguf, 3, candle_core::quantized::GgmlDType::F32);
    let (w, b) = head_weights(7);
    let pth = dir.path().join("head.pth");
    write_value_head_pth(&pth, &w, b, false);
    let mut model =
        CandleModel::load(&gguf, ModelOptions { value_head: Some(pth), ..ModelOptions::default() }).unwrap();
    let expected = expected_value(&model, PROMPT, &w, b);
    let values = model.value(&[PROMPT.into(), "x".repeat(CONTEXT + 5)]).unwrap();
    assert!((values[0].unwrap() - expected).abs() < 1e-5);
    assert_eq!(values[1], None, "a prompt longer than the context has no value");
}

#[test]
fn a_separate_value_model_scores_the_states_a_local_policy_writes() {
    use arbor::model::Backend;
    let (pdir, vdir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let policy_path = write_hf(pdir.path(), "llama", 8, None);
    let (w, b) = head_weights(9);
    let value_path = write_hf(vdir.path(), "llama", 11, Some((&w, b, false)));
    let load = |p: &std::path::Path| CandleModel::load(p, ModelOptions::default()).unwrap();
    let mut alone = load(&policy_path);
    let mut scorer = load(&value_path);
    let expected = expected_value(&scorer, PROMPT, &w, b);
    assert_eq!(scorer.value(&[PROMPT.into()]).unwrap()[0], Some(expected));
    let mut pair =
        Backend::LocalWithValue { policy: Box::new(load(&policy_path)), value: Box::new(load(&value_path)) };

    // Generation is the policy's, token for token; the value is the value model's.
    let mut req = GenRequest::new(PROMPT, 3, 6, 5);
    req.want_value = true;
    let too_long = GenRequest { prompt: "x".repeat(CONTEXT + 5), ..req.clone() };
    let got = pair.generate(&[req.clone(), too_long.clone()]).unwrap();
    let policy_only = GenRequest { want_value: false, ..req.clone() };
    let own = alone.generate(&[policy_only, GenRequest { want_value: false, ..too_long }]).unwrap();
    assert_eq!(got[0].candidates, own[0].candidates);
    assert!((got[0].value.unwrap() - expected).abs() < 1e-6);
    assert_eq!(got[1].value, None, "a prompt too long to continue has no value");
    assert!((pair.value(&[PROMPT.into()]).unwrap()[0].unwrap() - expected).abs() < 1e-6);
    // The policy alone has no head at all.
    assert!(matches!(alone.value(&[PROMPT.into()]), Err(Error::NoValueHead)));
}
