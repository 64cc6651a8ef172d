//! Search algorithms. They do no I/O: a search says what it needs next ([`request::Need`]:
//! generations, code executions, values) and is answered by a driver that batches the needs
//! of many searches into one backend call each. That makes them testable with scripted
//! backends and deterministic given a seed and the backends' answers.
//!
//! [`mcts`] is the reference's MCTS; its options add AlphaMath's λ-mixing with rollouts
//! ([`evaluate`], [`rollout`]) and AlphaLLM's η-MCTS: option-level steps ([`option`]),
//! adaptive branching and state merge ([`eta`]), and the value/PRM/ORM critics ([`critic`],
//! read through [`request::Need::Judge`]).

pub mod beam;
pub mod chain;
pub mod config;
pub mod critic;
pub mod eta;
pub mod evaluate;
pub mod grow;
pub mod mcts;
pub mod offline;
pub mod option;
pub mod presets;
pub mod prompt;
pub mod request;
pub mod rollout;
pub mod simulate;

use config::{Mode, SearchConfig};
use request::Search;

use crate::problems::GroundTruth;

/// A search of the configured mode over one problem. `problem_seed` separates problems that
/// share `config.seed` (use the problem's position).
pub fn new_search(
    config: SearchConfig,
    question: &str,
    ground_truth: GroundTruth,
    problem_seed: u64,
) -> Box<dyn Search> {
    match config.mode {
        Mode::Mcts => Box::new(mcts::Mcts::new(config, question, ground_truth, problem_seed)),
        Mode::Sbs => Box::new(beam::Beam::new(config, question, ground_truth, problem_seed)),
        Mode::React | Mode::Sample => {
            Box::new(chain::Chains::new(config, question, ground_truth, problem_seed))
        }
    }
}
