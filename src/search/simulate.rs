//! Realistic trees without a model: arbor's own MCTS (training mode, ±1 rewards) on synthetic
//! two-step word problems, driven by scripted backends that play a plausible policy, an
//! interpreter for `x = A op B` steps and a value head that favours the right track.
//!
//! It exists to make sample files for the viewer and large files for the store benchmark;
//! every rule of the tree (tags, sentinels, Q = mean of backups, failure strings) is the real
//! search's, only the steps are synthetic.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

use crate::engine::driver::Driver;
use crate::engine::output::{RunFacts, to_record};
use crate::engine::scripted::Scripted;
use crate::problems::GroundTruth;
use crate::search::config::{Mode, SearchConfig};
use crate::search::new_search;
use crate::search::request::{ExecuteNeed, Executed, GenerateNeed, Generated, Sample, ValueNeed};
use crate::store::TreeRecord;
use crate::tree::ExecStatus;

/// Settings of one simulated search.
#[derive(Clone, Copy, Debug)]
pub struct SimConfig {
    /// Stop once the tree has at least this many nodes (or nothing is left to expand).
    pub nodes: usize,
    /// Samples per expansion (`n_generate_sample`).
    pub children: u32,
    pub c_puct: f64,
    pub max_depth: u32,
    pub errors_threshold: u32,
    pub seed: u64,
}

impl SimConfig {
    /// The reference's MCTS settings with a node budget.
    pub fn reference(nodes: usize, seed: u64) -> SimConfig {
        SimConfig { nodes, children: 5, c_puct: 1.25, max_depth: 8, errors_threshold: 3, seed }
    }
}

/// The numbers of a synthetic problem: `a + b·c` apples.
#[derive(Clone, Copy, Debug)]
struct Problem {
    a: i64,
    b: i64,
    c: i64,
}

impl Problem {
    fn answer(self) -> i64 {
        self.a + self.b * self.c
    }

    /// The partial results of the right solution, in order.
    fn plan(self) -> [i64; 2] {
        [self.b * self.c, self.answer()]
    }
}

/// The outputs observed on the path a prompt ends with.
fn outputs(prompt: &str) -> Vec<String> {
    prompt
        .split("<output>\n")
        .skip(1)
        .filter_map(|rest| rest.split_once("\n</output>").map(|(out, _)| out.to_owned()))
        .collect()
}

/// Whether the observed outputs follow the right plan so far.
fn on_track(problem: Problem, seen: &[String]) -> bool {
    seen.iter()
        .zip(problem.plan().iter().chain(std::iter::repeat(&problem.answer())))
        .all(|(s, p)| *s == p.to_string())
}

fn code_step(thought: &str, expr: &str) -> String {
    format!("<step>\n<p>\n{thought}\n</p>\n<code>\n```python\nx = {expr}\nprint(x)\n```")
}

fn final_step(thought: &str, answer: i64) -> String {
    format!("<step>\n<p>\n{thought} {answer}.\n</p>\n<p>\nFinal Answer: ${answer}$\n</p>\n")
}

/// The synthetic policy: mostly sensible on the right track, error-prone off it.
fn policy(problem: Problem, need: &GenerateNeed) -> Generated {
    let mut rng = StdRng::seed_from_u64(need.seed);
    let seen = outputs(&need.prompt);
    let good = on_track(problem, &seen);
    let last: i64 = seen.last().and_then(|s| s.parse().ok()).unwrap_or(problem.a);
    let Problem { a, b, c } = problem;
    let samples = (0..need.n)
        .map(|_| {
            let r: f64 = rng.random();
            let text = match (good, seen.len()) {
                (true, 0) if r < 0.55 => {
                    code_step("Find how many apples the bags hold.", &format!("{b} * {c}"))
                }
                (true, 0) if r < 0.75 => code_step("Add the bags to the crate.", &format!("{a} + {b}")),
                (true, 0) if r < 0.85 => code_step("Reuse the total from before.", "total * 2"),
                (true, 0) => final_step("The crate holds", a + b + c),
                (true, 1) if r < 0.6 => {
                    code_step("Add the apples already in the crate.", &format!("{a} + {last}"))
                }
                (true, 1) if r < 0.75 => code_step("Multiply by the crate.", &format!("{last} * {a}")),
                (true, 1) => final_step("So the crate holds", last),
                (true, _) if r < 0.7 => final_step("Putting it together, the crate holds", last),
                (true, _) if r < 0.85 => code_step("Check the total once more.", &format!("{last} + 0")),
                (true, _) => final_step("So the total should be", last + rng.random_range(1..20)),
                (false, _) if r < 0.35 => code_step("Combine the numbers again.", &format!("{last} + {b}")),
                (false, _) if r < 0.55 => code_step("Use the running total.", "running_total + 1"),
                (false, _) => final_step("So the total should be", last),
            };
            let tokens = 12 + (text.len() / 4) as u32;
            Sample {
                text,
                tokens,
                logprob_sum: -rng.random_range(0.02..0.9) * f64::from(tokens),
                finish: Some("stop".into()),
            }
        })
        .collect();
    let value = if good { 0.2 + 0.25 * seen.len().min(2) as f64 } else { -0.4 };
    Generated {
        samples,
        value: Some(value + rng.random_range(-0.2..0.2)),
        elapsed_ms: 40.0 + rng.random_range(0.0..300.0),
    }
}

