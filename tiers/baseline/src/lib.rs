//! tierup's baseline tier: a single-pass compiler from one wasm function to x86-64 code,
//! fast to compile and much faster to run than the interpreter, the middle of the chain
//! interpreter -> baseline -> optimizing.
//!
//! It produces what the optimizing tier produces ([`tierup_abi::MachineCode`]: the register
//! entry, the array shim, trap sites, the wasm offset map), by the same contracts of
//! `tierup_abi`: the register calling convention in both directions, the stack-limit check
//! in the prologue, no bounds checks under the guard region and explicit ones without it,
//! traps as faults at trap sites, the frame-pointer chain for backtraces. It never maps
//! memory or touches an instance; the runtime loads the code. It also makes the adapters
//! of signatures without `v128` values ([`compile_adapter`], `adapter.rs`: the register
//! entry of interpreted and host functions), which the runtime makes on first use on the
//! program's thread: with the optimizing tier they took 4% of QuickJS's program-thread
//! samples (`perf record`, `tools/wasi-programs/inputs/timeline.js`), with this one none.
//!
//! # Layers
//!
//! * `codegen/`: the operator visitor (`codegen/ops.rs`). It reads each operator once and
//!   emits it at once, keeping the operand stack symbolic (`stack.rs`: constants, locals,
//!   registers and slots, materialised only when an operation needs them; the deepest
//!   register entry spilled under pressure; where paths meet, every value in its slot but
//!   a block's one result, which meets in the result register, and an end that only the
//!   code before it reaches keeps the values where they are; a local's slot always
//!   holds its value, and the register of the value last stored into it keeps a copy
//!   that later reads use, until a merge, a call or the allocator needs it).
//!   `codegen/hotness.rs` is the tier's part in the chain (below).
//! * `read.rs`: the body's one read. Each operator is decoded straight into a visitor
//!   call and goes to the validator first when the compile validates the body too
//!   ([`Compiler::compile_validating`]: the runtime's lazy validation, and `tierup
//!   compile`), then to the code generator, which so only sees a valid prefix. The
//!   common operators with immediates in encodings of up to five bytes are decoded there;
//!   the rest, and anything malformed, by `wasmparser`'s decoder from the same position.
//! * `masm.rs`: the ISA-neutral macro-assembler trait the visitor speaks, one method per
//!   kind of instruction, so what each operator emits reads off its visitor method.
//! * `x64.rs`: the x86-64 implementation, with `dynasm!`.
//!
//! A compile goes through its phases as types (`codegen/phases.rs`): `Setup` (the
//! prologue, or an OSR entry's), `Body` (the operators; its end emits the out-of-line
//! code), `Tail` (the array shim, then the bytes and tables), each consumed by the step
//! that ends it, so that the order is the only one that type-checks.
//!
//! # In the chain
//!
//! With [`tierup_abi::CompileOptions::hotness_budget`] (the tiered mode) the code counts
//! its own hotness in its slot, two instructions at the entry and at each loop header
//! (`sub dword [slot + hotness], work; jl report`, the work being the call's (32) plus the
//! function's length up to 64 operators, or the loop body's length; a `qword` at an
//! outermost loop's header, whose high half is the runtime's OSR request), and reports
//! itself hot out of line. At a loop
//! header the report may move the activation into the optimizing tier's OSR entry: the
//! frame's slots are the state, copied into cells and passed on. [`compile_osr`] makes
//! this tier's own OSR entries, which take an interpreted activation along at any
//! reachable instruction boundary. The details are in `codegen/hotness.rs`.
//!
//! # Epoch checks
//!
//! The code is [`MachineCode::preemptible`] from the end of its prologue on: the runtime
//! stops it by a signal. With [`tierup_abi::CompileOptions::epoch_interruption`] it tests
//! the context's interrupt word (a compare with memory and a branch, calling the runtime
//! out of line when it is set) only where a libcall returns and at an OSR entry, where
//! the signal may have found the thread outside of it (`codegen/epoch.rs`).
//!
//! # Golden disassembly
//!
//! `tests/disas/` holds one module per operator family (control, calls, memory with and
//! without a guard region, numeric, variables, hotness, call counting, epoch checks) and
//! the disassembly of the code this tier emits for it, each wasm instruction's code under
//! its offset; `tests/disas.rs` checks that they match, so a change in emitted code shows
//! in review.
//! `TIERUP_BLESS=1 cargo test -p tierup-baseline --test disas` re-blesses them.
//!
//! # What it compiles
//!
//! All of WebAssembly 2.0 but SIMD: a function that uses a SIMD instruction (or has a
//! `v128` parameter, result or local) is refused with an error that names what it uses,
//! and the runtime runs it in another tier (the optimizing tier where the engine has it:
//! the tiered chain goes from the interpreter straight there).
//!
//! # CPU features
//!
//! The emitted code uses SSE4.1 (`roundss`/`roundsd` for `ceil`, `floor`, `trunc` and
//! `nearest`), POPCNT, LZCNT and BMI1 (`tzcnt`). [`Baseline::new`] checks them and fails
//! on a CPU without them, and the runtime then runs without this tier.

