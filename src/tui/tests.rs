//! State tests (no terminal) and `TestBackend` snapshots of every view.

use std::path::PathBuf;
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

use super::action::Action;
use super::app::{App, Effect, Screen};
use super::batch::{BatchMsg, RunState};
use super::browser::{Browser, BrowserMsg};
use super::tree_pane::Pane;
use super::*;
use crate::engine::driver::Driver;
use crate::engine::output::{RunFacts, to_record};
use crate::engine::thread::{Control, EngineState, Event, Progress};
use crate::search::new_search;
use crate::tree::{NodeId, Tree};

const W: u16 = 110;
const H: u16 = 32;

fn options(models: Vec<ModelChoice>, data: Vec<(String, PathBuf)>) -> Options {
    Options {
        models,
        data,
        demo_problem: true,
        view: None,
        theme: ThemeName::Dark,
        keymap: Keymap::defaults(),
        log: std::env::temp_dir().join("arbor-tui-test.log"),
        no_value: false,
    }
}

/// The demo problem, a demo model, and a small problem file (in a directory that lives as long
/// as the returned guard).
fn demo_app() -> (App, tempfile::TempDir) {
    let (data, dir) = toy_file(3);
    (build_app(&options(vec![demo_model(Duration::ZERO)], vec![("toy.jsonl".into(), data)])), dir)
}

/// A problem file of `n` copies of the toy question.
fn toy_file(n: usize) -> (PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("toy{n}.jsonl"));
    let lines: String = (0..n)
        .map(|i| format!("{{\"question\": \"What is 6 times 7? (copy {i})\", \"answer\": \"42\", \"level\": \"Level 1\"}}\n"))
        .collect();
    std::fs::write(&path, lines).unwrap();
    (path, dir)
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn press(app: &mut App, keys: &str) -> Vec<Effect> {
    keys.chars().flat_map(|c| app.on_key(key(c))).collect()
}

fn draw(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(W, H)).unwrap();
    terminal.draw(|f| views::render(app, f)).unwrap();
    format!("{}", terminal.backend())
}

/// Runs the search the app asked for on the toy backends, feeding the engine's events to the
/// app exactly as the engine thread would (a round's tree events, then its progress).
fn run_toy(app: &mut App, effects: Vec<Effect>, rounds: Option<usize>) -> (Tree, Option<String>) {
    let Some(Effect::Start { problem, config, .. }) = effects.into_iter().next() else { panic!("no start") };
    let mut driver = Driver::new();
    let id = driver.add(new_search(
        (*config).clone(),
        &problem.question,
        problem.ground_truth.clone(),
        problem.seed,
    ));
    app.on_engine(Event::Started { search: id, question: problem.question.clone() });
    app.on_engine(Event::Tree { search: id, events: driver.search_mut(id).take_events() });
    app.on_engine(Event::State(EngineState::Running));
    let mut backends = scripted::toy();
    let mut done = 0;
    while rounds.is_none_or(|r| done < r) {
        let mut batches = Vec::new();
        let more = driver.round(&mut backends, &mut |s, events| batches.push((s, events))).unwrap();
        for (search, events) in batches {
            app.on_engine(Event::Tree { search, events });
        }
        if !more {
            break;
        }
        app.on_engine(Event::Progress(Progress::default()));
        done += 1;
    }
    let search = driver.search(id);
    if rounds.is_none() {
        let record = to_record(&problem.fields, search, &config, &RunFacts::default());
        app.on_engine(Event::Finished { search: id, outcome: search.outcome(), record: Box::new(record) });
        app.on_engine(Event::State(EngineState::Idle));
    }
    (search.tree().clone(), search.outcome().and_then(|o| o.answer))
}

// ---------------------------------------------------------------- state

#[test]
fn q_quits_except_while_typing() {
    let (mut app, _dir) = demo_app();
    press(&mut app, "/q");
    assert!(!app.quit, "q typed into the filter");
    assert_eq!(app.picker.filter, "q");
    app.on_key(code(KeyCode::Esc));
    assert_eq!(app.picker.filter, "", "Esc clears the filter");
    press(&mut app, "?");
    assert!(app.help);
    press(&mut app, "x");
    assert!(!app.help, "any other key closes the help");
    press(&mut app, "q");
    assert!(app.quit);
}

