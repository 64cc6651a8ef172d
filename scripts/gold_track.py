"""The gold track of `arbor synth` problems, shared by scripts/oracle-values.py and
scripts/value-ranking.py: a state is on it while every number it printed is one of the gold
solution's intermediate results and its final answer, if any, is the gold answer."""
import json
import re
import sys

OUTPUT = re.compile(r"<output>\n(.*?)\n</output>", re.S)


def number(text):
    """A printed or stated number, rounded so that equal results compare equal; else None."""
    try:
        return round(float(text.strip().replace(",", "")), 6)
    except ValueError:
        return None


def read_jsonl(path):
    """The records of a JSONL file; a line that is not JSON ends the script naming file:line."""
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as e:
                    sys.exit(f"{path}:{n}: not JSON ({e})")


def load_gold(path):
    """question (stripped) -> (the gold solution's printed results, the gold answer)."""
    gold = {}
    for record in read_jsonl(path):
        printed = {number(o) for o in OUTPUT.findall(record["solution"])} - {None}
        gold[record["question"].strip()] = (printed, number(str(record["answer"])))
    return gold
