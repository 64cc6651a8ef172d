//! Finding the Python interpreter and learning what it needs (paths to read, sympy, numpy).

use std::collections::{BTreeSet, HashMap};
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

use serde::Deserialize;

use super::InterpError;

/// Where the interpreter's name came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PythonSource {
    /// `--python PATH`
    Flag,
    /// The `ARBOR_PYTHON` environment variable.
    Env,
    /// `python3` found on `PATH`.
    Path,
}

impl fmt::Display for PythonSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PythonSource::Flag => "from --python",
            PythonSource::Env => "from ARBOR_PYTHON",
            PythonSource::Path => "python3 on PATH",
        })
    }
}

/// The interpreter to use: `explicit` (`--python`), else `ARBOR_PYTHON`, else `python3`.
pub fn locate_python(explicit: Option<&Path>) -> (OsString, PythonSource) {
    if let Some(path) = explicit {
        return (path.as_os_str().to_owned(), PythonSource::Flag);
    }
    match std::env::var_os("ARBOR_PYTHON") {
        Some(value) if !value.is_empty() => (value, PythonSource::Env),
        _ => (OsString::from("python3"), PythonSource::Path),
    }
}

/// What the probe learned about an interpreter, run the way workers run it.
#[derive(Clone, Debug, PartialEq)]
pub struct PythonInfo {
    /// How it was asked for (`python3`, a path, ...).
    pub requested: String,
    pub source: PythonSource,
    /// The real interpreter binary (`sys.executable`; pyenv shims and the like resolved).
    pub executable: PathBuf,
    pub version: String,
    /// sympy's version, or why it does not import.
    pub sympy: Result<String, String>,
    pub numpy: Option<String>,
    /// `PYTHONUSERBASE` for the workers, when the user's site directory is in use.
    pub user_base: Option<PathBuf>,
    /// Directories the interpreter reads from: prefixes, `sys.path` and those of the shared
    /// libraries it maps. The sandbox allows reading these and nothing else outside its
    /// working directory.
    pub read_dirs: Vec<PathBuf>,
}

impl PythonInfo {
    /// Fails with the exact fix when sympy does not import.
    pub fn require_sympy(&self) -> Result<(), InterpError> {
        match &self.sympy {
            Ok(_) => Ok(()),
            Err(detail) => {
                Err(InterpError::SympyMissing { executable: self.executable.clone(), detail: detail.clone() })
            }
        }
    }
}

/// Resolves and probes the interpreter (once per process and name: the probe imports sympy).
pub fn probe_python(explicit: Option<&Path>) -> Result<PythonInfo, InterpError> {
    static PROBED: OnceLock<Mutex<HashMap<OsString, PythonInfo>>> = OnceLock::new();
    let (command, source) = locate_python(explicit);
    let probed = PROBED.get_or_init(Default::default);
    if let Some(info) = probed.lock().ok().and_then(|map| map.get(&command).cloned()) {
        return Ok(PythonInfo { source, ..info });
    }
    let info = probe_uncached(&command, source)?;
    if let Ok(mut map) = probed.lock() {
        map.insert(command, info.clone());
    }
    Ok(info)
}

/// Asked with the user's environment: which binary `command` really is (a pyenv shim is a
/// shell script that would not run in the sandbox) and where its user site lives.
const RESOLVE_SCRIPT: &str = "import json, site, sys\n\
print(json.dumps({'executable': sys.executable, 'user_base': site.getuserbase(), \
'user_site_used': any(p.startswith(site.getusersitepackages()) for p in sys.path)}))";