mod adapter;
mod codegen;
mod masm;
mod read;
mod stack;
mod x64;

use tierup_abi::{
    BodyValidator, CompileError, CompileOptions, Compiled, Compiler, MachineCode, ModuleEnv, Tier,
    ValidatingError,
};
use wasmparser::ValType;

use crate::codegen::Setup;
use crate::read::Reader;
use crate::x64::X64;

/// The baseline tier.
#[derive(Debug)]
pub struct Baseline {
    _private: (),
}

impl Baseline {
    /// The tier for this host; an error where the CPU lacks a feature the code needs.
    pub fn new() -> Result<Baseline, CompileError> {
        let missing: Vec<&str> = [
            ("sse4.1", std::arch::is_x86_feature_detected!("sse4.1")),
            ("popcnt", std::arch::is_x86_feature_detected!("popcnt")),
            ("lzcnt", std::arch::is_x86_feature_detected!("lzcnt")),
            ("bmi1", std::arch::is_x86_feature_detected!("bmi1")),
        ]
        .into_iter()
        .filter(|(_, has)| !has)
        .map(|(name, _)| name)
        .collect();
        if missing.is_empty() {
            Ok(Baseline { _private: () })
        } else {
            Err(CompileError(format!(
                "the baseline tier needs CPU features this host lacks: {}",
                missing.join(", ")
            )))
        }
    }
}

fn no_v128(types: &[ValType], what: &str) -> Result<(), CompileError> {
    if types.contains(&ValType::V128) {
        Err(CompileError(format!(
            "the baseline tier does not compile v128 {what} yet"
        )))
    } else {
        Ok(())
    }
}

impl Compiler for Baseline {
    fn tier(&self) -> Tier {
        Tier::Baseline
    }

    fn compile(
        &self,
        env: &ModuleEnv,
        func_index: u32,
        options: &CompileOptions,
    ) -> Result<Compiled, CompileError> {
        compile(env, func_index, options).map(Compiled::Machine)
    }

    /// One read of the body for both: each operator is validated, then emitted.
    fn compile_validating(
        &self,
        env: &ModuleEnv,
        func_index: u32,
        options: &CompileOptions,
        validator: &mut BodyValidator,
    ) -> Result<Compiled, ValidatingError> {
        translate(env, func_index, None, options, Some(validator)).map(Compiled::Machine)
    }

    fn compile_osr(
        &self,
        env: &ModuleEnv,
        func_index: u32,
        at: u32,
        options: &CompileOptions,
    ) -> Result<MachineCode, CompileError> {
        compile_osr(env, func_index, at, options)
    }

