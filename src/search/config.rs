//! Search settings, with the reference's config keys (`BaseConfig`) and defaults, plus
//! arbor's options: λ-mixing with rollouts (`lambda`, `rollout*`) and AlphaLLM's η-MCTS
//! options (`eta_*`), all off by default and for MCTS only. Presets live in
//! `configs/*.toml`; unknown keys are errors.

use serde::{Deserialize, Serialize};

use super::offline::Strategy;
use super::prompt::{FewShot, PromptFormat, StepFormat};

/// Which algorithm grows the tree (the reference's `mode`, plus `sample` for maj@k).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// One step at a time, one sample each (greedy decoding at temperature 0).
    React,
    /// `n_generate_sample` independent chains; the answer is their majority (maj@k).
    Sample,
    /// Step-level beam search SBS(`step_beam_width`, `n_generate_sample`).
    Sbs,
    /// Monte Carlo tree search with PUCT, `iterations` simulations.
    Mcts,
}

/// The prompt format (the reference's `prompt_wrap` / `result_unwrap`, plus `chat`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptWrap {
    React,
    ReactSft,
    Chat,
}

/// Where the evaluation of a leaf comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeafValue {
    /// The value head at the leaf (the reference).
    ValueHead,
    /// Nothing: only terminal rewards are backed up (a model without a trained value head).
    None,
}

/// How a rollout's end is scored in test mode (without the ground truth).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RolloutScore {
    /// The value head at the end state.
    ValueHead,
    /// The outcome reward model's P("True"), mapped linearly onto
    /// [`negative_reward`, `positive_reward`].
    Orm,
}

/// Where an option (the step a node holds) ends: AlphaLLM's termination function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptionEnd {
    /// At the first stop string (arbor's and the reference's steps).
    Stop,
    /// AlphaLLM's MATH rule: a sample that stopped without a formula (`$…$`, `<<…>>`), code
    /// or a final answer is continued (step delimiter, then more generation) until it has one
    /// or `eta_option_max_extensions` continuations were added.
    Formula,
}

