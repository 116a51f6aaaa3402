//! The [`Compiler`] trait every tier implements, and what a compilation yields.
//!
//! A tier is a compiler and nothing more: given the [`ModuleEnv`] and the index of a defined
//! function it returns code, and it never maps memory or touches a live instance. The
//! runtime keeps, per module, the code each tier made for each function, and asks "compile
//! function F with tier T" without knowing what T makes. A compilation is one of two kinds:
//!
//! * [`Compiled::Owned`]: code that needs no machine-code runtime, such as the interpreter's
//!   bytecode. The tier owns it, with its [`FuncCode`] record inside; the runtime fills in
//!   the record's register entry (an adapter for the function's signature, see
//!   [`Compiler::compile_adapter`]) and keeps the value alive until the module is dropped.
//! * [`Compiled::Machine`]: machine code as bytes with its tables ([`MachineCode`]). The
//!   runtime copies the bytes into executable memory of its own, applies the relocations,
//!   registers the trap table and the wasm offset map for its signal handler and its
//!   backtraces, and makes the record.
//!
//! # Machine code
//!
//! Code of a JIT tier for one function holds two entries:
//!
//! * the **register entry**, which JIT code calls directly, by the convention of
//!   [`crate::regcall`];
//! * the **array shim**, an `extern "sysv64" fn(callee, code, caller, args_results) -> u32`
//!   (the [`crate::ArrayEntry`] signature) that loads the parameters from the cells, calls the
//!   register entry (through `code.register_entry`), stores the results into the cells and
//!   returns [`crate::STATUS_OK`]. The shim does not deal with traps: the runtime's entry
//!   trampoline calls it after recording where a trap resumes, and the record it publishes
//!   has the trampoline as its array entry and the shim's address as its `data`.
//!
//! A trap in machine code is either a fault at one of the code's [`TrapSite`]s (a memory
//! access beyond the accessible memory, an `ud2` of an explicit check, a division that
//! faults), which the runtime's signal handler maps to its [`TrapCode`], or a call of the
//! [`crate::Libcalls::raise`] libcall with the status of a callee or a libcall that failed.
//! Generated code keeps the frame-pointer chain (`rbp`), and every call site and trap site
//! lies in a range of the [`MachineCode::wasm_map`], so a backtrace can be walked through
//! generated frames.
//!
//! An **adapter** ([`Compiler::compile_adapter`]) is machine code for one signature with a
//! register entry only: it stores its parameters into cells, calls the array entry of the
//! record its callee slot holds, raises a failed status and returns the results by the
//! register convention. Interpreted and host functions are called by JIT code through it,
//! so every record has a register entry.

use std::any::Any;

use wasmparser::ValType;

use crate::entry::{FuncCode, Tier};
use crate::env::ModuleEnv;
use crate::trap::TrapCode;

/// How a compilation must treat linear memory, and whether the code counts its hotness.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CompileOptions {
    /// The memories the code will run with may have no guard region, so every access must
    /// be checked against the bound in the memory's [`crate::MemoryDef`]. Without it, an
    /// access whose static offset plus size is at most [`crate::GUARD_BYTES`] needs no
    /// check: the reservation of [`crate::GUARDED_RESERVATION`] bytes covers it.
    pub bounds_checks: bool,
    /// Where the code is to count its own hotness (a tier in the middle of the chain): the
    /// budget of work, in wasm operators, that the function's slot counter
    /// ([`crate::FuncEntry::hotness`]) starts at and is set back to at each report. The
    /// code spends it at the function's entry and at loop headers, by the work between
    /// them, and calls [`crate::Libcalls::hot`] when it drops below zero. `None`: no
    /// counting (the top tier, or a mode that does not tier up).
    pub hotness_budget: Option<u32>,
    /// The code is to count its calls: one increment of the slot's
    /// [`crate::FuncEntry::calls`] at the function's entry (not at OSR entries), for the
    /// runtime's tier report. Off, the code has no trace of it.
    pub count_calls: bool,
    /// The code is to test its context's [`crate::VmContext::interrupt`] at its entry
    /// and at every loop header (or, where its code is [`MachineCode::preemptible`], as the
    /// crate docs' refinement on interruption says) and, where it is set, call
    /// [`crate::Libcalls::epoch`] (raising the status that returns if it is not
    /// `STATUS_OK`) or [`crate::Libcalls::epoch_preserving`]. Off, the code has no trace
    /// of it.
    pub epoch_interruption: bool,
    /// The code stands in, for good, for code of a quicker tier that could not compile the
    /// function (the baseline mode's functions the baseline tier refuses: they are
    /// compiled at their first call, on the program's thread, and never tier up): a tier
    /// may trade the quality of its code for a shorter compile.
    pub quick: bool,
}

