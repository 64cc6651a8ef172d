//! The batching driver: many searches in flight, one backend call per kind of need per round
//! (the reference's `Solver.solve` loop: generate for every tree, run their code, value their
//! new nodes, repeat).

use super::EngineError;
use crate::search::request::{
    ExecuteNeed, Executed, GenerateNeed, Generated, JudgeNeed, Need, Search, ValueNeed,
};
use crate::tree::TreeEvent;

/// What the driver calls; one call serves the needs of every search in the round.
pub trait Backends {
    fn generate(&mut self, needs: &[GenerateNeed]) -> Result<Vec<Generated>, EngineError>;
    fn execute(&mut self, needs: &[ExecuteNeed]) -> Result<Vec<Executed>, EngineError>;
    fn value(&mut self, needs: &[ValueNeed]) -> Result<Vec<Option<f64>>, EngineError>;
    /// P("True") from a judge model (PRM/ORM critics), one per need. Backends without a
    /// judge keep this default, which fails the run: a search asks only when the config
    /// gives a critic weight to a judge.
    fn judge(&mut self, needs: &[JudgeNeed]) -> Result<Vec<Option<f64>>, EngineError> {
        let _ = needs;
        Err(EngineError::Backend(
            "judge: these backends have no judge model (set eta_prm_weight and eta_orm_weight to 0, or \
             rollout_score to value_head)"
                .to_owned(),
        ))
    }
}

/// Counters of the calls made, for benchmarks and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallCounts {
    pub rounds: usize,
    pub generate_calls: usize,
    pub generate_requests: usize,
    pub execute_calls: usize,
    pub execute_requests: usize,
    pub value_calls: usize,
    pub value_requests: usize,
    pub judge_calls: usize,
    pub judge_requests: usize,
}

/// Runs searches together. A search keeps the id [`Driver::add`] gave it until it is
/// removed; ids are not reused.
#[derive(Default)]
pub struct Driver {
    searches: Vec<Option<Box<dyn Search>>>,
    pub counts: CallCounts,
}

/// Which stage of a round a need belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Generate,
    Execute,
    Value,
    Judge,
}

impl Driver {
    pub fn new() -> Driver {
        Driver::default()
    }

    /// Adds a search; returns its id.
    pub fn add(&mut self, search: Box<dyn Search>) -> usize {
        self.searches.push(Some(search));
        self.searches.len() - 1
    }

    /// The search with id `id`.
    ///
    /// # Panics
    /// If there is no such search (never added, or removed): ids come from [`Driver::add`].
    pub fn search(&self, id: usize) -> &dyn Search {
        match &self.searches[id] {
            Some(s) => s.as_ref(),
            None => panic!("search {id} was removed"),
        }
    }

    /// The search with id `id`, mutably. Panics as [`Driver::search`].
    pub fn search_mut(&mut self, id: usize) -> &mut dyn Search {
        match &mut self.searches[id] {
            Some(s) => s.as_mut(),
            None => panic!("search {id} was removed"),
        }
    }

    /// Ids of the searches present, in the order they were added.
    pub fn ids(&self) -> Vec<usize> {
        (0..self.searches.len()).filter(|i| self.searches[*i].is_some()).collect()
    }

