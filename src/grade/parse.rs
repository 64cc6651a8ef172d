//! LaTeX math → [`Math`], following the reference's latex2sympy grammar (single-letter symbols,
//! implicit multiplication binding tighter than `/`, `\log` in base 10, `e` as Euler's number,
//! `f(x)` as a function only when its argument is a single atom) while accepting a little more
//! (`\frac ab`, `\sqrt x`, `x^-1`, intervals, set operations) so that answers parse at all.
//!
//! Recursion depth is bounded ([`MAX_DEPTH`]), so hostile nesting fails cleanly.

use super::ast::{Constant, Func, Math, Node, RelOp};
use super::budget::{Budget, Exhausted, MAX_DEPTH};
use super::lex::{LexError, Tok, lex};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error(transparent)]
    Lex(#[from] LexError),
    #[error("unexpected {0}")]
    Unexpected(String),
    #[error("unexpected end of input")]
    End,
    #[error("nesting deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("unbalanced | bars")]
    Bars,
    #[error("{0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Budget(#[from] Exhausted),
}

type PResult<T> = Result<T, ParseError>;

/// What a sub-parse produced: a scalar, a container, or a derivative operator `d/dx`
/// waiting for its operand.
#[derive(Debug, Clone)]
enum Item {
    Scalar(Node),
    Value(Math),
    Deriv(String),
}

/// Parses LaTeX (or LaTeX-ish plain math) into a typed value.
pub fn parse_latex(src: &str, budget: &Budget) -> PResult<Math> {
    parse_at_depth(src, budget, 0)
}

fn parse_at_depth(src: &str, budget: &Budget, depth: usize) -> PResult<Math> {
    let toks = lex(src, budget)?;
    let toks = resolve_bars(toks, budget)?;
    if toks.is_empty() {
        return Err(ParseError::End);
    }
    let mut p = Parser { toks, pos: 0, depth, budget };
    let m = p.top()?;
    if p.pos < p.toks.len() {
        return Err(ParseError::Unexpected(format!("{:?}", p.toks[p.pos])));
    }
    Ok(m)
}

// ---------------------------------------------------------------------------------------------
// `|` bars: opening or closing is decided by a small search over the ambiguous ones.

fn ends_operand(t: &Tok) -> bool {
    match t {
        Tok::Num(_) | Tok::Letter(_) | Tok::Differential(_) | Tok::Text(..) | Tok::RSet | Tok::AbsClose => {
            true
        }
        Tok::End(_) | Tok::Percent => true,
        Tok::Op(c) => matches!(c, ')' | ']' | '}' | '!' | '\''),
        Tok::Cmd(name) => is_symbol_cmd(name),
        _ => false,
    }
}

fn starts_operand(t: &Tok) -> bool {
    match t {
        Tok::Num(_) | Tok::Letter(_) | Tok::Differential(_) | Tok::Text(..) | Tok::Begin(_) => true,
        Tok::LSet | Tok::Bar | Tok::AbsOpen => true,
        Tok::Op(c) => matches!(c, '(' | '[' | '{' | '-' | '+'),
        Tok::Cmd(name) => !is_infix_cmd(name) && !is_closer_cmd(name),
        _ => false,
    }
}

fn resolve_bars(mut toks: Vec<Tok>, budget: &Budget) -> PResult<Vec<Tok>> {
    let bars: Vec<usize> = toks.iter().enumerate().filter(|(_, t)| **t == Tok::Bar).map(|(k, _)| k).collect();
    if bars.is_empty() {
        return Ok(toks);
    }
    // The search below recurses once per bar.
    if bars.len() > MAX_DEPTH {
        return Err(ParseError::TooDeep);
    }
    let mut choice = vec![false; toks.len()]; // true = opening
    let mut steps = 0usize;
    if !assign_bars(&toks, 0, 0, &mut choice, &mut steps, budget)? {
        return Err(ParseError::Bars);
    }
    for k in bars {
        toks[k] = if choice[k] { Tok::AbsOpen } else { Tok::AbsClose };
    }
    Ok(toks)
}

/// Depth-first assignment of bar roles from token `k` with `depth` open bars; prefers closing.
fn assign_bars(
    toks: &[Tok],
    mut k: usize,
    mut depth: i64,
    choice: &mut Vec<bool>,
    steps: &mut usize,
    budget: &Budget,
) -> PResult<bool> {
    while k < toks.len() {
        budget.spend(1)?;
        *steps += 1;
        if *steps > 20_000 {
            return Ok(false);
        }
        match &toks[k] {
            Tok::AbsOpen => depth += 1,
            Tok::AbsClose => {
                depth -= 1;
                if depth < 0 {
                    return Ok(false);
                }
            }
            Tok::Bar => {
                let prev_ended = k > 0 && prev_ends_operand(toks, k, choice);
                let next_starts = toks.get(k + 1).is_some_and(starts_operand);
                let next_is_bar = matches!(toks.get(k + 1), Some(Tok::Bar | Tok::AbsClose));
                let can_close = prev_ended && depth > 0;
                let can_open = !prev_ended || next_starts;
                if can_close {
                    choice[k] = false;
                    if assign_bars(toks, k + 1, depth - 1, choice, steps, budget)? {
                        return Ok(true);
                    }
                }
                if can_open && (next_starts || next_is_bar) {
                    choice[k] = true;
                    return assign_bars(toks, k + 1, depth + 1, choice, steps, budget);
                }
                return Ok(false);
            }
            _ => {}
        }
        k += 1;
    }
    Ok(depth == 0)
}

fn prev_ends_operand(toks: &[Tok], k: usize, choice: &[bool]) -> bool {
    match &toks[k - 1] {
        Tok::Bar => !choice[k - 1],
        t => ends_operand(t),
    }
}

// ---------------------------------------------------------------------------------------------

const GREEK: &[&str] = &[
    "alpha",
    "beta",
    "gamma",
    "Gamma",
    "delta",
    "Delta",
    "epsilon",
    "varepsilon",
    "zeta",
    "eta",
    "theta",
    "Theta",
    "vartheta",
    "iota",
    "kappa",
    "lambda",
    "Lambda",
    "mu",
    "nu",
    "xi",
    "Xi",
    "omicron",
    "Pi",
    "rho",
    "varrho",
    "sigma",
    "Sigma",
    "varsigma",
    "tau",
    "upsilon",
    "Upsilon",
    "phi",
    "Phi",
    "varphi",
    "chi",
    "psi",
    "Psi",
    "omega",
    "Omega",
    "pi_var",
];

const OTHER_SYMBOLS: &[&str] = &[
    "ell",
    "hbar",
    "hslash",
    "nabla",
    "angle",
    "measuredangle",
    "triangle",
    "square",
    "prime",
    "Re",
    "Im",
    "wp",
    "aleph",
    "imath",
    "jmath",
    "star",
    "circ",
    "degree",
];

fn is_symbol_cmd(name: &str) -> bool {
    matches!(name, "pi" | "infty" | "emptyset" | "partial" | "exponentialE" | "rfloor" | "rceil" | "lrcorner")
        || matches!(name, "urcorner")
        || GREEK.contains(&name)
        || OTHER_SYMBOLS.contains(&name)
}

