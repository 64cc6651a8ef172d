#!/usr/bin/env bash
# Installs llama-cpp-python (with its OpenAI-compatible server) from PyPI into
# .cache/llamacpp-venv. PyPI ships it as source only, so pip compiles llama.cpp with cmake:
# several minutes on 2 cores. Used by `arbor bench model` (llama.cpp figures) and by
# tests/model_llamacpp.rs (skipped when this venv is absent). Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.cache/llamacpp-venv
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import llama_cpp, llama_cpp.server' 2>/dev/null; then
    echo "llama-cpp-python already installed in $venv"
    exit 0
fi
python3 -m venv "$venv"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install 'llama-cpp-python[server]'
"$venv/bin/python" -c 'import llama_cpp; print("llama-cpp-python", llama_cpp.__version__)'