/// All settings of one search. Field names and defaults are the reference's `BaseConfig`
/// where they exist; arbor's own options follow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SearchConfig {
    pub mode: Mode,
    pub prompt_wrap: PromptWrap,
    /// Joins steps in a path; defaults to the format's (`"\n"` for react_sft, `"\n\n"` for react).
    pub step_delim: Option<String>,
    /// Stop strings; default to the format's.
    pub stop: Option<Vec<String>>,
    pub temperature: f32,
    pub top_p: f32,
    /// -1 disables top-k (the reference's default).
    pub top_k: i64,
    /// Tokens per generated step.
    pub max_tokens: usize,
    pub seed: u64,
    /// Samples per expansion (B2).
    pub n_generate_sample: usize,
    /// Beam width of SBS (B1).
    pub step_beam_width: usize,
    pub max_depth: u32,
    /// MCTS simulations.
    pub iterations: usize,
    pub positive_reward: f64,
    pub negative_reward: f64,
    pub errors_threshold: u32,
    /// Ask the value model for new children (SBS) and terminal answers (MCTS test mode).
    pub need_value_func: bool,
    pub update_leaf_value: bool,
    pub c_puct: f64,
    /// Use the ground truth: terminal answers back up ±1 (training data collection).
    pub is_sampling: bool,
    pub remove_duplicate: bool,
    /// Prune answerless branches when choosing the final answer (MCTS).
    pub prune: bool,
    /// How MCTS chooses its final answer (offline re-selection strategy).
    pub mcts_infer_strategy: Strategy,
    /// Demonstrations per prompt in the `react` format.
    pub num_few_shot: usize,

    // ---- arbor's options
    /// Reproduce the reference's quirks (§14) instead of arbor's fixes; see `docs` in
    /// [`super`] for the list.
    pub compat: bool,
    /// Where a non-terminal leaf's evaluation comes from.
    pub leaf_value: LeafValue,
    /// λ of the AlphaMath paper (MCTS only): an evaluated node's value becomes
    /// V̂ = (1 − λ)·s + λ·r, with s the critic score (the value head V unless the `eta_*`
    /// critic weights say otherwise) and r the mean outcome of `rollouts` rollouts from the
    /// node. The evaluated nodes are the expanded leaf, and in test mode the terminal answers
    /// (each its own rollout end); training-mode terminal rewards stay pure ±1. 0 (the
    /// reference's behaviour) plays no rollouts. The parts are recorded in the node's
    /// `evaluation` (`arbor.nodes.<tag>.evaluation` in tree files).
    pub lambda: f64,
    /// Rollouts per evaluated node when λ > 0 or `eta_orm_weight` != 0. A rollout is a chain
    /// written by the rollout model (`ModelRole::Rollout`) whose code runs through the
    /// interpreter like the tree's; its steps are not nodes.
    pub rollouts: usize,
    /// Steps of one rollout at most; one that runs out is scored as a state (test mode) or
    /// gets the negative reward (training mode). The tree's `max_depth` and
    /// `errors_threshold` end rollouts as they end paths, with the negative reward.
    pub rollout_max_steps: u32,
    /// Temperature of rollouts.
    pub rollout_temperature: f32,
    /// How a rollout's end is scored in test mode; in training mode (`is_sampling` with a
    /// ground truth) it is always ±1 from the grader, −1 without an answer.
    pub rollout_score: RolloutScore,

    // ---- η-MCTS (AlphaLLM), MCTS only, all off by default
    /// Where a node's option ends (the termination function).
    pub eta_option_end: OptionEnd,
    /// Continuations added at most to one sample by `eta_option_end = "formula"` (default 2).
    pub eta_option_max_extensions: u32,
    /// Importance-based adaptive branching: a node at depth t may have
    /// n(s) = max(c_min(t), min(⌊α·I(s)⌋ + 1, c_max(t))) children, where
    /// I(s) = max over evaluated children o of |v(o) − v(s)|. A leaf is expanded into
    /// c_min(t) samples (instead of `n_generate_sample`); a node whose n(s) grew past the
    /// samples drawn from it is expanded again when selection reaches it.
    pub eta_adaptive_branching: bool,
    /// α of adaptive branching. I(s) is on the scale of node values (at most 2 for values in
    /// [−1, 1]), so ⌊α·I(s)⌋ + 1 ≤ ⌊2α⌋ + 1: α must be large enough for that to pass c_min(t)
    /// before importance widens anything.
    pub eta_alpha: f64,
    /// c_min(0): children allowed at least at the root (default 10, the paper's MATH setting).
    pub eta_c_min_root: usize,
    /// c_max(0): children allowed at most at the root (default 60).
    pub eta_c_max_root: usize,
    /// c_min(t), t > 0: children allowed at least below the root (default 3).
    pub eta_c_min: usize,
    /// c_max(t), t > 0: children allowed at most below the root (default 10).
    pub eta_c_max: usize,
    /// State merge: a new sample whose text is fewer than this many character edits
    /// (Levenshtein) away from a sibling's joins that sibling instead of making a child; the
    /// sibling records how many samples it stands for. 0 disables merging.
    pub eta_merge_distance: usize,
    /// β_value. Critic weights: an evaluated node's critic score is
    /// s = β_value·V + β_PRM·PRM + β_ORM·mean ORM(rollout ends), PRM and ORM being P("True")
    /// read from judge models (`Need::Judge`) with AlphaLLM's prompts (`super::critic`). A
    /// critic that cannot score (prompt too long, no True/False among the judge's tokens) is
    /// left out of the sum. Defaults 1, 0, 0: the value head alone, as the reference.
    pub eta_value_weight: f64,
    /// β_PRM: the process reward model judges each evaluated node's own step.
    pub eta_prm_weight: f64,
    /// β_ORM: the outcome reward model judges each rollout's whole solution (a terminal
    /// answer is its own); a non-zero weight plays `rollouts` rollouts even when λ = 0.
    pub eta_orm_weight: f64,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            mode: Mode::Mcts,
            prompt_wrap: PromptWrap::ReactSft,
            step_delim: None,
            stop: None,
            temperature: 0.7,
            top_p: 1.0,
            top_k: -1,
            max_tokens: 2000,
            seed: 0,
            n_generate_sample: 1,
            step_beam_width: 1,
            max_depth: 4,
            iterations: 1,
            positive_reward: 1.0,
            negative_reward: -1.0,
            errors_threshold: 0,
            need_value_func: false,
            update_leaf_value: false,
            c_puct: 1.5,
            is_sampling: false,
            remove_duplicate: false,
            prune: false,
            mcts_infer_strategy: Strategy::QValue,
            num_few_shot: 2,
            compat: false,
            leaf_value: LeafValue::ValueHead,
            lambda: 0.0,
            rollouts: 1,
            rollout_max_steps: 8,
            rollout_temperature: 0.7,
            rollout_score: RolloutScore::ValueHead,
            eta_option_end: OptionEnd::Stop,
            eta_option_max_extensions: 2,
            eta_adaptive_branching: false,
            eta_alpha: 1.0,
            eta_c_min_root: 10,
            eta_c_max_root: 60,
            eta_c_min: 3,
            eta_c_max: 10,
            eta_merge_distance: 0,
            eta_value_weight: 1.0,
            eta_prm_weight: 0.0,
            eta_orm_weight: 0.0,
        }
    }
}

