//! Running searches: the batching [`driver`] over the backends (model, interpreter, value).

pub mod backends;
pub mod driver;
pub mod output;
pub mod scripted;
pub mod thread;

/// Why a run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("backend: {0}")]
    Backend(String),
    #[error("interpreter: {0}")]
    Interpreter(#[from] crate::interp::InterpError),
}
