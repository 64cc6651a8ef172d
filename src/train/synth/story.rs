//! Story families: each builds a word problem of a given number of operations together with
//! its gold solution, one code step per operation. Numbers are drawn so that the gold path only
//! meets positive whole numbers, while typical slips (operands swapped, a distractor used, a
//! wrong operation) often show up as negative or fractional outputs the value head can see.

use super::words::{
    ACTIVITIES, CONTAINERS, CONVERSIONS, GOODS, ITEMS, PEOPLE, Person, RELATIVES, Thing, capitalize, ident,
};
use crate::model::Rng;

/// A number as Python holds it after the gold code: an int, or a float with a whole value
/// (after `/`), which Python prints with a trailing `.0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Py {
    pub v: i64,
    pub float: bool,
}

impl Py {
    pub fn int(v: i64) -> Py {
        Py { v, float: false }
    }

    /// What `print` shows.
    pub fn shown(self) -> String {
        if self.float { format!("{}.0", self.v) } else { self.v.to_string() }
    }

    fn with(self, v: i64) -> Py {
        Py { v, float: self.float }
    }

    fn halved(self) -> Py {
        Py { v: self.v / 2, float: true }
    }
}

/// One gold step: a thought and either code with its output, or the final answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GoldStep {
    Code { thought: String, code: String, output: String },
    Final { thought: String, answer: String },
}

/// A finished story: the question's sentences, the gold steps, the answer.
#[derive(Clone, Debug)]
pub struct Story {
    pub family: &'static str,
    pub facts: Vec<String>,
    pub question: String,
    pub steps: Vec<GoldStep>,
    pub answer: i64,
    /// People and things the story uses, so distractors can avoid (or reuse) them.
    pub people: Vec<Person>,
    pub item: Option<Thing>,
}

pub(crate) fn range(rng: &mut Rng, lo: i64, hi: i64) -> i64 {
    lo + (rng.next_u64() % (hi - lo + 1) as u64) as i64
}

pub(crate) fn pick<T: Copy>(rng: &mut Rng, xs: &[T]) -> T {
    xs[(rng.next_u64() % xs.len() as u64) as usize]
}

pub(crate) fn chance(rng: &mut Rng, p: f64) -> bool {
    rng.next_f64() < p
}

/// `n` distinct people.
fn people(rng: &mut Rng, n: usize) -> Vec<Person> {
    let mut out: Vec<Person> = Vec::with_capacity(n);
    while out.len() < n {
        let p = pick(rng, &PEOPLE);
        if out.iter().all(|q| q.name != p.name) {
            out.push(p);
        }
    }
    out
}

