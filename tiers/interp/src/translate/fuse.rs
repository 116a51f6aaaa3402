//! Peephole fusions: where an instruction just emitted and the one before it (or
//! address arithmetic a few straight-line instructions back) can be one instruction,
//! the translator replaces them (see the crate docs for the list). Each fusion checks
//! that nothing else reads the value passed between the two: it travelled through the
//! accumulator, or it is a temporary that only the last instruction names. Also here:
//! the pairing of adds into locals, the elision of `i32.wrap_i64` where 32-bit code reads
//! it and of zeroing a local that still holds its initial zero, and the pass that hands a
//! local just written to its reader in the accumulator as well (form `Form::TEE`).

use super::{CtrlKind, Translator};
use crate::exec::supports;
use crate::inst::Form;
use crate::isa::{Instr, Reg, Step};
use crate::regs::Imm;

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
    pub(super) fn first_from_acc(&self, i: usize, bit: Form) -> Form {
        if self.forms[i].has(Form::A) {
            bit
        } else {
            Form::NONE
        }
    }

    /// Whether the instruction at `idx` is the last one emitted (and not already fused
    /// into the one before it).
    pub(super) fn is_last(&self, idx: usize) -> bool {
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

    /// Whether `instr` names register `r` in any operand.
    pub(super) fn mentions(mut instr: Instr, r: Reg) -> bool {
        let mut found = false;
        instr.regs_mut(|x| found |= *x == r);
        found
    }
}
