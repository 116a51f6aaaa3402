//! The operator dispatch: the operators of the instruction table's rows (from
//! `isa::for_each_row!`), each translated by its group, plus the hand-written rest.

use tierup_abi::TrapCode;
use wasmparser::Operator;

use super::{Provider, Translator};
use crate::error::TranslateError;
use crate::inst::Form;
use crate::isa::{Instr, Reg, for_each_row};
use crate::regs::{wide_result1, wide_result2};

/// The translation of one row's operator, by group; the operator's fields (`memarg`,
/// `lane`) are bound by the `match` arm that calls this.
macro_rules! operator_row {
    ($this:ident, $op:ident, binary $name:ident {} / $imm:ident $($row:tt)*) => {
        $this.binary_imm(
            commutative(&$op),
            |dst, a, b| Instr::$name { dst, a, b },
            |dst, a, imm| Instr::$imm { dst, a, imm },
        )
    };
    ($this:ident, $op:ident, binary_trap $name:ident {} / $imm:ident $($row:tt)*) => {
        $this.binary_imm(
            false,
            |dst, a, b| Instr::$name { dst, a, b },
            |dst, a, imm| Instr::$imm { dst, a, imm },
        )
    };
    ($this:ident, $op:ident, unary $name:ident $($row:tt)*) => {
        $this.unary(false, |dst, src| Instr::$name { dst, src })
    };
    ($this:ident, $op:ident, unary_trap $name:ident $($row:tt)*) => {
        $this.unary(false, |dst, src| Instr::$name { dst, src })
    };
    ($this:ident, $op:ident, compare $name:ident $($row:tt)*) => {
        $this.binary(false, |dst, a, b| Instr::$name { dst, a, b })
    };
    ($this:ident, $op:ident, load $name:ident { $memarg:ident } $($row:tt)*) => {
        $this.load($memarg, false, |dst, addr, offset| Instr::$name {
            dst,
            addr,
            index: 0,
            scale: 0,
            offset,
        })
    };
    ($this:ident, $op:ident, store $name:ident { $memarg:ident } $($row:tt)*) => {
        $this.store($memarg, |addr, val, offset| Instr::$name {
            addr,
            val,
            index: 0,
            scale: 0,
            offset,
        })
    };
    ($this:ident, $op:ident, vbinary $name:ident {} = $f:expr) => {
        $this.binary(wide_result2($f), |dst, a, b| Instr::$name { dst, a, b })
    };
    ($this:ident, $op:ident, vunary $name:ident {} = $f:expr) => {
        $this.unary(wide_result1($f), |dst, src| Instr::$name { dst, src })
    };
    ($this:ident, $op:ident, extract $name:ident { $lane:ident } $($row:tt)*) => {
        $this.unary(false, |dst, src| Instr::$name {
            dst,
            src,
            lane: $lane,
        })
    };
    ($this:ident, $op:ident, replace $name:ident { $lane:ident } $($row:tt)*) => {
        $this.binary(true, |dst, a, b| Instr::$name {
            dst,
            a,
            b,
            lane: $lane,
        })
    };
    ($this:ident, $op:ident, vload $name:ident { $memarg:ident } $($row:tt)*) => {
        $this.load($memarg, true, |dst, addr, offset| Instr::$name {
            dst,
            addr,
            offset,
        })
    };
    ($this:ident, $op:ident, vstore $name:ident { $memarg:ident } $($row:tt)*) => {
        $this.store($memarg, |addr, val, offset| Instr::$name {
            addr,
            val,
            offset,
        })
    };
    ($this:ident, $op:ident, load_lane $name:ident { $memarg:ident, $lane:ident } $($row:tt)*) => {{
        let offset = $this.mem_offset(&$memarg)?;
        $this.binary(true, |dst, addr, src| Instr::$name {
            dst,
            addr,
            src,
            lane: $lane,
            offset,
        })
    }};
    ($this:ident, $op:ident, store_lane $name:ident { $memarg:ident, $lane:ident } $($row:tt)*) => {
        $this.store($memarg, |addr, val, offset| Instr::$name {
            addr,
            val,
            lane: $lane,
            offset,
        })
    };
}

/// Generates the operator `match`: each table row maps mechanically (`operator_row!`),
/// `$rest` handles the others.
macro_rules! translate_match {
    (
        ($this:ident, $op:ident, $rest:ident)
        $( [$group:ident $name:ident { $($field:ident),* } $($row:tt)*] )*
    ) => {
        match $op {
            $(
                Operator::$name { $($field),* } => {
                    operator_row!($this, $op, $group $name { $($field),* } $($row)*)
                }
            )*
            other => $this.$rest(other),
        }
    };
}

/// Whether the integer operator `op` may swap its operands (so that a constant first
/// operand becomes an immediate). Float operators are left alone: swapping them could
/// change which NaN payload propagates.
fn commutative(op: &Operator<'_>) -> bool {
    matches!(
        op,
        Operator::I32Add
            | Operator::I32Mul
            | Operator::I32And
            | Operator::I32Or
            | Operator::I32Xor
            | Operator::I64Add
            | Operator::I64Mul
            | Operator::I64And
            | Operator::I64Or
            | Operator::I64Xor
    )
}

