//! Search behaviour on a toy problem with a known optimum, the MCTS invariants after every
//! round, the driver's batching, and each §14 quirk: arbor's fix by default, the reference's
//! behaviour under `compat = true`.

#![allow(clippy::unwrap_used)] // tests unwrap what they built themselves

use arbor::engine::driver::Driver;
use arbor::engine::scripted::{Scripted, TOY_RIGHT_STEP, TOY_WRONG_STEP, toy, toy_answer, toy_exec};
use arbor::problems::GroundTruth;
use arbor::search::config::{LeafValue, Mode, SearchConfig};
use arbor::search::new_search;
use arbor::search::request::{Executed, Generated, Need, Sample};
use arbor::tree::{ExecStatus, NodeId, TerminalReason, Tree};

const RIGHT_CODE: &str = TOY_RIGHT_STEP;
const WRONG_CODE: &str = TOY_WRONG_STEP;

fn answer(text: &str) -> String {
    toy_answer(text)
}

fn sample(text: String, logprob: f64) -> Sample {
    Sample { text, tokens: 4, logprob_sum: logprob * 4.0, finish: Some("stop".into()) }
}

fn toy_backends() -> Scripted {
    toy()
}

fn mcts_config() -> SearchConfig {
    SearchConfig {
        mode: Mode::Mcts,
        n_generate_sample: 5,
        iterations: 40,
        max_depth: 8,
        errors_threshold: 3,
        c_puct: 1.25,
        is_sampling: true,
        prune: true,
        need_value_func: true,
        seed: 7,
        ..SearchConfig::default()
    }
}

/// Visits, Q and values are consistent: each node's visits are its own backups (one when it
/// was expanded or evaluated) plus its children's, Q is the mean of what passed through it.
fn check_invariants(tree: &Tree) {
    for id in tree.ids() {
        let node = tree.node(id);
        let s = node.stats();
        let below: u32 = node.children().iter().map(|c| tree.node(*c).stats().visit_count).sum();
        let own = s.visit_count - below;
        assert!(own <= 1, "{}: {own} own backups", node.tag());
        if s.visit_count > 0 {
            assert!(s.value.is_some(), "{} was visited but has no value", node.tag());
            assert!((s.q_value - s.value_sum / f64::from(s.visit_count)).abs() < 1e-12);
            assert!((-1.0..=1.0).contains(&s.q_value), "{}: Q {}", node.tag(), s.q_value);
        } else {
            assert_eq!(s.q_value, 0.0);
        }
        if !node.children().is_empty() {
            assert_eq!(own, 1, "{}: an expanded node backs up its own value once", node.tag());
        }
    }
}

#[test]
fn mcts_finds_the_optimum_and_keeps_its_invariants_every_round() {
    let mut driver = Driver::new();
    driver.add(new_search(mcts_config(), "What is 6 times 7?", GroundTruth::One("42".into()), 0));
    let mut backends = toy_backends();
    let mut rounds = 0;
    while driver.round(&mut backends, &mut |_, _| {}).unwrap() {
        check_invariants(driver.search(0).tree());
        rounds += 1;
    }
    let search = driver.search(0);
    assert_eq!(search.iterations(), 40);
    assert_eq!(rounds, 40, "one expansion per round for a single tree");
    assert!(search.tree().len() > 100);
    let outcome = search.outcome().unwrap();
    assert_eq!(outcome.answer.as_deref(), Some("42"));
    // The multiplication branch ends up with the most visits below the root.
    let tree = search.tree();
    let best =
        tree.node(NodeId::ROOT).children().iter().max_by_key(|c| tree.node(**c).stats().visit_count).unwrap();
    assert!(tree.node(*best).step().action_input.contains("6 * 7"));
}

#[test]
fn driver_batches_many_searches_into_one_call_per_stage() {
    let mut driver = Driver::new();
    for i in 0..6 {
        driver.add(new_search(mcts_config(), "What is 6 times 7?", GroundTruth::One("42".into()), i));
    }
    let mut backends = toy_backends();
    driver.round(&mut backends, &mut |_, _| {}).unwrap();
    assert_eq!(driver.counts.generate_calls, 1);
    assert_eq!(driver.counts.generate_requests, 6, "every tree's leaf in one call");
    driver.run(&mut backends, &mut |_, _| {}).unwrap();
    assert_eq!(driver.counts.rounds, 40);
    assert_eq!(driver.counts.generate_calls, 40);
    // Different problem seeds give different trees; the same seed the same tree.
    let a = driver.search(0).tree().clone();
    assert_ne!(&a, driver.search(1).tree());
    let mut again = Driver::new();
    again.add(new_search(mcts_config(), "What is 6 times 7?", GroundTruth::One("42".into()), 0));
    again.run(&mut toy_backends(), &mut |_, _| {}).unwrap();
    assert_eq!(&a, again.search(0).tree());
}

