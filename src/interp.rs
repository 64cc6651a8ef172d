//! Sandboxed Python execution of the policy's code steps (reference §3).
//!
//! A step's code runs after its ancestors' code has been replayed in a fresh namespace, and its
//! observation is formatted exactly as the reference's `python_interpreter` tool does (the
//! rules live in `assets/python/tool.py`). [`Pool`] keeps warm Python workers that fork one
//! child per request; the Rust side owns the wall-clock timeout, restarts dead workers, bounds
//! concurrency and caches results.
//!
//! ```no_run
//! use arbor::interp::{ExecRequest, PathStep, Pool, PoolConfig};
//!
//! let pool = Pool::new(PoolConfig::default())?; // python3 with sympy, one worker per core
//! // For a tree node: the path root first, up to the new step's parent.
//! let path: Vec<PathStep> = Vec::new();
//! let request = ExecRequest::after_path(path, "```python\nprint(6 * 7)\n```");
//! let results = pool.execute(&[request])?; // a batch; results in request order
//! assert_eq!(results[0].observation, "42");
//! # Ok::<(), arbor::interp::InterpError>(())
//! ```
//!
//! Semantics, and where they differ from the reference:
//! - Replay ([`replay_inputs`]): ancestors whose action is `python_interpreter` and whose
//!   observation (text after their code) holds no `TimeoutError`, root first; their output is
//!   discarded; each runs with the tool's own rules, so an ancestor's error is swallowed and
//!   statements after the last print of a multi-print ancestor do not run, as in the reference.
//! - The namespace is fresh per request (the reference's leaked across calls, quirk 6) but
//!   resembles the reference's module globals: `__name__ == "mcts_math.agents.tree"`, and
//!   `os` and the `typing` names the module imported are defined.
//! - Timeout: one wall-clock budget (default 15 s) covers replay plus code; the reference gave
//!   each snippet its own 15 s. The observation is the reference's message with the budget.
//! - Outcomes the reference could not report (its worker died): a crash, the CPU limit or an
//!   exit without output give status `Killed` and a `ProcessError: ...` observation;
//!   `sys.exit()` gives `SystemExit: ...` with status `Error`.
//! - Captured output is kept up to 64 Ki characters plus its last 250, so a 1 GB print costs
//!   no memory; the 500-character cut is unchanged (only a longer output that parses as a
//!   float, a huge run of digits, could round differently). Observations (only error messages
//!   can be long) are cut to 64 Ki characters; lone surrogates are escaped.
//! - `PYTHONHASHSEED=0` in every worker, so set order (and thus observations) repeat.
//!
//! Isolation (see [`Isolation`], shown by `arbor interp --doctor`): each worker starts in new
//! user, network, pid and mount namespaces where the kernel allows them, with a size-limited
//! tmpfs as working directory, under Landlock (reads only of the Python installation, writes
//! only of the working directory, no TCP, no signals or abstract sockets out of the sandbox)
//! and a seccomp filter (no sockets, ptrace, namespace or mount calls). Each request's child
//! adds rlimits (memory, CPU, file size, open files) and a second seccomp filter (no new
//! processes, no exec), with stdin on /dev/null and a scrubbed environment. The worker is pid
//! 1 of its namespace, so the code cannot signal it and nothing the code starts survives.

mod cache;
mod error;
mod filters;
mod limits;
mod pool;
mod protocol;
mod python;
mod replay;
mod request;
mod sandbox;
mod scratch;
mod spawn;
mod worker;

pub use error::InterpError;
pub use limits::Limits;
pub use pool::{Pool, PoolConfig, PoolStats};
pub use python::{PythonInfo, PythonSource, locate_python, probe_python};
pub use replay::{PathStep, replay_inputs, timed_out};
pub use request::{ExecRequest, ExecResult, timeout_message};
pub use sandbox::{Isolation, LandlockState, Mechanism, SandboxMode};

/// The tool name whose steps run code (`action` of a code step).
pub const PYTHON_INTERPRETER: &str = "python_interpreter";

/// The embedded worker program (`assets/python/server.py`), passed to `python -c`.
const SERVER_SOURCE: &str = include_str!("../assets/python/server.py");
/// The embedded observation rules (`assets/python/tool.py`), sent to each worker at start.
const TOOL_SOURCE: &str = include_str!("../assets/python/tool.py");
