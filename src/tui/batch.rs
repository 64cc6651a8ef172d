//! The batch panel: a dataset, an algorithm, a model and an output file; an evaluation or a
//! collection run on a worker thread (the loop of `arbor eval`: a batching driver, one tree
//! line per finished search, resumable), with progress, live accuracy and a results table.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::batch::score::{self, TreeScore};
use crate::engine::driver::Driver;
use crate::engine::output::{RunFacts, to_record};
use crate::engine::thread::BackendLoader;
use crate::problems::{self, Problem};
use crate::search::config::SearchConfig;
use crate::search::new_search;
use crate::store::{TreeFile, TreeWriter};

/// The panel's fields, in display order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Dataset,
    Algorithm,
    Model,
    Kind,
    Runs,
    Limit,
    Output,
    Resume,
}

pub const FIELDS: [Field; 8] = [
    Field::Dataset,
    Field::Algorithm,
    Field::Model,
    Field::Kind,
    Field::Runs,
    Field::Limit,
    Field::Output,
    Field::Resume,
];

impl Field {
    pub fn label(self) -> &'static str {
        match self {
            Field::Dataset => "dataset",
            Field::Algorithm => "algorithm",
            Field::Model => "model",
            Field::Kind => "run",
            Field::Runs => "runs per problem",
            Field::Limit => "limit",
            Field::Output => "output",
            Field::Resume => "resume",
        }
    }

    /// Fields typed as text (Enter edits them).
    pub fn is_text(self) -> bool {
        matches!(self, Field::Runs | Field::Limit | Field::Output)
    }
}

/// What the worker runs.
pub struct BatchSpec {
    pub label: String,
    pub data: PathBuf,
    pub config: SearchConfig,
    pub model: String,
    pub loader: BackendLoader,
    pub out: PathBuf,
    pub resume: bool,
    pub runs: usize,
    pub limit: Option<usize>,
    /// Problems searched together.
    pub batch: usize,
}

/// Messages from the batch worker.
#[derive(Clone, Debug, PartialEq)]
pub enum BatchMsg {
    Started { total: usize, skipped: usize },
    Progress { finished: usize, correct: usize, graded: usize },
    Done { summary: Box<score::Summary>, cancelled: bool, elapsed: Duration },
    Failed(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    Loading,
    Running,
    Cancelling,
    Done,
    Cancelled,
    Failed,
}

/// The run in progress (or the last one).
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    pub label: String,
    pub out: PathBuf,
    pub state: RunState,
    pub total: usize,
    pub skipped: usize,
    pub finished: usize,
    pub correct: usize,
    pub graded: usize,
    pub elapsed: Duration,
    pub message: Option<String>,
}

impl Run {
    pub fn accuracy(&self) -> Option<f64> {
        (self.graded > 0).then(|| self.correct as f64 / self.graded as f64)
    }

    /// Seconds left, from the pace so far.
    pub fn eta(&self) -> Option<f64> {
        (self.finished > 0).then(|| {
            self.elapsed.as_secs_f64() / self.finished as f64
                * (self.total.saturating_sub(self.finished)) as f64
        })
    }
}

/// A finished run, as a row of the AlphaMath README's table.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultRow {
    pub method: String,
    pub dataset: String,
    pub trees: usize,
    pub accuracy: Option<f64>,
    pub avg_seconds: Option<f64>,
    pub avg_steps: Option<f64>,
    /// Answers per question the vote saw (maj@k's k), or 1.
    pub solutions: String,
    pub cancelled: bool,
}

pub struct BatchPanel {
    /// (label, path) of problem files.
    pub datasets: Vec<(String, PathBuf)>,
    pub dataset: usize,
    pub algorithm: usize,
    pub collect: bool,
    pub runs: usize,
    pub limit: Option<usize>,
    pub out: String,
    pub resume: bool,
    pub field: usize,
    pub editing: Option<String>,
    pub error: Option<String>,
    pub run: Option<Run>,
    pub results: Vec<ResultRow>,
}

impl BatchPanel {
    pub fn new(datasets: Vec<(String, PathBuf)>) -> BatchPanel {
        BatchPanel {
            datasets,
            dataset: 0,
            algorithm: 2,
            collect: false,
            runs: 1,
            limit: None,
            out: "arbor-batch.jsonl".to_owned(),
            resume: true,
            field: 0,
            editing: None,
            error: None,
            run: None,
            results: Vec::new(),
        }
    }

    pub fn current_field(&self) -> Field {
        FIELDS[self.field.min(FIELDS.len() - 1)]
    }

