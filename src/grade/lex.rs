//! Tokens of LaTeX math as the reference's latex2sympy grammar sees it: single letters,
//! numbers with thousands groups, commands, differentials (`dx`), and the few words (`and`,
//! `or`) that separate list items.

use super::budget::{Budget, Exhausted};

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A number literal, possibly with thousands commas (`1,234`) and an `E` exponent.
    Num(String),
    Letter(char),
    /// `dx`, `d\theta`: the variable name.
    Differential(String),
    /// `\name` after aliasing (`dfrac` → `frac`, `leq` → `le`, ...).
    Cmd(String),
    /// `\text{...}`-like command with its raw braced content.
    Text(String, String),
    Begin(String),
    End(String),
    Op(char),
    /// `\{` and `\}`.
    LSet,
    RSet,
    RowSep,
    Percent,
    /// `|` whose role (opening or closing) the parser pass decides.
    Bar,
    AbsOpen,
    AbsClose,
    /// `and` / `or` used as a list separator.
    Word,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LexError {
    #[error("unexpected character {0:?}")]
    Unexpected(char),
    #[error("unknown or unsupported command \\{0}")]
    Command(String),
    #[error("unbalanced braces")]
    Braces,
    #[error(transparent)]
    Budget(#[from] Exhausted),
}

/// Commands whose braced argument is kept as raw text.
const TEXT_CMDS: &[&str] = &[
    // latex2sympy's accents (`\mbox`, `\textbf`, `\textrm` are not among them: it rejects them).
    "text",
    "textit",
    "mathbb",
    "mathbin",
    "mathbf",
    "mathcal",
    "mathclap",
    "mathclose",
    "mathellipsis",
    "mathfrak",
    "mathinner",
    "mathit",
    "mathnormal",
    "mathop",
    "mathopen",
    "mathord",
    "mathpunct",
    "mathrel",
    "mathring",
    "mathrlap",
    "mathrm",
    "mathscr",
    "mathsf",
    "mathsterling",
    "mathtt",
    "bm",
    "boldsymbol",
    "acute",
    "bar",
    "overline",
    "breve",
    "check",
    "widecheck",
    "dot",
    "ddot",
    "grave",
    "hat",
    "tilde",
    "widetilde",
    "vec",
    "overrightarrow",
    "operatorname",
    "variable",
];

/// Commands that only change spacing or sizing.
const SKIP_CMDS: &[&str] = &[
    "left",
    "right",
    "mleft",
    "mright",
    "big",
    "Big",
    "bigg",
    "Bigg",
    "bigl",
    "bigr",
    "Bigl",
    "Bigr",
    "biggl",
    "biggr",
    "Biggl",
    "Biggr",
    "displaystyle",
    "textstyle",
    "scriptstyle",
    "quad",
    "qquad",
    "limits",
    "nolimits",
    "hfill",
    "enspace",
    "thinspace",
    "medspace",
    "thickspace",
    "negthinspace",
];

/// Delimiter commands that may be glued to a following letter (`\lvertx\rvert`), longest first.
const DELIMITER_CMDS: &[&str] = &[
    "lbrace", "rbrace", "lbrack", "rbrack", "lgroup", "rgroup", "langle", "rangle", "lvert", "rvert", "vert",
];

/// Commands that may follow `\left` / `\right`.
const DELIMITER_NAMES: &[&str] = &[
    "lvert", "rvert", "vert", "lfloor", "rfloor", "lceil", "rceil", "langle", "rangle", "lgroup", "rgroup",
    "lbrace", "rbrace", "lbrack", "rbrack", "llcorner", "lrcorner", "ulcorner", "urcorner",
];

fn alias(name: &str) -> &str {
    match name {
        "dfrac" | "tfrac" | "cfrac" => "frac",
        "dbinom" | "tbinom" => "binom",
        "leq" | "leqslant" | "leqq" => "le",
        "geq" | "geqslant" | "geqq" => "ge",
        "neq" => "ne",
        "rightarrow" | "Rightarrow" | "longrightarrow" | "Longrightarrow" => "to",
        "lbrace" => "{",
        "rbrace" => "}",
        "varnothing" => "emptyset",
        "ast" | "times" => "times",
        "bmod" => "mod",
        "varpi" => "pi_var",
        other => other,
    }
}

struct Lexer<'a> {
    chars: Vec<char>,
    pos: usize,
    out: Vec<Tok>,
    budget: &'a Budget,
    /// Nesting of matrix-like environments, where `\\` separates rows.
    env_depth: usize,
    /// A `\left` or `\right` was just seen: its delimiter decides bar roles.
    pending_side: Option<bool>,
}