#[test]
fn the_filter_narrows_the_list_fuzzily() {
    let (mut app, _dir) = demo_app();
    assert_eq!(app.picker.visible.len(), 4);
    press(&mut app, "/cpy2");
    app.on_key(code(KeyCode::Enter));
    assert_eq!(app.picker.visible.len(), 1);
    assert_eq!(app.picker.current().unwrap().problem.question, "What is 6 times 7? (copy 2)");
}

#[test]
fn starting_without_a_model_explains_what_to_do() {
    let mut app = build_app(&options(Vec::new(), Vec::new()));
    let effects = app.on_key(code(KeyCode::Enter));
    assert!(effects.is_empty());
    let popup = app.popup.clone().unwrap();
    assert!(popup.message.contains("--model") && popup.message.contains("--demo"), "{popup:?}");
    press(&mut app, "q");
    assert!(!app.quit, "q first closes the popup");
    assert!(app.popup.is_none());
}

#[test]
fn enter_starts_the_chosen_algorithm_with_the_edited_settings() {
    let (mut app, _dir) = demo_app();
    // SBS is the default; go to MCTS and change its iterations in the form.
    press(&mut app, "a");
    assert_eq!(app.picker.algorithm_label(), "MCTS");
    press(&mut app, "e");
    let form = app.picker.form.as_mut().unwrap();
    form.selected = form.fields.iter().position(|(k, _)| k == "iterations").unwrap();
    app.on_key(code(KeyCode::Enter));
    for _ in 0..2 {
        app.on_key(code(KeyCode::Backspace));
    }
    press(&mut app, "12");
    app.on_key(code(KeyCode::Enter));
    app.on_key(code(KeyCode::Esc));
    assert!(app.picker.form.is_none());
    let effects = app.on_key(code(KeyCode::Enter));
    match effects.as_slice() {
        [Effect::Start { problem, config, model: 0 }] => {
            assert_eq!(problem.question, "What is 6 times 7?");
            assert_eq!(config.iterations, 12);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(app.screen, Screen::Search);
}

#[test]
fn the_mirror_matches_the_engine_tree_and_freeze_buffers() {
    let (mut app, _dir) = demo_app();
    press(&mut app, "a"); // MCTS
    let effects = app.on_key(code(KeyCode::Enter));
    let (engine_tree, _) = run_toy(&mut app, effects, Some(3));
    let live = app.live.as_mut().unwrap();
    assert_eq!(live.pane.tree, engine_tree, "the mirror is the engine's tree");
    assert_eq!(live.iterations, 3);
    assert_eq!(live.pane.selected, engine_tree.ids().last().unwrap(), "following the newest node");
    assert_eq!(live.refused, 0);

    press(&mut app, "F");
    let before = app.live.as_ref().unwrap().pane.tree.len();
    let extra = Event::Tree {
        search: 0,
        events: vec![crate::tree::TreeEvent::Backup { node: NodeId::ROOT, value: 0.25 }],
    };
    app.on_engine(extra);
    let live = app.live.as_ref().unwrap();
    assert_eq!(live.buffered.len(), 1, "frozen: held back");
    assert_eq!(live.pane.tree.len(), before);
    let visits = live.pane.tree.node(NodeId::ROOT).stats().visit_count;
    press(&mut app, "F");
    let live = app.live.as_ref().unwrap();
    assert!(live.buffered.is_empty());
    assert_eq!(live.pane.tree.node(NodeId::ROOT).stats().visit_count, visits + 1, "applied on thaw");
}

#[test]
fn search_controls_become_engine_commands() {
    let (mut app, _dir) = demo_app();
    let effects = app.on_key(code(KeyCode::Enter));
    run_toy(&mut app, effects, Some(1));
    assert_eq!(press(&mut app, "s"), vec![Effect::Engine(Control::Step)]);
    let resume = Effect::Engine(Control::Resume);
    assert_eq!(press(&mut app, "n"), vec![resume.clone(), Effect::Engine(Control::Run(10))]);
    assert_eq!(press(&mut app, "+n"), vec![resume.clone(), Effect::Engine(Control::Run(20))]);
    assert_eq!(press(&mut app, "r"), vec![resume, Effect::Engine(Control::RunToEnd)]);
    assert_eq!(press(&mut app, " "), vec![Effect::Engine(Control::Pause)]);
    app.on_engine(Event::State(EngineState::Paused));
    assert_eq!(press(&mut app, " "), vec![Effect::Engine(Control::Resume)]);
    assert_eq!(press(&mut app, "x"), vec![Effect::Engine(Control::Cancel)]);
    // Settings changed between iterations go to the engine as key=value.
    press(&mut app, "e");
    let form = app.live.as_mut().unwrap().form.as_mut().unwrap();
    form.selected = form.fields.iter().position(|(k, _)| k == "temperature").unwrap();
    app.on_key(code(KeyCode::Enter));
    for _ in 0..3 {
        app.on_key(code(KeyCode::Backspace));
    }
    press(&mut app, "0.3");
    app.on_key(code(KeyCode::Enter));
    let form = app.live.as_ref().unwrap().form.as_ref().unwrap();
    assert_eq!(form.error, None, "{:?}", form.fields);
    let effects = app.on_key(code(KeyCode::Esc));
    assert_eq!(effects, vec![Effect::Engine(Control::Configure("temperature=0.3".into()))]);
    assert!(!app.quit);
}

#[test]
fn a_finished_search_shows_its_answer_and_best_path() {
    let (mut app, _dir) = demo_app();
    let effects = app.on_key(code(KeyCode::Enter)); // SBS
    let (_, answer) = run_toy(&mut app, effects, None);
    let live = app.live.as_ref().unwrap();
    let finish = live.finish.clone().unwrap();
    assert!(answer.is_some());
    assert_eq!(finish.answer, answer, "the engine's answer");
    assert_eq!(finish.correct, Some(answer.as_deref() == Some("42")), "graded against 42");
    let best = live.pane.best_path();
    let end = live.pane.tree.node(*best.last().unwrap());
    assert_eq!(Some(end.step().final_answer.clone()), answer, "the best path ends at the answer");
    assert!(press(&mut app, "s").is_empty(), "a finished search takes no more steps");
    assert!(app.note.contains("finished"));
}

#[test]
fn tree_keys_move_mark_and_switch_panes() {
    let (mut app, _dir) = demo_app();
    press(&mut app, "a");
    let effects = app.on_key(code(KeyCode::Enter));
    run_toy(&mut app, effects, None);
    press(&mut app, "g");
    let live = app.live.as_ref().unwrap();
    assert_eq!(live.pane.selected, NodeId::ROOT);
    assert!(!live.follow, "moving by hand stops following");
    press(&mut app, "jm");
    press(&mut app, "jjm");
    let live = app.live.as_ref().unwrap();
    assert!(live.pane.marks[0].is_some() && live.pane.marks[1].is_some());
    press(&mut app, "d");
    assert_eq!(app.live.as_ref().unwrap().pane.pane, Pane::Compare);
    press(&mut app, "c");
    assert_eq!(app.live.as_ref().unwrap().pane.pane, Pane::Siblings);
    app.on_key(code(KeyCode::Enter));
    assert!(app.live.as_ref().unwrap().pane.zoom);
    app.on_key(code(KeyCode::Esc));
    assert!(!app.live.as_ref().unwrap().pane.zoom, "Esc leaves the zoom first");
    press(&mut app, "B");
    let live = app.live.as_ref().unwrap();
    assert_eq!(live.pane.selected, *live.pane.best_path().last().unwrap());
}

#[test]
fn engine_errors_become_popups() {
    let (mut app, _dir) = demo_app();
    app.on_engine(Event::Error { message: "the engine panicked (boom)".into() });
    assert_eq!(app.popup.as_ref().unwrap().title, "Engine error");
    app.on_key(code(KeyCode::Enter));
    assert!(app.popup.is_none());
    app.on_engine(Event::LoadFailed { message: "no value head".into() });
    app.on_engine(Event::Error { message: "no model is loaded yet".into() });
    let popup = app.popup.clone().unwrap();
    assert_eq!(popup.title, "The model did not load", "the cause stays on top");
    assert!(popup.message.contains("no value head") && popup.message.contains("no model is loaded yet"));
    app.on_key(code(KeyCode::Enter));
    assert!(app.popup.is_none());
}

#[test]
fn mouse_clicks_select_rows_and_tabs() {
    let (mut app, _dir) = demo_app();
    draw(&app);
    let list = app.hits.get().list;
    app.on_mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: list.x + 3,
        row: list.y + 2,
        modifiers: KeyModifiers::NONE,
    });
    assert_eq!(app.picker.selected, 2);
    app.on_mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: list.x,
        row: list.y,
        modifiers: KeyModifiers::NONE,
    });
    assert_eq!(app.picker.selected, 3);
    // " 4 Batch " is the fourth tab.
    let tabs = app.hits.get().tabs;
    app.on_mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: tabs.x + 40,
        row: tabs.y,
        modifiers: KeyModifiers::NONE,
    });
    assert_eq!(app.screen, Screen::Batch);
}

