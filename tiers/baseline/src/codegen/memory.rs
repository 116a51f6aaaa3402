//! Linear-memory accesses (bounds checks where the guard region does not cover them,
//! trap sites) and the bulk operations.

use super::*;

impl<M: Masm> CodeGen<'_, M> {
    /// Pops the address operand of an access of `bytes` bytes and returns the access's
    /// operand and the register it reads, to release after the access; checks the bound
    /// where the guard region does not cover the access.
    pub(super) fn heap_addr(
        &mut self,
        memarg: &MemArg,
        bytes: u64,
    ) -> Result<(Addr, Read), CompileError> {
        if memarg.target != wasmparser::MemArgTarget::Memory(0) {
            return Err(unsupported("multiple memories"));
        }
        let off = i32::try_from(memarg.offset);
        // An offset beyond an immediate is added to the index, which must be the access's.
        let index = if off.is_ok() {
            self.pop_gpr_read()?
        } else {
            Read {
                reg: self.pop_gpr()?,
                lent_by: None,
            }
        };
        let end = memarg.offset.saturating_add(bytes);
        if self.bounds_checks || end > GUARD_BYTES {
            self.bound_check(index.reg, end)?;
        }
        let addr = match off {
            Ok(off) => Addr::Indexed(self.memory_base(), index.reg, off),
            Err(_) => {
                self.m.mov_imm(Size::S64, M::SCRATCH, memarg.offset);
                self.m.int_op(IntOp::Add, Size::S64, index.reg, M::SCRATCH);
                Addr::Indexed(self.memory_base(), index.reg, 0)
            }
        };
        Ok((addr, index))
    }

    /// Traps unless `index + end` is within the memory's current length.
    pub(super) fn bound_check(&mut self, index: Gpr, end: u64) -> Result<(), CompileError> {
        let (s, s2) = (M::SCRATCH, M::SCRATCH2);
        self.m.mov(Size::S64, s, index);
        match i32::try_from(end) {
            Ok(e) => self.m.int_op_imm(IntOp::Add, Size::S64, s, e),
            Err(_) => {
                self.m.mov_imm(Size::S64, s2, end);
                self.m.int_op(IntOp::Add, Size::S64, s, s2);
            }
        }
        self.m
            .load(Size::S64, s2, Addr::Base(self.vmctx(), vm::MEMORY as i32));
        self.m
            .load(Size::S64, s2, Addr::Base(s2, memory_offsets::LENGTH as i32));
        self.m.cmp(Size::S64, s, s2);
        self.trap_unless(Cond::LeU, TrapCode::MemoryOutOfBounds);
        Ok(())
    }

    pub(super) fn access_site(&mut self) {
        let at = self.m.offset();
        self.traps.push((at, TrapCode::MemoryOutOfBounds));
    }

    pub(super) fn load_int(
        &mut self,
        memarg: &MemArg,
        ty: ValType,
        bytes: u64,
        widen: Option<Widen>,
    ) -> Result<(), CompileError> {
        let (addr, index) = self.heap_addr(memarg, bytes)?;
        // Into the index's register where the access owns it.
        let dst = match index.lent_by {
            None => index.reg,
            Some(_) => self.alloc_gpr(),
        };
        self.access_site();
        match widen {
            Some(w) => self.m.load_widen(w, dst, addr),
            None => self.m.load(Size::of(ty), dst, addr),
        }
        if index.lent_by.is_some() {
            self.release(index);
        }
        if ty == ValType::I32 && matches!(widen, Some(Widen::B8(true) | Widen::B16(true))) {
            // Sign-extended to 64 bits by the load; an i32 keeps its upper half zero.
            self.m.mov(Size::S32, dst, dst);
        }
        self.push_gpr(ty, dst);
        Ok(())
    }

    pub(super) fn load_float(&mut self, memarg: &MemArg, ty: ValType) -> Result<(), CompileError> {
        let bytes = if ty == ValType::F32 { 4 } else { 8 };
        let (addr, index) = self.heap_addr(memarg, bytes)?;
        let x = self.alloc_xmm();
        self.access_site();
        self.m.fload(Size::of(ty), x, addr);
        self.release(index);
        self.push_xmm(ty, x);
        Ok(())
    }

    pub(super) fn store_int(&mut self, memarg: &MemArg, bytes: u8) -> Result<(), CompileError> {
        /// What the store writes: a constant as an immediate (sign-extended for 8 bytes,
        /// so only one that fits), or a register.
        enum Value {
            Imm(i32),
            Reg(Read),
        }
        let value = match self.stack.peek(0) {
            Some(&Entry::Const(_, bits)) if bytes < 8 || bits as i64 == bits as i32 as i64 => {
                self.stack.pop();
                Value::Imm(bits as i32)
            }
            _ => Value::Reg(self.pop_gpr_read()?),
        };
        let (addr, index) = self.heap_addr(memarg, u64::from(bytes))?;
        self.access_site();
        match value {
            Value::Imm(imm) => self.m.store_imm(bytes, addr, imm),
            Value::Reg(value) => {
                self.m.store(bytes, addr, value.reg);
                self.release(value);
            }
        }
        self.release(index);
        Ok(())
    }

    pub(super) fn store_float(&mut self, memarg: &MemArg, ty: ValType) -> Result<(), CompileError> {
        let value = self.pop_xmm()?;
        let bytes = if ty == ValType::F32 { 4 } else { 8 };
        let (addr, index) = self.heap_addr(memarg, bytes)?;
        self.access_site();
        self.m.fstore(Size::of(ty), addr, value);
        self.regs.free(Reg::X(value));
        self.release(index);
        Ok(())
    }

    /// `memory.copy` and `memory.fill`: both ranges checked whole, then one string
    /// instruction (a copy descends when the destination is above the source).
    pub(super) fn bulk(&mut self, copy: bool) -> Result<(), CompileError> {
        // dst, src-or-value, len: into the string instruction's registers.
        self.spill_all();
        self.forget_copies();
        let len = self.stack.len();
        if len < 3 {
            return Err(CompileError("operand stack underflow".into()));
        }
        let (dst_e, mid_e, len_e) = (
            self.stack.entries[len - 3],
            self.stack.entries[len - 2],
            self.stack.entries[len - 1],
        );
        let (dst, src, count) = (M::ARG_GPRS[0], M::ARG_GPRS[1], M::COUNT);
        self.load_gpr(dst_e, len - 3, dst);
        self.load_gpr(mid_e, len - 2, src);
        self.load_gpr(len_e, len - 1, count);
        self.truncate(len - 3);
        let (s, s2) = (M::SCRATCH, M::SCRATCH2);
        self.m
            .load(Size::S64, s2, Addr::Base(self.vmctx(), vm::MEMORY as i32));
        self.m
            .load(Size::S64, s2, Addr::Base(s2, memory_offsets::LENGTH as i32));
        for r in if copy { vec![dst, src] } else { vec![dst] } {
            self.m.mov(Size::S64, s, r);
            self.m.int_op(IntOp::Add, Size::S64, s, count);
            self.m.cmp(Size::S64, s, s2);
            self.trap_unless(Cond::LeU, TrapCode::MemoryOutOfBounds);
        }
        self.m
            .int_op(IntOp::Add, Size::S64, dst, self.memory_base());
        if copy {
            self.m
                .int_op(IntOp::Add, Size::S64, src, self.memory_base());
            let up = self.m.new_label();
            let done = self.m.new_label();
            self.m.cmp(Size::S64, dst, src);
            self.m.jcc(Cond::LeU, up);
            self.m.test(Size::S64, count);
            self.m.jcc(Cond::Eq, done);
            self.m.lea(dst, Addr::Indexed(dst, count, -1));
            self.m.lea(src, Addr::Indexed(src, count, -1));
            self.m.copy_bytes(false);
            self.m.jmp(done);
            self.m.bind(up);
            self.m.copy_bytes(true);
            self.m.bind(done);
        } else {
            self.m.mov(Size::S32, M::DIV_QUOTIENT, src);
            self.m.fill_bytes();
        }
        Ok(())
    }
}
