//! [`InterpFunc`]: the translated form of one function, immutable once built and shared by
//! every activation (it is `Send + Sync`: it holds no pointers into any instance).

use core::sync::atomic::{AtomicI32, Ordering};

use tierup_abi::FuncCode;

use crate::inst::Inst;
use crate::isa::Reg;

/// What a `Call`/`CallIndirect` instruction needs besides its registers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CallSite {
    /// The callee's function index (`call`) or the expected type index (`call_indirect`).
    pub index: u32,
    /// The table of a `call_indirect`.
    pub table: u32,
    /// Number of parameters.
    pub params: u32,
    /// Number of results.
    pub results: u32,
    /// Where the callee's parameter and result widths start in `InterpFunc::wide`, or
    /// [`NARROW`] when none is a v128 (every value is one register and one cell).
    pub wide: u32,
}

/// A signature without v128 values (see `CallSite::wide`).
pub(crate) const NARROW: u32 = u32::MAX;

/// Where one value of the wasm state at an OSR point lives in the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StateLoc {
    /// In register `r` (and `r + 1` for a v128, `wide`).
    Reg { r: Reg, wide: bool },
    /// A constant whose register the layout dropped (an immediate everywhere it is read).
    Const(u128),
}

/// An instruction of the code where the wasm state is known: an OSR point
/// (`tierup_abi::osr`), a loop header or the code after a block's end that a branch
/// reaches.
#[derive(Clone, Debug)]
pub(crate) struct OsrPoint {
    /// The instruction's index in `InterpFunc::code`.
    pub inst: u32,
    /// The module offset of the wasm instruction the point precedes.
    pub at: u32,
    /// The operand stack at the point, bottom first.
    pub stack: Box<[StateLoc]>,
}

/// The hotness counter of a function: a budget of work, spent at function entry and at
/// backward branches, in bytes of bytecode (one instruction is `size_of::<Inst>()`): an
/// entry spends `-entry_delta`, a backward branch the length of the code it jumps back
/// over and itself, which is what one iteration of the loop ran, so a loop of ten
/// instructions spends ten times what a loop of one does (the weighting of V8's and
/// SpiderMonkey's interpreters). Entries spend from the function's counter directly;
/// backward branches spend from their activation's loop budget (`Ctx::loop_budget`, a
/// field of the context the handlers have in a register, so the check is an `add` to
/// memory and a branch), which is charged to the function whose branch ends a sample of
/// `LOOP_SAMPLE` bytes: in effect each function pays for its loops in units of 1,365
/// instructions. When the counter runs out the function is hot: the executor reports it
/// (`Libcalls::hot`) and the budget starts again.
#[derive(Debug)]
pub(crate) struct Hotness {
    pub left: AtomicI32,
    /// What the budget starts at.
    pub budget: i32,
    /// What an entry adds to the budget (minus what it spends).
    pub entry_delta: i32,
}

impl Hotness {
    /// Starts the budget again.
    pub fn refill(&self) {
        self.left.store(self.budget, Ordering::Relaxed);
    }
}

/// A function translated to register bytecode.
///
/// Invariants the executor relies on (established by the translator):
/// 1. `code` ends in a terminator (every path reaches a `Return`, `Trap` or a backward
///    branch), and every branch offset lands inside `code`.
/// 2. Every register an instruction names lies in `0 .. frame_size`; a span operand
///    (`Return`, `CopySpan`, a call's arguments) lies within it as a whole.
/// 3. `offsets.len() == code.len()`; `Call*` sites index `calls`; a `BrTable { len }` is
///    followed by `len + 1` `Br` instructions.
/// 4. A v128 operand names the first of two registers that both satisfy 2; a site's or
///    the function's `wide` index (unless `NARROW`) starts `params + results` flags in
///    `wide`, and the flags' widths add up to the register counts.
#[derive(Debug)]
#[repr(C)]
pub struct InterpFunc {
    /// The code record to publish. It is the first field, so a record of the interpreter
    /// tier is at the address of its function: a call finds the function without loading
    /// `data` (which is null).
    pub(crate) record: FuncCode,
    pub(crate) code: Box<[Inst]>,
    /// The wasm byte offset (in the module) of each instruction, for trap backtraces.
    pub(crate) offsets: Box<[u32]>,
    /// What a new frame holds from register `image_at` up, past the parameters (which
    /// the caller sets): zero for every other local, then the constants. One copy sets
    /// up the frame. (Frame layout: parameters and locals, constants, then operand-stack
    /// temporaries; a callee's frame begins at its arguments, the caller's topmost
    /// temporaries.)
    pub(crate) image: Box<[u64]>,
    /// The first register after the parameters.
    pub(crate) image_at: u32,
    pub(crate) calls: Box<[CallSite]>,
    /// Width flags (`true`: a v128 in two registers) of signatures with v128 values,
    /// parameters then results, indexed by `CallSite::wide` and `sig_wide`.
    pub(crate) wide: Box<[bool]>,
    /// Where this function's own parameter and result widths start in `wide` (or
    /// [`NARROW`]).
    pub(crate) sig_wide: u32,
    pub(crate) func_index: u32,
    pub(crate) num_params: u32,
    pub(crate) num_results: u32,
    /// Registers from the frame pointer up: locals, constants and the deepest operand
    /// stack.
    pub(crate) frame_size: u32,
    pub(crate) hotness: Hotness,
    /// The register of each wasm local (parameters first), and whether it is a v128.
    pub(crate) locals: Box<[(Reg, bool)]>,
    /// The OSR points, by instruction index.
    pub(crate) osr: Box<[OsrPoint]>,
}

