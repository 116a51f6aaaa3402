//! Locals, globals and the parametric operators (`drop`, `select`).

use cranelift_codegen::ir::InstBuilder;
use tierup_abi::CompileError;
use wasmparser::Operator;

use super::Translator;

impl Translator<'_, '_> {
    fn local(&self, index: u32) -> Result<cranelift_frontend::Variable, CompileError> {
        self.locals
            .get(index as usize)
            .map(|&(v, _)| v)
            .ok_or_else(|| CompileError(format!("unknown local {index}")))
    }

    /// Locals, globals, `drop` and `select`.
    pub(super) fn translate_locals(&mut self, op: &Operator) -> Result<bool, CompileError> {
        match *op {
            Operator::LocalGet { local_index } => {
                let var = self.local(local_index)?;
                let v = self.b.use_var(var);
                self.push(v);
            }
            Operator::LocalSet { local_index } => {
                let var = self.local(local_index)?;
                let v = self.pop()?;
                self.b.def_var(var, v);
            }
            Operator::LocalTee { local_index } => {
                let var = self.local(local_index)?;
                let v = *self
                    .stack
                    .last()
                    .ok_or_else(|| CompileError("operand stack underflow".into()))?;
                self.b.def_var(var, v);
            }
            Operator::GlobalGet { global_index } => {
                let v = self.env.global_get(&mut self.b, global_index)?;
                self.push(v);
            }
            Operator::GlobalSet { global_index } => {
                let v = self.pop()?;
                self.env.global_set(&mut self.b, global_index, v)?;
            }
            Operator::Drop => {
                self.pop()?;
            }
            Operator::Select | Operator::TypedSelect { .. } => {
                let (a, b, cond) = self.pop3()?;
                let v = self.b.ins().select(cond, a, b);
                self.push(v);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
