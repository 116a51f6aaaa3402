//! The array shim of a compiled function: the `tierup_abi::ArrayEntry` signature
//! `(callee, code, caller, args_results) -> u32`, which loads the parameters from their
//! cells, calls the register entry of `code` with the cells as the results area (when
//! there are two or more results), stores a single result into cell 0 and returns 0. It
//! has no traps of its own: the runtime's entry trampoline records where a trap resumes.

use cranelift_codegen::ir::{self, InstBuilder, MemFlagsData, UserFuncName, types};
use cranelift_codegen::isa::TargetIsa;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use tierup_abi::CompileError;
use tierup_abi::entry::offsets as entry_offsets;
use wasmparser::ValType;

use crate::sig::{PTR, array_signature, clif_type, register_signature};

/// The byte offset of cell `i`.
pub(crate) fn cell(i: usize) -> Result<i32, CompileError> {
    i32::try_from(16 * i).map_err(|_| CompileError("too many values".into()))
}

/// The shim for functions of type `params -> results`.
pub(crate) fn build(
    isa: &dyn TargetIsa,
    params: &[ValType],
    results: &[ValType],
) -> Result<ir::Function, CompileError> {
    let mut func = ir::Function::with_name_signature(UserFuncName::user(1, 0), array_signature());
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut func, &mut fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let &[callee, code, caller, cells] = b.block_params(entry) else {
        return Err(CompileError(
            "array shim without its four parameters".into(),
        ));
    };
    let mut args = Vec::with_capacity(params.len() + 3);
    args.push(callee);
    args.push(caller);
    if results.len() > 1 {
        args.push(cells);
    }
    for (i, &ty) in params.iter().enumerate() {
        let v = b
            .ins()
            .load(clif_type(ty), MemFlagsData::trusted(), cells, cell(i)?);
        args.push(v);
    }
    let register_entry = b.ins().load(
        PTR,
        MemFlagsData::trusted().with_readonly(),
        code,
        entry_offsets::CODE_REGISTER_ENTRY as i32,
    );
    let sig = b.import_signature(register_signature(params, results));
    let call = b.ins().call_indirect(sig, register_entry, &args);
    if let [result] = *b.inst_results(call) {
        b.ins().store(MemFlagsData::trusted(), result, cells, 0);
    }
    let ok = b.ins().iconst(types::I32, i64::from(tierup_abi::STATUS_OK));
    b.ins().return_(&[ok]);
    b.finalize(isa.frontend_config());
    Ok(func)
}
