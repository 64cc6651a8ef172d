//! The engine thread: owns the backends and the driver, takes [`Command`]s (load a model,
//! start a problem, step, run, pause, resume, cancel, change settings) and reports
//! [`Event`]s (tree events, progress, finished searches, errors). A caller such as the TUI
//! never waits on it: it sends commands and drains events.
//!
//! A panic inside a round becomes an [`Event::Error`]; the searches in flight are dropped and
//! the engine keeps serving commands. If the thread itself dies, the event channel closes, so
//! a caller blocked on events wakes up instead of hanging.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::driver::{Backends, Driver};
use super::output::{RunFacts, to_record};
use crate::problems::GroundTruth;
use crate::search::config::SearchConfig;
use crate::search::new_search;
use crate::search::request::{Need, Outcome};
use crate::store::TreeRecord;
use crate::tree::TreeEvent;

/// Loads backends on the engine thread (model loading can take seconds).
pub type BackendLoader = Box<dyn FnOnce() -> Result<Box<dyn Backends + Send>, String> + Send>;

/// A problem to search.
#[derive(Clone, Debug, PartialEq)]
pub struct ProblemSpec {
    pub question: String,
    pub ground_truth: GroundTruth,
    /// The problem record's keys, written before `react` in the tree file.
    pub fields: Map<String, Value>,
    /// Separates problems that share the configured seed.
    pub seed: u64,
}

impl ProblemSpec {
    pub fn from_question(question: &str, answer: Option<&str>) -> ProblemSpec {
        let mut fields = Map::new();
        fields.insert("question".into(), Value::String(question.to_owned()));
        if let Some(a) = answer {
            fields.insert("answer".into(), Value::String(a.to_owned()));
        }
        ProblemSpec {
            question: question.to_owned(),
            ground_truth: answer.map_or(GroundTruth::Unknown, |a| GroundTruth::One(a.to_owned())),
            fields,
            seed: 0,
        }
    }
}

pub enum Command {
    /// Replaces the backends with what `load` returns.
    Load {
        name: String,
        load: BackendLoader,
    },
    /// Adds a search; it runs when rounds are asked for.
    Start {
        problem: Box<ProblemSpec>,
        config: Box<SearchConfig>,
    },
    /// Runs, pauses or changes the searches already started.
    Control(Control),
    Shutdown,
}

/// What a person does to running searches. Plain data (unlike a [`Command::Load`], which
/// carries a closure), so a front end can hold, compare and test it before sending it.
#[derive(Clone, Debug, PartialEq)]
pub enum Control {
    /// One round: one iteration (MCTS) or step (beam, chains) of every live search. While
    /// paused, the round runs at once and the engine stays paused (stepping through a
    /// search); the rounds asked for before the pause are kept for `Resume`.
    Step,
    /// `n` rounds.
    Run(usize),
    /// Rounds until every search is done.
    RunToEnd,
    /// Stops after the current round; `Resume` goes on with the rounds left.
    Pause,
    Resume,
    /// Ends every live search now, with the tree it has.
    Cancel,
    /// `key=value` applied to every live search from its next iteration.
    Configure(String),
}

impl From<Control> for Command {
    fn from(control: Control) -> Command {
        Command::Control(control)
    }
}

impl Command {
    /// [`Command::Start`] without the boxing.
    pub fn start(problem: ProblemSpec, config: SearchConfig) -> Command {
        Command::Start { problem: Box::new(problem), config: Box::new(config) }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineState {
    /// Nothing to do.
    Idle,
    Loading,
    Running,
    Paused,
}

#[derive(Clone, Debug)]
pub enum Event {
    State(EngineState),
    Loaded {
        name: String,
    },
    LoadFailed {
        message: String,
    },
    Started {
        search: usize,
        question: String,
    },
    /// Tree changes of one search, in order; apply them to a mirror with `Tree::apply`.
    Tree {
        search: usize,
        events: Vec<TreeEvent>,
    },
    Progress(Progress),
    Finished {
        search: usize,
        outcome: Option<Outcome>,
        record: Box<TreeRecord>,
    },
    Error {
        message: String,
    },
}

/// Counters after a round.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Progress {
    pub rounds: usize,
    pub live: usize,
    pub nodes: usize,
    pub elapsed: Duration,
}

/// The caller's side: send commands, drain events.
pub struct EngineHandle {
    commands: Sender<Command>,
    events: Receiver<Event>,
    join: Option<JoinHandle<()>>,
}

impl EngineHandle {
    /// Starts the engine thread.
    pub fn spawn() -> EngineHandle {
        let (commands, command_rx) = mpsc::channel();
        let (event_tx, events) = mpsc::channel();
        let join = std::thread::Builder::new()
            .name("arbor-engine".into())
            .spawn(move || Engine::new(command_rx, event_tx).run())
            .ok();
        EngineHandle { commands, events, join }
    }

