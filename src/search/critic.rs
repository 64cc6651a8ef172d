//! AlphaLLM's critics and AlphaMath's λ: the judge prompts (PRM, ORM) and the arithmetic that
//! turns a node's value, judgements and rollout outcomes into the value backed up.
//!
//! s = β_value·V + β_PRM·PRM + β_ORM·mean ORM(rollout ends), then V̂ = (1 − λ)·s + λ·mean r.

use super::config::SearchConfig;

/// The PRM's instructions, verbatim from the AlphaLLM paper.
pub const PRM_INSTRUCTIONS: &str = "###You are given a math problem, followed by a step-by-step reasoning process. Your task is to read the problem carefully, understand the solving steps, and check the correctness of the last reasoning step. Output 'True' if the last step is correct, and 'False' otherwise.";

/// The ORM's instructions, verbatim from the AlphaLLM paper.
pub const ORM_INSTRUCTIONS: &str = "###Assess a solution including final answer to a given math problem by following below steps.\n- Evaluate the method used for solving the problem.\n- Review each calculation step for accuracy. Check for computational errors, incorrect formula applications, or arithmetic mistakes.\n- The solution should use all the information provided in the question.\n- Examine the final answer for correctness, considering the calculations and method used.\n.";

/// The PRM prompt for the step `option` taken from `state` (the question and the steps before
/// it). The judge's next token is its verdict.
pub fn prm_prompt(state: &str, option: &str) -> String {
    format!("{PRM_INSTRUCTIONS}\n\n### State\n{state}\n\n###Action\n{option}\n\n###Assessment\n")
}

/// The ORM prompt for the whole solution `trajectory` of the question `prompt`.
pub fn orm_prompt(prompt: &str, trajectory: &str) -> String {
    format!("{ORM_INSTRUCTIONS}\n\n### Prompt\n{prompt}\n\n###Trajectory\n{trajectory}\n\n###Assessment\n")
}

/// The critics' weights (β).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Weights {
    pub value: f64,
    pub prm: f64,
    pub orm: f64,
}

impl Weights {
    pub fn from_config(config: &SearchConfig) -> Weights {
        Weights { value: config.eta_value_weight, prm: config.eta_prm_weight, orm: config.eta_orm_weight }
    }

    /// The weighted sum of the critics that scored; a critic without a weight or without a
    /// score adds nothing.
    pub fn score(&self, value: Option<f64>, prm: Option<f64>, orm: Option<f64>) -> f64 {
        [(self.value, value), (self.prm, prm), (self.orm, orm)]
            .into_iter()
            .filter_map(|(weight, score)| score.filter(|_| weight != 0.0).map(|s| weight * s))
            .reduce(|a, b| a + b)
            .unwrap_or(0.0)
    }
}

/// The mean of `xs`; `None` when empty.
pub fn mean(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() { None } else { Some(xs.iter().sum::<f64>() / xs.len() as f64) }
}

/// AlphaMath's λ-mixing: (1 − λ)·critic + λ·mean outcome; the critic alone when λ is 0 or
/// there are no outcomes.
pub fn mix(lambda: f64, critic: f64, outcomes: &[f64]) -> f64 {
    match mean(outcomes) {
        Some(r) if lambda != 0.0 => (1.0 - lambda) * critic + lambda * r,
        _ => critic,
    }
}

/// A probability read as a reward: 0 ↦ `negative`, 1 ↦ `positive`, linearly.
pub fn probability_as_reward(p: f64, negative: f64, positive: f64) -> f64 {
    negative + (positive - negative) * p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_skips_missing_and_unweighted_critics() {
        let w = Weights { value: 1.0, prm: 0.5, orm: 0.0 };
        assert_eq!(w.score(Some(0.4), Some(0.8), Some(1.0)), 0.4 + 0.5 * 0.8);
        assert_eq!(w.score(Some(0.4), None, None), 0.4);
        assert_eq!(w.score(None, None, None), 0.0);
    }

    #[test]
    fn mixing_follows_the_paper() {
        assert_eq!(mix(0.0, 0.3, &[1.0, -1.0]), 0.3);
        assert_eq!(mix(0.5, 0.3, &[]), 0.3);
        assert_eq!(mix(0.25, 0.2, &[1.0, -1.0, 1.0, 1.0]), 0.75 * 0.2 + 0.25 * 0.5);
        assert_eq!(probability_as_reward(0.75, -1.0, 1.0), 0.5);
    }

    #[test]
    fn prompts_end_where_the_verdict_goes() {
        let p = prm_prompt("Q: 1+1?", "It is 2.");
        assert!(p.starts_with("###You are given a math problem"));
        assert!(p.ends_with("### State\nQ: 1+1?\n\n###Action\nIt is 2.\n\n###Assessment\n"));
        let o = orm_prompt("Q", "T");
        assert!(o.contains("method used.\n.\n\n### Prompt\nQ\n\n###Trajectory\nT\n\n###Assessment\n"));
    }
}
