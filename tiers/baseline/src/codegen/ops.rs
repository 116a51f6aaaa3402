//! The operator visitor: what each wasm operator emits, and the locals and globals.

use super::*;

impl<M: Masm> CodeGen<'_, M> {
    /// Translates one operator at module offset `offset`.
    #[inline(always)]
    pub(super) fn operator(&mut self, op: &Operator, offset: usize) -> Result<(), CompileError> {
        use Operator as O;
        use ValType::{F32, F64, I32, I64};
        self.ops += 1;
        let osr_here = self.reachable && self.osr.as_ref().is_some_and(|o| o.at == offset as u32);
        // A loop's point is its header, where the parameters are those of the iteration.
        if osr_here && !matches!(op, O::Loop { .. }) {
            self.osr_point();
        }
        let code_offset = self.m.offset();
        match self.wasm_map.last_mut() {
            Some(last) if last.code_offset == code_offset => last.wasm_offset = offset as u32,
            _ => self.wasm_map.push(SourceLoc {
                code_offset,
                wasm_offset: offset as u32,
            }),
        }
        if !matches!(
            op,
            O::BrIf { .. } | O::If { .. } | O::Select | O::TypedSelect { .. } | O::I32Eqz
        ) {
            self.materialize_cmp();
        }
        if !self.reachable {
            match op {
                O::Block { .. } | O::Loop { .. } | O::If { .. } => {
                    self.unreachable_depth += 1;
                    return Ok(());
                }
                O::Else if self.unreachable_depth == 0 => return self.else_(),
                O::End if self.unreachable_depth == 0 => return self.end(),
                O::End => {
                    self.unreachable_depth -= 1;
                    return Ok(());
                }
                _ => return Ok(()),
            }
        }
        let (s32, s64) = (Size::S32, Size::S64);
        match *op {
            O::Unreachable => {
                self.m.trap(TrapCode::Unreachable, &mut self.traps);
                self.set_unreachable();
            }
            O::Nop => {}
            O::Block { blockty } => {
                self.spill_all();
                let end = self.m.new_label();
                self.open(Kind::Block, blockty, end);
            }
            O::Loop { blockty } => {
                self.spill_all();
                // The parameters change from one iteration to the next.
                let n = self.env.block_sig(blockty).params().len();
                self.params_to_slots(n);
                let header = self.m.new_label();
                self.bind_merge(header);
                if osr_here {
                    self.osr_point();
                }
                self.open(Kind::Loop, blockty, header);
                self.count_loop(offset as u32);
            }
            O::If { blockty } => {
                let cond = self.pop_cond()?;
                // Only moves and stores until the branch: the flags stay.
                self.spill_all();
                let sig = self.env.block_sig(blockty);
                let params = sig.params();
                // The else arm finds them in their slots.
                self.params_to_slots(params.len());
                // The then arm works on copies of the parameters; the else arm finds the
                // originals below them.
                let n = params.len();
                let len = self.stack.len();
                for (k, &ty) in params.iter().enumerate() {
                    let to = self.slot(len + k);
                    self.store_value(Entry::Mem(ty), len - n + k, to);
                    self.stack.push(Entry::Mem(ty));
                }
                let else_label = self.m.new_label();
                self.m.jcc(cond.invert(), else_label);
                let end = self.m.new_label();
                self.open(Kind::If(else_label), blockty, end);
                if let Some(f) = self.frames.last_mut() {
                    // Results land where the parameters' originals are.
                    f.height -= n;
                }
            }
            O::Else => self.else_()?,
            O::End => self.end()?,
            O::Br { relative_depth } => {
                self.branch(relative_depth)?;
                self.set_unreachable();
            }
            O::BrIf { relative_depth } => {
                let cond = self.pop_cond()?;
                let (height, n, label, reg) = self.target(relative_depth)?;
                if self.values_in_place(height, n, reg) {
                    self.m.jcc(cond, label);
                    self.mark_used(relative_depth);
                } else {
                    // The moves to the target's slots leave the flags alone.
                    let skip = self.m.new_label();
                    self.m.jcc(cond.invert(), skip);
                    self.branch(relative_depth)?;
                    self.m.bind(skip);
                }
            }
            O::BrTable { ref targets } => {
                let mut depths = targets
                    .targets()
                    .collect::<Result<Vec<u32>, _>>()
                    .map_err(|e| CompileError(e.to_string()))?;
                depths.push(targets.default());
                let index = self.pop_gpr()?;
                // Out-of-range indices take the default (the last entry).
                let last = (depths.len() - 1) as u32;
                self.m.mov_imm(s32, M::SCRATCH, u64::from(last));
                self.m.cmp(s32, index, M::SCRATCH);
                self.m.cmov(s64, Cond::GeU, index, M::SCRATCH);
                // A target whose values are in place is the table's entry itself; the others
                // get a stub that places them.
                self.regs.free(Reg::G(index));
                let mut entries = Vec::with_capacity(depths.len());
                let mut stubs = Vec::new();
                for &depth in &depths {
                    let (height, n, label, reg) = self.target(depth)?;
                    if self.values_in_place(height, n, reg) {
                        self.mark_used(depth);
                        entries.push(label);
                    } else {
                        let stub = self.m.new_label();
                        stubs.push((stub, depth));
                        entries.push(stub);
                    }
                }
                self.m.jump_table(index, M::SCRATCH, &entries);
                for (stub, depth) in stubs {
                    self.m.bind(stub);
                    self.branch(depth)?;
                }
                self.set_unreachable();
            }
            O::Return => {
                self.emit_return()?;
                self.set_unreachable();
            }
            O::Call { function_index } => self.call(function_index)?,
            O::CallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index)?,
            O::Drop => {
                if let Entry::Reg(_, r) = self.pop()? {
                    self.regs.free(r);
                }
            }
            O::Select | O::TypedSelect { .. } => {
                // Materialising the operands moves and loads only: the flags stay.
                let cond = self.pop_cond()?;
                let ty = self
                    .stack
                    .peek(0)
                    .map(Entry::ty)
                    .ok_or_else(|| CompileError("operand stack underflow".into()))?;
                if is_float(ty) {
                    let b = self.pop_xmm()?;
                    let a = self.pop_xmm()?;
                    let keep = self.m.new_label();
                    self.m.jcc(cond, keep);
                    self.m.fmov(a, b);
                    self.m.bind(keep);
                    self.regs.free(Reg::X(b));
                    self.push_xmm(ty, a);
                } else {
                    let b = self.pop_gpr()?;
                    let a = self.pop_gpr()?;
                    self.m.cmov(s64, cond.invert(), a, b);
                    self.regs.free(Reg::G(b));
                    self.push_gpr(ty, a);
                }
            }
            O::LocalGet { local_index } => {
                let ty = self.local_type(local_index)?;
                self.stack.push(Entry::Local(ty, local_index));
            }
            O::LocalSet { local_index } => self.local_set(local_index, false)?,
            O::LocalTee { local_index } => self.local_set(local_index, true)?,
            O::GlobalGet { global_index } => {
                let ty = self.global_type(global_index)?;
                if is_float(ty) {
                    let x = self.alloc_xmm();
                    self.global_addr(global_index);
                    self.m.fload(Size::of(ty), x, Addr::Base(M::SCRATCH, 0));
                    self.push_xmm(ty, x);
                } else {
                    let r = self.alloc_gpr();
                    self.global_addr(global_index);
                    self.m.load(Size::of(ty), r, Addr::Base(M::SCRATCH, 0));
                    self.push_gpr(ty, r);
                }
            }
            O::GlobalSet { global_index } => {
                let ty = self.global_type(global_index)?;
                if is_float(ty) {
                    let x = self.pop_xmm()?;
                    self.global_addr(global_index);
                    self.m.fstore(Size::of(ty), Addr::Base(M::SCRATCH, 0), x);
                    self.regs.free(Reg::X(x));
                } else {
                    let r = self.pop_gpr()?;
                    self.global_addr(global_index);
                    self.m.store(8, Addr::Base(M::SCRATCH, 0), r);
                    self.regs.free(Reg::G(r));
                }
            }
            O::I32Load { memarg } => self.load_int(&memarg, I32, 4, None)?,
            O::I64Load { memarg } => self.load_int(&memarg, I64, 8, None)?,
            O::F32Load { memarg } => self.load_float(&memarg, F32)?,
            O::F64Load { memarg } => self.load_float(&memarg, F64)?,
            O::I32Load8S { memarg } => self.load_int(&memarg, I32, 1, Some(Widen::B8(true)))?,
            O::I32Load8U { memarg } => self.load_int(&memarg, I32, 1, Some(Widen::B8(false)))?,
            O::I32Load16S { memarg } => self.load_int(&memarg, I32, 2, Some(Widen::B16(true)))?,
            O::I32Load16U { memarg } => self.load_int(&memarg, I32, 2, Some(Widen::B16(false)))?,
            O::I64Load8S { memarg } => self.load_int(&memarg, I64, 1, Some(Widen::B8(true)))?,
            O::I64Load8U { memarg } => self.load_int(&memarg, I64, 1, Some(Widen::B8(false)))?,
            O::I64Load16S { memarg } => self.load_int(&memarg, I64, 2, Some(Widen::B16(true)))?,
            O::I64Load16U { memarg } => self.load_int(&memarg, I64, 2, Some(Widen::B16(false)))?,
            O::I64Load32S { memarg } => self.load_int(&memarg, I64, 4, Some(Widen::B32(true)))?,
            O::I64Load32U { memarg } => self.load_int(&memarg, I64, 4, Some(Widen::B32(false)))?,
            O::I32Store { memarg } => self.store_int(&memarg, 4)?,
            O::I64Store { memarg } => self.store_int(&memarg, 8)?,
            O::F32Store { memarg } => self.store_float(&memarg, F32)?,
            O::F64Store { memarg } => self.store_float(&memarg, F64)?,
            O::I32Store8 { memarg } | O::I64Store8 { memarg } => self.store_int(&memarg, 1)?,
            O::I32Store16 { memarg } | O::I64Store16 { memarg } => self.store_int(&memarg, 2)?,
            O::I64Store32 { memarg } => self.store_int(&memarg, 4)?,
            O::MemorySize { mem } => {
                if mem != 0 {
                    return Err(unsupported("multiple memories"));
                }
                let r = self.alloc_gpr();
                self.m
                    .load(s64, r, Addr::Base(self.vmctx(), vm::MEMORY as i32));
                self.m
                    .load(s64, r, Addr::Base(r, memory_offsets::LENGTH as i32));
                self.m.shift_imm(ShiftOp::ShrU, s64, r, 16);
                self.push_gpr(I32, r);
            }
            O::MemoryGrow { mem } => {
                if mem != 0 {
                    return Err(unsupported("multiple memories"));
                }
                // (memory 0, delta)
                let args = [LArg::Imm(0), LArg::Operand(0)];
                self.call_libcall(libcall_offsets::MEMORY_GROW, &args, 1, false, Some(I32))?;
            }
            O::MemoryCopy { dst_mem, src_mem } => {
                if dst_mem != 0 || src_mem != 0 {
                    return Err(unsupported("multiple memories"));
                }
                self.bulk(true)?;
            }
            O::MemoryFill { mem } => {
                if mem != 0 {
                    return Err(unsupported("multiple memories"));
                }
                self.bulk(false)?;
            }
            O::TableGet { table } => {
                let ty = self.table_type(table)?;
                let index = self.pop_gpr()?;
                self.table_element(table, index)?;
                self.m
                    .load(s64, index, Addr::Indexed(M::SCRATCH2, index, 0));
                self.push_gpr(ty, index);
            }
            O::TableSet { table } => {
                let value = self.pop_gpr()?;
                let index = self.pop_gpr()?;
                self.table_element(table, index)?;
                self.m.store(8, Addr::Indexed(M::SCRATCH2, index, 0), value);
                self.regs.free(Reg::G(value));
                self.regs.free(Reg::G(index));
            }
            O::TableSize { table } => {
                self.table_type(table)?;
                let r = self.alloc_gpr();
                self.table_def(table);
                self.m.load(
                    s64,
                    r,
                    Addr::Base(M::SCRATCH2, table_offsets::LENGTH as i32),
                );
                self.push_gpr(I32, r);
            }
            O::TableGrow { table } => {
                self.table_type(table)?;
                // (init, delta) -> old size or -1
                let args = [LArg::Imm(table.into()), LArg::Operand(0), LArg::Operand(1)];
                self.call_libcall(libcall_offsets::TABLE_GROW, &args, 2, false, Some(I32))?;
            }
            O::TableFill { table } => {
                self.table_type(table)?;
                // (dst, value, len)
                let args = [
                    LArg::Imm(table.into()),
                    LArg::Operand(0),
                    LArg::Operand(1),
                    LArg::Operand(2),
                ];
                self.call_libcall(libcall_offsets::TABLE_FILL, &args, 3, true, None)?;
            }
            O::TableCopy {
                dst_table,
                src_table,
            } => {
                let args = [
                    LArg::Imm(dst_table.into()),
                    LArg::Imm(src_table.into()),
                    LArg::Operand(0),
                    LArg::Operand(1),
                    LArg::Operand(2),
                ];
                self.call_libcall(libcall_offsets::TABLE_COPY, &args, 3, true, None)?;
            }
            O::TableInit { elem_index, table } => {
                let args = [
                    LArg::Imm(table.into()),
                    LArg::Imm(elem_index.into()),
                    LArg::Operand(0),
                    LArg::Operand(1),
                    LArg::Operand(2),
                ];
                self.call_libcall(libcall_offsets::TABLE_INIT, &args, 3, true, None)?;
            }
            O::ElemDrop { elem_index } => {
                let args = [LArg::Imm(elem_index.into())];
                self.call_libcall(libcall_offsets::ELEM_DROP, &args, 0, false, None)?;
            }
            O::MemoryInit { data_index, mem } => {
                if mem != 0 {
                    return Err(unsupported("multiple memories"));
                }
                let args = [
                    LArg::Imm(0),
                    LArg::Imm(data_index.into()),
                    LArg::Operand(0),
                    LArg::Operand(1),
                    LArg::Operand(2),
                ];
                self.call_libcall(libcall_offsets::MEMORY_INIT, &args, 3, true, None)?;
            }
            O::DataDrop { data_index } => {
                let args = [LArg::Imm(data_index.into())];
                self.call_libcall(libcall_offsets::DATA_DROP, &args, 0, false, None)?;
            }
            O::I32Const { value } => self.stack.push(Entry::Const(I32, value as u32 as u64)),
            O::I64Const { value } => self.stack.push(Entry::Const(I64, value as u64)),
            O::F32Const { value } => self.stack.push(Entry::Const(F32, u64::from(value.bits()))),
            O::F64Const { value } => self.stack.push(Entry::Const(F64, value.bits())),

            O::I32Eqz | O::I64Eqz => {
                if let Some(&Entry::Cmp(cond)) = self.stack.peek(0) {
                    self.stack.pop();
                    self.stack.push(Entry::Cmp(cond.invert()));
                } else {
                    let size = if matches!(op, O::I32Eqz) { s32 } else { s64 };
                    let r = self.pop_gpr()?;
                    self.m.test(size, r);
                    self.regs.free(Reg::G(r));
                    self.stack.push(Entry::Cmp(Cond::Eq));
                }
            }
            O::I32Eq => self.int_cmp(s32, Cond::Eq)?,
            O::I32Ne => self.int_cmp(s32, Cond::Ne)?,
            O::I32LtS => self.int_cmp(s32, Cond::LtS)?,
            O::I32LtU => self.int_cmp(s32, Cond::LtU)?,
            O::I32GtS => self.int_cmp(s32, Cond::GtS)?,
            O::I32GtU => self.int_cmp(s32, Cond::GtU)?,
            O::I32LeS => self.int_cmp(s32, Cond::LeS)?,
            O::I32LeU => self.int_cmp(s32, Cond::LeU)?,
            O::I32GeS => self.int_cmp(s32, Cond::GeS)?,
            O::I32GeU => self.int_cmp(s32, Cond::GeU)?,
            O::I64Eq => self.int_cmp(s64, Cond::Eq)?,
            O::I64Ne => self.int_cmp(s64, Cond::Ne)?,
            O::I64LtS => self.int_cmp(s64, Cond::LtS)?,
            O::I64LtU => self.int_cmp(s64, Cond::LtU)?,
            O::I64GtS => self.int_cmp(s64, Cond::GtS)?,
            O::I64GtU => self.int_cmp(s64, Cond::GtU)?,
            O::I64LeS => self.int_cmp(s64, Cond::LeS)?,
            O::I64LeU => self.int_cmp(s64, Cond::LeU)?,
            O::I64GeS => self.int_cmp(s64, Cond::GeS)?,
            O::I64GeU => self.int_cmp(s64, Cond::GeU)?,
            O::F32Eq => self.float_cmp(s32, "eq")?,
            O::F32Ne => self.float_cmp(s32, "ne")?,
            O::F32Lt => self.float_cmp(s32, "lt")?,
            O::F32Gt => self.float_cmp(s32, "gt")?,
            O::F32Le => self.float_cmp(s32, "le")?,
            O::F32Ge => self.float_cmp(s32, "ge")?,
            O::F64Eq => self.float_cmp(s64, "eq")?,
            O::F64Ne => self.float_cmp(s64, "ne")?,
            O::F64Lt => self.float_cmp(s64, "lt")?,
            O::F64Gt => self.float_cmp(s64, "gt")?,
            O::F64Le => self.float_cmp(s64, "le")?,
            O::F64Ge => self.float_cmp(s64, "ge")?,

            O::I32Clz => self.bit_count(s32, I32, BitCount::Clz)?,
            O::I32Ctz => self.bit_count(s32, I32, BitCount::Ctz)?,
            O::I32Popcnt => self.bit_count(s32, I32, BitCount::Popcnt)?,
            O::I64Clz => self.bit_count(s64, I64, BitCount::Clz)?,
            O::I64Ctz => self.bit_count(s64, I64, BitCount::Ctz)?,
            O::I64Popcnt => self.bit_count(s64, I64, BitCount::Popcnt)?,
            O::I32Add => self.int_binop(s32, I32, IntOp::Add)?,
            O::I32Sub => self.int_binop(s32, I32, IntOp::Sub)?,
            O::I32Mul => self.int_binop(s32, I32, IntOp::Mul)?,
            O::I32And => self.int_binop(s32, I32, IntOp::And)?,
            O::I32Or => self.int_binop(s32, I32, IntOp::Or)?,
            O::I32Xor => self.int_binop(s32, I32, IntOp::Xor)?,
            O::I64Add => self.int_binop(s64, I64, IntOp::Add)?,
            O::I64Sub => self.int_binop(s64, I64, IntOp::Sub)?,
            O::I64Mul => self.int_binop(s64, I64, IntOp::Mul)?,
            O::I64And => self.int_binop(s64, I64, IntOp::And)?,
            O::I64Or => self.int_binop(s64, I64, IntOp::Or)?,
            O::I64Xor => self.int_binop(s64, I64, IntOp::Xor)?,
            O::I32DivS => self.divide(s32, I32, true, false)?,
            O::I32DivU => self.divide(s32, I32, false, false)?,
            O::I32RemS => self.divide(s32, I32, true, true)?,
            O::I32RemU => self.divide(s32, I32, false, true)?,
            O::I64DivS => self.divide(s64, I64, true, false)?,
            O::I64DivU => self.divide(s64, I64, false, false)?,
            O::I64RemS => self.divide(s64, I64, true, true)?,
            O::I64RemU => self.divide(s64, I64, false, true)?,
            O::I32Shl => self.shift(s32, I32, ShiftOp::Shl)?,
            O::I32ShrS => self.shift(s32, I32, ShiftOp::ShrS)?,
            O::I32ShrU => self.shift(s32, I32, ShiftOp::ShrU)?,
            O::I32Rotl => self.shift(s32, I32, ShiftOp::Rotl)?,
            O::I32Rotr => self.shift(s32, I32, ShiftOp::Rotr)?,
            O::I64Shl => self.shift(s64, I64, ShiftOp::Shl)?,
            O::I64ShrS => self.shift(s64, I64, ShiftOp::ShrS)?,
            O::I64ShrU => self.shift(s64, I64, ShiftOp::ShrU)?,
            O::I64Rotl => self.shift(s64, I64, ShiftOp::Rotl)?,
            O::I64Rotr => self.shift(s64, I64, ShiftOp::Rotr)?,

            O::F32Abs => self.float_sign(s32, F32, 0)?,
            O::F32Neg => self.float_sign(s32, F32, 1)?,
            O::F32Copysign => self.float_sign(s32, F32, 2)?,
            O::F64Abs => self.float_sign(s64, F64, 0)?,
            O::F64Neg => self.float_sign(s64, F64, 1)?,
            O::F64Copysign => self.float_sign(s64, F64, 2)?,
            O::F32Ceil => self.float_unop(s32, F32, Some(Round::Ceil))?,
            O::F32Floor => self.float_unop(s32, F32, Some(Round::Floor))?,
            O::F32Trunc => self.float_unop(s32, F32, Some(Round::Trunc))?,
            O::F32Nearest => self.float_unop(s32, F32, Some(Round::Nearest))?,
            O::F32Sqrt => self.float_unop(s32, F32, None)?,
            O::F64Ceil => self.float_unop(s64, F64, Some(Round::Ceil))?,
            O::F64Floor => self.float_unop(s64, F64, Some(Round::Floor))?,
            O::F64Trunc => self.float_unop(s64, F64, Some(Round::Trunc))?,
            O::F64Nearest => self.float_unop(s64, F64, Some(Round::Nearest))?,
            O::F64Sqrt => self.float_unop(s64, F64, None)?,
            O::F32Add => self.float_binop(s32, F32, FloatOp::Add)?,
            O::F32Sub => self.float_binop(s32, F32, FloatOp::Sub)?,
            O::F32Mul => self.float_binop(s32, F32, FloatOp::Mul)?,
            O::F32Div => self.float_binop(s32, F32, FloatOp::Div)?,
            O::F32Min => self.float_minmax(s32, F32, false)?,
            O::F32Max => self.float_minmax(s32, F32, true)?,
            O::F64Add => self.float_binop(s64, F64, FloatOp::Add)?,
            O::F64Sub => self.float_binop(s64, F64, FloatOp::Sub)?,
            O::F64Mul => self.float_binop(s64, F64, FloatOp::Mul)?,
            O::F64Div => self.float_binop(s64, F64, FloatOp::Div)?,
            O::F64Min => self.float_minmax(s64, F64, false)?,
            O::F64Max => self.float_minmax(s64, F64, true)?,

            O::I32WrapI64 => {
                let r = self.pop_gpr()?;
                self.m.mov(s32, r, r);
                self.push_gpr(I32, r);
            }
            O::I64ExtendI32S => self.extend(Widen::B32(true), s64, I64)?,
            O::I64ExtendI32U => self.extend(Widen::B32(false), s64, I64)?,
            O::I32Extend8S => self.extend(Widen::B8(true), s32, I32)?,
            O::I32Extend16S => self.extend(Widen::B16(true), s32, I32)?,
            O::I64Extend8S => self.extend(Widen::B8(true), s64, I64)?,
            O::I64Extend16S => self.extend(Widen::B16(true), s64, I64)?,
            O::I64Extend32S => self.extend(Widen::B32(true), s64, I64)?,
            O::I32TruncF32S => self.truncate_float(s32, s32, true, false)?,
            O::I32TruncF32U => self.truncate_float(s32, s32, false, false)?,
            O::I32TruncF64S => self.truncate_float(s64, s32, true, false)?,
            O::I32TruncF64U => self.truncate_float(s64, s32, false, false)?,
            O::I64TruncF32S => self.truncate_float(s32, s64, true, false)?,
            O::I64TruncF32U => self.truncate_float(s32, s64, false, false)?,
            O::I64TruncF64S => self.truncate_float(s64, s64, true, false)?,
            O::I64TruncF64U => self.truncate_float(s64, s64, false, false)?,
            O::I32TruncSatF32S => self.truncate_float(s32, s32, true, true)?,
            O::I32TruncSatF32U => self.truncate_float(s32, s32, false, true)?,
            O::I32TruncSatF64S => self.truncate_float(s64, s32, true, true)?,
            O::I32TruncSatF64U => self.truncate_float(s64, s32, false, true)?,
            O::I64TruncSatF32S => self.truncate_float(s32, s64, true, true)?,
            O::I64TruncSatF32U => self.truncate_float(s32, s64, false, true)?,
            O::I64TruncSatF64S => self.truncate_float(s64, s64, true, true)?,
            O::I64TruncSatF64U => self.truncate_float(s64, s64, false, true)?,
            O::F32ConvertI32S => self.convert(s32, s32, F32, true)?,
            O::F32ConvertI32U => self.convert(s32, s32, F32, false)?,
            O::F32ConvertI64S => self.convert(s64, s32, F32, true)?,
            O::F32ConvertI64U => self.convert(s64, s32, F32, false)?,
            O::F64ConvertI32S => self.convert(s32, s64, F64, true)?,
            O::F64ConvertI32U => self.convert(s32, s64, F64, false)?,
            O::F64ConvertI64S => self.convert(s64, s64, F64, true)?,
            O::F64ConvertI64U => self.convert(s64, s64, F64, false)?,
            O::F32DemoteF64 | O::F64PromoteF32 => {
                let (to, ty) = if matches!(op, O::F32DemoteF64) {
                    (s32, F32)
                } else {
                    (s64, F64)
                };
                let x = self.pop_xmm()?;
                self.m.fconvert(to, x, x);
                self.push_xmm(ty, x);
            }
            O::I32ReinterpretF32 | O::I64ReinterpretF64 => {
                let (size, ty) = if matches!(op, O::I32ReinterpretF32) {
                    (s32, I32)
                } else {
                    (s64, I64)
                };
                let x = self.pop_xmm()?;
                let r = self.alloc_gpr();
                self.m.xmm_to_gpr(size, r, x);
                self.regs.free(Reg::X(x));
                self.push_gpr(ty, r);
            }
            O::F32ReinterpretI32 | O::F64ReinterpretI64 => {
                let (size, ty) = if matches!(op, O::F32ReinterpretI32) {
                    (s32, F32)
                } else {
                    (s64, F64)
                };
                let r = self.pop_gpr()?;
                let x = self.alloc_xmm();
                self.m.gpr_to_xmm(size, x, r);
                self.regs.free(Reg::G(r));
                self.push_xmm(ty, x);
            }
            O::RefNull { hty } => {
                let ty = ValType::Ref(
                    wasmparser::RefType::new(true, hty)
                        .ok_or_else(|| CompileError("unknown reference type".into()))?,
                );
                self.stack.push(Entry::Const(ty, 0));
            }
            O::RefIsNull => {
                let r = self.pop_gpr()?;
                self.m.test(s64, r);
                self.m.set(Cond::Eq, r);
                self.push_gpr(I32, r);
            }
            O::RefFunc { function_index } => {
                let r = self.alloc_gpr();
                self.m
                    .load(s64, r, Addr::Base(self.vmctx(), vm::FUNC_REFS as i32));
                self.m
                    .load(s64, r, Addr::Base(r, 8 * function_index as i32));
                self.push_gpr(ValType::FUNCREF, r);
            }
            ref other => {
                let name = format!("{other:?}");
                let name = name.split([' ', '{', '(']).next().unwrap_or("");
                return Err(unsupported(&format!("`{name}`")));
            }
        }
        Ok(())
    }

    /// Stores the top `n` entries that are constants to their slots (the others are there
    /// after [`CodeGen::spill_all`]).
    pub(super) fn params_to_slots(&mut self, n: usize) {
        let len = self.stack.len();
        for i in len - n..len {
            if let Entry::Const(ty, _) = self.stack.entries[i] {
                let e = self.stack.entries[i];
                let at = self.slot(i);
                self.store_value(e, i, at);
                self.stack.entries[i] = Entry::Mem(ty);
            }
        }
    }

    #[inline(always)]
    pub(super) fn local_type(&self, i: u32) -> Result<ValType, CompileError> {
        self.locals
            .get(i as usize)
            .copied()
            .ok_or_else(|| CompileError(format!("unknown local {i}")))
    }

    pub(super) fn global_type(&self, i: u32) -> Result<ValType, CompileError> {
        self.env
            .globals
            .get(i as usize)
            .map(|g| g.content_type)
            .ok_or_else(|| CompileError(format!("unknown global {i}")))
    }

    /// The address of global `i`'s cell, into the first scratch register.
    pub(super) fn global_addr(&mut self, i: u32) {
        self.m.load(
            Size::S64,
            M::SCRATCH,
            Addr::Base(self.vmctx(), vm::GLOBALS as i32),
        );
        self.m
            .load(Size::S64, M::SCRATCH, Addr::Base(M::SCRATCH, 8 * i as i32));
    }

    /// `local.set` and `local.tee`: entries that name the local are stored to their slots
    /// first, since they stand for its old value.
    pub(super) fn local_set(&mut self, i: u32, tee: bool) -> Result<(), CompileError> {
        let ty = self.local_type(i)?;
        let depth = self.stack.len().saturating_sub(1);
        let e = self.pop()?;
        if e == Entry::Local(ty, i) {
            if tee {
                self.stack.push(e);
            }
            return Ok(());
        }
        for k in 0..self.stack.len() {
            if self.stack.entries[k] == Entry::Local(ty, i) {
                // The first takes the old value's copy, if there is one.
                match self.detach_copy(i) {
                    Some(r) => self.stack.entries[k] = Entry::Reg(ty, r),
                    None => self.spill(k),
                }
            }
        }
        let at = self.local(i);
        self.store_value(e, depth, at);
        // The old value's copy is stale now (the entries above read it first).
        self.forget_copy_of(i);
        match e {
            // The register keeps a copy of the new value; a `local.tee` leaves the local.
            Entry::Reg(_, r) => {
                self.keep_copy(i, r);
                if tee {
                    self.stack.push(Entry::Local(ty, i));
                }
            }
            Entry::Const(..) if tee => self.stack.push(e),
            _ if tee => self.stack.push(Entry::Local(ty, i)),
            _ => {}
        }
        Ok(())
    }
}
