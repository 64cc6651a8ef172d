//! λ-mixing with rollouts (AlphaMath) and the η-MCTS options (AlphaLLM) on scripted backends:
//! hand-checkable arithmetic, rollouts that run code but add no nodes, adaptive branching,
//! state merge, option-level steps, critics, and the toy problem's optimum with everything on.

#![allow(clippy::unwrap_used)] // tests unwrap what they built themselves

use std::sync::{Arc, Mutex};

use arbor::engine::driver::Driver;
use arbor::engine::scripted::Scripted;
use arbor::problems::GroundTruth;
use arbor::search::config::{Mode, OptionEnd, SearchConfig};
use arbor::search::new_search;
use arbor::search::request::{
    ExecuteNeed, Executed, GenerateNeed, Generated, JudgeKind, JudgeNeed, ModelRole, Sample,
};
use arbor::tree::{ExecStatus, NodeId, TerminalReason, Tree, TreeEvent};

const RIGHT_CODE: &str = arbor::engine::scripted::TOY_RIGHT_STEP;
const WRONG_CODE: &str = arbor::engine::scripted::TOY_WRONG_STEP;
const ROLL_RIGHT: &str = "<step>\n<p>\nRollout multiply.\n</p>\n<code>\n```python\nx = 6 * 7\nprint(x)\n```";
const ROLL_WRONG: &str = "<step>\n<p>\nRollout add.\n</p>\n<code>\n```python\nx = 6 + 7\nprint(x)\n```";
/// Prints `x`, which only the replayed code of the path defines.
const ROLL_PRINT: &str = "<step>\n<p>\nRollout print.\n</p>\n<code>\n```python\nprint(x)\n```";

fn answer(text: &str) -> String {
    format!("<step>\n<p>\nSo it is {text}.\n</p>\n<p>\nFinal Answer: ${text}$\n</p>\n")
}

fn sample(text: &str, logprob: f64) -> Sample {
    Sample { text: text.to_owned(), tokens: 4, logprob_sum: logprob * 4.0, finish: Some("stop".into()) }
}

fn generated(texts: &[&str], value: f64) -> Generated {
    let samples = texts.iter().enumerate().map(|(i, t)| sample(t, -0.1 * (i as f64 + 1.0))).collect();
    Generated { samples, value: Some(value), elapsed_ms: 0.0 }
}

/// `x = 6 * 7` anywhere on the replayed path or in the code prints 42, `6 + 7` prints 13.
fn exec(need: &ExecuteNeed) -> Executed {
    let all = format!("{}\n{}", need.ancestors.join("\n"), need.code);
    let observation =
        if need.code.contains("6 + 7") || (!need.code.contains("6 * 7") && all.contains("6 + 7")) {
            "13"
        } else if all.contains("6 * 7") {
            "42"
        } else {
            "NameError: name 'x' is not defined"
        };
    Executed { observation: observation.into(), status: ExecStatus::Ok, elapsed_ms: 0.0 }
}

/// The answer a rollout gives after its code: what its last output says.
fn answer_after_output(prompt: &str) -> String {
    let last = prompt.rsplit("<output>\n").next().unwrap_or("");
    answer(last.lines().next().unwrap_or(""))
}

fn run(config: SearchConfig, truth: GroundTruth, backends: &mut Scripted) -> (Tree, Vec<TreeEvent>) {
    let mut driver = Driver::new();
    driver.add(new_search(config, "What is 6 times 7?", truth, 0));
    let mut events = Vec::new();
    driver.run(backends, &mut |_, mut e| events.append(&mut e)).unwrap();
    (driver.search(0).tree().clone(), events)
}

fn mcts(iterations: usize) -> SearchConfig {
    SearchConfig {
        mode: Mode::Mcts,
        n_generate_sample: 2,
        iterations,
        max_depth: 8,
        errors_threshold: 3,
        c_puct: 1.25,
        need_value_func: true,
        seed: 7,
        ..SearchConfig::default()
    }
}

