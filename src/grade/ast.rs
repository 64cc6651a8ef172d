//! The expression tree both parsers produce, and the typed values a whole answer parses to.
//!
//! Scalars are [`Node`]s; a whole answer is a [`Math`] (a scalar, a relation, a vector, a set, a
//! matrix, ...). The split mirrors the reference's `get_sympy_type`, which decides how two
//! parsed answers are compared.

use std::collections::BTreeSet;
use std::fmt;

/// Named constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constant {
    Pi,
    E,
    /// The imaginary unit (SymPy's `I`; a lowercase `i` is a plain symbol, as in the reference).
    I,
    Infinity,
}

/// Functions with a known meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Sin,
    Cos,
    Tan,
    Csc,
    Sec,
    Cot,
    Asin,
    Acos,
    Atan,
    Acsc,
    Asec,
    Acot,
    Sinh,
    Cosh,
    Tanh,
    Asinh,
    Acosh,
    Atanh,
    Exp,
    /// `Log(x, base)`.
    Log,
    Abs,
    Floor,
    Ceil,
    Factorial,
    Binomial,
    Gcd,
    Lcm,
    Max,
    Min,
    Mod,
    Re,
    Im,
}

impl Func {
    pub fn name(self) -> &'static str {
        match self {
            Func::Sin => "sin",
            Func::Cos => "cos",
            Func::Tan => "tan",
            Func::Csc => "csc",
            Func::Sec => "sec",
            Func::Cot => "cot",
            Func::Asin => "asin",
            Func::Acos => "acos",
            Func::Atan => "atan",
            Func::Acsc => "acsc",
            Func::Asec => "asec",
            Func::Acot => "acot",
            Func::Sinh => "sinh",
            Func::Cosh => "cosh",
            Func::Tanh => "tanh",
            Func::Asinh => "asinh",
            Func::Acosh => "acosh",
            Func::Atanh => "atanh",
            Func::Exp => "exp",
            Func::Log => "log",
            Func::Abs => "Abs",
            Func::Floor => "floor",
            Func::Ceil => "ceiling",
            Func::Factorial => "factorial",
            Func::Binomial => "binomial",
            Func::Gcd => "gcd",
            Func::Lcm => "lcm",
            Func::Max => "Max",
            Func::Min => "Min",
            Func::Mod => "Mod",
            Func::Re => "re",
            Func::Im => "im",
        }
    }

    /// The inverse of a trigonometric or hyperbolic function, for `\sin^{-1}`.
    pub fn inverse(self) -> Option<Func> {
        Some(match self {
            Func::Sin => Func::Asin,
            Func::Cos => Func::Acos,
            Func::Tan => Func::Atan,
            Func::Csc => Func::Acsc,
            Func::Sec => Func::Asec,
            Func::Cot => Func::Acot,
            Func::Sinh => Func::Asinh,
            Func::Cosh => Func::Acosh,
            Func::Tanh => Func::Atanh,
            _ => return None,
        })
    }
}

/// A scalar expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Num(f64),
    Const(Constant),
    Sym(String),
    Add(Vec<Node>),
    Mul(Vec<Node>),
    Pow(Box<Node>, Box<Node>),
    Func(Func, Vec<Node>),
    /// An undefined function applied to arguments, `f(x)`.
    Apply(String, Vec<Node>),
    /// `\sum` (or `\prod` when `product`) of `body` for `var` from `lo` to `hi`.
    Sum {
        body: Box<Node>,
        var: String,
        lo: Box<Node>,
        hi: Box<Node>,
        product: bool,
    },
    Integral {
        body: Box<Node>,
        var: String,
        bounds: Option<(Box<Node>, Box<Node>)>,
    },
    /// `dir` is `+1` (from above), `-1` (from below) or `0` (two-sided / at infinity).
    Limit {
        body: Box<Node>,
        var: String,
        to: Box<Node>,
        dir: i8,
    },
    Derivative {
        body: Box<Node>,
        var: String,
    },
    Matrix(Vec<Vec<Node>>),
    Det(Vec<Vec<Node>>),
    /// `a \pm b`: parsed, never evaluated.
    PlusMinus(Box<Node>, Box<Node>),
    /// A relation nested in a chain (`x = 5+5+1 = 11` is `Eq(Eq(x, 5+5+1), 11)`): never evaluated.
    Relation(RelOp, Box<Node>, Box<Node>),
}

