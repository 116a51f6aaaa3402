//! `tierup-interp`: tierup's register-based interpreter.
//!
//! [`translate`] turns one validated wasm function body into register bytecode (an
//! [`InterpFunc`]); [`array_entry`] runs it through the uniform array calling convention
//! of `tierup-abi`. The vm publishes `InterpFunc::code()` into the function's entry slot.
//!
//! # Frames and registers
//!
//! A frame is an array of 8-byte registers addressed by `i16` indices relative to the frame
//! pointer: the function's constants at negative indices (each distinct constant interned
//! once per function, copied below the frame on entry), parameters and locals at
//! `0..num_locals` (declared locals zeroed on entry), and operand-stack temporaries from
//! `num_locals` on (stack slot `h` is register `num_locals + h`). Values are stored
//! zero-extended (i32, f32 bits), as their 64 bits (i64, f64) or as a pointer-sized
//! reference; a future `v128` will take two registers. All frames of a thread live on one
//! register stack (`exec::stack`), so calls between interpreted functions, also across
//! instances, push a frame and continue in the same loop instead of recursing on the host
//! stack. Arguments are copied into the callee's frame: its constants sit just below its
//! parameters, where the caller's live registers are, so the frame cannot start at them.
//!
//! # Modules
//!
//! * `isa` — the instruction table (one source of truth) that generates the `Instr` enum.
//! * `func` — [`InterpFunc`]: bytecode, constant pool, call sites, offsets for backtraces.
//! * `translate` — wasm operators to bytecode: provider stack, operand folding,
//!   `local.set` retargeting, fused compare-and-branch, control flow.
//! * `exec` — the array entry, frame setup, the instruction loop, trap backtraces.
//! * `num` — numeric operations with exact wasm semantics.
//!
//! # Hotness (tier-up hook)
//!
//! Tier-up is not implemented here yet. Its place is marked `Hotness:` in the sources:
//! function entry (`exec::enter_frame`) and loop headers (`translate::control`, where a
//! counting instruction would be emitted at each loop start). Both would decrement
//! `FuncEntry::hotness` of the running function and request the next tier when it drops
//! to zero, through a libcall.

#![deny(unsafe_op_in_unsafe_fn)]

mod exec;
mod func;
mod isa;
mod num;
mod translate;

pub use exec::array_entry;
pub use func::InterpFunc;
pub use translate::translate;

/// Why a function could not be translated.
#[derive(Debug, Clone)]
pub struct TranslateError {
    message: String,
    offset: usize,
}

impl TranslateError {
    /// What went wrong.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The byte offset in the module where translation failed.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl core::fmt::Display for TranslateError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} (at byte offset {:#x})", self.message, self.offset)
    }
}

impl std::error::Error for TranslateError {}
