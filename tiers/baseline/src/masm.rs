//! The macro-assembler: the ISA-neutral operations the code generator emits, one method per
//! kind of machine instruction (or short fixed sequence), on registers and frame or memory
//! addresses. The code generator (`codegen/`) speaks only this trait, so what each wasm
//! operator emits reads off its visitor method; `x64.rs` implements it with `dynasm!`.

use tierup_abi::TrapCode;
use wasmparser::ValType;

/// A general-purpose register, by its hardware number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Gpr(pub u8);

/// A floating-point (vector) register, by its hardware number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Xmm(pub u8);

/// The width of an integer or float operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    /// 32 bits (`i32`, `f32`).
    S32,
    /// 64 bits (`i64`, `f64`).
    S64,
}

impl Size {
    /// The width of a scalar of type `ty`, and how many bytes it takes in a slot or cell
    /// (`Size::bytes`): 32 bits for `i32` and `f32`, 64 for the others.
    pub fn of(ty: ValType) -> Size {
        match ty {
            ValType::I32 | ValType::F32 => Size::S32,
            _ => Size::S64,
        }
    }

    /// Its bytes.
    pub fn bytes(self) -> u8 {
        match self {
            Size::S32 => 4,
            Size::S64 => 8,
        }
    }
}

/// A code position to jump to, bound once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label(pub u32);

/// A memory operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addr {
    /// `[fp + disp]`: a slot of the frame.
    Frame(i32),
    /// `[base + disp]`.
    Base(Gpr, i32),
    /// `[base + index + disp]` (a linear-memory access).
    Indexed(Gpr, Gpr, i32),
}

/// An integer condition, after a comparison of `a` with `b` ([`Masm::cmp`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cond {
    Eq,
    Ne,
    LtS,
    LtU,
    GtS,
    GtU,
    LeS,
    LeU,
    GeS,
    GeU,
    /// After a float comparison ([`Masm::fcmp`]): unordered (a NaN).
    Parity,
    /// After a float comparison: ordered.
    NoParity,
}

impl Cond {
    /// The condition that holds exactly when this one does not.
    pub fn invert(self) -> Cond {
        use Cond::*;
        match self {
            Eq => Ne,
            Ne => Eq,
            LtS => GeS,
            LtU => GeU,
            GtS => LeS,
            GtU => LeU,
            LeS => GtS,
            LeU => GtU,
            GeS => LtS,
            GeU => LtU,
            Parity => NoParity,
            NoParity => Parity,
        }
    }
}

/// A two-operand integer operation `dst = dst op src`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntOp {
    Add,
    Sub,
    Mul,
    And,
    Or,
    Xor,
}

/// A shift or rotate of `dst` by a count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShiftOp {
    Shl,
    ShrS,
    ShrU,
    Rotl,
    Rotr,
}

/// A one-operand bit count `dst = op(src)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitCount {
    Clz,
    Ctz,
    Popcnt,
}

/// A two-operand float operation `dst = dst op src`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloatOp {
    Add,
    Sub,
    Mul,
    Div,
    /// The ISA's minimum (the second operand when either is a NaN or both are zeros).
    Min,
    /// The ISA's maximum (likewise).
    Max,
}

/// A rounding of a float to an integral value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Round {
    Nearest,
    Floor,
    Ceil,
    Trunc,
}

/// How a narrow load widens its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Widen {
    /// 8 bits, sign- or zero-extended.
    B8(bool),
    /// 16 bits, sign- or zero-extended.
    B16(bool),
    /// 32 bits, sign- or zero-extended (into 64).
    B32(bool),
}

/// The operations of the code generator. Every method emits code at the current position;
/// faulting instructions are announced by the caller through [`Masm::offset`] before they
/// are emitted.
pub trait Masm {
    /// The registers values are allocated to.
    const ALLOCATABLE: &'static [Gpr];
    /// The float registers values are allocated to.
    const ALLOCATABLE_XMM: &'static [Xmm];
    /// Scratch registers, never allocated: for addresses, checks and moves.
    const SCRATCH: Gpr;
    /// A second scratch register.
    const SCRATCH2: Gpr;
    /// The float scratch register.
    const XSCRATCH: Xmm;
    /// Holds the instance context for the whole function.
    const VMCTX: Gpr;
    /// Holds the base of memory 0 for the whole function.
    const MEMORY_BASE: Gpr;
    /// Holds the function's own slot for the whole function.
    const SLOT: Gpr;
    /// The register a variable shift count must be in.
    const COUNT: Gpr;
    /// Where [`Masm::div`] takes the dividend and leaves the quotient.
    const DIV_QUOTIENT: Gpr;
    /// Where [`Masm::div`] leaves the remainder (clobbered by any division).
    const DIV_REMAINDER: Gpr;
    /// The integer result register of a call.
    const RET_GPR: Gpr;
    /// The float result register of a call.
    const RET_XMM: Xmm;
    /// The integer argument registers, in order (`tierup_abi::regcall::ARG_GPRS`).
    const ARG_GPRS: [Gpr; 6];
    /// The bytes the prologue saves below the frame pointer.
    const SAVED_BYTES: u32;