#[test]
fn beam_search_and_chains_answer_the_toy() {
    // SBS(3,5) with the value head preferring 42.
    let config = SearchConfig {
        mode: Mode::Sbs,
        step_beam_width: 3,
        n_generate_sample: 5,
        need_value_func: true,
        max_depth: 6,
        seed: 1,
        ..SearchConfig::default()
    };
    let mut driver = Driver::new();
    driver.add(new_search(config, "What is 6 times 7?", GroundTruth::One("42".into()), 0));
    driver.run(&mut toy_backends(), &mut |_, _| {}).unwrap();
    assert_eq!(driver.search(0).outcome().unwrap().answer.as_deref(), Some("42"));

    // maj@9 over sampled chains.
    let config = SearchConfig {
        mode: Mode::Sample,
        n_generate_sample: 9,
        max_depth: 6,
        seed: 3,
        ..SearchConfig::default()
    };
    let mut driver = Driver::new();
    driver.add(new_search(config, "What is 6 times 7?", GroundTruth::One("42".into()), 0));
    driver.run(&mut toy_backends(), &mut |_, _| {}).unwrap();
    let s = driver.search(0);
    assert_eq!(s.tree().node(NodeId::ROOT).children().len(), 9, "nine chains");
    assert!(s.outcome().unwrap().answer.is_some());
}

/// A policy whose root always yields one terminal answer and one code step whose children are
/// all terminal answers; the code step's sibling is a second code step.
fn exhausting_policy(need: &arbor::search::request::GenerateNeed) -> Generated {
    let texts: Vec<String> = if need.prompt.contains("<output>") {
        vec![answer("42"); need.n]
    } else {
        let mut t = vec![RIGHT_CODE.to_owned(), WRONG_CODE.to_owned()];
        t.resize(need.n, answer("1"));
        t
    };
    Generated {
        samples: texts.into_iter().map(|t| sample(t, -0.1)).collect(),
        value: Some(0.1),
        elapsed_ms: 0.0,
    }
}

#[test]
fn quirk1_mcts_goes_on_past_an_exhausted_branch() {
    let run = |compat: bool| {
        let config = SearchConfig { compat, iterations: 10, ..mcts_config() };
        let mut driver = Driver::new();
        driver.add(new_search(config, "q", GroundTruth::One("42".into()), 0));
        driver.run(&mut Scripted::new(exhausting_policy, toy_exec, |_| Some(0.0)), &mut |_, _| {}).unwrap();
        let s = driver.search(0);
        (s.iterations(), s.tree().clone())
    };
    // Root, then both code steps get expanded into terminal answers; then selection meets an
    // exhausted code step.
    let (fixed_iters, fixed) = run(false);
    let (compat_iters, compat) = run(true);
    assert_eq!(compat_iters, 3, "the reference stops at the first exhausted node");
    let exhausted = |t: &Tree| {
        t.ids().filter(|id| t.node(*id).info().terminal == Some(TerminalReason::ChildrenExhausted)).count()
    };
    assert_eq!(exhausted(&compat), 1);
    // arbor marks both code steps exhausted, then the root, and stops only then.
    assert_eq!(fixed_iters, 3);
    assert_eq!(exhausted(&fixed), 3);
    assert_eq!(fixed.node(NodeId::ROOT).info().terminal, Some(TerminalReason::ChildrenExhausted));
}

#[test]
fn quirk2_unparsable_samples() {
    let policy = |need: &arbor::search::request::GenerateNeed| {
        let mut texts = vec!["I am not a step".to_owned(); 1];
        texts.resize(need.n, answer("42"));
        Generated {
            samples: texts.into_iter().map(|t| sample(t, -0.1)).collect(),
            value: Some(0.2),
            elapsed_ms: 0.0,
        }
    };
    let run = |compat: bool| {
        let config = SearchConfig { compat, iterations: 3, ..mcts_config() };
        let mut driver = Driver::new();
        driver.add(new_search(config, "q", GroundTruth::One("42".into()), 0));
        driver.run(&mut Scripted::new(policy, toy_exec, |_| Some(0.0)), &mut |_, _| {}).unwrap();
        driver.search(0).tree().clone()
    };
    let fixed = run(false);
    let bad = fixed.find("0.0").unwrap();
    assert_eq!(fixed.node(bad).step().final_answer, arbor::tree::FAIL_NO_VALID_CHILD);
    assert_eq!(fixed.node(bad).stats().q_value, -1.0, "an unparsable step backs up the negative reward");
    let compat = run(true);
    assert_eq!(compat.len(), 1, "the reference drops every iteration that meets an unparsable sample");
}