    /// Searches present.
    pub fn len(&self) -> usize {
        self.searches.iter().filter(|s| s.is_some()).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes a search out; its id is not reused.
    pub fn remove(&mut self, id: usize) -> Option<Box<dyn Search>> {
        self.searches.get_mut(id).and_then(Option::take)
    }

    /// Ids of the searches that need nothing more.
    pub fn done(&mut self) -> Vec<usize> {
        let mut ids = Vec::new();
        for (i, slot) in self.searches.iter_mut().enumerate() {
            if let Some(s) = slot
                && matches!(s.poll(), Need::Done)
            {
                ids.push(i);
            }
        }
        ids
    }

    /// Removes and returns the searches present, in id order.
    pub fn into_searches(self) -> Vec<Box<dyn Search>> {
        self.searches.into_iter().flatten().collect()
    }

    /// One round: every search waiting for a generation gets it in one batched call, then
    /// every search waiting to run code, then every search waiting for values, then every
    /// search waiting for judgements. `on_events` sees
    /// each search's new tree events after each stage. Returns false when nothing was needed.
    pub fn round(
        &mut self,
        backends: &mut dyn Backends,
        on_events: &mut dyn FnMut(usize, Vec<TreeEvent>),
    ) -> Result<bool, EngineError> {
        let mut any = false;
        for stage in [Stage::Generate, Stage::Execute, Stage::Value, Stage::Judge] {
            any |= self.stage(stage, backends, on_events)?;
        }
        if any {
            self.counts.rounds += 1;
        }
        Ok(any)
    }

    /// Runs rounds until every search is done.
    pub fn run(
        &mut self,
        backends: &mut dyn Backends,
        on_events: &mut dyn FnMut(usize, Vec<TreeEvent>),
    ) -> Result<(), EngineError> {
        while self.round(backends, on_events)? {}
        Ok(())
    }

    fn stage(
        &mut self,
        stage: Stage,
        backends: &mut dyn Backends,
        on_events: &mut dyn FnMut(usize, Vec<TreeEvent>),
    ) -> Result<bool, EngineError> {
        // Which searches take part, and how many requests each contributed.
        let mut spans: Vec<(usize, usize)> = Vec::new();
        let mut generate = Vec::new();
        let mut execute = Vec::new();
        let mut value = Vec::new();
        let mut judge = Vec::new();
        for (i, slot) in self.searches.iter_mut().enumerate() {
            let Some(search) = slot else { continue };
            match (stage, search.poll()) {
                (Stage::Generate, Need::Generate(needs)) => {
                    spans.push((i, needs.len()));
                    generate.extend(needs);
                }
                (Stage::Execute, Need::Execute(needs)) => {
                    spans.push((i, needs.len()));
                    execute.extend(needs);
                }
                (Stage::Value, Need::Value(needs)) => {
                    spans.push((i, needs.len()));
                    value.extend(needs);
                }
                (Stage::Judge, Need::Judge(needs)) => {
                    spans.push((i, needs.len()));
                    judge.extend(needs);
                }
                _ => {}
            }
        }
        if spans.is_empty() {
            return Ok(false);
        }
        match stage {
            Stage::Generate => {
                let mut results = backends.generate(&generate)?.into_iter();
                check_len("generate", generate.len(), results.len())?;
                self.counts.generate_calls += 1;
                self.counts.generate_requests += generate.len();
                for (i, n) in spans {
                    let search = self.search_mut(i);
                    search.answer_generate(results.by_ref().take(n).collect());
                    on_events(i, search.take_events());
                }
            }
            Stage::Execute => {
                let mut results = backends.execute(&execute)?.into_iter();
                check_len("execute", execute.len(), results.len())?;
                self.counts.execute_calls += 1;
                self.counts.execute_requests += execute.len();
                for (i, n) in spans {
                    let search = self.search_mut(i);
                    search.answer_execute(results.by_ref().take(n).collect());
                    on_events(i, search.take_events());
                }
            }
            Stage::Value => {
                let mut results = backends.value(&value)?.into_iter();
                check_len("value", value.len(), results.len())?;
                self.counts.value_calls += 1;
                self.counts.value_requests += value.len();
                for (i, n) in spans {
                    let search = self.search_mut(i);
                    search.answer_value(results.by_ref().take(n).collect());
                    on_events(i, search.take_events());
                }
            }
            Stage::Judge => {
                let mut results = backends.judge(&judge)?.into_iter();
                check_len("judge", judge.len(), results.len())?;
                self.counts.judge_calls += 1;
                self.counts.judge_requests += judge.len();
                for (i, n) in spans {
                    let search = self.search_mut(i);
                    search.answer_judge(results.by_ref().take(n).collect());
                    on_events(i, search.take_events());
                }
            }
        }
        Ok(true)
    }
}

fn check_len(what: &'static str, asked: usize, got: usize) -> Result<(), EngineError> {
    if asked == got {
        Ok(())
    } else {
        Err(EngineError::Backend(format!("{what}: asked for {asked} results, got {got}")))
    }
}
