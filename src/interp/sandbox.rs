//! What isolates a worker, and how to tell which parts the kernel granted.

use std::ffi::CString;
use std::fmt;
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, AccessNet, PathBeneath, PathFd, Ruleset, RulesetAttr, RulesetCreated,
    RulesetCreatedAttr, Scope, path_beneath_rules,
};
use seccompiler::BpfProgram;

use super::InterpError;
use super::filters;

/// Whether to isolate workers at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SandboxMode {
    /// Use every mechanism the kernel allows (the default). Missing ones are reported by
    /// [`super::Pool::isolation`] and `arbor interp --doctor`, never silently assumed.
    #[default]
    Full,
    /// Rlimits, a scrubbed environment and a private working directory only: for debugging
    /// and for comparing costs.
    Off,
}

/// The state of one isolation mechanism on this machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mechanism {
    InForce,
    /// The kernel (or container) refused it; the text says why.
    Unavailable(String),
    /// Not attempted ([`SandboxMode::Off`]).
    Off,
}

impl Mechanism {
    pub fn in_force(&self) -> bool {
        *self == Mechanism::InForce
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mechanism::InForce => f.write_str("in force"),
            Mechanism::Unavailable(why) => write!(f, "NOT in force: {why}"),
            Mechanism::Off => f.write_str("off (sandbox disabled)"),
        }
    }
}

/// Landlock's state: which ABI the kernel offers and whether every requested right holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LandlockState {
    Full {
        abi: u8,
    },
    /// Some rights (those newer than the kernel's ABI) are not enforced.
    Partial {
        abi: u8,
    },
    Unavailable(String),
    Off,
}

impl LandlockState {
    pub fn in_force(&self) -> bool {
        matches!(self, LandlockState::Full { .. } | LandlockState::Partial { .. })
    }
}

impl fmt::Display for LandlockState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LandlockState::Full { abi } => write!(f, "in force (kernel ABI {abi}, every requested right)"),
            LandlockState::Partial { abi } => {
                write!(f, "partly in force (kernel ABI {abi}: rights newer than it are not enforced)")
            }
            LandlockState::Unavailable(why) => write!(f, "NOT in force: {why}"),
            LandlockState::Off => f.write_str("off (sandbox disabled)"),
        }
    }
}

/// Which isolation mechanisms hold for the workers of a pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Isolation {
    pub mode: SandboxMode,
    /// A user namespace of its own: the worker has no capabilities outside it.
    pub user_namespace: Mechanism,
    /// An empty network namespace: no interface but a down loopback.
    pub network_namespace: Mechanism,
    /// The worker is pid 1 of its own pid namespace: the code sees no other process, cannot
    /// signal its worker, and everything it leaves is killed after each request.
    pub pid_namespace: Mechanism,
    /// The working directory is a size-limited tmpfs in a mount namespace of its own.
    pub private_tmpfs: Mechanism,
    /// File system (reads of the Python installation, writes of the working directory only),
    /// TCP bind/connect, abstract unix sockets and signals out of the sandbox.
    pub landlock: LandlockState,
    /// The worker-wide seccomp filter (sockets, ptrace, namespaces, mounts, modules).
    pub seccomp_worker: Mechanism,
    /// The per-request seccomp filter (new processes, exec, setsid).
    pub seccomp_request: Mechanism,
    /// RLIMIT_NPROC on threads (only meaningful in a user namespace not mapped to root).
    pub tasks_limit: Mechanism,
}

/// The length of the report the pre-exec hook writes to its parent.
pub(crate) const REPORT_LEN: usize = 8;

/// Bytes of the pre-exec report.
pub(crate) mod report {
    pub const SETSID: usize = 0;
    pub const UNSHARE: usize = 1;
    pub const UNSHARE_ERRNO: usize = 2;
    pub const TMPFS: usize = 3;
    pub const TMPFS_ERRNO: usize = 4;
    pub const LANDLOCK: usize = 5;
    pub const LANDLOCK_ABI: usize = 6;
    pub const SECCOMP: usize = 7;

    pub const NOT_TRIED: u8 = 0;
    pub const OK: u8 = 1;
    pub const FAILED: u8 = 2;
    /// Landlock values beyond OK/FAILED: the ruleset status.
    pub const LANDLOCK_PARTIAL: u8 = 3;
    pub const LANDLOCK_NOT_ENFORCED: u8 = 4;
}

fn errno_text(errno: u8) -> String {
    std::io::Error::from_raw_os_error(i32::from(errno)).to_string()
}