/// Root: the right and the wrong multiplication (value 0.2). After the right code: two answers
/// (value 0.5). Rollouts from the root alternate right and wrong code, then answer what the
/// code printed; rollouts from the right code print `x` (defined only by the replayed path),
/// then answer. Rollout requests and executions are logged.
fn lambda_backends(log: Arc<Mutex<Vec<String>>>, execs: Arc<Mutex<Vec<ExecuteNeed>>>) -> Scripted {
    let mut rollout_starts = 0;
    let policy = move |need: &GenerateNeed| -> Generated {
        if need.role == ModelRole::Rollout {
            log.lock().unwrap().push(format!("rollout t={:?} n={}", need.temperature, need.n));
            let text = if need.prompt.contains("Rollout") {
                answer_after_output(&need.prompt)
            } else if need.prompt.contains("<output>") {
                ROLL_PRINT.to_owned()
            } else {
                rollout_starts += 1;
                if rollout_starts % 2 == 1 { ROLL_RIGHT.to_owned() } else { ROLL_WRONG.to_owned() }
            };
            return generated(&[&text], 0.0);
        }
        if need.prompt.contains("<output>\n42\n") {
            generated(&[&answer("42"), &answer("40")], 0.5)
        } else {
            generated(&[RIGHT_CODE, WRONG_CODE], 0.2)
        }
    };
    let execute = move |need: &ExecuteNeed| {
        execs.lock().unwrap().push(need.clone());
        exec(need)
    };
    Scripted::new(policy, execute, |_| Some(0.0))
}

#[test]
fn lambda_mixes_value_and_mean_rollout_outcome_exactly() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let execs = Arc::new(Mutex::new(Vec::new()));
    let config = SearchConfig {
        lambda: 0.25,
        rollouts: 3,
        rollout_max_steps: 4,
        rollout_temperature: 0.9,
        is_sampling: true,
        ..mcts(2)
    };
    let mut backends = lambda_backends(log.clone(), execs.clone());
    let (tree, _) = run(config, GroundTruth::One("42".into()), &mut backends);

    // Rollouts never add nodes: the root, its two code steps, the right step's two answers.
    assert_eq!(tree.len(), 5);
    let root = tree.node(NodeId::ROOT);
    let right = tree.find("0.0").unwrap();
    assert!(tree.node(right).step().action_input.contains("6 * 7"));

    // Iteration 1: V(root) = 0.2; rollouts right (+1), wrong (−1), right (+1).
    let e_root = 0.75 * 0.2 + 0.25 * ((1.0 + -1.0 + 1.0) / 3.0);
    let eval = root.info().evaluation.as_ref().unwrap();
    assert_eq!(eval.value, Some(0.2));
    assert_eq!(eval.estimate, e_root);
    assert_eq!(eval.lambda, 0.25);
    let outcomes: Vec<Option<f64>> = eval.rollouts.iter().map(|r| r.outcome).collect();
    assert_eq!(outcomes, [Some(1.0), Some(-1.0), Some(1.0)]);
    assert!(eval.rollouts.iter().all(|r| r.steps == 2 && r.end == Some(TerminalReason::FinalAnswer)));
    assert_eq!(eval.rollouts[1].final_answer, "13");

    // Iteration 2 expands the right step: V = 0.5, every rollout prints 42 and answers it.
    let e_right = 0.75 * 0.5 + 0.25 * ((1.0 + 1.0 + 1.0) / 3.0);
    let right_node = tree.node(right);
    assert_eq!(right_node.info().evaluation.as_ref().unwrap().estimate, e_right);
    assert_eq!(right_node.stats().value, Some(e_right), "the node's value is the mixed estimate");
    // Its visits: the answers' +1 and −1, then its own estimate.
    assert_eq!(right_node.stats().visit_count, 3);
    assert_eq!(right_node.stats().value_sum, (1.0 + -1.0) + e_right);
    assert_eq!(root.stats().visit_count, 4);
    assert_eq!(root.stats().value_sum, ((e_root + 1.0) + -1.0) + e_right);
    assert_eq!(root.stats().value, Some(e_root));

    // Rollout code ran through the interpreter, replaying the path's code first.
    let execs = execs.lock().unwrap();
    assert_eq!(execs.len(), 2 + 3 + 3, "two tree steps, one code step per rollout");
    let print_only: Vec<&ExecuteNeed> = execs.iter().filter(|n| !n.code.contains("x = ")).collect();
    assert_eq!(print_only.len(), 3);
    assert!(
        print_only
            .iter()
            .all(|n| n.node == right && n.ancestors.len() == 1 && n.ancestors[0].contains("6 * 7"))
    );
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 12, "six rollouts of two steps");
    assert!(log.iter().all(|l| l == "rollout t=Some(0.9) n=1"));
}

