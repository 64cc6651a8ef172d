//! A small BPE tokenizer for the synthetic domain, learned from its text and saved as a
//! `tokenizer.json` that the `tokenizers` crate (and so arbor's model backend) loads.
//!
//! Design, for a tiny model that has to copy numbers and keep its tokens aligned with steps:
//! * a number is read in chunks of up to three digits from the left, each chunk one token
//!   (`1440` is `144` `0`), never glued to a space, so a number reads the same in the question,
//!   in code, in an output and in the answer, and copying it is one lookup rather than a digit
//!   by digit walk (the 4-layer bundled model miscopied digit-by-digit numbers);
//! * a newline is always its own token, so every state's prompt (which ends with `\n`) encodes
//!   to a prefix of any longer prompt, and the value target of a state sits on one token;
//! * the `react_sft` tags, the code fence, `print(` and `Final Answer:` are single added tokens;
//! * merges join letters and punctuation within words (`" apples"`, `" ="`);
//! * characters outside printable ASCII fall back to byte tokens, so any text round-trips.

use std::collections::HashMap;

use regex::Regex;
use serde_json::{Value, json};

/// Special tokens, in id order.
pub const UNK: &str = "<unk>";
pub const BOS: &str = "<s>";
pub const EOS: &str = "</s>";
pub const PAD: &str = "<pad>";

/// Pieces of the step format that become single tokens.
pub const FORMAT_TOKENS: [&str; 14] = [
    "<question>",
    "</question>",
    "<step>",
    "</step>",
    "<p>",
    "</p>",
    "<code>",
    "</code>",
    "<output>",
    "</output>",
    "```python",
    "```",
    "Final Answer:",
    "print(",
];

/// The pre-tokenizer's pattern: a newline; a word with an optional leading space; up to three
/// digits; a run of punctuation with an optional leading space; other whitespace.
pub const SPLIT_PATTERN: &str = r"\n| ?[A-Za-z_]+|[0-9]{1,3}| ?[^\sA-Za-z0-9_]+|[^\S\n]+";

/// Every string of two or three digits (`00` … `999`), which become tokens.
fn digit_chunks() -> impl Iterator<Item = String> {
    (0..100).map(|n| format!("{n:02}")).chain((0..1000).map(|n| format!("{n:03}")))
}

/// The merges that make every digit chunk one token. A three-digit chunk merges either way
/// round (`12`+`3` or `1`+`23`), so it ends as one token whichever pair BPE joins first.
fn digit_merges() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for chunk in digit_chunks() {
        let (head, tail) = chunk.split_at(chunk.len() - 1);
        out.push((head.to_owned(), tail.to_owned()));
        if chunk.len() == 3 {
            out.push((chunk[..1].to_owned(), chunk[1..].to_owned()));
        }
    }
    out
}

/// Why a tokenizer could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    #[error("tokenizer: {0}")]
    Build(String),
}

/// A learned vocabulary: tokens in id order and merges in rank order.
#[derive(Clone, Debug, PartialEq)]
pub struct Bpe {
    pub tokens: Vec<String>,
    pub merges: Vec<(String, String)>,
}

/// The single characters every tokenizer has: tab, newline, printable ASCII.
fn base_chars() -> Vec<String> {
    let mut out = vec!["\t".to_owned(), "\n".to_owned()];
    out.extend((0x20u8..0x7F).map(|b| (b as char).to_string()));
    out
}

/// Splits `text` as the tokenizer will before BPE: format tokens first, then the pattern.
fn pre_tokenize<'a>(text: &'a str, pattern: &Regex) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        // The leftmost (then longest) format token.
        let next = FORMAT_TOKENS
            .iter()
            .filter_map(|t| rest.find(t).map(|i| (i, t.len())))
            .min_by_key(|&(i, len)| (i, std::cmp::Reverse(len)));
        let (plain, after) = match next {
            Some((i, len)) => (&rest[..i], Some(&rest[i..i + len])),
            None => (rest, None),
        };
        out.extend(pattern.find_iter(plain).map(|m| m.as_str()));
        match after {
            Some(t) => {
                rest = &rest[plain.len() + t.len()..];
            }
            None => rest = "",
        }
    }
    out
}