impl InterpFunc {
    /// The code record to publish. It lies inside `self`, so `self` must stay at a stable
    /// address (the vm boxes it) for as long as the record is used.
    pub fn code(&self) -> *const FuncCode {
        &self.record
    }

    /// The function whose record `code` is.
    ///
    /// # Safety
    ///
    /// `code` is the record of an `InterpFunc` (its tier is `Interp`).
    #[inline(always)]
    pub(crate) unsafe fn of_code(code: *const FuncCode) -> *const InterpFunc {
        code.cast()
    }

    /// The function's index in its module.
    pub fn func_index(&self) -> u32 {
        self.func_index
    }

    /// The number of parameters and results of the function.
    pub fn arity(&self) -> (u32, u32) {
        (self.num_params, self.num_results)
    }

    /// The number of bytecode instructions (for diagnostics and tier heuristics).
    pub fn len(&self) -> usize {
        self.code.len()
    }

    /// Whether the bytecode is empty (never true for a translated function).
    pub fn is_empty(&self) -> bool {
        self.code.is_empty()
    }

    /// Sets the hotness budget: the function reports itself hot (`Libcalls::hot`) each
    /// time it has done about `budget` interpreted instructions of work (entries weighted
    /// by the function's length, up to a cap, loop iterations by the loop's). The default
    /// of [`crate::translate`] is `u32::MAX`: never in practice.
    pub fn set_budget(&mut self, budget: u32) {
        let unit = core::mem::size_of::<Inst>() as u64;
        let bytes = (budget as u64 * unit).min(i32::MAX as u64) as i32;
        self.hotness.budget = bytes;
        self.hotness.refill();
    }

    /// Adds `delta` (zero or less: minus the work done) to the function's budget; whether
    /// the budget ran out. Racing threads may lose updates of each other (the counter is a
    /// heuristic: in effect a relaxed load and a relaxed store, not an atomic
    /// read-modify-write).
    #[inline(always)]
    pub(crate) fn spend(&self, delta: i32) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            // One instruction and a branch in the path of every call: `add` to the
            // counter in memory, at a constant offset from the function (which
            // the caller has in a register), then the sign of the result. The compiler
            // does not fuse a relaxed load and store into one instruction.
            // SAFETY: the counter is a valid, aligned i32 owned by `self`. A plain (not
            // `lock`ed) `add` to it is, on x86-64, an aligned 4-byte load and store, each
            // atomic: the relaxed load and store of the other targets, with which other
            // threads' relaxed accesses may interleave as they may there.
            unsafe {
                core::arch::asm!(
                    "add dword ptr [{func} + {left}], {delta:e}",
                    "js {hot}",
                    func = in(reg) self as *const InterpFunc,
                    left = const core::mem::offset_of!(InterpFunc, hotness.left),
                    delta = in(reg) delta,
                    hot = label { return true; },
                    options(nostack),
                );
            }
            false
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let left = self
                .hotness
                .left
                .load(Ordering::Relaxed)
                .wrapping_add(delta);
            self.hotness.left.store(left, Ordering::Relaxed);
            left < 0
        }
    }

    /// The module offsets of the function's OSR points, in code order.
    pub fn osr_points(&self) -> impl Iterator<Item = u32> + '_ {
        self.osr.iter().map(|p| p.at)
    }

    /// The OSR point at instruction `ip`, if it is one.
    pub(crate) fn osr_point(&self, ip: *const Inst) -> Option<&OsrPoint> {
        // Only addresses are compared: `ip` need not point into the code.
        let start = self.code.as_ptr();
        if ip < start || ip >= start.wrapping_add(self.code.len()) {
            return None;
        }
        let idx = (ip as usize - start as usize) / core::mem::size_of::<Inst>();
        let i = self
            .osr
            .binary_search_by_key(&(idx as u32), |p| p.inst)
            .ok()?;
        Some(&self.osr[i])
    }
}