#[test]
fn test_mode_rollouts_are_scored_by_the_value_head_and_failures_by_the_negative_reward() {
    // A rollout that never answers is cut by its budget and scored by the value head; one whose
    // code keeps failing gets the negative reward.
    const BAD: &str = "<step>\n<p>\nBad.\n</p>\n<code>\n```python\n1/0\n```";
    let mut starts = 0;
    let policy = move |need: &GenerateNeed| -> Generated {
        if need.role == ModelRole::Rollout {
            let text = if need.prompt.contains("Rollout multiply") {
                ROLL_RIGHT
            } else if need.prompt.contains("Bad.") {
                BAD
            } else {
                starts += 1;
                if starts % 2 == 1 { ROLL_RIGHT } else { BAD }
            };
            return generated(&[text], 0.0);
        }
        generated(&[RIGHT_CODE], 0.3)
    };
    let exec = |need: &ExecuteNeed| {
        if need.code.contains("1/0") {
            Executed {
                observation: "ZeroDivisionError: division by zero".into(),
                status: ExecStatus::Error,
                elapsed_ms: 0.0,
            }
        } else {
            exec(need)
        }
    };
    let value = |need: &arbor::search::request::ValueNeed| {
        Some(if need.prompt.contains("Rollout") { 0.6 } else { 0.1 })
    };
    let config = SearchConfig {
        lambda: 0.5,
        rollouts: 4,
        rollout_max_steps: 2,
        errors_threshold: 1,
        n_generate_sample: 1,
        ..mcts(1)
    };
    let (tree, _) = run(config, GroundTruth::Unknown, &mut Scripted::new(policy, exec, value));
    let eval = tree.node(NodeId::ROOT).info().evaluation.clone().unwrap();
    let mut rs = Vec::new();
    for r in &eval.rollouts {
        match r.end {
            None => assert_eq!((r.steps, r.outcome), (2, Some(0.6)), "budget: the value head scores the end"),
            Some(TerminalReason::TooManyCodeErrors) => assert_eq!((r.steps, r.outcome), (2, Some(-1.0))),
            other => panic!("unexpected end {other:?}"),
        }
        rs.push(r.outcome.unwrap());
    }
    assert_eq!(eval.estimate, 0.5 * 0.3 + 0.5 * (rs.iter().sum::<f64>() / 4.0));
    assert_eq!(tree.len(), 2);
}

