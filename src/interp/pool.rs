//! The batch-first interpreter: a bounded set of workers, a result cache, parallel batches.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use super::InterpError;
use super::cache::ResultCache;
use super::filters;
use super::limits::Limits;
use super::python::{PythonInfo, probe_python};
use super::request::{ExecRequest, ExecResult};
use super::sandbox::{Isolation, SandboxMode};
use super::scratch::Scratch;
use super::worker::{Worker, WorkerPlan};
use crate::tree::ExecStatus;

/// How to build a [`Pool`].
#[derive(Clone, Debug)]
pub struct PoolConfig {
    /// The interpreter (`--python`); `None` means `ARBOR_PYTHON`, then `python3` on PATH.
    pub python: Option<PathBuf>,
    /// Concurrent executions (one warm worker each).
    pub workers: usize,
    pub limits: Limits,
    pub sandbox: SandboxMode,
    /// Results kept by (ancestor code, code); 0 disables the cache.
    pub cache_capacity: usize,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            python: None,
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8),
            limits: Limits::default(),
            sandbox: SandboxMode::Full,
            cache_capacity: 16_384,
        }
    }
}

/// Counters since the pool was made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Requests answered by running code.
    pub executed: u64,
    pub cache_hits: u64,
    pub timeouts: u64,
    /// Workers started again after a timeout, a crash or a worker's death.
    pub restarts: u64,
    /// Results held in the cache now.
    pub cache_entries: usize,
}

/// Runs code steps in sandboxed, warm Python workers. `Send + Sync`: share it (e.g. in an
/// `Arc`) between threads; at most `workers` executions run at once and other callers wait.
pub struct Pool {
    // Declared before `scratch` so workers are killed before their directories are removed.
    /// Idle workers, least recently used first: a worker gets time to fork its next child.
    idle: Mutex<VecDeque<Worker>>,
    returned: Condvar,
    worker_count: usize,
    cache: Mutex<ResultCache>,
    python: PythonInfo,
    isolation: Isolation,
    limits: Limits,
    executed: AtomicU64,
    cache_hits: AtomicU64,
    timeouts: AtomicU64,
    plan: Arc<WorkerPlan>,
    _scratch: Scratch,
}

