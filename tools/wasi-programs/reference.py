#!/usr/bin/env python3
"""Runs a WASI command program with the reference engine (the `wasmtime` PyPI package,
installed by `install` next to the programs), with the same options as `tierup run`:

    reference.py [--dir HOST[::GUEST]]... [--env NAME=VAL]... FILE.wasm [ARGS...]

Exits with the program's exit status, so its output and status can be compared with
tierup's."""
import sys

import wasmtime


def main(argv):
    dirs, envs = [], []
    while argv and argv[0].startswith("--"):
        opt = argv.pop(0)
        if opt == "--dir":
            spec = argv.pop(0)
            host, _, guest = spec.partition("::")
            dirs.append((host, guest or host))
        elif opt == "--env":
            name, _, value = argv.pop(0).partition("=")
            envs.append((name, value))
        else:
            sys.exit(f"unknown option {opt}")
    if not argv:
        sys.exit(__doc__)
    engine = wasmtime.Engine()
    module = wasmtime.Module.from_file(engine, argv[0])
    wasi = wasmtime.WasiConfig()
    wasi.argv = argv
    wasi.env = envs
    wasi.inherit_stdin()
    wasi.inherit_stdout()
    wasi.inherit_stderr()
    for host, guest in dirs:
        wasi.preopen_dir(host, guest)
    store = wasmtime.Store(engine)
    store.set_wasi(wasi)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    instance = linker.instantiate(store, module)
    try:
        instance.exports(store)["_start"](store)
    except wasmtime.ExitTrap as e:
        return e.code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
