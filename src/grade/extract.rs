//! Final-answer extraction from a model's output.
//!
//! Priority: the ReAct `Final Answer:` step (as Super_MARIO parses it), then the last
//! `\boxed{...}` / `\fbox{...}` with balanced braces, then GSM8K's `#### n`, then "The answer
//! is ...", then a closing `A: n` line (the GSM8K example solutions).

use std::sync::LazyLock;

use regex::Regex;

const FINAL_ANSWER: &str = "Final Answer:";

fn compile(pat: &str) -> Regex {
    #[allow(clippy::expect_used)]
    Regex::new(pat).expect("built-in pattern compiles")
}

static FINAL_TO_PARAGRAPH_END: LazyLock<Regex> = LazyLock::new(|| compile(r"(?s)Final Answer:\s*(.*)</p>"));
static GSM8K: LazyLock<Regex> = LazyLock::new(|| compile(r"#### (-?[0-9.,]+)"));
static MINERVA: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(?s)^The final answer is\s*(.*?)\.?\s*I hope it is correct\.?\s*$"));
static A_LINE: LazyLock<Regex> = LazyLock::new(|| compile(r"(?m)^A:\s*(.+?)\s*$"));
static MATH_SPAN: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(?s)\$\$(.+?)\$\$|\\\[(.+?)\\\]|\\\((.+?)\\\)|\$([^$]+?)\$"));
static NUMBER: LazyLock<Regex> = LazyLock::new(|| compile(r"-?\d[\d,]*(?:\.\d+)?"));
static PROSE_WORD: LazyLock<Regex> = LazyLock::new(|| compile(r"(?:^|\s)[A-Za-z]{3,}[\s,.:;!?]"));

/// Super_MARIO's `remove_single_dollar`: one enclosing `$...$` pair.
pub fn remove_single_dollar(s: &str) -> &str {
    if s.len() >= 2 && s.starts_with('$') && s.ends_with('$') {
        &s[1..s.len() - 1]
    } else if s == "$" {
        ""
    } else {
        s
    }
}

/// The final answer in `text`, or `None` when no rule finds one.
pub fn extract_answer(text: &str) -> Option<String> {
    final_answer(text)
        .or_else(|| last_boxed(text))
        .or_else(|| gsm8k_answer(text))
        .or_else(|| answer_is(text))
        .or_else(|| a_line(text))
        .filter(|s| !s.is_empty())
}

/// A best effort for free-form text: [`extract_answer`], else the last `$...$`, `$$...$$`,
/// `\(...\)` or `\[...\]` span, else (for prose) the last number, else the whole text trimmed.
pub fn extract_loose(text: &str) -> String {
    if let Some(a) = extract_answer(text) {
        return a;
    }
    if let Some(c) = MATH_SPAN.captures_iter(text).last()
        && let Some(m) = (1..=4).find_map(|k| c.get(k))
    {
        return m.as_str().trim().to_string();
    }
    if PROSE_WORD.is_match(text)
        && let Some(m) = NUMBER.find_iter(text).last()
    {
        return m.as_str().to_string();
    }
    text.trim().to_string()
}

/// `Final Answer: X` as Super_MARIO's `react_sft_step_result_unwrap` reads it: up to the last
/// `</p>` when there is one, otherwise everything after the last marker; then one `$` pair is
/// removed. The Minerva phrasing "The final answer is X. I hope it is correct." is unwrapped.
pub fn final_answer(text: &str) -> Option<String> {
    if !text.contains(FINAL_ANSWER) {
        return None;
    }
    let raw = match FINAL_TO_PARAGRAPH_END.captures(text) {
        Some(c) => c.get(1).map_or("", |m| m.as_str()).trim(),
        None => text.rsplit(FINAL_ANSWER).next().unwrap_or("").trim(),
    };
    if let Some(c) = MINERVA.captures(raw) {
        return Some(remove_single_dollar(c.get(1).map_or(raw, |m| m.as_str()).trim()).to_string());
    }
    if raw.to_ascii_lowercase().starts_with("the final answer is") {
        return answer_is(raw);
    }
    Some(remove_single_dollar(raw).to_string())
}

