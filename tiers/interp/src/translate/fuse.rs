//! Peephole fusions: where an instruction just emitted and the one before it (or
//! address arithmetic a few straight-line instructions back) can be one instruction,
//! the translator replaces them (see the crate docs for the list). Each fusion checks
//! that nothing else reads the value passed between the two: it travelled through the
//! accumulator, or it is a temporary that only the last instruction names. Also here:
//! the pairing of adds into locals, the elision of `i32.wrap_i64` where 32-bit code reads
//! it and of zeroing a local that still holds its initial zero, and the pass that hands a
//! local just written to its reader in the accumulator as well (form `TEE`).

use super::{CtrlKind, Translator};
use crate::exec::supports;
use crate::inst::{Access, Counting, Form};
use crate::isa::Slot;
use crate::isa::{Instr, Reg, Step};
use crate::num::Imm;

/// The second operand of an `i32.add` into a local (see `Translator::pair_increments`).
#[derive(Clone, Copy)]
enum Addend32 {
    /// A constant: its register bits.
    Imm(u64),
    Reg(Reg),
}

impl Translator<'_> {
    /// An `i32.wrap_i64` just before `idx` whose result only the instruction at `idx`
    /// reads (through the accumulator, under form bit `bit`) goes when that instruction
    /// is one of the table's scalar instructions, which read an i32 through the low half
    /// of its register alone (see `Instr::scalar_operand_mut`): it reads the i64 instead.
    /// An `i32.wrap_i64` costs nothing where 32-bit code consumes it, as in hardware.
    /// Returns the instruction's index, `idx - 1` when the wrap went.
    pub(super) fn elide_wrap(&mut self, idx: usize, bit: Form, operands: &[(Reg, Form)]) -> usize {
        let prev = idx - 1;
        let Instr::I32WrapI64 { dst: wrapped, src } = self.code[prev] else {
            return idx;
        };
        let mut instr = self.code[idx];
        let Some(operand) = instr.scalar_operand_mut(bit == Form::B) else {
            return idx;
        };
        *operand = src;
        // The wrap's own operand from the accumulator is read from there, under `bit`.
        let fused_form = (self.forms[idx] & !bit) | self.first_from_acc(prev, bit);
        if !supports(&instr, fused_form) {
            return idx;
        }
        let operands: Vec<_> = operands
            .iter()
            .map(|&(r, b)| (if r == wrapped { src } else { r }, b))
            .collect();
        self.replace_pair_into_second(prev, instr, fused_form, &operands);
        prev
    }

    /// `bit` if the instruction at `i` reads its first operand from the accumulator, else
    /// 0: the form bit under which an instruction fused in its place, which takes that
    /// operand as its `bit` operand, still reads it from there.
    fn first_from_acc(&self, i: usize, bit: Form) -> Form {
        if self.forms[i].has(Form::A) {
            bit
        } else {
            Form::NONE
        }
    }

    /// Whether the instruction at `idx` is the last one emitted (and not already fused
    /// into the one before it).
    fn is_last(&self, idx: usize) -> bool {
        idx + 1 == self.code.len()
    }

    /// Whether declared local `r` (not a parameter) is sure to hold the zero it starts
    /// with where the next instruction goes: no instruction so far names it, and no loop
    /// encloses this point (a later write in the loop could come round to it). Compilers
    /// set such locals to zero all the same (a sum or counter before its loop); the set
    /// then needs no instruction. Only asked among a function's first instructions, so
    /// the scan stays short.
    pub(super) fn holds_initial_zero(&self, r: Reg) -> bool {
        /// How far into a function the question is asked.
        const PROLOGUE: usize = 64;
        (r as u32) >= self.param_regs
            && (r as u32) < self.num_locals
            && self.code.len() <= PROLOGUE
            && !self
                .ctrl
                .iter()
                .any(|c| matches!(c.kind, CtrlKind::Loop { .. }))
            && !self.code.iter().any(|&i| Self::mentions(i, r))
    }

    /// An i32 add into a local at `idx` (the last instruction, just retargeted there),
    /// right after another add into a local (no label between, neither linked), joins
    /// it: two small constant increments in one `I32AddImm2` (the pointer and counter
    /// bumps at the end of a loop body), other pairs of adds of registers or constants in
    /// one `I32Add2` (induction variables stepping together, `x = y + z; y += k`).
    pub(super) fn pair_increments(&mut self, idx: usize) {
        if idx == 0 || !self.is_last(idx) || self.last_label == idx {
            return;
        }
        let prev = idx - 1;
        if self.forms[prev] != Form::NONE || self.forms[idx] != Form::NONE {
            return;
        }
        let (Some((dst, a, b)), Some((dst2, a2, b2))) = (
            Self::add_parts(self.code[prev]),
            Self::add_parts(self.code[idx]),
        ) else {
            return;
        };
        let locals = self.num_locals as Reg;
        if dst >= locals || dst2 >= locals {
            return;
        }
        let step = |addend: Addend32| match addend {
            Addend32::Imm(k) => <u32 as Imm>::to_imm(k).map(Step),
            Addend32::Reg(_) => None,
        };
        let fused = match (step(b), step(b2)) {
            (Some(imm), Some(imm2)) => Instr::I32AddImm2 {
                dst,
                a,
                dst2,
                a2,
                imm,
                imm2,
            },
            _ => {
                let (Some(b), Some(b2)) = (self.addend_reg(b), self.addend_reg(b2)) else {
                    return;
                };
                Instr::I32Add2 {
                    dst,
                    a,
                    b,
                    dst2,
                    a2,
                    b2,
                }
            }
        };
        self.replace_pair(prev, fused, Form::NONE, &[]);
        self.last_result = None;
    }

    /// The destination, first operand and addend of an `i32.add` of a register or a
    /// constant.
    fn add_parts(instr: Instr) -> Option<(Reg, Reg, Addend32)> {
        match instr {
            Instr::I32AddImm { dst, a, imm } => Some((dst, a, Addend32::Imm(imm))),
            Instr::I32Add { dst, a, b } => Some((dst, a, Addend32::Reg(b))),
            _ => None,
        }
    }

    /// The register of an addend: a constant's is interned (`None` past the limit).
    fn addend_reg(&mut self, addend: Addend32) -> Option<Reg> {
        match addend {
            Addend32::Reg(r) => Some(r),
            Addend32::Imm(bits) => self.intern(bits).ok(),
        }
    }

    /// Replaces the last two instructions, from `prev` on, with `fused` in form `form`,
    /// which then produces the result the last one did (`last_result`). The wasm offset
    /// kept is `prev`'s. `operands` are the fused instruction's register operands with
    /// their form bits: when one of them is the result of the instruction before the pair,
    /// it is linked through the accumulator now (the pair's first instruction stood in
    /// between when that was decided).
    pub(super) fn replace_pair(
        &mut self,
        prev: usize,
        fused: Instr,
        mut form: Form,
        operands: &[(Reg, Form)],
    ) {
        let before = self.emitted_after[0].filter(|&p| p + 1 == prev);
        let link = before.and_then(|p| Some((p, self.link_bit(p, &fused, form, operands)?)));
        if let Some((p, bit)) = link {
            self.forms[p] |= Form::OUT;
            form |= bit;
        }
        self.code[prev] = fused;
        self.forms[prev] = form;
        self.code.truncate(prev + 1);
        self.forms.truncate(prev + 1);
        self.offsets.truncate(prev + 1);
        self.emitted_after = [None, before];
        self.last_result = Some(prev);
    }

    /// An add, xor or or at `idx` that reads the result of a shift or rotation by a
    /// constant just before it, through the accumulator (so nothing else reads that
    /// result), becomes one instruction of the shifted-operand family in the shift's
    /// place (see `Instr::I32AddShl`): the address arithmetic of array indexing, the
    /// rotations and shifts that hashes and random generators combine, in one dispatch.
    /// An or of an `I32ShiftMask` likewise becomes an `I32OrShiftMask` (bit-field
    /// insertion, the swap steps of a bit reversal).
    pub(super) fn fuse_shifted_operand(&mut self, idx: usize) {
        if idx == 0 || !self.is_last(idx) {
            return;
        }
        let op_form = self.forms[idx];
        if !op_form.any(Form::A | Form::B) {
            return;
        }
        let prev = idx - 1;
        /// What the shift is; rotations right become rotations left.
        #[derive(Clone, Copy, PartialEq)]
        enum Shift {
            Shl,
            ShrU,
            Rotl,
            /// An `I32ShiftMask` (its fields in the fused instruction too).
            Mask {
                shr: u8,
                shl: u8,
                mask: u32,
            },
        }
        let (shift, index, k, wide) = match self.code[prev] {
            Instr::I32ShiftMask {
                a, shr, shl, mask, ..
            } => (Shift::Mask { shr, shl, mask }, a, 0, false),
            Instr::I32ShlImm { a, imm, .. } => (Shift::Shl, a, imm & 31, false),
            Instr::I32ShrUImm { a, imm, .. } => (Shift::ShrU, a, imm & 31, false),
            Instr::I32RotlImm { a, imm, .. } => (Shift::Rotl, a, imm & 31, false),
            Instr::I32RotrImm { a, imm, .. } => (Shift::Rotl, a, imm.wrapping_neg() & 31, false),
            Instr::I64ShlImm { a, imm, .. } => (Shift::Shl, a, imm & 63, true),
            Instr::I64ShrUImm { a, imm, .. } => (Shift::ShrU, a, imm & 63, true),
            _ => return,
        };
        // The operation is commutative: the other operand is the base.
        let (dst, base) = match self.code[idx] {
            Instr::I32Add { dst, a, b }
            | Instr::I32Xor { dst, a, b }
            | Instr::I32Or { dst, a, b }
            | Instr::I64Xor { dst, a, b } => (dst, if op_form.has(Form::A) { b } else { a }),
            _ => return,
        };
        let shift_by = k as u8;
        macro_rules! fused {
            ($v:ident) => {
                Instr::$v {
                    dst,
                    a: base,
                    b: index,
                    shift: shift_by,
                }
            };
        }
        let fused = match (self.code[idx], shift, wide) {
            (Instr::I32Add { .. }, Shift::Shl, false) => fused!(I32AddShl),
            (Instr::I32Add { .. }, Shift::ShrU, false) => fused!(I32AddShrU),
            (Instr::I32Xor { .. }, Shift::Shl, false) => fused!(I32XorShl),
            (Instr::I32Xor { .. }, Shift::ShrU, false) => fused!(I32XorShrU),
            (Instr::I32Xor { .. }, Shift::Rotl, false) => fused!(I32XorRotl),
            (Instr::I32Or { .. }, Shift::Shl, false) => fused!(I32OrShl),
            (Instr::I32Or { .. }, Shift::ShrU, false) => fused!(I32OrShrU),
            (Instr::I64Xor { .. }, Shift::Shl, true) => fused!(I64XorShl),
            (Instr::I64Xor { .. }, Shift::ShrU, true) => fused!(I64XorShrU),
            (Instr::I32Or { .. }, Shift::Mask { shr, shl, mask }, false) => Instr::I32OrShiftMask {
                dst,
                a: base,
                b: index,
                shr,
                shl,
                mask,
            },
            _ => return,
        };
        // The shift's own operand may come from the accumulator; it is the fused
        // instruction's second operand.
        let fused_form = self.first_from_acc(prev, Form::B);
        if !supports(&fused, fused_form) {
            return;
        }
        self.replace_pair(
            prev,
            fused,
            fused_form,
            &[(base, Form::A), (index, Form::B)],
        );
    }

    /// An `i32.sub` at `idx` whose second operand is the result of the multiplication by
    /// a constant just before it (through the accumulator, so nothing else reads it)
    /// becomes one `I32SubMulImm` in the multiplication's place.
    pub(super) fn fuse_mul_sub(&mut self, idx: usize) {
        if idx == 0 || !self.is_last(idx) || self.forms[idx] != Form::B {
            return;
        }
        let Instr::I32Sub { dst, a, .. } = self.code[idx] else {
            return;
        };
        let prev = idx - 1;
        let Instr::I32MulImm { a: b, imm, .. } = self.code[prev] else {
            return;
        };
        // The multiplication's operand from the accumulator is the fused `B`.
        let fused_form = self.first_from_acc(prev, Form::B);
        let fused = Instr::I32SubMulImm {
            dst,
            a,
            b,
            imm: imm as u32,
        };
        self.replace_pair(prev, fused, fused_form, &[(a, Form::A), (b, Form::B)]);
    }

    /// A multiplication by a constant at `idx` that reads the result of the `i32.xor`
    /// just before it (through the accumulator, so nothing else reads it) becomes one
    /// `I32XorMulImm` in the xor's place.
    pub(super) fn fuse_xor_mul(&mut self, idx: usize) {
        if idx == 0 || !self.is_last(idx) || self.forms[idx] != Form::A {
            return;
        }
        let Instr::I32MulImm { dst, imm, .. } = self.code[idx] else {
            return;
        };
        let prev = idx - 1;
        let Instr::I32Xor { a, b, .. } = self.code[prev] else {
            return;
        };
        // The xor's operands are where they were (one may be in the accumulator).
        let fused_form = self.forms[prev] & (Form::A | Form::B);
        let fused = Instr::I32XorMulImm {
            dst,
            a,
            b,
            imm: imm as u32,
        };
        self.replace_pair(prev, fused, fused_form, &[(a, Form::A), (b, Form::B)]);
    }

    /// `instr`, an operation with a constant, or a cheaper one that computes the same: an
    /// unsigned i32 division by a constant of at least 2 becomes a multiplication
    /// (`I32DivUMagic`; a divisor 0 still traps, 1 stays a division).
    pub(super) fn reduce_strength(instr: Instr) -> Instr {
        match instr {
            Instr::I32DivUImm { dst, a, imm } if imm as u32 >= 2 => Instr::I32DivUMagic {
                dst,
                a,
                magic: u64::MAX / (imm as u32 as u64) + 1,
            },
            _ => instr,
        }
    }

    /// An `i32.and` or `i32.shl` by a constant at `idx` that reads the result of the
    /// `i32.shr_u` or `i32.and` by a constant just before it (through the accumulator,
    /// so nothing else reads it) becomes one `I32ShiftMask` in that one's place: the
    /// shift and mask of a bit field in one dispatch.
    pub(super) fn fuse_shift_mask(&mut self, idx: usize) {
        if idx == 0 || !self.is_last(idx) || self.forms[idx] != Form::A {
            return;
        }
        let prev = idx - 1;
        let (a, shr, mask, shl, dst) = match (self.code[prev], self.code[idx]) {
            (Instr::I32ShrUImm { a, imm, .. }, Instr::I32AndImm { dst, imm: m, .. }) => {
                (a, imm as u8 & 31, m as u32, 0, dst)
            }
            (Instr::I32AndImm { a, imm: m, .. }, Instr::I32ShlImm { dst, imm, .. }) => {
                (a, 0, m as u32, imm as u8 & 31, dst)
            }
            (
                Instr::I32ShiftMask {
                    a,
                    shr,
                    mask,
                    shl: 0,
                    ..
                },
                Instr::I32ShlImm { dst, imm, .. },
            ) => (a, shr, mask, imm as u8 & 31, dst),
            _ => return,
        };
        let fused = Instr::I32ShiftMask {
            dst,
            a,
            shr,
            shl,
            mask,
        };
        let fused_form = self.forms[prev] & Form::A;
        self.replace_pair(prev, fused, fused_form, &[(a, Form::A)]);
    }

    /// An `f64.add`, `f64.mul` or `i32.add` at `idx` whose second operand is the value
    /// the load just before it produced (through the accumulator, so nothing else reads
    /// it) becomes one instruction in the load's place, which traps as the load did.
    pub(super) fn fuse_load_op(&mut self, idx: usize) {
        if idx == 0 || idx >= self.code.len() || self.forms[idx] != Form::B {
            return;
        }
        let prev = idx - 1;
        let load_form = self.forms[prev];
        if load_form.any(!(Form::OUT | Form::A | Access::WRAP)) {
            return;
        }
        let fused = match (self.code[prev], self.code[idx]) {
            (Instr::F64Load { addr, offset, .. }, Instr::F64Add { dst, a, .. }) => {
                Instr::F64AddLoad {
                    dst,
                    a,
                    addr,
                    offset,
                }
            }
            (Instr::F64Load { addr, offset, .. }, Instr::F64Mul { dst, a, .. }) => {
                Instr::F64MulLoad {
                    dst,
                    a,
                    addr,
                    offset,
                }
            }
            (Instr::I32Load { addr, offset, .. }, Instr::I32Add { dst, a, .. }) => {
                Instr::I32AddLoad {
                    dst,
                    a,
                    addr,
                    offset,
                }
            }
            _ => return,
        };
        // The load's address from the accumulator is the fused instruction's `B`; a
        // wrapping address stays one.
        let fused_form = self.first_from_acc(prev, Form::B) | (load_form & Access::WRAP);
        if !supports(&fused, fused_form) {
            return;
        }
        let (Instr::F64AddLoad { a, addr, .. }
        | Instr::F64MulLoad { a, addr, .. }
        | Instr::I32AddLoad { a, addr, .. }) = fused
        else {
            return;
        };
        self.replace_pair(prev, fused, fused_form, &[(a, Form::A), (addr, Form::B)]);
    }

    /// A store (the last instruction) of the sum an `F64AddLoad` or `I32AddLoad` just
    /// before it computed (through the accumulator), back to the address that one
    /// loaded from, becomes one `F64AddInPlace` or `I32AddInPlace` in its place.
    pub(super) fn fuse_add_in_place(&mut self) {
        let Some(idx) = self.code.len().checked_sub(1) else {
            return;
        };
        if idx == 0 {
            return;
        }
        let prev = idx - 1;
        let (op_form, store_form) = (self.forms[prev], self.forms[idx]);
        let wrap = op_form & Access::WRAP;
        if op_form.any(!(Form::OUT | Form::A | Access::WRAP)) || store_form != Form::B | wrap {
            return;
        }
        let fused = match (self.code[prev], self.code[idx]) {
            (
                Instr::F64AddLoad {
                    a, addr, offset, ..
                },
                Instr::F64Store {
                    addr: to,
                    offset: at,
                    ..
                },
            ) if (to, at) == (addr, offset) => Instr::F64AddInPlace { a, addr, offset },
            (
                Instr::I32AddLoad {
                    a, addr, offset, ..
                },
                Instr::I32Store {
                    addr: to,
                    offset: at,
                    ..
                },
            ) if (to, at) == (addr, offset) => Instr::I32AddInPlace { a, addr, offset },
            _ => return,
        };
        // The wasm offset kept is the load's, for its trap.
        self.replace_pair(prev, fused, (op_form & Form::A) | wrap, &[]);
        self.last_result = None;
    }

    /// A `select` at `idx` of the two operands of the integer compare just before it,
    /// which only the `select` reads (through the accumulator), is a minimum or maximum:
    /// one instruction in the compare's place.
    pub(super) fn fuse_min_max(&mut self, idx: usize) {
        let Instr::Select { dst, a, b, .. } = self.code[idx] else {
            return;
        };
        if idx == 0 || self.forms[idx] != Form::A || self.forms[idx - 1] != Form::OUT {
            return;
        }
        let prev = idx - 1;
        // `min` when the select takes the compare's first operand on "less".
        let (x, y, less_first, signed, wide) = match self.code[prev] {
            Instr::I32LtU { a, b, .. } | Instr::I32LeU { a, b, .. } => (a, b, true, false, false),
            Instr::I32GtU { a, b, .. } | Instr::I32GeU { a, b, .. } => (a, b, false, false, false),
            Instr::I32LtS { a, b, .. } | Instr::I32LeS { a, b, .. } => (a, b, true, true, false),
            Instr::I32GtS { a, b, .. } | Instr::I32GeS { a, b, .. } => (a, b, false, true, false),
            Instr::I64LtU { a, b, .. } | Instr::I64LeU { a, b, .. } => (a, b, true, false, true),
            Instr::I64GtU { a, b, .. } | Instr::I64GeU { a, b, .. } => (a, b, false, false, true),
            Instr::I64LtS { a, b, .. } | Instr::I64LeS { a, b, .. } => (a, b, true, true, true),
            Instr::I64GtS { a, b, .. } | Instr::I64GeS { a, b, .. } => (a, b, false, true, true),
            _ => return,
        };
        // `x < y ? x : y` is the minimum, `x < y ? y : x` the maximum (ties give equal
        // values either way).
        let min = match (a == x && b == y, a == y && b == x) {
            (true, _) => less_first,
            (_, true) => !less_first,
            _ => return,
        };
        let fused = match (wide, signed, min) {
            (false, false, true) => Instr::I32MinU { dst, a, b },
            (false, false, false) => Instr::I32MaxU { dst, a, b },
            (false, true, true) => Instr::I32MinS { dst, a, b },
            (false, true, false) => Instr::I32MaxS { dst, a, b },
            (true, false, true) => Instr::I64MinU { dst, a, b },
            (true, false, false) => Instr::I64MaxU { dst, a, b },
            (true, true, true) => Instr::I64MinS { dst, a, b },
            (true, true, false) => Instr::I64MaxS { dst, a, b },
        };
        self.replace_pair(prev, fused, Form::NONE, &[(a, Form::A), (b, Form::B)]);
    }

    /// A scalar load or store at `idx` without an offset, whose address is the result of
    /// the `i32.add` of a constant just before it (through the accumulator, so nothing
    /// else reads it), takes the add in: the constant becomes its offset, added in 32-bit
    /// arithmetic (`Access::WRAP`) as the add did. One dispatch instead of two.
    pub(super) fn fuse_address_add(&mut self, idx: usize) {
        if idx == 0 || !self.forms[idx].has(Form::A) {
            return;
        }
        let prev = idx - 1;
        let Instr::I32AddImm { a: base, imm, .. } = self.code[prev] else {
            return;
        };
        let mut access = self.code[idx];
        match access.address_mut() {
            Some((addr, offset)) if *offset == 0 => {
                *addr = base;
                *offset = imm as u32;
            }
            _ => return,
        }
        // The add's own operand may come from the accumulator: it is the address now.
        let fused_form = Access::WRAP | (self.forms[idx] & !Form::A) | (self.forms[prev] & Form::A);
        if !supports(&access, fused_form) {
            return;
        }
        let val = access.stored_value().map(|v| (v, Form::B));
        let operands: Vec<_> = [(base, Form::A)].into_iter().chain(val).collect();
        self.replace_pair_into_second(prev, access, fused_form, &operands);
    }

    /// An `i32.load` (the last instruction, form 0) from the register that the
    /// `I32AddShl` just before it wrote (no label between) joins it in one
    /// `I32AddShlLoad`. This is the element address a compiler keeps in a local because
    /// the code stores back through it (the swaps of heap sort's sift-down, of a
    /// partition); when only the load reads the address, `INDEX` has taken it in already.
    pub(super) fn fuse_shifted_address_load(&mut self) {
        let Some(idx) = self.code.len().checked_sub(1) else {
            return;
        };
        if idx == 0
            || self.last_label == idx
            || self.forms[idx - 1] != Form::NONE
            || self.forms[idx] != Form::NONE
        {
            return;
        }
        let (
            Instr::I32AddShl { dst, a, b, shift },
            Instr::I32Load {
                dst: val,
                addr,
                offset,
                ..
            },
        ) = (self.code[idx - 1], self.code[idx])
        else {
            return;
        };
        if addr != dst {
            return;
        }
        let fused = Instr::I32AddShlLoad {
            dst,
            a,
            b,
            val,
            shift,
            offset,
        };
        self.replace_pair_into_second(idx - 1, fused, Form::NONE, &[]);
    }

    /// An indexed `i32.load` (the last instruction, form `INDEX`) right after a copy (no
    /// label between) whose destination or source is its index joins the copy in one
    /// `CopyI32Load`, which indexes with the source: `i = next; x = a[i]`.
    pub(super) fn fuse_copy_load(&mut self) {
        let Some(idx) = self.code.len().checked_sub(1) else {
            return;
        };
        if idx == 0 || self.last_label == idx || self.forms[idx - 1] != Form::NONE {
            return;
        }
        if self.forms[idx] != Form::from(Access::INDEX) {
            return;
        }
        let (
            Instr::Copy { dst: copy, src },
            Instr::I32Load {
                dst,
                addr,
                index,
                scale,
                offset,
            },
        ) = (self.code[idx - 1], self.code[idx])
        else {
            return;
        };
        if index != copy && index != src {
            return;
        }
        // The load reads its registers after the copy: an address in `copy` is `src`.
        let addr = if addr == copy { src } else { addr };
        let fused = Instr::CopyI32Load {
            copy,
            src,
            dst,
            addr,
            scale,
            offset,
        };
        self.replace_pair_into_second(idx - 1, fused, Form::NONE, &[]);
    }

    /// [`Translator::replace_pair`] for a fusion into the instruction at `prev + 1`, such
    /// as a load or store taking in its address arithmetic: a trap is that instruction's,
    /// so its wasm offset is the one kept, and one without a result (a store) still has
    /// none.
    pub(super) fn replace_pair_into_second(
        &mut self,
        prev: usize,
        fused: Instr,
        form: Form,
        operands: &[(Reg, Form)],
    ) {
        self.offsets[prev] = self.offsets[prev + 1];
        let result = self.last_result.is_some();
        self.replace_pair(prev, fused, form, operands);
        if !result {
            self.last_result = None;
        }
    }

    /// A scalar load or store at `idx` whose address is the result of the `i32.add` or
    /// `I32AddShl` just before it (through the accumulator, so nothing else reads it),
    /// takes that in (`Access::INDEX`): it computes `addr + index * scale` in 32-bit
    /// arithmetic, as the add did, then adds its offset as before. One dispatch instead
    /// of two. Scales go up to 8 (a shift by 3), those of arrays of scalars.
    pub(super) fn fuse_address_index(&mut self, idx: usize) {
        if idx == 0 || idx + 1 != self.code.len() {
            return;
        }
        let access_form = self.forms[idx];
        if access_form.any(!(Form::A | Form::B | Form::OUT)) || !access_form.has(Form::A) {
            return;
        }
        let prev = idx - 1;
        let add_form = self.forms[prev] & (Form::A | Form::B);
        let (base, index, scale, add_form) = match self.code[prev] {
            // The add's operand from the accumulator becomes the address, which both
            // loads and stores can take from there.
            Instr::I32Add { a, b, .. } if add_form == Form::B => (b, a, 1, Form::A),
            Instr::I32Add { a, b, .. } => (a, b, 1, add_form),
            Instr::I32AddShl { a, b, shift, .. } if shift <= 3 => (a, b, 1 << shift, add_form),
            _ => return,
        };
        let mut access = self.code[idx];
        // A store's `B` is its value: the index cannot come from the accumulator.
        if access.stored_value().is_some() && add_form.has(Form::B) {
            return;
        }
        let Some((addr, index_reg, scale_field)) = access.index_mut() else {
            return;
        };
        (*addr, *index_reg, *scale_field) = (base, index, scale);
        let fused_form = Access::INDEX | (access_form & !Form::A) | add_form;
        if !supports(&access, fused_form) {
            return;
        }
        let second = access.stored_value().unwrap_or(index);
        self.replace_pair_into_second(
            prev,
            access,
            fused_form,
            &[(base, Form::A), (second, Form::B)],
        );
    }

    /// The last instruction, a scalar load or store whose address is a temporary read
    /// from its register, takes in the address arithmetic that computed that temporary
    /// from locals up to 16 instructions back (straight-line code, no label between,
    /// nothing in between touching the temporary or writing those locals), which then
    /// goes:
    /// - `local + k` (`I32AddImm`): the access adds `k` itself in 32-bit arithmetic
    ///   (`Access::WRAP`; only an access without an offset of its own);
    /// - `a + b` or `a + (b << s)` (`I32Add`, `I32AddShl`): `Access::INDEX`;
    /// - `(local + k) + b`, the constant add linked into the add of `b`: both, with
    ///   `INDEX` and `WRAP`.
    ///
    /// The address arithmetic of `base[k + i]` where the add came before the index was
    /// computed, as in the register file of an interpreter compiled to wasm.
    pub(super) fn fold_address_arithmetic(&mut self) {
        /// How far back the arithmetic may be. Compilers schedule a store's address
        /// ahead of its value's arithmetic, in the kernels measured up to ten
        /// instructions before the store.
        const WINDOW: usize = 16;
        let Some(last) = self.code.len().checked_sub(1) else {
            return;
        };
        let access_form = self.forms[last];
        if access_form.any(Form::A | Access::WRAP) {
            return;
        }
        let mut access = self.code[last];
        let (t, own_offset) = match access.address_mut() {
            Some((addr, offset)) => (*addr, *offset),
            None => return,
        };
        let locals = self.num_locals as Reg;
        let local = |r: Reg| (0..locals).contains(&r);
        if t < locals {
            return;
        }
        let first = self.last_label.max(last.saturating_sub(WINDOW));
        let mut producer = None;
        for k in (first..last).rev() {
            let instr = self.code[k];
            let mut copy = instr;
            if copy.dst_mut().is_some_and(|d| *d == t) {
                producer = Some(k);
                break;
            }
            if !Self::straight_line(&instr) || Self::mentions(instr, t) {
                return;
            }
        }
        let Some(k) = producer else {
            return;
        };
        // What goes (`from..=k`), and the access's address, index, scale and wrapping
        // constant.
        let before = (k > first).then(|| (self.code[k - 1], self.forms[k - 1]));
        let (from, base, index, scale, constant) = match (self.code[k], self.forms[k], before) {
            (Instr::I32AddImm { a, imm, .. }, Form::NONE, _) if local(a) => {
                (k, a, None, 1, Some(imm))
            }
            (Instr::I32Add { a, b, .. }, Form::NONE, _) if local(a) && local(b) => {
                (k, a, Some(b), 1, None)
            }
            (Instr::I32AddShl { a, b, shift, .. }, Form::NONE, _)
                if local(a) && local(b) && shift <= 3 =>
            {
                (k, a, Some(b), 1 << shift, None)
            }
            (
                Instr::I32Add { a, b, .. },
                f @ (Form::A | Form::B),
                Some((Instr::I32AddImm { a: base, imm, .. }, Form::OUT)),
            ) => {
                let other = if f == Form::A { b } else { a };
                if !local(base) || !local(other) {
                    return;
                }
                (k - 1, base, Some(other), 1, Some(imm))
            }
            _ => return,
        };
        // An indexed access already has its index; only a constant can join it.
        if (constant.is_some() && own_offset != 0)
            || (index.is_some() && access_form.has(Access::INDEX))
        {
            return;
        }
        // Nothing in between may write the locals the arithmetic read.
        for instr in &self.code[k + 1..last] {
            let mut copy = *instr;
            for r in [Some(base), index].into_iter().flatten() {
                let reads_only = instr.stored_value().is_some()
                    || (copy.dst_mut().is_some_and(|d| *d != r) && instr.also_writes() != Some(r));
                if !reads_only && Self::mentions(*instr, r) {
                    return;
                }
            }
        }
        let mut fused_form = access_form;
        if let Some(index) = index {
            let Some((addr, index_reg, scale_reg)) = access.index_mut() else {
                return;
            };
            (*addr, *index_reg, *scale_reg) = (base, index, scale);
            fused_form |= Access::INDEX;
        } else if let Some((addr, _)) = access.address_mut() {
            *addr = base;
        }
        if let Some(imm) = constant
            && let Some((_, offset)) = access.address_mut()
        {
            *offset = imm as u32;
            fused_form |= Access::WRAP;
        }
        if !supports(&access, fused_form) {
            return;
        }
        self.code[last] = access;
        self.forms[last] = fused_form;
        // A trap is the access's; the arithmetic goes.
        self.code.drain(from..=k);
        self.forms.drain(from..=k);
        self.offsets.drain(from..=k);
        // Indices of instructions after it move down.
        fn shifted(i: Option<usize>, from: usize, k: usize) -> Option<usize> {
            match i {
                Some(i) if i > k => Some(i - (k + 1 - from)),
                Some(i) if i >= from => None,
                i => i,
            }
        }
        self.last_result = shifted(self.last_result, from, k);
        self.emitted_after = self.emitted_after.map(|i| shifted(i, from, k));
    }

    /// On the laid-out code: an operator or load whose result register the next
    /// instruction reads (as an operand it can take from the accumulator, and through no
    /// other operand) also passes the result in the accumulator (form `TEE`), and the
    /// reader takes it from there; so does a counting branch (`PRE`) with its counter,
    /// for the path that falls through (`if (++c < n) x = a[c]`). The linking at
    /// emission covers temporaries; this covers locals (the register is still written
    /// for later readers), where the value would otherwise go through memory and back:
    /// `c = 2 * c + 1` and the test of `c`, a sum kept in a local and stored at once, an
    /// element loaded into a local and compared at once (`while (a[i] < p)`, where the
    /// compare decides a branch that is hard to predict, so the sooner it has its
    /// operand the less a misprediction costs). Never into a branch target, which is
    /// reached with another accumulator.
    pub(super) fn link_through_locals(&mut self) {
        let n = self.code.len();
        let target = self.branch_targets();
        for k in 0..n.saturating_sub(1) {
            let (mut producer, mut consumer) = (self.code[k], self.code[k + 1]);
            let (form, next_form) = (self.forms[k], self.forms[k + 1]);
            if target[k + 1]
                || form.any(Form::OUT | Form::TEE)
                || next_form.any(Form::A | Form::B)
                || !supports(&producer, form | Form::TEE)
            {
                continue;
            }
            // A counting branch passes its counter on; the others their result.
            let counting = form.has(Counting::PRE) && producer.offset_mut().is_some();
            let written = if counting {
                producer.scalar_operand_mut(false)
            } else {
                producer.dst_mut()
            };
            let Some(&mut r) = written else {
                continue;
            };
            // `r` is read once, through the operand linked; the reader may write it.
            let writes_r = consumer.dst_mut().is_some_and(|d| *d == r);
            let mut names = 0;
            consumer.regs_mut(|x| names += (*x == r) as usize);
            if names != 1 + writes_r as usize {
                continue;
            }
            let bit = if consumer.scalar_operand_mut(false).is_some_and(|x| *x == r) {
                Form::A
            } else if consumer.scalar_operand_mut(true).is_some_and(|x| *x == r) {
                Form::B
            } else {
                continue;
            };
            if !supports(&consumer, next_form | bit)
                || bit
                    .slot()
                    .is_none_or(|s| producer.acc_float(Slot::Out) != consumer.acc_float(s))
            {
                continue;
            }
            self.forms[k] |= Form::TEE;
            self.forms[k + 1] |= bit;
        }
    }

    /// Whether `instr` names register `r` in any operand.
    fn mentions(mut instr: Instr, r: Reg) -> bool {
        let mut found = false;
        instr.regs_mut(|x| found |= *x == r);
        found
    }
}
