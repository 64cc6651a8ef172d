//! The real backends behind the driver: a model (candle or HTTP) for generations and values,
//! an optional smaller model for rollouts, and the sandboxed interpreter pool for code.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::EngineError;
use super::driver::Backends;
use crate::interp::{ExecRequest, Pool};
use crate::model::{Candidate, Finish, GenRequest, GenResponse, Judge, Policy, ValueModel};
use crate::search::config::SearchConfig;
use crate::search::request::{
    ExecuteNeed, Executed, GenerateNeed, Generated, JudgeNeed, ModelRole, Sample, ValueNeed,
};

/// A model that writes steps, scores states and reads True/False verdicts (the PRM and ORM
/// critics are prompted to the same model).
pub trait PolicyAndValue: Policy + ValueModel + Judge + Send {}
impl<T: Policy + ValueModel + Judge + Send> PolicyAndValue for T {}

/// The sampling settings of a run (the parts of a request the searches leave to the run).
#[derive(Clone, Debug, PartialEq)]
pub struct Sampling {
    pub temperature: f32,
    pub top_p: f32,
    /// 0 disables top-k.
    pub top_k: usize,
    pub max_tokens: usize,
    pub stop: Vec<String>,
}

impl Sampling {
    pub fn from_config(config: &SearchConfig) -> Sampling {
        Sampling {
            temperature: config.temperature,
            top_p: config.top_p,
            // The reference's -1 means "off".
            top_k: usize::try_from(config.top_k).unwrap_or(0),
            max_tokens: config.max_tokens,
            stop: config.stop_strings(),
        }
    }
}

/// Wall-clock time spent in each backend, for the time breakdown.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TimeSpent {
    pub generate: Duration,
    pub execute: Duration,
    pub value: Duration,
    pub judge: Duration,
    /// Tokens generated (all samples).
    pub generated_tokens: u64,
}

/// Backends over a model (any [`PolicyAndValue`], boxed as a trait object by default), an
/// optional rollout model and the interpreter pool.
pub struct ModelBackends<M: PolicyAndValue + ?Sized = dyn PolicyAndValue> {
    model: Box<M>,
    rollout: Option<Box<dyn Policy + Send>>,
    interp: Arc<Pool>,
    pub sampling: Sampling,
    pub time: TimeSpent,
}

impl<M: PolicyAndValue + ?Sized> ModelBackends<M> {
    pub fn new(model: Box<M>, interp: Arc<Pool>, sampling: Sampling) -> ModelBackends<M> {
        ModelBackends { model, rollout: None, interp, sampling, time: TimeSpent::default() }
    }

    /// A separate (smaller, faster) model for rollouts.
    pub fn with_rollout(mut self, rollout: Box<dyn Policy + Send>) -> ModelBackends<M> {
        self.rollout = Some(rollout);
        self
    }

    /// The model, e.g. to read its cache statistics.
    pub fn model(&self) -> &M {
        &self.model
    }

    fn request(&self, need: &GenerateNeed) -> GenRequest {
        GenRequest {
            prompt: need.prompt.clone(),
            n: need.n,
            temperature: need.temperature.unwrap_or(self.sampling.temperature),
            top_p: self.sampling.top_p,
            top_k: self.sampling.top_k,
            max_tokens: self.sampling.max_tokens,
            stop: self.sampling.stop.clone(),
            seed: need.seed,
            want_value: need.want_value,
        }
    }
}

/// An `f32` value as the `f64` with the same shortest decimal spelling (0.12f32 becomes 0.12,
/// not 0.11999999731779099), so tree files read as the model's numbers.
pub fn value_to_f64(v: f32) -> f64 {
    format!("{v}").parse().unwrap_or(f64::from(v))
}

fn sample(c: Candidate) -> Sample {
    let finish = match c.finish {
        Finish::Stop => "stop",
        Finish::Length => "length",
        Finish::Eos => "eos",
    };
    Sample {
        text: c.text,
        tokens: u32::try_from(c.tokens).unwrap_or(u32::MAX),
        logprob_sum: c.logprob_sum,
        finish: Some(finish.to_owned()),
    }
}