/// Why a function could not be compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileError(pub String);

/// The start of the message of a [`CompileError::beyond_limits`].
const BEYOND_LIMITS: &str = "beyond the tier's limits: ";

impl CompileError {
    /// The error of a valid function whose code in this tier would not run where the code
    /// of a lower tier does (the optimizing tier's frame for a huge function, say): the
    /// runtime keeps the function in the tier below, where it would otherwise trap or
    /// refuse it.
    pub fn beyond_limits(why: impl core::fmt::Display) -> CompileError {
        CompileError(format!("{BEYOND_LIMITS}{why}"))
    }

    /// Whether this is a [`CompileError::beyond_limits`].
    pub fn is_beyond_limits(&self) -> bool {
        self.0.starts_with(BEYOND_LIMITS)
    }
}

impl core::fmt::Display for CompileError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CompileError {}

/// The validator of one function body ([`Compiler::compile_validating`]).
pub type BodyValidator = wasmparser::FuncValidator<wasmparser::ValidatorResources>;

/// Why [`Compiler::compile_validating`] made no code.
#[derive(Debug)]
pub enum ValidatingError {
    /// The body is invalid: the validator's (or the decoder's) error.
    Invalid(wasmparser::BinaryReaderError),
    /// The body is valid as far as it was read, and the tier cannot compile it.
    Compile(CompileError),
}

impl From<CompileError> for ValidatingError {
    fn from(e: CompileError) -> ValidatingError {
        ValidatingError::Compile(e)
    }
}

/// A tier: a compiler from a defined function of a module to code.
pub trait Compiler: Send + Sync {
    /// The tier the code belongs to (the `tier` of the records made from it).
    fn tier(&self) -> Tier;

    /// Compiles the defined function `func_index` of `env`'s module. The body has been
    /// validated.
    fn compile(
        &self,
        env: &ModuleEnv,
        func_index: u32,
        options: &CompileOptions,
    ) -> Result<Compiled, CompileError>;

    /// Compiles the defined function `func_index` of `env`'s module, whose body has not been
    /// validated yet, and validates it with `validator` (made for that body, its locals not
    /// yet defined). A tier that reads the body once for both passes each operator to the
    /// validator before it translates it; the default validates the whole body first and
    /// then calls [`Compiler::compile`].
    ///
    /// [`ValidatingError::Invalid`] says the body is invalid. After a
    /// [`ValidatingError::Compile`] the validation may be unfinished (the tier stops at
    /// what it cannot compile): the runtime validates the body again before another tier
    /// compiles it.
    fn compile_validating(
        &self,
        env: &ModuleEnv,
        func_index: u32,
        options: &CompileOptions,
        validator: &mut BodyValidator,
    ) -> Result<Compiled, ValidatingError> {
        let body = env
            .body_reader(func_index)
            .ok_or_else(|| CompileError(format!("function {func_index} has no body")))?;
        validator
            .validate(&body)
            .map_err(ValidatingError::Invalid)?;
        Ok(self.compile(env, func_index, options)?)
    }

    /// Machine code of the adapter for functions of type `params -> results` (see the
    /// module docs), or `None` for a tier that makes no machine code.
    fn compile_adapter(
        &self,
        params: &[ValType],
        results: &[ValType],
    ) -> Option<Result<MachineCode, CompileError>> {
        let _ = (params, results);
        None
    }

