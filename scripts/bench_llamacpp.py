"""Prefill and decode speed of a GGUF file under llama.cpp (llama-cpp-python), batch 1.

Called by `arbor bench model`; prints one JSON line {"batch", "prefill_tok_s", "decode_tok_s"}.
The prompt is tokenised by llama.cpp and cut or repeated to --prompt-tokens; decoding samples
with temperature 1 (like arbor's figure) and does not stop at EOS.
"""
import argparse
import json
import time

from llama_cpp import Llama

ap = argparse.ArgumentParser()
ap.add_argument("--model", required=True)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--prompt-tokens", type=int, default=256)
ap.add_argument("--decode-tokens", type=int, default=64)
ap.add_argument("--prompt", default="Question: 3 + 5 = ?")
args = ap.parse_args()

llm = Llama(model_path=args.model, n_threads=args.threads, n_threads_batch=args.threads,
            n_ctx=args.prompt_tokens + args.decode_tokens + 16, n_batch=512, seed=1, verbose=False)
tokens = []
while len(tokens) < args.prompt_tokens:
    tokens += llm.tokenize(args.prompt.encode(), add_bos=False, special=True)
tokens = tokens[: args.prompt_tokens]


def prefill():
    llm.reset()
    start = time.perf_counter()
    llm.eval(tokens)
    return time.perf_counter() - start


prefill()  # warm-up
times = sorted(prefill() for _ in range(3))
prefill_tok_s = len(tokens) / times[1]

prefill()
start = time.perf_counter()
for _ in range(args.decode_tokens):
    tok = llm.sample(temp=1.0, top_k=0, top_p=1.0, min_p=0.0)
    llm.eval([tok])
decode_tok_s = args.decode_tokens / (time.perf_counter() - start)
print(json.dumps({"batch": 1, "prefill_tok_s": prefill_tok_s, "decode_tok_s": decode_tok_s}))