fn fill(template: &str, vars: &[(&str, String)]) -> String {
    let mut s = template.to_owned();
    for (k, v) in vars {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    capitalize(&s)
}

/// Steps in the making.
struct Builder {
    steps: Vec<GoldStep>,
}

impl Builder {
    fn new() -> Builder {
        Builder { steps: Vec::new() }
    }

    /// `var = expr` then `print(var)`.
    fn code(&mut self, thought: String, var: &str, expr: String, value: Py) {
        self.steps.push(GoldStep::Code {
            thought,
            code: format!("{var} = {expr}\nprint({var})"),
            output: value.shown(),
        });
    }

    fn finish(mut self, answer: i64) -> Vec<GoldStep> {
        self.steps.push(GoldStep::Final {
            thought: format!("The answer is {answer}."),
            answer: answer.to_string(),
        });
        self.steps
    }
}

const WORD_TIMES: [&str; 5] = ["", "", "twice", "three times", "four times"];

/// One person's collection changing over time: buying, losing, doubling, halving, sharing.
pub fn inventory(rng: &mut Rng, level: usize) -> Option<Story> {
    let p = pick(rng, &PEOPLE);
    let item = pick(rng, &ITEMS);
    let var = ident(item.many);
    let (name, subj, poss) = (p.name.to_owned(), p.subject, p.possessive);
    let base = |extra: &[(&'static str, String)]| {
        let mut v = vec![
            ("name", name.clone()),
            ("subj", subj.to_owned()),
            ("poss", poss.to_owned()),
            ("obj", p.object.to_owned()),
            ("items", item.many.to_owned()),
        ];
        v.extend_from_slice(extra);
        v
    };
    let mut b = Builder::new();
    let mut facts = Vec::new();
    let mut left = level;
    // The current quantity: its value and how code refers to it (a literal until the first step).
    let mut x: Py;
    let mut cur: String;
    if chance(rng, 0.4) {
        let (g, e) = (range(rng, 2, 9), range(rng, 2, 12));
        let c = pick(rng, &CONTAINERS);
        let t = pick(
            rng,
            &[
                "{name} has {g} {cs} of {items} with {e} {items} in each {c}.",
                "{name} buys {g} {cs} of {items}. Each {c} holds {e} {items}.",
                "{name} has {g} {cs}, and each {c} has {e} {items} in it.",
                "There are {e} {items} in each of {name}'s {g} {cs}.",
            ],
        );
        let vars =
            base(&[("g", g.to_string()), ("e", e.to_string()), ("c", c.one.into()), ("cs", c.many.into())]);
        facts.push(fill(t, &vars));
        x = Py::int(g * e);
        b.code(fill("{name} has {g} {cs} of {e} {items}.", &vars), &var, format!("{g} * {e}"), x);
        cur = var.clone();
        left -= 1;
    } else {
        let a = range(rng, 6, 60);
        let t = pick(
            rng,
            &["{name} has {a} {items}.", "{name} starts with {a} {items}.", "{name} owns {a} {items}."],
        );
        facts.push(fill(t, &base(&[("a", a.to_string())])));
        x = Py::int(a);
        cur = a.to_string();
    }
    let mut question = None;
    let mut last_was_sub = false;
    while left > 0 {
        let last = left == 1;
        let mut kinds: Vec<&str> = vec!["add", "add", "add_groups"];
        if x.v > 4 {
            kinds.extend(["sub", "sub"]);
        }
        if x.v <= 150 {
            kinds.push("mul");
        }
        if x.v % 2 == 0 && x.v >= 4 {
            kinds.push("half");
        }
        if x.v % 3 == 0 && x.v >= 6 {
            kinds.push("third");
        }
        if x.v > 12 {
            kinds.push("sub_rate");
        }
        let divisors: Vec<i64> = (2..=9).filter(|k| x.v % k == 0 && x.v / k >= 2).collect();
        if last && !divisors.is_empty() {
            kinds.extend(["share", "share"]);
        }
        let kind = pick(rng, &kinds);
        last_was_sub = false;
        match kind {
            "add" => {
                let m = range(rng, 2, 40);
                let t = pick(
                    rng,
                    &[
                        "{subj} buys {m} more {items}.",
                        "{poss} {rel} gives {obj} {m} {items}.",
                        "{subj} finds {m} more {items}.",
                        "Later, {subj} gets another {m} {items}.",
                        "{subj} receives {m} {items} as a gift.",
                    ],
                );
                let vars = base(&[("m", m.to_string()), ("rel", pick(rng, &RELATIVES).into())]);
                facts.push(fill(t, &vars));
                x = x.with(x.v + m);
                b.code(fill("{name} gets {m} more {items}.", &vars), &var, format!("{cur} + {m}"), x);
            }
            "sub" => {
                let m = range(rng, 1, (x.v - 1).min(40));
                let t = pick(
                    rng,
                    &[
                        "{subj} gives {m} {items} to {poss} {rel}.",
                        "{subj} loses {m} of them.",
                        "{subj} sells {m} {items}.",
                        "{subj} uses {m} {items} for a project.",
                        "{poss} {rel} takes {m} of the {items}.",
                    ],
                );
                let vars = base(&[("m", m.to_string()), ("rel", pick(rng, &RELATIVES).into())]);
                facts.push(fill(t, &vars));
                x = x.with(x.v - m);
                b.code(fill("{name} has {m} fewer {items} now.", &vars), &var, format!("{cur} - {m}"), x);
                last_was_sub = true;
            }
            "mul" => {
                let k = range(rng, 2, 4);
                let t = match k {
                    2 => pick(rng, &["{subj} doubles {poss} {items}.", "The number of {items} doubles."]),
                    3 => pick(rng, &["{subj} triples {poss} {items}.", "The number of {items} triples."]),
                    _ => pick(
                        rng,
                        &[
                            "{subj} ends up with {k} times as many {items} as before.",
                            "The number of {items} grows to {k} times as many.",
                        ],
                    ),
                };
                let vars = base(&[("k", k.to_string())]);
                facts.push(fill(t, &vars));
                x = x.with(x.v * k);
                b.code(
                    fill("{name} has {k} times as many {items} now.", &vars),
                    &var,
                    format!("{cur} * {k}"),
                    x,
                );
            }
            "half" => {
                let t = pick(
                    rng,
                    &[
                        "{subj} gives half of {poss} {items} to {poss} {rel}.",
                        "{subj} loses half of them.",
                        "{subj} sells half of {poss} {items}.",
                    ],
                );
                let vars = base(&[("rel", pick(rng, &RELATIVES).into())]);
                facts.push(fill(t, &vars));
                x = x.halved();
                b.code(fill("{name} keeps half of the {items}.", &vars), &var, format!("{cur} / 2"), x);
                last_was_sub = true;
            }
            "third" => {
                let t = pick(
                    rng,
                    &[
                        "{subj} gives a third of {poss} {items} away.",
                        "{subj} uses a third of them for a craft.",
                    ],
                );
                let vars = base(&[]);
                facts.push(fill(t, &vars));
                x = Py { v: x.v - x.v / 3, float: true };
                b.code(
                    fill("{name} gives away a third of the {items}.", &vars),
                    &var,
                    format!("{cur} - {cur} / 3"),
                    x,
                );
                last_was_sub = true;
            }
            "add_groups" => {
                let (g, e) = (range(rng, 2, 6), range(rng, 2, 12));
                let c = pick(rng, &CONTAINERS);
                let t = pick(
                    rng,
                    &[
                        "{subj} buys {g} more {cs} with {e} {items} in each.",
                        "{subj} gets {g} {cs} of {items}, and each {c} has {e}.",
                    ],
                );
                let vars = base(&[
                    ("g", g.to_string()),
                    ("e", e.to_string()),
                    ("c", c.one.into()),
                    ("cs", c.many.into()),
                ]);
                facts.push(fill(t, &vars));
                x = x.with(x.v + g * e);
                b.code(
                    fill("{name} gets {g} {cs} of {e} {items}.", &vars),
                    &var,
                    format!("{cur} + {g} * {e}"),
                    x,
                );
            }
            "sub_rate" => {
                let d = range(rng, 2, 7);
                let max_r = (x.v - 1) / d;
                if max_r < 1 {
                    continue;
                }
                let r = range(rng, 1, max_r.min(9));
                let t = pick(
                    rng,
                    &[
                        "{subj} uses {r} {items} every day for {d} days.",
                        "For {d} days, {subj} gives away {r} {items} a day.",
                    ],
                );
                let vars = base(&[("r", r.to_string()), ("d", d.to_string())]);
                facts.push(fill(t, &vars));
                x = x.with(x.v - r * d);
                b.code(
                    fill("{name} uses {r} {items} a day for {d} days.", &vars),
                    &var,
                    format!("{cur} - {r} * {d}"),
                    x,
                );
                last_was_sub = true;
            }
            _ => {
                // "share": the last operation, and the question asks for one share.
                let k = pick(rng, &divisors);
                let c = pick(rng, &CONTAINERS);
                let (t, q) = pick(
                    rng,
                    &[
                        (
                            "{subj} shares them equally among {k} friends.",
                            "How many {items} does each friend get?",
                        ),
                        ("{subj} puts them equally into {k} {cs}.", "How many {items} are in each {c}?"),
                        (
                            "{subj} splits the {items} into {k} equal groups.",
                            "How many {items} are in each group?",
                        ),
                    ],
                );
                let vars = base(&[("k", k.to_string()), ("c", c.one.into()), ("cs", c.many.into())]);
                facts.push(fill(t, &vars));
                x = Py { v: x.v / k, float: true };
                b.code(
                    fill("The {items} are split into {k} equal parts.", &vars),
                    "each",
                    format!("{cur} / {k}"),
                    x,
                );
                question = Some(fill(q, &vars));
            }
        }
        cur = var.clone();
        left -= 1;
    }
    let question = match question {
        Some(q) => q,
        None => {
            let mut qs = vec![
                "How many {items} does {name} have now?",
                "How many {items} does {name} have in the end?",
                "How many {items} does {name} end up with?",
            ];
            if last_was_sub {
                qs.push("How many {items} does {name} have left?");
            }
            fill(pick(rng, &qs), &base(&[]))
        }
    };
    Some(Story {
        family: "inventory",
        facts,
        question,
        steps: b.finish(x.v),
        answer: x.v,
        people: vec![p],
        item: Some(item),
    })
}

/// People compared with each other: more than, fewer than, times as many, half as many.
pub fn comparison(rng: &mut Rng, level: usize) -> Option<Story> {
    // Relations, and what the question asks: the last person, a sum, or a difference.
    let ask = if level == 1 { "last" } else { pick(rng, &["last", "last", "total", "diff"]) };
    let relations = if ask == "last" { level } else { level - 1 };
    if relations > 4 {
        return None;
    }
    let ps = people(rng, relations + 1);
    let item = pick(rng, &ITEMS);
    let a = range(rng, 5, 40);
    let mut values = vec![Py::int(a)];
    let mut refs = vec![a.to_string()];
    let mut facts = vec![fill(
        "{p} has {a} {items}.",
        &[("p", ps[0].name.into()), ("a", a.to_string()), ("items", item.many.into())],
    )];
    let mut b = Builder::new();
    for i in 1..=relations {
        let (p, q) = (ps[i - 1], ps[i]);
        let x = values[i - 1];
        let mut kinds = vec!["more", "more_rev"];
        if x.v > 6 {
            kinds.extend(["fewer", "fewer_rev"]);
        }
        if x.v <= 60 {
            kinds.push("times");
        }
        if x.v % 2 == 0 && x.v >= 4 {
            kinds.push("half");
        }
        let kind = pick(rng, &kinds);
        let m = range(rng, 2, if kind.starts_with("fewer") { (x.v - 2).min(30) } else { 30 });
        let k = range(rng, 2, 4);
        let vars = [
            ("p", p.name.to_owned()),
            ("q", q.name.to_owned()),
            ("m", m.to_string()),
            ("k", k.to_string()),
            ("kw", WORD_TIMES[k as usize].to_owned()),
            ("items", item.many.to_owned()),
        ];
        let (fact, thought, expr, y) = match kind {
            "more" => (
                "{q} has {m} more {items} than {p}.",
                "{q} has {m} more than {p}.",
                format!("{} + {m}", refs[i - 1]),
                x.with(x.v + m),
            ),
            "more_rev" => (
                "{p} has {m} fewer {items} than {q}.",
                "{q} has {m} more than {p}.",
                format!("{} + {m}", refs[i - 1]),
                x.with(x.v + m),
            ),
            "fewer" => (
                "{q} has {m} fewer {items} than {p}.",
                "{q} has {m} fewer than {p}.",
                format!("{} - {m}", refs[i - 1]),
                x.with(x.v - m),
            ),
            "fewer_rev" => (
                "{p} has {m} more {items} than {q}.",
                "{q} has {m} fewer than {p}.",
                format!("{} - {m}", refs[i - 1]),
                x.with(x.v - m),
            ),
            "times" => (
                "{q} has {kw} as many {items} as {p}.",
                "{q} has {k} times as many as {p}.",
                format!("{} * {k}", refs[i - 1]),
                x.with(x.v * k),
            ),
            _ => (
                "{q} has half as many {items} as {p}.",
                "{q} has half as many as {p}.",
                format!("{} / 2", refs[i - 1]),
                x.halved(),
            ),
        };
        facts.push(fill(fact, &vars));
        let var = ident(q.name);
        b.code(fill(thought, &vars), &var, expr, y);
        values.push(y);
        refs.push(var);
    }
    let n = relations + 1;
    let (question, answer) = match ask {
        "last" => (
            fill(
                "How many {items} does {q} have?",
                &[("q", ps[n - 1].name.into()), ("items", item.many.into())],
            ),
            values[n - 1],
        ),
        "total" => {
            let total =
                values.iter().fold(Py::int(0), |acc, v| Py { v: acc.v + v.v, float: acc.float || v.float });
            let q = if n == 2 {
                fill(
                    "How many {items} do {p} and {q} have together?",
                    &[("p", ps[0].name.into()), ("q", ps[1].name.into()), ("items", item.many.into())],
                )
            } else {
                fill(
                    pick(
                        rng,
                        &[
                            "How many {items} do they have altogether?",
                            "How many {items} do the {n} of them have in total?",
                        ],
                    ),
                    &[("items", item.many.into()), ("n", ["", "", "two", "three", "four", "five"][n].into())],
                )
            };
            b.code("Add up everyone's count.".into(), "total", refs.join(" + "), total);
            (q, total)
        }
        _ => {
            // The difference between the first and the last person, larger first.
            let (hi, lo) = if values[n - 1].v >= values[0].v { (n - 1, 0) } else { (0, n - 1) };
            if values[hi].v == values[lo].v {
                return None;
            }
            let d = Py { v: values[hi].v - values[lo].v, float: values[hi].float || values[lo].float };
            let vars = [
                ("x", ps[hi].name.to_owned()),
                ("y", ps[lo].name.to_owned()),
                ("items", item.many.to_owned()),
            ];
            b.code(
                fill("Subtract {y}'s count from {x}'s.", &vars),
                "difference",
                format!("{} - {}", refs[hi], refs[lo]),
                d,
            );
            (fill("How many more {items} does {x} have than {y}?", &vars), d)
        }
    };
    Some(Story {
        family: "comparison",
        facts,
        question,
        steps: b.finish(answer.v),
        answer: answer.v,
        people: ps,
        item: Some(item),
    })
}

/// Buying things: costs, a total, a coupon, change from a bill or money left.
pub fn shopping(rng: &mut Rng, level: usize) -> Option<Story> {
    // (purchases, coupon, ends with change or money left)
    let plans: &[(usize, bool, bool)] = match level {
        1 => &[(1, false, false)],
        2 => &[(1, false, true), (1, true, false)],
        3 => &[(2, false, false), (1, true, true)],
        4 => &[(2, false, true), (2, true, false), (3, false, false)],
        _ => &[(2, true, true), (3, false, true), (3, true, false)],
    };
    let (n, coupon, pays) = pick(rng, plans);
    let p = people(rng, 1)[0];
    let mut goods: Vec<Thing> = Vec::new();
    while goods.len() < n {
        let g = pick(rng, &GOODS);
        if goods.iter().all(|h| h.one != g.one) {
            goods.push(g);
        }
    }
    let base = |extra: &[(&'static str, String)]| {
        let mut v = vec![
            ("name", p.name.to_owned()),
            ("subj", p.subject.to_owned()),
            ("poss", p.possessive.to_owned()),
        ];
        v.extend_from_slice(extra);
        v
    };
    let mut facts = Vec::new();
    let mut b = Builder::new();
    let mut refs = Vec::new();
    let mut total = 0;
    // Money in hand, said first ("has 50 dollars") or at the end ("pays with").
    let has_money_first = pays && chance(rng, 0.5);
    let mut money_fact_at = None;
    if has_money_first {
        money_fact_at = Some(facts.len());
        facts.push(String::new());
    }
    for (i, g) in goods.iter().enumerate() {
        let (a, price) = (range(rng, 2, 9), range(rng, 2, 25));
        let vars = base(&[
            ("a", a.to_string()),
            ("p", price.to_string()),
            ("g", g.many.to_owned()),
            ("also", if i > 0 { "also ".into() } else { String::new() }),
        ]);
        let t = pick(
            rng,
            &[
                "{name} {also}buys {a} {g} for {p} dollars each.",
                "{g} cost {p} dollars each, and {name} {also}buys {a}.",
                "{subj} {also}buys {a} {g} that cost {p} dollars each.",
                "Each of the {a} {g} {subj} {also}buys costs {p} dollars.",
            ],
        );
        let t = if i == 0 { t.replace("{subj}", "{name}") } else { t.to_owned() };
        facts.push(fill(&t, &vars));
        let var = format!("{}_cost", ident(g.one));
        total += a * price;
        b.code(
            fill("The {g} cost {a} times {p} dollars.", &vars),
            &var,
            format!("{a} * {price}"),
            Py::int(a * price),
        );
        refs.push(var);
    }
    let mut cur = refs[0].clone();
    if n > 1 {
        b.code("Add up the costs.".into(), "total", refs.join(" + "), Py::int(total));
        cur = "total".into();
    }
    if coupon {
        let d = range(rng, 1, (total - 1).clamp(1, 15));
        let vars = base(&[("d", d.to_string())]);
        facts.push(fill(
            pick(
                rng,
                &[
                    "{subj} has a coupon for {d} dollars off the total.",
                    "The shop gives {obj} {d} dollars off.",
                ],
            ),
            &[vars.as_slice(), &[("obj", p.object.to_owned())]].concat(),
        ));
        total -= d;
        b.code(fill("Take {d} dollars off.", &vars), "total", format!("{cur} - {d}"), Py::int(total));
        cur = "total".into();
    }
    let (question, answer) = if pays {
        let step = pick(rng, &[10, 20, 50]);
        let c = (total / step + 1 + range(rng, 0, 1)) * step;
        let vars = base(&[("c", c.to_string())]);
        match money_fact_at {
            Some(at) => {
                facts[at] = fill("{name} has {c} dollars.", &vars);
                b.code(
                    fill("{name} had {c} dollars.", &vars),
                    "left",
                    format!("{c} - {cur}"),
                    Py::int(c - total),
                );
                (fill("How much money does {subj} have left?", &vars), c - total)
            }
            None => {
                facts.push(fill("{subj} pays with {c} dollars.", &vars));
                b.code(
                    fill("The change is {c} dollars minus the cost.", &vars),
                    "change",
                    format!("{c} - {cur}"),
                    Py::int(c - total),
                );
                (fill("How much change does {subj} get?", &vars), c - total)
            }
        }
    } else {
        (
            fill(
                pick(
                    rng,
                    &[
                        "How much does {subj} spend?",
                        "How many dollars does {subj} pay in total?",
                        "How much money does {name} spend?",
                    ],
                ),
                &base(&[]),
            ),
            total,
        )
    };
    Some(Story {
        family: "shopping",
        facts,
        question,
        steps: b.finish(answer),
        answer,
        people: vec![p],
        item: None,
    })
}

/// Rates over time with a unit conversion: pages a day over weeks, items a minute over hours.
pub fn rates(rng: &mut Rng, level: usize) -> Option<Story> {
    let p = people(rng, 2);
    let (p, other) = (p[0], p[1]);
    let act = pick(rng, &ACTIVITIES);
    let convert = level >= 2;
    let (big, small, factor) = if convert {
        pick(rng, &CONVERSIONS)
    } else {
        pick(rng, &[(Thing { one: "day", many: "days" }, Thing { one: "day", many: "days" }, 1)])
    };
    let r = range(rng, 2, 12);
    let t = range(rng, 2, if convert { 6 } else { 15 });
    let units = act.unit.many;
    let vars = |extra: &[(&'static str, String)]| {
        let mut v = vec![
            ("name", p.name.to_owned()),
            ("subj", p.subject.to_owned()),
            ("verb", act.verb.to_owned()),
            ("base", act.base.to_owned()),
            ("past", act.past.to_owned()),
            ("r", r.to_string()),
            ("t", t.to_string()),
            ("units", units.to_owned()),
            ("small", small.one.to_owned()),
            ("smalls", small.many.to_owned()),
            ("bigs", big.many.to_owned()),
            ("other", other.name.to_owned()),
        ];
        v.extend_from_slice(extra);
        v
    };
    let v0 = vars(&[]);
    let mut facts = vec![fill(
        pick(rng, &["{name} {verb} {r} {units} every {small}.", "Every {small}, {name} {verb} {r} {units}."]),
        &v0,
    )];
    let mut b = Builder::new();
    let var = ident(units);
    let mut x;
    if convert {
        let smalls = ident(small.many);
        b.code(
            fill("There are {f} {smalls} in each of the {t} {bigs}.", &vars(&[("f", factor.to_string())])),
            &smalls,
            format!("{t} * {factor}"),
            Py::int(t * factor),
        );
        x = Py::int(r * t * factor);
        b.code(fill("{name} {verb} {r} {units} in each of them.", &v0), &var, format!("{r} * {smalls}"), x);
    } else {
        x = Py::int(r * t);
        b.code(
            fill("{name} {verb} {r} {units} on each of the {t} days.", &v0),
            &var,
            format!("{r} * {t}"),
            x,
        );
    }
    let span = if convert { format!("{t} {}", big.many) } else { format!("{t} days") };
    let period = format!("in {span}");
    let mut left = level - if convert { 2 } else { 1 };
    let mut question = fill(&format!("How many {{units}} does {{subj}} {{base}} {period}?"), &v0);
    // The quantity code refers to, and what has happened to it.
    let mut cur = var.clone();
    let (mut before, mut together, mut gave) = (false, false, false);
    while left > 0 {
        let last = left == 1;
        let mut kinds = Vec::new();
        if !together && !gave {
            kinds.push("bonus");
            if !before {
                kinds.push("before");
            }
            if left >= 2 {
                kinds.push("other");
            }
        }
        if act.countable && x.v > 4 {
            kinds.push("give");
        }
        let divisors: Vec<i64> = (2..=6).filter(|k| x.v % k == 0).collect();
        if last && act.countable && !divisors.is_empty() {
            kinds.push("share");
        }
        if kinds.is_empty() {
            return None;
        }
        match pick(rng, &kinds) {
            "before" => {
                let s = range(rng, 5, 90);
                let v = vars(&[("s", s.to_string())]);
                let t = pick(
                    rng,
                    &[
                        "{subj} had already {past} {s} {units} before that.",
                        "Before that, {name} had {past} {s} {units}.",
                    ],
                );
                facts.push(fill(t, &v));
                x = x.with(x.v + s);
                b.code(fill("Add the {s} {units} from before.", &v), &cur, format!("{cur} + {s}"), x);
                question =
                    fill(&format!("How many {{units}} has {{subj}} {{past}} in all after {span}?"), &v0);
                before = true;
            }
            "bonus" => {
                let s = range(rng, 2, 30);
                let v = vars(&[("s", s.to_string())]);
                facts.push(fill("On the last {small}, {subj} {verb} {s} extra {units}.", &v));
                x = x.with(x.v + s);
                b.code(fill("Add the {s} extra {units}.", &v), &cur, format!("{cur} + {s}"), x);
            }
            "other" => {
                let extra = range(rng, 1, 9);
                let v = vars(&[("e", extra.to_string())]);
                facts.push(fill("{other} {verb} {e} more {units} than {name} every {small}.", &v));
                let smalls = if convert { ident(small.many) } else { t.to_string() };
                let o = Py::int((r + extra) * if convert { t * factor } else { t });
                let other_var = ident(other.name);
                b.code(
                    fill("{other} {verb} {r} + {e} {units} each {small}.", &v),
                    &other_var,
                    format!("({r} + {extra}) * {smalls}"),
                    o,
                );
                x = x.with(x.v + o.v);
                b.code("Add both amounts.".into(), "total", format!("{cur} + {other_var}"), x);
                question = fill(
                    &format!("How many {{units}} do {{name}} and {{other}} {{base}} together {period}?"),
                    &v0,
                );
                cur = "total".into();
                together = true;
                left -= 1;
            }
            "give" => {
                let m = range(rng, 1, (x.v - 1).min(40));
                let v = vars(&[("m", m.to_string())]);
                let t = pick(
                    rng,
                    &["Then {m} of the {units} are given away.", "Later, {m} of the {units} are sold."],
                );
                facts.push(fill(t, &v));
                x = x.with(x.v - m);
                b.code(fill("Take away the {m} {units}.", &v), &cur, format!("{cur} - {m}"), x);
                question = fill(&format!("How many {{units}} are left after {span}?"), &v0);
                gave = true;
            }
            _ => {
                let k = pick(rng, &divisors);
                let v = vars(&[("k", k.to_string())]);
                facts.push(fill(
                    &format!("The {{units}} from the {span} are shared equally by {{k}} teams."),
                    &v,
                ));
                x = Py { v: x.v / k, float: true };
                b.code(
                    fill("Split the {units} into {k} equal parts.", &v),
                    "each",
                    format!("{cur} / {k}"),
                    x,
                );
                question = fill("How many {units} does each team get?", &v);
            }
        }
        left -= 1;
    }
    Some(Story {
        family: "rates",
        facts,
        question,
        steps: b.finish(x.v),
        answer: x.v,
        people: vec![p, other],
        item: None,
    })
}

/// An irrelevant sentence with a number: about someone else, an age, a weight, or the same
/// things in someone else's hands.
pub fn distractor(rng: &mut Rng, story: &Story, used: &mut Vec<&'static str>) -> String {
    let other = loop {
        let q = pick(rng, &PEOPLE);
        if story.people.iter().all(|p| p.name != q.name) {
            break q;
        }
    };
    let main = story.people[0];
    let n = range(rng, 2, 60).to_string();
    let thing = pick(rng, &ITEMS);
    let vars = [
        ("other", other.name.to_owned()),
        ("name", main.name.to_owned()),
        ("poss", main.possessive.to_owned()),
        ("rel", pick(rng, &RELATIVES).to_owned()),
        ("n", n),
        ("things", thing.many.to_owned()),
        ("items", story.item.unwrap_or(thing).many.to_owned()),
        ("c", pick(rng, &CONTAINERS).one.to_owned()),
    ];
    let templates = [
        "{other} has {n} {things}.",
        "{name} is {n} years old.",
        "{name}'s {rel} has {n} {items}.",
        "The {c} weighs {n} grams.",
        "{other} buys {n} {things}.",
        "It takes {n} minutes to walk to the park.",
        "{other} owns {n} {items}.",
    ];
    let fresh: Vec<&'static str> = templates.iter().copied().filter(|t| !used.contains(t)).collect();
    let t = pick(rng, if fresh.is_empty() { &templates[..] } else { &fresh });
    used.push(t);
    fill(t, &vars)
}
