//! `tierup-testkit`: small real instances of a module for an execution tier's own tests.
//!
//! A tier never depends on the runtime (`tierup`), yet its tests need to run code: with a
//! context, entry slots, globals, a linear memory, tables, segments and working libcalls.
//! This crate builds exactly that from a module's text or bytes, using only the contract
//! of `tierup-abi`, so the interpreter and each JIT tier test themselves the same way:
//!
//! ```
//! use tierup_abi::TrapCode;
//! use tierup_interp::Interp;
//! use tierup_testkit::Instance;
//!
//! let mut i = Instance::new(
//!     Interp::default(),
//!     r#"(module
//!       (memory 1)
//!       (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
//!       (func (export "load") (param i32) (result i32) local.get 0 i32.load))"#,
//! );
//! assert_eq!(i.i32("add", &[2, 40]), 42);
//! i.put_u32(8, 7);
//! assert_eq!(i.i32("load", &[8]), 7);
//! assert_eq!(i.trap("load", &[65535]), TrapCode::MemoryOutOfBounds);
//! ```
//!
//! The tier under test is a `tierup_abi::Compiler`: given the module's `ModuleEnv` and a
//! function index it returns code. The kit runs code the tier owns (`Compiled::Owned`, the
//! interpreter's bytecode, whose record it publishes); machine code needs the runtime's
//! executable memory and signal handling, so machine-code tiers test execution through
//! the runtime, and the kit refuses their code with an error.
//!
//! # What an instance has
//!
//! * The `ModuleEnv` from the decoder the runtime uses (`tierup_abi::ModuleEnvBuilder`),
//!   fed the same payloads in one pass.
//! * An entry slot per function. Defined functions are compiled at instantiation, or
//!   with [`Options::lazy`] on their first call: the slots then start with a
//!   `Tier::Lazy` record, and both its entry and the `translate` libcall (which a tier
//!   calls when it finds that record in a callee's slot) compile through the same
//!   `Compiler` and publish the code. Imported functions are all served by one host
//!   `ArrayEntry` the test passes in ([`Options::host`]); each import has its own slot
//!   (null context, `func_index` the import's index).
//! * Globals from their constant initialisers (every WebAssembly 2.0 constant
//!   expression: numbers, `v128`, `ref.null`, `ref.func`, `global.get`). Imported globals
//!   start at zero.
//! * At most one linear memory (defined or imported, of its declared minimum size), whose
//!   base never moves: the kit reserves its maximum, capped at [`MAX_MEMORY_PAGES`], up
//!   front; `memory.grow` grows it up to that and returns -1 beyond. There is no guard
//!   region, so a tier must check accesses against `MemoryDef::length`.
//! * Tables of `funcref` and `externref` (imported ones empty of their minimum size),
//!   at most [`MAX_TABLE_ELEMENTS`] long; active element segments applied, declarative
//!   ones dropped, passive ones kept for `table.init`; active and passive data segments
//!   likewise. An out-of-bounds active segment fails instantiation with its trap.
//! * A real `tierup_abi::Libcalls` table: `memory.grow`, `memory.init`, `data.drop`,
//!   `table.grow`, `table.fill`, `table.copy`, `table.init`, `elem.drop` with the
//!   semantics and trap codes of the runtime, recorded in the per-thread trap record;
//!   `translate`; and `raise`, which aborts (only machine code calls it).
//! * Canonical signature ids (equal types share one), and `RuntimeLimits` with
//!   `max_call_depth` from the options (1,000 by default) and no stack limit.
//!
//! Calls go in by export name with raw `u64` arguments ([`Instance::call`]) or `ValRaw`
//! cells ([`Instance::call_cells`]) and come back as results or the `TrapRecord`; memory,
//! globals, tables and slots can be read between calls.

#![deny(unsafe_op_in_unsafe_fn)]

mod compiler;
mod instance;
mod instantiate;
mod libcalls;
mod runtime;
mod shared;

pub use instance::Instance;
pub use instantiate::{Error, Options};
pub use runtime::{MAX_MEMORY_PAGES, MAX_TABLE_ELEMENTS};
