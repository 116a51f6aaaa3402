//! Fusions into loads and stores: an operation with the load that feeds it, an add
//! stored back in place, address arithmetic (a constant, an index, a scaled index) folded
//! into the access that uses it, also from a few straight-line instructions back, and
//! pairs of a copy or an address computation with the load after it.

use super::Translator;
use crate::exec::supports;
use crate::inst::{Access, Form};
use crate::isa::{Instr, Reg};

impl Translator<'_> {
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

    /// An indexed `i32.load` (the last instruction, form `Access::INDEX`) right after a copy (no
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
}
