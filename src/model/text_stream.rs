//! Incremental detokenisation: the text of a growing token list, without re-decoding it all at
//! every step and without emitting half of a multi-byte character.

use super::{Error, Tokenizer};

#[derive(Debug, Clone, Default)]
pub(crate) struct TextStream {
    tokens: Vec<u32>,
    text: String,
    prefix_offset: usize,
    read_offset: usize,
}

impl TextStream {
    /// Appends a token; returns the text decoded so far.
    pub(crate) fn push(&mut self, token: u32, tokenizer: &Tokenizer) -> Result<&str, Error> {
        self.tokens.push(token);
        let before = tokenizer.decode(&self.tokens[self.prefix_offset..self.read_offset])?;
        let now = tokenizer.decode(&self.tokens[self.prefix_offset..])?;
        // Wait while the last token ends inside a character (decoded as U+FFFD).
        if now.len() > before.len() && !now.ends_with('\u{FFFD}') {
            match now.get(before.len()..) {
                Some(new) if now.starts_with(&before) => self.text.push_str(new),
                // Decoders that rewrite earlier text (rare): fall back to a full decode.
                _ => self.text = tokenizer.decode(&self.tokens)?,
            }
            self.prefix_offset = self.read_offset;
            self.read_offset = self.tokens.len();
        }
        Ok(&self.text)
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }
}