impl Isolation {
    /// Reads the pre-exec report of a worker and what the worker said when ready.
    pub(crate) fn from_report(
        mode: SandboxMode,
        bytes: &[u8; REPORT_LEN],
        pid_namespace_init: bool,
        request_filter_sent: bool,
        outer_uid_is_root: bool,
    ) -> Isolation {
        use report::*;
        if mode == SandboxMode::Off {
            return Isolation {
                mode,
                user_namespace: Mechanism::Off,
                network_namespace: Mechanism::Off,
                pid_namespace: Mechanism::Off,
                private_tmpfs: Mechanism::Off,
                landlock: LandlockState::Off,
                seccomp_worker: Mechanism::Off,
                seccomp_request: Mechanism::Off,
                tasks_limit: Mechanism::Off,
            };
        }
        let namespaces = match bytes[UNSHARE] {
            OK => Mechanism::InForce,
            _ => Mechanism::Unavailable(format!("unshare refused: {}", errno_text(bytes[UNSHARE_ERRNO]))),
        };
        let pid_namespace = match (&namespaces, pid_namespace_init) {
            (Mechanism::InForce, true) => Mechanism::InForce,
            (Mechanism::InForce, false) => Mechanism::Unavailable("the worker did not become pid 1".into()),
            (other, _) => other.clone(),
        };
        let private_tmpfs = match bytes[TMPFS] {
            OK => Mechanism::InForce,
            FAILED => {
                Mechanism::Unavailable(format!("mounting tmpfs failed: {}", errno_text(bytes[TMPFS_ERRNO])))
            }
            _ => namespaces.clone(),
        };
        let landlock = match bytes[LANDLOCK] {
            OK => LandlockState::Full { abi: bytes[LANDLOCK_ABI] },
            LANDLOCK_PARTIAL => LandlockState::Partial { abi: bytes[LANDLOCK_ABI] },
            LANDLOCK_NOT_ENFORCED => {
                LandlockState::Unavailable("the kernel does not support Landlock".into())
            }
            _ => LandlockState::Unavailable("restricting the worker failed".into()),
        };
        let seccomp_worker = match bytes[SECCOMP] {
            OK => Mechanism::InForce,
            _ => Mechanism::Unavailable("installing the filter failed".into()),
        };
        let seccomp_request = if request_filter_sent && seccomp_worker.in_force() {
            Mechanism::InForce
        } else {
            Mechanism::Unavailable("seccomp is not available".into())
        };
        let tasks_limit = match (&namespaces, outer_uid_is_root) {
            (Mechanism::InForce, false) => Mechanism::InForce,
            (Mechanism::InForce, true) => Mechanism::Unavailable(
                "arbor runs as root, whose tasks the kernel does not count; seccomp refuses new processes instead"
                    .into(),
            ),
            _ => Mechanism::Unavailable("needs a user namespace of its own".into()),
        };
        Isolation {
            mode,
            network_namespace: namespaces.clone(),
            user_namespace: namespaces,
            pid_namespace,
            private_tmpfs,
            landlock,
            seccomp_worker,
            seccomp_request,
            tasks_limit,
        }
    }
}

/// Everything the pre-exec hook needs, prepared before the fork so the hook only makes system
/// calls (it must not allocate: arbor is multi-threaded).
pub(crate) struct ChildSetup {
    pub namespaces: bool,
    pub setgroups_path: CString,
    pub uid_map_path: CString,
    pub gid_map_path: CString,
    pub uid_map: Vec<u8>,
    pub gid_map: Vec<u8>,
    pub workdir: CString,
    pub tmpfs_options: CString,
    pub landlock: Option<RulesetCreated>,
    pub worker_filter: Option<BpfProgram>,
}

/// Files and directories the working directory may hold: enough for any honest step, and
/// few enough that emptying it after a request stays quick.
const SCRATCH_INODES: u32 = 4096;

/// Inside the user namespace the worker runs as this uid/gid (mapped to arbor's own), so exec
/// drops every capability it got in the namespace.
const INNER_ID: u32 = 1000;

impl ChildSetup {
    pub(crate) fn new(
        mode: SandboxMode,
        read_dirs: &[PathBuf],
        workdir: &Path,
        scratch_bytes: u64,
    ) -> Result<ChildSetup, InterpError> {
        let c = |text: &str| CString::new(text).map_err(|e| InterpError::Sandbox(e.to_string()));
        let full = mode == SandboxMode::Full;
        let uid = rustix::process::getuid().as_raw();
        let gid = rustix::process::getgid().as_raw();
        Ok(ChildSetup {
            namespaces: full,
            setgroups_path: c("/proc/self/setgroups")?,
            uid_map_path: c("/proc/self/uid_map")?,
            gid_map_path: c("/proc/self/gid_map")?,
            uid_map: format!("{INNER_ID} {uid} 1\n").into_bytes(),
            gid_map: format!("{INNER_ID} {gid} 1\n").into_bytes(),
            workdir: CString::new(workdir.as_os_str().as_bytes())
                .map_err(|e| InterpError::Sandbox(e.to_string()))?,
            tmpfs_options: c(&format!(
                "size={scratch_bytes},nr_inodes={SCRATCH_INODES},mode=0700,uid={INNER_ID},gid={INNER_ID}"
            ))?,
            landlock: if full { Some(landlock_ruleset(read_dirs)?) } else { None },
            worker_filter: if full { Some(filters::worker_filter()?) } else { None },
        })
    }
}

/// The Landlock ABI whose rights arbor asks for (best effort on older kernels).
pub(crate) const LANDLOCK_ABI: ABI = ABI::V6;

/// Reads of the Python installation and a few system files; no TCP; no abstract unix sockets
/// or signals leaving the sandbox. The working directory's rule is added by the pre-exec hook
/// once its tmpfs is mounted: Landlock does not look through a mount point to the directory
/// below it.
fn landlock_ruleset(read_dirs: &[PathBuf]) -> Result<RulesetCreated, InterpError> {
    let abi = LANDLOCK_ABI;
    let system_files = ["/etc/ld.so.cache", "/etc/localtime", "/dev/urandom", "/dev/random", "/dev/zero"];
    let build = || -> Result<RulesetCreated, landlock::RulesetError> {
        let ruleset = Ruleset::default()
            .handle_access(AccessFs::from_all(abi))?
            .handle_access(AccessNet::from_all(abi))?
            .scope(Scope::from_all(abi))?
            .create()?
            .add_rules(path_beneath_rules(read_dirs, AccessFs::from_read(abi)))?
            .add_rules(path_beneath_rules(system_files, AccessFs::from_read(abi)))?;
        match PathFd::new("/dev/null") {
            Ok(fd) => ruleset.add_rule(PathBeneath::new(fd, AccessFs::ReadFile | AccessFs::WriteFile)),
            Err(_) => Ok(ruleset),
        }
    };
    build().map_err(|e| InterpError::Sandbox(format!("landlock: {e}")))
}
