//! Value types and signatures: how wasm values are typed in CLIF, and the CLIF signature of
//! a register entry (the convention of `tierup_abi::regcall`), of the array entry and of
//! each libcall.

use cranelift_codegen::ir::{
    self, AbiParam, ArgumentPurpose, GlobalValueData, MemFlagsData, Signature, types,
};
use cranelift_codegen::isa::CallConv;
use tierup_abi::CompileError;
use tierup_abi::entry::offsets as entry_offsets;
use tierup_abi::vmctx::limits_offsets;
use wasmparser::ValType;

/// The pointer type of the host (x86-64).
pub(crate) const PTR: ir::Type = types::I64;

/// The CLIF type of a wasm value: `i32`, `i64`, `f32` and `f64` as themselves, references as
/// `i64` (a `*const FuncEntry` or an externref handle), `v128` as `i8x16` (operators bitcast
/// it to the lane type they work on).
pub fn clif_type(ty: ValType) -> ir::Type {
    match ty {
        ValType::I32 => types::I32,
        ValType::I64 => types::I64,
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        ValType::V128 => types::I8X16,
        ValType::Ref(_) => PTR,
    }
}

/// The CLIF signature of the register entry of a function of type `params -> results`:
/// `(callee slot, caller context, [results area if two or more results], params...)`
/// returning the single result if there is exactly one, in the System V convention.
///
/// The slot is the `VMContext`-purpose parameter, which Cranelift's stack-limit check
/// starts from; the purpose does not move it out of `rdi`.
pub fn register_signature(params: &[ValType], results: &[ValType]) -> Signature {
    let mut sig = Signature::new(CallConv::SystemV);
    sig.params
        .push(AbiParam::special(PTR, ArgumentPurpose::VMContext));
    sig.params.push(AbiParam::new(PTR));
    if results.len() > 1 {
        sig.params.push(AbiParam::new(PTR));
    }
    sig.params
        .extend(params.iter().map(|&t| AbiParam::new(clif_type(t))));
    if let [one] = results {
        sig.returns.push(AbiParam::new(clif_type(*one)));
    }
    sig
}

/// The CLIF signature of an array entry (`tierup_abi::ArrayEntry`):
/// `(callee, code, caller, args_results) -> u32`.
pub fn array_signature() -> Signature {
    let mut sig = Signature::new(CallConv::SystemV);
    sig.params.extend([AbiParam::new(PTR); 4]);
    sig.returns.push(AbiParam::new(types::I32));
    sig
}

/// A System V signature of the given parameter and result types (the libcalls).
pub(crate) fn native_signature(params: &[ir::Type], results: &[ir::Type]) -> Signature {
    let mut sig = Signature::new(CallConv::SystemV);
    sig.params.extend(params.iter().map(|&t| AbiParam::new(t)));
    sig.returns
        .extend(results.iter().map(|&t| AbiParam::new(t)));
    sig
}

/// The type of function `func_index` of `env`, without panicking on a bad index.
pub(crate) fn func_type(
    env: &tierup_abi::ModuleEnv,
    func_index: u32,
) -> Result<&wasmparser::FuncType, CompileError> {
    let ty = env
        .funcs
        .get(func_index as usize)
        .ok_or_else(|| CompileError(format!("unknown function {func_index}")))?;
    type_at(env, *ty)
}

/// Type `type_index` of `env`, without panicking on a bad index.
pub(crate) fn type_at(
    env: &tierup_abi::ModuleEnv,
    type_index: u32,
) -> Result<&wasmparser::FuncType, CompileError> {
    env.types
        .get(type_index as usize)
        .ok_or_else(|| CompileError(format!("unknown type {type_index}")))
}

/// Makes the prologue of a register entry (whose `VMContext`-purpose parameter is the callee
/// slot) trap with `StackOverflow` below the stack limit of the slot's store: slot -> limits
/// -> stack limit. A limit of 0 never traps.
pub(crate) fn check_stack_limit(func: &mut ir::Function) -> Result<(), CompileError> {
    let flags = func
        .dfg
        .mem_flags
        .insert(MemFlagsData::trusted().with_readonly())
        .map_err(|_| CompileError("too many memory flags".into()))?;
    let slot = func.create_global_value(GlobalValueData::VMContext);
    let limits = func.create_global_value(GlobalValueData::Load {
        base: slot,
        offset: (entry_offsets::ENTRY_LIMITS as i32).into(),
        global_type: PTR,
        flags,
    });
    let limit = func.create_global_value(GlobalValueData::Load {
        base: limits,
        offset: (limits_offsets::STACK_LIMIT as i32).into(),
        global_type: PTR,
        flags,
    });
    func.stack_limit = Some(limit);
    Ok(())
}
