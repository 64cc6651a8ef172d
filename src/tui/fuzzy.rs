//! A small fuzzy matcher: the pattern's characters in order, case-insensitive; contiguous
//! runs and matches at word starts score higher.

/// The score of `pattern` in `text`, `None` when it does not match. An empty pattern
/// matches everything with score 0.
pub fn score(pattern: &str, text: &str) -> Option<i64> {
    let pattern: Vec<char> =
        pattern.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect();
    if pattern.is_empty() {
        return Some(0);
    }
    let mut score = 0i64;
    let mut p = 0;
    let mut run = 0i64;
    let mut prev: Option<char> = None;
    for c in text.chars() {
        let lower = c.to_lowercase().next().unwrap_or(c);
        if p < pattern.len() && lower == pattern[p] {
            run += 1;
            score += 1 + run * 2;
            if prev.is_none_or(|q| !q.is_alphanumeric()) {
                score += 5;
            }
            p += 1;
        } else {
            run = 0;
        }
        prev = Some(c);
    }
    (p == pattern.len()).then_some(score)
}

/// Indices of `items` that match, best first (stable among equals).
pub fn filter<'a>(pattern: &str, items: impl Iterator<Item = &'a str>) -> Vec<usize> {
    let mut hits: Vec<(i64, usize)> =
        items.enumerate().filter_map(|(i, text)| score(pattern, text).map(|s| (s, i))).collect();
    hits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    hits.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsequences_match_and_runs_rank_first() {
        assert!(score("sxs", "What is six times seven").is_some());
        assert!(score("xyz", "What is six").is_none());
        assert_eq!(score("", "anything"), Some(0));
        let items = ["the triangle area", "a tiny rectangle", "triangle"];
        let order = filter("triang", items.iter().copied());
        assert_eq!(order[0], 2, "a whole-word match at the start ranks first");
        assert_eq!(order.len(), 2, "\"a tiny rectangle\" has no i after its r");
        assert_eq!(filter("TRI", ["Tri"].iter().copied()), vec![0], "case-insensitive");
    }
}
