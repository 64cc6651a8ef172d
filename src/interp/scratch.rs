//! The pool's scratch directory (one working directory per worker), removed afterwards, even
//! when arbor died without cleaning up.

use std::fs::File;
use std::path::Path;

use rustix::fs::FlockOperation;

use super::InterpError;

const PREFIX: &str = "arbor-interp-";
const LOCK: &str = ".lock";
const ATTEMPTS: usize = 5;

/// A temporary directory held under an exclusive `flock` for as long as the pool lives. A new
/// pool removes directories of earlier pools whose lock is free: their process is gone (a
/// crash, a kill, or a pool kept in a `static` that was never dropped).
pub(crate) struct Scratch {
    dir: tempfile::TempDir,
    _lock: File,
}

impl Scratch {
    pub(crate) fn new() -> Result<Scratch, InterpError> {
        Scratch::new_in(&std::env::temp_dir())
    }

    fn new_in(temp: &Path) -> Result<Scratch, InterpError> {
        remove_abandoned(temp);
        // Another pool's sweep can take the lock in the moment between our creating the lock
        // file and locking it, and remove the directory. The blocking lock waits for that sweep
        // to finish; then the lock file we hold is no longer the one in the directory, so try
        // again with a new directory.
        for _ in 0..ATTEMPTS {
            if let Some(scratch) = Scratch::try_new_in(temp)? {
                return Ok(scratch);
            }
        }
        Err(InterpError::Sandbox(format!(
            "cannot keep a scratch directory in {}: removed {ATTEMPTS} times while being made",
            temp.display()
        )))
    }

    /// A locked scratch directory, or `None` when a sweep removed it before we held its lock.
    fn try_new_in(temp: &Path) -> Result<Option<Scratch>, InterpError> {
        let fail = |what: &str, e: std::io::Error| InterpError::Sandbox(format!("{what}: {e}"));
        let dir = tempfile::Builder::new()
            .prefix(PREFIX)
            .tempdir_in(temp)
            .map_err(|e| fail("cannot make a scratch directory", e))?;
        let lock_path = dir.path().join(LOCK);
        let lock = File::create(&lock_path).map_err(|e| fail("cannot make the scratch lock", e))?;
        rustix::fs::flock(&lock, FlockOperation::LockExclusive)
            .map_err(|e| fail("cannot lock the scratch directory", e.into()))?;
        let held = rustix::fs::fstat(&lock).map_err(|e| fail("cannot stat the scratch lock", e.into()))?;
        let still_ours = rustix::fs::stat(&lock_path)
            .is_ok_and(|now| (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino));
        Ok(still_ours.then_some(Scratch { dir, _lock: lock }))
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
            // Removed while we hold the lock, so a pool that is making this directory waits and
            // then sees that its lock file is gone.
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

    #[test]
    fn pools_made_at_once_keep_their_directories_from_each_others_sweeps() {
        let temp = tempfile::tempdir().expect("tempdir");
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..200 {
                        let scratch = Scratch::new_in(temp.path()).expect("scratch");
                        std::fs::create_dir(scratch.path().join("w0")).expect("the directory is still there");
                    }
                });
            }
        });
    }
}
