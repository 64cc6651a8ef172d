//! The training side: the synthetic problem domain ([`synth`]), its tokenizer, the network
//! and its trainer, round-0 Monte-Carlo value targets, and examples from search trees.

pub mod corrupt;
pub mod data;
pub mod net;
pub mod optim;
pub mod pairs;
pub mod recipe;
pub mod round0;
pub mod synth;
pub mod tokenizer;
pub mod trainer;
pub mod trees;
