//! `tierup-abi`: the contract between the tierup runtime (`vm/`) and every execution tier.
//!
//! A tier never links against the runtime. It sees a running instance only through the
//! types of this crate:
//!
//! * [`FuncEntry`] — the *entry slot* of one function of one instance. Its `code` field is
//!   an atomic pointer to an immutable [`FuncCode`] record; one `store(Release)` of that
//!   pointer retargets direct calls, indirect calls, exports and table elements at once.
//! * [`ArrayEntry`] — the uniform "array" calling convention every tier provides for every
//!   function: parameters in, results out, through 16-byte [`ValRaw`] cells.
//! * [`VmContext`] — the per-instance context, laid out once by the `vmctx_layout!` macro,
//!   which also yields the byte offsets a JIT uses ([`vmctx::offsets`]).
//! * [`Libcalls`] — what a tier cannot do inline (memory.grow, table and segment operations,
//!   lazy translation).
//! * [`TrapCode`] and the per-thread [`trap`] record: how a trap travels back as a value.
//! * [`ModuleEnv`] — the read-only facts about a validated module a tier needs to translate
//!   one function body.
//!
//! # Changes to the contract of `DESIGN.md`
//!
//! `DESIGN.md` sketches the array entry as `fn(vmctx, args_results) -> u32` and the slot as
//! holding "the current code pointer". Two things made us widen that, and this crate is now
//! the contract:
//!
//! 1. **The slot points at a [`FuncCode`] record, not at machine code.** An interpreted
//!    function has no machine code of its own: every interpreted function shares one array
//!    entry and differs only in its bytecode. The record pairs the entry with tier-private
//!    data (bytecode, host closure, JIT metadata) and is immutable once published, so the
//!    single atomic pointer store still publishes *everything* about the new code at once;
//!    no reader can ever see a new entry with old data.
//! 2. **The array entry receives the callee slot, the code record it was reached through,
//!    and the caller's context:**
//!    `fn(callee: *const FuncEntry, code: *const FuncCode, caller: *mut VmContext, args_results: *mut ValRaw) -> u32`.
//!    The callee's `vmctx` is one load away (`callee.vmctx`); the code record is passed so
//!    that the callee runs exactly the code whose data it was given even if the slot is
//!    swapped concurrently; the caller's context is what host functions (WASI, `Caller` in
//!    the embedding API) need to reach the calling instance's memory.
//!
//! Trap details do not sit in the store but in a per-thread record ([`trap`]): a store is
//! used by one thread at a time, so this is equivalent, and it lets code that has no store
//! pointer at hand (a libcall, a JIT trap stub) report a trap.

#![deny(unsafe_op_in_unsafe_fn)]

pub mod decode;
pub mod entry;
pub mod env;
pub mod trap;
pub mod val;
pub mod vmctx;

pub use decode::{ConstExpr, DecodeError, Entry, ModuleEnvBuilder};
pub use entry::{ArrayEntry, CompileState, FuncCode, FuncEntry, Tier};
pub use env::{BlockSig, FuncBodyRange, ModuleEnv};
pub use trap::{TrapCode, TrapFrame};
pub use val::ValRaw;
pub use vmctx::{Libcalls, MemoryDef, TableDef, VmContext};

/// The status an [`ArrayEntry`] returns when the call completed normally.
pub const STATUS_OK: u32 = 0;

/// The size in bytes of one WebAssembly page.
pub const WASM_PAGE_SIZE: usize = 65536;

/// The largest number of pages a 32-bit linear memory can have.
pub const WASM32_MAX_PAGES: u64 = 65536;
