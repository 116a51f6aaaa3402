//! WASI preview 1 (`wasi_snapshot_preview1`): the host side of the system interface that
//! C, Rust and other toolchains target with `wasm32-wasi`, shaped like wasmtime's API.
//!
//! ```no_run
//! use tierup::wasi::{I32Exit, WasiCtx, WasiCtxBuilder};
//! use tierup::{Engine, Linker, Module, Store};
//!
//! # fn main() -> tierup::Result<()> {
//! struct Host { wasi: WasiCtx }
//! let engine = Engine::default();
//! let module = Module::new(&engine, std::fs::read("program.wasm")?)?;
//! let mut linker = Linker::new(&engine);
//! tierup::wasi::add_to_linker(&mut linker, |h: &mut Host| &mut h.wasi)?;
//! let wasi = WasiCtxBuilder::new()
//!     .args(&["program.wasm", "--verbose"])
//!     .env("LANG", "C")
//!     .inherit_stdio()
//!     .preopened_dir("data", "data")?
//!     .build();
//! let mut store = Store::new(&engine, Host { wasi });
//! let instance = linker.instantiate(&mut store, &module)?;
//! let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
//! let status = match start.call(&mut store, ()) {
//!     Ok(()) => 0,
//!     Err(e) => match e.downcast_ref::<I32Exit>() {
//!         Some(exit) => exit.0,
//!         None => return Err(e),
//!     },
//! };
//! store.data_mut().wasi.flush()?;
//! # let _ = status;
//! # Ok(())
//! # }
//! ```
//!
//! | file | what it holds |
//! |---|---|
//! | `ctx.rs` | [`WasiCtx`], [`WasiCtxBuilder`], [`MemoryOutputPipe`] |
//! | `fdtable.rs` | the descriptor table, rights, file types, fd flags |
//! | `path.rs` | sandboxed path resolution (`openat2` beneath a directory fd) |
//! | `fd.rs`, `fs.rs` | the `fd_*` and `path_*` imports |
//! | `clock.rs` | clocks and `poll_oneoff` |
//! | `args.rs` | arguments, environment, random, `sched_yield`, `proc_raise`, sockets |
//! | `mem.rs` | bounds-checked guest memory access (`EFAULT`) |
//! | `errno.rs` | [`Errno`] and the host errno mapping |
//!
//! `proc_exit` does not end the process: it unwinds the guest with an [`I32Exit`] error,
//! which the caller downcasts. Paths never leave a preopened directory (Linux `openat2`
//! with `RESOLVE_BENEATH`).

mod args;
mod clock;
mod ctx;
mod errno;
mod fd;
mod fdtable;
mod fs;
mod mem;
mod path;

use std::sync::Arc;

use tierup_abi::ValRaw;

pub(crate) use clock::to_nanos as timespec_nanos;
pub use ctx::{MemoryOutputPipe, WasiCtx, WasiCtxBuilder};
pub use errno::Errno;

use crate::Result;
use crate::externs::Extern;
use crate::func::{Caller, HostFn};
use crate::linker::Linker;
use crate::types::{FuncType, ValType};
use args::Args;
use mem::{GuestMem, WasiResult};

/// The import module name of WASI preview 1.
pub const MODULE: &str = "wasi_snapshot_preview1";

/// The error `proc_exit` returns: the program asked to exit with this status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct I32Exit(pub i32);

impl core::fmt::Display for I32Exit {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "exited with i32 exit status {}", self.0)
    }
}

impl std::error::Error for I32Exit {}

/// One import: its name, parameter types (`i` = i32, `I` = i64; the result is an i32
/// errno) and implementation.
type Import = (
    &'static str,
    &'static str,
    fn(&mut WasiCtx, &mut GuestMem<'_>, &Args<'_>) -> WasiResult<()>,
);

