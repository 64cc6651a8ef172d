//! The terminal UI: a problem picker, a live view of a search as the engine grows it, a node
//! inspector, branch comparison, a saved-tree browser and a batch panel.
//!
//! Layers: [`app`] holds the state and the one update path (keys → [`action::Action`] →
//! `App::update` → [`app::Effect`]s), [`views`] draw it, and the runtime in this file owns the
//! terminal, the engine thread and the worker threads, turning effects into commands and
//! background results into `App::on_*` calls. The UI thread never waits on the model, the
//! interpreter or the disk: it polls input, drains channels and draws at most ~30 times a
//! second.

pub mod action;
pub mod app;
pub mod batch;
pub mod browser;
pub mod form;
pub mod fuzzy;
pub mod highlight;
pub mod keymap;
pub mod live;
pub mod log;
pub mod picker;
mod terminal;
pub mod theme;
pub mod tree_pane;
pub mod views;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{self, Event as TermEvent};

use self::app::{App, Effect, ModelInfo};
use self::batch::{BatchMsg, BatchPanel, BatchSpec};
use self::browser::{Browser, BrowserMsg};
use self::keymap::Keymap;
use self::picker::{Item, Picker};
use self::theme::ThemeName;
use crate::engine::backends::Sampling;
use crate::engine::scripted::{self, Scripted};
use crate::engine::thread::{BackendLoader, Command, Control, EngineHandle};
use crate::search::config::SearchConfig;
use crate::store::TreeFile;

/// Makes the loader for a model, given the settings of the run (sampling settings live in the
/// backends).
pub type LoaderFactory = Arc<dyn Fn(&SearchConfig) -> BackendLoader + Send + Sync>;

/// A model the user can pick.
#[derive(Clone)]
pub struct ModelChoice {
    pub name: String,
    /// Scripted toy backends (`--demo`), not a model: labelled as such everywhere.
    pub demo: bool,
    pub factory: LoaderFactory,
}

/// What the command line decided.
pub struct Options {
    pub models: Vec<ModelChoice>,
    /// Problem files: (label, path).
    pub data: Vec<(String, PathBuf)>,
    /// The built-in demo problem (with `--demo`).
    pub demo_problem: bool,
    /// A tree file to open on the Trees screen (`arbor view FILE`).
    pub view: Option<PathBuf>,
    pub theme: ThemeName,
    pub keymap: Keymap,
    pub log: PathBuf,
    pub no_value: bool,
}

/// The demo's scripted backends: the toy domain of [`scripted::toy`] ("What is 6 times 7?")
/// with `delay` per generation call so the tree grows at a watchable pace, and a judge that
/// always says 0.5 (for η-MCTS's critics).
pub fn demo_backends(delay: Duration) -> Scripted {
    Scripted::new(
        move |need| {
            std::thread::sleep(delay);
            scripted::toy_policy(need)
        },
        scripted::toy_exec,
        scripted::toy_value,
    )
    .with_judge(|_| Some(0.5))
}

/// A [`ModelChoice`] for the demo backends.
pub fn demo_model(delay: Duration) -> ModelChoice {
    ModelChoice {
        name: "demo: scripted toy backends (not a model)".to_owned(),
        demo: true,
        factory: Arc::new(move |_| Box::new(move || Ok(Box::new(demo_backends(delay)) as _))),
    }
}

/// The demo's problem: the one question the toy backends know.
pub fn demo_item() -> Item {
    let mut record = serde_json::Map::new();
    record.insert("question".into(), "What is 6 times 7?".into());
    record.insert("answer".into(), "42".into());
    Item {
        source: "demo".to_owned(),
        problem: crate::problems::Problem {
            id: "0".to_owned(),
            question: "What is 6 times 7?".to_owned(),
            ground_truth: crate::problems::GroundTruth::One("42".to_owned()),
            answer_source: crate::problems::AnswerSource::Plain,
            record,
            location: 0,
        },
    }
}

/// Loads the problem files for the picker; files that fail become notes.
pub fn load_items(data: &[(String, PathBuf)], demo: bool) -> (Vec<Item>, Vec<String>) {
    let mut items = Vec::new();
    let mut notes = Vec::new();
    if demo {
        items.push(demo_item());
    }
    for (label, path) in data {
        match crate::problems::load(path) {
            Ok(set) => {
                if !set.diagnostics.is_empty() {
                    notes.push(format!(
                        "{label}: {} lines skipped or odd (see the log)",
                        set.diagnostics.len()
                    ));
                    for d in &set.diagnostics {
                        log::line(d.to_string());
                    }
                }
                items.extend(set.problems.into_iter().map(|problem| Item { source: label.clone(), problem }));
            }
            Err(e) => notes.push(e.to_string()),
        }
    }
    (items, notes)
}