/// Splits `src` into tokens.
pub fn lex(src: &str, budget: &Budget) -> Result<Vec<Tok>, LexError> {
    let mut lx = Lexer {
        chars: src.chars().collect(),
        pos: 0,
        out: Vec::new(),
        budget,
        env_depth: 0,
        pending_side: None,
    };
    lx.run()?;
    Ok(lx.out)
}

impl Lexer<'_> {
    fn peek(&self, k: usize) -> Option<char> {
        self.chars.get(self.pos + k).copied()
    }

    fn push(&mut self, t: Tok) {
        // `\left|` opens and `\right|` closes; a plain `|` is decided later.
        let t = match (t, self.pending_side.take()) {
            (Tok::Bar, Some(true)) => Tok::AbsOpen,
            (Tok::Bar, Some(false)) => Tok::AbsClose,
            (t, _) => t,
        };
        self.out.push(t);
    }

    fn run(&mut self) -> Result<(), LexError> {
        while let Some(c) = self.peek(0) {
            self.budget.spend(1)?;
            match c {
                c if c.is_whitespace() => self.pos += 1,
                '$' | '~' => self.pos += 1,
                '\\' => self.command()?,
                '0'..='9' => self.number(),
                '.' if self.peek(1).is_some_and(|d| d.is_ascii_digit()) => self.number(),
                'a'..='z' | 'A'..='Z' => self.letters(),
                '|' => {
                    self.pos += 1;
                    self.push(Tok::Bar);
                }
                '&' => {
                    self.pos += 1;
                    self.push(Tok::Op('&'));
                }
                '+' | '-' | '*' | '/' | '^' | '_' | '(' | ')' | '[' | ']' | '{' | '}' | ',' | ';' | '='
                | '<' | '>' | '!' | '\'' | ':' | '%' => {
                    self.pos += 1;
                    if c == '.' {
                        continue;
                    }
                    self.push(Tok::Op(c));
                }
                _ => {
                    self.pos += 1;
                    self.unicode(c)?;
                }
            }
        }
        Ok(())
    }

    fn unicode(&mut self, c: char) -> Result<(), LexError> {
        let cmd = match c {
            'π' => "pi",
            '∞' => "infty",
            '√' => "sqrt",
            '≤' | '⩽' => "le",
            '≥' | '⩾' => "ge",
            '≠' => "ne",
            '×' | '·' | '⋅' | '∗' => "times",
            '÷' => "div",
            '∪' | '⋃' => "cup",
            '∩' => "cap",
            '∈' => "in",
            '∉' => "notin",
            '∅' => "emptyset",
            '∖' => "setminus",
            '±' => "pm",
            '∓' => "mp",
            '−' | '–' => {
                self.push(Tok::Op('-'));
                return Ok(());
            }
            '′' => {
                self.push(Tok::Op('\''));
                return Ok(());
            }
            c if c.is_alphabetic() => {
                self.push(Tok::Letter(c));
                return Ok(());
            }
            c => return Err(LexError::Unexpected(c)),
        };
        self.push(Tok::Cmd(cmd.to_string()));
        Ok(())
    }

    fn number(&mut self) {
        let mut s = String::new();
        while let Some(d) = self.peek(0).filter(char::is_ascii_digit) {
            s.push(d);
            self.pos += 1;
        }
        // Thousands groups `1,234,567` (spaces after the comma allowed, as ANTLR skips them).
        while !s.is_empty() && !s.contains('.') && self.peek(0) == Some(',') {
            let mut k = 1;
            while self.peek(k).is_some_and(|c| c == ' ') {
                k += 1;
            }
            let three = (0..3).all(|j| self.peek(k + j).is_some_and(|c| c.is_ascii_digit()));
            if !three || self.peek(k + 3).is_some_and(|c| c.is_ascii_digit()) {
                break;
            }
            s.push(',');
            for j in 0..3 {
                if let Some(c) = self.peek(k + j) {
                    s.push(c);
                }
            }
            self.pos += k + 3;
        }
        if self.peek(0) == Some('.') && self.peek(1).is_some_and(|d| d.is_ascii_digit()) {
            s.push('.');
            self.pos += 1;
            while let Some(d) = self.peek(0).filter(char::is_ascii_digit) {
                s.push(d);
                self.pos += 1;
            }
        } else if self.peek(0) == Some('.') && self.peek(1).is_none_or(|c| c != '.') && !s.is_empty() {
            // "5." reads as 5 (Python and SymPy's parser accept it).
            self.pos += 1;
        }
        // Upper-case `E` exponent, as latex2sympy's e_notation.
        if self.peek(0) == Some('E') {
            let mut k = 1;
            let sign = self.peek(1).filter(|c| *c == '+' || *c == '-');
            if sign.is_some() {
                k += 1;
            }
            if self.peek(k).is_some_and(|c| c.is_ascii_digit()) {
                s.push('e');
                if let Some(sg) = sign {
                    s.push(sg);
                }
                self.pos += k;
                while let Some(d) = self.peek(0).filter(char::is_ascii_digit) {
                    s.push(d);
                    self.pos += 1;
                }
            }
        }
        self.push(Tok::Num(s));
    }

    fn letters(&mut self) {
        // The words `and` / `or` standing alone separate list items.
        let start = self.pos;
        let run_start = start == 0 || !self.chars[start - 1].is_ascii_alphabetic();
        if run_start {
            // Only a whole run of letters can be the word; look at most 4 letters ahead.
            let mut end = start;
            while end < start + 4 && self.chars.get(end).is_some_and(|c| c.is_ascii_alphabetic()) {
                end += 1;
            }
            let word: String = self.chars[start..end].iter().collect();
            if word == "and" || word == "or" {
                self.pos = end;
                self.push(Tok::Word);
                return;
            }
        }
        let c = self.chars[start];
        self.pos += 1;
        // latex2sympy lexes `d` followed by a letter (spaces allowed) as a differential.
        if c == 'd' {
            let mut k = 0;
            while self.peek(k).is_some_and(|c| c == ' ') {
                k += 1;
            }
            match self.peek(k) {
                Some(l) if l.is_ascii_alphabetic() => {
                    self.pos += k + 1;
                    self.push(Tok::Differential(l.to_string()));
                    return;
                }
                Some('\\') if self.peek(k + 1).is_some_and(|c| c.is_ascii_alphabetic()) => {
                    let save = self.pos;
                    self.pos += k + 1;
                    let name = self.command_name();
                    if matches!(
                        name.as_str(),
                        "theta" | "phi" | "alpha" | "beta" | "gamma" | "tau" | "mu" | "lambda"
                    ) {
                        self.push(Tok::Differential(name));
                        return;
                    }
                    self.pos = save;
                }
                _ => {}
            }
        }
        self.push(Tok::Letter(c));
    }

    fn command_name(&mut self) -> String {
        let mut name = String::new();
        while let Some(c) = self.peek(0).filter(char::is_ascii_alphabetic) {
            name.push(c);
            self.pos += 1;
        }
        name
    }

    /// Raw content of the braced group starting at the current position (after spaces).
    fn braced_raw(&mut self) -> Result<String, LexError> {
        while self.peek(0).is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
        if self.peek(0) != Some('{') {
            // `\mathrm E`: a single character argument.
            return match self.peek(0) {
                Some(c) if c.is_alphanumeric() => {
                    self.pos += 1;
                    Ok(c.to_string())
                }
                _ => Err(LexError::Braces),
            };
        }
        self.pos += 1;
        let mut depth = 1;
        let mut s = String::new();
        while let Some(c) = self.peek(0) {
            self.budget.spend(1)?;
            self.pos += 1;
            match c {
                '\\' => {
                    s.push(c);
                    if let Some(n) = self.peek(0) {
                        s.push(n);
                        self.pos += 1;
                    }
                    continue;
                }
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(s);
                    }
                }
                _ => {}
            }
            s.push(c);
        }
        Err(LexError::Braces)
    }

    fn command(&mut self) -> Result<(), LexError> {
        self.pos += 1; // the backslash
        let Some(c) = self.peek(0) else {
            return Err(LexError::Unexpected('\\'));
        };
        if !c.is_ascii_alphabetic() {
            self.pos += 1;
            return self.symbol_command(c);
        }
        let start = self.pos;
        let mut name = self.command_name();
        // latex2sympy's lexer matches `\vert` in `\vertx`: split known delimiters off.
        if let Some(prefix) = DELIMITER_CMDS.iter().find(|p| name.len() > p.len() && name.starts_with(**p)) {
            self.pos = start + prefix.len();
            name = prefix.to_string();
        }
        let name = alias(&name).to_string();
        if SKIP_CMDS.contains(&name.as_str()) {
            match name.as_str() {
                "left" | "mleft" => self.side_delimiter(true)?,
                "right" | "mright" => self.side_delimiter(false)?,
                _ => {}
            }
            return Ok(());
        }
        if TEXT_CMDS.contains(&name.as_str()) {
            let content = self.braced_raw()?;
            if name == "text" && matches!(content.trim(), "and" | "or") {
                self.push(Tok::Word);
            } else {
                self.push(Tok::Text(name, content));
            }
            return Ok(());
        }
        match name.as_str() {
            "begin" | "end" => {
                let env = self.braced_raw()?;
                let is_begin = name == "begin";
                let matrixish =
                    env.contains("matrix") || env == "array" || env == "cases" || env == "aligned";
                if matrixish {
                    if is_begin {
                        self.env_depth += 1;
                    } else {
                        self.env_depth = self.env_depth.saturating_sub(1);
                    }
                }
                if is_begin && env == "array" {
                    // Column specification `{cc}` / `{c|c}`.
                    let save = self.pos;
                    if self.braced_raw().is_err() {
                        self.pos = save;
                    }
                }
                self.push(if is_begin { Tok::Begin(env) } else { Tok::End(env) });
            }
            "lvert" => self.push(Tok::AbsOpen),
            "rvert" => self.push(Tok::AbsClose),
            "vert" | "mid" => self.push(Tok::Bar),
            "lgroup" | "langle" => self.push(Tok::Op('(')),
            "rgroup" | "rangle" => self.push(Tok::Op(')')),
            "lbrack" => self.push(Tok::Op('[')),
            "rbrack" => self.push(Tok::Op(']')),
            "{" => self.push(Tok::LSet),
            "}" => self.push(Tok::RSet),
            "gt" => self.push(Tok::Op('>')),
            "lt" => self.push(Tok::Op('<')),
            "div" | "over" => self.push(Tok::Op('/')),
            "equiv" => self.push(Tok::Op('=')),
            "char" => {
                // \char"000391 (a Greek letter by code point): a named symbol.
                let mut code = String::new();
                if self.peek(0) == Some('"') {
                    self.pos += 1;
                }
                while let Some(c) = self.peek(0).filter(char::is_ascii_hexdigit) {
                    code.push(c);
                    self.pos += 1;
                }
                self.push(Tok::Text("char".into(), code));
            }
            "not" => {
                // \not\equiv, \not= : inequality.
                while self.peek(0).is_some_and(char::is_whitespace) {
                    self.pos += 1;
                }
                if self.peek(0) == Some('=') {
                    self.pos += 1;
                } else if self.peek(0) == Some('\\') {
                    self.pos += 1;
                    let _ = self.command_name();
                }
                self.push(Tok::Cmd("ne".into()));
            }
            _ => self.push(Tok::Cmd(name)),
        }
        Ok(())
    }

    /// `\left` / `\right` must be followed by a delimiter, as in latex2sympy's grammar.
    fn side_delimiter(&mut self, left: bool) -> Result<(), LexError> {
        while self.peek(0).is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
        let delimiter = match self.peek(0) {
            Some('(' | ')' | '[' | ']' | '|' | '.' | '{' | '}') => true,
            Some('\\') => {
                let rest: String = self.chars[self.pos + 1..].iter().take(9).collect();
                rest.starts_with(['{', '}', '|']) || DELIMITER_NAMES.iter().any(|d| rest.starts_with(d))
            }
            _ => false,
        };
        if !delimiter {
            return Err(LexError::Command(if left { "left".into() } else { "right".into() }));
        }
        match self.peek(0) {
            Some('.') => self.pos += 1,
            Some('|') => {
                self.pos += 1;
                self.push(if left { Tok::AbsOpen } else { Tok::AbsClose });
            }
            Some('\\') if matches!(self.peek(1), Some('|')) => {
                self.pos += 2;
                self.push(if left { Tok::AbsOpen } else { Tok::AbsClose });
            }
            _ => self.pending_side = Some(left),
        }
        Ok(())
    }

    fn symbol_command(&mut self, c: char) -> Result<(), LexError> {
        match c {
            '{' => self.push(Tok::LSet),
            '}' => self.push(Tok::RSet),
            '%' => self.push(Tok::Percent),
            '|' => self.push(Tok::Bar),
            // latex2sympy turns `\,` into a space; `\:`, `\;`, `\!` and `\ ` are errors there.
            '$' | ',' => {}
            '\\' => {
                // A doubled backslash before a letter outside a matrix is a JSON-escaping slip.
                if self.env_depth == 0 && self.peek(0).is_some_and(|c| c.is_ascii_alphabetic()) {
                    // `command` expects to stand on a backslash: use the second one.
                    self.pos -= 1;
                    return self.command();
                }
                self.push(Tok::RowSep);
            }
            c => return Err(LexError::Command(c.to_string())),
        }
        Ok(())
    }
}
