#!/usr/bin/env bash
# Rebuilds the WebAssembly test programs of this folder from their C sources.
# Needs the zig C toolchain from PyPI: `pip install ziglang`.
set -euo pipefail
cd "$(dirname "$0")"
cc=(python3 -m ziglang cc)

# Freestanding modules (no imports), called with `tierup run --invoke`.
"${cc[@]}" --target=wasm32-freestanding -O2 -nostdlib -Wl,--no-entry \
    -Wl,--export=run -Wl,--export=energy -Wl,--export=advance \
    -o nbody.wasm nbody.c
