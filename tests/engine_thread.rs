//! The engine thread: commands in, events out; stepping, running, pausing, cancelling,
//! changing settings between iterations, and surviving a panic in a backend.

#![allow(clippy::unwrap_used)] // tests unwrap what they built themselves

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use arbor::engine::scripted::Scripted;
use arbor::engine::thread::{Command, Control, EngineHandle, EngineState, Event, ProblemSpec};
use arbor::search::config::{Mode, SearchConfig};
use arbor::search::request::{Executed, Generated, Sample};
use arbor::tree::{ExecStatus, Tree};

const CODE: &str = "<step>\n<p>\nMultiply.\n</p>\n<code>\n```python\nprint(6 * 7)\n```";

fn backends(delay_ms: u64, panic_now: Arc<AtomicBool>) -> Scripted {
    Scripted::new(
        move |need| {
            std::thread::sleep(Duration::from_millis(delay_ms));
            if panic_now.load(Ordering::SeqCst) {
                panic!("scripted model failure");
            }
            let text = if need.prompt.contains("<output>") {
                "<step>\n<p>\nSo.\n</p>\n<p>\nFinal Answer: 42\n</p>\n".to_owned()
            } else {
                CODE.to_owned()
            };
            Generated {
                samples: (0..need.n)
                    .map(|_| Sample { text: text.clone(), tokens: 3, logprob_sum: -0.3, finish: None })
                    .collect(),
                value: Some(0.1),
                elapsed_ms: 0.0,
            }
        },
        |_| Executed { observation: "42".into(), status: ExecStatus::Ok, elapsed_ms: 0.0 },
        |_| Some(0.5),
    )
}

fn config() -> SearchConfig {
    SearchConfig {
        mode: Mode::Mcts,
        n_generate_sample: 3,
        iterations: 30,
        max_depth: 8,
        need_value_func: true,
        ..SearchConfig::default()
    }
}

fn start(delay_ms: u64) -> (EngineHandle, Arc<AtomicBool>) {
    let engine = EngineHandle::spawn();
    let panic_now = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&panic_now);
    engine.send(Command::Load {
        name: "scripted".into(),
        load: Box::new(move || Ok(Box::new(backends(delay_ms, flag)) as _)),
    });
    (engine, panic_now)
}

/// Waits for an event matching `want`, applying tree events to `mirror` on the way.
fn wait_for(engine: &EngineHandle, mirror: &mut Tree, want: impl Fn(&Event) -> bool) -> Event {
    for _ in 0..2000 {
        let Some(event) = engine.next(Duration::from_millis(10)) else { continue };
        if let Event::Tree { events, .. } = &event {
            for e in events {
                mirror.apply(e).unwrap();
            }
        }
        if want(&event) {
            return event;
        }
    }
    panic!("the event did not come");
}

#[test]
fn step_run_and_the_mirror_matches_the_finished_tree() {
    let (engine, _) = start(0);
    let mut mirror = Tree::new();
    wait_for(&engine, &mut mirror, |e| matches!(e, Event::Loaded { .. }));
    engine.send(Command::start(ProblemSpec::from_question("What is 6 times 7?", Some("42")), config()));
    engine.send(Control::Step);
    let Event::Progress(p) = wait_for(&engine, &mut mirror, |e| matches!(e, Event::Progress(_))) else {
        unreachable!()
    };
    assert_eq!(p.rounds, 1);
    assert_eq!(mirror.len(), 4, "root + 3 children after one iteration");
    engine.send(Control::Run(2));
    let Event::Progress(p) =
        wait_for(&engine, &mut mirror, |e| matches!(e, Event::Progress(p) if p.rounds == 3))
    else {
        unreachable!()
    };
    assert_eq!(p.live, 1);
    engine.send(Control::RunToEnd);
    let Event::Finished { record, outcome, .. } =
        wait_for(&engine, &mut mirror, |e| matches!(e, Event::Finished { .. }))
    else {
        unreachable!()
    };
    assert_eq!(outcome.unwrap().answer.as_deref(), Some("42"));
    assert_eq!(record.tree, mirror, "the live mirror equals the finished tree");
    assert!(record.run.get("elapsed_s").is_some());
    wait_for(&engine, &mut mirror, |e| matches!(e, Event::State(EngineState::Idle)));
}