/// Learns up to `merges` merges from `texts`, keeping only pairs seen at least `min_count`
/// times. Deterministic: ties go to the lexicographically smallest pair.
pub fn learn(texts: &[String], merges: usize, min_count: usize) -> Result<Bpe, TokenizerError> {
    let pattern = Regex::new(SPLIT_PATTERN).map_err(|e| TokenizerError::Build(e.to_string()))?;
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for t in texts {
        for w in pre_tokenize(t, &pattern) {
            // Digits and single characters never merge.
            if w.len() > 1 && !w.bytes().all(|b| b.is_ascii_digit()) {
                *counts.entry(w).or_default() += 1;
            }
        }
    }
    let mut words: Vec<(Vec<String>, usize)> =
        counts.into_iter().map(|(w, c)| (w.chars().map(|c| c.to_string()).collect(), c)).collect();
    words.sort();
    let mut learned: Vec<(String, String)> = Vec::new();
    while learned.len() < merges {
        let mut pairs: HashMap<(&str, &str), usize> = HashMap::new();
        for (symbols, c) in &words {
            for w in symbols.windows(2) {
                *pairs.entry((w[0].as_str(), w[1].as_str())).or_default() += c;
            }
        }
        let Some((best, count)) = pairs.into_iter().max_by(|(pa, ca), (pb, cb)| ca.cmp(cb).then(pb.cmp(pa)))
        else {
            break;
        };
        if count < min_count {
            break;
        }
        let (a, b) = (best.0.to_owned(), best.1.to_owned());
        let joined = format!("{a}{b}");
        for (symbols, _) in &mut words {
            let mut i = 0;
            while i + 1 < symbols.len() {
                if symbols[i] == a && symbols[i + 1] == b {
                    symbols[i] = joined.clone();
                    symbols.remove(i + 1);
                }
                i += 1;
            }
        }
        learned.push((a, b));
    }
    let mut tokens: Vec<String> = [UNK, BOS, EOS, PAD].iter().map(|s| (*s).to_owned()).collect();
    tokens.extend((0..=255u8).map(|b| format!("<0x{b:02X}>")));
    tokens.extend(base_chars());
    tokens.extend(digit_chunks());
    for (a, b) in &learned {
        let t = format!("{a}{b}");
        if !tokens.contains(&t) {
            tokens.push(t);
        }
    }
    tokens.extend(FORMAT_TOKENS.iter().map(|s| (*s).to_owned()));
    learned.extend(digit_merges());
    Ok(Bpe { tokens, merges: learned })
}

impl Bpe {
    pub fn id(&self, token: &str) -> Option<u32> {
        self.tokens.iter().position(|t| t == token).map(|i| i as u32)
    }

    pub fn vocab_size(&self) -> usize {
        self.tokens.len()
    }