    pub fn is_running(&self) -> bool {
        self.run
            .as_ref()
            .is_some_and(|r| matches!(r.state, RunState::Loading | RunState::Running | RunState::Cancelling))
    }

    /// The text of a field for editing.
    pub fn text_of(&self, field: Field) -> String {
        match field {
            Field::Runs => self.runs.to_string(),
            Field::Limit => self.limit.map(|l| l.to_string()).unwrap_or_default(),
            Field::Output => self.out.clone(),
            _ => String::new(),
        }
    }

    /// Applies typed text to the current field.
    pub fn commit_text(&mut self) {
        let Some(text) = self.editing.take() else { return };
        let text = text.trim().to_owned();
        self.error = None;
        match self.current_field() {
            Field::Runs => match text.parse::<usize>() {
                Ok(n) if n >= 1 => self.runs = n,
                _ => self.error = Some(format!("runs: '{text}' is not a number ≥ 1")),
            },
            Field::Limit => {
                if text.is_empty() {
                    self.limit = None;
                } else {
                    match text.parse::<usize>() {
                        Ok(n) if n >= 1 => self.limit = Some(n),
                        _ => {
                            self.error =
                                Some(format!("limit: '{text}' is not a number ≥ 1 (empty: no limit)"))
                        }
                    }
                }
            }
            Field::Output => {
                if text.is_empty() {
                    self.error = Some("output: a file name is needed".to_owned());
                } else {
                    self.out = text;
                }
            }
            _ => {}
        }
    }

    pub fn on_msg(&mut self, msg: BatchMsg) {
        let Some(run) = &mut self.run else { return };
        match msg {
            BatchMsg::Started { total, skipped } => {
                run.total = total;
                run.skipped = skipped;
                if run.state == RunState::Loading {
                    run.state = RunState::Running;
                }
            }
            BatchMsg::Progress { finished, correct, graded } => {
                run.finished = finished;
                run.correct = correct;
                run.graded = graded;
            }
            BatchMsg::Done { summary, cancelled, elapsed } => {
                run.state = if cancelled { RunState::Cancelled } else { RunState::Done };
                run.elapsed = elapsed;
                if summary.trees > 0 {
                    let solutions = match &summary.maj {
                        Some(m) if m.k_min == m.k_max => format!("maj@{}", m.k_max),
                        Some(m) => format!("maj@{}-{}", m.k_min, m.k_max),
                        None => "top-1".to_owned(),
                    };
                    self.results.push(ResultRow {
                        method: run.label.clone(),
                        dataset: self.datasets.get(self.dataset).map(|d| d.0.clone()).unwrap_or_default(),
                        trees: summary.trees,
                        accuracy: summary.accuracy,
                        avg_seconds: summary.avg_seconds,
                        avg_steps: summary.avg_steps,
                        solutions,
                        cancelled,
                    });
                }
            }
            BatchMsg::Failed(message) => {
                run.state = RunState::Failed;
                run.message = Some(message);
            }
        }
    }
}

/// (problem id, run) of the trees already in `path` (as `arbor eval --resume` reads them).
fn done_keys(path: &Path) -> Result<HashSet<(String, u64)>, String> {
    let mut keys = HashSet::new();
    if !path.exists() {
        return Ok(keys);
    }
    let file = TreeFile::open(path).map_err(|e| e.to_string())?;
    for i in 0..file.len() {
        if let Ok(Ok(loaded)) = file.load(i) {
            let run = &loaded.record.run;
            if let (Some(id), Some(k)) =
                (run.get("problem").and_then(Value::as_str), run.get("run").and_then(Value::as_u64))
            {
                keys.insert((id.to_owned(), k));
            }
        }
    }
    Ok(keys)
}

/// Starts the worker; `cancel` ends it after the current round, writing what finished.
pub fn spawn(spec: BatchSpec, cancel: Arc<AtomicBool>, tx: Sender<BatchMsg>) {
    let _ = std::thread::Builder::new().name("arbor-batch".into()).spawn(move || {
        let started = Instant::now();
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(spec, &cancel, &tx, started)));
        let message = match result {
            Ok(Ok(())) => return,
            Ok(Err(message)) => message,
            Err(_) => "the batch worker panicked; see the log".to_owned(),
        };
        let _ = tx.send(BatchMsg::Failed(message));
    });
}