impl Pool {
    /// Finds Python, checks that sympy imports, and starts `config.workers` workers (waiting
    /// until each has imported sympy).
    pub fn new(config: PoolConfig) -> Result<Pool, InterpError> {
        let python = probe_python(config.python.as_deref())?;
        python.require_sympy()?;
        let request_filters = match config.sandbox {
            SandboxMode::Full => filters::request_filters()?.iter().map(filters::to_hex).collect(),
            SandboxMode::Off => Vec::new(),
        };
        let plan = Arc::new(WorkerPlan {
            python: python.clone(),
            limits: config.limits.clone(),
            mode: config.sandbox,
            request_filters,
            restarts: AtomicU64::new(0),
        });
        let scratch = Scratch::new()?;
        let worker_count = config.workers.max(1);
        let mut workers = Vec::with_capacity(worker_count);
        for index in 0..worker_count {
            let workdir = scratch.path().join(format!("w{index}"));
            std::fs::create_dir(&workdir)
                .map_err(|e| InterpError::Sandbox(format!("cannot make {}: {e}", workdir.display())))?;
            workers.push(Worker::new(Arc::clone(&plan), workdir));
        }
        // Start them side by side: each imports sympy.
        let isolations: Vec<Result<Isolation, InterpError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = workers.iter_mut().map(|w| scope.spawn(move || w.ready())).collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| Err(InterpError::Startup("a start thread panicked".into())))
                })
                .collect()
        });
        let mut isolation = None;
        for result in isolations {
            let found = result?;
            isolation.get_or_insert(found);
        }
        let isolation = isolation.ok_or_else(|| InterpError::Startup("no worker".into()))?;
        Ok(Pool {
            idle: Mutex::new(workers.into()),
            returned: Condvar::new(),
            worker_count,
            cache: Mutex::new(ResultCache::new(config.cache_capacity)),
            python,
            isolation,
            limits: config.limits,
            executed: AtomicU64::new(0),
            cache_hits: AtomicU64::new(0),
            timeouts: AtomicU64::new(0),
            plan,
            _scratch: scratch,
        })
    }

    /// Runs every request (replaying its ancestors first) and returns results in the same
    /// order. Cached results are reused; identical requests in a batch run once; the rest run
    /// in parallel on up to `workers` workers. `Err` only when no worker can be started.
    pub fn execute(&self, requests: &[ExecRequest]) -> Result<Vec<ExecResult>, InterpError> {
        let mut results: Vec<Option<ExecResult>> = vec![None; requests.len()];
        // Unique uncached requests, each with the positions that asked for it.
        let mut pending: Vec<(&ExecRequest, Vec<usize>)> = Vec::new();
        let mut position: HashMap<&ExecRequest, usize> = HashMap::new();
        {
            let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            for (index, request) in requests.iter().enumerate() {
                if let Some(hit) = cache.get(request) {
                    self.cache_hits.fetch_add(1, Ordering::Relaxed);
                    results[index] = Some(hit);
                } else if let Some(&slot) = position.get(request) {
                    pending[slot].1.push(index);
                } else {
                    position.insert(request, pending.len());
                    pending.push((request, vec![index]));
                }
            }
        }
        let outcomes = self.run_all(pending.iter().map(|(request, _)| *request).collect());
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        for ((request, indices), outcome) in pending.iter().zip(outcomes) {
            let result = outcome?;
            self.executed.fetch_add(1, Ordering::Relaxed);
            if result.status == ExecStatus::Timeout {
                self.timeouts.fetch_add(1, Ordering::Relaxed);
            }
            cache.insert(request, &result);
            for (n, &index) in indices.iter().enumerate() {
                // Copies for duplicates within the batch count as cache hits.
                results[index] = Some(ExecResult { cached: n > 0, ..result.clone() });
            }
        }
        results
            .into_iter()
            .map(|r| r.ok_or_else(|| InterpError::Protocol("a request got no result".into())))
            .collect()
    }

    /// Runs one request; see [`Pool::execute`].
    pub fn execute_one(&self, request: &ExecRequest) -> Result<ExecResult, InterpError> {
        let mut results = self.execute(std::slice::from_ref(request))?;
        results.pop().ok_or_else(|| InterpError::Protocol("no result".into()))
    }

    fn run_all(&self, jobs: Vec<&ExecRequest>) -> Vec<Result<ExecResult, InterpError>> {
        if jobs.len() <= 1 {
            return jobs.into_iter().map(|job| self.run_on_a_worker(job)).collect();
        }
        let next = AtomicUsize::new(0);
        let slots: Vec<Mutex<Option<Result<ExecResult, InterpError>>>> =
            jobs.iter().map(|_| Mutex::new(None)).collect();
        let threads = jobs.len().min(self.worker_count);
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(job) = jobs.get(index) else { break };
                        let outcome = self.run_on_a_worker(job);
                        *slots[index].lock().unwrap_or_else(PoisonError::into_inner) = Some(outcome);
                    }
                });
            }
        });
        slots
            .into_iter()
            .map(|slot| {
                slot.into_inner()
                    .unwrap_or_else(PoisonError::into_inner)
                    .unwrap_or_else(|| Err(InterpError::Protocol("a request was not run".into())))
            })
            .collect()
    }

    fn run_on_a_worker(&self, request: &ExecRequest) -> Result<ExecResult, InterpError> {
        let mut worker = self.checkout();
        let outcome = worker.run(request);
        self.checkin(worker);
        outcome
    }

    fn checkout(&self) -> Worker {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(worker) = idle.pop_front() {
                return worker;
            }
            idle = self.returned.wait(idle).unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn checkin(&self, worker: Worker) {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).push_back(worker);
        self.returned.notify_one();
    }

    /// The interpreter the workers run, with its sympy and numpy versions.
    pub fn python(&self) -> &PythonInfo {
        &self.python
    }

    /// Which isolation mechanisms hold on this machine.
    pub fn isolation(&self) -> &Isolation {
        &self.isolation
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn workers(&self) -> usize {
        self.worker_count
    }

    pub fn stats(&self) -> PoolStats {
        let restarts = self.plan.restarts.load(Ordering::Relaxed);
        PoolStats {
            executed: self.executed.load(Ordering::Relaxed),
            cache_hits: self.cache_hits.load(Ordering::Relaxed),
            timeouts: self.timeouts.load(Ordering::Relaxed),
            restarts,
            cache_entries: self.cache.lock().unwrap_or_else(PoisonError::into_inner).len(),
        }
    }

    /// Pids of the processes arbor started for the idle workers (for leak checks in tests).
    pub fn worker_pids(&self) -> Vec<u32> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).iter().filter_map(Worker::pid).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Pool>();
        shareable::<ExecRequest>();
        shareable::<ExecResult>();
    }
}
