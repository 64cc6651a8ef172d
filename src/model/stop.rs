//! Stop-string detection on the text decoded so far.

/// Finds the earliest stop string in a growing text, scanning only the region new text can
/// complete a match in.
#[derive(Debug, Clone)]
pub(crate) struct StopMatcher {
    stops: Vec<String>,
    longest: usize,
}

impl StopMatcher {
    pub(crate) fn new(stops: &[String]) -> Self {
        let stops: Vec<String> = stops.iter().filter(|s| !s.is_empty()).cloned().collect();
        let longest = stops.iter().map(String::len).max().unwrap_or(0);
        Self { stops, longest }
    }

    /// Byte offset of the earliest stop string that ends after `checked_len` (the text length at
    /// the previous check), if any.
    pub(crate) fn find(&self, text: &str, checked_len: usize) -> Option<usize> {
        if self.stops.is_empty() {
            return None;
        }
        let mut from = checked_len.saturating_sub(self.longest.saturating_sub(1)).min(text.len());
        while !text.is_char_boundary(from) {
            from -= 1;
        }
        let window = &text[from..];
        self.stops.iter().filter_map(|s| window.find(s.as_str())).min().map(|i| from + i)
    }

    /// Earliest stop string anywhere in `text`, and which one it is.
    pub(crate) fn find_all(&self, text: &str) -> Option<(usize, &str)> {
        self.stops.iter().filter_map(|s| text.find(s.as_str()).map(|i| (i, s.as_str()))).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_stops_spanning_the_boundary_and_the_earliest_one() {
        let m = StopMatcher::new(&["</code>".to_string(), "\n\n".to_string()]);
        assert_eq!(m.find("print(1)</co", 0), None);
        assert_eq!(m.find("print(1)</code>", 12), Some(8));
        assert_eq!(m.find_all("a\n\nb</code>"), Some((1, "\n\n")));
        assert_eq!(m.find("héllo wörld", 3), None);
        assert_eq!(StopMatcher::new(&[]).find("x", 0), None);
    }
}
