//! Text <-> token ids, and the ids that end a sequence.

use std::path::Path;

use super::Error;

/// A `tokenizers` tokenizer plus the end-of-sequence ids of its model.
#[derive(Clone)]
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    eos: Vec<u32>,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer").field("vocab", &self.vocab_size()).field("eos", &self.eos).finish()
    }
}

impl Tokenizer {
    pub fn new(inner: tokenizers::Tokenizer, eos: Vec<u32>) -> Self {
        Self { inner, eos }
    }

    /// Loads `tokenizer.json`.
    pub fn from_file(path: &Path, eos: Vec<u32>) -> Result<Self, Error> {
        let inner = tokenizers::Tokenizer::from_file(path).map_err(|e| {
            Error::bad_model(path, format!("cannot read tokenizer: {e}"), super::error::HF_LAYOUT_HINT)
        })?;
        Ok(Self::new(inner, eos))
    }

    /// Token ids of `text`, with the special tokens the tokenizer adds (BOS for llama models),
    /// as vLLM tokenises a text prompt.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, Error> {
        Ok(self.inner.encode(text, true).map_err(Error::tokenizer)?.get_ids().to_vec())
    }

    /// Text of `ids` without special tokens.
    pub fn decode(&self, ids: &[u32]) -> Result<String, Error> {
        self.inner.decode(ids, true).map_err(Error::tokenizer)
    }

    /// The text of one token as the vocabulary spells it (for OpenAI `logprobs.tokens`).
    pub fn token_text(&self, id: u32) -> String {
        self.decode(&[id]).unwrap_or_default()
    }

    pub fn is_eos(&self, id: u32) -> bool {
        self.eos.contains(&id)
    }

    pub fn eos_ids(&self) -> &[u32] {
        &self.eos
    }

    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    pub fn inner(&self) -> &tokenizers::Tokenizer {
        &self.inner
    }
}
