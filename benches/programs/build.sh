#!/usr/bin/env bash
# Rebuilds the benchmark programs of this folder: every `*.c` becomes a WASI command
# `NAME.wasm`, and gen_large.py's generated C becomes `large.wasm`;
# `simd.c` is built twice (`simd.wasm` with -msimd128, `simd_scalar.wasm` without).
# Needs the zig C toolchain from PyPI: `pip install ziglang`.
set -euo pipefail
cd "$(dirname "$0")"
cc=(python3 -m ziglang cc --target=wasm32-wasi -O2 -g0 -Wl,--strip-debug)

# The large module's C source is generated, compiled and thrown away.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 gen_large.py > "$tmp/large.c"
"${cc[@]}" -I. -o large.wasm "$tmp/large.c"

for src in *.c; do
    name="${src%.c}"
    if [ "$name" = simd ]; then
        "${cc[@]}" -msimd128 -o simd.wasm simd.c
        "${cc[@]}" -o simd_scalar.wasm simd.c
    else
        "${cc[@]}" -o "$name.wasm" "$src"
    fi
done
ls -l ./*.wasm
