//! [`InterpFunc`]: the translated form of one function, immutable once built and shared by
//! every activation (it is `Send + Sync`: it holds no pointers into any instance).

use tierup_abi::FuncCode;

use crate::inst::Inst;

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
}