#[test]
fn pause_resume_cancel_and_configure() {
    let (engine, _) = start(15);
    let mut mirror = Tree::new();
    wait_for(&engine, &mut mirror, |e| matches!(e, Event::Loaded { .. }));
    engine.send(Command::start(ProblemSpec::from_question("q", Some("42")), config()));
    engine.send(Control::RunToEnd);
    wait_for(&engine, &mut mirror, |e| matches!(e, Event::Progress(p) if p.rounds >= 2));
    engine.send(Control::Pause);
    wait_for(&engine, &mut mirror, |e| matches!(e, Event::State(EngineState::Paused)));
    let frozen = mirror.len();
    std::thread::sleep(Duration::from_millis(100));
    for e in engine.drain() {
        if let Event::Tree { events, .. } = e {
            for ev in events {
                mirror.apply(&ev).unwrap();
            }
        }
    }
    let paused_at = mirror.len();
    assert!(paused_at - frozen <= 3, "at most the round in progress finishes after a pause");
    std::thread::sleep(Duration::from_millis(100));
    assert!(engine.drain().is_empty(), "nothing happens while paused");
    // Change a setting between iterations, then a bad one.
    engine.send(Control::Configure("c_puct=2.5".into()));
    engine.send(Control::Configure("temperature=-1".into()));
    let Event::Error { message } = wait_for(&engine, &mut mirror, |e| matches!(e, Event::Error { .. }))
    else {
        unreachable!()
    };
    assert!(message.contains("temperature"), "{message}");
    engine.send(Control::Resume);
    wait_for(&engine, &mut mirror, |e| matches!(e, Event::State(EngineState::Running)));
    engine.send(Control::Cancel);
    let Event::Finished { record, .. } =
        wait_for(&engine, &mut mirror, |e| matches!(e, Event::Finished { .. }))
    else {
        unreachable!()
    };
    let iterations = record.run["iterations"].as_u64().unwrap();
    assert!(iterations < 30, "cancelled early ({iterations} iterations)");
    assert_eq!(record.run["config"]["c_puct"], 2.5, "the setting applied from the next iteration");
}

#[test]
fn step_while_paused_runs_one_round_and_stays_paused() {
    let (engine, _) = start(5);
    let mut mirror = Tree::new();
    wait_for(&engine, &mut mirror, |e| matches!(e, Event::Loaded { .. }));
    // Paused before anything runs: the run to the end waits for Resume.
    engine.send(Control::Pause);
    engine.send(Command::start(ProblemSpec::from_question("q", Some("42")), config()));
    engine.send(Control::RunToEnd);
    wait_for(&engine, &mut mirror, |e| matches!(e, Event::State(EngineState::Paused)));
    for expected in 1..=2 {
        engine.send(Control::Step);
        let Event::Progress(p) = wait_for(&engine, &mut mirror, |e| matches!(e, Event::Progress(_))) else {
            unreachable!()
        };
        assert_eq!(p.rounds, expected, "exactly one round per step");
    }
    std::thread::sleep(Duration::from_millis(100));
    let after = engine.drain();
    assert!(after.iter().all(|e| !matches!(e, Event::Progress(_))), "still paused after the steps");
    // Resume goes on with the rounds asked for before the pause.
    engine.send(Control::Resume);
    wait_for(&engine, &mut mirror, |e| matches!(e, Event::Finished { .. }));
}

#[test]
fn a_panic_becomes_an_error_event_and_the_engine_goes_on() {
    let (engine, panic_now) = start(0);
    let mut mirror = Tree::new();
    wait_for(&engine, &mut mirror, |e| matches!(e, Event::Loaded { .. }));
    engine.send(Command::start(ProblemSpec::from_question("q", None), config()));
    panic_now.store(true, Ordering::SeqCst);
    engine.send(Control::Step);
    let Event::Error { message } = wait_for(&engine, &mut mirror, |e| matches!(e, Event::Error { .. }))
    else {
        unreachable!()
    };
    assert!(message.contains("panicked") && message.contains("scripted model failure"), "{message}");
    // Still serving: a new search runs to the end.
    panic_now.store(false, Ordering::SeqCst);
    let mut fresh = Tree::new();
    engine.send(Command::start(
        ProblemSpec::from_question("q", Some("42")),
        SearchConfig { iterations: 3, ..config() },
    ));
    engine.send(Control::RunToEnd);
    wait_for(&engine, &mut fresh, |e| matches!(e, Event::Finished { .. }));
    assert!(engine.alive());
    // Commands without a model are errors, not hangs.
    let bare = EngineHandle::spawn();
    bare.send(Control::Step);
    let Event::Error { message } = wait_for(&bare, &mut Tree::new(), |e| matches!(e, Event::Error { .. }))
    else {
        unreachable!()
    };
    assert!(message.contains("no model"), "{message}");
    // A failing loader is reported.
    bare.send(Command::Load {
        name: "broken".into(),
        load: Box::new(|| Err("config.json is missing".into())),
    });
    let Event::LoadFailed { message } =
        wait_for(&bare, &mut Tree::new(), |e| matches!(e, Event::LoadFailed { .. }))
    else {
        unreachable!()
    };
    assert!(message.contains("config.json"));
}
