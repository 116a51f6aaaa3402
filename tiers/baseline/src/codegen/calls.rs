//! Calls by the register convention (direct, indirect through a table, libcalls) and
//! the table operations.

use super::*;

/// A register's bit in a set of registers (general-purpose in the low 16 bits, float in
/// the high).
fn reg_bit(r: Reg) -> u32 {
    match r {
        Reg::G(g) => 1 << (g.0 & 15),
        Reg::X(x) => 1 << (16 + (x.0 & 15)),
    }
}

impl<'a, M: Masm> CodeGen<'a, M> {
    /// Calls the slot whose address is in the second scratch register with the top values
    /// as arguments, by the register convention, and pushes the results.
    pub(super) fn call_slot(
        &mut self,
        params: &[ValType],
        results: &[ValType],
    ) -> Result<(), CompileError> {
        // The layout's vectors are the generator's, reused call after call.
        let mut layout = self
            .call_layout
            .take()
            .unwrap_or_else(|| regcall::locate(&[], &[]));
        layout.locate(params, results);
        let n = params.len();
        let len = self.stack.len();
        let base = len
            .checked_sub(n)
            .ok_or_else(|| CompileError("too few arguments".into()))?;
        let area = if results.len() > 1 {
            16 * results.len() as u32
        } else {
            0
        };
        let reserve = (layout.stack_bytes + area).next_multiple_of(16);
        // The arguments go into registers that may hold copies of locals.
        self.forget_copies();
        // An argument in a register that another argument's register is, or that the call
        // sequence writes, would be overwritten before it is read: it goes to its slot.
        // The others are read from where they are.
        let reg_of = |loc: &Loc| match *loc {
            Loc::Gpr(g) => Some(Reg::G(M::ARG_GPRS[g as usize])),
            Loc::Xmm(x) => Some(Reg::X(Xmm(x))),
            _ => None,
        };
        let targets = layout
            .params
            .iter()
            .chain(&layout.results_area)
            .filter_map(reg_of)
            .fold(0u32, |set, r| set | reg_bit(r));
        for (k, loc) in layout.params.iter().enumerate() {
            if let Entry::Reg(_, r) = self.stack.entries[base + k]
                && reg_of(loc) != Some(r)
                && targets & reg_bit(r) != 0
            {
                self.spill(base + k);
            }
        }
        self.m.reserve(reserve);
        for (k, loc) in layout.params.iter().enumerate() {
            if let Loc::Stack(off) = *loc {
                let e = self.stack.entries[base + k];
                let at = self.m.sp_addr(off as i32);
                self.store_value(e, base + k, at);
            }
        }
        for (k, loc) in layout.params.iter().enumerate() {
            let e = self.stack.entries[base + k];
            match *loc {
                Loc::Gpr(g) => self.load_gpr(e, base + k, M::ARG_GPRS[g as usize]),
                Loc::Xmm(x) => self.load_xmm(e, base + k, Xmm(x)),
                _ => {}
            }
        }
        if let Some(Loc::Gpr(g)) = layout.results_area {
            let at = self.m.sp_addr(layout.stack_bytes as i32);
            self.m.lea(M::ARG_GPRS[g as usize], at);
        }
        self.m.mov(Size::S64, M::ARG_GPRS[1], self.vmctx());
        self.m.mov(Size::S64, M::ARG_GPRS[0], M::SCRATCH2);
        self.m.call_mem(Addr::Base(
            M::ARG_GPRS[0],
            entry::ENTRY_REGISTER_ENTRY as i32,
        ));
        self.truncate(base);
        match results {
            [] => {}
            [ty] if is_float(*ty) => {
                self.claim(Reg::X(M::RET_XMM));
                self.push_xmm(*ty, M::RET_XMM);
            }
            [ty] => self.push_call_result(*ty),
            many => {
                for (k, &ty) in many.iter().enumerate() {
                    let from = self.m.sp_addr((layout.stack_bytes + 16 * k as u32) as i32);
                    self.m.load(Size::S64, M::SCRATCH, from);
                    let to = self.slot(self.stack.len());
                    self.m.store(8, to, M::SCRATCH);
                    self.stack.push(Entry::Mem(ty));
                }
            }
        }
        self.m.release(reserve);
        self.call_layout = Some(layout);
        Ok(())
    }

