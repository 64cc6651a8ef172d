//! Tree files: JSONL, one problem per line, in the reference implementation's format (its
//! `solver_demo.py` output) with arbor's extra data under one `arbor` key.
//!
//! ```text
//! {"question": "...", "answer": "20", "react": {"0": {"text": "", "extra_info": "question: ...",
//!   "action": "", "action_input": "", "final_answer": "", "value": 0.12, "q_value": 0.33375,
//!   "prior": 1.0, "visit_count": 8}, "0.0": {...}, ...}, "arbor": {"schema_version": 1, ...}}
//! ```
//!
//! Reading never stops at a bad line: [`TreeFile`] indexes line offsets without parsing, and
//! each line is decoded on demand into a [`TreeRecord`] or a [`Diagnostic`] naming file:line.

mod file;
pub mod pyjson;
mod raw;
mod record;
mod writer;

use std::fmt;
use std::path::{Path, PathBuf};

pub use file::{LineSpan, Loaded, MAX_LINE_BYTES, TreeFile};
pub use record::{ARBOR_KEY, DecodeError, Decoded, SCHEMA_VERSION, Solution, TreeRecord};
pub(crate) use record::{clip, describe};
pub use writer::TreeWriter;

/// How bad a [`Diagnostic`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The line's tree was read; something in it was ignored or kept verbatim.
    Warning,
    /// The line holds no readable tree and is skipped.
    Error,
}

/// A problem with one line of a file, located as `file:line`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub path: PathBuf,
    /// 1-based line number.
    pub line: u64,
    pub severity: Severity,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{}:{}: {kind}: {}", self.path.display(), self.line, self.message)
    }
}

/// Failures of whole-file operations.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: already exists; choose another output file or resume it", path.display())]
    Exists { path: PathBuf },
    #[error("{}: an earlier write failed, so this writer refuses more (the file ends at the last complete line)", path.display())]
    Poisoned { path: PathBuf },
    #[error("{}: tree {index} is not in the file ({count} trees)", path.display())]
    NoSuchTree { path: PathBuf, index: usize, count: usize },
    #[error("{}: cannot encode a tree: {source}", path.display())]
    Encode { path: PathBuf, source: serde_json::Error },
}

impl StoreError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> StoreError {
        StoreError::Io { path: path.to_owned(), source }
    }
}