/// Builds the app from the options (no terminal needed).
pub fn build_app(options: &Options) -> App {
    let (items, notes) = load_items(&options.data, options.demo_problem);
    let picker = Picker::new(items, notes, options.no_value);
    let models = options.models.iter().map(|m| ModelInfo { name: m.name.clone(), demo: m.demo }).collect();
    let batch = BatchPanel::new(options.data.clone());
    App::new(picker, models, batch, options.keymap.clone(), options.theme)
}

/// Runs the TUI until the user quits or a signal arrives.
pub fn run(options: Options) -> anyhow::Result<()> {
    let log_file = log::open(&options.log).ok();
    log::line(format!("arbor tui starting (log: {})", options.log.display()));
    highlight::preload();
    let mut app = build_app(&options);
    let mut runtime = Runtime::new(options.models.clone());
    if let Some(path) = &options.view {
        runtime.open_file(&mut app, path.clone());
    }
    let mut session = terminal::Session::start(log_file.as_ref())?;
    let result = runtime.event_loop(&mut app, &mut session);
    drop(session);
    runtime.shut_down(Duration::from_millis(1500));
    log::line("arbor tui stopped");
    result
}

/// Frames are at least this far apart (≤ 30 fps).
const FRAME: Duration = Duration::from_millis(33);

struct Runtime {
    engine: EngineHandle,
    models: Vec<ModelChoice>,
    /// The model and sampling settings the engine has loaded.
    loaded: Option<(usize, Sampling)>,
    browser_tx: Sender<BrowserMsg>,
    browser_rx: Receiver<BrowserMsg>,
    batch_tx: Sender<BatchMsg>,
    batch_rx: Receiver<BatchMsg>,
    batch_cancel: Option<Arc<AtomicBool>>,
    index_rx: Option<Receiver<Result<TreeFile, String>>>,
    engine_gone: bool,
}

impl Runtime {
    fn new(models: Vec<ModelChoice>) -> Runtime {
        let (browser_tx, browser_rx) = mpsc::channel();
        let (batch_tx, batch_rx) = mpsc::channel();
        Runtime {
            engine: EngineHandle::spawn(),
            models,
            loaded: None,
            browser_tx,
            browser_rx,
            batch_tx,
            batch_rx,
            batch_cancel: None,
            index_rx: None,
            engine_gone: false,
        }
    }

    /// Asks the engine to stop and waits up to `patience` for the round in progress; a model
    /// call that takes longer is abandoned with the process rather than holding up the quit.
    fn shut_down(self, patience: Duration) {
        self.engine.send(Control::Cancel);
        self.engine.send(Command::Shutdown);
        let deadline = Instant::now() + patience;
        while self.engine.alive() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        if self.engine.alive() {
            log::line("the engine was busy at exit; not waiting for it");
            // Dropping the handle would join the thread.
            std::mem::forget(self.engine);
        }
    }

    /// Indexes a tree file on a worker thread; the browser opens when it is done.
    fn open_file(&mut self, app: &mut App, path: PathBuf) {
        let (tx, rx) = mpsc::channel();
        app.note = format!("indexing {} …", path.display());
        app.screen = app::Screen::Trees;
        let _ = std::thread::Builder::new().name("arbor-index".into()).spawn(move || {
            let _ = tx.send(TreeFile::open(&path).map_err(|e| e.to_string()));
        });
        self.index_rx = Some(rx);
    }

