//! Tables and references: `table.get`/`table.set`/`table.size` inline (with a bounds
//! check), `table.grow`, `table.fill`, `table.copy`, `table.init` and `elem.drop` as
//! libcalls; `ref.null`, `ref.is_null` and `ref.func` (a function's slot pointer).

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, types};
use tierup_abi::{CompileError, TrapCode};
use wasmparser::Operator;

use super::Translator;
use crate::env::Libcall;

impl Translator<'_, '_> {
    /// Table and reference operators.
    pub(super) fn translate_table(&mut self, op: &Operator) -> Result<bool, CompileError> {
        use Operator as O;
        use types::{I32, I64};
        match *op {
            O::RefNull { .. } => {
                let v = self.b.ins().iconst(I64, 0);
                self.push(v);
            }
            O::RefIsNull => {
                let r = self.pop()?;
                let v = self.b.ins().icmp_imm_u(IntCC::Equal, r, 0);
                self.push_bool(v);
            }
            O::RefFunc { function_index } => {
                let v = self.env.func_slot(&mut self.b, function_index)?;
                self.push(v);
            }
            O::TableGet { table } => {
                let index = self.pop()?;
                let addr = self.env.table_element(
                    &mut self.b,
                    table,
                    index,
                    TrapCode::TableOutOfBounds,
                )?;
                let v = self.env.table_load(&mut self.b, addr);
                self.push(v);
            }
            O::TableSet { table } => {
                let (index, value) = self.pop2()?;
                let addr = self.env.table_element(
                    &mut self.b,
                    table,
                    index,
                    TrapCode::TableOutOfBounds,
                )?;
                self.env.table_store(&mut self.b, addr, value);
            }
            O::TableSize { table } => {
                let def = self.env.table_def(&mut self.b, table)?;
                let length = self.env.table_length(&mut self.b, def);
                let v = self.b.ins().ireduce(I32, length);
                self.push(v);
            }
            O::TableGrow { table } => {
                self.env.table_def(&mut self.b, table)?;
                let (init, delta) = self.pop2()?;
                let table = self.b.ins().iconst(I32, i64::from(table));
                let v = self
                    .env
                    .libcall_vm(&mut self.b, Libcall::TableGrow, &[table, init, delta])
                    .ok_or_else(|| CompileError("table.grow without a result".into()))?;
                self.push(v);
            }
            O::TableFill { table } => {
                self.env.table_def(&mut self.b, table)?;
                let (dst, value, len) = self.pop3()?;
                let table = self.b.ins().iconst(I32, i64::from(table));
                self.env.libcall_checked(
                    &mut self.b,
                    Libcall::TableFill,
                    &[table, dst, value, len],
                )?;
            }
            O::TableCopy {
                dst_table,
                src_table,
            } => {
                self.env.table_def(&mut self.b, dst_table)?;
                self.env.table_def(&mut self.b, src_table)?;
                let (dst, src, len) = self.pop3()?;
                let dst_table = self.b.ins().iconst(I32, i64::from(dst_table));
                let src_table = self.b.ins().iconst(I32, i64::from(src_table));
                self.env.libcall_checked(
                    &mut self.b,
                    Libcall::TableCopy,
                    &[dst_table, src_table, dst, src, len],
                )?;
            }
            O::TableInit { elem_index, table } => {
                self.env.table_def(&mut self.b, table)?;
                let (dst, src, len) = self.pop3()?;
                let table = self.b.ins().iconst(I32, i64::from(table));
                let elem = self.b.ins().iconst(I32, i64::from(elem_index));
                self.env.libcall_checked(
                    &mut self.b,
                    Libcall::TableInit,
                    &[table, elem, dst, src, len],
                )?;
            }
            O::ElemDrop { elem_index } => {
                let elem = self.b.ins().iconst(I32, i64::from(elem_index));
                self.env.libcall_vm(&mut self.b, Libcall::ElemDrop, &[elem]);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
