//! The registers and the provider stack: where each operand-stack slot and local lives,
//! pushing and popping providers, interning constants, materialising providers into
//! their slots, and `local.set` (which retargets the instruction that computed the value
//! when it can).

use wasmparser::{FuncType, ValType};

use super::{MAX_CONSTS, MAX_REG, Provider, Translator};
use crate::error::TranslateError;
use crate::func::NARROW;
use crate::isa::{Instr, Reg};

impl Translator<'_> {
    /// The first register of stack slot `h` (`h <= height`: for the height itself, where
    /// the next slot would start).
    pub(super) fn temp(&self, h: u32) -> Result<Reg, TranslateError> {
        let r = match h.checked_sub(1).and_then(|b| self.slots.get(b as usize)) {
            Some(&(r, wide)) => r as u32 + 1 + wide as u32,
            None => self.num_locals,
        };
        if r + 1 > MAX_REG {
            return Err(self.beyond_registers());
        }
        Ok(r as Reg)
    }

    /// Whether registers `a` and `b` may be parts of one span operand (`CopySpan`,
    /// `Return`): both parameters or locals, or both temporaries. Constants never are:
    /// [`Translator::layout`] moves them between the two areas, which keeps spans within
    /// one area consecutive and nothing else.
    pub(super) fn same_span_area(&self, a: Reg, b: Reg) -> bool {
        a >= 0 && b >= 0 && ((a as u32) < self.num_locals) == ((b as u32) < self.num_locals)
    }

    /// Whether stack slot `h` holds a v128.
    pub(super) fn is_wide(&self, h: u32) -> bool {
        self.slots.get(h as usize).is_some_and(|s| s.1)
    }

    /// Whether the top slot holds a v128.
    pub(super) fn top_wide(&self) -> bool {
        self.height()
            .checked_sub(1)
            .is_some_and(|h| self.is_wide(h))
    }

    /// Width flags of a signature (parameters then results) appended to `wide`, or
    /// `NARROW` if it has no v128.
    pub(super) fn sig_widths(&mut self, ty: &FuncType) -> u32 {
        let all = || ty.params().iter().chain(ty.results());
        if !all().any(|t| *t == ValType::V128) {
            return NARROW;
        }
        let at = self.wide.len() as u32;
        self.wide.extend(all().map(|t| *t == ValType::V128));
        at
    }

    pub(super) fn height(&self) -> u32 {
        self.stack.len() as u32
    }

    /// The register holding stack slot `h`.
    pub(super) fn reg_at(&self, h: u32) -> Reg {
        match self.stack[h as usize] {
            Provider::Local(r) | Provider::Const(r) => r,
            Provider::Temp => self.slots[h as usize].0,
        }
    }

    /// Pushes a slot holding a scalar (`wide == false`) or a v128.
    pub(super) fn push(&mut self, p: Provider, wide: bool) -> Result<(), TranslateError> {
        let h = self.height();
        let r = self.temp(h)?;
        let end = r as u32 + 1 + wide as u32;
        if end > MAX_REG {
            return Err(self.beyond_registers());
        }
        if let Provider::Local(r) = p {
            self.pending_locals += 1;
            self.local_uses[r as usize] += 1;
        }
        self.stack.push(p);
        self.slots.push((r, wide));
        self.max_reg = self.max_reg.max(end);
        Ok(())
    }

    /// Pushes a temporary slot and returns its register.
    pub(super) fn push_temp(&mut self, wide: bool) -> Result<Reg, TranslateError> {
        let r = self.temp(self.height())?;
        self.push(Provider::Temp, wide)?;
        Ok(r)
    }

    /// Pushes the temporaries of values of the given types.
    pub(super) fn push_types(&mut self, types: &[ValType]) -> Result<(), TranslateError> {
        for t in types {
            self.push(Provider::Temp, *t == ValType::V128)?;
        }
        Ok(())
    }

    /// Pops a slot and returns the register it is in.
    pub(super) fn pop(&mut self) -> Result<Reg, TranslateError> {
        let h = self.height();
        if h == 0 {
            return Err(self.error("operand stack underflow"));
        }
        let r = self.reg_at(h - 1);
        self.slots.pop();
        if let Some(p) = self.stack.pop() {
            self.forget(p);
        }
        Ok(r)
    }

    /// Pops slots down to height `h`.
    pub(super) fn truncate(&mut self, h: u32) {
        while self.height() > h {
            self.slots.pop();
            if let Some(p) = self.stack.pop() {
                self.forget(p);
            }
        }
    }

    /// Accounts for a provider leaving the stack (popped or materialised).
    pub(super) fn forget(&mut self, p: Provider) {
        if let Provider::Local(r) = p {
            self.pending_locals -= 1;
            self.local_uses[r as usize] -= 1;
        }
        self.locals_floor = self.locals_floor.min(self.height());
    }

    /// Interns a constant and pushes it.
    pub(super) fn push_const(&mut self, bits: u64) -> Result<(), TranslateError> {
        let reg = self.intern(bits)?;
        self.push(Provider::Const(reg), false)
    }

    /// The constant register holding the scalar `bits`, interned if it is new.
    pub(super) fn intern(&mut self, bits: u64) -> Result<Reg, TranslateError> {
        if let Some(r) = self.const_regs.get(&bits) {
            return Ok(*r);
        }
        if self.consts.len() >= MAX_CONSTS {
            return Err(self.beyond_registers());
        }
        let r = -1 - self.consts.len() as i32;
        self.consts.push(bits);
        self.const_regs.insert(bits, r as Reg);
        Ok(r as Reg)
    }

    /// Interns a v128 constant (two constant registers, low half first) and returns its
    /// register.
    pub(super) fn intern_v128(&mut self, bits: u128) -> Result<Reg, TranslateError> {
        if let Some(r) = self.const_v128.get(&bits) {
            return Ok(*r);
        }
        if self.consts.len() + 2 > MAX_CONSTS {
            return Err(self.beyond_registers());
        }
        // `consts[k]` is register `-1 - k`: push the high half, then the low half below it.
        self.consts.push((bits >> 64) as u64);
        self.consts.push(bits as u64);
        let r = (-(self.consts.len() as i32)) as Reg;
        self.const_v128.insert(bits, r);
        Ok(r)
    }

    /// Interns a v128 constant and pushes it.
    pub(super) fn push_const_v128(&mut self, bits: u128) -> Result<(), TranslateError> {
        let r = self.intern_v128(bits)?;
        self.push(Provider::Const(r), true)
    }

    /// Appends a copy of one value (two registers for a v128). A scalar copy right
    /// after another, with no label between, joins it in one `Copy2`: the moves of a
    /// loop's rotating variables, or of a block's results, take one dispatch per pair.
    pub(super) fn emit_copy(&mut self, dst: Reg, src: Reg, wide: bool) {
        if wide {
            self.emit(Instr::CopyV128 { dst, src });
            return;
        }
        let len = self.code.len();
        if len > 0
            && self.last_label != len
            && let Instr::Copy { dst: d, src: s } = self.code[len - 1]
        {
            self.code[len - 1] = Instr::Copy2 {
                dst: d,
                src: s,
                dst2: dst,
                src2: src,
            };
            self.last_result = None;
            self.emitted_after = [None; 2];
            return;
        }
        self.emit(Instr::Copy { dst, src });
    }

    /// Copies slot `h` into its own temporary if it is a local or constant.
    pub(super) fn materialise(&mut self, h: u32) -> Result<(), TranslateError> {
        match self.stack[h as usize] {
            Provider::Temp => {}
            p @ (Provider::Local(src) | Provider::Const(src)) => {
                let dst = self.temp(h)?;
                let wide = self.is_wide(h);
                self.emit_copy(dst, src, wide);
                self.stack[h as usize] = Provider::Temp;
                self.forget(p);
            }
        }
        Ok(())
    }

    /// Materialises every slot from `from` to the top.
    pub(super) fn materialise_from(&mut self, from: u32) -> Result<(), TranslateError> {
        for h in from..self.height() {
            self.materialise(h)?;
        }
        Ok(())
    }

    /// Materialises every `Local` provider (before control flow splits or merges).
    pub(super) fn materialise_locals(&mut self) -> Result<(), TranslateError> {
        if self.pending_locals > 0 {
            for h in self.locals_floor..self.height() {
                if let Provider::Local(_) = self.stack[h as usize] {
                    self.materialise(h)?;
                }
            }
        }
        self.locals_floor = self.height();
        Ok(())
    }

    /// Materialises the `Local(r)` providers (before local `r` is overwritten); returns
    /// whether there were any.
    pub(super) fn materialise_local(&mut self, r: Reg) -> Result<bool, TranslateError> {
        if self.local_uses[r as usize] == 0 {
            return Ok(false);
        }
        let mut any = false;
        for h in self.locals_floor..self.height() {
            if self.stack[h as usize] == Provider::Local(r) {
                self.materialise(h)?;
                any = true;
            }
        }
        Ok(any)
    }

    /// The first register of local `index`, and whether it is a v128.
    pub(super) fn local(&self, index: u32) -> Result<(Reg, bool), TranslateError> {
        self.locals
            .get(index as usize)
            .copied()
            .ok_or_else(|| self.error(format!("local index {index} out of range")))
    }

    /// `local.set` (and the first half of `local.tee`).
    pub(super) fn local_set(&mut self, index: u32) -> Result<(), TranslateError> {
        let (dst, wide) = self.local(index)?;
        let h = self.height();
        if h == 0 {
            return Err(self.error("operand stack underflow"));
        }
        let top_is_temp = self.stack[h as usize - 1] == Provider::Temp;
        let producer = self.last_result;
        let src = self.pop()?;
        if !wide && self.const_bits(src) == Some(0) && self.holds_initial_zero(dst) {
            // Setting it to zero changes nothing (pending reads of it see zero either way).
            return Ok(());
        }
        let had_pending = self.materialise_local(dst)?;
        if top_is_temp
            && !had_pending
            && let Some(idx) = producer
            && let Some(d) = self.code[idx].dst_mut()
            && *d == src
        {
            *d = dst;
            self.last_result = None;
            self.pair_increments(idx);
            return Ok(());
        }
        if src != dst {
            self.emit_copy(dst, src, wide);
        }
        Ok(())
    }
}
