//! `tierup-interp`: tierup's register-based interpreter.
//!
//! [`translate`] turns one validated wasm function body into register bytecode (an
//! [`InterpFunc`]); [`array_entry`] runs it through the uniform array calling convention
//! of `tierup-abi`. [`Interp`] is the tier as a `tierup_abi::Compiler`: its code is an
//! owned `InterpFunc` whose record the runtime completes and publishes into the
//! function's entry slot.
//!
//! # Modules
//!
//! The data model, which knows nothing of execution:
//! * `isa` — the instructions: the table of operators of a fixed shape (`isa/table.rs`)
//!   and the hand-written rest, from which `isa/define.rs` generates `Instr`.
//! * `inst` — the instruction word the executor runs (an instruction with its handler's
//!   address) and the forms that choose the handler.
//! * `func` — [`InterpFunc`]: bytecode, frame image, call sites, offsets for backtraces.
//! * `regs` — register indices and how values sit in registers (the leaf of the crate).
//! * `num`, `simd` — the operations with exact wasm semantics (scalar, and v128 lanes).
//!
//! Above it, the two halves:
//! * `translate` — wasm operators to bytecode: the provider stack, operand folding,
//!   `local.set` retargeting, control flow, and the fusions (their catalogue, with the
//!   reason for each, is `translate/fusions.md`).
//! * `exec` — the array entry, frames, the threaded handlers by family, trap backtraces.
//!
//! # Frames and registers
//!
//! A frame is an array of 8-byte registers addressed by `i16` indices (`i32` in the wide
//! form, below) relative to the frame pointer: parameters and locals from register 0
//! (declared locals zeroed on entry), then
//! the function's constants (each distinct constant once; those the code only uses as
//! immediates are dropped), then the operand-stack temporaries. One copy of a
//! per-function image sets up the locals and constants on entry. Values are stored
//! zero-extended (i32, f32 bits), as their 64 bits (i64, f64) or as a pointer-sized
//! reference, one register each; a `v128` takes two adjacent registers (low half first),
//! so scalar frames stay 8 bytes a register. All frames of a thread live on one register
//! stack (`exec::stack`): a call between interpreted functions, also across instances,
//! pushes a frame and continues in the same handler chain, without host recursion. A
//! callee's frame begins at its arguments, the caller's topmost temporaries, so they are
//! its parameters without a copy, and it returns its results to the same place.
//!
//! # Register forms
//!
//! Register operands are 16 bits, which keeps an instruction in 16 bytes (24 with its
//! handler) and a function's code dense. They name 32,767 registers for a function's
//! locals, distinct constants and operand stack together (and 32,768 constants), which a
//! valid function can exceed: the JS API's limits allow 50,000 locals, and a
//! 7,654,321-byte body can keep millions of values on its operand stack. Such a function
//! is translated in the *wide form*: the same sources built again as the crate
//! `tierup-interp-wide` (its manifest points at this crate's sources; `build.rs` sets the
//! `wide_registers` cfg for it), where `Reg` is `i32` and an instruction up to 32 bytes.
//! Nothing else differs, so the two forms cannot drift apart. The compact form reports a
//! function it cannot name ([`TranslateError::beyond_registers`]) and the runtime
//! translates it in the wide form (`tierup`'s `Interpreter` tier); a translation that
//! fits is never done twice.
//!
//! The two forms are two interpreters to each other. Each runs its own records directly
//! (a call pushes a frame) and the other's through their array entry, and tells them
//! apart by the record's kind (`FuncCode::variant`, compared with `tier` in one 16-bit
//! load, so the compact form's call check costs what it did). Each has its own register
//! stack per thread (the wide one of 64 MiB, reserved and backed as it is used), and its
//! own tag in the thread's running word (see [`running_function`]).
//!
//! # Dispatch
//!
//! Direct-threaded code: each instruction stores its handler's address, and each handler
//! ends by calling the next instruction's handler in tail position (one indirect jump),
//! with the instruction pointer, frame pointer, memory base and length, the activation's
//! context and an accumulator passed in registers. The accumulator carries a value from
//! the instruction that computes it to the one that uses it, when the translator links
//! them (see `inst::Form`). Backward branches and calls check the host stack pointer, so
//! the host stack stays bounded whatever the compiler makes of the tail calls (see
//! `exec::run`). The call depth is bounded (`call stack exhausted`), and traps carry
//! wasm backtraces.
//!
//! # Hotness and on-stack replacement
//!
//! Each translated function counts its own hotness (`func::Hotness`), shared by every
//! instance of its module, so that a function hot in two instances is hot once. The
//! budget is spent at function entry (by the function's length, up to a cap) and at
//! every backward branch (by the length of the code it jumps back over: one loop
//! iteration's work), as V8's and SpiderMonkey's interpreters weigh it. An entry spends
//! from the function's counter (a load, an `add` to memory and a branch in the call
//! path); a backward branch from a loop budget in the activation's context (an `add` to
//! memory and a branch, in place of the stack-pointer check it used to make), and every
//! 32 KiB of loop work the chain returns to the trampoline, which charges what the loops
//! spent to the function that ended the sample (`exec::run`). When a function's budget
//! runs out the trampoline reports it (`Libcalls::hot`, with the OSR point it stands at)
//! and refills the budget. (The design document puts the counter in
//! `FuncEntry::hotness`, one per instance; a counter in the function is one load nearer
//! the running code, which already has the function at hand, and counts all instances
//! together.) What the counting costs is in `benches/README.md`.
//!
//! The translator records the OSR points (`func::OsrPoint`): every loop header and the
//! code after each block end a branch reaches, each with where every operand-stack value
//! is (register or constant) and the wasm offset it stands before. When the runtime
//! answers a report with an OSR entry, the executor writes the state (locals, then stack,
//! see `tierup_abi::osr`) from the frame, calls the entry and returns its results as the
//! function's own (`exec::hot`).

