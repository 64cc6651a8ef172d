//! The seccomp filters, compiled with seccompiler.
//!
//! Two layers. The worker filter is installed by arbor just before it execs Python and holds
//! for the worker and every child: no sockets (so no network even without a network
//! namespace), no debugging of other processes, no namespace, mount or kernel-module calls.
//! The request filter is installed by each request's child right before it runs code (the
//! worker itself must still fork): no new processes, no exec, no leaving the process group.
//! Anything the filters refuse fails with EPERM, which Python reports as
//! `PermissionError: [Errno 1] Operation not permitted`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use libc::c_long;
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule,
    TargetArch,
};

use super::InterpError;

fn arch() -> Result<TargetArch, InterpError> {
    TargetArch::try_from(std::env::consts::ARCH).map_err(|e| InterpError::Sandbox(format!("seccomp: {e}")))
}

fn compile(rules: BTreeMap<i64, Vec<SeccompRule>>, errno: i32) -> Result<BpfProgram, InterpError> {
    let errno = u32::try_from(errno).map_err(|e| InterpError::Sandbox(e.to_string()))?;
    let filter = SeccompFilter::new(rules, SeccompAction::Allow, SeccompAction::Errno(errno), arch()?)
        .map_err(|e| InterpError::Sandbox(format!("seccomp: {e}")))?;
    BpfProgram::try_from(filter).map_err(|e| InterpError::Sandbox(format!("seccomp: {e}")))
}

fn always(calls: &[c_long]) -> BTreeMap<i64, Vec<SeccompRule>> {
    calls.iter().map(|&call| (call, Vec::new())).collect()
}

/// Installed on the worker before exec: refused for the worker and all its children.
pub(crate) fn worker_filter() -> Result<BpfProgram, InterpError> {
    let calls = [
        libc::SYS_socket,
        libc::SYS_io_uring_setup,
        libc::SYS_ptrace,
        libc::SYS_process_vm_readv,
        libc::SYS_process_vm_writev,
        libc::SYS_bpf,
        libc::SYS_perf_event_open,
        libc::SYS_userfaultfd,
        libc::SYS_keyctl,
        libc::SYS_add_key,
        libc::SYS_request_key,
        libc::SYS_unshare,
        libc::SYS_setns,
        libc::SYS_mount,
        libc::SYS_umount2,
        libc::SYS_pivot_root,
        libc::SYS_chroot,
        libc::SYS_open_by_handle_at,
        libc::SYS_kexec_load,
        libc::SYS_init_module,
        libc::SYS_finit_module,
    ];
    compile(always(&calls), libc::EPERM)
}

/// Installed by each request's child. Two programs: threads are allowed (clone with
/// CLONE_THREAD), processes are not; clone3 answers ENOSYS so that glibc falls back to clone,
/// whose flags the filter can inspect.
pub(crate) fn request_filters() -> Result<Vec<BpfProgram>, InterpError> {
    let mut calls =
        vec![libc::SYS_vfork, libc::SYS_execve, libc::SYS_execveat, libc::SYS_setsid, libc::SYS_setpgid];
    #[cfg(target_arch = "x86_64")]
    calls.push(libc::SYS_fork);
    let mut refused = always(&calls);
    let new_process = SeccompCondition::new(
        0,
        SeccompCmpArgLen::Qword,
        SeccompCmpOp::MaskedEq(libc::CLONE_THREAD as u64),
        0,
    )
    .and_then(|condition| SeccompRule::new(vec![condition]))
    .map_err(|e| InterpError::Sandbox(format!("seccomp: {e}")))?;
    refused.insert(libc::SYS_clone, vec![new_process]);
    Ok(vec![compile(refused, libc::EPERM)?, compile(always(&[libc::SYS_clone3]), libc::ENOSYS)?])
}

/// A program as the hex of its `struct sock_filter` array (native byte order), for the
/// worker's child to install with prctl.
pub(crate) fn to_hex(program: &BpfProgram) -> String {
    let mut hex = String::with_capacity(program.len() * 16);
    for instruction in program {
        let mut bytes = Vec::with_capacity(8);
        bytes.extend_from_slice(&instruction.code.to_ne_bytes());
        bytes.push(instruction.jt);
        bytes.push(instruction.jf);
        bytes.extend_from_slice(&instruction.k.to_ne_bytes());
        for byte in bytes {
            let _ = write!(hex, "{byte:02x}");
        }
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_compile_and_serialize_to_whole_instructions() {
        let worker = worker_filter().expect("worker filter");
        assert!(worker.len() > 20);
        let requests = request_filters().expect("request filters");
        assert_eq!(requests.len(), 2);
        for program in &requests {
            assert_eq!(to_hex(program).len(), program.len() * 16);
        }
    }
}
