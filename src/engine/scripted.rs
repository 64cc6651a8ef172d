//! Backends answered by functions instead of models: for tests, benchmarks of the engine's
//! own overhead, and demonstrations without weights.

use super::EngineError;
use super::driver::Backends;
use crate::search::request::{ExecuteNeed, Executed, GenerateNeed, Generated, JudgeNeed, ValueNeed};

type GenerateFn = Box<dyn FnMut(&GenerateNeed) -> Generated + Send>;
type ExecuteFn = Box<dyn FnMut(&ExecuteNeed) -> Executed + Send>;
type ValueFn = Box<dyn FnMut(&ValueNeed) -> Option<f64> + Send>;
type JudgeFn = Box<dyn FnMut(&JudgeNeed) -> Option<f64> + Send>;

/// Backends whose answers come from closures, one request at a time.
pub struct Scripted {
    generate: GenerateFn,
    execute: ExecuteFn,
    value: ValueFn,
    /// `None`: no judge (the [`Backends::judge`] default, an error).
    judge: Option<JudgeFn>,
}

impl Scripted {
    pub fn new(
        generate: impl FnMut(&GenerateNeed) -> Generated + Send + 'static,
        execute: impl FnMut(&ExecuteNeed) -> Executed + Send + 'static,
        value: impl FnMut(&ValueNeed) -> Option<f64> + Send + 'static,
    ) -> Scripted {
        Scripted {
            generate: Box::new(generate),
            execute: Box::new(execute),
            value: Box::new(value),
            judge: None,
        }
    }

    /// Adds a judge answering [`JudgeNeed`]s (PRM/ORM critics) with P("True").
    pub fn with_judge(mut self, judge: impl FnMut(&JudgeNeed) -> Option<f64> + Send + 'static) -> Scripted {
        self.judge = Some(Box::new(judge));
        self
    }
}

impl Backends for Scripted {
    fn generate(&mut self, needs: &[GenerateNeed]) -> Result<Vec<Generated>, EngineError> {
        Ok(needs.iter().map(|n| (self.generate)(n)).collect())
    }

    fn execute(&mut self, needs: &[ExecuteNeed]) -> Result<Vec<Executed>, EngineError> {
        Ok(needs.iter().map(|n| (self.execute)(n)).collect())
    }

    fn value(&mut self, needs: &[ValueNeed]) -> Result<Vec<Option<f64>>, EngineError> {
        Ok(needs.iter().map(|n| (self.value)(n)).collect())
    }

    fn judge(&mut self, needs: &[JudgeNeed]) -> Result<Vec<Option<f64>>, EngineError> {
        match &mut self.judge {
            Some(judge) => Ok(needs.iter().map(judge).collect()),
            None => Err(EngineError::Backend("judge: the scripted backends were given no judge".to_owned())),
        }
    }
}
