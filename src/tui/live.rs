//! The live search: a mirror of the engine's tree, built only by applying the engine's
//! `TreeEvent`s, and the counters shown above it.

use std::time::Duration;

use super::form::Form;
use super::tree_pane::{Ranking, TreePane};
use crate::engine::thread::EngineState;
use crate::grade;
use crate::problems::GroundTruth;
use crate::search::config::{Mode, SearchConfig};
use crate::tree::{Tree, TreeEvent};

/// How a finished search ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Finish {
    pub answer: Option<String>,
    pub correct: Option<bool>,
}

pub struct Live {
    pub question: String,
    pub problem_id: String,
    pub algorithm: String,
    pub model: String,
    pub config: SearchConfig,
    /// The engine's id for this search, once it started.
    pub search: Option<usize>,
    pub pane: TreePane,
    /// Rounds completed (one MCTS iteration or one beam/chain step each).
    pub iterations: usize,
    pub tokens: u64,
    pub elapsed: Duration,
    pub finish: Option<Finish>,
    pub follow: bool,
    pub frozen: bool,
    /// Events held back while frozen, applied on thaw.
    pub buffered: Vec<TreeEvent>,
    /// Iterations `run N` asks for.
    pub run_n: usize,
    pub form: Option<Form>,
    /// Events the mirror refused (should stay 0: the mirror and the engine apply the same
    /// events in the same order).
    pub refused: usize,
}

pub fn ranking_of(mode: Mode) -> Ranking {
    match mode {
        Mode::Mcts => Ranking::Mcts,
        Mode::Sbs => Ranking::Beam,
        Mode::React | Mode::Sample => Ranking::Chain,
    }
}

impl Live {
    pub fn new(
        question: String,
        problem_id: String,
        ground_truth: GroundTruth,
        algorithm: String,
        model: String,
        config: SearchConfig,
    ) -> Live {
        let pane = TreePane::new(Tree::new(), ground_truth, config.c_puct, ranking_of(config.mode));
        Live {
            question,
            problem_id,
            algorithm,
            model,
            config,
            search: None,
            pane,
            iterations: 0,
            tokens: 0,
            elapsed: Duration::ZERO,
            finish: None,
            follow: true,
            frozen: false,
            buffered: Vec::new(),
            run_n: 10,
            form: None,
            refused: 0,
        }
    }

    /// Applies (or, frozen, buffers) the engine's tree events for this search.
    pub fn on_tree_events(&mut self, events: Vec<TreeEvent>) {
        if self.frozen {
            self.buffered.extend(events);
            return;
        }
        self.apply(events);
    }

    fn apply(&mut self, events: Vec<TreeEvent>) {
        let before = self.pane.tree.len();
        for e in &events {
            if let TreeEvent::Generated { generation, .. } = e {
                self.tokens += u64::from(generation.tokens);
            }
            if self.pane.tree.apply(e).is_err() {
                self.refused += 1;
            }
        }
        if self.follow && self.pane.tree.len() > before {
            let newest = self.pane.tree.ids().last();
            if let Some(id) = newest {
                self.pane.select(id);
            }
        }
    }

    pub fn toggle_freeze(&mut self) {
        self.frozen = !self.frozen;
        if !self.frozen {
            let events = std::mem::take(&mut self.buffered);
            self.apply(events);
        }
    }

    pub fn on_finished(&mut self, answer: Option<String>, node: Option<crate::tree::NodeId>) {
        let gt = &self.pane.ground_truth;
        let correct =
            gt.is_known().then(|| answer.as_ref().is_some_and(|a| grade::is_equiv_any(gt.accepted(), a)));
        self.pane.best_override = node;
        self.finish = Some(Finish { answer, correct });
    }

    /// Tokens per second over the run so far.
    pub fn tokens_per_second(&self) -> Option<f64> {
        let s = self.elapsed.as_secs_f64();
        (s > 0.0 && self.tokens > 0).then(|| self.tokens as f64 / s)
    }

    /// Whether the search may still change.
    pub fn running(&self, engine: EngineState) -> bool {
        self.finish.is_none() && matches!(engine, EngineState::Running | EngineState::Loading)
    }
}
