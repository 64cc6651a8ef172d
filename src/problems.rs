//! Problem files: `.json` (a list, or `{"example": [...]}`) and `.jsonl`, in the shapes the
//! public datasets use, loaded without conversion.
//!
//! The question is `question` or `problem`. The ground truth is `answer` (a string, or a list
//! of accepted strings), else `ground_truth`; a GSM8K solution contributes the number after its
//! last `####`, and with no plain answer a MATH `solution` contributes its last `\boxed{}`.
//! Every key passes through unchanged in [`Problem::record`].

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::store::{Diagnostic, Severity, clip, describe};

/// What counts as a correct final answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroundTruth {
    /// No ground truth: the problem can be searched but not graded.
    Unknown,
    One(String),
    /// Any of these is correct (MARIO's annotation lists alternatives).
    AnyOf(Vec<String>),
}

impl GroundTruth {
    /// The accepted answers; empty when unknown.
    pub fn accepted(&self) -> &[String] {
        match self {
            GroundTruth::Unknown => &[],
            GroundTruth::One(s) => std::slice::from_ref(s),
            GroundTruth::AnyOf(v) => v,
        }
    }

    pub fn is_known(&self) -> bool {
        !self.accepted().is_empty()
    }
}

impl fmt::Display for GroundTruth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GroundTruth::Unknown => f.write_str("?"),
            GroundTruth::One(s) => f.write_str(s),
            GroundTruth::AnyOf(v) => write!(f, "{}", v.join(" | ")),
        }
    }
}

/// Where the ground truth was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnswerSource {
    /// `answer` (or `ground_truth`) as given.
    Plain,
    /// The number after `####` in a GSM8K solution.
    Gsm8kMarker,
    /// The last `\boxed{}` of a MATH `solution`.
    Boxed,
    None,
}

/// One problem and the record it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// `index`, `idx`, `unique_id` or `id` when present, else the 0-based position.
    pub id: String,
    pub question: String,
    pub ground_truth: GroundTruth,
    pub answer_source: AnswerSource,
    /// All the record's keys, in order (a tree file's `react`/`arbor` removed).
    pub record: Map<String, Value>,
    /// 1-based line for `.jsonl`, 0-based list position for `.json`.
    pub location: u64,
}

impl Problem {
    /// Difficulty and type labels for pickers: `level`, `type`, `subject`, `human_type`.
    pub fn labels(&self) -> Vec<(&str, String)> {
        ["level", "type", "subject", "human_type"]
            .iter()
            .filter_map(|k| {
                let v = self.record.get(*k)?;
                let text = match v {
                    Value::String(s) => s.clone(),
                    Value::Null => return None,
                    other => other.to_string(),
                };
                Some((*k, text))
            })
            .collect()
    }
}

/// A loaded problem file.
#[derive(Debug)]
pub struct ProblemSet {
    pub path: PathBuf,
    pub problems: Vec<Problem>,
    /// Records that were skipped, and oddities in the ones kept.
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProblemError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}:{line}:{column}: not valid JSON: {message}", path.display())]
    Json { path: PathBuf, line: usize, column: usize, message: String },
    #[error("{}: expected a list of problems or an object with an \"example\" list, found {found}", path.display())]
    Shape { path: PathBuf, found: String },
}

/// Loads a problem file; the format follows the extension (`.jsonl`, else whole-file JSON,
/// falling back to JSONL when the file is not one JSON value).
pub fn load(path: impl AsRef<Path>) -> Result<ProblemSet, ProblemError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| ProblemError::Io { path: path.to_owned(), source })?;
    let is_jsonl = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("jsonl"));
    if is_jsonl {
        return Ok(load_jsonl(path, &bytes));
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(value) => load_json(path, value),
        Err(e) if e.classify() == serde_json::error::Category::Syntax && e.line() > 1 => {
            // Several values, one per line: JSONL under another name.
            let set = load_jsonl(path, &bytes);
            if set.problems.is_empty() { Err(json_error(path, &e)) } else { Ok(set) }
        }
        Err(e) => Err(json_error(path, &e)),
    }
}

fn json_error(path: &Path, e: &serde_json::Error) -> ProblemError {
    let message = e.to_string();
    let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
    ProblemError::Json { path: path.to_owned(), line: e.line(), column: e.column(), message }
}

fn load_json(path: &Path, value: Value) -> Result<ProblemSet, ProblemError> {
    let items = match value {
        Value::Array(items) => items,
        Value::Object(mut obj) => match obj.remove("example") {
            Some(Value::Array(items)) => items,
            _ => {
                return Err(ProblemError::Shape {
                    path: path.to_owned(),
                    found: describe(&Value::Object(obj)),
                });
            }
        },
        other => return Err(ProblemError::Shape { path: path.to_owned(), found: describe(&other) }),
    };
    let mut set = ProblemSet {
        path: path.to_owned(),
        problems: Vec::with_capacity(items.len()),
        diagnostics: Vec::new(),
    };
    for (i, item) in items.into_iter().enumerate() {
        // List positions stand in for lines; they are reported 1-based like lines.
        set.add(item, i as u64, i as u64 + 1, i);
    }
    Ok(set)
}