/// A configuration that cannot run.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("--set {0}: expected key=value")]
    SetSyntax(String),
    #[error("--set {key}: {message}")]
    Set { key: String, message: String },
    #[error("invalid setting: {0}")]
    Invalid(String),
}

impl SearchConfig {
    /// Reads a TOML preset; unknown keys are errors.
    pub fn from_toml(text: &str, path: &str) -> Result<SearchConfig, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse { path: path.to_owned(), message: e.to_string() })
    }

    /// Applies `key=value` (TOML syntax for the value; a bare word is taken as a string).
    pub fn set(&mut self, assignment: &str) -> Result<(), ConfigError> {
        let (key, value) =
            assignment.split_once('=').ok_or_else(|| ConfigError::SetSyntax(assignment.to_owned()))?;
        let (key, value) = (key.trim(), value.trim());
        let mut table = toml::Table::try_from(&*self)
            .map_err(|e| ConfigError::Set { key: key.to_owned(), message: e.to_string() })?;
        if !table.contains_key(key) && !OPTIONAL_KEYS.contains(&key) {
            return Err(ConfigError::Set { key: key.to_owned(), message: "unknown key".to_owned() });
        }
        let parsed: toml::Value = match toml::from_str::<toml::Table>(&format!("v = {value}")) {
            Ok(mut t) => t.remove("v").unwrap_or(toml::Value::String(value.to_owned())),
            Err(_) => toml::Value::String(value.to_owned()),
        };
        table.insert(key.to_owned(), parsed);
        *self = table.try_into().map_err(|e: toml::de::Error| ConfigError::Set {
            key: key.to_owned(),
            message: e.message().to_owned(),
        })?;
        Ok(())
    }

    /// Checks values that serde cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        if self.n_generate_sample == 0 {
            return bad("n_generate_sample must be at least 1");
        }
        if self.step_beam_width == 0 {
            return bad("step_beam_width must be at least 1");
        }
        if self.mode == Mode::Mcts && self.iterations == 0 {
            return bad("iterations must be at least 1 for mcts");
        }
        if !(0.0..=1.0).contains(&self.lambda) {
            return bad("lambda must be between 0 and 1");
        }
        if self.temperature < 0.0 || !(0.0..=1.0).contains(&self.top_p) || self.top_p == 0.0 {
            return bad("temperature must be >= 0 and top_p in (0, 1]");
        }
        if self.max_tokens == 0 {
            return bad("max_tokens must be at least 1");
        }
        self.validate_eta()
    }

    /// Checks the λ, rollout and η-MCTS settings.
    fn validate_eta(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        if self.mode != Mode::Mcts && self.uses_eta() {
            return bad("lambda, rollouts, critics and eta_* options apply to mode = \"mcts\" only");
        }
        if self.plays_rollouts() {
            if self.rollouts == 0 {
                return bad("rollouts must be at least 1 when lambda > 0 or eta_orm_weight != 0");
            }
            if self.rollout_max_steps == 0 {
                return bad("rollout_max_steps must be at least 1");
            }
            if self.rollout_temperature.is_nan() || self.rollout_temperature < 0.0 {
                return bad("rollout_temperature must be >= 0");
            }
        }
        let weights = [self.eta_value_weight, self.eta_prm_weight, self.eta_orm_weight];
        if weights.iter().any(|w| !w.is_finite()) {
            return bad("eta_value_weight, eta_prm_weight and eta_orm_weight must be finite");
        }
        if self.eta_adaptive_branching {
            if !self.eta_alpha.is_finite() || self.eta_alpha < 0.0 {
                return bad("eta_alpha must be a finite number >= 0");
            }
            if self.eta_c_min_root == 0 || self.eta_c_min == 0 {
                return bad("eta_c_min_root and eta_c_min must be at least 1");
            }
            if self.eta_c_min_root > self.eta_c_max_root || self.eta_c_min > self.eta_c_max {
                return bad("eta_c_min_root <= eta_c_max_root and eta_c_min <= eta_c_max are required");
            }
        }
        Ok(())
    }

    /// Whether a leaf's evaluation is anything but the value head's estimate (λ-mixing or
    /// critic weights other than the value head's alone).
    pub fn mixes_evaluation(&self) -> bool {
        self.lambda != 0.0
            || self.eta_value_weight != 1.0
            || self.eta_prm_weight != 0.0
            || self.eta_orm_weight != 0.0
    }

    /// Whether evaluations play rollouts: for λ-mixing, or for the ORM critic's rollout ends.
    pub fn plays_rollouts(&self) -> bool {
        self.lambda > 0.0 || self.eta_orm_weight != 0.0
    }

    /// Whether any λ, critic or η-MCTS option is away from its default.
    pub fn uses_eta(&self) -> bool {
        self.mixes_evaluation()
            || self.eta_option_end != OptionEnd::Stop
            || self.eta_adaptive_branching
            || self.eta_merge_distance > 0
    }

    pub fn step_format(&self) -> StepFormat {
        match self.prompt_wrap {
            PromptWrap::React => StepFormat::React,
            PromptWrap::ReactSft | PromptWrap::Chat => StepFormat::ReactSft,
        }
    }

    /// The prompt renderer; `react` needs the few-shot files (the reference's are built in).
    pub fn prompt_format(&self) -> PromptFormat {
        match self.prompt_wrap {
            PromptWrap::ReactSft => PromptFormat::ReactSft,
            PromptWrap::Chat => PromptFormat::Chat { system: super::prompt::CHAT_SYSTEM.to_owned() },
            PromptWrap::React => match FewShot::reference() {
                Ok(few_shot) => PromptFormat::React(few_shot),
                // The built-in files are compiled in and tested; fall back to no demonstrations.
                Err(_) => PromptFormat::ReactSft,
            },
        }
    }

    pub fn step_delim(&self) -> String {
        self.step_delim.clone().unwrap_or_else(|| self.step_format().default_step_delim().to_owned())
    }

    pub fn stop_strings(&self) -> Vec<String> {
        self.stop.clone().unwrap_or_else(|| self.step_format().default_stop())
    }
}

