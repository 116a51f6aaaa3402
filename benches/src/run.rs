//! Running a benchmark program as a WASI command inside this process: a fresh store with
//! captured stdout, `_start` with the given arguments, the exit status and the checksum.

use tierup::wasi::{I32Exit, MemoryOutputPipe, WasiCtx, WasiCtxBuilder};
use tierup::{Engine, Linker, Module, Store};

/// What one run printed and returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOutput {
    /// The exit status (0 when `_start` returned normally).
    pub status: i32,
    /// Everything the program wrote to stdout.
    pub stdout: Vec<u8>,
}

/// The store data of a run.
struct Host {
    wasi: WasiCtx,
}

/// Instantiates `module` with WASI and runs `_start` with `argv[1..] = args`.
pub fn run_command(engine: &Engine, module: &Module, args: &[&str]) -> anyhow::Result<RunOutput> {
    let mut linker = Linker::new(engine);
    tierup::wasi::add_to_linker(&mut linker, |h: &mut Host| &mut h.wasi)?;
    let stdout = MemoryOutputPipe::new();
    let mut argv = vec!["program.wasm"];
    argv.extend_from_slice(args);
    let wasi = WasiCtxBuilder::new()
        .args(&argv)
        .stdout(stdout.clone())
        .build();
    let mut store = Store::new(engine, Host { wasi });
    let instance = linker.instantiate(&mut store, module)?;
    let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
    let status = match start.call(&mut store, ()) {
        Ok(()) => 0,
        Err(e) => match e.downcast_ref::<I32Exit>() {
            Some(exit) => exit.0,
            None => return Err(e),
        },
    };
    store.data_mut().wasi.flush()?;
    Ok(RunOutput {
        status,
        stdout: stdout.contents(),
    })
}

/// The number on the `checksum: N` line of a program's output.
pub fn checksum(stdout: &[u8]) -> Option<u32> {
    String::from_utf8_lossy(stdout)
        .lines()
        .find_map(|l| l.strip_prefix("checksum: "))
        .and_then(|n| n.trim().parse().ok())
}