#[test]
fn critics_combine_by_their_weights() {
    let judged = Arc::new(Mutex::new(Vec::<JudgeNeed>::new()));
    let seen = judged.clone();
    let mut rollout_starts = 0;
    let policy = move |need: &GenerateNeed| -> Generated {
        if need.role == ModelRole::Rollout {
            let text = if need.prompt.contains("Rollout") {
                answer_after_output(&need.prompt)
            } else {
                rollout_starts += 1;
                if rollout_starts % 2 == 1 { ROLL_RIGHT.to_owned() } else { ROLL_WRONG.to_owned() }
            };
            return generated(&[&text], 0.0);
        }
        if need.prompt.contains("<output>\n42\n") {
            generated(&[&answer("42"), &answer("40")], 0.5)
        } else {
            generated(&[RIGHT_CODE, WRONG_CODE], 0.2)
        }
    };
    // The value head: 0.7 for an answer of 42, 0.1 otherwise.
    let value = |need: &arbor::search::request::ValueNeed| {
        let last = need.prompt.rsplit("<step>").next().unwrap_or("");
        Some(if last.contains("$42$") { 0.7 } else { 0.1 })
    };
    let judge = move |need: &JudgeNeed| {
        seen.lock().unwrap().push(need.clone());
        let last = need.prompt.rsplit("<step>").next().unwrap_or("");
        Some(match need.kind {
            JudgeKind::Prm => 0.8,
            JudgeKind::Orm if last.contains("$42$") => 0.9,
            JudgeKind::Orm => 0.3,
        })
    };
    let config = SearchConfig {
        rollouts: 2,
        eta_value_weight: 0.5,
        eta_prm_weight: 1.0,
        eta_orm_weight: 2.0,
        ..mcts(2)
    };
    let mut backends = Scripted::new(policy, exec, value).with_judge(judge);
    let (tree, _) = run(config, GroundTruth::Unknown, &mut backends);

    // The root: no step to judge; its rollouts answer 42 and 13.
    let root = tree.node(NodeId::ROOT).info().evaluation.clone().unwrap();
    assert_eq!((root.prm, root.orm), (None, Some((0.9 + 0.3) / 2.0)));
    assert_eq!(root.critic, 0.5 * 0.2 + 2.0 * ((0.9 + 0.3) / 2.0));
    assert_eq!(root.estimate, root.critic, "λ = 0: the critics alone");
    assert!(root.rollouts.iter().all(|r| r.outcome.is_none()), "no outcomes without λ");

    // The right step: value 0.5, PRM 0.8, its rollouts answer 42 and 13 again.
    let right = tree.node(tree.find("0.0").unwrap()).info().evaluation.clone().unwrap();
    assert_eq!(right.critic, 0.5 * 0.5 + 1.0 * 0.8 + 2.0 * ((0.9 + 0.3) / 2.0));
    // A terminal answer (test mode) is its own rollout end: value 0.7, PRM, ORM of itself.
    let answer_42 = tree.node(tree.find("0.0.0").unwrap());
    let e = answer_42.info().evaluation.clone().unwrap();
    assert_eq!((e.value, e.prm, e.orm), (Some(0.7), Some(0.8), Some(0.9)));
    assert_eq!(e.critic, 0.5 * 0.7 + 1.0 * 0.8 + 2.0 * 0.9);
    assert_eq!(answer_42.stats().q_value, e.critic);

    // The judges saw AlphaLLM's prompts with the question, the step and the trajectories.
    let judged = judged.lock().unwrap();
    let prm =
        judged.iter().find(|n| n.kind == JudgeKind::Prm && n.node == tree.find("0.0").unwrap()).unwrap();
    assert!(prm.prompt.contains("### State\nWhat is 6 times 7?\n\n###Action\n<step>\n<p>\nMultiply."));
    assert!(prm.prompt.ends_with("</output>\n</step>\n\n###Assessment\n"));
    let orm = judged.iter().find(|n| n.kind == JudgeKind::Orm).unwrap();
    assert!(
        orm.prompt
            .contains("### Prompt\nWhat is 6 times 7?\n\n###Trajectory\n<step>\n<p>\nRollout multiply.")
    );
}

#[test]
fn a_judge_is_required_only_when_a_critic_weight_asks_for_it() {
    let config = SearchConfig { eta_prm_weight: 1.0, ..mcts(2) };
    let mut driver = Driver::new();
    driver.add(new_search(config, "q", GroundTruth::Unknown, 0));
    let mut no_judge = Scripted::new(|_| generated(&[RIGHT_CODE], 0.1), exec, |_| Some(0.0));
    let err = driver.run(&mut no_judge, &mut |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("judge"), "{err}");
}

/// Root: the right code and a wrong answer (−1, so the root is important); later samples
/// from the root repeat them with one and two characters changed. After the right code: the
/// answer 42 (+1). Every request is logged as (node, n, want_value).
fn branching_policy(log: Arc<Mutex<Vec<(NodeId, usize, bool)>>>) -> impl FnMut(&GenerateNeed) -> Generated {
    let mut root_calls = 0;
    move |need: &GenerateNeed| {
        log.lock().unwrap().push((need.node, need.n, need.want_value));
        let texts: Vec<String> = if need.prompt.contains("<output>\n42\n") {
            vec![answer("42"); need.n]
        } else {
            root_calls += 1;
            let pair = if root_calls == 1 {
                [RIGHT_CODE.to_owned(), answer("12")]
            } else {
                [RIGHT_CODE.replace("Multiply.", "Multiply!"), answer("12 ")]
            };
            (0..need.n).map(|i| pair[i % 2].clone()).collect()
        };
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        generated(&texts, 0.0)
    }
}

fn adaptive(iterations: usize) -> SearchConfig {
    SearchConfig {
        eta_adaptive_branching: true,
        eta_alpha: 3.0,
        eta_c_min_root: 2,
        eta_c_max_root: 4,
        eta_c_min: 1,
        eta_c_max: 2,
        n_generate_sample: 5,
        is_sampling: true,
        ..mcts(iterations)
    }
}

