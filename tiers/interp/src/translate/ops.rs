//! The operator dispatch: table-driven numeric, compare, load and store operators (from
//! `isa::for_each_op!`) plus the hand-written rest.

use tierup_abi::TrapCode;
use wasmparser::Operator;

use super::{Provider, Translator};
use crate::TranslateError;
use crate::isa::{Instr, for_each_op};

/// Generates the operator `match`: table rows map mechanically, `$rest` handles the others.
macro_rules! translate_match {
    (
        ( $this:ident, $op:ident, $rest:ident )
        binary { $( $bname:ident ($ba:ty, $bb:ty) -> $br:ty = $bf:expr; )* }
        binary_trap { $( $tname:ident ($ta:ty, $tb:ty) -> $tr:ty = $tf:expr; )* }
        unary { $( $uname:ident ($ua:ty) -> $ur:ty = $uf:expr; )* }
        unary_trap { $( $vname:ident ($va:ty) -> $vr:ty = $vf:expr; )* }
        compare { $( $cname:ident / $cbr:ident / $cbrn:ident ($ct:ty) $([ $cbi:ident / $cbni:ident ])? = $cf:expr; )* }
        load { $( $lname:ident [$ln:literal] = $lf:expr; )* }
        store { $( $sname:ident [$sn:literal] = $sf:expr; )* }
    ) => {
        match $op {
            $( Operator::$bname => $this.binary(|dst, a, b| Instr::$bname { dst, a, b }), )*
            $( Operator::$tname => $this.binary(|dst, a, b| Instr::$tname { dst, a, b }), )*
            $( Operator::$cname => $this.binary(|dst, a, b| Instr::$cname { dst, a, b }), )*
            $( Operator::$uname => $this.unary(|dst, src| Instr::$uname { dst, src }), )*
            $( Operator::$vname => $this.unary(|dst, src| Instr::$vname { dst, src }), )*
            $( Operator::$lname { memarg } => {
                $this.load(memarg, |dst, addr, offset| Instr::$lname { dst, addr, offset })
            } )*
            $( Operator::$sname { memarg } => {
                $this.store(memarg, |addr, val, offset| Instr::$sname { addr, val, offset })
            } )*
            other => $this.$rest(other),
        }
    };
}

