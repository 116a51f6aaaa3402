//! On-stack replacement: how a running activation of one tier moves into the code of
//! another in the middle of a function, at an OSR point.
//!
//! # OSR points
//!
//! An OSR point of a defined function is the boundary just before one of its instructions,
//! named by that instruction's byte offset in the module (`at`). The point must be
//! reachable (not in the dead code after an `unreachable`, `br`, `br_table` or `return`).
//! Tiers move at branch targets: a loop header is the point before its `loop` instruction
//! (where the operand stack holds the loop's parameters at its top), the start of the code
//! after a `block`'s or `if`'s end is the point before the instruction that follows the
//! `end`. (The design document speaks of loop headers only; the interpreter's dispatch
//! loops jump back to the cases of a `br_table` from copies of the loop's head, and those
//! cases begin after block ends, so the contract names any instruction boundary.)
//!
//! # The state
//!
//! The state at an OSR point is one [`crate::ValRaw`] cell per value, in wasm order:
//!
//! 1. every local, parameters first, by index;
//! 2. every operand-stack entry at the point, bottom first (the entries of the enclosing
//!    blocks, then the parameters of a loop whose header the point is).
//!
//! So a function with `L` locals at a point where the stack holds `H` values has a state of
//! `L + H` cells ([`state_len`]). The tier that is running writes the state; it knows the
//! stack height at its OSR points (the validator's height there).
//!
//! # The OSR entry
//!
//! [`crate::Compiler::compile_osr`] compiles an entry for one (function, point): machine
//! code whose register entry has, by [`crate::regcall`], the signature of a wasm function
//! of type `[i64] -> R`, where `R` are the function's results and the `i64` is the address
//! of the state, and whose array shim is the shim of that type. It reads the whole state
//! before anything else can happen (a trap, a call), runs the rest of the function from the
//! point and returns the function's results. Its trap sites, wasm offset map and stack-limit
//! check are those of an ordinary compilation of the function, so traps and backtraces
//! inside it name the function and its wasm offsets.
//!
//! The runtime calls it through its array entry with one cell holding the state's address
//! (and room for the results), from the frame of the function that moves: the caller then
//! returns those results as its own.

use wasmparser::ValType;

/// The number of state cells of a function with `locals` locals (parameters included) at a
/// point where the operand stack holds `height` values.
pub const fn state_len(locals: u32, height: u32) -> usize {
    locals as usize + height as usize
}

/// The parameter types of the register entry of every OSR entry: the state's address.
pub const ENTRY_PARAMS: [ValType; 1] = [ValType::I64];