fn load_jsonl(path: &Path, bytes: &[u8]) -> ProblemSet {
    let mut set = ProblemSet { path: path.to_owned(), problems: Vec::new(), diagnostics: Vec::new() };
    let mut start = 0usize;
    let mut line_no = 0u64;
    let ends = memchr::memchr_iter(b'\n', bytes).chain(std::iter::once(bytes.len()));
    for end in ends {
        line_no += 1;
        if start > bytes.len() {
            break;
        }
        let line = &bytes[start..end];
        let terminated = end < bytes.len();
        start = end + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Value>(line) {
            Ok(value) => {
                let ordinal = set.problems.len();
                set.add(value, line_no, line_no, ordinal);
            }
            Err(e) => {
                let message = if !terminated && e.classify() == serde_json::error::Category::Eof {
                    "the last line is incomplete (no newline, the JSON ends early); skipped".to_owned()
                } else {
                    let text = e.to_string();
                    let text = text.split(" at line ").next().unwrap_or(&text).to_owned();
                    format!("not valid JSON ({}, column {}); skipped", clip(&text, 120), e.column())
                };
                set.diagnostics.push(Diagnostic {
                    path: path.to_owned(),
                    line: line_no,
                    severity: Severity::Error,
                    message,
                });
            }
        }
    }
    set
}

impl ProblemSet {
    fn add(&mut self, value: Value, location: u64, line: u64, ordinal: usize) {
        match problem_from(value, location, ordinal) {
            Ok(p) => self.problems.push(p),
            Err(message) => self.diagnostics.push(Diagnostic {
                path: self.path.clone(),
                line,
                severity: Severity::Error,
                message: format!("{message}; skipped"),
            }),
        }
    }
}

fn problem_from(value: Value, location: u64, ordinal: usize) -> Result<Problem, String> {
    let Value::Object(mut record) = value else {
        return Err(format!("expected a problem object, found {}", describe(&value)));
    };
    record.shift_remove("react");
    record.shift_remove(crate::store::ARBOR_KEY);
    let question = match ["question", "problem"].iter().find_map(|k| record.get(*k)) {
        Some(Value::String(q)) => q.clone(),
        Some(other) => return Err(format!("the question must be a string, found {}", describe(other))),
        None => return Err("no 'question' or 'problem' key".to_owned()),
    };
    let (ground_truth, answer_source) = ground_truth_of(&record)?;
    let id = ["index", "idx", "unique_id", "id"]
        .iter()
        .find_map(|k| match record.get(*k)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .unwrap_or_else(|| ordinal.to_string());
    Ok(Problem { id, question, ground_truth, answer_source, record, location })
}

/// The ground truth of a problem record (see the module documentation), or why the record's
/// answer field cannot be read.
pub fn ground_truth_of(record: &Map<String, Value>) -> Result<(GroundTruth, AnswerSource), String> {
    for key in ["answer", "ground_truth"] {
        match record.get(key) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => return Ok(from_answer_text(s)),
            Some(Value::Number(n)) => return Ok((GroundTruth::One(n.to_string()), AnswerSource::Plain)),
            Some(Value::Array(items)) => {
                let accepted = items
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => Ok(s.clone()),
                        Value::Number(n) => Ok(n.to_string()),
                        other => {
                            Err(format!("'{key}' list items must be strings, found {}", describe(other)))
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                return Ok(match accepted.len() {
                    0 => (GroundTruth::Unknown, AnswerSource::None),
                    1 => (
                        GroundTruth::One(accepted.into_iter().next().unwrap_or_default()),
                        AnswerSource::Plain,
                    ),
                    _ => (GroundTruth::AnyOf(accepted), AnswerSource::Plain),
                });
            }
            Some(other) => {
                return Err(format!(
                    "'{key}' must be a string or a list of strings, found {}",
                    describe(other)
                ));
            }
        }
    }
    if let Some(Value::String(solution)) = record.get("solution")
        && let Some(boxed) = crate::grade::last_boxed(solution)
    {
        return Ok((GroundTruth::One(boxed), AnswerSource::Boxed));
    }
    Ok((GroundTruth::Unknown, AnswerSource::None))
}

/// A plain answer, or the final number of a GSM8K-style solution: the text after the last
/// `####`, or after a last line `A: ` (the GSM8K example-solutions file). Unlike the grader's
/// extraction, the ground truth keeps the text as written (`1,080`, not `1080`).
fn from_answer_text(s: &str) -> (GroundTruth, AnswerSource) {
    if let Some((_, after)) = s.rsplit_once("####") {
        return (GroundTruth::One(after.trim().to_owned()), AnswerSource::Gsm8kMarker);
    }
    if s.contains('\n')
        && let Some(last) = s.lines().last().and_then(|l| l.strip_prefix("A: "))
    {
        return (GroundTruth::One(last.trim().to_owned()), AnswerSource::Gsm8kMarker);
    }
    (GroundTruth::One(s.to_owned()), AnswerSource::Plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm8k_marker() {
        assert_eq!(from_answer_text("a\nb\n#### 1,000").0, GroundTruth::One("1,000".into()));
        assert_eq!(from_answer_text("x = 2\nA: 18").0, GroundTruth::One("18".into()));
        assert_eq!(from_answer_text(r"\frac{1}{2}").0, GroundTruth::One(r"\frac{1}{2}".into()));
    }
}