    /// The current code offset.
    fn offset(&self) -> u32;
    /// A new unbound label.
    fn new_label(&mut self) -> Label;
    /// Binds `label` to the current position.
    fn bind(&mut self, label: Label);
    /// Jumps to `label`.
    fn jmp(&mut self, label: Label);
    /// Jumps to `label` if `cond` holds for the last comparison.
    fn jcc(&mut self, cond: Cond, label: Label);
    /// Jumps through a table of `labels` by the zero-based `index` (zero-extended from 32
    /// bits, and below the table's length; `scratch` is clobbered).
    fn jump_table(&mut self, index: Gpr, scratch: Gpr, labels: &[Label]);

    /// The frame: saves the frame pointer, reserves a frame whose size [`Masm::finish`]
    /// fills in and saves the pinned registers into its top [`Masm::SAVED_BYTES`] (each
    /// save the code of its register, see [`Masm::pinned`]).
    fn prologue(&mut self);
    /// Restores the pinned registers (each restore the code of its register), leaves the
    /// frame made by the prologue and returns.
    fn epilogue(&mut self);
    /// Emits `code` as code of the pinned register `reg`: code that [`Masm::finish`] turns
    /// into no-ops of the same length in a function that does not use `reg`, so that such
    /// a function neither loads nor saves it.
    fn pinned(&mut self, reg: Pinned, code: impl FnOnce(&mut Self))
    where
        Self: Sized;
    /// The small frame of an array shim: saves the frame pointer and two callee-saved
    /// registers, which it returns, keeping the stack aligned.
    fn shim_prologue(&mut self) -> (Gpr, Gpr);
    /// Leaves the shim's frame and returns.
    fn shim_epilogue(&mut self);
    /// Traps with `code` if the stack pointer is below the limit at `[limits + disp]`.
    fn stack_check(&mut self, limit_ptr: Gpr, disp: i32, trap: &mut Vec<(u32, TrapCode)>);
    /// An instruction that always faults, as a trap site of `code`.
    fn trap(&mut self, code: TrapCode, traps: &mut Vec<(u32, TrapCode)>);

    /// `dst = imm`.
    fn mov_imm(&mut self, size: Size, dst: Gpr, imm: u64);
    /// `dst = src`.
    fn mov(&mut self, size: Size, dst: Gpr, src: Gpr);
    /// `dst = [addr]`.
    fn load(&mut self, size: Size, dst: Gpr, addr: Addr);
    /// `dst = widen([addr])`, into a 64-bit register.
    fn load_widen(&mut self, widen: Widen, dst: Gpr, addr: Addr);
    /// `[addr] = src` (the low `bytes` bytes: 1, 2, 4 or 8).
    fn store(&mut self, bytes: u8, addr: Addr, src: Gpr);
    /// `[addr] = imm` (the low `bytes` bytes of it: 1, 2, 4, or 8, which sign-extends it).
    fn store_imm(&mut self, bytes: u8, addr: Addr, imm: i32);
    /// `dst = address of addr`.
    fn lea(&mut self, dst: Gpr, addr: Addr);
    /// `dst = dst op src`.
    fn int_op(&mut self, op: IntOp, size: Size, dst: Gpr, src: Gpr);
    /// `dst = dst op imm`.
    fn int_op_imm(&mut self, op: IntOp, size: Size, dst: Gpr, imm: i32);
    /// `dst = dst op [src]`.
    fn int_op_mem(&mut self, op: IntOp, size: Size, dst: Gpr, src: Addr);
    /// `dst = dst op rcx` (the count register of the ISA; see [`Masm::COUNT`]).
    fn shift(&mut self, op: ShiftOp, size: Size, dst: Gpr);
    /// `dst = dst op imm`.
    fn shift_imm(&mut self, op: ShiftOp, size: Size, dst: Gpr, imm: u8);
    /// `dst = op(src)`.
    fn bit_count(&mut self, op: BitCount, size: Size, dst: Gpr, src: Gpr);
    /// Division of the dividend register pair by `divisor`: quotient and remainder land in
    /// [`Masm::DIV_QUOTIENT`] and [`Masm::DIV_REMAINDER`]. The faulting instruction's offset
    /// is returned (a divisor of zero, a signed overflow).
    fn div(&mut self, size: Size, signed: bool, divisor: Gpr) -> u32;
    /// Compares `a` with `b`.
    fn cmp(&mut self, size: Size, a: Gpr, b: Gpr);
    /// Compares `a` with `imm`.
    fn cmp_imm(&mut self, size: Size, a: Gpr, imm: i32);
    /// Compares `a` with `[b]`.
    fn cmp_mem(&mut self, size: Size, a: Gpr, b: Addr);
    /// Compares `[a]` with `imm`.
    fn cmp_mem_imm(&mut self, size: Size, a: Addr, imm: i32);
    /// Sets the flags from `a & a`.
    fn test(&mut self, size: Size, a: Gpr);
    /// `dst = cond ? 1 : 0` (32 bits).
    fn set(&mut self, cond: Cond, dst: Gpr);
    /// `dst = cond ? src : dst`.
    fn cmov(&mut self, size: Size, cond: Cond, dst: Gpr, src: Gpr);
    /// `dst = sign-extension of the low bits of src` (`B32(false)` zero-extends).
    fn extend(&mut self, widen: Widen, to: Size, dst: Gpr, src: Gpr);

