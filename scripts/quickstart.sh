#!/usr/bin/env bash
# One command from a fresh clone to the main job: sets up Python (sympy), builds arbor, and opens
# the terminal UI on the shipped synthetic test problems with the bundled model
# (assets/model/synth, trained by arbor itself; no download). Pick a problem, choose SBS or MCTS,
# press enter and watch the tree grow.
#
# Without a terminal (stdout piped, CI) it runs SBS(3,5) on one shipped problem instead and
# prints the tree.   scripts/quickstart.sh [PROBLEM_INDEX]   (0-499, default 31)
set -euo pipefail
cd "$(dirname "$0")/.."
ARBOR_PYTHON=$(scripts/setup-python.sh)
export ARBOR_PYTHON
cargo build --release --locked
data=assets/datasets/synth_test.jsonl
if [ -t 0 ] && [ -t 1 ]; then
  exec ./target/release/arbor --data "$data"
fi
index=${1:-31}
field() { "$ARBOR_PYTHON" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readlines()[int(sys.argv[2])])[sys.argv[3]])' "$data" "$index" "$1"; }
out=$(mktemp -d)/tree.jsonl
./target/release/arbor solve --question "$(field question)" --answer "$(field answer)" \
  --model assets/model/synth --config sbs --set step_beam_width=3 --out "$out"
./target/release/arbor inspect --trees "$out" --width "${COLUMNS:-100}"
echo
echo "tree written to $out; the UI: ./target/release/arbor; all methods: scripts/eval-bundled.sh"
