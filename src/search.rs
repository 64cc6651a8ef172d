//! Search algorithms. They do no I/O: a search says what it needs next ([`request::Need`]:
//! generations, code executions, values) and is answered by a driver that batches the needs
//! of many searches into one backend call each. That makes them testable with scripted
//! backends and deterministic given a seed and the backends' answers.

pub mod beam;
pub mod chain;
pub mod config;
pub mod grow;
pub mod mcts;
pub mod offline;
pub mod prompt;
pub mod request;
pub mod simulate;
