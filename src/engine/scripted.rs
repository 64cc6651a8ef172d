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

/// A toy domain for benchmarks and demonstrations: "What is 6 times 7?". From the root the
/// policy proposes the multiplication (right), the addition (wrong) or a guess; after the
/// multiplication it mostly answers 42, sometimes 40 or checks again; after the addition it
/// answers 13 or adds again. The value model likes 42 and the right track. Deterministic in
/// each request's seed.
pub fn toy() -> Scripted {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use crate::search::request::Sample;
    use crate::tree::ExecStatus;

    const RIGHT: &str = "<step>\n<p>\nMultiply.\n</p>\n<code>\n```python\nx = 6 * 7\nprint(x)\n```";
    const WRONG: &str = "<step>\n<p>\nAdd.\n</p>\n<code>\n```python\nx = 6 + 7\nprint(x)\n```";
    let answer = |a: &str| format!("<step>\n<p>\nSo it is {a}.\n</p>\n<p>\nFinal Answer: ${a}$\n</p>\n");
    Scripted::new(
        move |need| {
            let mut rng = StdRng::seed_from_u64(need.seed);
            let after_right = need.prompt.contains("<output>\n42\n");
            let after_wrong = need.prompt.contains("<output>\n13\n");
            let samples = (0..need.n)
                .map(|_| {
                    let r: f64 = rng.random();
                    let text = match (after_right, after_wrong) {
                        (true, _) if r < 0.5 => answer("42"),
                        (true, _) if r < 0.7 => answer("40"),
                        (true, _) => RIGHT.to_owned(),
                        (_, true) if r < 0.6 => answer("13"),
                        (_, true) => WRONG.to_owned(),
                        _ if r < 0.3 => RIGHT.to_owned(),
                        _ if r < 0.8 => WRONG.to_owned(),
                        _ => answer("12"),
                    };
                    Sample { text, tokens: 4, logprob_sum: -4.0 * rng.random_range(0.05..0.9), finish: None }
                })
                .collect();
            Generated { samples, value: Some(0.0), elapsed_ms: 0.0 }
        },
        |need| Executed {
            observation: if need.code.contains("6 * 7") { "42" } else { "13" }.to_owned(),
            status: ExecStatus::Ok,
            elapsed_ms: 0.0,
        },
        |need| {
            let last = need.prompt.rsplit("<step>").next().unwrap_or("");
            Some(if last.contains("$42$") {
                0.9
            } else if last.contains("<output>\n42\n") {
                0.5
            } else {
                -0.5
            })
        },
    )
}