impl Translator<'_> {
    /// Translates one operator in reachable code.
    pub(super) fn reachable_operator(&mut self, op: Operator<'_>) -> Result<(), TranslateError> {
        for_each_op!(translate_match!(self, op, other_operator))
    }

    fn other_operator(&mut self, op: Operator<'_>) -> Result<(), TranslateError> {
        match op {
            Operator::Nop => Ok(()),
            Operator::Unreachable => {
                self.emit(Instr::Trap {
                    code: TrapCode::Unreachable,
                });
                self.reachable = false;
                Ok(())
            }
            Operator::Block { blockty } => self.op_block(blockty),
            Operator::Loop { blockty } => self.op_loop(blockty),
            Operator::If { blockty } => self.op_if(blockty),
            Operator::Else => self.op_else(),
            Operator::End => self.op_end(),
            Operator::Br { relative_depth } => self.op_br(relative_depth),
            Operator::BrIf { relative_depth } => self.op_br_if(relative_depth),
            Operator::BrTable { targets } => self.op_br_table(targets),
            Operator::Return => self.op_return(),
            Operator::Call { function_index } => self.op_call(function_index),
            Operator::CallIndirect {
                type_index,
                table_index,
            } => self.op_call_indirect(type_index, table_index),
            Operator::Drop => self.pop().map(|_| ()),
            Operator::Select | Operator::TypedSelect { .. } => {
                let cond = self.pop()?;
                let b = self.pop()?;
                let a = self.pop()?;
                let dst = self.push_temp()?;
                self.emit_result(Instr::Select { dst, cond, a, b });
                Ok(())
            }
            Operator::LocalGet { local_index } => {
                let r = self.local(local_index)?;
                self.push(Provider::Local(r))
            }
            Operator::LocalSet { local_index } => self.local_set(local_index),
            Operator::LocalTee { local_index } => {
                self.local_set(local_index)?;
                let r = self.local(local_index)?;
                self.push(Provider::Local(r))
            }
            Operator::GlobalGet { global_index } => {
                let dst = self.push_temp()?;
                self.emit_result(Instr::GlobalGet {
                    dst,
                    index: global_index,
                });
                Ok(())
            }
            Operator::GlobalSet { global_index } => {
                let src = self.pop()?;
                self.emit(Instr::GlobalSet {
                    src,
                    index: global_index,
                });
                Ok(())
            }
            Operator::I32Const { value } => self.push_const(value as u32 as u64),
            Operator::I64Const { value } => self.push_const(value as u64),
            Operator::F32Const { value } => self.push_const(value.bits() as u64),
            Operator::F64Const { value } => self.push_const(value.bits()),
            Operator::I32Eqz => self.unary(|dst, src| Instr::I32Eqz { dst, src }),
            Operator::I64Eqz | Operator::RefIsNull => {
                self.unary(|dst, src| Instr::I64Eqz { dst, src })
            }
            // Reinterpretations keep the register bits.
            Operator::I32ReinterpretF32
            | Operator::I64ReinterpretF64
            | Operator::F32ReinterpretI32
            | Operator::F64ReinterpretI64 => Ok(()),
            Operator::RefNull { .. } => self.push_const(0),
            Operator::RefFunc { function_index } => {
                let dst = self.push_temp()?;
                self.emit_result(Instr::RefFunc {
                    dst,
                    func: function_index,
                });
                Ok(())
            }
            Operator::MemorySize { mem } => {
                self.check_memory(mem)?;
                let dst = self.push_temp()?;
                self.emit_result(Instr::MemorySize { dst });
                Ok(())
            }
            Operator::MemoryGrow { mem } => {
                self.check_memory(mem)?;
                let delta = self.pop()?;
                let dst = self.push_temp()?;
                self.emit(Instr::MemoryGrow { dst, delta });
                Ok(())
            }
            Operator::MemoryFill { mem } => {
                self.check_memory(mem)?;
                let (dst, val, len) = self.pop3()?;
                self.emit(Instr::MemoryFill { dst, val, len });
                Ok(())
            }
            Operator::MemoryCopy { dst_mem, src_mem } => {
                self.check_memory(dst_mem)?;
                self.check_memory(src_mem)?;
                let (dst, src, len) = self.pop3()?;
                self.emit(Instr::MemoryCopy { dst, src, len });
                Ok(())
            }
            Operator::MemoryInit { data_index, mem } => {
                self.check_memory(mem)?;
                let (dst, src, len) = self.pop3()?;
                self.emit(Instr::MemoryInit {
                    data: data_index,
                    dst,
                    src,
                    len,
                });
                Ok(())
            }
            Operator::DataDrop { data_index } => {
                self.emit(Instr::DataDrop { data: data_index });
                Ok(())
            }
            Operator::TableGet { table } => {
                let index = self.pop()?;
                let dst = self.push_temp()?;
                self.emit_result(Instr::TableGet { dst, index, table });
                Ok(())
            }
            Operator::TableSet { table } => {
                let val = self.pop()?;
                let index = self.pop()?;
                self.emit(Instr::TableSet { index, val, table });
                Ok(())
            }
            Operator::TableSize { table } => {
                let dst = self.push_temp()?;
                self.emit_result(Instr::TableSize { dst, table });
                Ok(())
            }
            Operator::TableGrow { table } => {
                let delta = self.pop()?;
                let init = self.pop()?;
                let dst = self.push_temp()?;
                self.emit(Instr::TableGrow {
                    dst,
                    init,
                    delta,
                    table,
                });
                Ok(())
            }
            Operator::TableFill { table } => {
                let (dst, val, len) = self.pop3()?;
                self.emit(Instr::TableFill {
                    dst,
                    val,
                    len,
                    table,
                });
                Ok(())
            }
            Operator::TableCopy {
                dst_table,
                src_table,
            } => {
                let (dst, src, len) = self.pop3()?;
                self.emit(Instr::TableCopy {
                    dst,
                    src,
                    len,
                    dst_table,
                    src_table,
                });
                Ok(())
            }
            Operator::TableInit { elem_index, table } => {
                let (dst, src, len) = self.pop3()?;
                self.emit(Instr::TableInit {
                    dst,
                    src,
                    len,
                    table,
                    elem: elem_index,
                });
                Ok(())
            }
            Operator::ElemDrop { elem_index } => {
                self.emit(Instr::ElemDrop { elem: elem_index });
                Ok(())
            }
            other => Err(self.error(format!(
                "the interpreter does not support the operator {other:?}"
            ))),
        }
    }

    fn check_memory(&self, mem: u32) -> Result<(), TranslateError> {
        if mem != 0 {
            return Err(self.error("multiple memories are not supported"));
        }
        Ok(())
    }

    /// Pops three operands, returning them in push order.
    fn pop3(&mut self) -> Result<(i16, i16, i16), TranslateError> {
        let c = self.pop()?;
        let b = self.pop()?;
        let a = self.pop()?;
        Ok((a, b, c))
    }
}
