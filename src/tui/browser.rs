//! The saved-tree browser: a tree file indexed at once (`TreeFile::open` scans for newlines,
//! no parsing), per-tree summaries filled in by a background thread, and one tree decoded on
//! demand, also off the UI thread.

use std::cell::Cell;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;

use super::tree_pane::{Ranking, TreePane};
use crate::batch::score::{self, TreeKind};
use crate::problems::{self, GroundTruth};
use crate::search::offline::{self, OfflineConfig, Selection, Strategy};
use crate::store::{TreeFile, TreeRecord};

/// One line of the file, summarised.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub question: String,
    pub answer: String,
    pub correct: Option<bool>,
    pub nodes: usize,
    pub kind: &'static str,
    /// The line holds no readable tree.
    pub error: Option<String>,
}

/// Messages from the browser's worker threads.
#[derive(Debug)]
pub enum BrowserMsg {
    Summaries(Vec<(usize, Summary)>),
    Loaded { index: usize, result: Result<Box<TreeRecord>, String> },
}

pub struct OpenTree {
    pub index: usize,
    pub question: String,
    pub kind: TreeKind,
    pub pane: TreePane,
    pub strategy: Strategy,
    pub prune: bool,
    /// The re-selection's result with `strategy` and `prune`.
    pub selection: Option<Selection>,
    pub correct: Option<bool>,
}

impl OpenTree {
    pub fn new(index: usize, record: TreeRecord) -> OpenTree {
        let kind = TreeKind::of(&record);
        let ground_truth =
            problems::ground_truth_of(&record.fields).map(|g| g.0).unwrap_or(GroundTruth::Unknown);
        let c_puct = record
            .run
            .get("config")
            .and_then(|c| c.get("c_puct"))
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(offline::OFFLINE_C_PUCT);
        let ranking = match kind {
            TreeKind::Mcts => Ranking::Mcts,
            TreeKind::Beam => Ranking::Beam,
            TreeKind::Greedy => Ranking::Chain,
        };
        let question = record.question().to_owned();
        let pane = TreePane::new(record.tree, ground_truth, c_puct, ranking);
        let mut open = OpenTree {
            index,
            question,
            kind,
            pane,
            strategy: Strategy::QValue,
            prune: true,
            selection: None,
            correct: None,
        };
        open.reselect();
        open
    }

    /// Runs the reference's offline re-selection with the current strategy and pruning.
    pub fn reselect(&mut self) {
        let config = OfflineConfig::reference(self.strategy, self.prune);
        self.selection = offline::select(&self.pane.tree, &config);
        self.pane.best_override = self.selection.as_ref().map(|s| s.node);
        let gt = &self.pane.ground_truth;
        self.correct = match &self.selection {
            Some(s) if gt.is_known() => Some(crate::grade::is_equiv_any(gt.accepted(), &s.final_answer)),
            None if gt.is_known() => Some(false),
            _ => None,
        };
    }

    pub fn next_strategy(&mut self) {
        let all = Strategy::ALL;
        let at = all.iter().position(|s| *s == self.strategy).unwrap_or(0);
        self.strategy = all[(at + 1) % all.len()];
        self.reselect();
    }

    pub fn toggle_prune(&mut self) {
        self.prune = !self.prune;
        self.reselect();
    }
}

pub struct Browser {
    pub path: PathBuf,
    pub file: Arc<TreeFile>,
    pub summaries: Vec<Option<Summary>>,
    pub selected: usize,
    pub offset: Cell<usize>,
    pub viewport: Cell<usize>,
    pub open: Option<OpenTree>,
    /// The tree being decoded.
    pub loading: Option<usize>,
    /// Stops the summary thread when the browser goes away.
    pub stop: Arc<AtomicBool>,
}

impl Browser {
    pub fn new(file: TreeFile) -> Browser {
        let count = file.len();
        Browser {
            path: file.path().to_owned(),
            file: Arc::new(file),
            summaries: vec![None; count],
            selected: 0,
            offset: Cell::new(0),
            viewport: Cell::new(20),
            open: None,
            loading: None,
            stop: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn summarized(&self) -> usize {
        self.summaries.iter().filter(|s| s.is_some()).count()
    }

    pub fn move_by(&mut self, delta: isize) {
        if self.summaries.is_empty() {
            return;
        }
        self.selected = (self.selected as isize + delta).clamp(0, self.summaries.len() as isize - 1) as usize;
    }

    pub fn on_msg(&mut self, msg: BrowserMsg) {
        match msg {
            BrowserMsg::Summaries(batch) => {
                for (i, s) in batch {
                    if let Some(slot) = self.summaries.get_mut(i) {
                        *slot = Some(s);
                    }
                }
            }
            BrowserMsg::Loaded { index, result } => {
                if self.loading == Some(index) {
                    self.loading = None;
                    if let Ok(record) = result {
                        self.open = Some(OpenTree::new(index, *record));
                    }
                }
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Summarises one decoded tree.
pub fn summarize(record: &TreeRecord) -> Summary {
    let scored = score::score_tree(0, record);
    Summary {
        question: clip(record.question(), 300),
        answer: scored.chosen.map(|c| clip(&c.answer, 80)).unwrap_or_default(),
        correct: scored.correct,
        nodes: record.tree.len(),
        kind: scored.kind.name(),
        error: None,
    }
}

fn clip(text: &str, max: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        one_line.chars().take(max).chain(std::iter::once('…')).collect()
    }
}

/// Reads every line's summary in order on its own thread, sending them in small batches.
pub fn spawn_summaries(file: Arc<TreeFile>, stop: Arc<AtomicBool>, tx: Sender<BrowserMsg>) {
    let _ = std::thread::Builder::new().name("arbor-summaries".into()).spawn(move || {
        let mut batch = Vec::new();
        let mut last_send = std::time::Instant::now();
        for i in 0..file.len() {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let summary = match file.load(i) {
                Ok(Ok(loaded)) => summarize(&loaded.record),
                Ok(Err(diagnostic)) => error_summary(diagnostic.to_string()),
                Err(e) => error_summary(e.to_string()),
            };
            batch.push((i, summary));
            if batch.len() >= 64 || last_send.elapsed().as_millis() > 100 {
                if tx.send(BrowserMsg::Summaries(std::mem::take(&mut batch))).is_err() {
                    return;
                }
                last_send = std::time::Instant::now();
            }
        }
        let _ = tx.send(BrowserMsg::Summaries(batch));
    });
}

fn error_summary(message: String) -> Summary {
    Summary {
        question: String::new(),
        answer: String::new(),
        correct: None,
        nodes: 0,
        kind: "-",
        error: Some(message),
    }
}

/// Decodes tree `index` on its own thread.
pub fn spawn_load(file: Arc<TreeFile>, index: usize, tx: Sender<BrowserMsg>) {
    let _ = std::thread::Builder::new().name("arbor-load-tree".into()).spawn(move || {
        let result = match file.load(index) {
            Ok(Ok(loaded)) => Ok(Box::new(loaded.record)),
            Ok(Err(diagnostic)) => Err(diagnostic.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let _ = tx.send(BrowserMsg::Loaded { index, result });
    });
}