impl Node {
    pub fn num(x: f64) -> Node {
        Node::Num(x)
    }

    pub fn negate(x: Node) -> Node {
        match x {
            Node::Num(v) => Node::Num(-v),
            other => Node::Mul(vec![Node::Num(-1.0), other]),
        }
    }

    pub fn recip(x: Node) -> Node {
        Node::Pow(Box::new(x), Box::new(Node::Num(-1.0)))
    }

    pub fn pow(b: Node, e: Node) -> Node {
        Node::Pow(Box::new(b), Box::new(e))
    }

    /// Flattening product of two factors.
    pub fn mul2(a: Node, b: Node) -> Node {
        let mut v = match a {
            Node::Mul(xs) => xs,
            x => vec![x],
        };
        match b {
            Node::Mul(xs) => v.extend(xs),
            x => v.push(x),
        }
        Node::Mul(v)
    }

    /// Flattening sum of two terms.
    pub fn add2(a: Node, b: Node) -> Node {
        let mut v = match a {
            Node::Add(xs) => xs,
            x => vec![x],
        };
        match b {
            Node::Add(xs) => v.extend(xs),
            x => v.push(x),
        }
        Node::Add(v)
    }

    pub fn sub2(a: Node, b: Node) -> Node {
        Node::add2(a, Node::negate(b))
    }

    /// Free symbols, skipping variables bound by sums, definite integrals and limits.
    pub fn free_symbols(&self, out: &mut BTreeSet<String>) {
        self.walk_free(out, &mut Vec::new());
    }

    fn walk_free(&self, out: &mut BTreeSet<String>, bound: &mut Vec<String>) {
        match self {
            Node::Num(_) | Node::Const(_) => {}
            Node::Sym(s) => {
                if !bound.iter().any(|b| b == s) {
                    out.insert(s.clone());
                }
            }
            Node::Add(xs) | Node::Mul(xs) | Node::Func(_, xs) | Node::Apply(_, xs) => {
                xs.iter().for_each(|x| x.walk_free(out, bound))
            }
            Node::Pow(a, b) | Node::PlusMinus(a, b) | Node::Relation(_, a, b) => {
                a.walk_free(out, bound);
                b.walk_free(out, bound);
            }
            Node::Sum { body, var, lo, hi, .. } => {
                lo.walk_free(out, bound);
                hi.walk_free(out, bound);
                bound.push(var.clone());
                body.walk_free(out, bound);
                bound.pop();
            }
            Node::Integral { body, var, bounds } => match bounds {
                Some((lo, hi)) => {
                    lo.walk_free(out, bound);
                    hi.walk_free(out, bound);
                    bound.push(var.clone());
                    body.walk_free(out, bound);
                    bound.pop();
                }
                None => {
                    body.walk_free(out, bound);
                    if !bound.iter().any(|b| b == var) {
                        out.insert(var.clone());
                    }
                }
            },
            Node::Limit { body, var, to, .. } => {
                to.walk_free(out, bound);
                bound.push(var.clone());
                body.walk_free(out, bound);
                bound.pop();
            }
            Node::Derivative { body, var } => {
                body.walk_free(out, bound);
                if !bound.iter().any(|b| b == var) {
                    out.insert(var.clone());
                }
            }
            Node::Matrix(rows) | Node::Det(rows) => {
                rows.iter().flatten().for_each(|x| x.walk_free(out, bound))
            }
        }
    }