/// Asked with the workers' environment: version, packages and every directory it reads.
const PROBE_SCRIPT: &str = r#"
import json, os, sys
out = {"version": sys.version.split()[0], "version_info": list(sys.version_info[:2]),
       "dirs": [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
               + [p for p in sys.path if p],
       "sympy": None, "sympy_error": None, "numpy": None}
try:
    import sympy
    out["sympy"] = sympy.__version__
except Exception as e:
    out["sympy_error"] = "%s: %s" % (type(e).__name__, e)
try:
    import numpy
    out["numpy"] = numpy.__version__
except Exception:
    pass
import ctypes, resource, shutil
with open("/proc/self/maps") as maps:
    for line in maps:
        fields = line.split(None, 5)
        if len(fields) == 6 and fields[5].startswith("/"):
            out["dirs"].append(os.path.dirname(fields[5].strip().replace(" (deleted)", "")))
print(json.dumps(out))
"#;

#[derive(Deserialize)]
struct Resolved {
    executable: String,
    user_base: String,
    user_site_used: bool,
}

#[derive(Deserialize)]
struct Probe {
    version: String,
    version_info: (u32, u32),
    dirs: Vec<PathBuf>,
    sympy: Option<String>,
    sympy_error: Option<String>,
    numpy: Option<String>,
}

fn probe_uncached(command: &OsString, source: PythonSource) -> Result<PythonInfo, InterpError> {
    let requested = command.to_string_lossy().into_owned();
    let resolved: Resolved =
        run_json(Command::new(command).arg("-c").arg(RESOLVE_SCRIPT), &requested, source)?;
    let executable = if resolved.executable.is_empty() {
        PathBuf::from(command)
    } else {
        PathBuf::from(resolved.executable)
    };
    let user_base = resolved.user_site_used.then(|| PathBuf::from(resolved.user_base));

    let mut probe_command = Command::new(&executable);
    probe_command.args(["-B", "-c", PROBE_SCRIPT]).env_clear().envs(worker_env(Path::new("/"), &user_base));
    let probe: Probe = run_json(&mut probe_command, &requested, source)?;
    if probe.version_info < (3, 9) {
        return Err(InterpError::PythonTooOld { executable, version: probe.version });
    }
    let sympy = match probe.sympy {
        Some(version) => Ok(version),
        None => Err(probe.sympy_error.unwrap_or_else(|| "unknown error".into())),
    };
    let mut dirs: BTreeSet<PathBuf> = probe.dirs.into_iter().filter(|d| readable_in_sandbox(d)).collect();
    if let Some(parent) =
        std::fs::canonicalize(&executable).ok().and_then(|p| p.parent().map(Path::to_path_buf))
    {
        dirs.insert(parent);
    }
    if let Some(parent) = executable.parent() {
        dirs.insert(parent.to_path_buf());
    }
    Ok(PythonInfo {
        requested,
        source,
        executable,
        version: probe.version,
        sympy,
        numpy: probe.numpy,
        user_base,
        read_dirs: minimal_cover(dirs),
    })
}

/// Whether a directory the probe reported may be opened to the sandbox. Broad roots are
/// refused even if Python mentioned them (a memfd mapping shows up as a file in `/`): the
/// sandbox would then read the user's files.
fn readable_in_sandbox(dir: &Path) -> bool {
    const TOO_BROAD: [&str; 11] =
        ["/", "/home", "/root", "/tmp", "/var", "/etc", "/proc", "/sys", "/run", "/dev", "/mnt"];
    dir.is_absolute() && !TOO_BROAD.iter().any(|broad| dir == Path::new(broad))
}

/// Drops directories that lie inside another one of the set.
fn minimal_cover(dirs: BTreeSet<PathBuf>) -> Vec<PathBuf> {
    let mut kept: Vec<PathBuf> = Vec::new();
    for dir in dirs {
        if !kept.iter().any(|k| dir.starts_with(k)) {
            kept.push(dir);
        }
    }
    kept
}

fn run_json<T: serde::de::DeserializeOwned>(
    command: &mut Command,
    requested: &str,
    source: PythonSource,
) -> Result<T, InterpError> {
    let output =
        command.stdin(Stdio::null()).stderr(Stdio::piped()).stdout(Stdio::piped()).output().map_err(
            |error| InterpError::PythonNotFound { command: requested.to_owned(), source_kind: source, error },
        )?;
    let probe_error = |detail: String| InterpError::PythonProbe { command: requested.to_owned(), detail };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().last().unwrap_or("").trim();
        return Err(probe_error(format!("it exited with {} ({last})", output.status)));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().unwrap_or("");
    serde_json::from_str(line).map_err(|e| probe_error(format!("unexpected output {line:?}: {e}")))
}

/// The complete environment of a worker: nothing is inherited from arbor's.
pub(crate) fn worker_env(workdir: &Path, user_base: &Option<PathBuf>) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = [
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ("LANG", "C.UTF-8"),
        ("LC_ALL", "C.UTF-8"),
        ("PYTHONIOENCODING", "utf-8"),
        // Same hash seed in every worker: set iteration order, and so observations, repeat.
        ("PYTHONHASHSEED", "0"),
        ("PYTHONDONTWRITEBYTECODE", "1"),
        ("OMP_NUM_THREADS", "1"),
        ("OPENBLAS_NUM_THREADS", "1"),
        ("MKL_NUM_THREADS", "1"),
        ("NUMEXPR_NUM_THREADS", "1"),
        ("MPLBACKEND", "Agg"),
    ]
    .into_iter()
    .map(|(k, v)| (OsString::from(k), OsString::from(v)))
    .collect();
    env.push(("HOME".into(), workdir.as_os_str().to_owned()));
    env.push(("TMPDIR".into(), workdir.as_os_str().to_owned()));
    if let Some(base) = user_base {
        env.push(("PYTHONUSERBASE".into(), base.as_os_str().to_owned()));
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_directories_collapse_into_their_parent() {
        let dirs: BTreeSet<PathBuf> = ["/usr/lib", "/usr/lib/python3.11", "/usr/lib64", "/opt/py"]
            .into_iter()
            .map(PathBuf::from)
            .collect();
        let kept = minimal_cover(dirs);
        assert_eq!(kept, ["/opt/py", "/usr/lib", "/usr/lib64"].map(PathBuf::from));
    }

    #[test]
    fn broad_roots_are_never_opened_to_the_sandbox() {
        assert!(!readable_in_sandbox(Path::new("/")));
        assert!(!readable_in_sandbox(Path::new("/home")));
        assert!(!readable_in_sandbox(Path::new("relative/dir")));
        assert!(readable_in_sandbox(Path::new("/usr/lib/python3.11")));
    }

    #[test]
    fn explicit_path_wins() {
        let (command, source) = locate_python(Some(Path::new("/opt/python")));
        assert_eq!(command, "/opt/python");
        assert_eq!(source, PythonSource::Flag);
    }
}
