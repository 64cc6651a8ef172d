//! One warm Python worker: start it, send it requests, enforce the deadline, restart it.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

use super::limits::Limits;
use super::protocol::{ChildResult, Config, FrameReader, ReadError, Ready, Request, Response, write_frame};
use super::python::{PythonInfo, worker_env};
use super::request::{ExecRequest, ExecResult, timeout_message};
use super::sandbox::{ChildSetup, Isolation, REPORT_LEN, SandboxMode, report};
use super::spawn::spawn_sandboxed;
use super::{InterpError, SERVER_SOURCE, TOOL_SOURCE};
use crate::tree::ExecStatus;

/// How long a worker may take to import sympy and say it is ready.
const STARTUP_LIMIT: Duration = Duration::from_secs(120);

/// What every worker of a pool shares.
pub(crate) struct WorkerPlan {
    pub python: PythonInfo,
    pub limits: Limits,
    pub mode: SandboxMode,
    /// The per-request seccomp programs, hex-encoded for the worker.
    pub request_filters: Vec<String>,
    /// Workers started again after a timeout, a crash or a worker's death (all workers).
    pub restarts: AtomicU64,
}

pub(crate) struct Worker {
    plan: Arc<WorkerPlan>,
    workdir: PathBuf,
    live: Option<Live>,
}

/// A running worker process (with its pid-namespace keeper, when there is one).
struct Live {
    child: Child,
    stdin: ChildStdin,
    reader: FrameReader,
    report: [u8; REPORT_LEN],
    request_filters_sent: bool,
    /// Known once the worker said it is ready.
    isolation: Option<Isolation>,
    /// The worker owes an "idle" frame: it cleans up after each answer before it takes the
    /// next request, and says so (or dies, which then is not the next request's fault).
    owes_idle: bool,
}

/// How long a worker may take to clean up after a request.
const CLEANUP_LIMIT: Duration = Duration::from_secs(30);

impl Worker {
    pub(crate) fn new(plan: Arc<WorkerPlan>, workdir: PathBuf) -> Worker {
        Worker { plan, workdir, live: None }
    }

    /// Starts the worker if needed and waits until it is ready; returns its isolation.
    pub(crate) fn ready(&mut self) -> Result<Isolation, InterpError> {
        let live = self.live()?;
        live.isolation.clone().ok_or_else(|| InterpError::Startup("the worker is not ready".into()))
    }

    /// The running worker, started if needed, ready and clean. A worker that does not show it
    /// cleaned up after its last request is replaced (once).
    fn live(&mut self) -> Result<&mut Live, InterpError> {
        for attempt in 0..2 {
            if self.live.is_none() {
                let fresh = self.start()?;
                self.live = Some(fresh);
            }
            if self.live.as_ref().is_some_and(|live| live.isolation.is_none()) {
                self.await_ready()?;
            }
            if self.await_idle() {
                break;
            }
            self.stop();
            if attempt == 1 {
                return Err(InterpError::Startup("a fresh worker did not become idle".into()));
            }
            self.plan.restarts.fetch_add(1, Ordering::Relaxed);
        }
        self.live.as_mut().ok_or_else(|| InterpError::Startup("the worker vanished".into()))
    }

    /// Reads the worker's "idle" frame if it owes one; false when it died or did not clean up
    /// in time.
    fn await_idle(&mut self) -> bool {
        let Some(live) = self.live.as_mut() else { return false };
        if !live.owes_idle {
            return true;
        }
        match live.reader.read::<Ready>(Instant::now() + CLEANUP_LIMIT) {
            Ok(frame) if frame.kind == "idle" => {
                live.owes_idle = false;
                true
            }
            _ => false,
        }
    }

