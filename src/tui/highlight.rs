//! Python highlighting with syntect (pure-Rust regexes). The syntax and theme sets load once,
//! on a background thread at start-up; until they are ready code shows plain. The last
//! highlighted snippet is cached, since the inspector redraws the same code every frame.

use std::cell::RefCell;
use std::sync::OnceLock;

use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use syntect::easy::HighlightLines;
use syntect::highlighting::ThemeSet;
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

struct Sets {
    syntaxes: SyntaxSet,
    themes: ThemeSet,
}

static SETS: OnceLock<Sets> = OnceLock::new();

fn load() -> Sets {
    Sets { syntaxes: SyntaxSet::load_defaults_newlines(), themes: ThemeSet::load_defaults() }
}

/// Loads the syntax definitions on a background thread.
pub fn preload() {
    let _ = std::thread::Builder::new().name("arbor-syntect".into()).spawn(|| {
        SETS.get_or_init(load);
    });
}

/// Loads them now (tests, benchmarks).
pub fn load_now() {
    SETS.get_or_init(load);
}

thread_local! {
    static CACHE: RefCell<Option<(String, &'static str, Vec<Line<'static>>)>> = const { RefCell::new(None) };
}

/// `code` as highlighted lines; plain lines in `plain` style while syntect is loading.
pub fn python(code: &str, theme: &'static str, plain: Style) -> Vec<Line<'static>> {
    let Some(sets) = SETS.get() else {
        return code.lines().map(|l| Line::styled(l.to_owned(), plain)).collect();
    };
    if let Some(hit) = CACHE.with_borrow(|c| {
        c.as_ref().filter(|(k, t, _)| k == code && *t == theme).map(|(_, _, lines)| lines.clone())
    }) {
        return hit;
    }
    let lines = highlight(sets, code, theme)
        .unwrap_or_else(|| code.lines().map(|l| Line::styled(l.to_owned(), plain)).collect());
    CACHE.with_borrow_mut(|c| *c = Some((code.to_owned(), theme, lines.clone())));
    lines
}

fn highlight(sets: &Sets, code: &str, theme: &str) -> Option<Vec<Line<'static>>> {
    let syntax = sets.syntaxes.find_syntax_by_extension("py")?;
    let theme = sets.themes.themes.get(theme)?;
    let mut h = HighlightLines::new(syntax, theme);
    let mut out = Vec::new();
    for line in LinesWithEndings::from(code) {
        let ranges = h.highlight_line(line, &sets.syntaxes).ok()?;
        let spans: Vec<Span<'static>> = ranges
            .into_iter()
            .map(|(style, text)| {
                let c = style.foreground;
                Span::styled(
                    text.trim_end_matches('\n').to_owned(),
                    Style::new().fg(Color::Rgb(c.r, c.g, c.b)),
                )
            })
            .collect();
        out.push(Line::from(spans));
    }
    Some(out)
}
