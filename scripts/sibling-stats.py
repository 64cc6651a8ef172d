#!/usr/bin/env python3
"""How much choice a policy's samples give a step-level search, from the examples of
`arbor train value --estimate siblings` (OUT/round0_examples.jsonl).

    scripts/sibling-stats.py OUT/round0_examples.jsonl [FIRST_N_PROBLEMS]

Per gold state with all k rollouts parsed: whether the k samples wrote one distinct next
step, whether distinct next steps had different outcomes, whether all rollouts were right or
all wrong, and, where the most-sampled next step mostly fails, whether another sampled step
did better.
"""
import collections
import json
import sys


def main():
    path = sys.argv[1]
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else None
    examples = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            try:
                examples.append(json.loads(line))
            except json.JSONDecodeError as e:
                sys.exit(f"{path}:{n}: not a training example ({e})")
    questions = list(dict.fromkeys(e["question"] for e in examples))
    keep = set(questions[:limit] if limit else questions)
    # A rollout's start state is its gold prefix: the leading steps without a value target.
    # The gold example (first per problem, every step valued) lands with the root's rollouts.
    states = collections.defaultdict(list)
    for e in examples:
        if e["question"] not in keep:
            continue
        steps = e["steps"]
        depth = next((i for i, s in enumerate(steps) if s["value"] is not None), len(steps))
        if depth < len(steps):
            states[(e["question"], depth)].append(e)
    k = max((len(g) for (_, d), g in states.items() if d > 0), default=0)
    counted = one = differ = all_right = all_wrong = failing = better = 0
    for (_, depth), group in states.items():
        if depth == 0:
            group = group[1:]  # the gold example
        if len(group) != k:
            continue
        counted += 1
        by_step = collections.defaultdict(list)
        for e in group:
            by_step[e["steps"][depth]["generated"]].append(1 if e["policy"] else -1)
        outcomes = [o for v in by_step.values() for o in v]
        one += len(by_step) == 1
        differ += len({sum(v) / len(v) for v in by_step.values()}) > 1
        all_right += all(o > 0 for o in outcomes)
        all_wrong += all(o < 0 for o in outcomes)
        top, top_outcomes = max(by_step.items(), key=lambda kv: len(kv[1]))
        top_mean = sum(top_outcomes) / len(top_outcomes)
        if top_mean <= 0:
            failing += 1
            better += any(sum(v) / len(v) > top_mean for s, v in by_step.items() if s != top)
    pct = lambda a, b: f"{100 * a / max(b, 1):.0f} %"
    print(f"{len(keep)} problems, {counted} gold states with all {k} rollouts parsed")
    print(f"one distinct next step: {one} ({pct(one, counted)})")
    print(f"distinct next steps with different outcomes: {differ} ({pct(differ, counted)})")
    print(f"all rollouts right: {all_right}; all wrong: {all_wrong}")
    print(f"most-sampled next step mostly fails: {failing}; another sample did better: {better} ({pct(better, failing)})")


if __name__ == "__main__":
    main()