#[test]
fn adaptive_branching_widens_important_nodes_within_c_min_and_c_max() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut backends = Scripted::new(branching_policy(log.clone()), exec, |_| Some(0.0));
    let (tree, _) = run(adaptive(8), GroundTruth::One("42".into()), &mut backends);
    let log = log.lock().unwrap();
    // The root is first expanded into c_min(0) = 2 samples, not n_generate_sample.
    assert_eq!(log[0], (NodeId::ROOT, 2, true));
    // Its wrong answer makes I(root) = |−1 − 0| = 1: n = min(⌊3·1⌋ + 1, c_max(0)) = 4, so it is
    // widened once by 2 samples (no value asked again), and never beyond c_max(0).
    assert_eq!(log[1], (NodeId::ROOT, 2, false));
    assert_eq!(log.iter().filter(|(n, _, _)| *n == NodeId::ROOT).count(), 2);
    assert_eq!(tree.node(NodeId::ROOT).children().len(), 4);
    // A code step is expanded into c_min(t) = 1 sample; its answer (+1 against its value 0)
    // makes it important, but c_max(t) = 2 caps the widening (⌊3·1⌋ + 1 = 4).
    let code_steps: Vec<NodeId> =
        tree.node(NodeId::ROOT).children().iter().copied().filter(|c| tree.node(*c).is_code()).collect();
    assert_eq!(code_steps.len(), 2);
    for id in code_steps {
        let expansions: Vec<usize> = log.iter().filter(|(n, _, _)| *n == id).map(|(_, k, _)| *k).collect();
        assert_eq!(expansions, [1, 1], "first c_min(t), then widened up to c_max(t)");
        assert_eq!(tree.node(id).children().len(), 2);
    }
    // Visits add up: a widening backs up only its children's rewards.
    for id in tree.ids() {
        let s = tree.node(id).stats();
        if s.visit_count > 0 {
            assert!((s.q_value - s.value_sum / f64::from(s.visit_count)).abs() < 1e-12);
        }
    }
}

#[test]
fn state_merge_joins_near_duplicates_and_records_the_count() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let config = SearchConfig { eta_merge_distance: 4, ..adaptive(2) };
    let mut backends = Scripted::new(branching_policy(log.clone()), exec, |_| Some(0.0));
    let (tree, events) = run(config, GroundTruth::One("42".into()), &mut backends);
    // First expansion: the right code and the answer 12; the widening's two samples differ from
    // them by two and one characters and join them instead of making children.
    assert_eq!(log.lock().unwrap()[1], (NodeId::ROOT, 2, false), "the root was widened");
    let root = tree.node(NodeId::ROOT);
    assert_eq!(root.children().len(), 2);
    for &c in root.children() {
        assert_eq!(tree.node(c).info().merged, Some(2), "{}", tree.node(c).tag());
    }
    let merged: Vec<u32> = events
        .iter()
        .filter_map(|e| if let TreeEvent::Merged { count, .. } = e { Some(*count) } else { None })
        .collect();
    assert_eq!(merged, [2, 2]);
    // A batch's own near-duplicates merge too.
    let policy = |_: &GenerateNeed| {
        generated(&[RIGHT_CODE, WRONG_CODE, &RIGHT_CODE.replace("6 * 7", "6*7"), RIGHT_CODE], 0.0)
    };
    let config = SearchConfig { eta_merge_distance: 4, n_generate_sample: 4, ..mcts(1) };
    let (tree, _) = run(config, GroundTruth::Unknown, &mut Scripted::new(policy, exec, |_| Some(0.0)));
    let root = tree.node(NodeId::ROOT);
    assert_eq!(root.children().len(), 2);
    assert_eq!(tree.node(root.children()[0]).info().merged, Some(3));
    assert_eq!(tree.node(root.children()[1]).info().merged, None);
}

