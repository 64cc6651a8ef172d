//! Why the interpreter could not run code at all (as opposed to code that failed).

use std::path::PathBuf;

use super::python::PythonSource;

/// Failures of the interpreter itself. Code that raises, times out or crashes is not an error
/// here: it yields an [`super::ExecResult`] with the matching status.
#[derive(Debug, thiserror::Error)]
pub enum InterpError {
    #[error(
        "cannot run the Python interpreter `{command}` ({source_kind}): {error}\n\
         Fix: install Python 3 with sympy, or point arbor at one with `--python PATH` or \
         `export ARBOR_PYTHON=PATH` (in an arbor checkout: `export ARBOR_PYTHON=$(scripts/setup-python.sh)`)"
    )]
    PythonNotFound { command: String, source_kind: PythonSource, error: std::io::Error },

    #[error("the Python interpreter `{command}` did not answer the probe: {detail}")]
    PythonProbe { command: String, detail: String },

    #[error(
        "Python {version} at {} is too old: arbor needs Python 3.9 or newer (for ast.unparse)",
        executable.display()
    )]
    PythonTooOld { executable: PathBuf, version: String },

    #[error(
        "sympy does not import with {} ({detail}).\nFix: `{} -m pip install sympy`; or, if that \
         Python is system-managed, make a venv with it and use that: `python3 -m venv .cache/venv \
         && .cache/venv/bin/python -m pip install sympy && export ARBOR_PYTHON=$PWD/.cache/venv/bin/python` \
         (in an arbor checkout `export ARBOR_PYTHON=$(scripts/setup-python.sh)` does this)",
        executable.display(), executable.display()
    )]
    SympyMissing { executable: PathBuf, detail: String },

    #[error("cannot prepare the sandbox: {0}")]
    Sandbox(String),

    #[error("cannot start a Python worker: {0}")]
    Spawn(#[source] std::io::Error),

    #[error("the Python worker failed to start: {0}")]
    Startup(String),

    #[error("the Python worker broke the protocol: {0}")]
    Protocol(String),

    #[error("the sandbox could not be set up inside the worker: {0}")]
    ChildSetup(String),
}
