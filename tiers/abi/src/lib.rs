//! `tierup-abi`: the contract between the tierup runtime (`vm/`) and every execution tier.
//!
//! A tier never links against the runtime. It sees a running instance only through the
//! types of this crate, and the runtime calls a tier's code only through them, so each
//! tier is a compiler from one function of a module to code, testable on its own (the
//! `tierup-testkit` crate builds real instances from this contract alone).
//!
//! **Entry slots.** Every function of an instance, imported or defined, and every host
//! function has one [`FuncEntry`], at an address that never changes while its owner
//! lives. Funcref values and table elements are `*const FuncEntry`. Every call, direct,
//! indirect, from an export or from the host, loads the slot's `code` pointer (`Acquire`)
//! and calls through what it finds, so one `Release` store of that pointer
//! ([`FuncEntry::publish`]) retargets every caller at once, from any tier, without
//! patching call sites. The slot also holds the callee's context, the canonical id of its
//! signature (which `call_indirect` compares) and its function index.
//!
//! **Code records.** The slot points at a [`FuncCode`], not at machine code: the array
//! entry to call, the register entry JIT code calls ([`regcall`]), tier-private data and
//! the [`Tier`] that made it. An interpreted function
//! has no machine code of its own (all of them share the interpreter's entry and differ
//! only in their bytecode), so the record carries what differs. A record is immutable
//! once published and lives until its owner (the module, or the store for a host
//! function) is dropped: the single pointer store publishes the entry and its data
//! together, no reader can see one without the other, and an activation still running
//! old code stays valid. A slot that starts with a [`Tier::Lazy`] record is translated on
//! its first call.
//!
//! **The array entry** ([`ArrayEntry`]) is the one calling convention every tier provides
//! for every function: `unsafe extern "sysv64" fn(callee, code, caller, args_results) ->
//! u32`. `callee` is the slot the call went through (its context is one load away, null
//! for a host function); `code` is the record loaded from it, passed so that the callee
//! runs exactly the code whose data it was given even if the slot is republished
//! meanwhile; `caller` is the calling instance's context (null from Rust), which host
//! functions need to reach the caller's memory; `args_results` are 16-byte [`ValRaw`]
//! cells, parameters in and results out. The fixed `sysv64` ABI lets generated code call
//! and be called the same way on every x86-64 host. The return value is [`STATUS_OK`] or
//! a [`TrapCode`] status.
//!
//! **Traps** travel back as that status, with the details in a per-thread record
//! ([`trap`]): whoever raises the trap records it, each wasm frame it leaves adds itself
//! (innermost first), and the Rust code that called into wasm takes the record. A store is
//! used by one thread at a time, so a per-thread record is a per-store record that code
//! without a store at hand (a libcall, a trap stub) can still fill. No Rust frame is ever
//! unwound by a jump: Rust reached from generated code (a libcall, a host function, the
//! interpreter's entry) always returns normally, with a status where it can fail.
//!
//! **The context** ([`VmContext`]) is what code running in an instance reaches it through:
//! linear memory 0's base and descriptor, the slot pointer of every function index, the
//! cell of every global, the table descriptors, the canonical signature ids, the libcall
//! table, the store's [`RuntimeLimits`] (the stack limit of the thread running it, set on
//! entry into wasm and checked by every tier, and the interpreter's frame bound) and two
//! pointers private to whoever built the context. Its
//! `#[repr(C)]` layout is written once, in a macro that also yields the byte offsets a JIT
//! uses ([`vmctx::offsets`]) and is pinned by tests, so a layout change is a visible change
//! of the contract.
//!
//! **Libcalls** ([`Libcalls`]) are what a tier cannot do inline: `memory.grow`,
//! `memory.init`, `data.drop`, `table.grow`, `table.fill`, `table.copy`, `table.init`,
//! `elem.drop`, the compilation of a lazy slot, `raise` (the unwind of machine code), the
//! hotness report and the passed epoch deadline, as function pointers with fixed
//! signatures in a table the context points at. A tier needs to know nothing of how its
//! host stores memories, tables and segments; the runtime and the test kit each provide
//! a table.
//!
//! **The module environment** ([`ModuleEnv`]) is what a tier may know about a module to
//! translate one of its functions: its bytes, types, every function's type, where each
//! body lies, the types of its globals, tables and memories, its segment counts and
//! features. It is built by one decoder ([`ModuleEnvBuilder`]), which the runtime and the
//! test kit both feed, so a tier sees the same facts in its tests as in the runtime.
//!
//! **Compilers** ([`Compiler`], in [`compile`]): every tier, the interpreter included, is a
//! compiler from one function of a [`ModuleEnv`] to code: code it owns (bytecode), or
//! machine code as bytes with its trap sites, relocations and wasm offset map, which the
//! runtime loads, registers for its signal handler and publishes. JIT code calls other
//! functions through their register entries ([`regcall`]); an interpreted or host
//! function's register entry is an adapter (made by a JIT tier per signature) into its
//! array entry.
//!
//! **Memory guards.** A memory reserves [`GUARDED_RESERVATION`] bytes when it can
//! ([`MemoryDef::guarded`]); code compiled for such memories needs no bounds check for an
//! access whose static offset plus size is at most [`GUARD_BYTES`]. Code compiled with
//! [`CompileOptions::bounds_checks`] checks every access.
//!
//! **Where this contract refines the design document** (and why):
//! * The register entry's first argument is the callee's *slot*, not its context: an
//!   adapter (one per signature, shared by every interpreted or host function of that
//!   type) needs the slot to call the array entry of whatever the slot holds, and a JIT
//!   callee reaches its context in one load from it ([`regcall`]).
//! * The slot carries the register entry itself and its store's [`RuntimeLimits`], besides
//!   the record: a JIT call is one load from the slot, and a prologue reaches the stack
//!   limit in two (measured: half of a call-heavy program's samples sat on a longer chain).
//!   The record and the register entry are published together but not atomically; either
//!   is valid code of the function ([`entry`], invariant 3).
//! * The stack limit is per store and set by the thread that enters wasm through it (a
//!   store runs on one thread at a time), so a per-thread value without thread-local
//!   storage that generated code could not read.
//! * [`VmContext::defined_funcs`] gives the instance's own slots, so a call of a defined
//!   function needs no load of the slot pointer.
//! * The array entry of machine code is the runtime's trampoline; a tier provides an array
//!   *shim* that knows nothing of traps ([`compile`]). Explicit traps of machine code are
//!   faulting instructions at trap sites too, so that one mechanism (the signal handler)
//!   serves faults and checks; a failed callee or libcall status is raised by the `raise`
//!   libcall.
//!
//! * Hotness is counted by the tier that runs a function, in a place of its choosing, and
//!   reported through [`Libcalls::hot`] with the OSR point it stands at and the reporting
//!   tier (so that code of a lower tier still running an old activation is moved up, and
//!   code is never moved into an OSR entry of its own tier); the tier manager's request
//!   state (queued, compiling, done, failed) is per *module* function, in the runtime,
//!   not per slot: a function hot in two instances is compiled once and published to
//!   both. The interpreter keeps its counter in its translated function, which every
//!   instance shares and the running code already has at hand. Machine code that counts
//!   (the baseline tier, [`CompileOptions::hotness_budget`]) keeps it in
//!   [`FuncEntry::hotness`], one memory operand off the slot register its code holds, and
//!   hears that the runtime wants an activation at its next outermost loop header through
//!   [`FuncEntry::osr_request`], the high half of the same 64-bit value. (The slot holds
//!   no compile state: that is the manager's, per module function, above.)
//! * For the tier report (beyond the design document): code compiled with
//!   [`CompileOptions::count_calls`] counts its calls in [`FuncEntry::calls`], per slot
//!   like the hotness of machine code (the interpreter too: its `CountCall` instruction
//!   finds the slot through the context); and each thread has a [`running`] word saying
//!   whether it runs an interpreter activation (and which), a host function or neither,
//!   which the runtime's sampling profiler reads where the PC is in no machine code.
//! * Interruption (the design document leaves its shape open) is by epochs, as wasmtime's
//!   embedders know it: the engine has one counter that only grows, each store a
//!   deadline. Code does not compare the two: the runtime sets the
//!   [`VmContext::interrupt`] word of every instance of a store when an increment of the
//!   epoch reaches the store's deadline (the engine keeps the interruptible stores for
//!   that), and code compiled with [`CompileOptions::epoch_interruption`] tests that word
//!   of its own context at its entry and at every loop header (one compare with memory
//!   and a branch), calling [`Libcalls::epoch`] or [`Libcalls::epoch_preserving`] out of
//!   line when it is set. A comparison of epoch and deadline in the code, as wasmtime's,
//!   cost up to 40% on the benchmark programs, a word of the store's limits up to 24%
//!   (`benches/README.md`): a chain of loads, and a call that clobbered the registers of
//!   every loop. The interpreter tests the word wherever it already returns to its
//!   trampoline (at most every 32 KiB of loop work, and at a function's hotness report),
//!   so its instructions pay nothing. Any endless run of wasm passes a loop header or a
//!   function entry, so it is stopped within a bounded time of the deadline.
//!   Code may leave the test out of function entries and loop headers where it marks its
//!   code [`MachineCode::preemptible`]: the increment that sets the word also signals the
//!   thread that runs the store (and signals it again, at growing intervals up to 10 ms,
//!   until the store takes the interrupt), the runtime's handler sends a thread it finds
//!   in that range into the epoch handling as if the code had called
//!   [`Libcalls::epoch_preserving`] there (every register and the flags kept), and the
//!   runtime does the epoch handling where the host enters wasm and where a host function
//!   returns into it, with the word set. Such code still tests the word where a libcall
//!   returns in a loop (after the call, or at the header of the loop that makes it) and at
//!   an OSR entry, so that a thread the signal found in a libcall, or in the interpreter
//!   before OSR moved it, stops there without waiting for another signal. Both compiling
//!   tiers do so (the tests they leave out were their whole cost, up to 28% of the
//!   instructions of optimized code and 13.5% of baseline code's): the optimizing tier
//!   tests at the headers of loops with libcalls, the baseline tier, which cannot know at
//!   a header what the loop will call, after every libcall.
//! * Validation may be left to the compile (beyond the design document, which validates
//!   a body before its first translation): with lazy validation the runtime hands a tier
//!   the body's validator ([`Compiler::compile_validating`]), so that a tier that reads
//!   the operators once (the baseline tier) decodes each of them once for both. An
//!   invalid body is reported as such ([`ValidatingError::Invalid`]); after a failure to
//!   compile a valid prefix the runtime validates the whole body before another tier sees
//!   it. (`tierup compile --tier baseline` of the large benchmark module: 874 M
//!   instructions with a validation pass of its own, 708 M in one read; callgrind.)
//! * A record names its tier's *variant* besides the tier ([`FuncCode::variant`], 0 but for
//!   the interpreter's wide register form): the interpreter translates a function whose
//!   registers exceed its 16-bit operands in a form with 32-bit ones, both reported as
//!   [`Tier::Interp`], and each form's calls must tell its own records (which it runs
//!   directly) from the other's. `tier` and `variant` are adjacent bytes that one 16-bit
//!   compare tests ([`FuncCode::kind`]).

