//! `tierup-interp`: tierup's register-based interpreter.
//!
//! [`translate`] turns one validated wasm function body into register bytecode (an
//! [`InterpFunc`]); [`array_entry`] runs it through the uniform array calling convention
//! of `tierup-abi`. The vm publishes `InterpFunc::code()` into the function's entry slot.
//!
//! # Frames and registers
//!
//! A frame is an array of 8-byte registers addressed by `i16` indices relative to the frame
//! pointer: parameters and locals from register 0 (declared locals zeroed on entry), then
//! the function's constants (each distinct constant interned once per function; those the
//! code only uses as immediates are dropped), then the operand-stack temporaries. One copy
//! of a per-function image sets up the locals and constants on entry. Values are stored
//! zero-extended (i32, f32 bits), as their 64 bits (i64, f64) or as a pointer-sized
//! reference, one register each.
//!
//! # v128 values: register pairs
//!
//! A `v128` occupies two adjacent registers (the low 64 bits first, so on a little-endian
//! host the pair holds the vector's 16 bytes in order and is read with one unaligned
//! 16-byte access). Registers stay 8 bytes wide, so scalar code keeps its frame layout and
//! speed. The translator lays locals, parameters and operand-stack slots out by width:
//! each slot starts after the previous one (one register for a scalar, two for a v128),
//! which depends only on the types below it, so control-flow merges agree on the layout.
//! v128 constants take two constant registers; `i8x16.shuffle`'s lane immediate is such a
//! constant. Caller and callee lay values out alike (the callee's parameters are the
//! caller's argument registers); at the array calling convention's boundary (entry, return, calls of host
//! functions) signatures with a v128 are converted one value per 16-byte cell using width
//! flags recorded at translation. v128 instructions run out of line (`exec::vector`) over
//! lane arrays (`simd`), which LLVM compiles to SSE instructions. All frames of a thread live on one
//! register stack (`exec::stack`), so calls between interpreted functions, also across
//! instances, push a frame and continue in the same loop instead of recursing on the host
//! stack. A callee's frame begins at its arguments, the caller's topmost temporaries (the
//! caller's registers above them are dead at the call, and its constants are below its
//! temporaries): the arguments are its parameters without a copy, and it returns its
//! results to the same place.
//!
//! # Modules
//!
//! * `isa` — the instruction table (one source of truth) that generates the `Instr` enum.
//! * `func` — [`InterpFunc`]: bytecode, frame image, call sites, offsets for backtraces.
//! * `translate` — wasm operators to bytecode: provider stack, operand folding,
//!   `local.set` retargeting, fused compare-and-branch, control flow.
//! * `exec` — the array entry, frame setup, the instruction handlers, trap backtraces.
//! * `num` — numeric operations with exact wasm semantics; how operands sit in registers.
//! * `simd` — the v128 lane operations (integer, float, memory forms).
//!
//! # Dispatch
//!
//! Execution is direct-threaded code: the translator's `Instr`s are stored with the
//! address of their handler (`exec::Inst`), one handler function per instruction, and
//! each handler ends by loading the next instruction's handler and calling it in tail
//! position (compiled to one indirect jump), with the instruction pointer, frame pointer
//! and memory base/length passed in registers. Each handler thus has its own dispatch
//! jump, which the branch predictor learns per instruction pair. The last handler
//! argument is an accumulator (an integer and a float register; f64 values use the
//! latter, so float chains stay in vector registers): when an instruction's result is a
//! temporary that only the next instruction reads, the translator gives the pair forms
//! (`exec::form`) in which the value passes in that machine register instead of through
//! the frame, so a chain of operations does not store and reload each intermediate value.
//! When the result goes to a local that the next instruction reads (and that is not a
//! branch target), the operator or load writes the local and passes the value on in the
//! accumulator too (form `TEE`, set by a pass over the laid-out code; a branch that
//! counts, `PRE` below, passes its counter on so). Constant operands
//! of binary operators are immediates in the instruction. Setting a
//! declared local to zero where it still holds its initial zero (nothing named it yet, no
//! loop around) emits nothing. A few
//! pairs are fused into one instruction where the first's result has no other reader: a
//! shift or rotation by a constant into the add, xor or or that reads it (the
//! shifted-operand family, `I32AddShl` and its kin: array indexing, the rotations of
//! hash rounds, xorshift steps), the `i32.add` of a constant into the load or store it
//! addresses (form `WRAP`), the
//! `i32.add` of two registers (or an `I32AddShl`) into the load or store it addresses
//! (form `INDEX`: `addr + index * scale`), a loop counter's add into the back edge that
//! tests it and an increment into the forward `br_if` that tests it (form `PRE`), a load
//! into the `f64.add`, `f64.mul` or `i32.add` that reads it (and that add with the store
//! of its sum back to the same address, `c[j] += x`: `F64AddInPlace`, `I32AddInPlace`),
//! an integer compare with the `select` of its own operands into a minimum or
//! maximum, a constant shift with a constant mask (`I32ShiftMask`, and with the `i32.or`
//! that inserts the field: `I32OrShiftMask`), and an indexed byte
//! load into the `==`/`!=` branch that reads it (`BrI32NeLoad8U`). Address
//! arithmetic from locals up to 16 straight-line instructions before the access (a store's
//! address comes before its value is computed) folds into it the same ways. Pairs with no
//! data between them share a dispatch too: two consecutive copies (`Copy2`), two
//! increments of locals (`I32AddImm2`), two other adds into locals (`I32Add2`), and an
//! element's address computed into a local with the `i32.load` from it (`I32AddShlLoad`:
//! the address stays for the store back through it, as in a swap), and a copy of an index
//! with the indexed `i32.load` at it (`CopyI32Load`: `i = next; x = a[i]`); a call
//! sets its one argument itself when it was just copied or incremented (form `PRE`). When a
//! fusion leaves the fused instruction right after the producer of one of its operands,
//! that operand is linked through the accumulator as well. An unsigned division by a
//! constant is a multiplication (`I32DivUMagic`); a multiplication by a constant joins
//! the `i32.sub` that reads it
//! (`I32SubMulImm`, a remainder from its quotient) or the `i32.xor` it reads
//! (`I32XorMulImm`, the step of FNV-1a). An `i32.wrap_i64` that only a load, store, i32
//! operation or condition reads goes: those read the low half of the i64's register. The
//! jump back to the head of a `loop { br_table }` (an interpreter compiled to wasm) is
//! replaced by a copy of the head, so each case dispatches the next one itself. A
//! conditional branch over an unconditional jump (`br_if $a; br $b; $a:`) is one branch
//! to the jump's target, its condition negated. A single
//! scalar result returns without a copy loop (`ReturnOne`). Backward
//! branches and calls check the host stack pointer, and a chain that finds it too deep
//! (only possible where the compiler kept a tail call as a call) returns to a trampoline
//! loop, so the host stack stays bounded whatever the code generation (see `exec::run`).
//!
//! # Hotness (tier-up hook)
//!
//! Tier-up is not implemented here yet. Its place is marked `Hotness:` in the sources:
//! function entry (`exec::init_frame`) and loop headers (`translate::control`, where a
//! counting instruction would be emitted at each loop start). Both would decrement
//! `FuncEntry::hotness` of the running function and request the next tier when it drops
//! to zero, through a libcall.

#![deny(unsafe_op_in_unsafe_fn)]

mod exec;
mod func;
mod inst;
mod isa;
mod num;
mod simd;
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