fn is_infix_cmd(name: &str) -> bool {
    matches!(
        name,
        "times"
            | "cdot"
            | "mod"
            | "le"
            | "ge"
            | "ne"
            | "in"
            | "notin"
            | "cup"
            | "cap"
            | "setminus"
            | "to"
            | "pm"
            | "mp"
            | "choose"
            | "subset"
            | "subseteq"
            | "supset"
            | "supseteq"
            | "approx"
            | "sim"
            | "land"
            | "lor"
            | "wedge"
            | "vee"
            | "implies"
            | "iff"
    )
}

fn is_closer_cmd(name: &str) -> bool {
    matches!(name, "rfloor" | "rceil" | "lrcorner" | "urcorner")
}

fn single_arg_func(name: &str) -> Option<Func> {
    Some(match name {
        "sin" => Func::Sin,
        "cos" => Func::Cos,
        "tan" | "tg" => Func::Tan,
        "csc" | "cosec" => Func::Csc,
        "sec" => Func::Sec,
        "cot" | "ctg" => Func::Cot,
        "arcsin" | "asin" => Func::Asin,
        "arccos" | "acos" => Func::Acos,
        "arctan" | "atan" => Func::Atan,
        "arccsc" | "acsc" => Func::Acsc,
        "arcsec" | "asec" => Func::Asec,
        "arccot" | "acot" => Func::Acot,
        "sinh" => Func::Sinh,
        "cosh" => Func::Cosh,
        "tanh" => Func::Tanh,
        "arsinh" | "arcsinh" | "asinh" => Func::Asinh,
        "arcosh" | "arccosh" | "acosh" => Func::Acosh,
        "artanh" | "arctanh" | "atanh" => Func::Atanh,
        "exp" => Func::Exp,
        "log" | "ln" | "lg" => Func::Log,
        "floor" => Func::Floor,
        "ceil" => Func::Ceil,
        "abs" => Func::Abs,
        _ => return None,
    })
}

fn multi_arg_func(name: &str) -> Option<Func> {
    Some(match name {
        "gcd" => Func::Gcd,
        "lcm" => Func::Lcm,
        "max" => Func::Max,
        "min" => Func::Min,
        _ => return None,
    })
}

fn is_func_start(t: &Tok) -> bool {
    match t {
        Tok::Cmd(n) => {
            single_arg_func(n).is_some()
                || multi_arg_func(n).is_some()
                || matches!(n.as_str(), "sqrt" | "int" | "sum" | "prod" | "lim" | "det")
        }
        Tok::Text(cmd, _) => cmd == "operatorname",
        _ => false,
    }
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
    budget: &'a Budget,
}

/// Separators seen in a sequence.
#[derive(Clone, Copy, PartialEq)]
enum Sep {
    Comma,
    Semi,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn peek_at(&self, k: usize) -> Option<&Tok> {
        self.toks.get(self.pos + k)
    }

    fn next(&mut self) -> PResult<Tok> {
        let t = self.toks.get(self.pos).cloned().ok_or(ParseError::End)?;
        self.pos += 1;
        self.budget.spend(1)?;
        Ok(t)
    }