#![deny(unsafe_op_in_unsafe_fn)]

pub mod bulk;
pub mod compile;
pub mod decode;
pub mod entry;
pub mod env;
pub mod osr;
pub mod regcall;
pub mod running;
pub mod trap;
pub mod val;
pub mod vmctx;

pub use compile::{
    BodyValidator, CompileError, CompileOptions, Compiled, Compiler, Libm, MachineCode, OwnedCode,
    Reloc, RelocKind, RelocTarget, SourceLoc, TrapSite, ValidatingError,
};
pub use decode::{
    ConstExpr, DataSegment, DecodeError, ElemMode, ElemSegment, Entry, ModuleEnvBuilder,
};
pub use entry::{ArrayEntry, FuncCode, FuncEntry, Tier};
pub use env::{BlockSig, FuncBodyRange, ModuleEnv};
pub use trap::{FrameOwner, TrapCode, TrapFrame};
pub use val::ValRaw;
pub use vmctx::{Libcalls, MemoryDef, RuntimeLimits, TableDef, VmContext};

/// The status an [`ArrayEntry`] returns when the call completed normally.
pub const STATUS_OK: u32 = 0;

/// The size in bytes of one WebAssembly page.
pub const WASM_PAGE_SIZE: usize = 65536;

/// The largest number of pages a 32-bit linear memory can have.
pub const WASM32_MAX_PAGES: u64 = 65536;

/// The address space a guarded 32-bit memory reserves from its base: 4 GiB of addressable
/// memory followed by [`GUARD_BYTES`] that are never accessible.
pub const GUARDED_RESERVATION: usize = 8 << 30;

/// The bytes past 4 GiB that a guarded memory keeps inaccessible. An access at a 32-bit
/// index with a static offset plus size of at most this many bytes lies inside the
/// reservation, so where it is beyond the memory's current length it faults (and becomes
/// `out of bounds memory access`) instead of touching anything else.
pub const GUARD_BYTES: u64 = 4 << 30;