fn run(spec: BatchSpec, cancel: &AtomicBool, tx: &Sender<BatchMsg>, started: Instant) -> Result<(), String> {
    let set = problems::load(&spec.data).map_err(|e| e.to_string())?;
    let mut problems: Vec<Problem> = set.problems;
    if let Some(limit) = spec.limit {
        problems.truncate(limit);
    }
    if !spec.resume && spec.out.exists() {
        return Err(format!(
            "{}: already exists; turn resume on or choose another output",
            spec.out.display()
        ));
    }
    let done = if spec.resume { done_keys(&spec.out)? } else { HashSet::new() };
    let mut queue: VecDeque<(usize, u64)> = (0..problems.len())
        .flat_map(|p| (0..spec.runs as u64).map(move |k| (p, k)))
        .filter(|(p, k)| !done.contains(&(problems[*p].id.clone(), *k)))
        .collect();
    let total = queue.len();
    let _ = tx.send(BatchMsg::Started { total, skipped: done.len() });
    if total == 0 {
        let _ = tx.send(BatchMsg::Done {
            summary: Box::new(score::summarize(&[])),
            cancelled: false,
            elapsed: started.elapsed(),
        });
        return Ok(());
    }
    let mut backends = (spec.loader)()?;
    let mut writer = if spec.resume && spec.out.exists() {
        TreeWriter::append(&spec.out).map_err(|e| e.to_string())?.0
    } else {
        TreeWriter::create(&spec.out).map_err(|e| e.to_string())?
    };
    let mut driver = Driver::new();
    let mut live: HashMap<usize, (usize, u64, Instant)> = HashMap::new();
    let mut scores: Vec<TreeScore> = Vec::new();
    let mut cancelled = false;
    loop {
        if cancel.load(Ordering::Relaxed) {
            cancelled = true;
            break;
        }
        while live.len() < spec.batch.max(1) {
            let Some((p, k)) = queue.pop_front() else { break };
            let problem = &problems[p];
            let seed = (p as u64) * 1_000_003 + k;
            let id = driver.add(new_search(
                spec.config.clone(),
                &problem.question,
                problem.ground_truth.clone(),
                seed,
            ));
            live.insert(id, (p, k, Instant::now()));
        }
        if live.is_empty() {
            break;
        }
        driver.round(backends.as_mut(), &mut |_, _| {}).map_err(|e| e.to_string())?;
        for id in driver.done() {
            let Some((p, k, t0)) = live.remove(&id) else { continue };
            let Some(search) = driver.remove(id) else { continue };
            let problem = &problems[p];
            let facts =
                RunFacts { elapsed_s: Some(t0.elapsed().as_secs_f64()), model: Some(spec.model.clone()) };
            let mut record = to_record(&problem.record, search.as_ref(), &spec.config, &facts);
            record.run.insert("problem".into(), json!(problem.id));
            record.run.insert("run".into(), json!(k));
            writer.write(&record).map_err(|e| e.to_string())?;
            scores.push(score::score_tree(0, &record));
            let summary = score::summarize(&scores);
            let _ = tx.send(BatchMsg::Progress {
                finished: scores.len(),
                correct: summary.correct,
                graded: summary.graded,
            });
        }
    }
    // A resumed run that finished reports the whole file, as `arbor score` would.
    drop(writer);
    let summary = if !cancelled && !done.is_empty() {
        score_file(&spec.out).unwrap_or_else(|_| score::summarize(&scores))
    } else {
        score::summarize(&scores)
    };
    let _ = tx.send(BatchMsg::Done { summary: Box::new(summary), cancelled, elapsed: started.elapsed() });
    Ok(())
}

/// Scores every tree of a finished output file.
fn score_file(path: &Path) -> Result<score::Summary, crate::store::StoreError> {
    let (trees, _) = crate::store::TreeFile::open(path)?.load_all()?;
    let scores: Vec<TreeScore> = trees.iter().map(|t| score::score_tree(t.line, &t.record)).collect();
    Ok(score::summarize(&scores))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_fields_validate() {
        let mut p = BatchPanel::new(Vec::new());
        p.field = FIELDS.iter().position(|f| *f == Field::Runs).unwrap();
        p.editing = Some("0".into());
        p.commit_text();
        assert!(p.error.is_some());
        assert_eq!(p.runs, 1);
        p.editing = Some("3".into());
        p.commit_text();
        assert_eq!(p.runs, 3);
        p.field = FIELDS.iter().position(|f| *f == Field::Limit).unwrap();
        p.editing = Some(String::new());
        p.commit_text();
        assert_eq!(p.limit, None);
    }
}