fn generated(r: GenResponse, elapsed_ms: f64) -> Generated {
    Generated {
        samples: r.candidates.into_iter().map(sample).collect(),
        value: r.value.map(value_to_f64),
        elapsed_ms,
    }
}

fn model_error(e: crate::model::Error) -> EngineError {
    EngineError::Backend(e.to_string())
}

impl<M: PolicyAndValue + ?Sized> Backends for ModelBackends<M> {
    fn generate(&mut self, needs: &[GenerateNeed]) -> Result<Vec<Generated>, EngineError> {
        let start = Instant::now();
        let (policy_idx, rollout_idx): (Vec<usize>, Vec<usize>) =
            (0..needs.len()).partition(|&i| needs[i].role == ModelRole::Policy || self.rollout.is_none());
        let mut out: Vec<Option<GenResponse>> = vec![None; needs.len()];
        for (indices, use_rollout) in [(policy_idx, false), (rollout_idx, true)] {
            if indices.is_empty() {
                continue;
            }
            let requests: Vec<GenRequest> = indices.iter().map(|&i| self.request(&needs[i])).collect();
            let responses = match (&mut self.rollout, use_rollout) {
                (Some(rollout), true) => rollout.generate(&requests),
                _ => self.model.generate(&requests),
            }
            .map_err(model_error)?;
            if responses.len() != requests.len() {
                return Err(EngineError::Backend(format!(
                    "the model answered {} of {} requests",
                    responses.len(),
                    requests.len()
                )));
            }
            for (i, r) in indices.into_iter().zip(responses) {
                out[i] = Some(r);
            }
        }
        let elapsed = start.elapsed();
        self.time.generate += elapsed;
        let ms = elapsed.as_secs_f64() * 1e3;
        let results: Vec<Generated> = out.into_iter().map(|r| generated(r.unwrap_or_default(), ms)).collect();
        self.time.generated_tokens +=
            results.iter().flat_map(|g| g.samples.iter()).map(|s| u64::from(s.tokens)).sum::<u64>();
        Ok(results)
    }

    fn execute(&mut self, needs: &[ExecuteNeed]) -> Result<Vec<Executed>, EngineError> {
        let start = Instant::now();
        let requests: Vec<ExecRequest> = needs
            .iter()
            .map(|n| ExecRequest { ancestors: n.ancestors.clone(), code: n.code.clone() })
            .collect();
        let results = self.interp.execute(&requests)?;
        self.time.execute += start.elapsed();
        Ok(results
            .into_iter()
            .map(|r| Executed {
                observation: r.observation,
                status: r.status,
                elapsed_ms: r.elapsed.as_secs_f64() * 1e3,
            })
            .collect())
    }

    fn value(&mut self, needs: &[ValueNeed]) -> Result<Vec<Option<f64>>, EngineError> {
        let start = Instant::now();
        let prompts: Vec<String> = needs.iter().map(|n| n.prompt.clone()).collect();
        let values = self.model.value(&prompts).map_err(model_error)?;
        self.time.value += start.elapsed();
        Ok(values.into_iter().map(|v| v.map(value_to_f64)).collect())
    }

    fn judge(&mut self, needs: &[JudgeNeed]) -> Result<Vec<Option<f64>>, EngineError> {
        let start = Instant::now();
        let prompts: Vec<String> = needs.iter().map(|n| n.prompt.clone()).collect();
        let verdicts = self.model.judge(&prompts).map_err(model_error)?;
        self.time.judge += start.elapsed();
        Ok(verdicts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_short_spelling() {
        assert_eq!(value_to_f64(0.12), 0.12);
        assert_eq!(value_to_f64(-0.8), -0.8);
        assert_eq!(value_to_f64(1.0), 1.0);
    }
}