#[test]
fn quirk4_priors_are_normalised_unless_compat() {
    let run = |compat: bool| {
        let config = SearchConfig { compat, iterations: 1, ..mcts_config() };
        let mut driver = Driver::new();
        driver.add(new_search(config, "What is 6 times 7?", GroundTruth::One("42".into()), 0));
        driver.run(&mut toy_backends(), &mut |_, _| {}).unwrap();
        let t = driver.search(0).tree().clone();
        t.node(NodeId::ROOT).children().iter().map(|c| t.node(*c).stats().prior).collect::<Vec<f64>>()
    };
    let fixed: f64 = run(false).iter().sum();
    assert!((fixed - 1.0).abs() < 1e-12);
    let raw = run(true);
    assert!(raw.iter().sum::<f64>() > 1.5, "raw geometric-mean probabilities: {raw:?}");
}

#[test]
fn quirk8_printed_error_text_is_not_a_code_error() {
    let exec = |_: &arbor::search::request::ExecuteNeed| Executed {
        observation: "Error bars are 0.1".into(),
        status: ExecStatus::Ok,
        elapsed_ms: 0.0,
    };
    let policy = |need: &arbor::search::request::GenerateNeed| Generated {
        samples: (0..need.n).map(|_| sample(RIGHT_CODE.to_owned(), -0.1)).collect(),
        value: Some(0.0),
        elapsed_ms: 0.0,
    };
    let run = |compat: bool| {
        let config = SearchConfig {
            compat,
            iterations: 6,
            errors_threshold: 1,
            n_generate_sample: 1,
            ..mcts_config()
        };
        let mut driver = Driver::new();
        driver.add(new_search(config, "q", GroundTruth::One("42".into()), 0));
        driver.run(&mut Scripted::new(policy, exec, |_| Some(0.0)), &mut |_, _| {}).unwrap();
        driver.search(0).tree().clone()
    };
    let failures = |t: &Tree| {
        t.ids().filter(|id| t.node(*id).step().final_answer == arbor::tree::FAIL_TOO_MANY_CODE_ERRORS).count()
    };
    assert_eq!(failures(&run(true)), 1, "the reference counts the printed word as an error");
    assert_eq!(failures(&run(false)), 0);
}

#[test]
fn quirk11_chains_cut_by_the_step_budget_are_marked() {
    let policy = |need: &arbor::search::request::GenerateNeed| Generated {
        samples: (0..need.n).map(|_| sample(WRONG_CODE.to_owned(), -0.1)).collect(),
        value: None,
        elapsed_ms: 0.0,
    };
    for (mode, compat) in [(Mode::React, false), (Mode::React, true), (Mode::Sbs, false), (Mode::Sbs, true)] {
        let config = SearchConfig { mode, compat, max_depth: 3, temperature: 0.0, ..SearchConfig::default() };
        let mut driver = Driver::new();
        driver.add(new_search(config, "q", GroundTruth::Unknown, 0));
        driver.run(&mut Scripted::new(policy, toy_exec, |_| None), &mut |_, _| {}).unwrap();
        let t = driver.search(0).tree();
        let marked =
            t.ids().filter(|id| t.node(*id).step().final_answer == arbor::tree::FAIL_TOO_MANY_STEPS).count();
        assert_eq!(marked, usize::from(!compat), "{mode:?} compat={compat}");
        assert_eq!(t.summary().max_depth, 3);
    }
}

#[test]
fn leaf_value_none_backs_up_zero_and_prompt_too_long_ends_a_leaf() {
    let config = SearchConfig { leaf_value: LeafValue::None, iterations: 5, ..mcts_config() };
    let mut driver = Driver::new();
    driver.add(new_search(config, "What is 6 times 7?", GroundTruth::One("42".into()), 0));
    driver.run(&mut toy_backends(), &mut |_, _| {}).unwrap();
    let root = driver.search(0).tree().node(NodeId::ROOT).stats().to_owned();
    assert_eq!(root.value, Some(0.0));

    // A prompt that does not fit: no samples, no value.
    let mut driver = Driver::new();
    driver.add(new_search(mcts_config(), "q", GroundTruth::Unknown, 0));
    let mut too_long = Scripted::new(|_| Generated::default(), toy_exec, |_| None);
    driver.run(&mut too_long, &mut |_, _| {}).unwrap();
    let s = driver.search(0);
    assert_eq!(s.tree().len(), 1);
    assert_eq!(s.tree().node(NodeId::ROOT).info().terminal, Some(TerminalReason::PromptTooLong));
    assert_eq!(s.tree().node(NodeId::ROOT).stats().q_value, -1.0);
    assert!(matches!(driver.search_mut(0).poll(), Need::Done));
}
