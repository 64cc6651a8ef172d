//! `arbor interp`: run code from stdin in the sandbox and print its observation.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use serde::Deserialize;

use crate::interp::{
    ExecRequest, Isolation, Limits, PYTHON_INTERPRETER, PathStep, Pool, PoolConfig, PythonInfo, SandboxMode,
    probe_python, replay_inputs,
};
use crate::tree::ExecStatus;

/// Run Python code read from stdin the way a code step runs during search, and print the
/// observation exactly as the policy would see it inside <output> tags.
///
/// The code may keep its ```python fences. With --ancestors, the ancestors' code is replayed
/// first (its output discarded). The interpreter is --python, else $ARBOR_PYTHON, else python3
/// on PATH; it must import sympy.
///
/// Exit status: 0 when the code ran without error, 2 when it raised, timed out or was killed
/// (the status is printed on stderr), 1 when arbor could not run it at all.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    echo 'print(1/3)' | arbor interp\n  \
    printf 'x = symbols(\"x\")\\nprint(solve(x**2 - 4, x))' | arbor interp --ancestors anc.json\n  \
      (anc.json: [\"from sympy import *\"])\n  \
    arbor interp --doctor")]
pub struct Args {
    /// Python interpreter to run (default: $ARBOR_PYTHON, then python3 on PATH).
    #[arg(long, value_name = "PATH")]
    python: Option<PathBuf>,
    /// Ancestor code to replay first: a JSON array, root first, of code strings (replayed
    /// as given) or of path nodes {"action", "action_input", "text"} (replayed by the
    /// reference's rule: code steps whose observation was not a timeout).
    #[arg(long, value_name = "FILE")]
    ancestors: Option<PathBuf>,
    /// Wall-clock limit in seconds for replay plus code.
    #[arg(long, default_value_t = 15.0, value_name = "SECONDS")]
    timeout: f64,
    /// Address-space limit in MiB.
    #[arg(long, value_name = "MIB")]
    memory_mb: Option<u64>,
    /// Print {"observation", "status", "elapsed_ms"} as one JSON line.
    #[arg(long)]
    json: bool,
    /// Run without namespaces, Landlock and seccomp (rlimits and the scrubbed environment
    /// still apply).
    #[arg(long)]
    no_sandbox: bool,
    /// Show the Python found, sympy, every limit and which isolation mechanisms are in force
    /// on this machine (checked live), then exit.
    #[arg(long)]
    doctor: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !(args.timeout > 0.0 && args.timeout.is_finite()) {
        bail!("--timeout must be a positive number of seconds, not {}", args.timeout);
    }
    let mut limits = Limits { timeout: Duration::from_secs_f64(args.timeout), ..Limits::default() };
    if let Some(mib) = args.memory_mb {
        limits.memory_bytes = mib << 20;
    }
    let config = PoolConfig {
        python: args.python.clone(),
        workers: 1,
        limits,
        sandbox: if args.no_sandbox { SandboxMode::Off } else { SandboxMode::Full },
        cache_capacity: 0,
    };
    if args.doctor {
        return doctor(config);
    }
    let ancestors = match &args.ancestors {
        Some(path) => read_ancestors(path)?,
        None => Vec::new(),
    };
    let mut code = String::new();
    std::io::stdin().read_to_string(&mut code).context("reading the code from stdin")?;
    let pool = Pool::new(config)?;
    let result = pool.execute_one(&ExecRequest::new(ancestors, code))?;
    if args.json {
        let line = serde_json::json!({
            "observation": result.observation,
            "status": result.status,
            "elapsed_ms": result.elapsed.as_secs_f64() * 1000.0,
        });
        println!("{line}");
    } else {
        println!("{}", result.observation);
    }
    if result.status == ExecStatus::Ok {
        return Ok(ExitCode::SUCCESS);
    }
    if !args.json {
        eprintln!("status: {}", status_name(result.status));
    }
    Ok(ExitCode::from(2))
}

