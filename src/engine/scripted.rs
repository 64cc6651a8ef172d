//! Backends answered by functions instead of models: for tests, benchmarks of the engine's
//! own overhead, and demonstrations without weights.

use super::EngineError;
use super::driver::Backends;
use crate::search::request::{ExecuteNeed, Executed, GenerateNeed, Generated, ValueNeed};

type GenerateFn = Box<dyn FnMut(&GenerateNeed) -> Generated + Send>;
type ExecuteFn = Box<dyn FnMut(&ExecuteNeed) -> Executed + Send>;
type ValueFn = Box<dyn FnMut(&ValueNeed) -> Option<f64> + Send>;

/// Backends whose answers come from closures, one request at a time.
pub struct Scripted {
    generate: GenerateFn,
    execute: ExecuteFn,
    value: ValueFn,
}

impl Scripted {
    pub fn new(
        generate: impl FnMut(&GenerateNeed) -> Generated + Send + 'static,
        execute: impl FnMut(&ExecuteNeed) -> Executed + Send + 'static,
        value: impl FnMut(&ValueNeed) -> Option<f64> + Send + 'static,
    ) -> Scripted {
        Scripted { generate: Box::new(generate), execute: Box::new(execute), value: Box::new(value) }
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
}
