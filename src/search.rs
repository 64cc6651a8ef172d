//! Search algorithms. They do no I/O: they read trees and emit requests or decisions, which is
//! what makes them testable against the reference's golden files.

pub mod offline;
pub mod prompt;
pub mod simulate;
