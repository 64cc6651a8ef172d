//! The app's state and its one update path: keys become actions through the keymap,
//! `App::update` changes view state and returns [`Effect`]s (work for the runtime: engine
//! commands, file loads, batch runs). Background results come back through `on_*`. Nothing
//! here touches a terminal, a thread or a file, so all of it is testable as plain data.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use super::action::Action;
use super::batch::{self, BatchMsg, BatchPanel, Field, Run, RunState};
use super::browser::{Browser, BrowserMsg};
use super::form::Form;
use super::keymap::{Chord, Keymap, Scope};
use super::live::Live;
use super::picker::{ALGORITHMS, Picker};
use super::theme::{Theme, ThemeName};
use super::tree_pane::{Pane, TreePane};
use crate::engine::thread::{Control, EngineState, Event, ProblemSpec};
use crate::search::config::SearchConfig;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Problems,
    Search,
    Trees,
    Batch,
}

impl Screen {
    pub const ALL: [Screen; 4] = [Screen::Problems, Screen::Search, Screen::Trees, Screen::Batch];

    pub fn title(self) -> &'static str {
        match self {
            Screen::Problems => "Problems",
            Screen::Search => "Search",
            Screen::Trees => "Trees",
            Screen::Batch => "Batch",
        }
    }
}

/// Work for the runtime.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Load the model (if another is loaded) and start a search.
    Start {
        problem: Box<ProblemSpec>,
        config: Box<SearchConfig>,
        model: usize,
    },
    Engine(Control),
    /// Decode tree `index` of the open file.
    LoadTree(usize),
    StartBatch {
        data: PathBuf,
        config: Box<SearchConfig>,
        model: usize,
        out: PathBuf,
        resume: bool,
        runs: usize,
        limit: Option<usize>,
        label: String,
    },
    CancelBatch,
}

/// A model the user can choose.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelInfo {
    pub name: String,
    /// Scripted toy backends, not a model.
    pub demo: bool,
}

/// A message in a box over the screen.
#[derive(Clone, Debug, PartialEq)]
pub struct Popup {
    pub title: String,
    pub message: String,
}

/// Screen areas of the last frame, for mouse hits.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HitAreas {
    pub tabs: Rect,
    /// The list or tree rows (inside borders).
    pub list: Rect,
    pub detail: Rect,
}

pub struct App {
    pub screen: Screen,
    pub keymap: Keymap,
    pub theme: Theme,
    pub picker: Picker,
    pub models: Vec<ModelInfo>,
    pub model: usize,
    pub live: Option<Live>,
    pub browser: Option<Browser>,
    pub batch: BatchPanel,
    pub help: bool,
    pub help_scroll: u16,
    pub popup: Option<Popup>,
    pub engine_state: EngineState,
    /// The model the engine has loaded.
    pub engine_model: Option<String>,
    /// A one-line note in the status bar.
    pub note: String,
    pub quit: bool,
    pub hits: std::cell::Cell<HitAreas>,
    live_started: Option<Instant>,
    batch_started: Option<Instant>,
}

impl App {
    pub fn new(
        picker: Picker,
        models: Vec<ModelInfo>,
        batch: BatchPanel,
        keymap: Keymap,
        theme: ThemeName,
    ) -> App {
        App {
            screen: Screen::Problems,
            keymap,
            theme: Theme::new(theme),
            picker,
            models,
            model: 0,
            live: None,
            browser: None,
            batch,
            help: false,
            help_scroll: 0,
            popup: None,
            engine_state: EngineState::Idle,
            engine_model: None,
            note: String::new(),
            quit: false,
            hits: std::cell::Cell::new(HitAreas::default()),
            live_started: None,
            batch_started: None,
        }
    }

    /// Opens a saved tree file (already indexed) on the Trees screen.
    pub fn open_browser(&mut self, browser: Browser) {
        self.browser = Some(browser);
        self.screen = Screen::Trees;
    }

