//! The per-instance [`VmContext`], the memory and table descriptors it points at, and the
//! [`Libcalls`] table.
//!
//! The layout is written once, in the `vmctx_layout!` invocation below, which yields the
//! `#[repr(C)]` struct and one offset constant per field in [`offsets`]. Fields that
//! generated code touches on hot paths (the memory base and descriptor, the slot array,
//! globals and the limits) come first. The tests at the end pin
//! every offset, so a change of the layout is a visible change of the contract.

use core::sync::atomic::{AtomicUsize, Ordering};

use crate::entry::{FuncCode, FuncEntry};
use crate::val::ValRaw;

/// Declares a `#[repr(C)]` struct and, in `pub mod $offsets`, one `usize` constant with the
/// byte offset of each field plus `SIZE`.
macro_rules! vmctx_layout {
    (
        $(#[$meta:meta])*
        pub struct $name:ident in $offsets:ident {
            $( $(#[$fmeta:meta])* [$konst:ident] $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(Debug)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        #[doc = concat!("Byte offsets of the fields of [`", stringify!($name), "`], for generated code.")]
        pub mod $offsets {
            $(
                #[doc = concat!("Offset of `", stringify!($field), "`.")]
                pub const $konst: usize = core::mem::offset_of!(super::$name, $field);
            )*
            /// Size of the whole struct.
            pub const SIZE: usize = core::mem::size_of::<super::$name>();
        }
    };
}

vmctx_layout! {
    /// The context of one instance, passed to (or reachable from) all code that runs in it.
    ///
    /// All pointers are owned by the runtime and stay valid while the instance lives.
    pub struct VmContext in offsets {
        /// Base of linear memory 0 (null when the instance has no memory). The base of a
        /// memory never moves, so it may be cached here even for an imported memory.
        [MEMORY_BASE] memory_base: *mut u8,
        /// Descriptor of linear memory 0, whose `length` is the current bound (null when
        /// the instance has no memory). Shared by every instance that imports the memory.
        [MEMORY] memory: *const MemoryDef,
        /// One slot pointer per function index, imports first. Imported functions point at
        /// the exporter's slot, so a publication there is seen here.
        [FUNC_REFS] func_refs: *const *const FuncEntry,
        /// The slots of the instance's defined functions, in index order (entry `i` is the
        /// slot of function `num_imported_funcs + i`, the one `func_refs` also points at),
        /// so that compiled code finds a defined callee's slot without loading it.
        [DEFINED_FUNCS] defined_funcs: *const FuncEntry,
        /// One cell pointer per global index, imports first.
        [GLOBALS] globals: *const *mut ValRaw,
        /// The limits of the thread running the instance's store (see [`RuntimeLimits`]),
        /// shared by every instance of the store.
        [LIMITS] limits: *const RuntimeLimits,
        /// One descriptor pointer per table index, imports first.
        [TABLES] tables: *const *mut TableDef,
        /// The canonical signature id of each of the module's type indices (engine-wide in
        /// the runtime), for `call_indirect`.
        [TYPE_IDS] type_ids: *const u32,
        /// The libcall table (one static table for all of the runtime's instances).
        [LIBCALLS] libcalls: *const Libcalls,
        /// Private to whoever built the context: the runtime's instance that owns it (the
        /// test kit's libcall state). Tiers never read it; libcalls do.
        [INSTANCE] instance: *mut (),
        /// Private to whoever built the context: the runtime's store the instance lives in
        /// (null in the test kit).
        [STORE] store: *mut (),
        /// Non-zero when the store's epoch deadline may have passed: code compiled with
        /// [`crate::CompileOptions::epoch_interruption`] tests it at function entries and
        /// loop headers (see the crate docs for the loops that need not) and calls [`Libcalls::epoch`] (or [`Libcalls::epoch_preserving`])
        /// when it is set (see the crate docs). The runtime sets it in every instance of
        /// the store when the engine's epoch reaches the store's deadline, and clears it in
        /// that call; a spurious set costs that call only.
        [INTERRUPT] interrupt: AtomicUsize,
    }
}

impl VmContext {
    /// Whether code is to call [`Libcalls::epoch`] ([`VmContext::interrupt`] is set).
    #[inline]
    pub fn interrupted(&self) -> bool {
        self.interrupt.load(Ordering::Relaxed) != 0
    }
}

vmctx_layout! {
    /// Bounds on the resources of the thread that runs a store's code, shared by the store's
    /// instances and set by whoever calls into wasm. A store is used by one thread at a
    /// time, so these are that thread's while it runs wasm.
    pub struct RuntimeLimits in limits_offsets {
        /// The lowest host stack address generated code may use: every tier's prologue
        /// traps with `call stack exhausted` below it. Set when a thread enters wasm from
        /// Rust (and left alone by nested entries); 0 means no check.
        [STACK_LIMIT] stack_limit: AtomicUsize,
        /// The number of interpreter frames a thread may have live at once, 0 for no bound
        /// (the interpreter's own register stack is bounded by this).
        [MAX_CALL_DEPTH] max_call_depth: usize,
    }
}

impl RuntimeLimits {
    /// Limits with no stack limit set yet and at most `max_call_depth` interpreter frames.
    pub const fn new(max_call_depth: usize) -> RuntimeLimits {
        RuntimeLimits {
            stack_limit: AtomicUsize::new(0),
            max_call_depth,
        }
    }
}

vmctx_layout! {
    /// A linear memory, shared by every instance that defines or imports it.
    pub struct MemoryDef in memory_offsets {
        /// The start of the memory; never moves.
        [BASE] base: *mut u8,
        /// The current size in bytes (a multiple of the page size). Only grows.
        [LENGTH] length: AtomicUsize,
        /// Whether the memory lies at the start of a reservation of
        /// [`crate::GUARDED_RESERVATION`] bytes (1) or was mapped without the guard region
        /// (0), in which case code must check every access.
        [GUARDED] guarded: usize,
    }
}

vmctx_layout! {
    /// A table, shared by every instance that defines or imports it.
    ///
    /// Elements are pointer-sized: a funcref element is a `*const FuncEntry`, an externref
    /// element an opaque handle; 0 is the null reference. `elements` moves when the table
    /// grows, so it must be reloaded after anything that may grow the table.
    pub struct TableDef in table_offsets {
        /// The elements.
        [ELEMENTS] elements: *mut usize,
        /// The current number of elements.
        [LENGTH] length: usize,
    }
}

/// A status-returning libcall result that did not trap.
pub const LIBCALL_OK: u32 = crate::STATUS_OK;

/// The `at` of a [`Libcalls::hot`] call made at function entry.
pub const NO_OSR: u32 = u32::MAX;

vmctx_layout! {
    /// Operations a tier cannot do inline. Statuses are [`crate::STATUS_OK`] or a trap
    /// code whose details were recorded with [`crate::trap::record`].
    pub struct Libcalls in libcall_offsets {
        /// `memory.grow`: returns the old size in pages, or `u32::MAX` (-1) on failure.
        [MEMORY_GROW] memory_grow: unsafe extern "sysv64" fn(vmctx: *mut VmContext, memory: u32, delta: u32) -> u32,
        /// `memory.init`: returns a status.
        [MEMORY_INIT] memory_init: unsafe extern "sysv64" fn(vmctx: *mut VmContext, memory: u32, data: u32, dst: u32, src: u32, len: u32) -> u32,
        /// `data.drop`.
        [DATA_DROP] data_drop: unsafe extern "sysv64" fn(vmctx: *mut VmContext, data: u32),
        /// `table.grow`: returns the old size, or `u32::MAX` (-1) on failure.
        [TABLE_GROW] table_grow: unsafe extern "sysv64" fn(vmctx: *mut VmContext, table: u32, init: usize, delta: u32) -> u32,
        /// `table.fill`: returns a status.
        [TABLE_FILL] table_fill: unsafe extern "sysv64" fn(vmctx: *mut VmContext, table: u32, dst: u32, val: usize, len: u32) -> u32,
        /// `table.copy`: returns a status.
        [TABLE_COPY] table_copy: unsafe extern "sysv64" fn(vmctx: *mut VmContext, dst_table: u32, src_table: u32, dst: u32, src: u32, len: u32) -> u32,
        /// `table.init`: returns a status.
        [TABLE_INIT] table_init: unsafe extern "sysv64" fn(vmctx: *mut VmContext, table: u32, elem: u32, dst: u32, src: u32, len: u32) -> u32,
        /// `elem.drop`.
        [ELEM_DROP] elem_drop: unsafe extern "sysv64" fn(vmctx: *mut VmContext, elem: u32),
        /// Translates the function behind a [`crate::Tier::Lazy`] slot, publishes the result
        /// into the slot and returns it; returns null (with a trap recorded) on failure.
        [TRANSLATE] translate: unsafe extern "sysv64" fn(callee: *const FuncEntry) -> *const FuncCode,
        /// Raises the trap whose status is `status` (recorded by whoever failed) from
        /// machine code: unwinds the generated frames to the innermost entry trampoline.
        /// It never returns; code that calls it continues with a trap of its own.
        [RAISE] raise: unsafe extern "sysv64" fn(status: u32),
        /// Function `func_index` of the instance is hot: the counter of its code of tier
        /// `tier` (a [`crate::Tier`] as `u32`: the tier of the code that reports, which may
        /// be older than the code its slot holds now) ran out at its entry (`at` is
        /// [`NO_OSR`]) or on the way into the OSR point before the instruction at module
        /// offset `at` ([`crate::osr`]); `outer` is the point of the outermost loop around
        /// `at` where the tier knows it (the runtime may prefer to move there), else `at`.
        /// The runtime decides what to compile; it returns the record of an OSR entry of a
        /// higher tier for `at` when one is ready (the caller may move into it), null
        /// otherwise. It may set a counter the tier keeps in the slot
        /// ([`crate::FuncEntry::hotness`]) to make it report again sooner. It never traps.
        [HOT] hot: unsafe extern "sysv64" fn(vmctx: *mut VmContext, func_index: u32, at: u32, tier: u32, outer: u32) -> *const FuncCode,
        /// Code found its context's [`VmContext::interrupt`] set at a function entry or a
        /// loop header. Where the deadline has passed, the runtime does what the store was
        /// set to do (trap with [`crate::TrapCode::Interrupt`], or call the embedder, who
        /// may move the deadline on); it returns [`crate::STATUS_OK`] to go on, or the
        /// status of the trap (recorded) for the caller to raise.
        [EPOCH] epoch: unsafe extern "sysv64" fn(vmctx: *mut VmContext) -> u32,
        /// [`Libcalls::epoch`] for code that keeps values in registers across the check:
        /// it preserves every register (general-purpose and vector; not the flags), and
        /// where the store traps it raises the trap itself, as [`Libcalls::raise`] would
        /// from the call site, and does not return. Cranelift calls it with its
        /// `preserve_all` convention, so that a loop's values stay in registers across
        /// the rarely taken call; the baseline tier calls it from its prologue, before the
        /// parameters are stored.
        [EPOCH_PRESERVING] epoch_preserving: unsafe extern "sysv64" fn(vmctx: *mut VmContext),
    }
}

// SAFETY: a `VmContext` is only dereferenced by the thread using its store; the runtime
// moves stores between threads only as a whole.
unsafe impl Send for VmContext {}
// SAFETY: see `Send`.
unsafe impl Sync for VmContext {}
// SAFETY: `base` never changes and `length` is atomic.
unsafe impl Send for MemoryDef {}
// SAFETY: see `Send`.
unsafe impl Sync for MemoryDef {}
// SAFETY: a table is only mutated by the thread using its store.
unsafe impl Send for TableDef {}
// SAFETY: see `Send`.
unsafe impl Sync for TableDef {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vmctx_offsets() {
        assert_eq!(offsets::MEMORY_BASE, 0);
        assert_eq!(offsets::MEMORY, 8);
        assert_eq!(offsets::FUNC_REFS, 16);
        assert_eq!(offsets::DEFINED_FUNCS, 24);
        assert_eq!(offsets::GLOBALS, 32);
        assert_eq!(offsets::LIMITS, 40);
        assert_eq!(offsets::TABLES, 48);
        assert_eq!(offsets::TYPE_IDS, 56);
        assert_eq!(offsets::LIBCALLS, 64);
        assert_eq!(offsets::INSTANCE, 72);
        assert_eq!(offsets::STORE, 80);
        assert_eq!(offsets::INTERRUPT, 88);
        assert_eq!(offsets::SIZE, 96);
        assert_eq!(limits_offsets::STACK_LIMIT, 0);
        assert_eq!(limits_offsets::MAX_CALL_DEPTH, 8);
        assert_eq!(limits_offsets::SIZE, 16);
    }

    #[test]
    fn memory_and_table_offsets() {
        assert_eq!(memory_offsets::BASE, 0);
        assert_eq!(memory_offsets::LENGTH, 8);
        assert_eq!(memory_offsets::GUARDED, 16);
        assert_eq!(memory_offsets::SIZE, 24);
        assert_eq!(table_offsets::ELEMENTS, 0);
        assert_eq!(table_offsets::LENGTH, 8);
        assert_eq!(table_offsets::SIZE, 16);
    }

    #[test]
    fn libcall_offsets() {
        assert_eq!(libcall_offsets::MEMORY_GROW, 0);
        assert_eq!(libcall_offsets::MEMORY_INIT, 8);
        assert_eq!(libcall_offsets::DATA_DROP, 16);
        assert_eq!(libcall_offsets::TABLE_GROW, 24);
        assert_eq!(libcall_offsets::TABLE_FILL, 32);
        assert_eq!(libcall_offsets::TABLE_COPY, 40);
        assert_eq!(libcall_offsets::TABLE_INIT, 48);
        assert_eq!(libcall_offsets::ELEM_DROP, 56);
        assert_eq!(libcall_offsets::TRANSLATE, 64);
        assert_eq!(libcall_offsets::RAISE, 72);
        assert_eq!(libcall_offsets::HOT, 80);
        assert_eq!(libcall_offsets::EPOCH, 88);
        assert_eq!(libcall_offsets::EPOCH_PRESERVING, 96);
        assert_eq!(libcall_offsets::SIZE, 104);
    }
}