    /// Whether the imaginary unit `I` occurs (the reference's `expr.has(I)`).
    pub fn has_i(&self) -> bool {
        self.any(&|n| matches!(n, Node::Const(Constant::I)))
    }

    /// Whether some sub-node satisfies `pred`.
    pub fn any(&self, pred: &dyn Fn(&Node) -> bool) -> bool {
        if pred(self) {
            return true;
        }
        match self {
            Node::Num(_) | Node::Const(_) | Node::Sym(_) => false,
            Node::Add(xs) | Node::Mul(xs) | Node::Func(_, xs) | Node::Apply(_, xs) => {
                xs.iter().any(|x| x.any(pred))
            }
            Node::Pow(a, b) | Node::PlusMinus(a, b) | Node::Relation(_, a, b) => a.any(pred) || b.any(pred),
            Node::Sum { body, lo, hi, .. } => body.any(pred) || lo.any(pred) || hi.any(pred),
            Node::Integral { body, bounds, .. } => {
                body.any(pred) || bounds.as_ref().is_some_and(|(l, h)| l.any(pred) || h.any(pred))
            }
            Node::Limit { body, to, .. } => body.any(pred) || to.any(pred),
            Node::Derivative { body, .. } => body.any(pred),
            Node::Matrix(rows) | Node::Det(rows) => rows.iter().flatten().any(|x| x.any(pred)),
        }
    }

    /// Replaces every symbol named `name` by `with`.
    pub fn substitute(&self, name: &str, with: &Node) -> Node {
        let sub = |x: &Node| x.substitute(name, with);
        match self {
            Node::Sym(s) if s == name => with.clone(),
            Node::Num(_) | Node::Const(_) | Node::Sym(_) => self.clone(),
            Node::Add(xs) => Node::Add(xs.iter().map(sub).collect()),
            Node::Mul(xs) => Node::Mul(xs.iter().map(sub).collect()),
            Node::Func(f, xs) => Node::Func(*f, xs.iter().map(sub).collect()),
            Node::Apply(f, xs) => Node::Apply(f.clone(), xs.iter().map(sub).collect()),
            Node::Pow(a, b) => Node::pow(sub(a), sub(b)),
            Node::PlusMinus(a, b) => Node::PlusMinus(Box::new(sub(a)), Box::new(sub(b))),
            Node::Relation(op, a, b) => Node::Relation(*op, Box::new(sub(a)), Box::new(sub(b))),
            Node::Matrix(rows) => Node::Matrix(rows.iter().map(|r| r.iter().map(sub).collect()).collect()),
            Node::Det(rows) => Node::Det(rows.iter().map(|r| r.iter().map(sub).collect()).collect()),
            // Bound variables shadow; substituting inside calculus nodes is not needed by callers.
            other => other.clone(),
        }
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, xs: &[Node], sep: &str) -> fmt::Result {
    for (k, x) in xs.iter().enumerate() {
        if k > 0 {
            f.write_str(sep)?;
        }
        write!(f, "{x}")?;
    }
    Ok(())
}

fn write_rows(f: &mut fmt::Formatter<'_>, rows: &[Vec<Node>]) -> fmt::Result {
    f.write_str("[")?;
    for (k, r) in rows.iter().enumerate() {
        if k > 0 {
            f.write_str(", ")?;
        }
        f.write_str("[")?;
        write_list(f, r, ", ")?;
        f.write_str("]")?;
    }
    f.write_str("]")
}

/// Fully parenthesised, SymPy-like text: used for display and as the structural key of
/// expressions that cannot be evaluated.
impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Num(v) => write!(f, "{v}"),
            Node::Const(Constant::Pi) => f.write_str("pi"),
            Node::Const(Constant::E) => f.write_str("E"),
            Node::Const(Constant::I) => f.write_str("I"),
            Node::Const(Constant::Infinity) => f.write_str("oo"),
            Node::Sym(s) => f.write_str(s),
            Node::Add(xs) => {
                f.write_str("(")?;
                write_list(f, xs, " + ")?;
                f.write_str(")")
            }
            Node::Mul(xs) => {
                f.write_str("(")?;
                write_list(f, xs, "*")?;
                f.write_str(")")
            }
            Node::Pow(a, b) => write!(f, "({a})**({b})"),
            Node::Func(func, xs) => {
                write!(f, "{}(", func.name())?;
                write_list(f, xs, ", ")?;
                f.write_str(")")
            }
            Node::Apply(name, xs) => {
                write!(f, "{name}(")?;
                write_list(f, xs, ", ")?;
                f.write_str(")")
            }
            Node::Sum { body, var, lo, hi, product } => {
                let name = if *product { "Product" } else { "Sum" };
                write!(f, "{name}({body}, ({var}, {lo}, {hi}))")
            }
            Node::Integral { body, var, bounds: Some((lo, hi)) } => {
                write!(f, "Integral({body}, ({var}, {lo}, {hi}))")
            }
            Node::Integral { body, var, bounds: None } => write!(f, "Integral({body}, {var})"),
            Node::Limit { body, var, to, dir } => write!(f, "Limit({body}, {var}, {to}, {dir})"),
            Node::Derivative { body, var } => write!(f, "Derivative({body}, {var})"),
            Node::Matrix(rows) => {
                f.write_str("Matrix(")?;
                write_rows(f, rows)?;
                f.write_str(")")
            }
            Node::Det(rows) => {
                f.write_str("det(")?;
                write_rows(f, rows)?;
                f.write_str(")")
            }
            Node::PlusMinus(a, b) => write!(f, "({a} ± {b})"),
            Node::Relation(op, a, b) => write!(f, "({a} {} {b})", op.symbol()),
        }
    }
}