/// `x = A op B` evaluated; anything else is an undefined name, as Python would say.
fn execute(need: &ExecuteNeed) -> Executed {
    let expr = need.code.split("x = ").nth(1).and_then(|rest| rest.lines().next()).unwrap_or("");
    let mut parts = expr.split_whitespace();
    let result =
        match (parts.next().map(str::parse::<i64>), parts.next(), parts.next().map(str::parse::<i64>)) {
            (Some(Ok(x)), Some("+"), Some(Ok(y))) => Some(x + y),
            (Some(Ok(x)), Some("*"), Some(Ok(y))) => Some(x * y),
            _ => None,
        };
    match result {
        Some(v) => Executed { observation: v.to_string(), status: ExecStatus::Ok, elapsed_ms: 5.0 },
        None => {
            let name = expr.split_whitespace().next().unwrap_or("x");
            Executed {
                observation: format!("NameError: name '{name}' is not defined"),
                status: ExecStatus::Error,
                elapsed_ms: 5.0,
            }
        }
    }
}

fn value(problem: Problem, need: &ValueNeed) -> Option<f64> {
    Some(if on_track(problem, &outputs(&need.prompt)) { 0.5 } else { -0.5 })
}

/// Simulates one search on a synthetic problem and returns the finished record: the problem's
/// keys (`index`, `question`, `answer`), the tree, and run facts under `arbor`.
pub fn simulate(index: usize, cfg: &SimConfig) -> TreeRecord {
    let mut rng = StdRng::seed_from_u64(cfg.seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let problem =
        Problem { a: rng.random_range(2..60), b: rng.random_range(2..30), c: rng.random_range(2..30) };
    let question = format!(
        "A crate holds {} apples. A farmer adds {} bags of {} apples each. How many apples are in the crate now?",
        problem.a, problem.b, problem.c
    );
    let config = SearchConfig {
        mode: Mode::Mcts,
        n_generate_sample: cfg.children as usize,
        c_puct: cfg.c_puct,
        max_depth: cfg.max_depth,
        errors_threshold: cfg.errors_threshold,
        iterations: cfg.nodes,
        is_sampling: true,
        need_value_func: true,
        prune: true,
        seed: cfg.seed,
        ..SearchConfig::default()
    };
    let mut backends = Scripted::new(move |n| policy(problem, n), execute, move |n| value(problem, n));
    let mut driver = Driver::new();
    let gold = GroundTruth::One(problem.answer().to_string());
    let id = driver.add(new_search(config.clone(), &question, gold, index as u64));
    // Scripted backends never fail.
    while driver.search(id).tree().len() < cfg.nodes
        && driver.round(&mut backends, &mut |_, _| {}).unwrap_or(false)
    {}
    driver.search_mut(id).finish_early();

    let mut fields = Map::new();
    fields.insert("index".into(), json!(index));
    fields.insert("question".into(), Value::String(question));
    fields.insert("answer".into(), Value::String(problem.answer().to_string()));
    let mut record = to_record(&fields, driver.search(id), &config, &RunFacts::default());
    record.run.insert("simulated".into(), json!(true));
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulated_trees_obey_mcts_invariants() {
        let record = simulate(3, &SimConfig::reference(400, 7));
        let tree = &record.tree;
        assert!(tree.len() >= 400);
        for id in tree.ids() {
            let node = tree.node(id);
            let s = node.stats();
            let child_visits: u32 = node.children().iter().map(|c| tree.node(*c).stats().visit_count).sum();
            assert!(s.visit_count >= child_visits, "{}", node.tag());
            if s.visit_count > 0 {
                assert!((s.q_value - s.value_sum / f64::from(s.visit_count)).abs() < 1e-12);
                assert!(s.value.is_some());
            }
            assert!(node.children().len() <= 5);
            assert!(node.depth() <= 9);
        }
        assert!(tree.ids().any(|id| tree.node(id).info().correct == Some(true)), "some answers are right");
        assert!(tree.ids().any(|id| tree.node(id).info().correct == Some(false)), "some are wrong");
        // Deterministic by seed.
        assert_eq!(simulate(3, &SimConfig::reference(400, 7)).tree, record.tree);
    }

    #[test]
    fn the_scripted_interpreter_computes_and_fails_like_python() {
        let run = |code: &str| {
            execute(&ExecuteNeed { node: crate::tree::NodeId::ROOT, ancestors: vec![], code: code.into() })
        };
        assert_eq!(run("```python\nx = 12 * 7\nprint(x)\n```").observation, "84");
        let e = run("```python\nx = total * 2\nprint(x)\n```");
        assert_eq!(
            (e.observation.as_str(), e.status),
            ("NameError: name 'total' is not defined", ExecStatus::Error)
        );
    }
}