#[test]
fn option_steps_without_a_formula_are_continued_up_to_the_cap() {
    let calls = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = calls.clone();
    let policy = move |need: &GenerateNeed| {
        seen.lock().unwrap().push(need.prompt.clone());
        if need.prompt.ends_with("Let me think.\n") {
            generated(&["We need $6 \\times 7$.\n</p>\n<code>\n```python\nprint(6 * 7)\n```"], 0.0)
        } else if need.prompt.ends_with("Hmm.\n") {
            generated(&["Hmm."], 0.0)
        } else {
            generated(&["<step>\n<p>\nLet me think.", RIGHT_CODE, "<step>\n<p>\nHmm."], 0.1)
        }
    };
    let config = SearchConfig {
        eta_option_end: OptionEnd::Formula,
        eta_option_max_extensions: 3,
        n_generate_sample: 3,
        ..mcts(1)
    };
    let (tree, _) = run(config, GroundTruth::Unknown, &mut Scripted::new(policy, exec, |_| Some(0.0)));
    let root = tree.node(NodeId::ROOT);
    assert_eq!(root.children().len(), 3);
    // Continued once: a code step now, run and stored as one option.
    let first = tree.node(root.children()[0]);
    assert!(
        first.step().text.starts_with("<step>\n<p>\nLet me think.\nWe need $6 \\times 7$.\n</p>\n<code>")
    );
    assert_eq!(first.info().execution.as_ref().unwrap().observation, "42");
    assert_eq!(first.info().generation.as_ref().unwrap().tokens, 8);
    // Complete from the start: untouched.
    assert_eq!(tree.node(root.children()[1]).step().action_input, "```python\nx = 6 * 7\nprint(x)\n```");
    // Never complete: continued three times (the cap), then kept as it is.
    let hmm = tree.node(root.children()[2]);
    assert_eq!(hmm.step().text, "<step>\n<p>\nHmm.\nHmm.\nHmm.\nHmm.");
    assert_eq!(hmm.info().terminal, Some(TerminalReason::NoValidChild));
    let calls = calls.lock().unwrap();
    assert_eq!(
        calls.len(),
        1 + 2 + 1 + 1,
        "the expansion, two continuations, then one a round up to the cap"
    );
}

#[test]
fn eta_mcts_with_every_option_still_finds_the_toy_optimum() {
    let config = SearchConfig {
        iterations: 40,
        prune: true,
        lambda: 0.3,
        rollouts: 2,
        rollout_max_steps: 4,
        eta_option_end: OptionEnd::Formula,
        eta_adaptive_branching: true,
        eta_alpha: 4.0,
        eta_c_min_root: 3,
        eta_c_max_root: 6,
        eta_c_min: 2,
        eta_c_max: 4,
        eta_merge_distance: 3,
        eta_prm_weight: 0.5,
        eta_orm_weight: 0.5,
        is_sampling: true,
        ..mcts(40)
    };
    // Judges that like multiplying and the answer 42.
    let judge = |need: &JudgeNeed| {
        let last = need.prompt.rsplit("###Assessment").nth(1).unwrap_or("");
        Some(if last.contains("6 * 7") || last.contains("$42$") { 0.9 } else { 0.2 })
    };
    let mut driver = Driver::new();
    driver.add(new_search(config, "What is 6 times 7?", GroundTruth::One("42".into()), 0));
    let mut backends =
        Scripted::new(arbor::engine::scripted::toy_policy, exec, |_| Some(0.0)).with_judge(judge);
    driver.run(&mut backends, &mut |_, _| {}).unwrap();
    let search = driver.search(0);
    let tree = search.tree();
    // Merged samples and narrow, unimportant nodes leave a small tree: the search may exhaust
    // it before the budget.
    let exhausted = tree.node(NodeId::ROOT).info().terminal == Some(TerminalReason::ChildrenExhausted);
    assert!(search.iterations() == 40 || exhausted, "{} iterations", search.iterations());
    assert_eq!(search.outcome().unwrap().answer.as_deref(), Some("42"));
    assert!(driver.counts.judge_calls > 0);
    // Merged children stand for several samples; no rollout step became a node.
    assert!(tree.ids().any(|id| tree.node(id).info().merged.is_some()));
    assert!(tree.ids().all(|id| !tree.node(id).step().text.contains("Rollout")));
    for id in tree.ids() {
        let node = tree.node(id);
        let bound = if node.depth() == 0 { 6 } else { 4 };
        assert!(node.children().len() <= bound, "{} has {} children", node.tag(), node.children().len());
        let s = node.stats();
        if s.visit_count > 0 {
            assert!((s.q_value - s.value_sum / f64::from(s.visit_count)).abs() < 1e-12);
        }
    }
}

