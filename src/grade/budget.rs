//! A work budget for one grading call.
//!
//! The reference bounds each SymPy call with a 15 s timeout. arbor counts work instead
//! (tokens lexed, nodes evaluated, element pairs compared), so a verdict on hostile input
//! arrives in bounded time, deterministically, with no timer thread.

use std::cell::Cell;

/// Work units for one `judge` call. Ordinary answers use a few thousand.
pub const DEFAULT_BUDGET: u64 = 3_000_000;

/// Deepest bracket nesting the parser and the tuple splitter follow.
pub const MAX_DEPTH: usize = 100;

/// Deepest recursion of `is_equiv` through tuple, set and matrix elements.
pub const MAX_EQUIV_DEPTH: usize = 48;

/// The budget ran out; the caller answers "not equal" and says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("work budget exhausted")]
pub struct Exhausted;

#[derive(Debug)]
pub struct Budget {
    left: Cell<u64>,
    exhausted: Cell<bool>,
}

impl Budget {
    pub fn new(units: u64) -> Budget {
        Budget { left: Cell::new(units), exhausted: Cell::new(false) }
    }

    /// Takes `n` units, failing once the budget is gone (and ever after).
    pub fn spend(&self, n: u64) -> Result<(), Exhausted> {
        let left = self.left.get();
        if left < n {
            self.left.set(0);
            self.exhausted.set(true);
            return Err(Exhausted);
        }
        self.left.set(left - n);
        Ok(())
    }

    pub fn is_exhausted(&self) -> bool {
        self.exhausted.get()
    }
}

impl Default for Budget {
    fn default() -> Budget {
        Budget::new(DEFAULT_BUDGET)
    }
}