const IMPORTS: &[Import] = &[
    ("args_get", "ii", args::args_get),
    ("args_sizes_get", "ii", args::args_sizes_get),
    ("environ_get", "ii", args::environ_get),
    ("environ_sizes_get", "ii", args::environ_sizes_get),
    ("clock_res_get", "ii", clock::clock_res_get),
    ("clock_time_get", "iIi", clock::clock_time_get),
    ("fd_advise", "iIIi", fd::fd_advise),
    ("fd_allocate", "iII", fd::fd_allocate),
    ("fd_close", "i", fd::fd_close),
    ("fd_datasync", "i", fd::fd_datasync),
    ("fd_fdstat_get", "ii", fd::fd_fdstat_get),
    ("fd_fdstat_set_flags", "ii", fd::fd_fdstat_set_flags),
    ("fd_fdstat_set_rights", "iII", fd::fd_fdstat_set_rights),
    ("fd_filestat_get", "ii", fd::fd_filestat_get),
    ("fd_filestat_set_size", "iI", fd::fd_filestat_set_size),
    ("fd_filestat_set_times", "iIIi", fd::fd_filestat_set_times),
    ("fd_pread", "iiiIi", fd::fd_pread),
    ("fd_prestat_get", "ii", fd::fd_prestat_get),
    ("fd_prestat_dir_name", "iii", fd::fd_prestat_dir_name),
    ("fd_pwrite", "iiiIi", fd::fd_pwrite),
    ("fd_read", "iiii", fd::fd_read),
    ("fd_readdir", "iiiIi", fd::fd_readdir),
    ("fd_renumber", "ii", fd::fd_renumber),
    ("fd_seek", "iIii", fd::fd_seek),
    ("fd_sync", "i", fd::fd_sync),
    ("fd_tell", "ii", fd::fd_tell),
    ("fd_write", "iiii", fd::fd_write),
    ("path_create_directory", "iii", fs::path_create_directory),
    ("path_filestat_get", "iiiii", fs::path_filestat_get),
    (
        "path_filestat_set_times",
        "iiiiIIi",
        fs::path_filestat_set_times,
    ),
    ("path_link", "iiiiiii", fs::path_link),
    ("path_open", "iiiiiIIii", fs::path_open),
    ("path_readlink", "iiiiii", fs::path_readlink),
    ("path_remove_directory", "iii", fs::path_remove_directory),
    ("path_rename", "iiiiii", fs::path_rename),
    ("path_symlink", "iiiii", fs::path_symlink),
    ("path_unlink_file", "iii", fs::path_unlink_file),
    ("poll_oneoff", "iiii", clock::poll_oneoff),
    ("proc_raise", "i", args::proc_raise),
    ("sched_yield", "", args::sched_yield),
    ("random_get", "ii", args::random_get),
    ("sock_accept", "iii", args::sock),
    ("sock_recv", "iiiiii", args::sock),
    ("sock_send", "iiiii", args::sock),
    ("sock_shutdown", "ii", args::sock),
];

/// The calling instance's exported memory (empty if it exports none) and the context.
fn split<'a, T>(
    caller: &'a mut Caller<'_, T>,
    get: &impl Fn(&mut T) -> &mut WasiCtx,
) -> (&'a mut WasiCtx, GuestMem<'a>) {
    let memory = match caller.get_export("memory") {
        Some(Extern::Memory(m)) if m.store == caller.store_id() => Some(m.index),
        _ => None,
    };
    let inner = &mut *caller.store;
    let bytes: &'a mut [u8] = match memory.and_then(|i| inner.opaque.memories.get_mut(i)) {
        Some(mem) => mem.data_mut(),
        None => &mut [],
    };
    (get(&mut inner.data), GuestMem::new(bytes))
}

/// Defines every WASI preview 1 import in `linker`; `get` finds the [`WasiCtx`] in the
/// store's data.
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: impl Fn(&mut T) -> &mut WasiCtx + Send + Sync + Copy + 'static,
) -> Result<()> {
    for &(name, sig, imp) in IMPORTS {
        let params = sig.chars().map(|c| match c {
            'I' => ValType::I64,
            _ => ValType::I32,
        });
        let ty = FuncType::new(params, [ValType::I32]);
        let host: Arc<HostFn<T>> =
            Arc::new(move |mut caller: Caller<'_, T>, cells: &mut [ValRaw]| {
                let (cx, mut mem) = split(&mut caller, &get);
                let errno = match imp(cx, &mut mem, &Args(cells)) {
                    Ok(()) => Errno::SUCCESS,
                    Err(e) => e,
                };
                if let Some(c) = cells.first_mut() {
                    *c = ValRaw::i32(i32::from(errno.0));
                }
                Ok(())
            });
        linker.func_raw(MODULE, name, ty, host);
    }
    let exit: Arc<HostFn<T>> = Arc::new(move |mut caller: Caller<'_, T>, cells: &mut [ValRaw]| {
        let code = cells.first().map_or(0, |c| c.get_i32());
        let _ = get(caller.data_mut()).flush();
        Err(I32Exit(code).into())
    });
    linker.func_raw(MODULE, "proc_exit", FuncType::new([ValType::I32], []), exit);
    Ok(())
}
