//! What a search asks of the outside world, and what it gets back. The driver batches the
//! requests of many searches into one backend call per kind (the reference's solver loop).

use crate::tree::{ExecStatus, NodeId, Tree, TreeEvent};

/// Which model serves a generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ModelRole {
    /// The policy that writes the tree's steps.
    Policy,
    /// The (possibly smaller, faster) model that plays rollouts; the policy when none is set.
    Rollout,
}

/// Sample `n` continuations of `prompt` for `node`.
#[derive(Clone, Debug, PartialEq)]
pub struct GenerateNeed {
    pub node: NodeId,
    pub prompt: String,
    pub n: usize,
    /// Overrides the configured temperature (rollouts, greedy chains).
    pub temperature: Option<f32>,
    /// Also return the prompt state's value (value head at the last prompt token).
    pub want_value: bool,
    pub seed: u64,
    pub role: ModelRole,
}

/// One sampled continuation.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub text: String,
    pub tokens: u32,
    /// Sum of the sampled tokens' log-probs; the prior is `exp(logprob_sum / tokens)`.
    pub logprob_sum: f64,
    /// `stop`, `length`, `eos`.
    pub finish: Option<String>,
}

impl Sample {
    /// The reference's prior: the geometric-mean token probability.
    pub fn prior(&self) -> f64 {
        if self.tokens == 0 { 1.0 } else { (self.logprob_sum / f64::from(self.tokens)).exp() }
    }
}

/// The answer to a [`GenerateNeed`]. No samples and no value: the prompt did not fit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Generated {
    pub samples: Vec<Sample>,
    pub value: Option<f64>,
    /// Wall-clock time of the batched call this answer came from, shared among its requests.
    pub elapsed_ms: f64,
}

impl Generated {
    pub fn prompt_too_long(&self) -> bool {
        self.samples.is_empty() && self.value.is_none()
    }
}

/// Run `code` after replaying `ancestors` (root first), for the step at `node`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecuteNeed {
    pub node: NodeId,
    pub ancestors: Vec<String>,
    pub code: String,
}

/// The answer to an [`ExecuteNeed`]: the observation as the reference's tool formats it.
#[derive(Clone, Debug, PartialEq)]
pub struct Executed {
    pub observation: String,
    pub status: ExecStatus,
    pub elapsed_ms: f64,
}

/// The value of the state whose prompt is `prompt`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueNeed {
    pub node: NodeId,
    pub prompt: String,
}

/// Which judge reads a [`JudgeNeed`] (AlphaLLM's critics). A backend may serve both with
/// one model, or route each to its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JudgeKind {
    /// Process reward model: is the last step of a partial solution correct?
    Prm,
    /// Outcome reward model: is a whole solution (a rollout's end) correct?
    Orm,
}

/// The probability that a judge model continues `prompt` with "True" rather than "False".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JudgeNeed {
    /// The node being evaluated (for a rollout's end: the node the rollout started from).
    pub node: NodeId,
    pub kind: JudgeKind,
    pub prompt: String,
}

/// What a search needs next. A search returns the same need until it is answered.
#[derive(Clone, Debug, PartialEq)]
pub enum Need {
    Generate(Vec<GenerateNeed>),
    Execute(Vec<ExecuteNeed>),
    Value(Vec<ValueNeed>),
    /// P("True") of each prompt; `None` when the judge cannot tell (the prompt does not fit,
    /// neither word is among the tokens it reports).
    Judge(Vec<JudgeNeed>),
    Done,
}

/// The answer a finished search gives.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The chosen final answer; `None` when the search found none.
    pub answer: Option<String>,
    pub node: Option<NodeId>,
    /// Other answers in preference order (beam solutions, chain answers).
    pub alternatives: Vec<NodeId>,
}

/// A search over one problem, driven from outside (no I/O): ask [`Search::poll`] what it
/// needs, answer with the matching `answer_*` call, repeat until [`Need::Done`].
pub trait Search: Send {
    fn poll(&mut self) -> Need;
    /// Answers a [`Need::Generate`], one result per request, in order.
    fn answer_generate(&mut self, results: Vec<Generated>);
    /// Answers a [`Need::Execute`], one result per request, in order.
    fn answer_execute(&mut self, results: Vec<Executed>);
    /// Answers a [`Need::Value`], one value per request (`None`: the prompt did not fit).
    fn answer_value(&mut self, values: Vec<Option<f64>>);
    /// Answers a [`Need::Judge`], one probability per request. Only searches that ask for
    /// judgements need to implement it.
    fn answer_judge(&mut self, verdicts: Vec<Option<f64>>) {
        let _ = verdicts;
    }
    fn tree(&self) -> &Tree;
    /// The events applied to the tree since the last call, in order.
    fn take_events(&mut self) -> Vec<TreeEvent>;
    /// Iterations (MCTS) or steps (beam, chains) completed.
    fn iterations(&self) -> usize;
    /// The answer, once [`Search::poll`] returns [`Need::Done`].
    fn outcome(&self) -> Option<Outcome>;
    /// Stops after the current iteration: the next poll returns [`Need::Done`].
    fn finish_early(&mut self);
    /// Allows more iterations (MCTS) or steps after the search ended or hit its budget.
    fn extend(&mut self, iterations: usize);
    /// The settings; changes apply from the next iteration (numbers such as `c_puct`,
    /// `temperature`, `n_generate_sample`; the mode and format are fixed at creation).
    fn config_mut(&mut self) -> &mut super::config::SearchConfig;
}
