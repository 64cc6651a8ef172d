#!/usr/bin/env bash
# One command from a fresh clone to a search you can look at: sets up Python (sympy), builds
# arbor, runs step-level beam search SBS(3,5) with the bundled model (assets/model/synth, trained
# by arbor on its synthetic domain; no download) on a problem of the shipped test split, and
# prints the tree.   scripts/quickstart.sh [PROBLEM_INDEX]   (0-499, default 31: one this small model solves with SBS(3,5); most it does not, see the README)
set -euo pipefail
cd "$(dirname "$0")/.."
ARBOR_PYTHON=$(scripts/setup-python.sh)
export ARBOR_PYTHON
cargo build --release --locked
index=${1:-31}
data=assets/datasets/synth_test.jsonl
question=$("$ARBOR_PYTHON" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readlines()[int(sys.argv[2])])["question"])' "$data" "$index")
answer=$("$ARBOR_PYTHON" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readlines()[int(sys.argv[2])])["answer"])' "$data" "$index")
out=$(mktemp -d)/tree.jsonl
./target/release/arbor solve --question "$question" --answer "$answer" \
  --model assets/model/synth --config sbs --set step_beam_width=3 --out "$out"
./target/release/arbor inspect --trees "$out" --width "${COLUMNS:-100}"
echo
echo "tree written to $out; other problems: scripts/quickstart.sh 12; all methods: scripts/eval-bundled.sh"