fn browser_app(path: &str) -> App {
    let mut app = build_app(&options(vec![demo_model(Duration::ZERO)], Vec::new()));
    // Relative to the crate (cargo runs tests there), so snapshots show no machine paths.
    let file = crate::store::TreeFile::open(path).unwrap();
    let mut browser = Browser::new(file);
    // The summary thread's work, done here in order.
    let summaries: Vec<(usize, browser::Summary)> = (0..browser.file.len())
        .map(|i| (i, browser::summarize(&browser.file.load(i).unwrap().unwrap().record)))
        .collect();
    browser.on_msg(BrowserMsg::Summaries(summaries));
    app.open_browser(browser);
    app
}

fn open_tree(app: &mut App) {
    let effects = app.on_key(code(KeyCode::Enter));
    let [Effect::LoadTree(index)] = effects.as_slice() else { panic!("{effects:?}") };
    let file = &app.browser.as_ref().unwrap().file;
    let record = file.load(*index).unwrap().unwrap().record;
    app.on_browser(BrowserMsg::Loaded { index: *index, result: Ok(Box::new(record)) });
}

#[test]
fn the_browser_reselects_with_every_strategy() {
    let mut app = browser_app("sample_trees/golden_tree_mcts_test.jsonl");
    open_tree(&mut app);
    let open = app.browser.as_ref().unwrap().open.as_ref().unwrap();
    assert_eq!(open.strategy.name(), "q_value");
    let mut answers = vec![open.selection.as_ref().map(|s| s.tag.clone())];
    for _ in 0..3 {
        press(&mut app, "o");
        let open = app.browser.as_ref().unwrap().open.as_ref().unwrap();
        answers.push(open.selection.as_ref().map(|s| s.tag.clone()));
        assert_eq!(
            open.pane.best_override,
            open.selection.as_ref().map(|s| s.node),
            "the best path follows it"
        );
    }
    // The same selections as the reference's offline inference on this tree.
    let tree = &app.browser.as_ref().unwrap().open.as_ref().unwrap().pane.tree;
    for (strategy, tag) in crate::search::offline::Strategy::ALL.iter().zip(&answers) {
        let expect = crate::search::offline::select(
            tree,
            &crate::search::offline::OfflineConfig::reference(*strategy, true),
        );
        assert_eq!(expect.map(|s| s.tag), *tag, "{strategy}");
    }
    app.on_key(code(KeyCode::Esc));
    assert!(app.browser.as_ref().unwrap().open.is_none(), "Esc goes back to the list");
}