    /// The keymap scopes in force, most specific first.
    pub fn scopes(&self) -> Vec<Scope> {
        match self.screen {
            Screen::Problems => vec![Scope::Picker, Scope::Nav, Scope::Global],
            Screen::Search => vec![Scope::Live, Scope::Tree, Scope::Nav, Scope::Global],
            Screen::Trees => {
                if self.browser.as_ref().is_some_and(|b| b.open.is_some()) {
                    vec![Scope::Browser, Scope::Tree, Scope::Nav, Scope::Global]
                } else {
                    vec![Scope::Browser, Scope::Nav, Scope::Global]
                }
            }
            Screen::Batch => vec![Scope::Batch, Scope::Nav, Scope::Global],
        }
    }

    /// Whether keys are going into a text field (then `q` types a q).
    pub fn editing_text(&self) -> bool {
        self.picker.filtering
            || self.picker.form.as_ref().is_some_and(|f| f.editing.is_some())
            || self.live.as_ref().and_then(|l| l.form.as_ref()).is_some_and(|f| f.editing.is_some())
            || self.batch.editing.is_some()
    }

    // ------------------------------------------------------------------ input

    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        if self.editing_text() {
            self.on_text_key(key);
            return Vec::new();
        }
        let chord = Chord::from_event(key);
        // Popups and the help overlay take the keys first.
        if self.popup.is_some() {
            if matches!(key.code, KeyCode::Esc | KeyCode::Enter) || chord == Chord::ch('q') {
                self.popup = None;
            }
            return Vec::new();
        }
        if self.help {
            match self.keymap.lookup(&[Scope::Nav, Scope::Global], chord) {
                Some(Action::Down) => self.help_scroll = self.help_scroll.saturating_add(1),
                Some(Action::Up) => self.help_scroll = self.help_scroll.saturating_sub(1),
                Some(Action::PageDown) => self.help_scroll = self.help_scroll.saturating_add(10),
                Some(Action::PageUp) => self.help_scroll = self.help_scroll.saturating_sub(10),
                Some(Action::Quit) => self.quit = true,
                _ => self.help = false,
            }
            return Vec::new();
        }
        match self.keymap.lookup(&self.scopes(), chord) {
            Some(action) => self.update(action),
            None => Vec::new(),
        }
    }

    fn on_text_key(&mut self, key: KeyEvent) {
        let ctrl_c = key.code == KeyCode::Char('c')
            && key.modifiers.contains(ratatui::crossterm::event::KeyModifiers::CONTROL);
        if ctrl_c {
            self.quit = true;
            return;
        }
        if self.picker.filtering {
            let mut filter = self.picker.filter.clone();
            match key.code {
                KeyCode::Esc => {
                    self.picker.filtering = false;
                    filter.clear();
                }
                KeyCode::Enter => self.picker.filtering = false,
                KeyCode::Backspace => {
                    filter.pop();
                }
                KeyCode::Down => self.picker.move_by(1),
                KeyCode::Up => self.picker.move_by(-1),
                KeyCode::Char(c) => filter.push(c),
                _ => {}
            }
            if filter != self.picker.filter {
                self.picker.set_filter(filter);
            }
            return;
        }
        if let Some(form) = self.active_form_mut() {
            match key.code {
                KeyCode::Esc => form.cancel_edit(),
                KeyCode::Enter => form.commit(),
                KeyCode::Backspace => form.backspace(),
                KeyCode::Char(c) => form.type_char(c),
                _ => {}
            }
            return;
        }
        if let Some(text) = &mut self.batch.editing {
            match key.code {
                KeyCode::Esc => self.batch.editing = None,
                KeyCode::Enter => self.batch.commit_text(),
                KeyCode::Backspace => {
                    text.pop();
                }
                KeyCode::Char(c) => text.push(c),
                _ => {}
            }
        }
    }

    fn active_form_mut(&mut self) -> Option<&mut Form> {
        match self.screen {
            Screen::Search => self.live.as_mut().and_then(|l| l.form.as_mut()),
            _ => self.picker.form.as_mut(),
        }
    }

    pub fn on_mouse(&mut self, mouse: MouseEvent) -> Vec<Effect> {
        let hits = self.hits.get();
        let at = Position::new(mouse.column, mouse.row);
        match mouse.kind {
            MouseEventKind::ScrollDown if hits.detail.contains(at) => self.update(Action::ScrollDetailDown),
            MouseEventKind::ScrollUp if hits.detail.contains(at) => self.update(Action::ScrollDetailUp),
            MouseEventKind::ScrollDown => self.update(Action::Down),
            MouseEventKind::ScrollUp => self.update(Action::Up),
            MouseEventKind::Down(MouseButton::Left) if hits.tabs.contains(at) => {
                // Tabs are drawn as " n Title " from the left edge.
                let mut x = hits.tabs.x;
                for screen in Screen::ALL {
                    let width = screen.title().len() as u16 + 5;
                    if mouse.column < x + width {
                        self.switch(screen);
                        break;
                    }
                    x += width;
                }
                Vec::new()
            }
            MouseEventKind::Down(MouseButton::Left) if hits.list.contains(at) => {
                let row = (mouse.row - hits.list.y) as usize;
                self.click_row(row);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// Selects the `row`-th visible row of the current list or tree.
    fn click_row(&mut self, row: usize) {
        match self.screen {
            Screen::Problems => {
                let target = self.picker.offset.get() + row;
                if target < self.picker.visible.len() {
                    self.picker.selected = target;
                }
            }
            Screen::Search | Screen::Trees => {
                if let Some(pane) = self.pane_mut() {
                    let rows = pane.rows();
                    if let Some(id) = rows.get(pane.offset.get() + row) {
                        pane.select(*id);
                    }
                    return;
                }
                if let Some(b) = &mut self.browser {
                    let target = b.offset.get() + row;
                    if target < b.summaries.len() {
                        b.selected = target;
                    }
                }
            }
            Screen::Batch => {
                if row < batch::FIELDS.len() {
                    self.batch.field = row;
                }
            }
        }
    }

    // ------------------------------------------------------------------ update

    /// The tree pane of the current screen.
    pub fn pane(&self) -> Option<&TreePane> {
        match self.screen {
            Screen::Search => self.live.as_ref().map(|l| &l.pane),
            Screen::Trees => self.browser.as_ref().and_then(|b| b.open.as_ref()).map(|o| &o.pane),
            _ => None,
        }
    }

    pub fn pane_mut(&mut self) -> Option<&mut TreePane> {
        match self.screen {
            Screen::Search => self.live.as_mut().map(|l| &mut l.pane),
            Screen::Trees => self.browser.as_mut().and_then(|b| b.open.as_mut()).map(|o| &mut o.pane),
            _ => None,
        }
    }

    fn switch(&mut self, screen: Screen) {
        self.screen = screen;
    }

    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Quit => {
                self.quit = true;
                return Vec::new();
            }
            Action::Help => {
                self.help = true;
                self.help_scroll = 0;
                return Vec::new();
            }
            Action::ToggleTheme => {
                let next =
                    if self.theme.name == ThemeName::Dark { ThemeName::Light } else { ThemeName::Dark };
                self.theme = Theme::new(next);
                return Vec::new();
            }
            Action::ScreenProblems => {
                self.switch(Screen::Problems);
                return Vec::new();
            }
            Action::ScreenSearch => {
                self.switch(Screen::Search);
                return Vec::new();
            }
            Action::ScreenTrees => {
                self.switch(Screen::Trees);
                return Vec::new();
            }
            Action::ScreenBatch => {
                self.switch(Screen::Batch);
                return Vec::new();
            }
            _ => {}
        }
        match self.screen {
            Screen::Problems => self.update_picker(action),
            Screen::Search => self.update_live(action),
            Screen::Trees => self.update_browser(action),
            Screen::Batch => self.update_batch(action),
        }
    }

    fn update_picker(&mut self, action: Action) -> Vec<Effect> {
        if let Some(form) = &mut self.picker.form {
            match action {
                Action::Up => form.move_by(-1),
                Action::Down => form.move_by(1),
                Action::PageUp => form.move_by(-10),
                Action::PageDown => form.move_by(10),
                Action::Open | Action::Right => form.edit(),
                Action::Back | Action::EditSettings => {
                    let config = form.config.clone();
                    self.picker.configs[self.picker.algorithm] = config;
                    self.picker.form = None;
                }
                _ => {}
            }
            return Vec::new();
        }
        let page = self.picker.viewport.get().max(2) as isize - 1;
        match action {
            Action::Up => self.picker.move_by(-1),
            Action::Down => self.picker.move_by(1),
            Action::PageUp => self.picker.move_by(-page),
            Action::PageDown => self.picker.move_by(page),
            Action::Top => self.picker.selected = 0,
            Action::Bottom => self.picker.selected = self.picker.visible.len().saturating_sub(1),
            Action::Filter => self.picker.filtering = true,
            Action::Back if !self.picker.filter.is_empty() => self.picker.set_filter(String::new()),
            Action::NextAlgorithm => self.picker.cycle_algorithm(true),
            Action::PrevAlgorithm => self.picker.cycle_algorithm(false),
            Action::NextModel => self.next_model(),
            Action::EditSettings => {
                let title = format!("{} settings", self.picker.algorithm_label());
                self.picker.form = Some(Form::new(title, self.picker.config().clone()));
            }
            Action::Open => return self.start_search(),
            _ => {}
        }
        Vec::new()
    }

    fn next_model(&mut self) {
        if !self.models.is_empty() {
            self.model = (self.model + 1) % self.models.len();
        }
    }

    /// Starts the picked problem with the picked algorithm and model.
    fn start_search(&mut self) -> Vec<Effect> {
        let Some(item) = self.picker.current() else {
            self.note = "no problem to start: pass --data FILE (or --demo)".to_owned();
            return Vec::new();
        };
        let Some(model) = self.models.get(self.model) else {
            self.popup = Some(Popup {
                title: "No model yet".to_owned(),
                message: "arbor has no model to run yet. Pass --model PATH (an HF folder, a .gguf \
                          file or a server URL; scripts/fetch-models.sh fetches SmolLM2 into \
                          .cache/models/), or --demo for scripted toy backends."
                    .to_owned(),
            });
            return Vec::new();
        };
        let problem = &item.problem;
        let config = self.picker.config().clone();
        let spec = ProblemSpec {
            question: problem.question.clone(),
            ground_truth: problem.ground_truth.clone(),
            fields: problem.record.clone(),
            // Problems of a file get different seeds, as in `arbor eval`.
            seed: problem.location.wrapping_mul(1_000_003),
        };
        self.live = Some(Live::new(
            problem.question.clone(),
            format!("{} #{}", item.source, problem.id),
            problem.ground_truth.clone(),
            self.picker.algorithm_label().to_owned(),
            model.name.clone(),
            config.clone(),
        ));
        self.live_started = None;
        self.screen = Screen::Search;
        vec![Effect::Start { problem: Box::new(spec), config: Box::new(config), model: self.model }]
    }

    /// Moves in a tree pane; shared by live and saved trees.
    fn update_pane(pane: &mut TreePane, action: Action) -> bool {
        match action {
            Action::Up => pane.move_by(-1),
            Action::Down => pane.move_by(1),
            Action::PageUp => pane.page(false),
            Action::PageDown => pane.page(true),
            Action::Top => pane.first(),
            Action::Bottom => pane.last(),
            Action::Left => pane.left(),
            Action::Right => pane.right(),
            Action::ToggleCollapse => pane.toggle_collapse(),
            Action::Open => pane.zoom = !pane.zoom,
            Action::PaneInspector => pane.pane = Pane::Inspector,
            Action::PaneSiblings => pane.pane = Pane::Siblings,
            Action::PaneCompare => pane.pane = Pane::Compare,
            Action::Mark => pane.mark(),
            Action::GoBest => {
                if let Some(end) = pane.best_path().last() {
                    pane.select(*end);
                }
            }
            Action::GoSelected => {
                if let Some(end) = pane.puct_path().last() {
                    pane.select(*end);
                }
            }
            Action::ScrollDetailDown => pane.detail_scroll = pane.detail_scroll.saturating_add(3),
            Action::ScrollDetailUp => pane.detail_scroll = pane.detail_scroll.saturating_sub(3),
            _ => return false,
        }
        true
    }

    fn update_live(&mut self, action: Action) -> Vec<Effect> {
        let Some(live) = &mut self.live else {
            if action == Action::Back {
                self.screen = Screen::Problems;
            }
            return Vec::new();
        };
        if let Some(form) = &mut live.form {
            match action {
                Action::Up => form.move_by(-1),
                Action::Down => form.move_by(1),
                Action::Open | Action::Right => form.edit(),
                Action::Back | Action::EditSettings => {
                    let changes = std::mem::take(&mut form.changes);
                    live.config = form.config.clone();
                    live.pane.c_puct = live.config.c_puct;
                    live.form = None;
                    if live.finish.is_none() {
                        if !changes.is_empty() {
                            self.note = format!("applied from the next iteration: {}", changes.join(", "));
                        }
                        return changes.into_iter().map(|c| Effect::Engine(Control::Configure(c))).collect();
                    }
                }
                _ => {}
            }
            return Vec::new();
        }
        if action == Action::Back {
            if live.pane.zoom {
                live.pane.zoom = false;
            } else {
                self.screen = Screen::Problems;
            }
            return Vec::new();
        }
        if Self::update_pane(&mut live.pane, action) {
            if matches!(
                action,
                Action::Up
                    | Action::Down
                    | Action::PageUp
                    | Action::PageDown
                    | Action::Top
                    | Action::Left
                    | Action::Right
            ) {
                // Moving by hand stops following the newest node.
                live.follow = false;
            }
            return Vec::new();
        }
        let done = live.finish.is_some();
        let effect = match action {
            Action::Step if !done => Control::Step,
            // Running again ends a pause.
            Action::RunN if !done => {
                return vec![Effect::Engine(Control::Resume), Effect::Engine(Control::Run(live.run_n))];
            }
            Action::RunToEnd if !done => {
                return vec![Effect::Engine(Control::Resume), Effect::Engine(Control::RunToEnd)];
            }
            Action::PauseResume if !done => {
                if self.engine_state == EngineState::Paused {
                    Control::Resume
                } else {
                    Control::Pause
                }
            }
            Action::Cancel if !done => Control::Cancel,
            Action::MoreN => {
                live.run_n = (live.run_n * 2).min(10_000);
                return Vec::new();
            }
            Action::LessN => {
                live.run_n = (live.run_n / 2).max(1);
                return Vec::new();
            }
            Action::Follow => {
                live.follow = !live.follow;
                if live.follow
                    && let Some(id) = live.pane.tree.ids().last()
                {
                    live.pane.select(id);
                }
                return Vec::new();
            }
            Action::Freeze => {
                live.toggle_freeze();
                return Vec::new();
            }
            Action::EditSettings => {
                live.form = Some(Form::new(
                    format!("{} settings (applied between iterations)", live.algorithm),
                    live.config.clone(),
                ));
                return Vec::new();
            }
            Action::Step | Action::RunN | Action::RunToEnd | Action::PauseResume | Action::Cancel => {
                self.note = "the search has finished; start another from the problems screen (1)".to_owned();
                return Vec::new();
            }
            _ => return Vec::new(),
        };
        vec![Effect::Engine(effect)]
    }

    fn update_browser(&mut self, action: Action) -> Vec<Effect> {
        let Some(browser) = &mut self.browser else {
            if action == Action::Back {
                self.screen = Screen::Problems;
            }
            self.note = "no tree file open: arbor view FILE".to_owned();
            return Vec::new();
        };
        if let Some(open) = &mut browser.open {
            if action == Action::Back {
                if open.pane.zoom {
                    open.pane.zoom = false;
                } else {
                    browser.open = None;
                }
                return Vec::new();
            }
            match action {
                Action::NextStrategy => open.next_strategy(),
                Action::TogglePrune => open.toggle_prune(),
                _ => {
                    Self::update_pane(&mut open.pane, action);
                }
            }
            return Vec::new();
        }
        let page = browser.viewport.get().max(2) as isize - 1;
        match action {
            Action::Up => browser.move_by(-1),
            Action::Down => browser.move_by(1),
            Action::PageUp => browser.move_by(-page),
            Action::PageDown => browser.move_by(page),
            Action::Top => browser.selected = 0,
            Action::Bottom => browser.selected = browser.summaries.len().saturating_sub(1),
            Action::Open | Action::Right if !browser.summaries.is_empty() => {
                browser.loading = Some(browser.selected);
                return vec![Effect::LoadTree(browser.selected)];
            }
            Action::Back => self.screen = Screen::Problems,
            _ => {}
        }
        Vec::new()
    }

    fn update_batch(&mut self, action: Action) -> Vec<Effect> {
        let field = self.batch.current_field();
        match action {
            Action::Up => self.batch.field = self.batch.field.saturating_sub(1),
            Action::Down => self.batch.field = (self.batch.field + 1).min(batch::FIELDS.len() - 1),
            Action::Left | Action::Right => {
                let forward = action == Action::Right;
                match field {
                    Field::Dataset if !self.batch.datasets.is_empty() => {
                        let n = self.batch.datasets.len();
                        self.batch.dataset = if forward {
                            (self.batch.dataset + 1) % n
                        } else {
                            (self.batch.dataset + n - 1) % n
                        };
                    }
                    Field::Algorithm => {
                        let n = ALGORITHMS.len();
                        self.batch.algorithm = if forward {
                            (self.batch.algorithm + 1) % n
                        } else {
                            (self.batch.algorithm + n - 1) % n
                        };
                    }
                    Field::Model => self.next_model(),
                    Field::Kind => self.batch.collect = !self.batch.collect,
                    Field::Resume => self.batch.resume = !self.batch.resume,
                    _ => {}
                }
            }
            Action::Open => {
                if field.is_text() {
                    self.batch.editing = Some(self.batch.text_of(field));
                } else {
                    return self.update_batch(Action::Right);
                }
            }
            Action::NextAlgorithm => {
                self.batch.algorithm = (self.batch.algorithm + 1) % ALGORITHMS.len();
            }
            Action::NextModel => self.next_model(),
            Action::ToggleCollect => self.batch.collect = !self.batch.collect,
            Action::ToggleResume => self.batch.resume = !self.batch.resume,
            Action::EditSettings => {
                self.picker.algorithm = self.batch.algorithm;
                self.screen = Screen::Problems;
                return self.update_picker(Action::EditSettings);
            }
            Action::StartBatch => return self.start_batch(),
            Action::Cancel => {
                if let Some(run) = &mut self.batch.run
                    && matches!(run.state, RunState::Running | RunState::Loading)
                {
                    run.state = RunState::Cancelling;
                    return vec![Effect::CancelBatch];
                }
            }
            Action::Back => self.screen = Screen::Problems,
            _ => {}
        }
        Vec::new()
    }

    fn start_batch(&mut self) -> Vec<Effect> {
        if self.batch.is_running() {
            self.note = "a batch is running; cancel it first (x)".to_owned();
            return Vec::new();
        }
        let Some((dataset, data)) = self.batch.datasets.get(self.batch.dataset).cloned() else {
            self.popup = Some(Popup {
                title: "No dataset".to_owned(),
                message: "pass a problem file with --data FILE".to_owned(),
            });
            return Vec::new();
        };
        if self.models.get(self.model).is_none() {
            self.popup = Some(Popup {
                title: "No model yet".to_owned(),
                message: "pass --model PATH (scripts/fetch-models.sh fetches SmolLM2), or --demo".to_owned(),
            });
            return Vec::new();
        }
        let mut config = self.picker.configs[self.batch.algorithm].clone();
        config.is_sampling = self.batch.collect;
        let kind = if self.batch.collect { "collect" } else { "eval" };
        let label = format!("{} ({kind})", ALGORITHMS[self.batch.algorithm].0);
        let out = PathBuf::from(&self.batch.out);
        self.batch.run = Some(Run {
            label: label.clone(),
            out: out.clone(),
            state: RunState::Loading,
            total: 0,
            skipped: 0,
            finished: 0,
            correct: 0,
            graded: 0,
            elapsed: Duration::ZERO,
            message: None,
        });
        self.batch_started = None;
        self.note = format!("batch on {dataset} → {}", out.display());
        vec![Effect::StartBatch {
            data,
            config: Box::new(config),
            model: self.model,
            out,
            resume: self.batch.resume,
            runs: self.batch.runs,
            limit: self.batch.limit,
            label,
        }]
    }

    // ------------------------------------------------------------------ background results

    /// Shows a popup; one already open keeps its place and gains the new message, so a
    /// failure is not hidden by what follows from it.
    fn show(&mut self, title: &str, message: String) {
        match &mut self.popup {
            Some(p) if p.message.contains(&message) => {}
            Some(p) => {
                p.message.push_str("\n\n");
                p.message.push_str(&message);
            }
            None => self.popup = Some(Popup { title: title.to_owned(), message }),
        }
    }

    pub fn on_engine(&mut self, event: Event) {
        match event {
            Event::State(state) => self.engine_state = state,
            Event::Loaded { name } => {
                self.note = format!("model loaded: {name}");
                self.engine_model = Some(name);
            }
            Event::LoadFailed { message } => {
                self.engine_model = None;
                self.show("The model did not load", message);
            }
            Event::Started { search, .. } => {
                if let Some(live) = &mut self.live
                    && live.search.is_none()
                {
                    live.search = Some(search);
                }
            }
            Event::Tree { search, events } => {
                if let Some(live) = self.live.as_mut().filter(|l| l.search == Some(search)) {
                    live.on_tree_events(events);
                }
            }
            Event::Progress(_) => {
                // Starting a search cancels the others, so every round is this search's (the
                // round that finishes it reports after its Finished event).
                if let Some(live) = self.live.as_mut().filter(|l| l.search.is_some()) {
                    live.iterations += 1;
                }
            }
            Event::Finished { search, outcome, record } => {
                if let Some(live) = self.live.as_mut().filter(|l| l.search == Some(search)) {
                    let (answer, node) = outcome.map(|o| (o.answer, o.node)).unwrap_or((None, None));
                    live.on_finished(answer, node);
                    // The engine's own clock, exact even for a search shorter than a tick.
                    if let Some(d) = record
                        .run
                        .get("elapsed_s")
                        .and_then(serde_json::Value::as_f64)
                        .and_then(|s| Duration::try_from_secs_f64(s).ok())
                    {
                        live.elapsed = d;
                    }
                }
            }
            Event::Error { message } => self.show("Engine error", message),
        }
    }

    pub fn on_browser(&mut self, msg: BrowserMsg) {
        if let BrowserMsg::Loaded { result: Err(message), .. } = &msg {
            self.popup =
                Some(Popup { title: "The tree could not be read".to_owned(), message: message.clone() });
        }
        if let Some(b) = &mut self.browser {
            b.on_msg(msg);
        }
    }

    pub fn on_batch(&mut self, msg: BatchMsg) {
        if let BatchMsg::Failed(message) = &msg {
            self.show("The batch stopped", message.clone());
        }
        self.batch.on_msg(msg);
    }

    /// Advances the clocks shown on screen (the runtime calls it; tests leave time still).
    pub fn tick(&mut self, now: Instant) {
        if let Some(live) = &mut self.live
            && live.finish.is_none()
            && live.search.is_some()
        {
            let running = matches!(self.engine_state, EngineState::Running);
            if running && self.live_started.is_none() {
                self.live_started = Some(now.checked_sub(live.elapsed).unwrap_or(now));
            }
            if !running {
                self.live_started = None;
            }
            if let Some(t0) = self.live_started {
                live.elapsed = now.saturating_duration_since(t0);
            }
        }
        if let Some(run) = &mut self.batch.run {
            if matches!(run.state, RunState::Running | RunState::Loading | RunState::Cancelling) {
                let t0 = *self.batch_started.get_or_insert(now);
                run.elapsed = now.saturating_duration_since(t0);
            } else {
                self.batch_started = None;
            }
        }
    }
}
