//! The adapter of a signature: a register entry (`tierup_abi::regcall`) for functions
//! that only have an array entry (interpreted and host functions). It stores its
//! parameters into a 16-aligned stack area of `max(params, results)` cells, calls the
//! array entry of the record in its callee slot, raises a failed status through the
//! caller's libcall table, and returns the results from the cells by the register
//! convention.
//!
//! The adapter's prologue checks the stack limit exactly as compiled functions do, from
//! the limits its callee slot carries (`sig::check_stack_limit`), so deep recursion that
//! crosses into the interpreter or the host still ends in `call stack exhausted` here.

use cranelift_codegen::ir::{
    self, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, UserFuncName,
};
use cranelift_codegen::isa::TargetIsa;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use tierup_abi::entry::offsets as entry_offsets;
use tierup_abi::vmctx::{libcall_offsets, offsets};
use tierup_abi::{CompileError, TrapCode};
use wasmparser::ValType;

use crate::isa::clif_trap;
use crate::shim::cell;
use crate::sig::{
    PTR, array_signature, check_stack_limit, clif_type, native_signature, register_signature,
};

/// The adapter for functions of type `params -> results`.
pub(crate) fn build(
    isa: &dyn TargetIsa,
    params: &[ValType],
    results: &[ValType],
) -> Result<ir::Function, CompileError> {
    let sig = register_signature(params, results);
    let mut func = ir::Function::with_name_signature(UserFuncName::user(2, 0), sig);
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut func, &mut fctx);

    check_stack_limit(b.func)?;

    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let values = b.block_params(entry).to_vec();
    let (callee, caller) = match values[..] {
        [callee, caller, ..] => (callee, caller),
        _ => {
            return Err(CompileError(
                "adapter without its context parameters".into(),
            ));
        }
    };
    let first_param = if results.len() > 1 { 3 } else { 2 };
    let results_area = (results.len() > 1).then(|| values[2]);
    let wasm_params = values.get(first_param..).unwrap_or(&[]);

    let cells = params.len().max(results.len()).max(1);
    let area = b.create_sized_stack_slot(StackSlotData::new(
        StackSlotKind::ExplicitSlot,
        cell(cells)? as u32,
        4,
    ));
    for (i, &v) in wasm_params.iter().enumerate() {
        b.ins().stack_store(PTR, v, area, cell(i)?);
    }
    let code = b.ins().load(
        PTR,
        MemFlagsData::trusted(),
        callee,
        entry_offsets::ENTRY_CODE as i32,
    );
    let array_entry = b.ins().load(
        PTR,
        MemFlagsData::trusted().with_readonly(),
        code,
        entry_offsets::CODE_ARRAY_ENTRY as i32,
    );
    let cells_addr = b.ins().stack_addr(PTR, area, 0);
    let array_sig = b.import_signature(array_signature());
    let call = b
        .ins()
        .call_indirect(array_sig, array_entry, &[callee, code, caller, cells_addr]);
    let status = *b
        .inst_results(call)
        .first()
        .ok_or_else(|| CompileError("array entry without a status".into()))?;

    let failed = b.create_block();
    let ok = b.create_block();
    b.ins().brif(status, failed, &[], ok, &[]);
    b.seal_block(failed);
    b.seal_block(ok);
    b.set_cold_block(failed);
    b.switch_to_block(failed);
    let libcalls = b.ins().load(
        PTR,
        MemFlagsData::trusted().with_readonly(),
        caller,
        offsets::LIBCALLS as i32,
    );
    let raise = b.ins().load(
        PTR,
        MemFlagsData::trusted().with_readonly(),
        libcalls,
        libcall_offsets::RAISE as i32,
    );
    let raise_sig = b.import_signature(native_signature(&[ir::types::I32], &[]));
    b.ins().call_indirect(raise_sig, raise, &[status]);
    // `raise` never returns.
    b.ins().trap(clif_trap(TrapCode::Unreachable));

    b.switch_to_block(ok);
    let mut out = Vec::with_capacity(results.len());
    for (i, &ty) in results.iter().enumerate() {
        out.push(b.ins().stack_load(PTR, clif_type(ty), area, cell(i)?));
    }
    match results_area {
        Some(dst) => {
            for (i, &v) in out.iter().enumerate() {
                b.ins().store(MemFlagsData::trusted(), v, dst, cell(i)?);
            }
            b.ins().return_(&[]);
        }
        None => {
            b.ins().return_(&out);
        }
    }
    b.finalize(isa.frontend_config());
    Ok(func)
}