#[test]
fn batch_panel_starts_cancels_and_tabulates() {
    let (mut app, _dir) = demo_app();
    press(&mut app, "4");
    assert_eq!(app.screen, Screen::Batch);
    let effects = press(&mut app, "s");
    let [Effect::StartBatch { runs: 1, resume: true, .. }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert!(press(&mut app, "s").is_empty(), "one batch at a time");
    app.on_batch(BatchMsg::Started { total: 3, skipped: 0 });
    app.on_batch(BatchMsg::Progress { finished: 1, correct: 1, graded: 1 });
    assert_eq!(press(&mut app, "x"), vec![Effect::CancelBatch]);
    assert_eq!(app.batch.run.as_ref().unwrap().state, RunState::Cancelling);
    let summary = crate::batch::score::Summary {
        trees: 1,
        graded: 1,
        correct: 1,
        accuracy: Some(1.0),
        reachable: 1,
        maj: None,
        avg_steps: Some(2.0),
        avg_seconds: Some(0.5),
        avg_tokens: None,
        kinds: Default::default(),
    };
    app.on_batch(BatchMsg::Done {
        summary: Box::new(summary),
        cancelled: true,
        elapsed: Duration::from_secs(1),
    });
    assert_eq!(app.batch.run.as_ref().unwrap().state, RunState::Cancelled);
    assert_eq!(app.batch.results.len(), 1);
    assert!(app.batch.results[0].cancelled);
}

#[test]
fn the_batch_worker_writes_trees_and_resumes() {
    let (data, _dir) = toy_file(5);
    let out = data.with_file_name("batch-out.jsonl");
    let _ = std::fs::remove_file(&out);
    let run = |limit: Option<usize>| {
        let (tx, rx) = std::sync::mpsc::channel();
        let config = picker::algorithm_config(2, false);
        let spec = batch::BatchSpec {
            label: "SBS".into(),
            data: data.clone(),
            loader: (demo_model(Duration::ZERO).factory)(&config),
            config,
            model: "demo".into(),
            out: out.clone(),
            resume: true,
            runs: 1,
            limit,
            batch: 2,
        };
        batch::spawn(spec, std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)), tx);
        let mut msgs = Vec::new();
        while let Ok(m) = rx.recv_timeout(Duration::from_secs(60)) {
            let done = matches!(m, BatchMsg::Done { .. } | BatchMsg::Failed(_));
            msgs.push(m);
            if done {
                break;
            }
        }
        msgs
    };
    let first = run(Some(2));
    assert_eq!(first[0], BatchMsg::Started { total: 2, skipped: 0 });
    let BatchMsg::Done { summary, cancelled: false, .. } = first.last().unwrap() else { panic!("{first:?}") };
    assert_eq!((summary.trees, summary.graded), (2, 2));
    let second = run(None);
    assert_eq!(second[0], BatchMsg::Started { total: 3, skipped: 2 }, "resume skips what is written");
    let file = crate::store::TreeFile::open(&out).unwrap();
    assert_eq!(file.len(), 5);
}