fn status_name(status: ExecStatus) -> &'static str {
    match status {
        ExecStatus::Ok => "ok",
        ExecStatus::Error => "error",
        ExecStatus::Timeout => "timeout",
        ExecStatus::Killed => "killed",
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Ancestor {
    Code(String),
    Node {
        #[serde(default)]
        action: String,
        #[serde(default)]
        action_input: String,
        #[serde(default)]
        text: String,
    },
}

fn read_ancestors(path: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let items: Vec<Ancestor> = serde_json::from_str(&text).with_context(|| {
        format!(
            "{}: expected a JSON array of code strings or of {{action, action_input, text}} nodes",
            path.display()
        )
    })?;
    if items.iter().all(|item| matches!(item, Ancestor::Code(_))) {
        return Ok(items
            .into_iter()
            .filter_map(|item| match item {
                Ancestor::Code(code) => Some(code),
                Ancestor::Node { .. } => None,
            })
            .collect());
    }
    let nodes: Vec<(String, String, String)> = items
        .into_iter()
        .map(|item| match item {
            Ancestor::Code(code) => (PYTHON_INTERPRETER.to_owned(), code, String::new()),
            Ancestor::Node { action, action_input, text } => (action, action_input, text),
        })
        .collect();
    let path_steps = nodes.iter().map(|(action, action_input, text)| PathStep { action, action_input, text });
    Ok(replay_inputs(path_steps, PYTHON_INTERPRETER))
}

fn doctor(config: PoolConfig) -> anyhow::Result<ExitCode> {
    let python = probe_python(config.python.as_deref())?;
    print_python(&python);
    if let Err(e) = python.require_sympy() {
        println!("\n{e}");
        return Ok(ExitCode::FAILURE);
    }
    let pool = Pool::new(config)?;
    print_limits(pool.limits(), pool.isolation());
    print_isolation(pool.isolation());
    println!("\nchecks (hostile snippets run now in the sandbox):");
    let mut all_blocked = true;
    for (what, code, blocked_if) in live_checks() {
        let result = pool.execute_one(&ExecRequest::new(Vec::new(), code))?;
        let blocked = result.observation.contains(blocked_if);
        all_blocked &= blocked;
        let verdict = if blocked { "blocked" } else { "NOT BLOCKED" };
        println!("  {what:<38} {verdict}: {}", first_line(&result.observation));
    }
    let _ = std::fs::remove_file(ESCAPE_PROBE);
    Ok(if all_blocked { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

const ESCAPE_PROBE: &str = "/tmp/arbor-doctor-escape-probe";

/// The variables a worker gets (see `interp::python::worker_env`).
const SCRUBBED_ENV: [&str; 14] = [
    "PATH",
    "LANG",
    "LC_ALL",
    "PYTHONIOENCODING",
    "PYTHONHASHSEED",
    "PYTHONDONTWRITEBYTECODE",
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "MPLBACKEND",
    "HOME",
    "TMPDIR",
    "PYTHONUSERBASE",
];

fn live_checks() -> Vec<(&'static str, String, &'static str)> {
    vec![
        ("open a TCP socket", "import socket\nsocket.socket().connect(('127.0.0.1', 9))".into(), "Error"),
        ("read /etc/passwd", "print(open('/etc/passwd').read()[:20])".into(), "PermissionError"),
        ("write outside the working directory", format!("open('{ESCAPE_PROBE}', 'w').write('x')"), "Error"),
        ("start a process", "import os\nprint(os.fork())".into(), "PermissionError"),
        (
            "see arbor's environment",
            format!(
                "import os\nprint(sorted(set(os.environ) - set({SCRUBBED_ENV:?})) or 'only the scrubbed variables')"
            ),
            "only the scrubbed variables",
        ),
    ]
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

fn print_python(python: &PythonInfo) {
    println!("python        {} ({}), Python {}", python.executable.display(), python.source, python.version);
    if python.requested != python.executable.to_string_lossy() {
        println!("              asked for: {}", python.requested);
    }
    match &python.sympy {
        Ok(version) => println!("sympy         {version}"),
        Err(why) => println!("sympy         MISSING: {why}"),
    }
    match &python.numpy {
        Some(version) => println!("numpy         {version}"),
        None => println!("numpy         not installed (optional)"),
    }
}

fn print_limits(limits: &Limits, isolation: &Isolation) {
    let mib = |bytes: u64| bytes >> 20;
    println!("\nlimits (per request):");
    println!(
        "  wall clock          {} s for replay + code; arbor then kills the worker's process group",
        limits.timeout.as_secs_f64()
    );
    println!("  memory              {} MiB of address space (RLIMIT_AS)", mib(limits.memory_bytes));
    println!("  CPU time            {} s (RLIMIT_CPU)", limits.cpu_seconds());
    println!("  file size           {} MiB per file (RLIMIT_FSIZE)", mib(limits.file_bytes));
    let scratch =
        if isolation.private_tmpfs.in_force() { "tmpfs of" } else { "NOT size-limited (no tmpfs); asked" };
    println!(
        "  working directory   {scratch} {} MiB, emptied after every request",
        mib(limits.scratch_bytes)
    );
    println!("  open files          {} (RLIMIT_NOFILE)", limits.open_files);
    let processes = if isolation.seccomp_request.in_force() {
        "none: fork, vfork, clone without CLONE_THREAD and exec are refused (seccomp)"
    } else {
        "NOT limited (the per-request seccomp filter is not in force)"
    };
    println!("  processes           {processes}");
    println!("  threads             {} (RLIMIT_NPROC): {}", limits.tasks, isolation.tasks_limit);
    println!(
        "  output              captured stdout keeps 64 Ki characters (the observation shows at most 500)"
    );
}

fn print_isolation(isolation: &Isolation) {
    println!("\nisolation:");
    println!("  user namespace      {}", isolation.user_namespace);
    println!("  network namespace   {}", isolation.network_namespace);
    println!("  pid namespace       {}", isolation.pid_namespace);
    println!("  private tmpfs       {}", isolation.private_tmpfs);
    println!("  landlock            {}", isolation.landlock);
    println!("  seccomp (worker)    {}", isolation.seccomp_worker);
    println!("  seccomp (request)   {}", isolation.seccomp_request);
    println!("  environment         scrubbed: PATH, LANG, LC_ALL, HOME and TMPDIR (the working directory),");
    println!("                      PYTHONHASHSEED=0, thread counts of math libraries = 1");
    println!("  stdin               /dev/null (input() raises EOFError)");
}
