//! The reference's string-level splitting of lists, tuples, sets and matrices
//! (`split_tuple`, `split_matrix`), kept close to the original because its quirks decide
//! verdicts (`(1, 2)` is ordered, `1, 2` and `{1, 2}` are not, and `1, 234` is one number).

use std::sync::LazyLock;

use regex::Regex;

use super::normalize::strip_thousands;

/// Brackets do not balance: the reference asserts here, and the comparison is "not equal".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("brackets do not balance")]
pub struct Unbalanced;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// `[a, b]`: ordered.
    List,
    /// `(a, b)`: ordered.
    Tuple,
    /// `a, b` or `{a, b}`: unordered, duplicates collapse.
    Set,
}

impl Container {
    pub fn name(self) -> &'static str {
        match self {
            Container::List => "list",
            Container::Tuple => "tuple",
            Container::Set => "set",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Split {
    /// Fewer than two elements: the (possibly unbracketed) string.
    Str(String),
    Elems(Container, Vec<String>),
}

fn opens(c: char) -> bool {
    matches!(c, '[' | '(' | '{')
}

fn closes(c: char) -> bool {
    matches!(c, ']' | ')' | '}')
}

/// `split_tuple(expr, expected_type)`.
pub fn split_tuple(expr: &str, expected: Option<Container>) -> Result<Split, Unbalanced> {
    let expr = strip_thousands(expr);
    let chars: Vec<char> = expr.chars().collect();
    let n = chars.len();
    let mut depth: i64 = 0;
    let mut one_outer_pair = true;
    for (i, &c) in chars.iter().enumerate() {
        depth += i64::from(opens(c)) - i64::from(closes(c));
        if depth == 0 && i + 1 < n {
            one_outer_pair = false;
        }
    }
    if depth != 0 {
        return Err(Unbalanced);
    }
    let mut kind = Container::Set;
    let mut body: &[char] = &chars;
    if one_outer_pair && n > 2 {
        let pair = (chars[0], chars[n - 1]);
        let stripped = match pair {
            ('[', ']') => Some(Container::List),
            ('(', ')') => Some(Container::Tuple),
            ('{', '}') => Some(Container::Set),
            _ => None,
        };
        if let Some(k) = stripped {
            kind = k;
            body = &chars[1..n - 1];
        }
    }
    if let Some(k) = expected {
        kind = k;
    }
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i64;
    for &c in body {
        if c == ',' && depth == 0 {
            parts.push(cur.trim().to_string());
            cur.clear();
        } else {
            cur.push(c);
            depth += i64::from(opens(c)) - i64::from(closes(c));
        }
    }
    if !cur.is_empty() {
        parts.push(cur.trim().to_string());
    }
    if parts.len() > 1 {
        if kind == Container::Set {
            let mut uniq: Vec<String> = Vec::with_capacity(parts.len());
            for p in parts {
                if !uniq.contains(&p) {
                    uniq.push(p);
                }
            }
            parts = uniq;
        }
        return Ok(Split::Elems(kind, parts));
    }
    Ok(Split::Str(body.iter().collect()))
}

/// One row of a split matrix: a lone cell or several columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    Cell(String),
    Cols(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatrixSplit {
    Str(String),
    Rows(Vec<Row>),
}

static MATRIX_ENV: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(r"(?s)^\\begin\{[a-zA-Z]?matrix\}(.*?)\\end\{[a-zA-Z]?matrix\}$")
        .expect("built-in pattern compiles")
});

/// `split_matrix`: rows and columns of a matrix environment or a nested list; a single row is
/// flattened, so row and column vectors compare equal.
pub fn split_matrix(expr: &str) -> Result<MatrixSplit, Unbalanced> {
    let mut elements: Vec<Row> = Vec::new();
    if let Some(c) = MATRIX_ENV.captures(expr) {
        let inner = c.get(1).map_or("", |m| m.as_str());
        for row in inner.split(r"\\") {
            let cols: Vec<&str> = row.split('&').collect();
            if cols.len() == 1 {
                elements.push(Row::Cell(cols[0].to_string()));
            } else {
                elements.push(Row::Cols(cols.into_iter().map(str::to_string).collect()));
            }
        }
    } else {
        let rows = match split_tuple(expr, Some(Container::List))? {
            Split::Str(s) => vec![s],
            Split::Elems(_, v) => v,
        };
        for row in rows {
            elements.push(match split_tuple(&row, Some(Container::List))? {
                Split::Str(s) => Row::Cell(s),
                Split::Elems(_, v) => Row::Cols(v),
            });
        }
    }
    if elements.is_empty() {
        return Ok(MatrixSplit::Str(expr.to_string()));
    }
    if elements.len() == 1 {
        return Ok(match elements.remove(0) {
            // Python iterates the characters of a lone string: always "consistent".
            Row::Cell(s) => MatrixSplit::Str(s),
            Row::Cols(v) => MatrixSplit::Rows(v.into_iter().map(Row::Cell).collect()),
        });
    }
    let width = |r: &Row| match r {
        Row::Cell(_) => 1,
        Row::Cols(v) => v.len(),
    };
    let w0 = width(&elements[0]);
    if elements.iter().any(|r| width(r) != w0) {
        return Ok(MatrixSplit::Str(expr.to_string()));
    }
    Ok(MatrixSplit::Rows(elements))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_shapes() {
        assert_eq!(
            split_tuple("(1,2)", None),
            Ok(Split::Elems(Container::Tuple, vec!["1".into(), "2".into()]))
        );
        assert_eq!(
            split_tuple("1,1,2", None),
            Ok(Split::Elems(Container::Set, vec!["1".into(), "2".into()]))
        );
        assert_eq!(split_tuple("(1,234)", None), Ok(Split::Str("1234".into())));
        assert_eq!(split_tuple("[1,2)", None), Ok(Split::Str("[1,2)".into())));
        assert_eq!(split_tuple("(1,2", None), Err(Unbalanced));
        assert_eq!(
            split_matrix(r"\begin{pmatrix}1&2\end{pmatrix}"),
            Ok(MatrixSplit::Rows(vec![Row::Cell("1".into()), Row::Cell("2".into())]))
        );
    }
}