    /// The OSR entry of the defined function `func_index` at the point before its
    /// instruction at module offset `at` ([`crate::osr`]), or an error for a tier that makes
    /// none (the default) or a point that is not reachable.
    fn compile_osr(
        &self,
        env: &ModuleEnv,
        func_index: u32,
        at: u32,
        options: &CompileOptions,
    ) -> Result<MachineCode, CompileError> {
        let _ = (env, func_index, at, options);
        Err(CompileError(format!(
            "the {} tier makes no OSR entries",
            self.tier().name()
        )))
    }
}

/// What a compilation yields.
pub enum Compiled {
    /// Code the tier keeps in memory of its own.
    Owned(Box<dyn OwnedCode>),
    /// Machine code for the runtime to load.
    Machine(MachineCode),
}

impl core::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Compiled::Owned(_) => f.write_str("Compiled::Owned(..)"),
            Compiled::Machine(m) => f.debug_tuple("Compiled::Machine").field(m).finish(),
        }
    }
}

/// Code a tier owns, with its [`FuncCode`] record inside.
///
/// # Safety
///
/// [`OwnedCode::record`] must return the same pointer every time, to a valid record that
/// stays at that address, and unchanged except for what the runtime writes through it, for
/// as long as the value lives (the value is boxed and never moved out of its box). The
/// record's array entry must honour [`crate::ArrayEntry`] for the function it was made for.
pub unsafe trait OwnedCode: Any + Send + Sync {
    /// The record. The runtime sets its `register_entry` before publishing it and never
    /// writes it again afterwards.
    fn record(&mut self) -> *mut FuncCode;
}

/// Machine code for one function (or one adapter), position independent except for
/// [`MachineCode::relocs`].
#[derive(Clone, Debug, Default)]
pub struct MachineCode {
    /// The code, with its constants.
    pub bytes: Vec<u8>,
    /// The alignment the start of `bytes` needs (a power of two).
    pub align: u32,
    /// Offset of the register entry in `bytes`.
    pub register_entry: u32,
    /// Offset of the array shim, `None` for an adapter.
    pub array_shim: Option<u32>,
    /// Code offsets of the instructions that may fault, and the trap each fault means;
    /// sorted by offset.
    pub traps: Vec<TrapSite>,
    /// Places to patch once the code's address is known.
    pub relocs: Vec<Reloc>,
    /// Which wasm instruction each range of the code belongs to: entry `i` covers code
    /// offsets from its `code_offset` up to the next entry's; sorted by `code_offset`.
    /// Ranges that belong to no wasm instruction (prologue, shim) have
    /// [`SourceLoc::NONE`].
    pub wasm_map: Vec<SourceLoc>,
    /// The size of the register entry's frame in bytes, below its saved frame pointer.
    pub frame_size: u32,
    /// Where the runtime may interrupt the code asynchronously (empty: nowhere): a thread
    /// stopped by a signal at an instruction in this range that is not a `ret` may be
    /// made to call the runtime's epoch handling there (as [`crate::Libcalls::epoch_preserving`]
    /// does: every register and the flags kept), its return address pushed below the
    /// stack pointer, and resume at that instruction. So in the range the frame-pointer chain holds the function's own frame
    /// (its prologue has set it up, and only a `ret` follows its epilogue's restore of the
    /// caller's), nothing lives below the stack pointer, and the stack has room for a call
    /// of the runtime. Code that leaves epoch tests out of loops relies on it (the crate
    /// docs' refinement on interruption).
    pub preemptible: core::ops::Range<u32>,
}

impl MachineCode {
    /// The wasm offset of the instruction that code offset `offset` belongs to.
    pub fn wasm_offset(&self, offset: u32) -> Option<u32> {
        wasm_offset(&self.wasm_map, offset)
    }

    /// The trap of a fault at code offset `offset`.
    pub fn trap_at(&self, offset: u32) -> Option<TrapCode> {
        trap_at(&self.traps, offset)
    }
}

