//! Resource limits of one code execution.

use std::time::Duration;

use serde::Serialize;

/// Limits applied to every request. The wall-clock `timeout` is enforced by arbor (it kills
/// the worker's whole process group); the rest are rlimits the request's child sets on itself
/// and the size of its tmpfs working directory.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Wall-clock time for replaying the ancestors and running the code (reference: 15 s).
    pub timeout: Duration,
    /// Address space (RLIMIT_AS); allocations past it raise MemoryError.
    pub memory_bytes: u64,
    /// Largest file the code may write (RLIMIT_FSIZE); past it writes fail with EFBIG.
    pub file_bytes: u64,
    /// Size of the private tmpfs working directory (when a mount namespace is available).
    pub scratch_bytes: u64,
    /// Open file descriptors (RLIMIT_NOFILE).
    pub open_files: u64,
    /// Threads of the sandbox's user (RLIMIT_NPROC). It is only set inside arbor's own user
    /// namespace and when not mapped to root, where the kernel counts it per namespace; new
    /// processes are refused by seccomp regardless.
    pub tasks: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(15),
            memory_bytes: 2 << 30,
            file_bytes: 16 << 20,
            scratch_bytes: 64 << 20,
            open_files: 256,
            tasks: 64,
        }
    }
}

impl Limits {
    /// CPU seconds (RLIMIT_CPU): a backstop one second past the wall-clock timeout.
    pub fn cpu_seconds(&self) -> u64 {
        self.timeout.as_secs() + 1 + u64::from(self.timeout.subsec_nanos() > 0)
    }

    /// The limits as the worker's child applies them.
    pub(crate) fn for_child(&self, tasks_apply: bool) -> ChildLimits {
        ChildLimits {
            memory_bytes: self.memory_bytes,
            file_bytes: self.file_bytes,
            open_files: self.open_files,
            cpu_seconds: self.cpu_seconds(),
            tasks: tasks_apply.then_some(self.tasks),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct ChildLimits {
    memory_bytes: u64,
    file_bytes: u64,
    open_files: u64,
    cpu_seconds: u64,
    tasks: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_limit_rounds_the_timeout_up_and_adds_a_second() {
        let mut limits = Limits::default();
        assert_eq!(limits.cpu_seconds(), 16);
        limits.timeout = Duration::from_millis(1500);
        assert_eq!(limits.cpu_seconds(), 3);
    }
}