    /// Sends a command; false when the engine is gone.
    pub fn send(&self, command: impl Into<Command>) -> bool {
        self.commands.send(command.into()).is_ok()
    }

    /// The events so far, without waiting.
    pub fn drain(&self) -> Vec<Event> {
        self.events.try_iter().collect()
    }

    /// The next event, waiting up to `timeout`; `None` on timeout or when the engine is gone.
    pub fn next(&self, timeout: Duration) -> Option<Event> {
        self.events.recv_timeout(timeout).ok()
    }

    /// True while the engine thread runs.
    pub fn alive(&self) -> bool {
        self.join.as_ref().is_some_and(|j| !j.is_finished())
    }
}

impl Drop for EngineHandle {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Shutdown);
        if let Some(join) = self.join.take() {
            let _ = join.join();
        }
    }
}

struct Slot {
    problem: ProblemSpec,
    config: SearchConfig,
    started: Instant,
    reported: bool,
}

struct Engine {
    commands: Receiver<Command>,
    events: Sender<Event>,
    backends: Option<Box<dyn Backends + Send>>,
    model_name: Option<String>,
    driver: Driver,
    slots: Vec<Slot>,
    /// Rounds still asked for; `usize::MAX` means until done.
    budget: usize,
    paused: bool,
    rounds: usize,
    state: EngineState,
}

impl Engine {
    fn new(commands: Receiver<Command>, events: Sender<Event>) -> Engine {
        Engine {
            commands,
            events,
            backends: None,
            model_name: None,
            driver: Driver::new(),
            slots: Vec::new(),
            budget: 0,
            paused: false,
            rounds: 0,
            state: EngineState::Idle,
        }
    }

    fn emit(&self, event: Event) {
        let _ = self.events.send(event);
    }

    fn set_state(&mut self, state: EngineState) {
        if self.state != state {
            self.state = state;
            self.emit(Event::State(state));
        }
    }

    fn run(mut self) {
        loop {
            let working = self.budget > 0 && !self.paused && self.backends.is_some();
            let command = if working {
                match self.commands.try_recv() {
                    Ok(c) => Some(c),
                    Err(TryRecvError::Empty) => None,
                    Err(TryRecvError::Disconnected) => return,
                }
            } else {
                match self.commands.recv() {
                    Ok(c) => Some(c),
                    Err(_) => return,
                }
            };
            if let Some(command) = command {
                if !self.handle(command) {
                    return;
                }
                continue;
            }
            self.round();
        }
    }

    /// Returns false to shut down.
    fn handle(&mut self, command: Command) -> bool {
        match command {
            Command::Shutdown => return false,
            Command::Load { name, load } => {
                self.set_state(EngineState::Loading);
                match catch_unwind(AssertUnwindSafe(load)) {
                    Ok(Ok(backends)) => {
                        self.backends = Some(backends);
                        self.model_name = Some(name.clone());
                        self.emit(Event::Loaded { name });
                    }
                    Ok(Err(message)) => self.emit(Event::LoadFailed { message }),
                    Err(panic) => self.emit(Event::LoadFailed { message: panic_message(&panic) }),
                }
                self.settle();
            }
            Command::Start { problem, config } => {
                let (problem, config) = (*problem, *config);
                if let Err(e) = config.validate() {
                    self.emit(Event::Error { message: e.to_string() });
                    return true;
                }
                let search =
                    new_search(config.clone(), &problem.question, problem.ground_truth.clone(), problem.seed);
                let index = self.driver.add(search);
                self.emit(Event::Started { search: index, question: problem.question.clone() });
                let root_events = self.driver.search_mut(index).take_events();
                self.emit(Event::Tree { search: index, events: root_events });
                self.slots.push(Slot { problem, config, started: Instant::now(), reported: false });
            }
            Command::Control(control) => self.control(control),
        }
        true
    }

