#!/usr/bin/env python3
"""How well the values in search trees rank states on a gold solution's track above the
others, for synthetic problems with gold solutions (`arbor synth`).

    scripts/value-ranking.py PROBLEMS.jsonl TREES.jsonl [TREES.jsonl ...]

A state is on track while every number its code printed is one of the gold solution's
intermediate results and, for a final step, its answer is the gold answer (the labels of
`arbor train value --estimate process`). Per tree file it prints:
- depth pairs: of the pairs of states at the same depth of a tree, one on track and one not,
  the share where the on-track state has the higher value (ties count half);
- sibling pairs: the same among children of one state;
- top 3: of the depths holding both kinds, how many have an on-track state among the three
  highest values (the states step-level beam search with beam width 3 keeps).
A process oracle scores 1.0 on both pair measures; a head that ranks at random 0.5.
"""
import sys
from collections import defaultdict

from gold_track import OUTPUT, load_gold, number, read_jsonl


def on_track(nodes, printed, answer):
    """tag -> whether the state is on the gold track (a tag's parent is its prefix)."""
    on = {"0": True}
    for tag in sorted(nodes, key=lambda t: (t.count("."), t)):
        if tag == "0":
            continue
        node, ok = nodes[tag], on.get(tag.rsplit(".", 1)[0], False)
        if node.get("final_answer"):
            ok = ok and number(node["final_answer"]) == answer
        else:
            outputs = OUTPUT.findall(node.get("text", ""))
            values = [number(x) for x in outputs[-1].split("\n")] if outputs else []
            ok = ok and bool(values) and all(v in printed for v in values)
        on[tag] = ok
    return on


def pair_share(groups):
    pairs, right = 0, 0.0
    for states in groups:
        for a, a_on in states:
            for b, b_on in states:
                if a_on and not b_on:
                    pairs += 1
                    right += 1.0 if a > b else 0.5 if a == b else 0.0
    return right, pairs


def rank(tracks, trees_path):
    depth_right = depth_pairs = sib_right = sib_pairs = mixed = kept = missing = 0
    for tree in read_jsonl(trees_path):
        question = str(tree.get("question", "")).strip()
        if question not in tracks:
            missing += 1
            continue
        printed, answer = tracks[question]
        nodes = {t: n for t, n in tree["react"].items() if isinstance(n, dict)}
        on = on_track(nodes, printed, answer)
        by_depth, by_parent = defaultdict(list), defaultdict(list)
        for tag, node in nodes.items():
            if tag != "0" and isinstance(node.get("value"), (int, float)):
                by_depth[tag.count(".")].append((node["value"], on[tag]))
                by_parent[tag.rsplit(".", 1)[0]].append((node["value"], on[tag]))
        r, p = pair_share(by_depth.values())
        depth_right, depth_pairs = depth_right + r, depth_pairs + p
        r, p = pair_share(by_parent.values())
        sib_right, sib_pairs = sib_right + r, sib_pairs + p
        for states in by_depth.values():
            if any(o for _, o in states) and not all(o for _, o in states):
                mixed += 1
                kept += any(o for _, o in sorted(states, key=lambda s: -s[0])[:3])
    share = lambda r, p: f"{r / p:.3f} of {p}" if p else "none"
    note = f" ({missing} trees of unknown problems skipped)" if missing else ""
    print(f"{trees_path}: depth pairs {share(depth_right, depth_pairs)}; "
          f"sibling pairs {share(sib_right, sib_pairs)}; top 3 {kept}/{mixed}{note}")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    tracks = load_gold(sys.argv[1])
    for path in sys.argv[2:]:
        rank(tracks, path)


if __name__ == "__main__":
    main()
