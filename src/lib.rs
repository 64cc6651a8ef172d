//! arbor: AlphaMath-style tree search on math problems, and the tools to watch and study it.
//!
//! Module map (see ARCHITECTURE.md): [`tree`] is the arena search tree changed only through
//! [`tree::Tree::apply`]; [`store`] reads and writes tree JSONL in the reference format;
//! [`problems`] loads problem files; [`interp`] runs code steps in sandboxed
//! Python workers; [`search`] holds the sans-IO algorithms (so far the
//! reference's offline re-selection); [`tui`] is the terminal UI; [`cli`] is the `arbor`
//! command line.

pub mod batch;
pub mod bench;
pub mod cli;
pub mod engine;
pub mod grade;
pub mod interp;
pub mod model;
pub mod problems;
pub mod search;
pub mod store;
pub mod train;
pub mod tree;
pub mod tui;
