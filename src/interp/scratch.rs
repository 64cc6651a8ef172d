//! The pool's scratch directory (one working directory per worker), removed afterwards, even
//! when arbor died without cleaning up.

use std::fs::File;
use std::path::Path;

use rustix::fs::FlockOperation;

use super::InterpError;

const PREFIX: &str = "arbor-interp-";
const LOCK: &str = ".lock";

/// A temporary directory held under an exclusive `flock` for as long as the pool lives. A new
/// pool removes directories of earlier pools whose lock is free: their process is gone (a
/// crash, a kill, or a pool kept in a `static` that was never dropped).
pub(crate) struct Scratch {
    dir: tempfile::TempDir,
    _lock: File,
}

impl Scratch {
    pub(crate) fn new() -> Result<Scratch, InterpError> {
        let fail = |what: &str, e: std::io::Error| InterpError::Sandbox(format!("{what}: {e}"));
        remove_abandoned(&std::env::temp_dir());
        let dir = tempfile::Builder::new()
            .prefix(PREFIX)
            .tempdir()
            .map_err(|e| fail("cannot make a scratch directory", e))?;
        let lock =
            File::create(dir.path().join(LOCK)).map_err(|e| fail("cannot make the scratch lock", e))?;
        rustix::fs::flock(&lock, FlockOperation::NonBlockingLockExclusive)
            .map_err(|e| fail("cannot lock the scratch directory", e.into()))?;
        Ok(Scratch { dir, _lock: lock })
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Removes `arbor-interp-*` directories in `temp` whose lock nobody holds.
fn remove_abandoned(temp: &Path) {
    let Ok(entries) = std::fs::read_dir(temp) else { return };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(PREFIX) {
            continue;
        }
        let Ok(lock) = File::open(entry.path().join(LOCK)) else { continue };
        if rustix::fs::flock(&lock, FlockOperation::NonBlockingLockExclusive).is_ok() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abandoned_directories_go_and_live_ones_stay() {
        let temp = tempfile::tempdir().expect("tempdir");
        let abandoned = temp.path().join(format!("{PREFIX}old"));
        std::fs::create_dir_all(abandoned.join("w0")).expect("mkdir");
        File::create(abandoned.join(LOCK)).expect("lock file");
        let live = temp.path().join(format!("{PREFIX}live"));
        std::fs::create_dir(&live).expect("mkdir");
        let held = File::create(live.join(LOCK)).expect("lock file");
        rustix::fs::flock(&held, FlockOperation::NonBlockingLockExclusive).expect("lock");
        let unrelated = temp.path().join("other");
        std::fs::create_dir(&unrelated).expect("mkdir");

        remove_abandoned(temp.path());
        assert!(!abandoned.exists());
        assert!(live.exists());
        assert!(unrelated.exists());
    }
}