    fn await_ready(&mut self) -> Result<(), InterpError> {
        let Some(live) = self.live.as_mut() else { return Ok(()) };
        match live.reader.read::<Ready>(Instant::now() + STARTUP_LIMIT) {
            Ok(ready) if ready.kind == "ready" => {
                live.isolation = Some(Isolation::from_report(
                    self.plan.mode,
                    &live.report,
                    ready.pid_namespace_init,
                    live.request_filters_sent,
                    rustix::process::getuid().is_root(),
                ));
                Ok(())
            }
            Ok(ready) => {
                let detail = ready.error.unwrap_or_else(|| format!("it answered {:?}", ready.kind));
                self.stop();
                Err(InterpError::Startup(detail))
            }
            Err(error) => {
                let stderr = self.stop();
                let why = match error {
                    ReadError::Timeout => format!("no answer within {} s", STARTUP_LIMIT.as_secs()),
                    ReadError::Closed => "it exited".to_owned(),
                    ReadError::Io(e) => e.to_string(),
                    ReadError::Invalid(e) => e,
                };
                Err(InterpError::Startup(format!("{why}{}", indent_stderr(&stderr))))
            }
        }
    }

    fn start(&self) -> Result<Live, InterpError> {
        let plan = &self.plan;
        let workdir_text = self
            .workdir
            .to_str()
            .ok_or_else(|| InterpError::Sandbox(format!("{} is not UTF-8", self.workdir.display())))?;
        let mut command = Command::new(&plan.python.executable);
        command
            .args(["-B", "-c", SERVER_SOURCE])
            .env_clear()
            .envs(worker_env(&self.workdir, &plan.python.user_base))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let setup =
            ChildSetup::new(plan.mode, &plan.python.read_dirs, &self.workdir, plan.limits.scratch_bytes)?;
        let (mut child, report) = spawn_sandboxed(command, setup)?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(InterpError::Startup("the worker's pipes are missing".into()));
        };
        let own_namespaces = report[report::UNSHARE] == report::OK;
        let request_filters_sent = report[report::SECCOMP] == report::OK;
        let config = Config {
            tool_source: TOOL_SOURCE,
            workdir: workdir_text,
            pid_namespace: own_namespaces,
            limits: plan.limits.for_child(own_namespaces && !rustix::process::getuid().is_root()),
            request_filters: if request_filters_sent { plan.request_filters.clone() } else { Vec::new() },
        };
        let mut live = Live {
            child,
            stdin,
            reader: FrameReader::new(stdout),
            report,
            request_filters_sent: request_filters_sent && !plan.request_filters.is_empty(),
            isolation: None,
            owes_idle: true,
        };
        if let Err(e) = write_frame(&mut live.stdin, &config) {
            kill_tree(&mut live.child);
            return Err(InterpError::Startup(format!("cannot send the configuration: {e}")));
        }
        Ok(live)
    }

    /// Runs one request. `Err` only when no worker can be had at all.
    pub(crate) fn run(&mut self, request: &ExecRequest) -> Result<ExecResult, InterpError> {
        let message = Request { ancestors: &request.ancestors, code: &request.code };
        // Waiting for a (re)started worker to be ready is not the code's time.
        self.live()?;
        let mut started = Instant::now();
        if write_frame(&mut self.live()?.stdin, &message).is_err() {
            // The worker died since its last answer: start another and send it once more.
            self.stop();
            self.plan.restarts.fetch_add(1, Ordering::Relaxed);
            self.live()?;
            started = Instant::now();
            write_frame(&mut self.live()?.stdin, &message)
                .map_err(|e| InterpError::Startup(format!("a fresh worker refused the request: {e}")))?;
        }
        let deadline = started + self.plan.limits.timeout;
        let outcome = match self.live.as_mut() {
            Some(live) => {
                live.owes_idle = true;
                live.reader.read::<Response>(deadline)
            }
            None => Err(ReadError::Closed),
        };
        let elapsed = started.elapsed();
        let result = |observation: String, status| ExecResult { observation, status, elapsed, cached: false };
        match outcome {
            Ok(response) => self.interpret(response, elapsed),
            Err(ReadError::Timeout) => {
                self.restart();
                Ok(result(timeout_message(self.plan.limits.timeout), ExecStatus::Timeout))
            }
            Err(ReadError::Closed) => {
                self.restart();
                Ok(result(
                    "ProcessError: the Python worker died while running the code (a new one was started)"
                        .into(),
                    ExecStatus::Killed,
                ))
            }
            Err(ReadError::Io(e)) => {
                self.restart();
                Err(InterpError::Protocol(e.to_string()))
            }
            Err(ReadError::Invalid(e)) => {
                self.restart();
                Err(InterpError::Protocol(e))
            }
        }
    }

    fn interpret(&mut self, response: Response, elapsed: Duration) -> Result<ExecResult, InterpError> {
        if let Some(error) = response.setup_error {
            return Err(InterpError::ChildSetup(error));
        }
        // A result means the code finished: the child closed its pipe right before exiting.
        let (observation, status) = match (response.result, response.signal, response.exit_code) {
            (Some(ChildResult { observation: Some(observation), raised }), _, _) => {
                (observation, if raised { ExecStatus::Error } else { ExecStatus::Ok })
            }
            (_, Some(signal), _) => (signal_message(signal, &self.plan.limits), ExecStatus::Killed),
            (_, None, code) => {
                let code = code.map_or_else(|| "unknown".to_owned(), |c| c.to_string());
                let why = response.result_error.map(|e| format!("; {e}")).unwrap_or_default();
                (
                    format!(
                        "ProcessError: the code ended its process (exit status {code}) before it produced an observation{why}"
                    ),
                    ExecStatus::Killed,
                )
            }
        };
        Ok(ExecResult { observation, status, elapsed, cached: false })
    }

    /// Kills the worker and starts a fresh one (whose readiness is awaited on next use).
    fn restart(&mut self) {
        self.stop();
        self.plan.restarts.fetch_add(1, Ordering::Relaxed);
        self.live = self.start().ok();
    }

    /// Kills the worker's whole process group; returns what it wrote to stderr.
    fn stop(&mut self) -> String {
        let Some(mut live) = self.live.take() else { return String::new() };
        drop(live.stdin);
        kill_tree(&mut live.child);
        let mut stderr = String::new();
        if let Some(mut pipe) = live.child.stderr.take() {
            let _ = pipe.read_to_string(&mut stderr);
        }
        stderr
    }

    /// Pids of the worker's processes that arbor started (the keeper or the worker itself).
    pub(crate) fn pid(&self) -> Option<u32> {
        self.live.as_ref().map(|live| live.child.id())
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Kills every process of the worker: its process group (the worker and the request children
/// share it; seccomp keeps children from leaving it), then reaps the process arbor started.
fn kill_tree(child: &mut Child) {
    if let Some(pid) = i32::try_from(child.id()).ok().and_then(Pid::from_raw) {
        let _ = rustix::process::kill_process_group(pid, Signal::KILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn indent_stderr(stderr: &str) -> String {
    let tail: Vec<&str> = stderr.lines().rev().take(12).collect();
    if tail.is_empty() {
        return String::new();
    }
    let lines: Vec<String> = tail.into_iter().rev().map(|l| format!("\n  {l}")).collect();
    format!("; its stderr ends with:{}", lines.concat())
}

/// The observation of a child killed by `signal`.
fn signal_message(signal: i32, limits: &Limits) -> String {
    let what = match signal {
        libc::SIGSEGV => "crashed with a segmentation fault (SIGSEGV)".to_owned(),
        libc::SIGBUS => "crashed with a bus error (SIGBUS)".to_owned(),
        libc::SIGABRT => "aborted (SIGABRT)".to_owned(),
        libc::SIGFPE => "crashed with an arithmetic fault (SIGFPE)".to_owned(),
        libc::SIGILL => "crashed on an illegal instruction (SIGILL)".to_owned(),
        libc::SIGSYS => "made a forbidden system call (SIGSYS)".to_owned(),
        libc::SIGXCPU => format!("used more than {} s of CPU time (SIGXCPU)", limits.cpu_seconds()),
        libc::SIGXFSZ => format!("wrote a file larger than {} bytes (SIGXFSZ)", limits.file_bytes),
        libc::SIGKILL => "was killed (SIGKILL), e.g. for exceeding its memory or CPU limit".to_owned(),
        other => format!("was killed by signal {other}"),
    };
    format!("ProcessError: the Python process {what}")
}
