#!/usr/bin/env bash
# Rebuilds the WASI test programs of this folder (C, wasm32-wasi command modules) from
# their sources. Needs the zig C toolchain from PyPI: `pip install ziglang`.
# The DWARF sections are dropped; the name section stays, for backtraces with names.
set -euo pipefail
cd "$(dirname "$0")"
strip_dwarf() {
    python3 - "$1" <<'PY'
import sys

def leb(data, i):
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i

path = sys.argv[1]
data = open(path, "rb").read()
out, i = bytearray(data[:8]), 8
while i < len(data):
    start = i
    section_id = data[i]
    size, body = leb(data, i + 1)
    end = body + size
    if section_id == 0:
        name_len, name_at = leb(data, body)
        if data[name_at:name_at + name_len].startswith(b".debug"):
            i = end
            continue
    out += data[start:end]
    i = end
open(path, "wb").write(out)
PY
}
for src in *.c; do
    python3 -m ziglang cc --target=wasm32-wasi -O2 -o "${src%.c}.wasm" "$src"
    strip_dwarf "${src%.c}.wasm"
done
