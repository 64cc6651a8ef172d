//! Plain math (`x^2 + 2*x`, `sqrt(2)/2`, `[1, 2, 3]`, `{1, 2}`) read the way the reference's
//! third candidate, SymPy's `parse_expr` with implicit multiplication, application and symbol
//! splitting, reads it: Python precedence (`1/2x` is `x/2`), right-associative powers, unknown
//! names split into letters (`xy` is `x*y`), `e` a plain symbol, `{...}` an unordered set.
//! Strings with a backslash are never plain (Python would reject them).

use super::ast::{Constant, Func, Math, Node, RelOp};
use super::budget::{Budget, MAX_DEPTH};
use super::parse::ParseError;

#[derive(Debug, Clone, PartialEq)]
enum T {
    Num(f64),
    Name(String),
    Op(&'static str),
}

type PResult<T> = Result<T, ParseError>;

const OPS: &[&str] = &[
    "**", "<=", ">=", "==", "!=", "+", "-", "*", "/", "^", "(", ")", "[", "]", "{", "}", ",", "!", "<", ">",
    "=", "%",
];

fn tokenize(src: &str, budget: &Budget) -> PResult<Vec<T>> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut k = 0;
    while k < chars.len() {
        budget.spend(1)?;
        let c = chars[k];
        if c.is_whitespace() {
            k += 1;
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && chars.get(k + 1).is_some_and(char::is_ascii_digit)) {
            let start = k;
            while k < chars.len() && chars[k].is_ascii_digit() {
                k += 1;
            }
            if k < chars.len() && chars[k] == '.' {
                k += 1;
                while k < chars.len() && chars[k].is_ascii_digit() {
                    k += 1;
                }
            }
            if k < chars.len() && (chars[k] == 'e' || chars[k] == 'E') {
                let mut j = k + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    while j < chars.len() && chars[j].is_ascii_digit() {
                        j += 1;
                    }
                    k = j;
                }
            }
            let text: String = chars[start..k].iter().collect();
            let v: f64 = text.parse().map_err(|_| ParseError::Invalid("bad number"))?;
            out.push(T::Num(v));
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = k;
            while k < chars.len() && (chars[k].is_alphanumeric() || chars[k] == '_') {
                k += 1;
            }
            out.push(T::Name(chars[start..k].iter().collect()));
            continue;
        }
        let rest: String = chars[k..chars.len().min(k + 2)].iter().collect();
        let Some(op) = OPS.iter().find(|op| rest.starts_with(**op)) else {
            return Err(ParseError::Unexpected(c.to_string()));
        };
        k += op.chars().count();
        out.push(T::Op(if *op == "^" { "**" } else { op }));
    }
    Ok(out)
}

const PY_KEYWORDS: &[&str] = &[
    "and", "or", "not", "in", "is", "if", "else", "for", "while", "lambda", "def", "class", "return",
    "import", "from", "as", "with", "None", "True", "False", "pass", "del", "global", "yield", "try",
    "except", "raise",
];

const GREEK_NAMES: &[&str] = &[
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lamda", "mu",
    "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
];

fn function_named(name: &str) -> Option<Func> {
    Some(match name {
        "sin" => Func::Sin,
        "cos" => Func::Cos,
        "tan" => Func::Tan,
        "cot" => Func::Cot,
        "sec" => Func::Sec,
        "csc" => Func::Csc,
        "asin" => Func::Asin,
        "acos" => Func::Acos,
        "atan" => Func::Atan,
        "acot" => Func::Acot,
        "asec" => Func::Asec,
        "acsc" => Func::Acsc,
        "sinh" => Func::Sinh,
        "cosh" => Func::Cosh,
        "tanh" => Func::Tanh,
        "asinh" => Func::Asinh,
        "acosh" => Func::Acosh,
        "atanh" => Func::Atanh,
        "exp" => Func::Exp,
        "log" | "ln" => Func::Log,
        "Abs" | "abs" => Func::Abs,
        "floor" => Func::Floor,
        "ceiling" => Func::Ceil,
        "factorial" => Func::Factorial,
        "binomial" => Func::Binomial,
        "gcd" => Func::Gcd,
        "lcm" => Func::Lcm,
        "Max" => Func::Max,
        "Min" => Func::Min,
        "Mod" => Func::Mod,
        "re" => Func::Re,
        "im" => Func::Im,
        _ => return None,
    })
}

