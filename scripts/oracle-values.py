#!/usr/bin/env python3
"""A process-oracle value server for synthetic problems: the ceiling a perfect step verifier
would give a search. It answers arbor's `/v1/values` ({"prompts": [...]} -> {"values": [...]})
with +1 for a state whose every printed output is one of the gold solution's intermediate
results and whose final answer, if any, is right, and -1 otherwise (0 for a question it does
not know). It reads the gold solutions from an `arbor synth` problem file.

    scripts/oracle-values.py PROBLEMS.jsonl PORT &
    # the policy, served without its own head so the oracle's values are used:
    cp -r assets/model/synth /tmp/policy && sed -i 's/"value_model": *true/"value_model": false/' /tmp/policy/config.json
    arbor serve --model /tmp/policy --port 8791 &
    arbor eval --data PROBLEMS.jsonl --model http://127.0.0.1:8791 --value-url http://127.0.0.1:PORT \\
        --config sbs --set step_beam_width=3 --out oracle.jsonl
"""
import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from gold_track import OUTPUT, load_gold, number

FINAL = re.compile(r"Final Answer:\s*(.*?)\n")
QUESTION = re.compile(r"<question> (.*?) </question>\n", re.S)


def oracle_value(gold, prompt):
    m = QUESTION.match(prompt)
    if not m or m.group(1).strip() not in gold:
        return 0.0
    outputs, answer = gold[m.group(1).strip()]
    partial = prompt[m.end():]
    final = FINAL.search(partial)
    if final:
        said = number(final.group(1))
        return 1.0 if said is not None and answer is not None and abs(said - answer) < 1e-6 else -1.0
    printed = [number(x) for x in OUTPUT.findall(partial)]
    return 1.0 if all(p is not None and p in outputs for p in printed) else -1.0


def main():
    gold = load_gold(sys.argv[1])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            out = json.dumps({"values": [oracle_value(gold, p) for p in body["prompts"]]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args):
            pass

    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), Handler).serve_forever()


if __name__ == "__main__":
    main()
