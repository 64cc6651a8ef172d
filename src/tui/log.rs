//! A line logger to a file: the screen belongs to the UI, so everything worth keeping (model
//! loads, engine errors, batch runs, panics via stderr) goes here.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

static LOG: OnceLock<Mutex<File>> = OnceLock::new();

/// Where the log goes by default: `$XDG_STATE_HOME/arbor/tui.log`, else
/// `~/.local/state/arbor/tui.log`, else `arbor-tui.log` in the temporary directory.
pub fn default_path() -> PathBuf {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")));
    match base {
        Some(b) => b.join("arbor").join("tui.log"),
        None => std::env::temp_dir().join("arbor-tui.log"),
    }
}

/// Opens (appends to) the log file; returns a handle for redirecting stderr.
pub fn open(path: &Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    let clone = file.try_clone()?;
    let _ = LOG.set(Mutex::new(file));
    Ok(clone)
}

/// Writes one line (a no-op before `open`).
pub fn line(message: impl AsRef<str>) {
    let Some(log) = LOG.get() else { return };
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
    if let Ok(mut f) = log.lock() {
        let _ = writeln!(f, "[{secs:.3}] {}", message.as_ref());
    }
}