/// The wasm offset that code offset `offset` maps to in `map` (a [`MachineCode::wasm_map`]).
pub fn wasm_offset(map: &[SourceLoc], offset: u32) -> Option<u32> {
    let i = map.partition_point(|l| l.code_offset <= offset);
    let loc = map.get(i.checked_sub(1)?)?;
    (loc.wasm_offset != SourceLoc::NONE).then_some(loc.wasm_offset)
}

/// The trap of a fault at code offset `offset` among `traps` (sorted by offset).
pub fn trap_at(traps: &[TrapSite], offset: u32) -> Option<TrapCode> {
    let i = traps.binary_search_by_key(&offset, |t| t.offset).ok()?;
    Some(traps[i].code)
}

/// An instruction that may fault, and the trap its fault means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrapSite {
    /// Offset of the faulting instruction in the code.
    pub offset: u32,
    /// The trap.
    pub code: TrapCode,
}

/// The start of a range of code that belongs to one wasm instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceLoc {
    /// The first code offset of the range.
    pub code_offset: u32,
    /// The byte offset in the module of the wasm instruction, or [`SourceLoc::NONE`].
    pub wasm_offset: u32,
}

impl SourceLoc {
    /// The `wasm_offset` of code that belongs to no wasm instruction.
    pub const NONE: u32 = u32::MAX;
}

/// A place in the code to patch with the address of a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reloc {
    /// Offset of the bytes to patch.
    pub offset: u32,
    /// How to patch them.
    pub kind: RelocKind,
    /// What to point them at.
    pub target: RelocTarget,
    /// Added to the target's address.
    pub addend: i64,
}

/// How a relocation is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelocKind {
    /// The absolute address, 8 bytes little-endian.
    Abs8,
    /// The address relative to the patched bytes (`target + addend - place`), 4 bytes
    /// signed little-endian.
    PcRel4,
}

/// A function outside the code that the code calls by address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RelocTarget {
    /// A rounding function for hosts without a rounding instruction.
    Libm(Libm),
}

/// The rounding functions a code generator may call instead of inlining them
/// (`extern "C" fn(f32) -> f32` and `extern "C" fn(f64) -> f64`, as `libm` names them);
/// [`Libm::address`] is the implementation whoever loads the code patches in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Libm {
    /// `floorf`.
    FloorF32,
    /// `floor`.
    FloorF64,
    /// `ceilf`.
    CeilF32,
    /// `ceil`.
    CeilF64,
    /// `truncf`.
    TruncF32,
    /// `trunc`.
    TruncF64,
    /// `nearbyintf` in round-to-nearest-even mode (wasm `f32.nearest`).
    NearestF32,
    /// `nearbyint` in round-to-nearest-even mode (wasm `f64.nearest`).
    NearestF64,
}

impl Libm {
    /// The address of this crate's implementation of the function.
    pub fn address(self) -> usize {
        extern "C" fn floorf(x: f32) -> f32 {
            x.floor()
        }
        extern "C" fn floor(x: f64) -> f64 {
            x.floor()
        }
        extern "C" fn ceilf(x: f32) -> f32 {
            x.ceil()
        }
        extern "C" fn ceil(x: f64) -> f64 {
            x.ceil()
        }
        extern "C" fn truncf(x: f32) -> f32 {
            x.trunc()
        }
        extern "C" fn trunc(x: f64) -> f64 {
            x.trunc()
        }
        extern "C" fn nearbyintf(x: f32) -> f32 {
            x.round_ties_even()
        }
        extern "C" fn nearbyint(x: f64) -> f64 {
            x.round_ties_even()
        }
        let f: *const () = match self {
            Libm::FloorF32 => floorf as *const (),
            Libm::FloorF64 => floor as *const (),
            Libm::CeilF32 => ceilf as *const (),
            Libm::CeilF64 => ceil as *const (),
            Libm::TruncF32 => truncf as *const (),
            Libm::TruncF64 => trunc as *const (),
            Libm::NearestF32 => nearbyintf as *const (),
            Libm::NearestF64 => nearbyint as *const (),
        };
        f as usize
    }
}