#![deny(unsafe_op_in_unsafe_fn)]
// The wide form builds these sources with `Reg = i32`: a cast that widens a compact
// register to `i32` is one to the same type there.
#![cfg_attr(wide_registers, allow(clippy::unnecessary_cast))]

mod error;
mod exec;
mod func;
mod inst;
mod isa;
mod num;
mod regs;
mod simd;
mod translate;

pub use error::TranslateError;
pub use exec::{array_entry, running_function};
pub use func::InterpFunc;
pub use translate::{translate, translate_with};

use tierup_abi::{CompileError, CompileOptions, Compiled, Compiler, FuncCode, ModuleEnv, Tier};

/// The interpreter as a tier: compiling a function translates it to bytecode, which
/// counts its hotness against `budget` (see [`InterpFunc::set_budget`]).
#[derive(Clone, Copy, Debug)]
pub struct Interp {
    budget: u32,
}

impl Default for Interp {
    /// An interpreter whose functions never report themselves hot.
    fn default() -> Interp {
        Interp { budget: u32::MAX }
    }
}

impl Interp {
    /// An interpreter whose functions report themselves hot (`Libcalls::hot`) every
    /// `budget` instructions of work (see [`InterpFunc::set_budget`]).
    pub fn with_budget(budget: u32) -> Interp {
        Interp { budget }
    }
}

impl Interp {
    /// Translates the function with this tier's budget, as [`Compiler::compile`] does, with
    /// the [`TranslateError`] of a function it cannot translate (which says whether the
    /// wide register form can).
    pub fn translate(
        &self,
        env: &ModuleEnv,
        func_index: u32,
        options: &CompileOptions,
    ) -> Result<InterpFunc, TranslateError> {
        let mut func = translate_with(env, func_index, options)?;
        func.set_budget(self.budget);
        Ok(func)
    }
}

impl Compiler for Interp {
    fn tier(&self) -> Tier {
        Tier::Interp
    }

    /// Translates the function (see [`translate_with`] for what the options change).
    fn compile(
        &self,
        env: &ModuleEnv,
        func_index: u32,
        options: &CompileOptions,
    ) -> Result<Compiled, CompileError> {
        let func = self
            .translate(env, func_index, options)
            .map_err(|e| CompileError(e.to_string()))?;
        Ok(Compiled::Owned(Box::new(func)))
    }
}

// SAFETY: the record is a field of the function, which the runtime keeps in its box and
// never moves; it returns the same address every time.
unsafe impl tierup_abi::OwnedCode for InterpFunc {
    fn record(&mut self) -> *mut FuncCode {
        &mut self.record
    }
}