    fn control(&mut self, control: Control) {
        match control {
            Control::Step if self.paused && self.backends.is_some() => {
                let saved = self.budget;
                self.budget = 1;
                self.round();
                // `round` spends the budget; keep what was asked before the pause unless
                // nothing is left to search.
                let live = self.slots.iter().any(|s| !s.reported);
                self.budget = if live { saved } else { 0 };
                self.settle();
            }
            Control::Step => self.ask(1),
            Control::Run(n) => self.ask(n),
            Control::RunToEnd => self.ask(usize::MAX),
            Control::Pause => {
                self.paused = true;
                self.settle();
            }
            Control::Resume => {
                self.paused = false;
                self.settle();
            }
            Control::Cancel => {
                for i in self.driver.ids() {
                    self.driver.search_mut(i).finish_early();
                }
                self.budget = 0;
                self.report_finished();
                self.settle();
            }
            Control::Configure(assignment) => {
                for i in self.driver.ids() {
                    if self.slots[i].reported {
                        continue;
                    }
                    let config = self.driver.search_mut(i).config_mut();
                    let mut changed = config.clone();
                    match changed.set(&assignment).and_then(|()| changed.validate()) {
                        Ok(()) => {
                            *config = changed.clone();
                            self.slots[i].config = changed;
                        }
                        Err(e) => {
                            self.emit(Event::Error { message: e.to_string() });
                            break;
                        }
                    }
                }
            }
        }
    }

    fn ask(&mut self, rounds: usize) {
        if self.backends.is_none() {
            self.emit(Event::Error { message: "no model is loaded yet".to_owned() });
            return;
        }
        self.budget = if rounds == usize::MAX { usize::MAX } else { self.budget.saturating_add(rounds) };
        self.settle();
    }

    /// Publishes the state that follows from budget, pause and work left.
    fn settle(&mut self) {
        let state = if self.paused && self.budget > 0 {
            EngineState::Paused
        } else if self.budget > 0 && self.backends.is_some() {
            EngineState::Running
        } else {
            EngineState::Idle
        };
        self.set_state(state);
    }

    fn round(&mut self) {
        let Some(backends) = self.backends.as_mut() else { return };
        let events = &self.events;
        let driver = &mut self.driver;
        let result = catch_unwind(AssertUnwindSafe(|| {
            driver.round(backends.as_mut(), &mut |search, tree_events| {
                if !tree_events.is_empty() {
                    let _ = events.send(Event::Tree { search, events: tree_events });
                }
            })
        }));
        match result {
            Ok(Ok(true)) => {
                self.rounds += 1;
                if self.budget != usize::MAX {
                    self.budget -= 1;
                }
                self.report_finished();
                let progress = self.progress();
                self.emit(Event::Progress(progress));
                if progress.live == 0 {
                    self.budget = 0;
                }
            }
            Ok(Ok(false)) => {
                self.budget = 0;
                self.report_finished();
            }
            Ok(Err(e)) => {
                self.budget = 0;
                self.emit(Event::Error { message: e.to_string() });
            }
            Err(panic) => {
                self.budget = 0;
                self.emit(Event::Error {
                    message: format!(
                        "the engine panicked ({}); the searches in flight were dropped",
                        panic_message(&panic)
                    ),
                });
                self.driver = Driver::new();
                self.slots.clear();
            }
        }
        self.settle();
    }

    fn progress(&self) -> Progress {
        let live = self.slots.iter().filter(|s| !s.reported).count();
        let nodes = self.driver.ids().into_iter().map(|i| self.driver.search(i).tree().len()).sum();
        let elapsed = self.slots.iter().map(|s| s.started.elapsed()).max().unwrap_or_default();
        Progress { rounds: self.rounds, live, nodes, elapsed }
    }

    fn report_finished(&mut self) {
        for i in self.driver.ids() {
            if self.slots[i].reported || !matches!(self.driver.search_mut(i).poll(), Need::Done) {
                continue;
            }
            self.slots[i].reported = true;
            let leftover = self.driver.search_mut(i).take_events();
            if !leftover.is_empty() {
                self.emit(Event::Tree { search: i, events: leftover });
            }
            let slot = &self.slots[i];
            let facts = RunFacts {
                elapsed_s: Some(slot.started.elapsed().as_secs_f64()),
                model: self.model_name.clone(),
            };
            let search = self.driver.search(i);
            let record = to_record(&slot.problem.fields, search, &slot.config, &facts);
            self.emit(Event::Finished { search: i, outcome: search.outcome(), record: Box::new(record) });
        }
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned())
}
