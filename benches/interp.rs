//! Interpreter latency and throughput (not a test; run with `cargo bench --bench interp`).
//!
//! A typical sympy step with 3 ancestors, run (1) through arbor's pool, one request at a time,
//! (2) the same with the sandbox off, (3) by spawning Python per call with the same tool
//! code, all in one run; then the throughput of a batch on 2 workers. Knobs:
//! ARBOR_BENCH_N (pool requests, default 300), ARBOR_BENCH_SPAWNS (default 20).

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use arbor::interp::{ExecRequest, Pool, PoolConfig, SandboxMode};

const TOOL_SOURCE: &str = include_str!("../assets/python/tool.py");

const ANCESTORS: [&str; 3] = [
    "```python\nfrom sympy import *\nx, y = symbols('x y')\n```",
    "```python\neq1 = Eq(x + y, 10)\neq2 = Eq(x - y, 2)\n```",
    "```python\nsolution = solve((eq1, eq2), (x, y))\nprint(solution)\n```",
];

/// The step; `tag` makes every request distinct so the cache never answers.
fn request(tag: usize) -> ExecRequest {
    let code = format!("```python\n# step {tag}\nresult = solution[x] * solution[y]\nprint(result)\n```");
    ExecRequest::new(ANCESTORS.iter().map(|a| a.to_string()).collect(), code)
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn report(label: &str, mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let (p50, p95) = (percentile(&samples, 0.5), percentile(&samples, 0.95));
    println!(
        "{label:<34} n={:<4} p50 {:>8.2} ms   p95 {:>8.2} ms",
        samples.len(),
        p50.as_secs_f64() * 1e3,
        p95.as_secs_f64() * 1e3
    );
    (p50, p95)
}

/// The fixed cost of one request: no ancestors, trivial code.
fn overhead(pool: &Pool, n: usize) -> Vec<Duration> {
    (0..n)
        .map(|i| {
            let started = Instant::now();
            let result =
                pool.execute_one(&ExecRequest::new(Vec::new(), format!("{i} + 1"))).expect("pool runs");
            assert_eq!(result.observation, (i + 1).to_string());
            started.elapsed()
        })
        .collect()
}

/// CPU time (user + system, ms) used so far by the pool's worker processes and the request
/// children they reaped: the cost of a request independent of how busy the machine is.
fn worker_cpu_ms(pool: &Pool) -> f64 {
    fn ticks(pid: u32) -> (u64, Vec<u32>) {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let rest = stat.rfind(')').map_or("", |i| &stat[i + 1..]);
        let fields: Vec<u64> = rest.split_whitespace().map(|f| f.parse().unwrap_or(0)).collect();
        // After the state: fields 14..=17 of stat are utime, stime, cutime, cstime.
        let total = fields.get(11..15).map_or(0, |f| f.iter().sum());
        let children =
            std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        (total, children.split_whitespace().filter_map(|c| c.parse().ok()).collect())
    }
    let mut total = 0;
    for pid in pool.worker_pids() {
        let (own, children) = ticks(pid);
        total += own;
        for child in children {
            total += ticks(child).0;
        }
    }
    total as f64 * 10.0 // 100 ticks per second
}

fn pool_latency(pool: &Pool, n: usize) -> Vec<Duration> {
    (0..n)
        .map(|i| {
            let started = Instant::now();
            let result = pool.execute_one(&request(i)).expect("pool runs the step");
            assert_eq!(result.observation, "24", "unexpected observation");
            started.elapsed()
        })
        .collect()
}

/// Python started per call, running the same tool code on the same request.
fn spawn_latency(python: &std::path::Path, n: usize) -> Vec<Duration> {
    let driver = format!(
        "{TOOL_SOURCE}\nimport json, sys\nreq = json.load(sys.stdin)\nobservation, _ = execute(req['ancestors'], req['code'])\nprint(observation)\n"
    );
    (0..n)
        .map(|i| {
            let req = request(i);
            let body = serde_json::json!({"ancestors": req.ancestors, "code": req.code}).to_string();
            let started = Instant::now();
            let mut child = Command::new(python)
                .args(["-B", "-c", &driver])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("spawn python");
            child.stdin.take().expect("stdin").write_all(body.as_bytes()).expect("write");
            let output = child.wait_with_output().expect("python finishes");
            let elapsed = started.elapsed();
            assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "24");
            elapsed
        })
        .collect()
}

fn main() {
    let n = env_number("ARBOR_BENCH_N", 300);
    let spawns = env_number("ARBOR_BENCH_SPAWNS", 20);
    let config = PoolConfig { workers: 2, cache_capacity: 0, ..PoolConfig::default() };

    let pool = Pool::new(config.clone()).expect("pool starts");
    println!("python: {} ({})", pool.python().executable.display(), pool.python().version);
    println!("step: 3 ancestors (sympy import, two equations, solve) + one code step");
    pool_latency(&pool, 20); // warm-up
    report("pool, trivial step (fixed cost)", overhead(&pool, n));
    let cpu_before = worker_cpu_ms(&pool);
    let (pool_p50, _) = report("pool (sandboxed), 1 at a time", pool_latency(&pool, n));
    println!(
        "{:<34} {:.1} ms of CPU per step in the workers (load-independent cost)",
        "",
        (worker_cpu_ms(&pool) - cpu_before) / n as f64
    );

    let unsandboxed =
        Pool::new(PoolConfig { sandbox: SandboxMode::Off, ..config.clone() }).expect("pool starts");
    pool_latency(&unsandboxed, 20);
    report("sandbox off, trivial step", overhead(&unsandboxed, n));
    report("pool (sandbox off), 1 at a time", pool_latency(&unsandboxed, n));
    drop(unsandboxed);

    let (spawn_p50, _) = report("spawn python per call", spawn_latency(&pool.python().executable, spawns));
    println!("ratio spawn/pool at p50: {:.0}x", spawn_p50.as_secs_f64() / pool_p50.as_secs_f64().max(1e-9));

    let batch: Vec<ExecRequest> = (0..n).map(|i| request(100_000 + i)).collect();
    let started = Instant::now();
    let results = pool.execute(&batch).expect("batch runs");
    let elapsed = started.elapsed();
    assert!(results.iter().all(|r| r.observation == "24"));
    println!(
        "throughput, batch of {n} on {} workers: {:.0} requests/s ({:.2} s)",
        pool.workers(),
        n as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
}
