//! `tierup`: a tiered WebAssembly virtual machine — the embedding API and the runtime.
//!
//! The API is shaped like wasmtime's: an [`Engine`] holds the configuration, a [`Module`]
//! is a validated module, a [`Store`] owns instances and host objects, a [`Linker`]
//! resolves imports, and [`Func`]/[`TypedFunc`] call into wasm. Functions are translated
//! lazily, on their first call, into the register bytecode of `tierup-interp`.
//!
//! ```
//! use tierup::{Engine, Linker, Module, Store};
//!
//! # fn main() -> tierup::Result<()> {
//! let engine = Engine::default();
//! let module = Module::new(
//!     &engine,
//!     r#"(module
//!          (import "host" "double" (func $double (param i32) (result i32)))
//!          (func (export "run") (param i32) (result i32)
//!            local.get 0
//!            call $double
//!            i32.const 1
//!            i32.add))"#,
//! )?;
//! let mut store = Store::new(&engine, 0u32);
//! let mut linker = Linker::new(&engine);
//! linker.func_wrap("host", "double", |mut caller: tierup::Caller<'_, u32>, x: i32| {
//!     *caller.data_mut() += 1;
//!     x * 2
//! })?;
//! let instance = linker.instantiate(&mut store, &module)?;
//! let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
//! assert_eq!(run.call(&mut store, 20)?, 41);
//! assert_eq!(*store.data(), 1);
//! # Ok(())
//! # }
//! ```
//!
//! # How the runtime is laid out
//!
//! | file | what it holds |
//! |---|---|
//! | `engine.rs`, `config.rs` | [`Engine`] (config + engine-wide signature ids), [`Config`], [`TierMode`] |
//! | `module.rs`, `module/parse.rs` | validation (wasmparser, WebAssembly 2.0 features), decoding, the per-module translation cache |
//! | `store.rs` | [`Store`], [`AsContext`]/[`AsContextMut`] |
//! | `instance.rs` | instantiation: import checks, globals, tables, memories, `VmContext`, entry slots, segments, start |
//! | `memory.rs`, `table.rs`, `global.rs` | the store-owned objects code points at, and their handles |
//! | `func.rs`, `func/typed.rs` | [`Func`], host functions and their trampoline, [`Caller`], typed calls |
//! | `linker.rs` | [`Linker`] and [`LinkError`] |
//! | `libcalls.rs` | the libcall table and the lazy entry |
//! | `trap.rs` | [`Trap`] and the conversion of the per-thread trap record |
//! | `tiering/` | the tier manager (hotness reports, requests, on-stack replacement), the compile workers and their priority queue, [`tiering::AsyncCompile`] / [`tiering::AsyncInstantiate`], and [`tiering::SlotHandle`] / [`tiering::CodeHandle`] for publishing code |
//! | `wasi/` | [`wasi`]: WASI preview 1 for command programs ([`wasi::WasiCtxBuilder`], [`wasi::add_to_linker`]) |
//! | `interrupt.rs` | epoch interruption, the store's side: the deadline, the instances' interrupt words, the thread running the store and the signals sent to it, the `epoch` libcall's work |
//! | `code/` | the runtime of machine code: executable memory, the code registry, traps by signal, the entry trampoline, the preemption signal ([`preemptions`]), the tier sampler, perf files |
//! | `compare.rs` | [`compare`]: one program under every tier mode, and the first divergence (`tierup compare`) |
//!
//! Choices made inside the contract of `tierup-abi`:
//!
//! * Every function of an instance has an entry slot ([`tierup_abi::FuncEntry`]) whose
//!   code record starts as the module's one shared `Lazy` record. The first call (or the
//!   `translate` libcall) translates the function once per module, caches the translation
//!   in the module, and publishes it into the slot with a compare-and-swap (so code
//!   published by someone else in the meantime is kept).
//! * Handles ([`Func`], [`Memory`], ...) are plain data: a store id plus an index (or, for
//!   functions, the slot address). Using a handle with another store panics.
//! * Everything whose address code holds is boxed in the store: instances (their
//!   `VmContext` and slots), memories (`MemoryDef`), tables (`TableDef`), global cells, and
//!   host function slots. `VmContext::store` points at the store's state, whose untyped part
//!   comes first, so libcalls need not know the store's data type.
//! * A memory reserves 8 GiB of address space (4 GiB + guard) and grows in place with
//!   `mprotect`; if that reservation fails, it reserves only its maximum size. A table
//!   reserves room for its maximum size (or the Config's limit) and grows in place too, so
//!   no pointer that code holds into either ever moves.
//! * `VmContext::stack_limit` is 0 (unused): the interpreter bounds its frames with
//!   `VmContext::max_call_depth` ([`Config::max_call_depth`]).
//! * Traps travel as statuses plus the per-thread record of `tierup_abi::trap`; calls in
//!   from Rust turn them into a [`Trap`] (with names from the name section), or return a
//!   host function's error unchanged.

#![deny(unsafe_op_in_unsafe_fn)]

mod code;
pub mod compare;
mod config;
mod engine;
mod externs;
mod func;
mod global;
mod instance;
mod interrupt;
mod libcalls;
mod linker;
mod memory;
mod module;
mod store;
mod table;
pub mod tiering;
mod tiers;
mod trap;
mod types;
mod values;
pub mod wasi;

pub use anyhow::Error;
pub use code::{jitdump_path, perf_map_path, preemptions};
pub use config::{
    Config, DEFAULT_BASELINE_TIER_UP_THRESHOLD, DEFAULT_TIER_UP_THRESHOLD,
    DEFAULT_TIER_UP_THRESHOLD_TO_BASELINE, TierMode,
};
pub use engine::Engine;
pub use externs::Extern;
pub use func::{Caller, Func, IntoFunc, TypedFunc, WasmRet, WasmTy, WasmTyList};
pub use global::Global;
pub use instance::Instance;
pub use linker::{LinkError, Linker};
pub use memory::Memory;
pub use module::{CompileStats, Module};
pub use store::{AsContext, AsContextMut, Store, StoreContext, StoreContextMut, UpdateDeadline};
pub use table::Table;
pub use tierup_abi::{Tier, TrapCode};
pub use trap::{FrameInfo, Trap};
pub use types::{
    ExportType, ExternType, FuncType, GlobalType, ImportType, MemoryType, Mutability, TableType,
    ValType,
};
pub use values::{ExternRef, Val};

/// The result type of the API.
pub type Result<T, E = anyhow::Error> = core::result::Result<T, E>;