    /// `dst = [addr]`.
    fn fload(&mut self, size: Size, dst: Xmm, addr: Addr);
    /// `[addr] = src`.
    fn fstore(&mut self, size: Size, addr: Addr, src: Xmm);
    /// `dst = src`.
    fn fmov(&mut self, dst: Xmm, src: Xmm);
    /// `dst = bits of src` (integer to float register).
    fn gpr_to_xmm(&mut self, size: Size, dst: Xmm, src: Gpr);
    /// `dst = bits of src` (float to integer register).
    fn xmm_to_gpr(&mut self, size: Size, dst: Gpr, src: Xmm);
    /// `dst = dst op src`.
    fn float_op(&mut self, op: FloatOp, size: Size, dst: Xmm, src: Xmm);
    /// `dst = sqrt(src)`.
    fn fsqrt(&mut self, size: Size, dst: Xmm, src: Xmm);
    /// `dst = round(src)`.
    fn fround(&mut self, mode: Round, size: Size, dst: Xmm, src: Xmm);
    /// Compares `a` with `b` (unordered compare: the parity flag is set for a NaN).
    fn fcmp(&mut self, size: Size, a: Xmm, b: Xmm);
    /// `dst = dst & src`, `dst | src`, `dst ^ src` or `!dst & src` on the bits.
    fn fbits(&mut self, op: FBits, dst: Xmm, src: Xmm);
    /// `dst = convert(src)` between the float sizes.
    fn fconvert(&mut self, to: Size, dst: Xmm, src: Xmm);
    /// `dst = signed integer src` of width `from`, as a float of width `to`.
    fn int_to_float(&mut self, from: Size, to: Size, dst: Xmm, src: Gpr);
    /// `dst = src` truncated towards zero to a signed integer of width `to` (the ISA's
    /// "integer indefinite" value when it does not fit).
    fn float_to_int(&mut self, from: Size, to: Size, dst: Gpr, src: Xmm);

    /// Copies `COUNT` bytes from the address in the second argument register to the one in
    /// the first (`rep movsb`: `rdi`, `rsi`, `rcx` on x86-64), ascending or descending
    /// (then the registers point at the last byte).
    fn copy_bytes(&mut self, ascending: bool);
    /// Fills `COUNT` bytes at the address in the first argument register with the low byte
    /// of [`Masm::DIV_QUOTIENT`] (`rep stosb`).
    fn fill_bytes(&mut self);

    /// Calls the code whose address is at `addr`.
    fn call_mem(&mut self, addr: Addr);
    /// `sp -= bytes` (a multiple of 16).
    fn reserve(&mut self, bytes: u32);
    /// `sp += bytes`.
    fn release(&mut self, bytes: u32);
    /// The stack pointer plus `disp`, as an address.
    fn sp_addr(&self, disp: i32) -> Addr;

    /// `add [addr], imm` of `size` (the immediate sign-extended for 64 bits).
    fn add_mem_imm(&mut self, size: Size, addr: Addr, imm: i32);
    /// `sub [addr], imm32` of `size` (the immediate sign-extended for 64 bits), with an
    /// immediate filled in later by [`Masm::patch_imm32`] (the hotness counter's spending
    /// at a point whose weight is only known once the code it weighs was read); sets the
    /// flags like a subtraction.
    fn sub_mem_patchable(&mut self, size: Size, addr: Addr) -> Patch;
    /// Sets the immediate of an instruction made by [`Masm::sub_mem_patchable`].
    fn patch_imm32(&mut self, patch: Patch, imm: i32);

    /// Ends the code: fills in the frame size (bytes below the saved registers, rounded
    /// so that calls stay aligned), turns the code of the pinned registers not in `used`
    /// into no-ops and returns the bytes.
    fn finish(self, frame_bytes: u32, used: PinnedSet) -> Result<Vec<u8>, String>;
}

/// A register pinned for the whole function ([`Masm::VMCTX`], [`Masm::MEMORY_BASE`],
/// [`Masm::SLOT`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pinned {
    Vmctx,
    MemoryBase,
    Slot,
}

/// A set of pinned registers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PinnedSet(u8);

impl PinnedSet {
    /// Every pinned register.
    pub const ALL: PinnedSet = PinnedSet(0b111);

    pub fn with(self, reg: Pinned) -> PinnedSet {
        PinnedSet(self.0 | 1 << reg as u8)
    }

    pub fn contains(self, reg: Pinned) -> bool {
        self.0 & 1 << reg as u8 != 0
    }
}

/// An instruction whose 32-bit immediate is filled in at [`Masm::finish`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Patch(pub u32);

/// A bitwise operation on float registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FBits {
    And,
    Or,
    Xor,
    AndNot,
}
