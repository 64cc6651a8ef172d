#!/usr/bin/env bash
# The AlphaMath-README-style table for a model on the shipped synthetic test split:
# greedy, maj@5, SBS(1,5), SBS(3,5), MCTS N=40 (accuracy, time, steps).
#   scripts/eval-bundled.sh [N_PROBLEMS] [MODEL] [OUT_DIR]
# Defaults: 100 problems (20 per level), assets/model/synth, runs/eval. Searches run 16
# problems at a time; "wall s/problem" is the run's wall-clock time divided by N.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100}
model=${2:-assets/model/synth}
out=${3:-runs/eval}
ARBOR_PYTHON=${ARBOR_PYTHON:-$(scripts/setup-python.sh)}
export ARBOR_PYTHON
arbor=./target/release/arbor
data=assets/datasets/synth_test.jsonl
mkdir -p "$out"
run() { # name, eval args...
  local name=$1; shift
  local file="$out/$name.jsonl"
  if [ ! -s "$file" ]; then
    local t0; t0=$(date +%s.%N)
    $arbor eval --data "$data" --limit "$n" --model "$model" --out "$file" "$@" 2>"$out/$name.log"
    python3 -c "import sys,time; print(time.time() - float(sys.argv[1]))" "$t0" > "$out/$name.wall"
  fi
}
run greedy --config greedy
run maj5 --config greedy --set temperature=0.6 --runs 5
run sbs15 --config sbs
run sbs35 --config sbs --set step_beam_width=3
run mcts40 --config mcts
echo "| method | accuracy | wall s/problem | avg s/search | avg steps | problems |"
echo "|---|---|---|---|---|---|"
for name in greedy maj5 sbs15 sbs35 mcts40; do
  file="$out/$name.jsonl"
  json=$($arbor score --trees "$file" --json)
  wall=$(cat "$out/$name.wall")
  python3 - "$name" "$json" "$wall" "$n" <<'PY'
import json, sys
name, j, wall, n = sys.argv[1], json.loads(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
label = {"greedy": "Greedy", "maj5": "Maj@5", "sbs15": "SBS (1,5)", "sbs35": "SBS (3,5)", "mcts40": "MCTS (N=40)"}[name]
acc = j["maj"]["accuracy"] if name == "maj5" and j.get("maj") else j["accuracy"]
steps = j.get("avg_steps")
print(f"| {label} | {100*acc:.1f}% | {wall/n:.2f} | {j.get('avg_seconds') or 0:.2f} | {steps if steps is None else round(steps, 2)} | {n} |")
PY
done
