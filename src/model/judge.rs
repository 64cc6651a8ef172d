//! Reading a judge model's verdict (AlphaLLM's PRM and ORM): the probability that the next
//! token is "True" rather than "False", normalised between the two words.
//!
//! A word may start with several tokens (`True`, `▁True`, `T`...). Locally the candidates are
//! the first tokens of `"True"` and `" True"` whose text is a non-empty prefix of the word;
//! tokens shared by both words (a bare space) are dropped. Remotely the reported top tokens
//! whose trimmed text is a non-empty prefix of the word count.

use serde_json::Value;

use super::{Error, Tokenizer};

pub const TRUE: &str = "True";
pub const FALSE: &str = "False";

/// How many alternatives an HTTP judge asks for (vLLM's default `max_logprobs`).
pub const JUDGE_TOP_LOGPROBS: u32 = 20;

/// The token ids that start "True" and those that start "False".
pub fn verdict_tokens(tokenizer: &Tokenizer) -> Result<(Vec<u32>, Vec<u32>), Error> {
    let starts = |word: &str| -> Result<Vec<u32>, Error> {
        let mut ids = Vec::new();
        for variant in [word.to_owned(), format!(" {word}")] {
            let encoding = tokenizer.inner().encode(variant, false).map_err(Error::tokenizer)?;
            let Some(&id) = encoding.get_ids().first() else { continue };
            let text = tokenizer.token_text(id);
            let text = text.trim();
            if !text.is_empty() && word.starts_with(text) && !ids.contains(&id) {
                ids.push(id);
            }
        }
        Ok(ids)
    };
    let (mut yes, mut no) = (starts(TRUE)?, starts(FALSE)?);
    let shared: Vec<u32> = yes.iter().filter(|id| no.contains(id)).copied().collect();
    yes.retain(|id| !shared.contains(id));
    no.retain(|id| !shared.contains(id));
    if yes.is_empty() || no.is_empty() {
        return Err(Error::InvalidRequest(
            "this tokenizer has no tokens that tell \"True\" from \"False\"; it cannot serve as a judge"
                .into(),
        ));
    }
    Ok((yes, no))
}

/// P("True") from next-token logits: the softmax restricted to the two words' tokens.
pub fn true_probability(logits: &[f32], yes: &[u32], no: &[u32]) -> Option<f64> {
    let pick = |ids: &[u32]| -> Vec<f64> {
        ids.iter().filter_map(|&i| logits.get(i as usize)).map(|&l| f64::from(l)).collect()
    };
    let (yes, no) = (pick(yes), pick(no));
    let max = yes.iter().chain(&no).copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return None;
    }
    let mass = |ls: &[f64]| ls.iter().map(|l| (l - max).exp()).sum::<f64>();
    let (y, n) = (mass(&yes), mass(&no));
    Some(y / (y + n))
}

/// P("True") from the top log-probabilities of an OpenAI-style completion choice, in either
/// layout: `logprobs.top_logprobs[0]` as a `{token: logprob}` object (vLLM, SGLang, the legacy
/// OpenAI API) or `logprobs.content[0].top_logprobs` as a list of `{token, logprob}` (llama.cpp's
/// server). `Ok(None)`: neither word is among the reported tokens. `Err`: the choice carries no
/// top log-probabilities at all (a server that ignores `logprobs`).
pub fn true_probability_from_choice(choice: &Value) -> Result<Option<f64>, String> {
    let logprobs = &choice["logprobs"];
    let mut alternatives: Vec<(String, f64)> = Vec::new();
    if let Some(top) = logprobs["top_logprobs"].get(0).and_then(Value::as_object) {
        alternatives.extend(top.iter().filter_map(|(t, l)| l.as_f64().map(|l| (t.clone(), l))));
    } else if let Some(first) = logprobs["content"].get(0) {
        if let Some(top) = first["top_logprobs"].as_array() {
            alternatives.extend(
                top.iter().filter_map(|e| Some((e["token"].as_str()?.to_owned(), e["logprob"].as_f64()?))),
            );
        }
        if let (Some(t), Some(l)) = (first["token"].as_str(), first["logprob"].as_f64()) {
            alternatives.push((t.to_owned(), l));
        }
    } else {
        return Err("no top log-probabilities in the response; a judge needs a server that returns \
                    `logprobs` alternatives (vLLM, SGLang, llama.cpp's server)"
            .to_owned());
    }
    // The sampled token may be listed again among the alternatives: count each token once.
    alternatives.sort_by(|a, b| a.0.cmp(&b.0));
    alternatives.dedup_by(|a, b| a.0 == b.0);
    let mass = |word: &str| -> f64 {
        alternatives
            .iter()
            .filter(|(t, _)| {
                let t = t.trim();
                !t.is_empty() && word.starts_with(t)
            })
            .map(|(_, l)| l.exp())
            .sum()
    };
    let (y, n) = (mass(TRUE), mass(FALSE));
    Ok((y + n > 0.0).then(|| y / (y + n)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn logits_are_normalised_between_the_two_words() {
        let logits = [0.0f32, 2.0, 1.0, 5.0];
        let p = true_probability(&logits, &[1], &[2]).unwrap();
        assert!((p - 1.0 / (1.0 + (-1.0f64).exp())).abs() < 1e-12);
        // Several starting tokens add up.
        let p = true_probability(&logits, &[1, 3], &[2]).unwrap();
        let (y, n) = (2f64.exp() + 5f64.exp(), 1f64.exp());
        assert!((p - y / (y + n)).abs() < 1e-12);
        assert_eq!(true_probability(&logits, &[9], &[10]), None);
    }

    #[test]
    fn both_response_layouts_are_read() {
        let vllm = json!({"text": " True", "logprobs": {"tokens": [" True"], "token_logprobs": [-0.1],
            "top_logprobs": [{" True": -0.1, " False": -2.5, " The": -4.0}]}});
        let p = true_probability_from_choice(&vllm).unwrap().unwrap();
        let (y, n) = ((-0.1f64).exp(), (-2.5f64).exp());
        assert!((p - y / (y + n)).abs() < 1e-12);
        let llama_cpp = json!({"text": "False", "logprobs": {"content": [{"token": "False", "logprob": -0.3,
            "top_logprobs": [{"token": "False", "logprob": -0.3}, {"token": "True", "logprob": -1.5}]}]}});
        let p = true_probability_from_choice(&llama_cpp).unwrap().unwrap();
        let (y, n) = ((-1.5f64).exp(), (-0.3f64).exp());
        assert!((p - y / (y + n)).abs() < 1e-12);
        let neither = json!({"logprobs": {"top_logprobs": [{"Maybe": -0.1}]}});
        assert_eq!(true_probability_from_choice(&neither).unwrap(), None);
        assert!(true_probability_from_choice(&json!({"text": "True", "logprobs": null})).is_err());
    }
}