    /// The `tokenizer.json` text: BPE with byte fallback, the format tokens as added tokens,
    /// `<s>` prepended to every encoding, decoding by byte fallback and fusing.
    pub fn to_json(&self) -> String {
        let id = |t: &str| self.id(t).unwrap_or(0);
        let added = |t: &str, special: bool| {
            json!({"id": id(t), "content": t, "single_word": false, "lstrip": false, "rstrip": false,
                   "normalized": false, "special": special})
        };
        let mut added_tokens: Vec<Value> = [UNK, BOS, EOS, PAD].iter().map(|t| added(t, true)).collect();
        added_tokens.extend(FORMAT_TOKENS.iter().map(|t| added(t, false)));
        let format_start = self.tokens.len() - FORMAT_TOKENS.len();
        let vocab: serde_json::Map<String, Value> =
            self.tokens[..format_start].iter().enumerate().map(|(i, t)| (t.clone(), json!(i))).collect();
        let merges: Vec<Value> = self.merges.iter().map(|(a, b)| json!([a, b])).collect();
        let bos = id(BOS);
        json!({
            "version": "1.0",
            "truncation": null,
            "padding": null,
            "added_tokens": added_tokens,
            "normalizer": null,
            "pre_tokenizer": {"type": "Split", "pattern": {"Regex": SPLIT_PATTERN}, "behavior": "Isolated",
                              "invert": false},
            "post_processor": {"type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": BOS, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": BOS, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                         {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {BOS: {"id": BOS, "ids": [bos], "tokens": [BOS]}}},
            "decoder": {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Fuse"}]},
            "model": {"type": "BPE", "dropout": null, "unk_token": UNK, "continuing_subword_prefix": null,
                      "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": true,
                      "ignore_merges": false, "vocab": vocab, "merges": merges}
        })
        .to_string()
    }

    /// The tokenizer, ready to use.
    pub fn tokenizer(&self) -> Result<tokenizers::Tokenizer, TokenizerError> {
        tokenizers::Tokenizer::from_bytes(self.to_json().as_bytes())
            .map_err(|e| TokenizerError::Build(e.to_string()))
    }
}

/// Token ids of `text` without the leading `<s>` (pieces of a sequence).
pub fn encode_piece(tokenizer: &tokenizers::Tokenizer, text: &str) -> Result<Vec<u32>, TokenizerError> {
    Ok(tokenizer.encode(text, false).map_err(|e| TokenizerError::Build(e.to_string()))?.get_ids().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_texts() -> Vec<String> {
        crate::train::synth::problems(3, crate::train::synth::Split::Train, 60)
            .iter()
            .map(|p| format!("<question> {} </question>\n{}\n", p.question, p.solution()))
            .collect()
    }

    #[test]
    fn learned_tokenizer_round_trips_and_keeps_numbers_and_newlines_alone() {
        let texts = sample_texts();
        let bpe = learn(&texts, 200, 2).unwrap();
        assert_eq!(bpe, learn(&texts, 200, 2).unwrap(), "deterministic");
        let tok = bpe.tokenizer().unwrap();
        for t in texts.iter().take(10).chain([&"naïve 日本 x\ty\r\n".to_owned()]) {
            let enc = tok.encode(t.as_str(), true).unwrap();
            assert_eq!(enc.get_ids()[0], bpe.id(BOS).unwrap());
            assert_eq!(tok.decode(enc.get_ids(), true).unwrap(), *t);
            for token in enc.get_tokens() {
                let digit = !token.starts_with("<0x") && token.chars().any(|c| c.is_ascii_digit());
                assert!(!digit || token.bytes().all(|b| b.is_ascii_digit()), "{token:?}");
                assert!(!token.contains('\n') || token == "\n", "{token:?}");
            }
        }
        let enc = tok.encode("<step>\n<p>\nFinal Answer: 12\n</p>\n</step>", false).unwrap();
        assert_eq!(enc.get_tokens()[0], "<step>");
        assert!(enc.get_tokens().contains(&"Final Answer:".to_owned()));
        // Numbers are chunks of up to three digits from the left, each one token.
        for (text, chunks) in [
            ("x = 7", vec!["7"]),
            ("x = 40", vec!["40"]),
            ("x = 123", vec!["123"]),
            ("x = 231", vec!["231"]),
            ("x = 1440", vec!["144", "0"]),
            ("x = 100007", vec!["100", "007"]),
            ("2.50", vec!["2", "50"]),
        ] {
            let enc = tok.encode(text, false).unwrap();
            let digits: Vec<&str> = enc
                .get_tokens()
                .iter()
                .map(String::as_str)
                .filter(|t| t.bytes().all(|b| b.is_ascii_digit()))
                .collect();
            assert_eq!(digits, chunks, "{text}");
        }
    }

    #[test]
    fn a_prompt_encodes_to_a_prefix_of_its_continuation() {
        let texts = sample_texts();
        let tok = learn(&texts, 200, 2).unwrap().tokenizer().unwrap();
        for t in texts.iter().take(20) {
            for (i, _) in t.match_indices("</step>\n") {
                let prefix = &t[..i + "</step>\n".len()];
                let a = tok.encode(prefix, true).unwrap().get_ids().to_vec();
                let b = tok.encode(t.as_str(), true).unwrap().get_ids().to_vec();
                assert_eq!(a[..], b[..a.len()]);
            }
        }
    }
}
