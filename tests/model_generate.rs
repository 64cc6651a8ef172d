//! The `Policy` contract on a random-weight tiny model: seeded reproducibility independent of
//! batching, stop strings cut as vLLM does, finish reasons, log-probs, "prompt too long".
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns panic as test failures

#[path = "support/tiny.rs"]
mod tiny;

use arbor::model::{Candidate, CandleModel, Finish, GenRequest, ModelOptions, Policy};
use tiny::*;

fn model(seed: u64) -> (tempfile::TempDir, CandleModel) {
    let dir = tempfile::tempdir().unwrap();
    let path = write_hf(dir.path(), "llama", seed, None);
    let m = CandleModel::load(&path, ModelOptions::default()).unwrap();
    (dir, m)
}

/// Same tokens, text and finish; log-probs equal up to float rounding (a different cache
/// history splits the prompt differently into forward passes).
fn assert_same(a: &[Candidate], b: &[Candidate]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert_eq!((&x.token_ids, &x.text, x.finish), (&y.token_ids, &y.text, y.finish));
        assert!((x.logprob_sum - y.logprob_sum).abs() < 1e-4);
    }
}

fn sample(prompt: &str, n: usize, seed: u64) -> GenRequest {
    let mut r = GenRequest::new(prompt, n, 20, seed);
    r.temperature = 1.0;
    r
}

#[test]
fn seeded_sampling_is_reproducible_and_independent_of_batching() {
    let (_d1, mut a) = model(21);
    let (_d2, mut b) = model(21);
    let alone = a.generate(&[sample("Q: 1+1", 3, 7)]).unwrap();
    let batched =
        b.generate(&[sample("Q: 2+2", 2, 8), sample("Q: 1+1", 3, 7), sample("Q: 1+1", 1, 9)]).unwrap();
    assert_same(&alone[0].candidates, &batched[1].candidates);
    // Candidate i of n is the same whatever n is.
    let one = a.generate(&[sample("Q: 1+1", 1, 7)]).unwrap();
    assert_same(&one[0].candidates, &alone[0].candidates[..1]);
    // Another seed gives other samples; the three samples of one request differ.
    let other = a.generate(&[sample("Q: 1+1", 3, 8)]).unwrap();
    assert_ne!(other[0].candidates, alone[0].candidates);
    let ids: Vec<_> = alone[0].candidates.iter().map(|c| c.token_ids.clone()).collect();
    assert!(ids[0] != ids[1] || ids[1] != ids[2]);
}

#[test]
fn candidates_report_tokens_logprobs_and_finish_consistently() {
    let (_d, mut m) = model(22);
    let r = m.generate(&[sample("Q: 7*6", 4, 3)]).unwrap().remove(0);
    assert_eq!(r.prompt_tokens, m.tokenizer().encode("Q: 7*6").unwrap().len());
    for c in &r.candidates {
        assert_eq!(c.tokens, c.token_ids.len());
        assert_eq!(c.tokens, c.token_logprobs.len());
        let sum: f64 = c.token_logprobs.iter().map(|&l| l as f64).sum();
        assert!((c.logprob_sum - sum).abs() < 1e-9);
        assert!(c.token_logprobs.iter().all(|&l| l <= 0.0));
        assert!(c.prior() > 0.0 && c.prior() <= 1.0);
        match c.finish {
            Finish::Length => assert_eq!(c.tokens, 20),
            Finish::Eos => assert_eq!(*c.token_ids.last().unwrap(), EOS),
            Finish::Stop => panic!("no stop strings were given"),
        }
        let text_ids: Vec<u32> = c.token_ids.iter().copied().filter(|&t| t < 256).collect();
        assert_eq!(c.text, m.tokenizer().decode(&text_ids).unwrap());
    }
}

#[test]
fn stop_strings_end_generation_and_are_cut_from_the_text() {
    let (_d, mut m) = model(23);
    // Find what the model writes, then stop on a piece of it.
    let mut free = sample("Q: 9-4", 1, 11);
    free.max_tokens = 30;
    let text = m.generate(&[free.clone()]).unwrap().remove(0).candidates.remove(0).text;
    let chars: Vec<char> = text.chars().collect();
    assert!(chars.len() > 8, "the random model wrote too little: {text:?}");
    let stop: String = chars[5..7].iter().collect();
    let mut stopped = free.clone();
    stopped.stop = vec!["never-appears".into(), stop.clone()];
    let c = m.generate(&[stopped]).unwrap().remove(0).candidates.remove(0);
    assert_eq!(c.finish, Finish::Stop);
    assert_eq!(c.stop_reason.as_deref(), Some(stop.as_str()));
    let cut = text.find(&stop).unwrap();
    assert_eq!(c.text, text[..cut], "text before the first occurrence of the stop string");
    assert!(c.tokens < 30);
}

#[test]
fn a_prompt_that_does_not_fit_gets_no_candidates_and_no_value() {
    let (_d, mut m) = model(24);
    let long = "y".repeat(CONTEXT - 10);
    let mut req = sample(&long, 3, 1);
    req.want_value = true;
    req.max_tokens = 20; // prompt (CONTEXT - 9 tokens with BOS) + 20 > CONTEXT
    let r = m.generate(&[req.clone(), sample("ok", 1, 1)]).unwrap();
    assert!(r[0].candidates.is_empty());
    assert_eq!(r[0].value, None);
    assert_eq!(r[0].prompt_tokens, CONTEXT - 9);
    assert_eq!(r[1].candidates.len(), 1, "other requests are unaffected");
    req.max_tokens = 5;
    assert_eq!(m.generate(&[req]).unwrap()[0].candidates.len(), 3);
}

#[test]
fn top_k_one_is_greedy() {
    let (_d, mut m) = model(25);
    let mut greedy = sample("Q: 5+5", 1, 1);
    greedy.temperature = 0.0;
    let mut k1 = sample("Q: 5+5", 2, 99);
    k1.top_k = 1;
    let g = m.generate(&[greedy, k1]).unwrap();
    for c in &g[1].candidates {
        assert_eq!(c.token_ids, g[0].candidates[0].token_ids);
        assert_eq!(c.logprob_sum, 0.0, "top-1 leaves probability 1 for the chosen token");
    }
}
