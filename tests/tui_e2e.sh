#!/usr/bin/env bash
# The terminal UI end to end, the way a new user would try it: the real binary in tmux, driven
# with send-keys and read with capture-pane. Pick a problem, run SBS, open a node, compare
# siblings and two paths, open a saved tree and re-select its answer, start a batch, cancel
# it, resume it to the end.
#
#   tests/tui_e2e.sh ARBOR_BINARY WORK_DIR [REPO_DIR]
#
# Prints every screen it checks (the tour); exits non-zero with the screen on the first
# failure. Uses its own tmux server (-L), killed on exit. Needs tmux.
set -euo pipefail
ARBOR=$(realpath "$1")
WORK=$(realpath "$2")
REPO=$(realpath "${3:-$(dirname "$0")/..}")
SOCKET="arbor-e2e-$$"
T=(tmux -L "$SOCKET")
export TERM=xterm-256color
trap '"${T[@]}" kill-server >/dev/null 2>&1 || true' EXIT
cd "$WORK"

for i in $(seq 1 48); do
  echo "{\"question\": \"What is 6 times 7? (copy $i)\", \"answer\": \"42\", \"level\": \"Level 1\"}"
done > toy.jsonl

screen() { "${T[@]}" capture-pane -p -t "$1"; }

# wait_for SESSION TEXT [SECONDS]: until the screen shows TEXT.
wait_for() {
  local session=$1 text=$2 limit=${3:-30}
  local tries=$((limit * 5))
  for _ in $(seq 1 "$tries"); do
    if screen "$session" | grep -qF -- "$text"; then return 0; fi
    sleep 0.2
  done
  echo "FAILED: '$text' did not appear on $session within ${limit}s; the screen:" >&2
  screen "$session" >&2
  echo "--- log:" >&2
  tail -n 20 "$WORK/tui.log" >&2 || true
  exit 1
}

# wait_re SESSION REGEX [SECONDS]: until the screen matches REGEX (grep -E).
wait_re() {
  local session=$1 re=$2 limit=${3:-30}
  for _ in $(seq 1 $((limit * 5))); do
    if screen "$session" | grep -qE -- "$re"; then return 0; fi
    sleep 0.2
  done
  echo "FAILED: /$re/ did not match $session within ${limit}s; the screen:" >&2
  screen "$session" >&2
  exit 1
}

show() {
  echo
  echo "==== $2"
  screen "$1"
}

keys() { "${T[@]}" send-keys -t "$@"; }

# restored SESSION HOW: arbor exited and left the alternate screen (the pane's shell stays).
restored() {
  for _ in $(seq 1 50); do
    if [ "$("${T[@]}" display -p -t "$1" '#{alternate_on}')" = 0 ]; then
      echo "terminal restored after $2"
      return 0
    fi
    sleep 0.2
  done
  echo "FAILED: the terminal is still in the alternate screen after $2" >&2
  exit 1
}

# Escape alone: a key right after it would read as Alt+key.
esc() {
  "${T[@]}" send-keys -t "$1" Escape
  sleep 0.6
}

start() {
  local session=$1; shift
  "${T[@]}" new-session -d -s "$session" -x 120 -y 36 -c "$WORK" "$ARBOR $* --log $WORK/tui.log; sleep 600"
}

# ---- 1. The picker: filter, choose SBS, start.
start live --demo --demo-delay-ms 120 --data toy.jsonl --only-data
wait_re live "Problems [0-9]+/[0-9]+"
show live "the problem picker"
keys live /
keys live -l "toy.jsonl copy 12)"
wait_for live "filter: toy.jsonl copy 12)"
keys live Enter
wait_for live "Problems 1/"
wait_for live "What is 6 times 7? (copy 12)"
wait_for live " SBS "
show live "filtered to one problem; SBS is the chosen algorithm"
keys live Enter

# ---- 2. The live tree grows, then SBS finishes.
wait_for live "SBS · demo"
wait_for live "finished" 60
show live "SBS finished: the tree, the best path (★), the answer against the ground truth"

# ---- 3. Open a node: the inspector zoomed.
keys live g j Enter
wait_for live "Thought"
wait_for live "depth 1"
show live "a node opened: thought, code, output, answer, V/Q/N/prior"
esc live

