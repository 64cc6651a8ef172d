//! Starting a worker process inside the sandbox.

use std::io::Read as _;
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command};

use landlock::{Access as _, AccessFs, PathBeneath, RulesetCreatedAttr as _, RulesetStatus};
use rustix::fd::OwnedFd;
use rustix::fs::{Mode, OFlags};
use rustix::mount::{MountFlags, MountPropagationFlags};
use rustix::process::{Resource, Rlimit};
use rustix::thread::UnshareFlags;

use super::InterpError;
use super::sandbox::{ChildSetup, LANDLOCK_ABI, REPORT_LEN, report};

/// Spawns `command` with `setup` applied between fork and exec, and returns the child with
/// the setup's report (see [`report`]).
pub(crate) fn spawn_sandboxed(
    mut command: Command,
    setup: ChildSetup,
) -> Result<(Child, [u8; REPORT_LEN]), InterpError> {
    let (report_read, report_write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| InterpError::Spawn(e.into()))?;
    install_hook(&mut command, setup, report_write);
    let child = command.spawn().map_err(InterpError::Spawn)?;
    // The hook (and with it the pipe's write end) lives in `command`; drop it so that a short
    // report ends in EOF instead of a hang.
    drop(command);
    let mut bytes = [0u8; REPORT_LEN];
    let mut file = std::fs::File::from(report_read);
    file.read_exact(&mut bytes)
        .map_err(|e| InterpError::Startup(format!("the sandbox setup sent no report: {e}")))?;
    Ok((child, bytes))
}

/// Registers the pre-exec hook: the one place in arbor that needs `unsafe`.
#[allow(unsafe_code)]
fn install_hook(command: &mut Command, mut setup: ChildSetup, report_fd: OwnedFd) {
    let hook = move || -> std::io::Result<()> {
        let mut bytes = [report::NOT_TRIED; REPORT_LEN];
        bytes[report::SETSID] = if rustix::process::setsid().is_ok() { report::OK } else { report::FAILED };
        // No core files from the worker or its children.
        let _ = rustix::process::setrlimit(Resource::Core, Rlimit { current: Some(0), maximum: Some(0) });
        if setup.namespaces {
            let flags =
                UnshareFlags::NEWUSER | UnshareFlags::NEWNS | UnshareFlags::NEWNET | UnshareFlags::NEWPID;
            // SAFETY: only namespace flags, no CLONE_FILES/CLONE_FS sharing changes that other
            // threads could observe; the forked child has a single thread.
            match unsafe { rustix::thread::unshare_unsafe(flags) } {
                Ok(()) => {
                    bytes[report::UNSHARE] = report::OK;
                    map_ids(&setup)?;
                    mount_scratch(&setup, &mut bytes);
                }
                Err(errno) => {
                    bytes[report::UNSHARE] = report::FAILED;
                    bytes[report::UNSHARE_ERRNO] = u8::try_from(errno.raw_os_error()).unwrap_or(u8::MAX);
                }
            }
        }
        rustix::process::chdir(setup.workdir.as_c_str())?;
        if let Some(ruleset) = setup.landlock.take() {
            let workdir = rustix::fs::open(
                setup.workdir.as_c_str(),
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            let with_workdir = ruleset
                .add_rule(PathBeneath::new(workdir, AccessFs::from_all(LANDLOCK_ABI)))
                .map_err(|_| std::io::Error::other("landlock: cannot allow the working directory"))?;
            bytes[report::LANDLOCK] = match with_workdir.restrict_self() {
                Ok(status) => {
                    if let landlock::LandlockStatus::Available { effective_abi, .. } = status.landlock {
                        bytes[report::LANDLOCK_ABI] = effective_abi as u8;
                    }
                    match status.ruleset {
                        RulesetStatus::FullyEnforced => report::OK,
                        RulesetStatus::PartiallyEnforced => report::LANDLOCK_PARTIAL,
                        RulesetStatus::NotEnforced => report::LANDLOCK_NOT_ENFORCED,
                    }
                }
                Err(_) => report::FAILED,
            };
        }
        if let Some(filter) = &setup.worker_filter {
            bytes[report::SECCOMP] =
                if seccompiler::apply_filter(filter).is_ok() { report::OK } else { report::FAILED };
        }
        rustix::io::write(&report_fd, &bytes)?;
        Ok(())
    };
    // SAFETY: the hook runs in the forked child before exec. It only makes system calls on
    // data prepared before the fork (C strings, byte buffers, the Landlock ruleset fd, the
    // compiled BPF program) and allocates nothing, so it does not touch locks that another
    // thread of arbor may have held at fork time.
    unsafe {
        command.pre_exec(hook);
    }
}

/// Maps the worker's uid and gid in its new user namespace to arbor's own.
fn map_ids(setup: &ChildSetup) -> std::io::Result<()> {
    write_file(&setup.setgroups_path, b"deny")?;
    write_file(&setup.uid_map_path, &setup.uid_map)?;
    write_file(&setup.gid_map_path, &setup.gid_map)
}

/// Mounts a size-limited tmpfs on the working directory, in the worker's own mount namespace.
fn mount_scratch(setup: &ChildSetup, bytes: &mut [u8; REPORT_LEN]) {
    let private =
        rustix::mount::mount_change(c"/", MountPropagationFlags::REC | MountPropagationFlags::PRIVATE);
    let mounted = private.and_then(|()| {
        rustix::mount::mount(
            c"tmpfs",
            setup.workdir.as_c_str(),
            c"tmpfs",
            MountFlags::NOSUID | MountFlags::NODEV,
            setup.tmpfs_options.as_c_str(),
        )
    });
    match mounted {
        Ok(()) => bytes[report::TMPFS] = report::OK,
        Err(errno) => {
            bytes[report::TMPFS] = report::FAILED;
            bytes[report::TMPFS_ERRNO] = u8::try_from(errno.raw_os_error()).unwrap_or(u8::MAX);
        }
    }
}

fn write_file(path: &std::ffi::CStr, content: &[u8]) -> std::io::Result<()> {
    let fd = rustix::fs::open(path, OFlags::WRONLY | OFlags::CLOEXEC, Mode::empty())?;
    rustix::io::write(&fd, content)?;
    Ok(())
}
