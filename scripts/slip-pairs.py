#!/usr/bin/env python3
"""Whether a value head tells a gold step from its corrupted copies, on the examples of
`arbor train value --estimate corrupted` (OUT/round0_examples.jsonl), asking a model served
by `arbor serve` for its values.

    arbor serve --model MODEL --port 8711 &
    scripts/slip-pairs.py OUT/round0_examples.jsonl http://127.0.0.1:8711 [--train N]

By default it reads the held-out problems (every tenth question in order of first
appearance, the problems `arbor train value` validates on); `--train N` reads instead the
training problems among the first N questions. Per kind of state (gold, a corrupted code
step, a corrupted final answer): how many, the mean squared error of the head's value
against the example's target, and for the copies how often the gold step at the same depth
of the same problem gets the higher value.
"""
import json
import sys
import urllib.request


def state_prompt(question, steps):
    """The search's `react_sft` prompt for the state after `steps` (as arbor builds it)."""
    partial = "\n".join(s["generated"] + s["observed"] for s in steps)
    return f"<question> {question} </question>\n" + (partial + "\n" if partial else "")


def values(url, prompts):
    out = []
    for i in range(0, len(prompts), 32):
        body = json.dumps({"prompts": prompts[i : i + 32]}).encode()
        req = urllib.request.Request(url + "/v1/values", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as resp:
            out += json.loads(resp.read())["values"]
    return out


def main():
    path, url = sys.argv[1], sys.argv[2].rstrip("/")
    train_n = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--train" else None
    examples = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            try:
                examples.append(json.loads(line))
            except json.JSONDecodeError as e:
                sys.exit(f"{path}:{number}: {e}")
    order = list(dict.fromkeys(e["question"] for e in examples))
    if train_n is None:
        chosen = {q for i, q in enumerate(order) if (i + 1) % 10 == 0}
    else:
        chosen = {q for i, q in enumerate(order[:train_n]) if (i + 1) % 10 != 0}
    gold, copies = {}, []
    for e in examples:
        if e["question"] not in chosen:
            continue
        if e["policy"] and e["root_value"] is not None and e["question"] not in gold:
            gold[e["question"]] = e  # the gold path comes first among a problem's examples
        elif not e["policy"] and e["root_value"] is None:
            copies.append(e)
    items = []  # (kind, question, depth, prompt, target)
    for q, g in gold.items():
        for d, step in enumerate(g["steps"]):
            items.append(("gold", q, d, state_prompt(q, g["steps"][: d + 1]), step["value"]))
    for c in copies:
        last = c["steps"][-1]
        kind = "final copy" if "Final Answer:" in last["generated"] else "code copy"
        items.append((kind, c["question"], len(c["steps"]) - 1, state_prompt(c["question"], c["steps"]), last["value"]))
    got = values(url, [it[3] for it in items])
    gold_value = {(it[1], it[2]): v for it, v in zip(items, got) if it[0] == "gold"}
    for kind in ("gold", "code copy", "final copy"):
        rows = [(it, v) for it, v in zip(items, got) if it[0] == kind]
        if not rows:
            continue
        mse = sum((v - it[4]) ** 2 for it, v in rows) / len(rows)
        line = f"{kind:<11} {len(rows):>5} states  MSE {mse:.3f}"
        if kind != "gold":
            pairs = [(gold_value[(it[1], it[2])], v) for it, v in rows if (it[1], it[2]) in gold_value]
            above = sum(g > v for g, v in pairs)
            line += f"  gold step valued higher in {above}/{len(pairs)} ({100 * above / max(len(pairs), 1):.0f} %)"
        print(line)


if __name__ == "__main__":
    main()
