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

/// A toy domain for tests, benchmarks and demonstrations: "What is 6 times 7?". From the root
/// the policy proposes the multiplication (right), the addition (wrong, likelier) or a guess;
/// after the multiplication it mostly answers 42, sometimes 40 or multiplies again; after the
/// addition it answers 13 or adds again. The value model likes 42 and the right track.
/// Deterministic in each request's seed.
pub fn toy() -> Scripted {
    Scripted::new(toy_policy, toy_exec, toy_value)
}

/// The multiplication step of [`toy`].
pub const TOY_RIGHT_STEP: &str = "<step>\n<p>\nMultiply.\n</p>\n<code>\n```python\nx = 6 * 7\nprint(x)\n```";
/// The addition step of [`toy`].
pub const TOY_WRONG_STEP: &str = "<step>\n<p>\nAdd.\n</p>\n<code>\n```python\nx = 6 + 7\nprint(x)\n```";

/// A final step answering `answer`, as a react_sft generation (stopped before `</step>`).
pub fn toy_answer(answer: &str) -> String {
    format!("<step>\n<p>\nSo it is {answer}.\n</p>\n<p>\nFinal Answer: ${answer}$\n</p>\n")
}

/// The policy of [`toy`]; its value estimate is an uninformative 0.
pub fn toy_policy(need: &GenerateNeed) -> Generated {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use crate::search::request::Sample;

    let mut rng = StdRng::seed_from_u64(need.seed);
    let after_right = need.prompt.contains("<output>\n42\n");
    let after_wrong = need.prompt.contains("<output>\n13\n");
    let samples = (0..need.n)
        .map(|_| {
            let r: f64 = rng.random();
            let text = match (after_right, after_wrong) {
                (true, _) if r < 0.5 => toy_answer("42"),
                (true, _) if r < 0.7 => toy_answer("40"),
                (true, _) => TOY_RIGHT_STEP.to_owned(),
                (_, true) if r < 0.6 => toy_answer("13"),
                (_, true) => TOY_WRONG_STEP.to_owned(),
                _ if r < 0.3 => TOY_RIGHT_STEP.to_owned(),
                _ if r < 0.8 => TOY_WRONG_STEP.to_owned(),
                _ => toy_answer("12"),
            };
            Sample { text, tokens: 4, logprob_sum: -4.0 * rng.random_range(0.05..0.9), finish: None }
        })
        .collect();
    Generated { samples, value: Some(0.0), elapsed_ms: 0.0 }
}

/// The interpreter of [`toy`]: 42 after the multiplication, 13 after the addition.
pub fn toy_exec(need: &ExecuteNeed) -> Executed {
    Executed {
        observation: if need.code.contains("6 * 7") { "42" } else { "13" }.to_owned(),
        status: crate::tree::ExecStatus::Ok,
        elapsed_ms: 0.0,
    }
}

/// The value model of [`toy`]: high for 42, fair on the right track, low elsewhere.
pub fn toy_value(need: &ValueNeed) -> Option<f64> {
    let last = need.prompt.rsplit("<step>").next().unwrap_or("");
    Some(if last.contains("$42$") {
        0.9
    } else if last.contains("<output>\n42\n") {
        0.5
    } else {
        -0.5
    })
}
