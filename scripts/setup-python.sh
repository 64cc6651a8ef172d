#!/usr/bin/env bash
# Makes sure a Python 3 that imports sympy exists and prints its path (nothing else on stdout):
#
#   export ARBOR_PYTHON=$(scripts/setup-python.sh)
#
# Order: $ARBOR_PYTHON if it imports sympy; else python3 on PATH if it does; else the venv
# .cache/venv of this checkout, made (python3 -m venv) and filled (pip install sympy) when
# missing. Idempotent: a second run only checks. Options:
#   --venv     use (and make if needed) .cache/venv even if another Python has sympy
#   --numpy    also install numpy into the venv (optional for arbor)
set -euo pipefail
cd "$(dirname "$0")/.."

force_venv=0
with_numpy=0
for arg in "$@"; do
  case "$arg" in
    --venv) force_venv=1 ;;
    --numpy) with_numpy=1 ;;
    *) echo "setup-python: unknown option $arg (use --venv, --numpy)" >&2; exit 2 ;;
  esac
done

log() { echo "setup-python: $*" >&2; }
has_sympy() { "$1" -c 'import sympy' >/dev/null 2>&1; }
# The real binary behind a name (pyenv shims are shell scripts).
real_path() { "$1" -c 'import sys; print(sys.executable)'; }

if [ "$force_venv" = 0 ]; then
  for candidate in "${ARBOR_PYTHON:-}" python3; do
    if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 && has_sympy "$candidate"; then
      real_path "$candidate"
      exit 0
    fi
  done
fi

venv=$PWD/.cache/venv
if ! [ -x "$venv/bin/python" ]; then
  command -v python3 >/dev/null 2>&1 || { log "no python3 on PATH: install Python 3.9+ first"; exit 1; }
  log "making $venv"
  python3 -m venv "$venv" >&2 || {
    log "python3 -m venv failed; on Debian/Ubuntu: apt-get install python3-venv"
    exit 1
  }
fi
packages=(sympy)
[ "$with_numpy" = 1 ] && packages+=(numpy)
missing=()
for package in "${packages[@]}"; do
  "$venv/bin/python" -c "import $package" >/dev/null 2>&1 || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]} into $venv"
  # Let pip compile .pyc files: without them every sympy import costs over a second.
  env -u PYTHONDONTWRITEBYTECODE "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${missing[@]}" >&2
fi
has_sympy "$venv/bin/python" || { log "sympy still does not import with $venv/bin/python"; exit 1; }
echo "$venv/bin/python"