    /// Spills every entry below the top `args` (the values that live across a call; the
    /// arguments are read from where they are).
    fn spill_below_args(&mut self, args: usize) {
        let base = self.stack.len().saturating_sub(args);
        for i in 0..base {
            self.spill(i);
        }
    }

    pub(super) fn call(&mut self, func_index: u32) -> Result<(), CompileError> {
        let ty = self.func_type(func_index)?;
        self.spill_below_args(ty.params().len());
        let imported = self.env.num_imported_funcs;
        if func_index < imported {
            self.m.load(
                Size::S64,
                M::SCRATCH2,
                Addr::Base(self.vmctx(), vm::FUNC_REFS as i32),
            );
            self.m.load(
                Size::S64,
                M::SCRATCH2,
                Addr::Base(M::SCRATCH2, 8 * func_index as i32),
            );
        } else {
            self.m.load(
                Size::S64,
                M::SCRATCH2,
                Addr::Base(self.vmctx(), vm::DEFINED_FUNCS as i32),
            );
            let off = (func_index - imported) as u64 * entry::ENTRY_SIZE as u64;
            let off = i32::try_from(off).map_err(|_| unsupported("calls this far"))?;
            if off != 0 {
                self.m.lea(M::SCRATCH2, Addr::Base(M::SCRATCH2, off));
            }
        }
        self.call_slot(ty.params(), ty.results())
    }

    pub(super) fn call_indirect(
        &mut self,
        type_index: u32,
        table: u32,
    ) -> Result<(), CompileError> {
        let env = self.env;
        let ty = env
            .types
            .get(type_index as usize)
            .ok_or_else(|| CompileError(format!("unknown type {type_index}")))?;
        let index = self.pop_gpr()?;
        self.spill_below_args(ty.params().len());
        let (s, s2) = (M::SCRATCH, M::SCRATCH2);
        self.m
            .load(Size::S64, s2, Addr::Base(self.vmctx(), vm::TABLES as i32));
        self.m.load(Size::S64, s2, Addr::Base(s2, 8 * table as i32));
        self.m
            .load(Size::S64, s, Addr::Base(s2, table_offsets::LENGTH as i32));
        self.m.cmp(Size::S64, index, s);
        self.trap_unless(Cond::LtU, TrapCode::UndefinedElement);
        self.m.load(
            Size::S64,
            s2,
            Addr::Base(s2, table_offsets::ELEMENTS as i32),
        );
        self.m.shift_imm(ShiftOp::Shl, Size::S64, index, 3);
        self.m.load(Size::S64, s2, Addr::Indexed(s2, index, 0));
        self.m.test(Size::S64, s2);
        self.trap_unless(Cond::Ne, TrapCode::UninitializedElement);
        self.m
            .load(Size::S64, s, Addr::Base(self.vmctx(), vm::TYPE_IDS as i32));
        self.m
            .load(Size::S32, s, Addr::Base(s, 4 * type_index as i32));
        self.m.load(
            Size::S32,
            index,
            Addr::Base(s2, entry::ENTRY_TYPE_ID as i32),
        );
        self.m.cmp(Size::S32, index, s);
        self.trap_unless(Cond::Eq, TrapCode::IndirectCallTypeMismatch);
        self.regs.free(Reg::G(index));
        self.call_slot(ty.params(), ty.results())
    }

