//! Sandboxed Python execution of the policy's code steps (reference §3).
//!
//! A step's code runs after its ancestors' code has been replayed in a fresh namespace, and its
//! observation is formatted exactly as the reference's `python_interpreter` tool does (the
//! rules live in `assets/python/tool.py`). [`Pool`] keeps warm Python workers that fork one
//! child per request; the Rust side owns the wall-clock timeout, respawns dead workers, bounds
//! concurrency and caches results.
//!
//! ```no_run
//! use arbor::interp::{ExecRequest, Pool, PoolConfig};
//!
//! let pool = Pool::new(PoolConfig::default())?;
//! let request = ExecRequest::new(vec!["x = 3".into()], "```python\nprint(x * 2)\n```");
//! let results = pool.execute(&[request])?;
//! assert_eq!(results[0].observation, "6");
//! # Ok::<(), arbor::interp::InterpError>(())
//! ```
//!
//! Isolation (see [`Isolation`], shown by `arbor interp --doctor`): each worker starts in new
//! user, network, pid and mount namespaces where the kernel allows them, under Landlock (reads
//! only of the Python installation, writes only of a private tmpfs working directory, no TCP,
//! no signals out of the sandbox) and a seccomp filter (no sockets, no ptrace, no namespace or
//! mount calls). Each request's child adds rlimits (memory, CPU, file size, open files) and a
//! second seccomp filter (no new processes, no exec), with stdin on /dev/null and a scrubbed
//! environment.

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
