//! Calls: `call` through the callee's slot in the context, `call_indirect` through a table
//! element after the three checks of the specification (index in bounds, element not null,
//! signature ids equal). Both call the register entry of the record the slot holds.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, Value};
use tierup_abi::{CompileError, TrapCode};
use wasmparser::Operator;

use super::Translator;

impl Translator<'_, '_> {
    /// Pops the arguments of a call of type `type_index`, calls `slot` and pushes the
    /// results.
    fn call_through(&mut self, slot: Value, type_index: u32) -> Result<(), CompileError> {
        let n = crate::sig::type_at(self.env.module, type_index)?
            .params()
            .len();
        let args = self.popn(n)?;
        let results = self.env.call_slot(&mut self.b, slot, type_index, &args)?;
        self.stack.extend(results);
        Ok(())
    }

    /// Call operators.
    pub(super) fn translate_call(&mut self, op: &Operator) -> Result<bool, CompileError> {
        match *op {
            Operator::Call { function_index } => {
                let type_index = *self
                    .env
                    .module
                    .funcs
                    .get(function_index as usize)
                    .ok_or_else(|| CompileError(format!("unknown function {function_index}")))?;
                let slot = self.env.func_slot(&mut self.b, function_index)?;
                self.call_through(slot, type_index)?;
            }
            Operator::CallIndirect {
                type_index,
                table_index,
            } => {
                let index = self.pop()?;
                let addr = self.env.table_element(
                    &mut self.b,
                    table_index,
                    index,
                    TrapCode::UndefinedElement,
                )?;
                let slot = self.env.table_load(&mut self.b, addr);
                self.env
                    .trap_unless(&mut self.b, slot, TrapCode::UninitializedElement);
                let actual = self.env.slot_type_id(&mut self.b, slot);
                let expected = self.env.type_id(&mut self.b, type_index)?;
                let mismatch = self.b.ins().icmp(IntCC::NotEqual, actual, expected);
                self.env
                    .trap_if(&mut self.b, mismatch, TrapCode::IndirectCallTypeMismatch);
                self.call_through(slot, type_index)?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