    fn eat_op(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Op(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_op(&mut self, c: char) -> PResult<()> {
        if self.eat_op(c) { Ok(()) } else { Err(self.unexpected()) }
    }

    fn eat_cmd(&mut self, name: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Cmd(n)) if n == name) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn unexpected(&self) -> ParseError {
        match self.peek() {
            Some(t) => ParseError::Unexpected(format!("{t:?}")),
            None => ParseError::End,
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError::TooDeep);
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    // --- sequences and relations ------------------------------------------------------------

    fn top(&mut self) -> PResult<Math> {
        let (items, seps) = self.sequence()?;
        let mut items = group_mixed(items, &seps, false)?;
        if items.len() == 1 {
            return Ok(items.remove(0));
        }
        Ok(Math::Vector(items))
    }

    /// Items separated by `,`, `;`, `and`, `or`, up to a closer or the end.
    fn sequence(&mut self) -> PResult<(Vec<Math>, Vec<Sep>)> {
        let mut items = vec![self.item()?];
        let mut seps = Vec::new();
        loop {
            match self.peek() {
                Some(Tok::Op(',')) | Some(Tok::Word) => seps.push(Sep::Comma),
                Some(Tok::Op(';')) => seps.push(Sep::Semi),
                _ => break,
            }
            self.pos += 1;
            items.push(self.item()?);
        }
        Ok((items, seps))
    }

    fn item(&mut self) -> PResult<Math> {
        let first = self.set_expr()?;
        let mut ops = Vec::new();
        let mut rest = Vec::new();
        while let Some(op) = self.relop() {
            if ops.len() >= MAX_DEPTH {
                return Err(ParseError::TooDeep);
            }
            ops.push(op);
            rest.push(self.set_expr()?);
        }
        if ops.is_empty() {
            return item_to_math(first);
        }
        // `a = b = c` is latex2sympy's left-nested `Eq(Eq(a, b), c)`.
        if ops.iter().all(Option::is_some)
            && let Item::Scalar(a) = &first
        {
            let mut lhs = a.clone();
            let mut scalars = rest.iter().map(|r| match r {
                Item::Scalar(n) => Some(n.clone()),
                _ => None,
            });
            let mut last = None;
            let mut ok = true;
            for op in ops.iter().flatten() {
                let Some(Some(rhs)) = scalars.next() else {
                    ok = false;
                    break;
                };
                if let Some((prev_op, prev_rhs)) = last.take() {
                    lhs = Node::Relation(prev_op, Box::new(lhs), Box::new(prev_rhs));
                }
                last = Some((*op, rhs));
            }
            if let (true, Some((op, rhs))) = (ok, last) {
                return Ok(Math::Rel(op, lhs, rhs));
            }
        }
        // Chains (`1 < x < 3`), membership and relations between containers: opaque.
        let mut text = describe(&first);
        for (op, r) in ops.iter().zip(&rest) {
            text.push_str(&format!(" {} {}", op.map_or("rel", RelOp::symbol), describe(r)));
        }
        Ok(Math::Opaque(text))
    }

    /// A relation operator; `None` inside means a non-comparison relation (`\in`, `\subseteq`).
    fn relop(&mut self) -> Option<Option<RelOp>> {
        let op = match self.peek()? {
            Tok::Op('=') => {
                self.pos += 1;
                self.eat_op('=');
                return Some(Some(RelOp::Eq));
            }
            Tok::Op('<') => {
                self.pos += 1;
                return Some(Some(if self.eat_op('=') { RelOp::Le } else { RelOp::Lt }));
            }
            Tok::Op('>') => {
                self.pos += 1;
                return Some(Some(if self.eat_op('=') { RelOp::Ge } else { RelOp::Gt }));
            }
            Tok::Op('!') if self.peek_at(1) == Some(&Tok::Op('=')) => {
                self.pos += 2;
                self.eat_op('=');
                return Some(Some(RelOp::Ne));
            }
            Tok::Cmd(n) => match n.as_str() {
                "le" => Some(RelOp::Le),
                "ge" => Some(RelOp::Ge),
                "ne" => Some(RelOp::Ne),
                "in" | "notin" | "subset" | "subseteq" | "supset" | "supseteq" => None,
                _ => return None,
            },
            _ => return None,
        };
        self.pos += 1;
        Some(op)
    }

    fn set_expr(&mut self) -> PResult<Item> {
        let mut a = self.additive(false)?;
        loop {
            let name = match self.peek() {
                Some(Tok::Cmd(n)) if matches!(n.as_str(), "cup" | "cap" | "setminus") => n.clone(),
                _ => break,
            };
            self.pos += 1;
            let b = self.additive(false)?;
            a = Item::Value(Math::Opaque(format!("{}({}, {})", name, describe(&a), describe(&b))));
        }
        Ok(a)
    }

    // --- arithmetic -------------------------------------------------------------------------

    fn additive(&mut self, nofunc: bool) -> PResult<Item> {
        self.enter()?;
        let r = self.additive_inner(nofunc);
        self.leave();
        r
    }

    fn additive_inner(&mut self, nofunc: bool) -> PResult<Item> {
        let mut acc = self.mp(nofunc)?;
        let mut nested = 0usize;
        loop {
            let op = match self.peek() {
                Some(Tok::Op('+')) => '+',
                Some(Tok::Op('-')) => '-',
                Some(Tok::Cmd(n)) if n == "pm" || n == "mp" => '±',
                _ => break,
            };
            self.pos += 1;
            if op == '±' {
                nested += 1;
                if nested > MAX_DEPTH {
                    return Err(ParseError::TooDeep);
                }
            }
            let rhs = scalar(self.mp(nofunc)?)?;
            let lhs = scalar(acc)?;
            acc = Item::Scalar(match op {
                '+' => Node::add2(lhs, rhs),
                '-' => Node::sub2(lhs, rhs),
                _ => Node::PlusMinus(Box::new(lhs), Box::new(rhs)),
            });
        }
        Ok(acc)
    }

    fn mp(&mut self, nofunc: bool) -> PResult<Item> {
        let mut acc = self.unary(nofunc)?;
        let mut nested = 0usize;
        loop {
            let op = match self.peek() {
                Some(Tok::Op('*')) => '*',
                Some(Tok::Op('/')) | Some(Tok::Op(':')) => '/',
                Some(Tok::Cmd(n)) if n == "times" || n == "cdot" => '*',
                Some(Tok::Cmd(n)) if n == "mod" => '%',
                _ => break,
            };
            self.pos += 1;
            let rhs = scalar(self.unary(nofunc)?)?;
            let lhs = scalar(acc)?;
            acc = Item::Scalar(match op {
                '*' => Node::mul2(lhs, rhs),
                '/' => Node::mul2(lhs, Node::recip(rhs)),
                _ => {
                    nested += 1;
                    if nested > MAX_DEPTH {
                        return Err(ParseError::TooDeep);
                    }
                    Node::Func(Func::Mod, vec![lhs, rhs])
                }
            });
        }
        Ok(acc)
    }

    fn unary(&mut self, nofunc: bool) -> PResult<Item> {
        match self.peek() {
            Some(Tok::Op('+')) => {
                self.pos += 1;
                self.enter()?;
                let r = self.unary(nofunc);
                self.leave();
                r
            }
            Some(Tok::Op('-')) => {
                self.pos += 1;
                self.enter()?;
                let r = self.unary(nofunc);
                self.leave();
                Ok(Item::Scalar(Node::negate(scalar(r?)?)))
            }
            Some(Tok::Cmd(n)) if n == "pm" || n == "mp" => {
                self.pos += 1;
                self.enter()?;
                let r = self.unary(nofunc);
                self.leave();
                Ok(Item::Scalar(Node::PlusMinus(Box::new(Node::Num(0.0)), Box::new(scalar(r?)?))))
            }
            _ => self.implicit_product(nofunc),
        }
    }

    /// Juxtaposed factors (`2x\sin y`); a derivative operator takes all that follow.
    fn implicit_product(&mut self, nofunc: bool) -> PResult<Item> {
        let mut factors = vec![self.postfix(true)?];
        while let Some(t) = self.peek() {
            if !starts_operand(t) || matches!(t, Tok::Op('-' | '+')) || (nofunc && is_func_start(t)) {
                break;
            }
            if let Tok::Cmd(n) = t
                && is_symbol_cmd(n)
                && is_closer_cmd(n)
            {
                break;
            }
            factors.push(self.postfix(!nofunc)?);
        }
        build_product(factors)
    }

    fn postfix(&mut self, allow_func: bool) -> PResult<Item> {
        let mut base = self.exp(allow_func)?;
        let mut nested = 0usize;
        loop {
            match self.peek() {
                Some(Tok::Op('!')) if self.peek_at(1) != Some(&Tok::Op('=')) => {
                    self.pos += 1;
                    nested += 1;
                    if nested > MAX_DEPTH {
                        return Err(ParseError::TooDeep);
                    }
                    base = Item::Scalar(Node::Func(Func::Factorial, vec![scalar(base)?]));
                }
                Some(Tok::Op('\'')) => {
                    self.pos += 1;
                    base = match base {
                        Item::Scalar(Node::Sym(s)) => Item::Scalar(Node::Sym(format!("{s}'"))),
                        other => other,
                    };
                }
                _ => break,
            }
        }
        Ok(base)
    }

    fn exp(&mut self, allow_func: bool) -> PResult<Item> {
        let mut base = self.comp(allow_func)?;
        let mut nested = 0usize;
        while self.peek() == Some(&Tok::Op('^')) {
            self.pos += 1;
            nested += 1;
            if nested > MAX_DEPTH {
                return Err(ParseError::TooDeep);
            }
            if self.transpose_mark() {
                continue;
            }
            let e = self.superscript()?;
            base = Item::Scalar(Node::pow(scalar(base)?, e));
            // latex2sympy allows (and ignores) a subscript after a power.
            if self.peek() == Some(&Tok::Op('_')) {
                self.pos += 1;
                let _ = self.subscript_text()?;
            }
        }
        Ok(base)
    }

    /// `^T`, `^{T}`, `^\top`: transposition, the identity on scalars.
    fn transpose_mark(&mut self) -> bool {
        match (self.peek(), self.peek_at(1), self.peek_at(2)) {
            (Some(Tok::Letter('T')), next, _) if !matches!(next, Some(Tok::Op('_'))) => {
                self.pos += 1;
                true
            }
            (Some(Tok::Cmd(n)), _, _) if n == "top" => {
                self.pos += 1;
                true
            }
            (Some(Tok::Op('{')), Some(Tok::Letter('T')), Some(Tok::Op('}'))) => {
                self.pos += 3;
                true
            }
            _ => false,
        }
    }

    /// The argument of `^`: a braced expression or a single atom.
    fn superscript(&mut self) -> PResult<Node> {
        self.enter()?;
        let r = self.superscript_inner();
        self.leave();
        r
    }

    fn superscript_inner(&mut self) -> PResult<Node> {
        match self.peek() {
            Some(Tok::Op('{')) => {
                self.pos += 1;
                let e = scalar(self.additive(false)?)?;
                self.expect_op('}')?;
                Ok(e)
            }
            Some(Tok::Op('-')) => {
                self.pos += 1;
                Ok(Node::negate(self.superscript()?))
            }
            Some(Tok::Op('+')) => {
                self.pos += 1;
                self.superscript()
            }
            Some(Tok::Num(_)) => self.number(),
            Some(Tok::Letter(_)) | Some(Tok::Cmd(_)) | Some(Tok::Text(..)) | Some(Tok::Differential(_)) => {
                let t = self.peek().cloned();
                if let Some(Tok::Cmd(n)) = &t {
                    if n == "frac" {
                        return scalar(self.comp(false)?);
                    }
                    if !is_symbol_cmd(n) {
                        return Err(self.unexpected());
                    }
                }
                self.atom_no_script()
            }
            _ => Err(self.unexpected()),
        }
    }

    /// A single letter, symbol command or text atom, without sub/superscripts.
    fn atom_no_script(&mut self) -> PResult<Node> {
        match self.next()? {
            Tok::Letter('e') => Ok(Node::Const(Constant::E)),
            Tok::Letter('I') => Ok(Node::Const(Constant::I)),
            Tok::Letter(c) => Ok(Node::Sym(c.to_string())),
            Tok::Differential(v) => Ok(Node::Sym(format!("d{v}"))),
            Tok::Cmd(n) => symbol_cmd_node(&n).ok_or(ParseError::Unexpected(n)),
            Tok::Text(cmd, content) => Ok(Node::Sym(text_symbol(&cmd, &content))),
            t => Err(ParseError::Unexpected(format!("{t:?}"))),
        }
    }

    fn number(&mut self) -> PResult<Node> {
        match self.next()? {
            Tok::Num(s) => {
                let v: f64 = s.replace(',', "").parse().map_err(|_| ParseError::Invalid("bad number"))?;
                let mut node = Node::Num(v);
                if self.peek() == Some(&Tok::Percent) {
                    self.pos += 1;
                    node = Node::Num(v / 100.0);
                }
                Ok(node)
            }
            t => Err(ParseError::Unexpected(format!("{t:?}"))),
        }
    }

    /// One digit of a number token (`\frac12`, `\sqrt3`), leaving the rest in place.
    fn single_digit(&mut self) -> Option<Node> {
        let Some(Tok::Num(s)) = self.peek().cloned() else {
            return None;
        };
        let mut chars = s.chars();
        let d = chars.next()?.to_digit(10)?;
        let rest: String = chars.collect();
        if rest.is_empty() {
            self.pos += 1;
        } else if rest.starts_with(['.', 'e', ',']) {
            // "\frac1.5" is not a digit argument.
            return None;
        } else {
            self.toks[self.pos] = Tok::Num(rest);
        }
        Some(Node::Num(f64::from(d)))
    }

    /// A `{...}` group or a single-token argument (`\frac12`, `\frac ab`, `\sqrt x`).
    fn braced_or_single(&mut self) -> PResult<Node> {
        if self.eat_op('{') {
            let e = scalar(self.additive(false)?)?;
            self.expect_op('}')?;
            return Ok(e);
        }
        if let Some(d) = self.single_digit() {
            return Ok(d);
        }
        match self.peek() {
            Some(Tok::Letter(_)) | Some(Tok::Differential(_)) => self.atom_no_script(),
            Some(Tok::Cmd(n)) if is_symbol_cmd(n) => self.atom_no_script(),
            _ => Err(self.unexpected()),
        }
    }

    fn subscript_text(&mut self) -> PResult<String> {
        if self.eat_op('{') {
            let start = self.pos;
            let mut depth = 1;
            while depth > 0 {
                match self.next()? {
                    Tok::Op('{') | Tok::LSet => depth += 1,
                    Tok::Op('}') | Tok::RSet => depth -= 1,
                    _ => {}
                }
            }
            let inner = &self.toks[start..self.pos - 1];
            if inner.is_empty() {
                return Err(ParseError::Invalid("empty subscript"));
            }
            return Ok(inner.iter().map(tok_text).collect());
        }
        match self.next()? {
            Tok::Num(s) => {
                // `x_12` is `x_1` times 2 in latex2sympy; keep the first digit only.
                let mut cs = s.chars();
                let first = cs.next().ok_or(ParseError::End)?;
                let rest: String = cs.collect();
                if !rest.is_empty() {
                    self.pos -= 1;
                    self.toks[self.pos] = Tok::Num(rest);
                }
                Ok(first.to_string())
            }
            t @ (Tok::Letter(_) | Tok::Cmd(_) | Tok::Text(..) | Tok::Differential(_)) => Ok(tok_text(&t)),
            t => Err(ParseError::Unexpected(format!("{t:?}"))),
        }
    }

    // --- primaries ---------------------------------------------------------------------------

    fn comp(&mut self, allow_func: bool) -> PResult<Item> {
        self.enter()?;
        let r = self.comp_inner(allow_func);
        self.leave();
        r
    }

    fn comp_inner(&mut self, allow_func: bool) -> PResult<Item> {
        let t = self.peek().cloned().ok_or(ParseError::End)?;
        if !allow_func && is_func_start(&t) {
            return Err(self.unexpected());
        }
        match t {
            Tok::Num(_) => Ok(Item::Scalar(self.number()?)),
            Tok::Letter(c) => self.letter(c),
            Tok::Differential(v) => {
                self.pos += 1;
                Ok(Item::Scalar(Node::Sym(format!("d{v}"))))
            }
            Tok::Op('(') => self.bracketed('(', ')'),
            Tok::Op('[') => self.bracketed('[', ']'),
            Tok::Op('{') => self.brace_group(),
            Tok::LSet => self.set_braces(),
            Tok::AbsOpen => {
                self.pos += 1;
                let e = scalar(self.additive(false)?)?;
                if self.next()? != Tok::AbsClose {
                    return Err(ParseError::Bars);
                }
                Ok(Item::Scalar(Node::Func(Func::Abs, vec![e])))
            }
            Tok::Begin(env) => {
                self.pos += 1;
                self.environment(&env)
            }
            Tok::Text(cmd, content) => {
                self.pos += 1;
                self.text_atom(&cmd, &content)
            }
            Tok::Cmd(name) => {
                self.pos += 1;
                self.command(&name)
            }
            _ => Err(self.unexpected()),
        }
    }

    fn letter(&mut self, c: char) -> PResult<Item> {
        self.pos += 1;
        if c == 'e' {
            // Euler's number; `e^x` is exp(x) either way.
            return Ok(Item::Scalar(Node::Const(Constant::E)));
        }
        if c == 'I' {
            return Ok(Item::Scalar(Node::Const(Constant::I)));
        }
        if c == 'E' {
            // latex2sympy reserves `E` for e-notation (`2.5E2`); alone it is a syntax error.
            return Err(ParseError::Unexpected("E".into()));
        }
        self.scripted_symbol(c.to_string())
    }

    /// A symbol with optional subscript / superscript, or an undefined function `f(x)`.
    fn scripted_symbol(&mut self, name: String) -> PResult<Item> {
        let mut name = name;
        let mut sup = None;
        for _ in 0..2 {
            match self.peek() {
                Some(Tok::Op('_')) if !name.contains('_') => {
                    self.pos += 1;
                    let s = self.subscript_text()?;
                    name =
                        if s.chars().count() > 1 { format!("{name}_{{{s}}}") } else { format!("{name}_{s}") };
                }
                Some(Tok::Op('^')) if sup.is_none() => {
                    self.pos += 1;
                    if self.transpose_mark() {
                        continue;
                    }
                    sup = Some(self.superscript()?);
                }
                _ => break,
            }
        }
        if let Some(args) = self.function_args()? {
            let f = Node::Apply(name, args);
            return Ok(Item::Scalar(match sup {
                Some(e) => Node::pow(f, e),
                None => f,
            }));
        }
        let s = Node::Sym(name);
        Ok(Item::Scalar(match sup {
            Some(e) => Node::pow(s, e),
            None => s,
        }))
    }

    /// latex2sympy reads `f(x)` as a function call only when the parentheses hold a single atom
    /// or a comma list; `x(x+1)` is a product.
    fn function_args(&mut self) -> PResult<Option<Vec<Node>>> {
        if self.peek() != Some(&Tok::Op('(')) {
            return Ok(None);
        }
        let close = self.toks[self.pos..].iter().position(|t| *t == Tok::Op(')'));
        let Some(close) = close.map(|k| self.pos + k) else {
            return Ok(None);
        };
        let inner = &self.toks[self.pos + 1..close];
        let single_atom = match inner {
            [Tok::Letter(c)] => *c != 'e',
            [Tok::Num(_)] => true,
            [Tok::Cmd(n)] => is_symbol_cmd(n),
            [Tok::Letter(_), Tok::Op('_'), _] => true,
            _ => false,
        };
        let has_comma = inner.contains(&Tok::Op(','))
            && !inner.iter().any(|t| matches!(t, Tok::Op('(' | '[' | '{') | Tok::LSet | Tok::Begin(_)));
        if !single_atom && !has_comma {
            return Ok(None);
        }
        let save = self.pos;
        self.pos += 1;
        let mut args = Vec::new();
        loop {
            match self.additive(false).and_then(scalar) {
                Ok(a) => args.push(a),
                Err(_) => {
                    self.pos = save;
                    return Ok(None);
                }
            }
            if self.eat_op(',') {
                continue;
            }
            if self.eat_op(')') {
                return Ok(Some(args));
            }
            self.pos = save;
            return Ok(None);
        }
    }

    fn text_atom(&mut self, cmd: &str, content: &str) -> PResult<Item> {
        match cmd {
            "operatorname" => {
                let name = content.trim();
                if let Some(f) = single_arg_func(name) {
                    return self.function(f, name);
                }
                if let Some(f) = multi_arg_func(name) {
                    return self.multi_function(f);
                }
                if let Some(args) = self.function_args()? {
                    return Ok(Item::Scalar(Node::Apply(name.to_string(), args)));
                }
                Ok(Item::Scalar(Node::Sym(name.to_string())))
            }
            "mathbb" => Ok(Item::Value(Math::Opaque(
                match content.trim() {
                    "R" => "Reals",
                    "N" => "Naturals",
                    "Z" => "Integers",
                    "Q" => "Rationals",
                    "C" => "Complexes",
                    _ => "Set",
                }
                .to_string(),
            ))),
            "variable" => {
                let name = content.trim();
                let v = match name.parse::<f64>() {
                    Ok(x) => Item::Scalar(Node::Num(x)),
                    Err(_) => self.scripted_symbol(name.to_string())?,
                };
                if self.peek() == Some(&Tok::Percent) {
                    self.pos += 1;
                    return Ok(Item::Scalar(Node::Mul(vec![scalar(v)?, Node::Num(0.01)])));
                }
                Ok(v)
            }
            _ => {
                // latex2sympy parses an accent's argument as an expression (`\text{E}` fails).
                if self.depth + 1 > MAX_DEPTH {
                    return Err(ParseError::TooDeep);
                }
                if !matches!(parse_at_depth(content, self.budget, self.depth + 1)?, Math::Expr(_)) {
                    return Err(ParseError::Invalid("text that is not an expression"));
                }
                self.scripted_symbol(text_symbol(cmd, content))
            }
        }
    }

    fn command(&mut self, name: &str) -> PResult<Item> {
        if let Some(f) = single_arg_func(name) {
            return self.function(f, name);
        }
        if let Some(f) = multi_arg_func(name) {
            return self.multi_function(f);
        }
        match name {
            "pi" => Ok(Item::Scalar(Node::Const(Constant::Pi))),
            "exponentialE" => Ok(Item::Scalar(Node::Const(Constant::E))),
            "infty" => {
                if self.peek() == Some(&Tok::Percent) {
                    self.pos += 1;
                }
                Ok(Item::Scalar(Node::Const(Constant::Infinity)))
            }
            "emptyset" => Ok(Item::Value(Math::Opaque("EmptySet".into()))),
            "frac" => self.fraction(),
            "binom" => {
                let n = self.braced_or_single()?;
                let k = self.braced_or_single()?;
                Ok(Item::Scalar(Node::Func(Func::Binomial, vec![n, k])))
            }
            "sqrt" => self.square_root(),
            "lfloor" | "llcorner" => {
                self.delimited(Func::Floor, if name == "lfloor" { "rfloor" } else { "lrcorner" })
            }
            "lceil" | "ulcorner" => {
                self.delimited(Func::Ceil, if name == "lceil" { "rceil" } else { "urcorner" })
            }
            "int" => self.integral(),
            "sum" | "prod" => self.sum(name == "prod"),
            "lim" => self.limit(),
            "det" => {
                let arg = scalar(self.function_argument()?)?;
                Ok(Item::Scalar(match arg {
                    Node::Matrix(rows) => Node::Det(rows),
                    other => other,
                }))
            }
            n if GREEK.contains(&n) => {
                self.scripted_symbol(if n == "pi_var" { "varpi".into() } else { n.into() })
            }
            n if OTHER_SYMBOLS.contains(&n) => self.scripted_symbol(format!("\\{n}")),
            "partial" => Ok(Item::Scalar(Node::Sym("partial".into()))),
            _ => Err(ParseError::Unexpected(format!("\\{name}"))),
        }
    }

    fn delimited(&mut self, f: Func, close: &str) -> PResult<Item> {
        let e = scalar(self.additive(false)?)?;
        if !self.eat_cmd(close) {
            return Err(self.unexpected());
        }
        Ok(Item::Scalar(Node::Func(f, vec![e])))
    }

    fn fraction(&mut self) -> PResult<Item> {
        let num = self.braced_or_single()?;
        let den = self.braced_or_single()?;
        // d/dx, d f/dx and ∂/∂x.
        if let Some(var) = differential_var(&den) {
            match &num {
                Node::Sym(s) if s == "d" || s == "partial" => return Ok(Item::Deriv(var)),
                Node::Sym(s) if s.len() > 1 && s.starts_with('d') => {
                    return Ok(Item::Scalar(Node::Derivative {
                        body: Box::new(Node::Sym(s[1..].to_string())),
                        var,
                    }));
                }
                Node::Mul(xs) => {
                    if let Some(Node::Sym(s)) = xs.first() {
                        let mut rest: Vec<Node> = xs[1..].to_vec();
                        if s == "d" || s == "partial" || (s.len() > 1 && s.starts_with('d')) {
                            if s.len() > 1 && s != "partial" {
                                rest.insert(0, Node::Sym(s[1..].to_string()));
                            }
                            if !rest.is_empty() {
                                let body = if rest.len() == 1 { rest.remove(0) } else { Node::Mul(rest) };
                                return Ok(Item::Scalar(Node::Derivative { body: Box::new(body), var }));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(Item::Scalar(Node::Mul(vec![num, Node::recip(den)])))
    }

    fn square_root(&mut self) -> PResult<Item> {
        let mut index = None;
        if self.eat_op('[') {
            index = Some(scalar(self.additive(false)?)?);
            self.expect_op(']')?;
        }
        let radicand = self.braced_or_single()?;
        let exponent = match index {
            Some(n) => Node::recip(n),
            None => Node::Num(0.5),
        };
        Ok(Item::Scalar(Node::pow(radicand, exponent)))
    }

    /// Sub/superscripts of a function name: `\log_2`, `\sin^2`, `\sin^{-1}`.
    fn function_scripts(&mut self) -> PResult<(Option<Node>, Option<Node>)> {
        let (mut sub, mut sup) = (None, None);
        for _ in 0..2 {
            if sub.is_none() && self.eat_op('_') {
                sub = Some(self.superscript()?);
            } else if sup.is_none() && self.eat_op('^') {
                sup = Some(self.superscript()?);
            }
        }
        Ok((sub, sup))
    }

    /// The argument of a one-argument function: `(expr)` or a multiplicative run without
    /// further functions (latex2sympy's `func_single_arg_noparens`).
    fn function_argument(&mut self) -> PResult<Item> {
        if self.peek() == Some(&Tok::Op('(')) {
            self.pos += 1;
            let e = self.additive(false)?;
            self.expect_op(')')?;
            return Ok(e);
        }
        match self.peek() {
            None | Some(Tok::Op(')' | ']' | '}' | ',' | '=' | '+' | '^' | '_')) => Err(self.unexpected()),
            _ => {
                self.enter()?;
                let r = self.mp(true);
                self.leave();
                r
            }
        }
    }

    fn function(&mut self, f: Func, name: &str) -> PResult<Item> {
        let (sub, sup) = self.function_scripts()?;
        let arg = scalar(self.function_argument()?)?;
        if self.peek() == Some(&Tok::Op(',')) && matches!(f, Func::Floor | Func::Ceil) {
            return Err(ParseError::Invalid("one-argument function given several"));
        }
        let mut node = match f {
            Func::Log => {
                let base = match (name, sub) {
                    (_, Some(b)) => b,
                    ("ln", None) => Node::Const(Constant::E),
                    (_, None) => Node::Num(10.0),
                };
                Node::Func(Func::Log, vec![arg, base])
            }
            f => Node::Func(f, vec![arg]),
        };
        if let Some(p) = sup {
            let inverse = matches!(p, Node::Num(v) if v == -1.0);
            match (inverse, f.inverse()) {
                (true, Some(inv)) => {
                    if let Node::Func(_, args) = node {
                        node = Node::Func(inv, args);
                    }
                }
                _ => node = Node::pow(node, p),
            }
        }
        Ok(Item::Scalar(node))
    }

    fn multi_function(&mut self, f: Func) -> PResult<Item> {
        let (_, sup) = self.function_scripts()?;
        self.expect_op('(')?;
        // latex2sympy splits the argument text on commas, so `\gcd(830,450)` has two arguments
        // even though `830,450` would read as one number.
        let mut k = self.pos;
        let mut depth = 0usize;
        while let Some(t) = self.toks.get(k).cloned() {
            match t {
                Tok::Op('(') => depth += 1,
                Tok::Op(')') if depth == 0 => break,
                Tok::Op(')') => depth -= 1,
                Tok::Num(s) if s.contains(',') => {
                    let mut parts = Vec::new();
                    for (j, piece) in s.split(',').enumerate() {
                        if j > 0 {
                            parts.push(Tok::Op(','));
                        }
                        parts.push(Tok::Num(piece.to_string()));
                    }
                    let n = parts.len();
                    self.toks.splice(k..=k, parts);
                    k += n;
                    continue;
                }
                _ => {}
            }
            k += 1;
        }
        let mut args = vec![scalar(self.additive(false)?)?];
        while self.eat_op(',') {
            args.push(scalar(self.additive(false)?)?);
        }
        self.expect_op(')')?;
        let node = Node::Func(f, args);
        Ok(Item::Scalar(match sup {
            Some(p) => Node::pow(node, p),
            None => node,
        }))
    }

    fn bounds(&mut self) -> PResult<(Option<Node>, Option<Node>)> {
        let (mut lo, mut hi) = (None, None);
        for _ in 0..2 {
            if self.eat_op('_') {
                lo = self.bound()?;
            } else if self.eat_op('^') {
                hi = self.bound()?;
            }
        }
        Ok((lo, hi))
    }

    /// A bound of `\int`: `{}` (absent), `{expr}` or an atom.
    fn bound(&mut self) -> PResult<Option<Node>> {
        if self.peek() == Some(&Tok::Op('{')) && self.peek_at(1) == Some(&Tok::Op('}')) {
            self.pos += 2;
            return Ok(None);
        }
        Ok(Some(self.superscript()?))
    }

    fn integral(&mut self) -> PResult<Item> {
        let (lo, hi) = self.bounds()?;
        let integrand = scalar(self.additive(false)?)?;
        let mut var = None;
        let mut syms = std::collections::BTreeSet::new();
        integrand.free_symbols(&mut syms);
        for s in &syms {
            if s.len() > 1 && s.starts_with('d') && s != "delta" {
                var = Some(s.clone());
            }
        }
        let (body, var) = match var {
            Some(d) => (integrand.substitute(&d, &Node::Num(1.0)), d[1..].to_string()),
            None => (integrand, "x".to_string()),
        };
        let bounds = match (lo, hi) {
            (Some(l), Some(h)) => Some((Box::new(l), Box::new(h))),
            _ => None,
        };
        Ok(Item::Scalar(Node::Integral { body: Box::new(body), var, bounds }))
    }

    fn sum(&mut self, product: bool) -> PResult<Item> {
        let (mut var, mut lo, mut hi) = (None, None, None);
        for _ in 0..2 {
            if self.eat_op('_') {
                self.expect_op('{')?;
                let v = scalar(self.additive(false)?)?;
                self.expect_op('=')?;
                let l = scalar(self.additive(false)?)?;
                self.expect_op('}')?;
                match v {
                    Node::Sym(s) => var = Some(s),
                    _ => return Err(ParseError::Invalid("sum index must be a symbol")),
                }
                lo = Some(l);
            } else if self.eat_op('^') {
                hi = Some(self.superscript()?);
            }
        }
        let (Some(var), Some(lo), Some(hi)) = (var, lo, hi) else {
            return Err(ParseError::Invalid("sum needs _{k=a}^{b}"));
        };
        self.enter()?;
        let body = self.mp(false);
        self.leave();
        let body = scalar(body?)?;
        Ok(Item::Scalar(Node::Sum { body: Box::new(body), var, lo: Box::new(lo), hi: Box::new(hi), product }))
    }

    fn limit(&mut self) -> PResult<Item> {
        self.expect_op('_')?;
        self.expect_op('{')?;
        let var = match self.next()? {
            Tok::Letter(c) if c != 'e' => c.to_string(),
            Tok::Cmd(n) if GREEK.contains(&n.as_str()) || OTHER_SYMBOLS.contains(&n.as_str()) => n,
            t => return Err(ParseError::Unexpected(format!("{t:?}"))),
        };
        if !self.eat_cmd("to") {
            return Err(self.unexpected());
        }
        // A one-sided limit ends in `^{+}` / `^{-}`: take it out before reading the target.
        let mut dir = 0;
        let mut k = self.pos;
        let mut depth = 0usize;
        while let Some(t) = self.toks.get(k) {
            match t {
                Tok::Op('{') | Tok::LSet => depth += 1,
                Tok::Op('}') | Tok::RSet if depth == 0 => break,
                Tok::Op('}') | Tok::RSet => depth -= 1,
                _ => {}
            }
            k += 1;
        }
        if k >= 4
            && self.toks[k - 4] == Tok::Op('^')
            && self.toks[k - 3] == Tok::Op('{')
            && self.toks[k - 1] == Tok::Op('}')
        {
            dir = match self.toks[k - 2] {
                Tok::Op('+') => 1,
                Tok::Op('-') => -1,
                _ => 0,
            };
            if dir != 0 {
                self.toks.drain(k - 4..k);
            }
        }
        let to = scalar(self.additive(false)?)?;
        self.expect_op('}')?;
        self.enter()?;
        let body = self.mp(false);
        self.leave();
        let body = scalar(body?)?;
        Ok(Item::Scalar(Node::Limit { body: Box::new(body), var, to: Box::new(to), dir }))
    }

    // --- brackets ----------------------------------------------------------------------------

    /// `( ... )`, `[ ... ]`, and the mixed `[a, b)` / `(a, b]` of intervals.
    fn bracketed(&mut self, open: char, close: char) -> PResult<Item> {
        self.pos += 1;
        self.enter()?;
        let seq = self.sequence();
        self.leave();
        let (items, seps) = seq?;
        let closer = match self.next()? {
            Tok::Op(c @ (')' | ']')) => c,
            t => return Err(ParseError::Unexpected(format!("{t:?}"))),
        };
        let mut items = group_mixed(items, &seps, true)?;
        if items.len() == 1 && closer == close {
            return Ok(math_to_item(items.remove(0)));
        }
        if items.len() == 2 && closer != close {
            let hi = math_scalar(items.pop())?;
            let lo = math_scalar(items.pop())?;
            return Ok(Item::Value(Math::Interval { lo, hi, lo_open: open == '(', hi_open: closer == ')' }));
        }
        if closer != close || items.len() < 2 {
            return Err(ParseError::Invalid("mismatched brackets"));
        }
        Ok(Item::Value(if open == '(' { Math::Tuple(items) } else { Math::Vector(items) }))
    }

    /// `{ ... }`: a group, `{n \choose k}`, or (with commas) a list.
    fn brace_group(&mut self) -> PResult<Item> {
        self.pos += 1;
        if self.eat_op('}') {
            return Err(ParseError::Invalid("empty group"));
        }
        self.enter()?;
        let seq = self.sequence();
        self.leave();
        let (items, seps) = seq?;
        if self.eat_cmd("choose") && items.len() == 1 {
            let n = math_scalar(items.into_iter().next())?;
            let k = scalar(self.additive(false)?)?;
            self.expect_op('}')?;
            return Ok(Item::Scalar(Node::Func(Func::Binomial, vec![n, k])));
        }
        self.expect_op('}')?;
        let mut items = group_mixed(items, &seps, true)?;
        if items.len() == 1 {
            return Ok(math_to_item(items.remove(0)));
        }
        Ok(Item::Value(Math::Vector(items)))
    }

    /// `\{ ... \}`: a group or a list; mixing `,` and `;` is rejected as latex2sympy does.
    fn set_braces(&mut self) -> PResult<Item> {
        self.pos += 1;
        if self.peek() == Some(&Tok::RSet) {
            self.pos += 1;
            return Ok(Item::Value(Math::Opaque("EmptySet".into())));
        }
        self.enter()?;
        let seq = self.sequence();
        self.leave();
        let (mut items, seps) = seq?;
        if self.next()? != Tok::RSet {
            return Err(ParseError::Invalid("unclosed \\{"));
        }
        if seps.windows(2).any(|w| w[0] != w[1]) {
            return Err(ParseError::Invalid("mixed separators"));
        }
        if items.len() == 1 {
            return Ok(math_to_item(items.remove(0)));
        }
        Ok(Item::Value(Math::Vector(items)))
    }

    fn environment(&mut self, env: &str) -> PResult<Item> {
        // latex2sympy's matrix environments; `array` and `cases` reach it only after the
        // normaliser has renamed them.
        if !matches!(env, "matrix" | "pmatrix" | "bmatrix" | "vmatrix") {
            return Err(ParseError::Unexpected(format!("\\begin{{{env}}}")));
        }
        let mut rows: Vec<Vec<Math>> = vec![Vec::new()];
        loop {
            match self.peek() {
                Some(Tok::End(e)) if e == env => {
                    self.pos += 1;
                    break;
                }
                None => return Err(ParseError::End),
                Some(Tok::RowSep) => {
                    self.pos += 1;
                    rows.push(Vec::new());
                }
                Some(Tok::Op('&')) => {
                    self.pos += 1;
                    if let Some(r) = rows.last_mut()
                        && r.is_empty()
                    {
                        return Err(ParseError::Invalid("empty matrix cell"));
                    }
                }
                _ => {
                    let cell = self.item()?;
                    if let Some(r) = rows.last_mut() {
                        r.push(cell);
                    }
                }
            }
        }
        if rows.last().is_some_and(Vec::is_empty) && rows.len() > 1 {
            rows.pop();
        }
        if rows.iter().any(Vec::is_empty) {
            return Err(ParseError::Invalid("empty matrix row"));
        }
        let all_scalar = rows.iter().flatten().all(|c| matches!(c, Math::Expr(_)));
        if !all_scalar {
            let text: Vec<String> = rows.iter().flatten().map(|c| c.to_string()).collect();
            return Ok(Item::Value(Math::Opaque(format!("{env}[{}]", text.join("; ")))));
        }
        let rows: Vec<Vec<Node>> = rows
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .filter_map(|c| match c {
                        Math::Expr(n) => Some(n),
                        _ => None,
                    })
                    .collect()
            })
            .collect();
        Ok(Item::Scalar(if env == "vmatrix" { Node::Det(rows) } else { Node::Matrix(rows) }))
    }
}

// ---------------------------------------------------------------------------------------------

fn differential_var(den: &Node) -> Option<String> {
    match den {
        Node::Sym(s) if s.len() > 1 && s.starts_with('d') => Some(s[1..].to_string()),
        Node::Mul(xs) if xs.len() == 2 && xs[0] == Node::Sym("partial".into()) => match &xs[1] {
            Node::Sym(v) => Some(v.clone()),
            _ => None,
        },
        _ => None,
    }
}

fn symbol_cmd_node(name: &str) -> Option<Node> {
    Some(match name {
        "pi" => Node::Const(Constant::Pi),
        "infty" => Node::Const(Constant::Infinity),
        "exponentialE" => Node::Const(Constant::E),
        "partial" => Node::Sym("partial".into()),
        n if GREEK.contains(&n) => Node::Sym(n.to_string()),
        n if OTHER_SYMBOLS.contains(&n) => Node::Sym(format!("\\{n}")),
        _ => return None,
    })
}

/// The symbol name latex2sympy gives a text-like command: `\overline{x}` → `xbar`,
/// `\mathit{ab}` → `ab`, `\text{odd}` → `\text{odd}`.
fn text_symbol(cmd: &str, content: &str) -> String {
    let base: String = content.chars().filter(|c| !c.is_whitespace()).collect();
    match cmd {
        "bar" | "overline" => format!("{base}bar"),
        "vec" | "overrightarrow" => format!("{base}vec"),
        "tilde" | "widetilde" => format!("{base}tilde"),
        "mathit" | "variable" => base,
        "char" => format!("char{base}"),
        // ANTLR's getText() drops the whitespace the lexer skipped.
        _ => format!("\\{cmd}{{{base}}}"),
    }
}

fn tok_text(t: &Tok) -> String {
    match t {
        Tok::Num(s) => s.clone(),
        Tok::Letter(c) => c.to_string(),
        Tok::Differential(v) => format!("d{v}"),
        Tok::Cmd(n) => n.clone(),
        Tok::Text(c, s) => format!("\\{c}{{{s}}}"),
        Tok::Op(c) => c.to_string(),
        _ => String::new(),
    }
}

fn describe(i: &Item) -> String {
    match i {
        Item::Scalar(n) => n.to_string(),
        Item::Value(m) => m.to_string(),
        Item::Deriv(v) => format!("d/d{v}"),
    }
}

fn scalar(i: Item) -> PResult<Node> {
    match i {
        Item::Scalar(n) => Ok(n),
        Item::Value(_) => Err(ParseError::Invalid("a container where a scalar is needed")),
        Item::Deriv(_) => Err(ParseError::Invalid("d/dx without an operand")),
    }
}

fn math_scalar(m: Option<Math>) -> PResult<Node> {
    match m {
        Some(Math::Expr(n)) => Ok(n),
        _ => Err(ParseError::Invalid("a container where a scalar is needed")),
    }
}

fn item_to_math(i: Item) -> PResult<Math> {
    match i {
        Item::Scalar(Node::Matrix(rows)) => Ok(Math::Matrix(rows)),
        Item::Scalar(n) => Ok(Math::Expr(n)),
        Item::Value(m) => Ok(m),
        Item::Deriv(_) => Err(ParseError::Invalid("d/dx without an operand")),
    }
}

fn math_to_item(m: Math) -> Item {
    match m {
        Math::Expr(n) => Item::Scalar(n),
        Math::Matrix(rows) => Item::Scalar(Node::Matrix(rows)),
        other => Item::Value(other),
    }
}

fn build_product(mut factors: Vec<Item>) -> PResult<Item> {
    if factors.len() == 1 {
        let f = factors.remove(0);
        return match f {
            Item::Deriv(_) => Err(ParseError::Invalid("d/dx without an operand")),
            other => Ok(other),
        };
    }
    // A derivative operator applies to the product of everything after it.
    if let Some(k) = factors.iter().position(|f| matches!(f, Item::Deriv(_))) {
        let rest = factors.split_off(k + 1);
        let Some(Item::Deriv(var)) = factors.pop() else {
            return Err(ParseError::Invalid("derivative"));
        };
        if rest.is_empty() {
            return Err(ParseError::Invalid("d/dx without an operand"));
        }
        let body = scalar(build_product(rest)?)?;
        factors.push(Item::Scalar(Node::Derivative { body: Box::new(body), var }));
        if factors.len() == 1 {
            return Ok(factors.remove(0));
        }
    }
    let mut nodes = Vec::with_capacity(factors.len());
    for f in factors {
        match scalar(f)? {
            Node::Mul(xs) => nodes.extend(xs),
            n => nodes.push(n),
        }
    }
    Ok(Item::Scalar(Node::Mul(nodes)))
}

/// `a, b; c, d` at top level (or in parentheses) is a list of pairs; elsewhere separators must
/// agree.
fn group_mixed(items: Vec<Math>, seps: &[Sep], bracketed: bool) -> PResult<Vec<Math>> {
    let mixed = seps.contains(&Sep::Comma) && seps.contains(&Sep::Semi);
    if !mixed {
        return Ok(items);
    }
    let mut groups: Vec<Vec<Math>> = vec![Vec::new()];
    for (k, item) in items.into_iter().enumerate() {
        if let Some(g) = groups.last_mut() {
            g.push(item);
        }
        if seps.get(k) == Some(&Sep::Semi) {
            groups.push(Vec::new());
        }
    }
    if bracketed {
        // `(1,1;2,2)`: one flat tuple.
        return Ok(groups.into_iter().flatten().collect());
    }
    Ok(groups
        .into_iter()
        .map(|g| {
            if g.len() == 1 {
                g.into_iter().next().unwrap_or(Math::Opaque(String::new()))
            } else {
                Math::Tuple(g)
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> PResult<Math> {
        parse_latex(s, &Budget::default())
    }

    #[test]
    fn reads_latex2sympy_shapes() {
        assert!(matches!(p(r"\frac12"), Ok(Math::Expr(_))));
        assert!(matches!(p(r"f(x) = 2x+3"), Ok(Math::Rel(RelOp::Eq, Node::Apply(..), _))));
        assert!(matches!(p(r"x(x+1)"), Ok(Math::Expr(Node::Mul(_)))));
        assert!(matches!(p(r"[1, 2, 3]"), Ok(Math::Vector(v)) if v.len() == 3));
        assert!(matches!(p(r"[1, 2)"), Ok(Math::Interval { .. })));
        assert!(matches!(p(r"\begin{pmatrix}1&2\\3&4\end{pmatrix}"), Ok(Math::Matrix(r)) if r.len() == 2));
        assert!(matches!(p(r"||x||y||"), Ok(Math::Expr(Node::Func(Func::Abs, _)))));
    }

    #[test]
    fn rejects_malformed_input() {
        for bad in ["(", r"\frac{d}{dx}", r"\sqrt", "||x|", r"\cos^2", "()", "-", r"\lfloor a \rceil", "&"] {
            assert!(p(bad).is_err(), "{bad} should not parse");
        }
    }
}