    /// The adapter of a signature without `v128` values (see the `adapter` module); an
    /// error for one with them.
    fn compile_adapter(
        &self,
        params: &[ValType],
        results: &[ValType],
    ) -> Option<Result<MachineCode, CompileError>> {
        Some(compile_adapter(params, results))
    }
}

/// The adapter of signature `params -> results` (see the `adapter` module); an error for
/// one with `v128` values.
pub fn compile_adapter(
    params: &[ValType],
    results: &[ValType],
) -> Result<MachineCode, CompileError> {
    adapter::build(X64::for_body(64), params, results)
}

/// Compiles defined function `func_index`, whose body has been validated.
pub fn compile(
    env: &ModuleEnv,
    func_index: u32,
    options: &CompileOptions,
) -> Result<MachineCode, CompileError> {
    translate(env, func_index, None, options, None).map_err(validated)
}

/// Compiles the OSR entry of defined function `func_index` at the point before its
/// instruction at module offset `at` (`tierup_abi::osr`): code whose register entry takes
/// the address of the state and runs the rest of the function from there. Any reachable
/// instruction boundary can be entered. The body has been validated.
pub fn compile_osr(
    env: &ModuleEnv,
    func_index: u32,
    at: u32,
    options: &CompileOptions,
) -> Result<MachineCode, CompileError> {
    translate(env, func_index, Some(at), options, None).map_err(validated)
}

/// The error of a compile of a body validated before: a decoding error there means the
/// body is not the one that was validated.
fn validated(e: ValidatingError) -> CompileError {
    match e {
        ValidatingError::Compile(e) => e,
        ValidatingError::Invalid(e) => CompileError(e.to_string()),
    }
}

/// Compiles defined function `func_index`, or its OSR entry at `osr`; with `validator`,
/// validates the body in the same read (`read.rs`).
fn translate(
    env: &ModuleEnv,
    func_index: u32,
    osr: Option<u32>,
    options: &CompileOptions,
    mut validator: Option<&mut BodyValidator>,
) -> Result<MachineCode, ValidatingError> {
    let ty = env
        .funcs
        .get(func_index as usize)
        .and_then(|&t| env.types.get(t as usize))
        .ok_or_else(|| CompileError(format!("unknown function {func_index}")))?;
    let (params, results) = (ty.params(), ty.results());
    no_v128(params, "parameters")?;
    no_v128(results, "results")?;
    let reader = env
        .body_reader(func_index)
        .ok_or_else(|| CompileError(format!("function {func_index} has no body")))?;
    let mut locals = params.to_vec();
    let mut decls = reader
        .get_locals_reader()
        .map_err(ValidatingError::Invalid)?;
    for _ in 0..decls.get_count() {
        let offset = decls.original_position();
        let (count, ty) = decls.read().map_err(ValidatingError::Invalid)?;
        // The validator first: it refuses more locals than a function may have, before
        // they are made.
        if let Some(v) = validator.as_deref_mut() {
            v.define_locals(offset, count, ty)
                .map_err(ValidatingError::Invalid)?;
        }
        no_v128(&[ty], "locals")?;
        locals.extend(std::iter::repeat_n(ty, count as usize));
    }
    let mut ops = decls.get_binary_reader();
    let base = ops.original_position() as usize;
    let features = ops.features();
    let code = ops
        .read_bytes(ops.bytes_remaining())
        .map_err(ValidatingError::Invalid)?;
    let range = reader.range();
    let wasm_bytes = (range.end - range.start) as usize;
    let setup = Setup::new(
        env,
        X64::for_body(wasm_bytes),
        wasm_bytes,
        func_index,
        ty,
        options,
    );
    let mut body = match osr {
        None => setup.prologue(locals)?,
        Some(at) => setup.osr_prologue(at, locals)?,
    };
    Reader::new(&mut body, validator).read(code, base, features)?;
    Ok(body.end()?.finish()?)
}