    /// The type of function `func_index` (borrowed from the module: a call allocates
    /// nothing).
    pub(super) fn func_type(&self, func_index: u32) -> Result<&'a FuncType, CompileError> {
        let env = self.env;
        env.funcs
            .get(func_index as usize)
            .and_then(|&t| env.types.get(t as usize))
            .ok_or_else(|| CompileError(format!("unknown function {func_index}")))
    }

    /// Calls libcall `offset` of the libcall table with the instance context and `args`
    /// (integers, already in their argument registers from the third on); the stack
    /// must be spilled.
    pub(super) fn libcall(&mut self, offset: usize) {
        self.forget_copies();
        self.m.mov(Size::S64, M::ARG_GPRS[0], self.vmctx());
        self.m.load(
            Size::S64,
            M::SCRATCH,
            Addr::Base(self.vmctx(), vm::LIBCALLS as i32),
        );
        self.m.call_mem(Addr::Base(M::SCRATCH, offset as i32));
    }

    /// Goes on at `ok` where the libcall just called returned `STATUS_OK`, and raises its
    /// status otherwise (`raise` never returns).
    pub(super) fn raise_failed_status(&mut self, ok: Label) {
        self.m.test(Size::S32, M::RET_GPR);
        self.m.jcc(Cond::Eq, ok);
        self.m.mov(Size::S32, M::ARG_GPRS[0], M::RET_GPR);
        self.m.load(
            Size::S64,
            M::SCRATCH,
            Addr::Base(self.vmctx(), vm::LIBCALLS as i32),
        );
        self.m
            .call_mem(Addr::Base(M::SCRATCH, libcall_offsets::RAISE as i32));
    }

    /// Calls libcall `offset` with the instance context and `args` (immediates, or the
    /// topmost `operands` entries, the deepest first, which it pops), in the integer
    /// argument registers from the second on. A libcall that returns a status (`status`)
    /// raises a failed one; one with a result pushes it as `result`.
    pub(super) fn call_libcall(
        &mut self,
        offset: usize,
        args: &[LArg],
        operands: usize,
        status: bool,
        result: Option<ValType>,
    ) -> Result<(), CompileError> {
        self.spill_all();
        self.forget_copies();
        let len = self.stack.len();
        let base = len
            .checked_sub(operands)
            .ok_or_else(|| CompileError("operand stack underflow".into()))?;
        for (i, arg) in args.iter().enumerate() {
            let reg = M::ARG_GPRS[i + 1];
            match *arg {
                LArg::Imm(v) => self.m.mov_imm(Size::S64, reg, v),
                LArg::Operand(k) => {
                    let e = self.stack.entries[base + k];
                    self.load_gpr(e, base + k, reg);
                }
            }
        }
        self.truncate(base);
        self.libcall(offset);
        if status {
            let ok = self.m.new_label();
            self.raise_failed_status(ok);
            self.m.bind(ok);
        }
        self.check_epoch_after_libcall();
        if let Some(ty) = result {
            self.push_call_result(ty);
        }
        Ok(())
    }

    pub(super) fn table_type(&self, table: u32) -> Result<ValType, CompileError> {
        self.env
            .tables
            .get(table as usize)
            .map(|t| ValType::Ref(t.element_type))
            .ok_or_else(|| CompileError(format!("unknown table {table}")))
    }

    /// The table's descriptor, into the second scratch register.
    pub(super) fn table_def(&mut self, table: u32) {
        let s2 = M::SCRATCH2;
        self.m
            .load(Size::S64, s2, Addr::Base(self.vmctx(), vm::TABLES as i32));
        self.m.load(Size::S64, s2, Addr::Base(s2, 8 * table as i32));
    }

    /// Checks `index` against the table's length (a trap beyond it) and leaves the
    /// elements' base in the second scratch register and `index` scaled to bytes.
    pub(super) fn table_element(&mut self, table: u32, index: Gpr) -> Result<(), CompileError> {
        self.table_type(table)?;
        self.table_def(table);
        let (s, s2) = (M::SCRATCH, M::SCRATCH2);
        self.m
            .load(Size::S64, s, Addr::Base(s2, table_offsets::LENGTH as i32));
        self.m.cmp(Size::S64, index, s);
        self.trap_unless(Cond::LtU, TrapCode::TableOutOfBounds);
        self.m.load(
            Size::S64,
            s2,
            Addr::Base(s2, table_offsets::ELEMENTS as i32),
        );
        self.m.shift_imm(ShiftOp::Shl, Size::S64, index, 3);
        Ok(())
    }
}