    fn event_loop(&mut self, app: &mut App, session: &mut terminal::Session) -> anyhow::Result<()> {
        let mut dirty = true;
        let mut last_frame = Instant::now() - FRAME;
        let mut last_tick = Instant::now();
        while !app.quit {
            if session.signalled.load(Ordering::Relaxed) {
                log::line("signal received; restoring the terminal");
                break;
            }
            // Input first: it wins ties with a busy engine.
            let wait =
                if dirty { FRAME.saturating_sub(last_frame.elapsed()) } else { Duration::from_millis(100) };
            let input = session.wait_for_input(wait)?;
            if input == terminal::Input::Gone {
                if session.signalled.load(Ordering::Relaxed) {
                    log::line("signal received; restoring the terminal");
                } else {
                    log::line("the terminal hung up; stopping");
                }
                break;
            }
            if input == terminal::Input::Ready {
                while event::poll(Duration::ZERO)? {
                    let effects = match event::read()? {
                        TermEvent::Key(key) => app.on_key(key),
                        TermEvent::Mouse(mouse) => app.on_mouse(mouse),
                        _ => Vec::new(),
                    };
                    dirty = true;
                    for effect in effects {
                        self.execute(app, effect);
                    }
                    if app.quit {
                        break;
                    }
                }
            }
            dirty |= self.drain(app);
            if last_tick.elapsed() >= Duration::from_millis(250) {
                app.tick(Instant::now());
                last_tick = Instant::now();
                dirty = true;
            }
            if dirty && last_frame.elapsed() >= FRAME {
                session.terminal.draw(|frame| views::render(app, frame))?;
                last_frame = Instant::now();
                dirty = false;
            }
        }
        if let Some(cancel) = &self.batch_cancel {
            cancel.store(true, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Applies everything the background has sent; true if anything came.
    fn drain(&mut self, app: &mut App) -> bool {
        let mut any = false;
        for event in self.engine.drain() {
            if let crate::engine::thread::Event::Error { message }
            | crate::engine::thread::Event::LoadFailed { message } = &event
            {
                log::line(format!("engine: {message}"));
            }
            if let crate::engine::thread::Event::LoadFailed { .. } = &event {
                self.loaded = None;
            }
            app.on_engine(event);
            any = true;
        }
        if !self.engine_gone && !self.engine.alive() {
            self.engine_gone = true;
            log::line("the engine thread ended");
            app.popup = Some(app::Popup {
                title: "Engine stopped".to_owned(),
                message: "the engine thread ended; searches cannot run until arbor restarts (see the log)"
                    .to_owned(),
            });
            app.engine_model = None;
        }
        while let Ok(msg) = self.browser_rx.try_recv() {
            app.on_browser(msg);
            any = true;
        }
        while let Ok(msg) = self.batch_rx.try_recv() {
            if let BatchMsg::Failed(m) = &msg {
                log::line(format!("batch: {m}"));
            }
            app.on_batch(msg);
            any = true;
        }
        if let Some(rx) = &self.index_rx
            && let Ok(result) = rx.try_recv()
        {
            self.index_rx = None;
            any = true;
            match result {
                Ok(file) => {
                    let browser = Browser::new(file);
                    browser::spawn_summaries(
                        Arc::clone(&browser.file),
                        Arc::clone(&browser.stop),
                        self.browser_tx.clone(),
                    );
                    app.note = format!("{} trees indexed", browser.summaries.len());
                    app.open_browser(browser);
                }
                Err(message) => {
                    app.note.clear();
                    app.popup =
                        Some(app::Popup { title: "The file could not be opened".to_owned(), message });
                }
            }
        }
        any
    }

    fn execute(&mut self, app: &mut App, effect: Effect) {
        match effect {
            Effect::Start { problem, config, model } => {
                let Some(choice) = self.models.get(model) else { return };
                // One live search at a time: end whatever runs.
                self.engine.send(Control::Cancel);
                let sampling = Sampling::from_config(&config);
                if self.loaded.as_ref() != Some(&(model, sampling.clone())) {
                    log::line(format!("loading {}", choice.name));
                    self.engine
                        .send(Command::Load { name: choice.name.clone(), load: (choice.factory)(&config) });
                    self.loaded = Some((model, sampling));
                }
                log::line(format!("start: {}", problem.question));
                self.engine.send(Command::Start { problem, config });
                self.engine.send(Control::RunToEnd);
            }
            Effect::Engine(control) => {
                self.engine.send(control);
            }
            Effect::LoadTree(index) => {
                if let Some(b) = &app.browser {
                    browser::spawn_load(Arc::clone(&b.file), index, self.browser_tx.clone());
                }
            }
            Effect::StartBatch { data, config, model, out, resume, runs, limit, label } => {
                let Some(choice) = self.models.get(model) else { return };
                let cancel = Arc::new(AtomicBool::new(false));
                self.batch_cancel = Some(Arc::clone(&cancel));
                log::line(format!("batch: {label} on {} → {}", data.display(), out.display()));
                let spec = BatchSpec {
                    label,
                    data,
                    loader: (choice.factory)(&config),
                    config: *config,
                    model: choice.name.clone(),
                    out,
                    resume,
                    runs,
                    limit,
                    batch: 16,
                };
                batch::spawn(spec, cancel, self.batch_tx.clone());
            }
            Effect::CancelBatch => {
                if let Some(cancel) = &self.batch_cancel {
                    cancel.store(true, Ordering::Relaxed);
                }
            }
        }
    }
}
