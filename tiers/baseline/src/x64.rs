//! The x86-64 implementation of [`Masm`], with `dynasm!` into a byte vector.
//!
//! Register roles (System V): `rbp` is the frame pointer, `r14` the instance context,
//! `r15` the base of memory 0, `r13` the function's own slot; `r10` and `r11` are the
//! assembler's scratch registers and `xmm15` its float scratch; the code generator
//! allocates the caller-saved `rax rcx rdx rsi rdi r8 r9` and `xmm0`..`xmm14` (values are
//! spilled at calls anyway, so callee-saved registers would only cost their saving). The
//! prologue reserves the frame with a `sub rsp, imm32` filled in by [`Masm::finish`] and
//! saves the pinned `r13 r14 r15` into its top 24 bytes, so that the frame has one shape;
//! a function that does not use one of them (no memory access, no hotness counting, say)
//! has no-ops where it would save, load and restore it. (With `rbx`
//! and `r12` allocatable and saved too, every benchmark program ran more instructions:
//! fnptr 5.4%, fib 2.5%, the others up to 0.5%; callgrind, `--tier baseline`, `--quick`
//! sizes.)

// `dynasm!` converts each register operand with `.into()`, to the type it already has.
#![allow(clippy::useless_conversion)]

use dynasmrt::x64::X64Relocation;
use dynasmrt::{DynamicLabel, DynasmApi, DynasmLabelApi, VecAssembler, dynasm};
use tierup_abi::TrapCode;

use crate::masm::{
    Addr, BitCount, Cond, FBits, FloatOp, Gpr, IntOp, Label, Masm, Patch, Pinned, PinnedSet, Round,
    ShiftOp, Size, Widen, Xmm,
};

pub const RAX: Gpr = Gpr(0);
pub const RCX: Gpr = Gpr(1);
pub const RDX: Gpr = Gpr(2);
pub const RBX: Gpr = Gpr(3);
pub const RSI: Gpr = Gpr(6);
pub const RDI: Gpr = Gpr(7);
pub const R8: Gpr = Gpr(8);
pub const R9: Gpr = Gpr(9);
pub const R10: Gpr = Gpr(10);
pub const R11: Gpr = Gpr(11);
pub const R12: Gpr = Gpr(12);
pub const R13: Gpr = Gpr(13);
pub const R14: Gpr = Gpr(14);
pub const R15: Gpr = Gpr(15);

/// The registers the code generator allocates values to.
pub const ALLOCATABLE: [Gpr; 7] = [RAX, RCX, RDX, RSI, RDI, R8, R9];
/// The float registers the code generator allocates values to (`xmm15` is scratch).
pub const ALLOCATABLE_XMM: [Xmm; 15] = [
    Xmm(0),
    Xmm(1),
    Xmm(2),
    Xmm(3),
    Xmm(4),
    Xmm(5),
    Xmm(6),
    Xmm(7),
    Xmm(8),
    Xmm(9),
    Xmm(10),
    Xmm(11),
    Xmm(12),
    Xmm(13),
    Xmm(14),
];
/// Scratch registers of the code generator, never allocated.
pub const SCRATCH: Gpr = R11;
/// A second scratch register.
pub const SCRATCH2: Gpr = R10;
/// The float scratch register.
pub const XSCRATCH: Xmm = Xmm(15);
/// The instance context.
pub const VMCTX: Gpr = R14;
/// The base of memory 0.
pub const MEMORY_BASE: Gpr = R15;
/// The function's own slot.
pub const SLOT: Gpr = R13;
/// The shift-count register.
pub const COUNT: Gpr = RCX;
/// Where [`Masm::div`] leaves the quotient (and takes the dividend).
pub const DIV_QUOTIENT: Gpr = RAX;
/// Where [`Masm::div`] leaves the remainder.
pub const DIV_REMAINDER: Gpr = RDX;
/// Bytes the prologue pushes below the saved frame pointer.
pub const SAVED_BYTES: u32 = 24;

/// An x86-64 assembler of one function.
pub struct X64 {
    ops: VecAssembler<X64Relocation>,
    labels: Vec<DynamicLabel>,
    /// The prologue's `sub rsp, imm32`, whose immediate is the frame size.
    frame_patch: Option<Patch>,
    /// Set when a jump-table entry was not five bytes (an internal error).
    bad_table: bool,
    /// The ends of instructions whose last four bytes are an immediate filled in at
    /// `finish`, and that immediate.
    patches: Vec<(usize, i32)>,
    /// The code of pinned registers (`Masm::pinned`): its byte range and register.
    pinned_code: Vec<(core::ops::Range<usize>, Pinned)>,
}

impl X64 {
    /// An assembler for the code of a function body of `wasm_bytes` bytes, its buffers
    /// sized for it, so that they rarely grow: the code is about three times as long as
    /// the body (2.9 on the large benchmark module), a label is made for about every 16
    /// bytes of it.
    pub fn for_body(wasm_bytes: usize) -> X64 {
        let code = 3 * wasm_bytes + 512;
        let labels = wasm_bytes / 16 + 8;
        X64 {
            ops: VecAssembler::new_with_capacity(0, code, 0, 0, labels, 0, labels),
            labels: Vec::with_capacity(labels),
            frame_patch: None,
            bad_table: false,
            patches: Vec::with_capacity(4),
            pinned_code: Vec::with_capacity(16),
        }
    }
}