#[test]
fn the_runtime_drives_a_real_engine_thread() {
    let (mut app, _dir) = demo_app();
    let mut runtime = Runtime::new(vec![demo_model(Duration::ZERO)]);
    press(&mut app, "a"); // MCTS
    for effect in app.on_key(code(KeyCode::Enter)) {
        runtime.execute(&mut app, effect);
    }
    for _ in 0..2000 {
        runtime.drain(&mut app);
        if app.live.as_ref().unwrap().finish.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let live = app.live.as_ref().unwrap();
    let finish = live.finish.as_ref().expect("the search finished");
    assert!(finish.answer.is_some());
    assert_eq!(finish.correct, Some(finish.answer.as_deref() == Some("42")));
    assert_eq!(live.refused, 0, "every engine event applied to the mirror");
    assert!(live.iterations > 0 && live.iterations <= live.config.iterations, "{} rounds", live.iterations);
    assert_eq!(app.engine_model.as_deref(), Some("demo: scripted toy backends (not a model)"));
}

// ---------------------------------------------------------------- snapshots

#[test]
fn snapshot_picker() {
    let (app, _dir) = demo_app();
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn snapshot_picker_filter_and_no_model() {
    let (data, _dir) = toy_file(3);
    let mut app = build_app(&options(Vec::new(), vec![("toy.jsonl".into(), data)]));
    press(&mut app, "/cpy1");
    insta::assert_snapshot!("picker_filtering", draw(&app));
    app.on_key(code(KeyCode::Enter));
    app.on_key(code(KeyCode::Enter));
    insta::assert_snapshot!("picker_no_model_popup", draw(&app));
}

#[test]
fn snapshot_settings_form() {
    let (mut app, _dir) = demo_app();
    press(&mut app, "e");
    app.on_key(code(KeyCode::Down));
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn snapshot_live_views() {
    let (mut app, _dir) = demo_app();
    press(&mut app, "a"); // MCTS
    let effects = app.on_key(code(KeyCode::Enter));
    run_toy(&mut app, effects, Some(6));
    insta::assert_snapshot!("live_running_inspector", draw(&app));
    press(&mut app, "g");
    insta::assert_snapshot!("live_root_puct_breakdown", draw(&app));
    press(&mut app, "jc");
    insta::assert_snapshot!("live_siblings", draw(&app));
    press(&mut app, "mjjjmd");
    insta::assert_snapshot!("live_compare", draw(&app));
    press(&mut app, "i");
    app.on_key(code(KeyCode::Enter));
    insta::assert_snapshot!("live_zoomed_inspector", draw(&app));
}

#[test]
fn snapshot_live_finished_sbs() {
    let (mut app, _dir) = demo_app();
    let effects = app.on_key(code(KeyCode::Enter));
    run_toy(&mut app, effects, None);
    press(&mut app, "B");
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn snapshot_browser() {
    let mut app = browser_app("sample_trees/large_mcts.jsonl");
    insta::assert_snapshot!("browser_list", draw(&app));
    open_tree(&mut app);
    insta::assert_snapshot!("browser_tree", draw(&app));
    press(&mut app, "o");
    insta::assert_snapshot!("browser_tree_value_strategy", draw(&app));
}

#[test]
fn snapshot_browser_golden_beam() {
    let mut app = browser_app("sample_trees/golden_tree_sbs_b1_2_b2_5.jsonl");
    open_tree(&mut app);
    press(&mut app, "jc");
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn snapshot_batch() {
    let (mut app, _dir) = demo_app();
    press(&mut app, "4");
    insta::assert_snapshot!("batch_idle", draw(&app));
    press(&mut app, "s");
    app.on_batch(BatchMsg::Started { total: 10, skipped: 2 });
    app.on_batch(BatchMsg::Progress { finished: 4, correct: 3, graded: 4 });
    app.batch.run.as_mut().unwrap().elapsed = Duration::from_secs(8);
    insta::assert_snapshot!("batch_running", draw(&app));
    let summary = crate::batch::score::Summary {
        trees: 10,
        graded: 10,
        correct: 7,
        accuracy: Some(0.7),
        reachable: 8,
        maj: None,
        avg_steps: Some(2.4),
        avg_seconds: Some(1.9),
        avg_tokens: None,
        kinds: Default::default(),
    };
    app.on_batch(BatchMsg::Done {
        summary: Box::new(summary),
        cancelled: false,
        elapsed: Duration::from_secs(20),
    });
    insta::assert_snapshot!("batch_done_results", draw(&app));
}

#[test]
fn snapshot_help_and_empty_screens() {
    let mut app = build_app(&options(Vec::new(), Vec::new()));
    insta::assert_snapshot!("empty_picker", draw(&app));
    press(&mut app, "2");
    insta::assert_snapshot!("empty_search", draw(&app));
    press(&mut app, "3");
    insta::assert_snapshot!("empty_trees", draw(&app));
    press(&mut app, "?");
    insta::assert_snapshot!("help", draw(&app));
}

#[test]
fn snapshot_engine_error_popup() {
    let (mut app, _dir) = demo_app();
    app.on_engine(Event::Error { message: "backend: the model answered 0 of 5 requests".into() });
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn light_theme_draws_the_same_text() {
    let (mut app, _dir) = demo_app();
    let dark = draw(&app);
    press(&mut app, "T");
    assert_eq!(app.theme.name, ThemeName::Light);
    assert_eq!(draw(&app), dark);
}

#[test]
fn small_terminals_do_not_panic() {
    let (mut app, _dir) = demo_app();
    press(&mut app, "a");
    let effects = app.on_key(code(KeyCode::Enter));
    run_toy(&mut app, effects, Some(4));
    for (w, h) in [(1, 1), (10, 3), (40, 8), (200, 60)] {
        for screen in ["1", "2", "3", "4", "?"] {
            press(&mut app, screen);
            let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
            terminal.draw(|f| views::render(&app, f)).unwrap();
            app.help = false;
        }
    }
    let _ = Action::Quit;
}