#[test]
fn eta_options_are_validated() {
    let bad = |c: SearchConfig| c.validate().unwrap_err().to_string();
    assert!(bad(SearchConfig { mode: Mode::Sbs, lambda: 0.5, ..SearchConfig::default() }).contains("mcts"));
    assert!(bad(SearchConfig { lambda: 0.5, rollouts: 0, ..SearchConfig::default() }).contains("rollouts"));
    assert!(
        bad(SearchConfig {
            eta_adaptive_branching: true,
            eta_c_min: 5,
            eta_c_max: 2,
            ..SearchConfig::default()
        })
        .contains("eta_c_min")
    );
    let mut c = SearchConfig::default();
    c.set("eta_merge_distance=30").unwrap();
    c.set("eta_option_end=formula").unwrap();
    c.set("rollout_score=orm").unwrap();
    assert_eq!((c.eta_merge_distance, c.eta_option_end), (30, OptionEnd::Formula));
    assert!(c.validate().is_ok());
    assert!(SearchConfig::default().validate().is_ok());
}

#[test]
fn test_mode_rollouts_can_be_scored_by_the_orm_as_a_reward() {
    let mut starts = 0;
    let policy = move |need: &GenerateNeed| -> Generated {
        if need.role == ModelRole::Rollout {
            let text = if need.prompt.contains("Rollout") {
                answer_after_output(&need.prompt)
            } else {
                starts += 1;
                if starts % 2 == 1 { ROLL_RIGHT.to_owned() } else { ROLL_WRONG.to_owned() }
            };
            return generated(&[&text], 0.0);
        }
        generated(&[RIGHT_CODE], 0.4)
    };
    let judge = |need: &JudgeNeed| {
        assert_eq!(need.kind, JudgeKind::Orm);
        Some(if need.prompt.contains("$42$") { 0.75 } else { 0.25 })
    };
    let config = SearchConfig {
        lambda: 1.0,
        rollouts: 2,
        rollout_score: arbor::search::config::RolloutScore::Orm,
        n_generate_sample: 1,
        ..mcts(1)
    };
    let mut backends = Scripted::new(policy, exec, |_| Some(0.0)).with_judge(judge);
    let (tree, _) = run(config, GroundTruth::Unknown, &mut backends);
    let eval = tree.node(NodeId::ROOT).info().evaluation.clone().unwrap();
    // P = 0.75 and 0.25 read as rewards on [−1, 1]: 0.5 and −0.5; λ = 1 keeps only them.
    let outcomes: Vec<Option<f64>> = eval.rollouts.iter().map(|r| r.outcome).collect();
    assert_eq!(outcomes, [Some(0.5), Some(-0.5)]);
    assert_eq!(eval.orm, None, "the ORM critic has no weight; it only scored the ends");
    assert_eq!(eval.estimate, 0.0 * 0.4 + 1.0 * ((0.5 + -0.5) / 2.0));
}

#[test]
fn update_leaf_value_evaluates_the_new_children_instead() {
    let config =
        SearchConfig { update_leaf_value: true, lambda: 0.5, rollouts: 1, is_sampling: true, ..mcts(1) };
    let mut backends = lambda_backends(Arc::default(), Arc::default());
    let (tree, _) = run(config, GroundTruth::One("42".into()), &mut backends);
    let root = tree.node(NodeId::ROOT);
    assert!(root.info().evaluation.is_none());
    for &c in root.children() {
        let e = tree.node(c).info().evaluation.clone().unwrap();
        assert_eq!(e.value, Some(0.0), "asked of the value head");
        assert_eq!(e.rollouts.len(), 1);
        assert_eq!(tree.node(c).stats().visit_count, 1);
    }
    assert_eq!(root.stats().visit_count, 2);
}

#[test]
fn judgements_of_many_searches_are_batched_into_one_call_per_round() {
    let config = SearchConfig { eta_prm_weight: 1.0, ..mcts(3) };
    let mut driver = Driver::new();
    for i in 0..4 {
        driver.add(new_search(config.clone(), "What is 6 times 7?", GroundTruth::Unknown, i));
    }
    let mut backends = lambda_backends(Arc::default(), Arc::default()).with_judge(|_| Some(0.5));
    driver.run(&mut backends, &mut |_, _| {}).unwrap();
    let c = driver.counts;
    assert!(c.judge_calls > 0 && c.judge_calls <= c.rounds);
    assert!(c.judge_requests >= 4 * c.judge_calls, "{c:?}");
}

#[test]
fn the_eta_preset_reads_and_validates() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/eta_mcts.toml");
    let config = SearchConfig::from_toml(&std::fs::read_to_string(path).unwrap(), path).unwrap();
    config.validate().unwrap();
    assert!(config.uses_eta() && config.plays_rollouts());
    assert_eq!((config.eta_c_min_root, config.eta_c_max), (10, 10));
}