/// Overwrites `code` with no-op instructions (the recommended multi-byte `nop` forms, the
/// longest first), so that it runs as nothing.
fn fill_with_nops(code: &mut [u8]) {
    const NOPS: [&[u8]; 9] = [
        &[0x90],
        &[0x66, 0x90],
        &[0x0f, 0x1f, 0x00],
        &[0x0f, 0x1f, 0x40, 0x00],
        &[0x0f, 0x1f, 0x44, 0x00, 0x00],
        &[0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00],
        &[0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00],
        &[0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
        &[0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
    ];
    let mut rest = code;
    while !rest.is_empty() {
        let n = rest.len().min(NOPS.len());
        let (head, tail) = rest.split_at_mut(n);
        head.copy_from_slice(NOPS[n - 1]);
        rest = tail;
    }
}

fn cc(cond: Cond) -> u8 {
    // The condition-code nibble of `jcc`/`setcc`/`cmovcc`.
    match cond {
        Cond::Eq => 0x4,
        Cond::Ne => 0x5,
        Cond::LtS => 0xc,
        Cond::LtU => 0x2,
        Cond::GtS => 0xf,
        Cond::GtU => 0x7,
        Cond::LeS => 0xe,
        Cond::LeU => 0x6,
        Cond::GeS => 0xd,
        Cond::GeU => 0x3,
        Cond::Parity => 0xa,
        Cond::NoParity => 0xb,
    }
}

/// Emits one instruction with the memory operand `$addr` between `$pre` and `$post`.
macro_rules! with_addr {
    ($self:ident, $addr:expr, [$($pre:tt)*], [$($post:tt)*]) => {
        match $addr {
            Addr::Frame(disp) => dynasm!($self.ops ; .arch x64 ; $($pre)* [rbp + disp] $($post)*),
            Addr::Base(b, disp) => {
                let b = b.0;
                dynasm!($self.ops ; .arch x64 ; $($pre)* [Rq(b) + disp] $($post)*)
            }
            Addr::Indexed(b, i, disp) => {
                let (b, i) = (b.0, i.0);
                dynasm!($self.ops ; .arch x64 ; $($pre)* [Rq(b) + Rq(i) + disp] $($post)*)
            }
        }
    };
}

impl X64 {
    fn label(&self, l: Label) -> DynamicLabel {
        self.labels[l.0 as usize]
    }

    /// A patch of the immediate in the last four bytes emitted (0 until it is set).
    fn patch_here(&mut self) -> Patch {
        self.patches.push((self.ops.offset().0, 0));
        Patch(self.patches.len() as u32 - 1)
    }
}

impl Masm for X64 {
    const ALLOCATABLE: &'static [Gpr] = &ALLOCATABLE;
    const ALLOCATABLE_XMM: &'static [Xmm] = &ALLOCATABLE_XMM;
    const SCRATCH: Gpr = SCRATCH;
    const SCRATCH2: Gpr = SCRATCH2;
    const XSCRATCH: Xmm = XSCRATCH;
    const VMCTX: Gpr = VMCTX;
    const MEMORY_BASE: Gpr = MEMORY_BASE;
    const SLOT: Gpr = SLOT;
    const COUNT: Gpr = COUNT;
    const DIV_QUOTIENT: Gpr = DIV_QUOTIENT;
    const DIV_REMAINDER: Gpr = DIV_REMAINDER;
    const RET_GPR: Gpr = RAX;
    const RET_XMM: Xmm = Xmm(0);
    const ARG_GPRS: [Gpr; 6] = [RDI, RSI, RDX, RCX, R8, R9];
    const SAVED_BYTES: u32 = SAVED_BYTES;

    fn offset(&self) -> u32 {
        self.ops.offset().0 as u32
    }

    fn new_label(&mut self) -> Label {
        let l = self.ops.new_dynamic_label();
        self.labels.push(l);
        Label(self.labels.len() as u32 - 1)
    }

    fn bind(&mut self, label: Label) {
        let l = self.label(label);
        dynasm!(self.ops ; .arch x64 ; =>l);
    }

    fn jmp(&mut self, label: Label) {
        let l = self.label(label);
        dynasm!(self.ops ; .arch x64 ; jmp =>l);
    }

    fn jcc(&mut self, cond: Cond, label: Label) {
        let l = self.label(label);
        match cc(cond) {
            0x4 => dynasm!(self.ops ; .arch x64 ; je =>l),
            0x5 => dynasm!(self.ops ; .arch x64 ; jne =>l),
            0xc => dynasm!(self.ops ; .arch x64 ; jl =>l),
            0x2 => dynasm!(self.ops ; .arch x64 ; jb =>l),
            0xf => dynasm!(self.ops ; .arch x64 ; jg =>l),
            0x7 => dynasm!(self.ops ; .arch x64 ; ja =>l),
            0xe => dynasm!(self.ops ; .arch x64 ; jle =>l),
            0x6 => dynasm!(self.ops ; .arch x64 ; jbe =>l),
            0xd => dynasm!(self.ops ; .arch x64 ; jge =>l),
            0x3 => dynasm!(self.ops ; .arch x64 ; jae =>l),
            0xa => dynasm!(self.ops ; .arch x64 ; jp =>l),
            _ => dynasm!(self.ops ; .arch x64 ; jnp =>l),
        }
    }

    fn jump_table(&mut self, index: Gpr, scratch: Gpr, labels: &[Label]) {
        let table = self.ops.new_dynamic_label();
        let (i, s) = (index.0, scratch.0);
        dynasm!(self.ops
            ; .arch x64
            ; lea Rq(s), [=>table]
            ; lea Rq(i), [Rq(i) + Rq(i) * 4]
            ; add Rq(s), Rq(i)
            ; jmp Rq(s)
            ; =>table
        );
        for &l in labels {
            let before = self.offset();
            let l = self.label(l);
            dynasm!(self.ops ; .arch x64 ; jmp =>l);
            if self.offset() - before != 5 {
                self.bad_table = true;
            }
        }
    }

    fn prologue(&mut self) {
        dynasm!(self.ops
            ; .arch x64
            ; push rbp
            ; mov rbp, rsp
            ; sub rsp, DWORD 0x7fff_0000
        );
        self.frame_patch = Some(self.patch_here());
        self.pinned(
            Pinned::Slot,
            |m| dynasm!(m.ops ; .arch x64 ; mov [rbp - 8], r13),
        );
        self.pinned(
            Pinned::Vmctx,
            |m| dynasm!(m.ops ; .arch x64 ; mov [rbp - 16], r14),
        );
        self.pinned(
            Pinned::MemoryBase,
            |m| dynasm!(m.ops ; .arch x64 ; mov [rbp - 24], r15),
        );
    }

    fn epilogue(&mut self) {
        self.pinned(
            Pinned::MemoryBase,
            |m| dynasm!(m.ops ; .arch x64 ; mov r15, [rbp - 24]),
        );
        self.pinned(
            Pinned::Vmctx,
            |m| dynasm!(m.ops ; .arch x64 ; mov r14, [rbp - 16]),
        );
        self.pinned(
            Pinned::Slot,
            |m| dynasm!(m.ops ; .arch x64 ; mov r13, [rbp - 8]),
        );
        dynasm!(self.ops
            ; .arch x64
            ; leave
            ; ret
        );
    }

    fn pinned(&mut self, reg: Pinned, code: impl FnOnce(&mut Self)) {
        let start = self.ops.offset().0;
        code(self);
        self.pinned_code.push((start..self.ops.offset().0, reg));
    }

    fn shim_prologue(&mut self) -> (Gpr, Gpr) {
        dynasm!(self.ops ; .arch x64 ; push rbp ; mov rbp, rsp ; push rbx ; push r12);
        (RBX, R12)
    }

    fn shim_epilogue(&mut self) {
        dynasm!(self.ops ; .arch x64 ; pop r12 ; pop rbx ; pop rbp ; ret);
    }

    fn stack_check(&mut self, limit_ptr: Gpr, disp: i32, traps: &mut Vec<(u32, TrapCode)>) {
        let p = limit_ptr.0;
        dynasm!(self.ops ; .arch x64 ; cmp rsp, [Rq(p) + disp] ; jae >ok);
        self.trap(TrapCode::StackOverflow, traps);
        dynasm!(self.ops ; .arch x64 ; ok:);
    }

    fn trap(&mut self, code: TrapCode, traps: &mut Vec<(u32, TrapCode)>) {
        traps.push((self.offset(), code));
        dynasm!(self.ops ; .arch x64 ; ud2);
    }

    fn mov_imm(&mut self, size: Size, dst: Gpr, imm: u64) {
        let d = dst.0;
        match size {
            Size::S32 => dynasm!(self.ops ; .arch x64 ; mov Rd(d), imm as u32 as i32),
            // The 32-bit move zero-extends, and is two bytes shorter than the sign-extending
            // 64-bit one.
            Size::S64 if imm <= u32::MAX as u64 => {
                dynasm!(self.ops ; .arch x64 ; mov Rd(d), imm as u32 as i32)
            }
            Size::S64 if imm as i64 == imm as i32 as i64 => {
                dynasm!(self.ops ; .arch x64 ; mov Rq(d), imm as i32)
            }
            Size::S64 => dynasm!(self.ops ; .arch x64 ; mov Rq(d), QWORD imm as i64),
        }
    }

    fn mov(&mut self, size: Size, dst: Gpr, src: Gpr) {
        let (d, s) = (dst.0, src.0);
        match size {
            Size::S32 => dynasm!(self.ops ; .arch x64 ; mov Rd(d), Rd(s)),
            Size::S64 => dynasm!(self.ops ; .arch x64 ; mov Rq(d), Rq(s)),
        }
    }

    fn load(&mut self, size: Size, dst: Gpr, addr: Addr) {
        let d = dst.0;
        match size {
            Size::S32 => with_addr!(self, addr, [mov Rd(d), DWORD], []),
            Size::S64 => with_addr!(self, addr, [mov Rq(d), QWORD], []),
        }
    }

    fn load_widen(&mut self, widen: Widen, dst: Gpr, addr: Addr) {
        let d = dst.0;
        match widen {
            Widen::B8(true) => with_addr!(self, addr, [movsx Rq(d), BYTE], []),
            Widen::B8(false) => with_addr!(self, addr, [movzx Rd(d), BYTE], []),
            Widen::B16(true) => with_addr!(self, addr, [movsx Rq(d), WORD], []),
            Widen::B16(false) => with_addr!(self, addr, [movzx Rd(d), WORD], []),
            Widen::B32(true) => with_addr!(self, addr, [movsxd Rq(d), DWORD], []),
            Widen::B32(false) => with_addr!(self, addr, [mov Rd(d), DWORD], []),
        }
    }

    fn store(&mut self, bytes: u8, addr: Addr, src: Gpr) {
        let s = src.0;
        match bytes {
            1 => with_addr!(self, addr, [mov BYTE], [, Rb(s)]),
            2 => with_addr!(self, addr, [mov WORD], [, Rw(s)]),
            4 => with_addr!(self, addr, [mov DWORD], [, Rd(s)]),
            _ => with_addr!(self, addr, [mov QWORD], [, Rq(s)]),
        }
    }

    fn store_imm(&mut self, bytes: u8, addr: Addr, imm: i32) {
        match bytes {
            1 => with_addr!(self, addr, [mov BYTE], [, imm as i8]),
            2 => with_addr!(self, addr, [mov WORD], [, imm as i16]),
            4 => with_addr!(self, addr, [mov DWORD], [, imm]),
            _ => with_addr!(self, addr, [mov QWORD], [, imm]),
        }
    }

    fn lea(&mut self, dst: Gpr, addr: Addr) {
        let d = dst.0;
        with_addr!(self, addr, [lea Rq(d),], [])
    }

    fn int_op(&mut self, op: IntOp, size: Size, dst: Gpr, src: Gpr) {
        let (d, s) = (dst.0, src.0);
        match (op, size) {
            (IntOp::Add, Size::S32) => dynasm!(self.ops ; .arch x64 ; add Rd(d), Rd(s)),
            (IntOp::Add, Size::S64) => dynasm!(self.ops ; .arch x64 ; add Rq(d), Rq(s)),
            (IntOp::Sub, Size::S32) => dynasm!(self.ops ; .arch x64 ; sub Rd(d), Rd(s)),
            (IntOp::Sub, Size::S64) => dynasm!(self.ops ; .arch x64 ; sub Rq(d), Rq(s)),
            (IntOp::Mul, Size::S32) => dynasm!(self.ops ; .arch x64 ; imul Rd(d), Rd(s)),
            (IntOp::Mul, Size::S64) => dynasm!(self.ops ; .arch x64 ; imul Rq(d), Rq(s)),
            (IntOp::And, Size::S32) => dynasm!(self.ops ; .arch x64 ; and Rd(d), Rd(s)),
            (IntOp::And, Size::S64) => dynasm!(self.ops ; .arch x64 ; and Rq(d), Rq(s)),
            (IntOp::Or, Size::S32) => dynasm!(self.ops ; .arch x64 ; or Rd(d), Rd(s)),
            (IntOp::Or, Size::S64) => dynasm!(self.ops ; .arch x64 ; or Rq(d), Rq(s)),
            (IntOp::Xor, Size::S32) => dynasm!(self.ops ; .arch x64 ; xor Rd(d), Rd(s)),
            (IntOp::Xor, Size::S64) => dynasm!(self.ops ; .arch x64 ; xor Rq(d), Rq(s)),
        }
    }

    fn int_op_mem(&mut self, op: IntOp, size: Size, dst: Gpr, src: Addr) {
        let d = dst.0;
        match (op, size) {
            (IntOp::Add, Size::S32) => with_addr!(self, src, [add Rd(d), DWORD], []),
            (IntOp::Add, Size::S64) => with_addr!(self, src, [add Rq(d), QWORD], []),
            (IntOp::Sub, Size::S32) => with_addr!(self, src, [sub Rd(d), DWORD], []),
            (IntOp::Sub, Size::S64) => with_addr!(self, src, [sub Rq(d), QWORD], []),
            (IntOp::Mul, Size::S32) => with_addr!(self, src, [imul Rd(d), DWORD], []),
            (IntOp::Mul, Size::S64) => with_addr!(self, src, [imul Rq(d), QWORD], []),
            (IntOp::And, Size::S32) => with_addr!(self, src, [and Rd(d), DWORD], []),
            (IntOp::And, Size::S64) => with_addr!(self, src, [and Rq(d), QWORD], []),
            (IntOp::Or, Size::S32) => with_addr!(self, src, [or Rd(d), DWORD], []),
            (IntOp::Or, Size::S64) => with_addr!(self, src, [or Rq(d), QWORD], []),
            (IntOp::Xor, Size::S32) => with_addr!(self, src, [xor Rd(d), DWORD], []),
            (IntOp::Xor, Size::S64) => with_addr!(self, src, [xor Rq(d), QWORD], []),
        }
    }

    fn int_op_imm(&mut self, op: IntOp, size: Size, dst: Gpr, imm: i32) {
        let d = dst.0;
        match (op, size) {
            (IntOp::Add, Size::S32) => dynasm!(self.ops ; .arch x64 ; add Rd(d), imm),
            (IntOp::Add, Size::S64) => dynasm!(self.ops ; .arch x64 ; add Rq(d), imm),
            (IntOp::Sub, Size::S32) => dynasm!(self.ops ; .arch x64 ; sub Rd(d), imm),
            (IntOp::Sub, Size::S64) => dynasm!(self.ops ; .arch x64 ; sub Rq(d), imm),
            (IntOp::Mul, Size::S32) => dynasm!(self.ops ; .arch x64 ; imul Rd(d), Rd(d), imm),
            (IntOp::Mul, Size::S64) => dynasm!(self.ops ; .arch x64 ; imul Rq(d), Rq(d), imm),
            (IntOp::And, Size::S32) => dynasm!(self.ops ; .arch x64 ; and Rd(d), imm),
            (IntOp::And, Size::S64) => dynasm!(self.ops ; .arch x64 ; and Rq(d), imm),
            (IntOp::Or, Size::S32) => dynasm!(self.ops ; .arch x64 ; or Rd(d), imm),
            (IntOp::Or, Size::S64) => dynasm!(self.ops ; .arch x64 ; or Rq(d), imm),
            (IntOp::Xor, Size::S32) => dynasm!(self.ops ; .arch x64 ; xor Rd(d), imm),
            (IntOp::Xor, Size::S64) => dynasm!(self.ops ; .arch x64 ; xor Rq(d), imm),
        }
    }

    fn shift(&mut self, op: ShiftOp, size: Size, dst: Gpr) {
        let d = dst.0;
        match (op, size) {
            (ShiftOp::Shl, Size::S32) => dynasm!(self.ops ; .arch x64 ; shl Rd(d), cl),
            (ShiftOp::Shl, Size::S64) => dynasm!(self.ops ; .arch x64 ; shl Rq(d), cl),
            (ShiftOp::ShrS, Size::S32) => dynasm!(self.ops ; .arch x64 ; sar Rd(d), cl),
            (ShiftOp::ShrS, Size::S64) => dynasm!(self.ops ; .arch x64 ; sar Rq(d), cl),
            (ShiftOp::ShrU, Size::S32) => dynasm!(self.ops ; .arch x64 ; shr Rd(d), cl),
            (ShiftOp::ShrU, Size::S64) => dynasm!(self.ops ; .arch x64 ; shr Rq(d), cl),
            (ShiftOp::Rotl, Size::S32) => dynasm!(self.ops ; .arch x64 ; rol Rd(d), cl),
            (ShiftOp::Rotl, Size::S64) => dynasm!(self.ops ; .arch x64 ; rol Rq(d), cl),
            (ShiftOp::Rotr, Size::S32) => dynasm!(self.ops ; .arch x64 ; ror Rd(d), cl),
            (ShiftOp::Rotr, Size::S64) => dynasm!(self.ops ; .arch x64 ; ror Rq(d), cl),
        }
    }

    fn shift_imm(&mut self, op: ShiftOp, size: Size, dst: Gpr, imm: u8) {
        let d = dst.0;
        let n = imm as i8;
        match (op, size) {
            (ShiftOp::Shl, Size::S32) => dynasm!(self.ops ; .arch x64 ; shl Rd(d), n),
            (ShiftOp::Shl, Size::S64) => dynasm!(self.ops ; .arch x64 ; shl Rq(d), n),
            (ShiftOp::ShrS, Size::S32) => dynasm!(self.ops ; .arch x64 ; sar Rd(d), n),
            (ShiftOp::ShrS, Size::S64) => dynasm!(self.ops ; .arch x64 ; sar Rq(d), n),
            (ShiftOp::ShrU, Size::S32) => dynasm!(self.ops ; .arch x64 ; shr Rd(d), n),
            (ShiftOp::ShrU, Size::S64) => dynasm!(self.ops ; .arch x64 ; shr Rq(d), n),
            (ShiftOp::Rotl, Size::S32) => dynasm!(self.ops ; .arch x64 ; rol Rd(d), n),
            (ShiftOp::Rotl, Size::S64) => dynasm!(self.ops ; .arch x64 ; rol Rq(d), n),
            (ShiftOp::Rotr, Size::S32) => dynasm!(self.ops ; .arch x64 ; ror Rd(d), n),
            (ShiftOp::Rotr, Size::S64) => dynasm!(self.ops ; .arch x64 ; ror Rq(d), n),
        }
    }

    fn bit_count(&mut self, op: BitCount, size: Size, dst: Gpr, src: Gpr) {
        let (d, s) = (dst.0, src.0);
        match (op, size) {
            (BitCount::Clz, Size::S32) => dynasm!(self.ops ; .arch x64 ; lzcnt Rd(d), Rd(s)),
            (BitCount::Clz, Size::S64) => dynasm!(self.ops ; .arch x64 ; lzcnt Rq(d), Rq(s)),
            (BitCount::Ctz, Size::S32) => dynasm!(self.ops ; .arch x64 ; tzcnt Rd(d), Rd(s)),
            (BitCount::Ctz, Size::S64) => dynasm!(self.ops ; .arch x64 ; tzcnt Rq(d), Rq(s)),
            (BitCount::Popcnt, Size::S32) => dynasm!(self.ops ; .arch x64 ; popcnt Rd(d), Rd(s)),
            (BitCount::Popcnt, Size::S64) => dynasm!(self.ops ; .arch x64 ; popcnt Rq(d), Rq(s)),
        }
    }

    fn div(&mut self, size: Size, signed: bool, divisor: Gpr) -> u32 {
        let s = divisor.0;
        match (size, signed) {
            (Size::S32, true) => {
                dynasm!(self.ops ; .arch x64 ; cdq);
                let at = self.offset();
                dynasm!(self.ops ; .arch x64 ; idiv Rd(s));
                at
            }
            (Size::S32, false) => {
                dynasm!(self.ops ; .arch x64 ; xor edx, edx);
                let at = self.offset();
                dynasm!(self.ops ; .arch x64 ; div Rd(s));
                at
            }
            (Size::S64, true) => {
                dynasm!(self.ops ; .arch x64 ; cqo);
                let at = self.offset();
                dynasm!(self.ops ; .arch x64 ; idiv Rq(s));
                at
            }
            (Size::S64, false) => {
                dynasm!(self.ops ; .arch x64 ; xor edx, edx);
                let at = self.offset();
                dynasm!(self.ops ; .arch x64 ; div Rq(s));
                at
            }
        }
    }

    fn cmp(&mut self, size: Size, a: Gpr, b: Gpr) {
        let (a, b) = (a.0, b.0);
        match size {
            Size::S32 => dynasm!(self.ops ; .arch x64 ; cmp Rd(a), Rd(b)),
            Size::S64 => dynasm!(self.ops ; .arch x64 ; cmp Rq(a), Rq(b)),
        }
    }

    fn cmp_mem(&mut self, size: Size, a: Gpr, b: Addr) {
        let a = a.0;
        match size {
            Size::S32 => with_addr!(self, b, [cmp Rd(a), DWORD], []),
            Size::S64 => with_addr!(self, b, [cmp Rq(a), QWORD], []),
        }
    }

    fn cmp_mem_imm(&mut self, size: Size, a: Addr, imm: i32) {
        match size {
            Size::S32 => with_addr!(self, a, [cmp DWORD], [, imm]),
            Size::S64 => with_addr!(self, a, [cmp QWORD], [, imm]),
        }
    }

    fn cmp_imm(&mut self, size: Size, a: Gpr, imm: i32) {
        let a = a.0;
        match size {
            Size::S32 => dynasm!(self.ops ; .arch x64 ; cmp Rd(a), imm),
            Size::S64 => dynasm!(self.ops ; .arch x64 ; cmp Rq(a), imm),
        }
    }

    fn test(&mut self, size: Size, a: Gpr) {
        let a = a.0;
        match size {
            Size::S32 => dynasm!(self.ops ; .arch x64 ; test Rd(a), Rd(a)),
            Size::S64 => dynasm!(self.ops ; .arch x64 ; test Rq(a), Rq(a)),
        }
    }

    fn set(&mut self, cond: Cond, dst: Gpr) {
        let d = dst.0;
        match cc(cond) {
            0x4 => dynasm!(self.ops ; .arch x64 ; sete Rb(d)),
            0x5 => dynasm!(self.ops ; .arch x64 ; setne Rb(d)),
            0xc => dynasm!(self.ops ; .arch x64 ; setl Rb(d)),
            0x2 => dynasm!(self.ops ; .arch x64 ; setb Rb(d)),
            0xf => dynasm!(self.ops ; .arch x64 ; setg Rb(d)),
            0x7 => dynasm!(self.ops ; .arch x64 ; seta Rb(d)),
            0xe => dynasm!(self.ops ; .arch x64 ; setle Rb(d)),
            0x6 => dynasm!(self.ops ; .arch x64 ; setbe Rb(d)),
            0xd => dynasm!(self.ops ; .arch x64 ; setge Rb(d)),
            0x3 => dynasm!(self.ops ; .arch x64 ; setae Rb(d)),
            0xa => dynasm!(self.ops ; .arch x64 ; setp Rb(d)),
            _ => dynasm!(self.ops ; .arch x64 ; setnp Rb(d)),
        }
        dynasm!(self.ops ; .arch x64 ; movzx Rd(d), Rb(d));
    }

    fn cmov(&mut self, size: Size, cond: Cond, dst: Gpr, src: Gpr) {
        let (d, s) = (dst.0, src.0);
        // 64-bit moves for both sizes: a 32-bit value is kept zero-extended either way.
        let _ = size;
        match cc(cond) {
            0x4 => dynasm!(self.ops ; .arch x64 ; cmove Rq(d), Rq(s)),
            0x5 => dynasm!(self.ops ; .arch x64 ; cmovne Rq(d), Rq(s)),
            0xc => dynasm!(self.ops ; .arch x64 ; cmovl Rq(d), Rq(s)),
            0x2 => dynasm!(self.ops ; .arch x64 ; cmovb Rq(d), Rq(s)),
            0xf => dynasm!(self.ops ; .arch x64 ; cmovg Rq(d), Rq(s)),
            0x7 => dynasm!(self.ops ; .arch x64 ; cmova Rq(d), Rq(s)),
            0xe => dynasm!(self.ops ; .arch x64 ; cmovle Rq(d), Rq(s)),
            0x6 => dynasm!(self.ops ; .arch x64 ; cmovbe Rq(d), Rq(s)),
            0xd => dynasm!(self.ops ; .arch x64 ; cmovge Rq(d), Rq(s)),
            0x3 => dynasm!(self.ops ; .arch x64 ; cmovae Rq(d), Rq(s)),
            0xa => dynasm!(self.ops ; .arch x64 ; cmovp Rq(d), Rq(s)),
            _ => dynasm!(self.ops ; .arch x64 ; cmovnp Rq(d), Rq(s)),
        }
    }

    fn extend(&mut self, widen: Widen, to: Size, dst: Gpr, src: Gpr) {
        let (d, s) = (dst.0, src.0);
        match (widen, to) {
            (Widen::B8(true), Size::S32) => dynasm!(self.ops ; .arch x64 ; movsx Rd(d), Rb(s)),
            (Widen::B8(true), Size::S64) => dynasm!(self.ops ; .arch x64 ; movsx Rq(d), Rb(s)),
            (Widen::B16(true), Size::S32) => dynasm!(self.ops ; .arch x64 ; movsx Rd(d), Rw(s)),
            (Widen::B16(true), Size::S64) => dynasm!(self.ops ; .arch x64 ; movsx Rq(d), Rw(s)),
            (Widen::B32(true), _) => dynasm!(self.ops ; .arch x64 ; movsxd Rq(d), Rd(s)),
            (Widen::B8(false), _) => dynasm!(self.ops ; .arch x64 ; movzx Rd(d), Rb(s)),
            (Widen::B16(false), _) => dynasm!(self.ops ; .arch x64 ; movzx Rd(d), Rw(s)),
            (Widen::B32(false), _) => dynasm!(self.ops ; .arch x64 ; mov Rd(d), Rd(s)),
        }
    }

    fn fload(&mut self, size: Size, dst: Xmm, addr: Addr) {
        let d = dst.0;
        match size {
            Size::S32 => with_addr!(self, addr, [movss Rx(d), DWORD], []),
            Size::S64 => with_addr!(self, addr, [movsd Rx(d), QWORD], []),
        }
    }

    fn fstore(&mut self, size: Size, addr: Addr, src: Xmm) {
        let s = src.0;
        match size {
            Size::S32 => with_addr!(self, addr, [movss DWORD], [, Rx(s)]),
            Size::S64 => with_addr!(self, addr, [movsd QWORD], [, Rx(s)]),
        }
    }

    fn fmov(&mut self, dst: Xmm, src: Xmm) {
        let (d, s) = (dst.0, src.0);
        dynasm!(self.ops ; .arch x64 ; movaps Rx(d), Rx(s));
    }

    fn gpr_to_xmm(&mut self, size: Size, dst: Xmm, src: Gpr) {
        let (d, s) = (dst.0, src.0);
        match size {
            Size::S32 => dynasm!(self.ops ; .arch x64 ; movd Rx(d), Rd(s)),
            Size::S64 => dynasm!(self.ops ; .arch x64 ; movq Rx(d), Rq(s)),
        }
    }

    fn xmm_to_gpr(&mut self, size: Size, dst: Gpr, src: Xmm) {
        let (d, s) = (dst.0, src.0);
        match size {
            Size::S32 => dynasm!(self.ops ; .arch x64 ; movd Rd(d), Rx(s)),
            Size::S64 => dynasm!(self.ops ; .arch x64 ; movq Rq(d), Rx(s)),
        }
    }

    fn float_op(&mut self, op: FloatOp, size: Size, dst: Xmm, src: Xmm) {
        let (d, s) = (dst.0, src.0);
        match (op, size) {
            (FloatOp::Add, Size::S32) => dynasm!(self.ops ; .arch x64 ; addss Rx(d), Rx(s)),
            (FloatOp::Add, Size::S64) => dynasm!(self.ops ; .arch x64 ; addsd Rx(d), Rx(s)),
            (FloatOp::Sub, Size::S32) => dynasm!(self.ops ; .arch x64 ; subss Rx(d), Rx(s)),
            (FloatOp::Sub, Size::S64) => dynasm!(self.ops ; .arch x64 ; subsd Rx(d), Rx(s)),
            (FloatOp::Mul, Size::S32) => dynasm!(self.ops ; .arch x64 ; mulss Rx(d), Rx(s)),
            (FloatOp::Mul, Size::S64) => dynasm!(self.ops ; .arch x64 ; mulsd Rx(d), Rx(s)),
            (FloatOp::Div, Size::S32) => dynasm!(self.ops ; .arch x64 ; divss Rx(d), Rx(s)),
            (FloatOp::Div, Size::S64) => dynasm!(self.ops ; .arch x64 ; divsd Rx(d), Rx(s)),
            (FloatOp::Min, Size::S32) => dynasm!(self.ops ; .arch x64 ; minss Rx(d), Rx(s)),
            (FloatOp::Min, Size::S64) => dynasm!(self.ops ; .arch x64 ; minsd Rx(d), Rx(s)),
            (FloatOp::Max, Size::S32) => dynasm!(self.ops ; .arch x64 ; maxss Rx(d), Rx(s)),
            (FloatOp::Max, Size::S64) => dynasm!(self.ops ; .arch x64 ; maxsd Rx(d), Rx(s)),
        }
    }

    fn fsqrt(&mut self, size: Size, dst: Xmm, src: Xmm) {
        let (d, s) = (dst.0, src.0);
        match size {
            Size::S32 => dynasm!(self.ops ; .arch x64 ; sqrtss Rx(d), Rx(s)),
            Size::S64 => dynasm!(self.ops ; .arch x64 ; sqrtsd Rx(d), Rx(s)),
        }
    }

    fn fround(&mut self, mode: Round, size: Size, dst: Xmm, src: Xmm) {
        let (d, s) = (dst.0, src.0);
        // Rounding-control immediates, with the precision exception suppressed (bit 3).
        let imm: i8 = match mode {
            Round::Nearest => 8,
            Round::Floor => 9,
            Round::Ceil => 10,
            Round::Trunc => 11,
        };
        match size {
            Size::S32 => dynasm!(self.ops ; .arch x64 ; roundss Rx(d), Rx(s), imm),
            Size::S64 => dynasm!(self.ops ; .arch x64 ; roundsd Rx(d), Rx(s), imm),
        }
    }

    fn fcmp(&mut self, size: Size, a: Xmm, b: Xmm) {
        let (a, b) = (a.0, b.0);
        match size {
            Size::S32 => dynasm!(self.ops ; .arch x64 ; ucomiss Rx(a), Rx(b)),
            Size::S64 => dynasm!(self.ops ; .arch x64 ; ucomisd Rx(a), Rx(b)),
        }
    }

    fn fbits(&mut self, op: FBits, dst: Xmm, src: Xmm) {
        let (d, s) = (dst.0, src.0);
        match op {
            FBits::And => dynasm!(self.ops ; .arch x64 ; andps Rx(d), Rx(s)),
            FBits::Or => dynasm!(self.ops ; .arch x64 ; orps Rx(d), Rx(s)),
            FBits::Xor => dynasm!(self.ops ; .arch x64 ; xorps Rx(d), Rx(s)),
            FBits::AndNot => dynasm!(self.ops ; .arch x64 ; andnps Rx(d), Rx(s)),
        }
    }

    fn fconvert(&mut self, to: Size, dst: Xmm, src: Xmm) {
        let (d, s) = (dst.0, src.0);
        match to {
            Size::S32 => dynasm!(self.ops ; .arch x64 ; cvtsd2ss Rx(d), Rx(s)),
            Size::S64 => dynasm!(self.ops ; .arch x64 ; cvtss2sd Rx(d), Rx(s)),
        }
    }

    fn int_to_float(&mut self, from: Size, to: Size, dst: Xmm, src: Gpr) {
        let (d, s) = (dst.0, src.0);
        // Clear the destination first: `cvtsi2s*` writes only the low lanes.
        dynasm!(self.ops ; .arch x64 ; xorps Rx(d), Rx(d));
        match (from, to) {
            (Size::S32, Size::S32) => dynasm!(self.ops ; .arch x64 ; cvtsi2ss Rx(d), Rd(s)),
            (Size::S64, Size::S32) => dynasm!(self.ops ; .arch x64 ; cvtsi2ss Rx(d), Rq(s)),
            (Size::S32, Size::S64) => dynasm!(self.ops ; .arch x64 ; cvtsi2sd Rx(d), Rd(s)),
            (Size::S64, Size::S64) => dynasm!(self.ops ; .arch x64 ; cvtsi2sd Rx(d), Rq(s)),
        }
    }

    fn float_to_int(&mut self, from: Size, to: Size, dst: Gpr, src: Xmm) {
        let (d, s) = (dst.0, src.0);
        match (from, to) {
            (Size::S32, Size::S32) => dynasm!(self.ops ; .arch x64 ; cvttss2si Rd(d), Rx(s)),
            (Size::S32, Size::S64) => dynasm!(self.ops ; .arch x64 ; cvttss2si Rq(d), Rx(s)),
            (Size::S64, Size::S32) => dynasm!(self.ops ; .arch x64 ; cvttsd2si Rd(d), Rx(s)),
            (Size::S64, Size::S64) => dynasm!(self.ops ; .arch x64 ; cvttsd2si Rq(d), Rx(s)),
        }
    }

    fn copy_bytes(&mut self, ascending: bool) {
        if ascending {
            dynasm!(self.ops ; .arch x64 ; rep movsb);
        } else {
            dynasm!(self.ops ; .arch x64 ; std ; rep movsb ; cld);
        }
    }

    fn fill_bytes(&mut self) {
        dynasm!(self.ops ; .arch x64 ; rep stosb);
    }

    fn call_mem(&mut self, addr: Addr) {
        with_addr!(self, addr, [call QWORD], [])
    }

    fn reserve(&mut self, bytes: u32) {
        if bytes > 0 {
            dynasm!(self.ops ; .arch x64 ; sub rsp, bytes as i32);
        }
    }

    fn release(&mut self, bytes: u32) {
        if bytes > 0 {
            dynasm!(self.ops ; .arch x64 ; add rsp, bytes as i32);
        }
    }

    fn sp_addr(&self, disp: i32) -> Addr {
        Addr::Base(Gpr(4), disp)
    }

    fn add_mem_imm(&mut self, size: Size, addr: Addr, imm: i32) {
        match size {
            Size::S32 => with_addr!(self, addr, [add DWORD], [, imm]),
            Size::S64 => with_addr!(self, addr, [add QWORD], [, imm]),
        }
    }

    fn sub_mem_patchable(&mut self, size: Size, addr: Addr) -> Patch {
        // The long form (`81 /5 id`) whatever the immediate, so that it can be patched.
        match size {
            Size::S32 => with_addr!(self, addr, [sub DWORD], [, DWORD 0x7fff_0000]),
            Size::S64 => with_addr!(self, addr, [sub QWORD], [, DWORD 0x7fff_0000]),
        }
        self.patch_here()
    }

    fn patch_imm32(&mut self, patch: Patch, imm: i32) {
        if let Some(p) = self.patches.get_mut(patch.0 as usize) {
            p.1 = imm;
        }
    }

    fn finish(mut self, frame_bytes: u32, used: PinnedSet) -> Result<Vec<u8>, String> {
        if self.bad_table {
            return Err("a jump-table entry is not five bytes".into());
        }
        if let Some(patch) = self.frame_patch {
            // The saved registers and the frame below them, so that the stack pointer is
            // 16-aligned (the frame pointer is).
            let total = (SAVED_BYTES + frame_bytes).next_multiple_of(16);
            let total = i32::try_from(total).map_err(|_| "the frame is too large")?;
            self.patch_imm32(patch, total);
        }
        let mut bytes = self.ops.finalize().map_err(|e| format!("assembler: {e}"))?;
        for (end, imm) in self.patches {
            bytes
                .get_mut(end - 4..end)
                .ok_or("a patched instruction is not where it was")?
                .copy_from_slice(&imm.to_le_bytes());
        }
        for (range, reg) in self.pinned_code {
            if !used.contains(reg) {
                fill_with_nops(
                    bytes
                        .get_mut(range)
                        .ok_or("the code of a pinned register is not where it was")?,
                );
            }
        }
        Ok(bytes)
    }
}