/// Keys that may be absent from a serialized config (`None` options).
const OPTIONAL_KEYS: [&str; 2] = ["step_delim", "stop"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_overrides_and_rejects() {
        let mut c = SearchConfig::default();
        c.set("iterations=40").unwrap();
        c.set("temperature = 0.6").unwrap();
        c.set("mode=sbs").unwrap();
        c.set("stop=[\"</step>\"]").unwrap();
        c.set("step_delim=\"\\n\"").unwrap();
        assert_eq!((c.iterations, c.temperature, c.mode), (40, 0.6, Mode::Sbs));
        assert_eq!(c.stop, Some(vec!["</step>".to_owned()]));
        assert_eq!(c.step_delim.as_deref(), Some("\n"));
        assert!(matches!(c.set("iteratons=3"), Err(ConfigError::Set { .. })));
        assert!(matches!(c.set("iterations=lots"), Err(ConfigError::Set { .. })));
        assert!(matches!(c.set("iterations"), Err(ConfigError::SetSyntax(_))));
    }

    #[test]
    fn unknown_keys_in_presets_are_errors() {
        let err = SearchConfig::from_toml("mode = \"mcts\"\nc_pucct = 1.0\n", "x.toml").unwrap_err();
        assert!(err.to_string().contains("c_pucct"), "{err}");
    }
}