impl Translator<'_> {
    /// Translates one operator in reachable code.
    pub(super) fn reachable_operator(&mut self, op: Operator<'_>) -> Result<(), TranslateError> {
        for_each_row!(translate_match!(self, op, other_operator))
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
                let wide = self.top_wide();
                let b = self.pop()?;
                let a = self.pop()?;
                let dst = self.push_temp(wide)?;
                let select = if wide {
                    Instr::SelectV128 { dst, cond, a, b }
                } else {
                    Instr::Select { dst, cond, a, b }
                };
                let idx = self.emit_linked(select, &[(cond, Form::A)], true);
                self.fuse_min_max(idx);
                Ok(())
            }
            Operator::LocalGet { local_index } => {
                let (r, wide) = self.local(local_index)?;
                self.push(Provider::Local(r), wide)
            }
            Operator::LocalSet { local_index } => self.local_set(local_index),
            Operator::LocalTee { local_index } => {
                self.local_set(local_index)?;
                let (r, wide) = self.local(local_index)?;
                self.push(Provider::Local(r), wide)
            }
            Operator::GlobalGet { global_index } => {
                let wide = self.global_wide(global_index);
                let dst = self.push_temp(wide)?;
                let index = global_index;
                self.emit_result(if wide {
                    Instr::GlobalGetV128 { dst, index }
                } else {
                    Instr::GlobalGet { dst, index }
                });
                Ok(())
            }
            Operator::GlobalSet { global_index } => {
                let src = self.pop()?;
                let index = global_index;
                self.emit(if self.global_wide(global_index) {
                    Instr::GlobalSetV128 { src, index }
                } else {
                    Instr::GlobalSet { src, index }
                });
                Ok(())
            }
            Operator::V128Const { value } => self.push_const_v128(value.i128() as u128),
            Operator::I8x16Shuffle { lanes } => {
                let mask = self.intern_v128(u128::from_le_bytes(lanes))?;
                self.binary(true, |dst, a, b| Instr::I8x16Shuffle { dst, a, b, mask })
            }
            Operator::V128Bitselect => {
                let (a, b, c) = self.pop3()?;
                let dst = self.push_temp(true)?;
                self.emit_result(Instr::V128Bitselect { dst, a, b, c });
                Ok(())
            }
            Operator::I32Const { value } => self.push_const(value as u32 as u64),
            Operator::I64Const { value } => self.push_const(value as u64),
            Operator::F32Const { value } => self.push_const(value.bits() as u64),
            Operator::F64Const { value } => self.push_const(value.bits()),
            Operator::I32Eqz => self.unary(false, |dst, src| Instr::I32Eqz { dst, src }),
            Operator::I64Eqz | Operator::RefIsNull => {
                self.unary(false, |dst, src| Instr::I64Eqz { dst, src })
            }
            // Reinterpretations keep the register bits.
            Operator::I32ReinterpretF32
            | Operator::I64ReinterpretF64
            | Operator::F32ReinterpretI32
            | Operator::F64ReinterpretI64 => Ok(()),
            Operator::RefNull { .. } => self.push_const(0),
            Operator::RefFunc { function_index } => {
                let dst = self.push_temp(false)?;
                self.emit_result(Instr::RefFunc {
                    dst,
                    func: function_index,
                });
                Ok(())
            }
            Operator::MemorySize { mem } => {
                self.check_memory(mem)?;
                let dst = self.push_temp(false)?;
                self.emit_result(Instr::MemorySize { dst });
                Ok(())
            }
            Operator::MemoryGrow { mem } => {
                self.check_memory(mem)?;
                let delta = self.pop()?;
                let dst = self.push_temp(false)?;
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
                let dst = self.push_temp(false)?;
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
                let dst = self.push_temp(false)?;
                self.emit_result(Instr::TableSize { dst, table });
                Ok(())
            }
            Operator::TableGrow { table } => {
                let delta = self.pop()?;
                let init = self.pop()?;
                let dst = self.push_temp(false)?;
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

    /// Whether global `index` is a v128.
    fn global_wide(&self, index: u32) -> bool {
        self.env
            .globals
            .get(index as usize)
            .is_some_and(|g| g.content_type == wasmparser::ValType::V128)
    }

    fn check_memory(&self, mem: u32) -> Result<(), TranslateError> {
        if mem != 0 {
            return Err(self.error("multiple memories are not supported"));
        }
        Ok(())
    }

    /// Pops three operands, returning them in push order.
    fn pop3(&mut self) -> Result<(Reg, Reg, Reg), TranslateError> {
        let c = self.pop()?;
        let b = self.pop()?;
        let a = self.pop()?;
        Ok((a, b, c))
    }
}