# ---- 4. Siblings side by side, then two marked paths compared.
keys live c
wait_for live "siblings  rank by Q"
show live "the selected node's siblings with V, Q, N and prior bars"
keys live m j m d
wait_for live "shared steps"
show live "two marked nodes, their paths compared step by step"
"${T[@]}" resize-window -t live -x 90 -y 28
sleep 1
wait_re live "└ i inspector  c siblings  d compare ─+┘$"
show live "resized to 90x28"
"${T[@]}" resize-window -t live -x 120 -y 36
sleep 0.5

# ---- 5. MCTS with the controls: start paused work, step, run N, cancel.
keys live 1
esc live
keys live a
wait_for live " MCTS "
keys live Enter
wait_for live "MCTS · demo"
keys live Space
wait_for live "paused" 30
keys live s
sleep 1
show live "MCTS paused after a step"
keys live P
wait_for live "▸ PUCT path"
show live "the node PUCT selects next, with the PUCT breakdown"
keys live x
wait_for live "finished" 30
keys live q
wait_for live "" 5

# ---- 6. A saved tree: the list, one tree, re-selection with another strategy.
start saved view "$REPO/sample_trees/large_mcts.jsonl"
wait_for saved "1 trees"
wait_for saved "1201"
show saved "arbor view: the file's problems with correctness, answer and node count"
keys saved Enter
wait_for saved "re-selection: q_value, pruned"
show saved "the saved tree with the inspector"
keys saved o
wait_for saved "re-selection: value, pruned"
keys saved o
wait_for saved "re-selection: visit_count, pruned"
show saved "re-selected by visit count"
keys saved q

# ---- 7. A batch: start, cancel, resume to the end.
start batch --demo --demo-delay-ms 200 --data toy.jsonl --only-data
wait_re batch "Problems [0-9]+/[0-9]+"
keys batch 4
wait_for batch "Batch run"
show batch "the batch panel"
keys batch s
wait_for batch "running" 30
wait_re batch "accuracy [0-9]" 30
keys batch x
wait_for batch "cancelled" 60
show batch "the batch cancelled; the trees so far are written"
written=$(grep -c . arbor-batch.jsonl)
if [ "$written" -ge 48 ]; then
  echo "FAILED: the cancelled batch wrote all $written trees" >&2
  exit 1
fi
keys batch s
wait_for batch "already in the file $written" 30
wait_for batch "done" 120
show batch "resumed to the end; the results table"
lines=$(grep -c . arbor-batch.jsonl)
if [ "$lines" -ne 48 ]; then
  echo "FAILED: expected 48 trees after resuming, found $lines" >&2
  exit 1
fi
"$ARBOR" score --trees arbor-batch.jsonl >/dev/null
keys batch q
restored batch "q"

# ---- 8. SIGTERM restores the terminal too.
start sig --demo
wait_re sig "Problems [0-9]+/[0-9]+"
kill -TERM "$(pgrep -P "$("${T[@]}" display -p -t sig '#{pane_pid}')" arbor)"
restored sig "SIGTERM"
grep -q "signal received; restoring the terminal" tui.log

# ---- 9. A terminal that goes away (the tmux session killed, an ssh link dropped) ends arbor:
# an orphan must neither linger nor spin on the dead terminal.
start hup --demo
wait_re hup "Problems [0-9]+/[0-9]+"
orphan=$(pgrep -P "$("${T[@]}" display -p -t hup '#{pane_pid}')" arbor)
"${T[@]}" kill-session -t hup
# Gone, or a zombie nobody reaps (a container's init may not).
ended() { ! kill -0 "$1" 2>/dev/null || awk '{exit $3 != "Z"}' "/proc/$1/stat" 2>/dev/null; }
for _ in $(seq 1 50); do
  if ended "$orphan"; then break; fi
  sleep 0.2
done
if ! ended "$orphan"; then
  echo "FAILED: arbor (pid $orphan) still runs 10 s after its terminal went away" >&2
  ps -o pid,pcpu,stat,cmd -p "$orphan" >&2 || true
  kill -9 "$orphan" 2>/dev/null || true
  exit 1
fi
echo
echo "==== the terminal went away: arbor exited"
echo
echo "tui e2e: every step passed ($written trees before the cancel, 48 after the resume)"
