//! `cargo bench --bench tui`: how fast the terminal UI draws and answers.
//!
//! 1. Frame render time for a 10,000-node MCTS tree (the saved-tree view: tree list, best and
//!    PUCT paths, inspector with highlighted code and the PUCT breakdown), on ratatui's
//!    `TestBackend` at 160×48, with the selection at the root and deep in the tree.
//! 2. Key press to updated screen while the engine is busy: an MCTS search runs on the engine
//!    thread (scripted backends that take 20 ms per generation call, standing in for a model),
//!    its events stream into the app, and every ~50 ms a key is pressed; measured is the UI
//!    thread's work from the key to a drawn frame (handle the key, drain and apply the
//!    engine's events, draw). The real loop adds at most one frame interval (33 ms) when the
//!    previous frame was drawn less than 33 ms before the key.

use std::time::{Duration, Instant};

use arbor::engine::thread::{Command, Control, EngineHandle, ProblemSpec};
use arbor::search::simulate::{SimConfig, simulate};
use arbor::tui::app::Screen;
use arbor::tui::browser::OpenTree;
use arbor::tui::keymap::Keymap;
use arbor::tui::theme::ThemeName;
use arbor::tui::{Options, build_app, demo_backends, highlight, views};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn percentiles(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    format!(
        "mean {:.2} ms, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {}",
        mean.as_secs_f64() * 1e3,
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        samples.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        samples.len()
    )
}

fn options() -> Options {
    Options {
        models: vec![arbor::tui::demo_model(Duration::from_millis(20))],
        data: Vec::new(),
        demo_problem: true,
        view: None,
        theme: ThemeName::Dark,
        keymap: Keymap::defaults(),
        log: std::env::temp_dir().join("arbor-bench-tui.log"),
        no_value: false,
    }
}

fn render_bench() -> anyhow::Result<()> {
    let record = simulate(0, &SimConfig::reference(10_000, 7));
    let nodes = record.tree.len();
    let mut app = build_app(&options());
    let file = {
        // The browser needs a file; the tree itself is opened from memory.
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("one.jsonl");
        let mut line = Vec::new();
        record.encode(&mut line)?;
        std::fs::write(&path, line)?;
        let file = arbor::store::TreeFile::open(&path)?;
        drop(dir);
        file
    };
    let mut browser = arbor::tui::browser::Browser::new(file);
    browser.open = Some(OpenTree::new(0, record));
    app.open_browser(browser);
    app.screen = Screen::Trees;
    highlight::load_now();
    let mut terminal = Terminal::new(TestBackend::new(160, 48))?;
    for (label, keys) in [("selection at the root", ""), ("selection deep in the tree", "GP")] {
        for c in keys.chars() {
            app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
        let mut samples = Vec::new();
        for _ in 0..300 {
            let t0 = Instant::now();
            terminal.draw(|f| views::render(&app, f))?;
            samples.push(t0.elapsed());
        }
        println!("frame render, {nodes}-node MCTS tree, 160x48, {label}: {}", percentiles(samples));
    }
    Ok(())
}

fn latency_bench() -> anyhow::Result<()> {
    let mut app = build_app(&options());
    let mut terminal = Terminal::new(TestBackend::new(160, 48))?;
    highlight::load_now();
    let engine = EngineHandle::spawn();
    engine.send(Command::Load {
        name: "scripted, 20 ms per generation".into(),
        load: Box::new(|| Ok(Box::new(demo_backends(Duration::from_millis(20))) as _)),
    });
    let mut config = arbor::tui::picker::algorithm_config(3, false);
    config.iterations = 100_000;
    config.max_depth = 40;
    let effects = app.on_key(KeyEvent::new(KeyCode::Char('a'), KeyModifiers::NONE));
    drop(effects);
    let Some(arbor::tui::app::Effect::Start { problem, .. }) =
        app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)).into_iter().next()
    else {
        anyhow::bail!("the picker did not start a search");
    };
    let spec = ProblemSpec { seed: 3, ..*problem };
    engine.send(Command::start(spec, config));
    engine.send(Control::RunToEnd);
    let mut samples = Vec::new();
    let mut events_applied = 0usize;
    let keys = ['k', 'j', 'j', 'k', 'c', 'i', 'g', 'G'];
    let start = Instant::now();
    while samples.len() < 200 && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(50));
        let key = keys[samples.len() % keys.len()];
        let t0 = Instant::now();
        app.on_key(KeyEvent::new(KeyCode::Char(key), KeyModifiers::NONE));
        for event in engine.drain() {
            app.on_engine(event);
            events_applied += 1;
        }
        terminal.draw(|f| views::render(&app, f))?;
        samples.push(t0.elapsed());
    }
    let nodes = app.live.as_ref().map_or(0, |l| l.pane.tree.len());
    println!(
        "key press to drawn frame, engine busy (MCTS, {nodes} nodes by the end, {events_applied} engine events applied): {}",
        percentiles(samples)
    );
    engine.send(Control::Cancel);
    Ok(())
}

fn main() -> anyhow::Result<()> {
    render_bench()?;
    latency_bench()
}