/// The content of the last `\boxed{...}` or `\fbox{...}`, braces balanced; `\boxed 5` (no
/// braces) reads up to the next `$` or whitespace.
pub fn last_boxed(text: &str) -> Option<String> {
    let start = match (text.rfind(r"\boxed"), text.rfind(r"\fbox")) {
        (Some(a), Some(b)) => a.max(b),
        (a, b) => a.or(b)?,
    };
    let after_cmd = &text[start..];
    let skip = if after_cmd.starts_with(r"\boxed") { r"\boxed".len() } else { r"\fbox".len() };
    let rest = &after_cmd[skip..];
    if let Some(body) = rest.strip_prefix('{') {
        let mut depth = 1usize;
        for (i, c) in body.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(body[..i].to_string());
                    }
                }
                _ => {}
            }
        }
        return None;
    }
    let rest = rest.strip_prefix(' ')?;
    let end = rest.find(['$', '\n']).unwrap_or(rest.len());
    let s = rest[..end].trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// GSM8K's reference answer format `#### 1,234` (commas removed).
pub fn gsm8k_answer(text: &str) -> Option<String> {
    GSM8K.captures(text).and_then(|c| c.get(1)).map(|m| m.as_str().replace(',', ""))
}

/// The text after the last "answer is": a leading `$...$` / `\(...\)` span when there is one,
/// otherwise up to the end of the sentence or line, without a final period.
pub fn answer_is(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let at = lower.rfind("answer is")?;
    let tail = text.get(at + "answer is".len()..)?.trim_start_matches([':', ' ']);
    if let Some(c) = MATH_SPAN.captures(tail) {
        let whole = c.get(0)?;
        if whole.start() == 0 {
            let inner = (1..=4).find_map(|k| c.get(k))?.as_str().trim();
            return (!inner.is_empty()).then(|| inner.to_string());
        }
    }
    let line = tail.lines().next().unwrap_or("");
    let sentence = match line.find(". ") {
        Some(k) => &line[..k],
        None => line,
    };
    let s = sentence.trim();
    let s = s.strip_suffix('.').unwrap_or(s).trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// A closing `A: <answer>` line.
fn a_line(text: &str) -> Option<String> {
    A_LINE.captures_iter(text).last().and_then(|c| c.get(1)).map(|m| m.as_str().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities() {
        assert_eq!(
            extract_answer("so x = 3.\nFinal Answer: $\\frac{1}{2}$").as_deref(),
            Some(r"\frac{1}{2}")
        );
        assert_eq!(extract_answer("<p>Final Answer: 42</p>\n</step>").as_deref(), Some("42"));
        assert_eq!(extract_answer(r"thus \boxed{\frac{a}{b}} and \boxed{x^{2}}").as_deref(), Some("x^{2}"));
        assert_eq!(extract_answer("work\n#### 1,234").as_deref(), Some("1234"));
        assert_eq!(extract_answer("So the answer is $17$.").as_deref(), Some("17"));
        assert_eq!(
            extract_answer("The final answer is $20 \\%$. I hope it is correct. Note: x").as_deref(),
            Some("20 \\%")
        );
        assert_eq!(extract_answer("The final answer is 16386.16.").as_deref(), Some("16386.16"));
        assert_eq!(extract_answer("nothing here"), None);
        assert_eq!(
            extract_answer("Final Answer: The final answer is 4.5e33. I hope it is correct.").as_deref(),
            Some("4.5e33")
        );
        assert_eq!(last_boxed(r"\boxed{unbalanced"), None);
        assert_eq!(extract_loose(r"so $x = 2$ and then $y = \frac{1}{2}$ holds"), r"y = \frac{1}{2}");
        assert_eq!(extract_loose("the number is not 10 which is 1,000.99 euros"), "1,000.99");
        assert_eq!(extract_loose(r"\frac{1}{2}"), r"\frac{1}{2}");
    }
}