/// Relation operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl RelOp {
    pub fn symbol(self) -> &'static str {
        match self {
            RelOp::Eq => "=",
            RelOp::Ne => "!=",
            RelOp::Lt => "<",
            RelOp::Le => "<=",
            RelOp::Gt => ">",
            RelOp::Ge => ">=",
        }
    }
}

/// A whole parsed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Math {
    Expr(Node),
    Rel(RelOp, Node, Node),
    /// Ordered: `[a, b]`, a bare LaTeX list, a Python list or a tuple of more than two.
    Vector(Vec<Math>),
    /// Unordered: a Python set literal `{a, b}`.
    Set(Vec<Math>),
    /// `(a, b)`: parsed, but not comparable at this level (the reference cannot either).
    Tuple(Vec<Math>),
    Matrix(Vec<Vec<Node>>),
    Interval {
        lo: Node,
        hi: Node,
        lo_open: bool,
        hi_open: bool,
    },
    /// `\cup`, `\cap`, `\setminus` and other set-valued or logical forms: parsed, kept opaque.
    Opaque(String),
}

impl fmt::Display for Math {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn items(f: &mut fmt::Formatter<'_>, xs: &[Math], open: &str, close: &str) -> fmt::Result {
            f.write_str(open)?;
            for (k, x) in xs.iter().enumerate() {
                if k > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{x}")?;
            }
            f.write_str(close)
        }
        match self {
            Math::Expr(n) => write!(f, "{n}"),
            Math::Rel(op, a, b) => write!(f, "{a} {} {b}", op.symbol()),
            Math::Vector(xs) => items(f, xs, "[", "]"),
            Math::Set(xs) => items(f, xs, "{", "}"),
            Math::Tuple(xs) => items(f, xs, "(", ")"),
            Math::Matrix(rows) => {
                f.write_str("Matrix(")?;
                write_rows(f, rows)?;
                f.write_str(")")
            }
            Math::Interval { lo, hi, lo_open, hi_open } => {
                write!(
                    f,
                    "{}{lo}, {hi}{}",
                    if *lo_open { "(" } else { "[" },
                    if *hi_open { ")" } else { "]" }
                )
            }
            Math::Opaque(s) => f.write_str(s),
        }
    }
}