fn is_function_name(name: &str) -> bool {
    function_named(name).is_some() || name == "sqrt" || name == "root"
}

/// Parses plain math into a typed value.
pub fn parse_plain(src: &str, budget: &Budget) -> PResult<Math> {
    if src.contains('\\') {
        return Err(ParseError::Invalid("backslash in plain math"));
    }
    let toks = tokenize(src, budget)?;
    if toks.is_empty() {
        return Err(ParseError::End);
    }
    let mut p = Plain { toks, pos: 0, depth: 0, budget };
    let m = p.top()?;
    if p.pos < p.toks.len() {
        return Err(ParseError::Unexpected(format!("{:?}", p.toks[p.pos])));
    }
    Ok(m)
}

struct Plain<'a> {
    toks: Vec<T>,
    pos: usize,
    depth: usize,
    budget: &'a Budget,
}

impl Plain<'_> {
    fn peek(&self) -> Option<&T> {
        self.toks.get(self.pos)
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(T::Op(o)) if *o == op)
    }

    fn eat(&mut self, op: &str) -> bool {
        if self.is_op(op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, op: &str) -> PResult<()> {
        if self.eat(op) { Ok(()) } else { Err(self.unexpected()) }
    }

    fn unexpected(&self) -> ParseError {
        match self.peek() {
            Some(t) => ParseError::Unexpected(format!("{t:?}")),
            None => ParseError::End,
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        self.budget.spend(1)?;
        if self.depth > MAX_DEPTH { Err(ParseError::TooDeep) } else { Ok(()) }
    }

    fn top(&mut self) -> PResult<Math> {
        let first = self.comparison()?;
        if !self.is_op(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat(",") {
            if self.peek().is_none() {
                break;
            }
            items.push(self.comparison()?);
        }
        Ok(tuple_value(items))
    }

    fn comparison(&mut self) -> PResult<Math> {
        let lhs = self.arith()?;
        let op = match self.peek() {
            Some(T::Op("<")) => RelOp::Lt,
            Some(T::Op("<=")) => RelOp::Le,
            Some(T::Op(">")) => RelOp::Gt,
            Some(T::Op(">=")) => RelOp::Ge,
            Some(T::Op("=" | "==" | "!=")) => return Err(ParseError::Invalid("not a Python expression")),
            _ => return math_from(lhs),
        };
        self.pos += 1;
        let rhs = self.arith()?;
        if matches!(self.peek(), Some(T::Op("<" | "<=" | ">" | ">=" | "=" | "==" | "!="))) {
            return Err(ParseError::Invalid("chained comparison"));
        }
        Ok(Math::Rel(op, scalar(lhs)?, scalar(rhs)?))
    }

    fn arith(&mut self) -> PResult<Value> {
        let mut acc = self.term()?;
        loop {
            let minus = if self.eat("+") {
                false
            } else if self.eat("-") {
                true
            } else {
                break;
            };
            let rhs = scalar(self.term()?)?;
            let lhs = scalar(acc)?;
            acc = Value::Scalar(if minus { Node::sub2(lhs, rhs) } else { Node::add2(lhs, rhs) });
        }
        Ok(acc)
    }

    fn term(&mut self) -> PResult<Value> {
        let mut acc = self.unary()?;
        loop {
            let op = if self.eat("*") {
                '*'
            } else if self.eat("/") {
                '/'
            } else if self.eat("%") {
                '%'
            } else if self.starts_factor() {
                // Implicit multiplication, at the same precedence as `*` (Python's).
                '*'
            } else {
                break;
            };
            let rhs = scalar(self.unary()?)?;
            let lhs = scalar(acc)?;
            acc = Value::Scalar(match op {
                '*' => Node::mul2(lhs, rhs),
                '/' => Node::mul2(lhs, Node::recip(rhs)),
                _ => Node::Func(Func::Mod, vec![lhs, rhs]),
            });
        }
        Ok(acc)
    }

    fn starts_factor(&self) -> bool {
        match self.peek() {
            Some(T::Num(_)) | Some(T::Name(_)) => true,
            Some(T::Op(o)) => matches!(*o, "(" | "[" | "{"),
            None => false,
        }
    }

    fn unary(&mut self) -> PResult<Value> {
        if self.eat("-") {
            self.enter()?;
            let v = scalar(self.unary()?)?;
            self.depth -= 1;
            return Ok(Value::Scalar(Node::negate(v)));
        }
        if self.eat("+") {
            self.enter()?;
            let v = self.unary();
            self.depth -= 1;
            return v;
        }
        self.power()
    }

    fn power(&mut self) -> PResult<Value> {
        let base = self.postfix()?;
        if self.eat("**") {
            self.enter()?;
            let e = scalar(self.unary()?)?;
            self.depth -= 1;
            return Ok(Value::Scalar(Node::pow(scalar(base)?, e)));
        }
        Ok(base)
    }

    fn postfix(&mut self) -> PResult<Value> {
        let mut v = self.atom()?;
        let mut count = 0;
        while self.is_op("!") {
            self.pos += 1;
            count += 1;
            if count > MAX_DEPTH {
                return Err(ParseError::TooDeep);
            }
            v = Value::Scalar(Node::Func(Func::Factorial, vec![scalar(v)?]));
        }
        Ok(v)
    }

    fn atom(&mut self) -> PResult<Value> {
        self.enter()?;
        let r = self.atom_inner();
        self.depth -= 1;
        r
    }

    fn atom_inner(&mut self) -> PResult<Value> {
        let t = self.peek().cloned().ok_or(ParseError::End)?;
        self.pos += 1;
        match t {
            T::Num(v) => Ok(Value::Scalar(Node::Num(v))),
            T::Name(name) => self.name(name),
            T::Op("(") => {
                if self.eat(")") {
                    return Err(ParseError::Invalid("empty tuple"));
                }
                let first = self.comparison()?;
                if self.eat(")") {
                    return Ok(match first {
                        Math::Expr(n) => Value::Scalar(n),
                        other => Value::Container(other),
                    });
                }
                let mut items = vec![first];
                while self.eat(",") {
                    if self.is_op(")") {
                        break;
                    }
                    items.push(self.comparison()?);
                }
                self.expect(")")?;
                Ok(Value::Container(tuple_value(items)))
            }
            T::Op("[") => {
                let items = self.items("]")?;
                Ok(Value::Container(Math::Vector(items)))
            }
            T::Op("{") => {
                let items = self.items("}")?;
                if items.is_empty() {
                    return Err(ParseError::Invalid("a dict"));
                }
                Ok(Value::Container(Math::Set(dedup(items))))
            }
            other => Err(ParseError::Unexpected(format!("{other:?}"))),
        }
    }

    fn items(&mut self, close: &str) -> PResult<Vec<Math>> {
        let mut items = Vec::new();
        while !self.eat(close) {
            items.push(self.comparison()?);
            if !self.eat(",") {
                self.expect(close)?;
                break;
            }
        }
        Ok(items)
    }

    fn name(&mut self, name: String) -> PResult<Value> {
        if PY_KEYWORDS.contains(&name.as_str()) {
            return Err(ParseError::Invalid("Python keyword"));
        }
        match name.as_str() {
            "pi" => return Ok(Value::Scalar(Node::Const(Constant::Pi))),
            "E" => return Ok(Value::Scalar(Node::Const(Constant::E))),
            "I" => return Ok(Value::Scalar(Node::Const(Constant::I))),
            "oo" => return Ok(Value::Scalar(Node::Const(Constant::Infinity))),
            _ => {}
        }
        if is_function_name(&name) {
            return self.call(&name);
        }
        if name.contains('_') || GREEK_NAMES.contains(&name.as_str()) || name.chars().count() == 1 {
            return Ok(Value::Scalar(Node::Sym(name)));
        }
        // split_symbols: `xy` → x*y, `x2` → x*2.
        let mut parts = Vec::new();
        let chars: Vec<char> = name.chars().collect();
        let mut k = 0;
        while k < chars.len() {
            if chars[k].is_ascii_digit() {
                let start = k;
                while k < chars.len() && chars[k].is_ascii_digit() {
                    k += 1;
                }
                let digits: String = chars[start..k].iter().collect();
                parts.push(Node::Num(digits.parse().map_err(|_| ParseError::Invalid("bad number"))?));
            } else {
                parts.push(Node::Sym(chars[k].to_string()));
                k += 1;
            }
        }
        Ok(Value::Scalar(Node::Mul(parts)))
    }

    /// `sqrt(2)`, `sin x` (implicit application), `sin**2(x)` (function exponentiation).
    fn call(&mut self, name: &str) -> PResult<Value> {
        let mut power = None;
        if self.eat("**") {
            power = Some(scalar(self.postfix()?)?);
        }
        let args = if self.eat("(") {
            let mut args = Vec::new();
            loop {
                args.push(scalar(math_to_value(self.comparison()?))?);
                if self.eat(",") {
                    continue;
                }
                self.expect(")")?;
                break;
            }
            args
        } else {
            vec![scalar(self.power()?)?]
        };
        let node = match (name, args.as_slice()) {
            ("sqrt", [x]) => Node::pow(x.clone(), Node::Num(0.5)),
            ("root", [x, n]) => Node::pow(x.clone(), Node::recip(n.clone())),
            (n, [x]) if function_named(n) == Some(Func::Log) => {
                Node::Func(Func::Log, vec![x.clone(), Node::Const(Constant::E)])
            }
            (n, [x, b]) if function_named(n) == Some(Func::Log) => {
                Node::Func(Func::Log, vec![x.clone(), b.clone()])
            }
            (n, _) => match function_named(n) {
                Some(f) => Node::Func(f, args),
                None => return Err(ParseError::Invalid("unknown function")),
            },
        };
        Ok(Value::Scalar(match power {
            Some(p) => Node::pow(node, p),
            None => node,
        }))
    }
}

#[derive(Debug)]
enum Value {
    Scalar(Node),
    Container(Math),
}

fn scalar(v: Value) -> PResult<Node> {
    match v {
        Value::Scalar(n) => Ok(n),
        Value::Container(Math::Expr(n)) => Ok(n),
        Value::Container(_) => Err(ParseError::Invalid("a container where a scalar is needed")),
    }
}

fn math_from(v: Value) -> PResult<Math> {
    Ok(match v {
        Value::Scalar(n) => Math::Expr(n),
        Value::Container(m) => m,
    })
}

fn math_to_value(m: Math) -> Value {
    match m {
        Math::Expr(n) => Value::Scalar(n),
        other => Value::Container(other),
    }
}

/// A Python tuple: more than two items is the reference's list (vector); a pair stays a tuple.
fn tuple_value(items: Vec<Math>) -> Math {
    if items.len() > 2 { Math::Vector(items) } else { Math::Tuple(items) }
}

fn dedup(items: Vec<Math>) -> Vec<Math> {
    let mut out: Vec<Math> = Vec::with_capacity(items.len());
    for m in items {
        if !out.contains(&m) {
            out.push(m);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> PResult<Math> {
        parse_plain(s, &Budget::default())
    }

    #[test]
    fn python_shapes() {
        assert!(matches!(p("{1, 2}"), Ok(Math::Set(v)) if v.len() == 2));
        assert!(matches!(p("1, 2, 3"), Ok(Math::Vector(v)) if v.len() == 3));
        assert!(matches!(p("(1, 2)"), Ok(Math::Tuple(_))));
        assert!(matches!(p("x < 5"), Ok(Math::Rel(RelOp::Lt, ..))));
        assert!(p("x = 1").is_err());
        assert!(p(r"\frac12").is_err());
    }
}
