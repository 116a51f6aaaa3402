//! `tierup-optimizing`: tierup's optimizing tier, a translator from WebAssembly 2.0
//! function bodies to Cranelift IR of our own, compiled by Cranelift for the host.
//!
//! [`Optimizing`] implements [`tierup_abi::Compiler`]: given a module's [`ModuleEnv`] and a
//! defined function it returns [`Compiled::Machine`] code holding the function's register
//! entry (the convention of [`tierup_abi::regcall`]) followed by its array shim, with the
//! trap sites, the relocations, the wasm offset map and the frame size the runtime needs.
//! [`Optimizing::compile_adapter`] makes the register-entry adapter of a signature for
//! functions that only have an array entry.
//!
//! # OSR entries
//!
//! [`Optimizing::compile_osr`] makes the entry of a function at an OSR point
//! ([`tierup_abi::osr`]): the register entry of a `[i64] -> results` function, with the
//! shim of that type, translated from the whole body like the function itself (same trap
//! sites, wasm offsets and stack-limit check) but entered elsewhere. Its entry block loads
//! the context from the slot and jumps to a block that reads every state cell (the locals,
//! then the operand stack) and jumps to a merge block at the point, where translation
//! continues with the loaded stack; the body's own start is never reached, so the code
//! before the point is dead except where loops around the point reach it through their
//! back-edges (their headers then take the whole operand stack as parameters). A point
//! that is not an instruction boundary of the body, or that no execution reaches (dead
//! code, or after the `end` of a block that nothing branches to or falls out of), is a
//! [`CompileError`].
//!
//! # How compiled code reaches the instance
//!
//! Everything instance-specific is lowered in one place, the translator's environment
//! (`env.rs`): the function's context is loaded from its callee slot; memory 0's base is
//! fixed and its length is read from the memory descriptor; globals, tables, function
//! slots, signature ids and libcalls are reached through the context's arrays. Every call,
//! direct or indirect, loads the callee slot's current code record and calls its register
//! entry, so a publication into the slot retargets compiled callers too. A libcall that
//! fails, and a callee adapter whose array entry fails, call `raise` and never return.
//! With [`CompileOptions::epoch_interruption`] the header of every loop that makes a
//! libcall and every OSR entry test the context's
//! interrupt word and call `epoch_preserving` in a cold block when it is set
//! (`FuncEnv::check_epoch`), by Cranelift's `preserve_all` convention: the call clobbers
//! no register, so that a loop keeps its values in registers (with an ordinary call the
//! floating-point values of `matmul`'s inner loop went to the stack and back every
//! iteration). Function entries and other loops test nothing: the runtime
//! interrupts them by a signal, within the range [`MachineCode::preemptible`] (the
//! function after its prologue's `push rbp; mov rbp, rsp`, which the tier checks is
//! there); `translate/epoch.rs` says why every endless run is stopped.
//!
//! # Linear memory
//!
//! Without [`CompileOptions::bounds_checks`], an access whose static offset plus size is at
//! most [`tierup_abi::GUARD_BYTES`] is not checked: the guarded reservation makes it fault
//! where it is out of bounds, and every such load and store is a trap site with
//! `MemoryOutOfBounds`. Every other access, and every access with bounds checks, compares
//! `index + offset + size` with the current length first. `memory.fill` and `memory.copy`
//! are inline loops after a check of their whole ranges.
//!
//! # Cranelift flags
//!
//! * `opt_level=speed`: this is the tier for hot code (but for quick code, below).
//! * `preserve_frame_pointers=true`: backtraces walk the `rbp` chain through generated
//!   frames.
//! * `unwind_info=false`: nothing unwinds generated frames but the runtime, which needs
//!   only the frame-pointer chain; no Rust panic ever unwinds through them.
//! * `enable_probestack=false`: the prologue's stack-limit check (`func.stack_limit`,
//!   slot -> limits -> stack limit) replaces stack probes; it traps with
//!   `StackOverflow` below the limit, and a limit of 0 never traps.
//! * `enable_verifier` only with debug assertions: it costs compile time, and the tests
//!   compile every function of the spec suite with it on.
//! * `enable_nan_canonicalization=false`: wasm allows any NaN bit pattern where results are
//!   NaN, and the other tiers do not canonicalize either.
//! * `regalloc_algorithm=backtracking` (the default), but `single_pass` for large
//!   functions (below).
//! * Everything else keeps Cranelift's defaults (libcalls are not colocated, so the only
//!   external relocations are the `Abs8` addresses of rounding functions that Cranelift
//!   calls on hosts without SSE4.1; they become [`tierup_abi::RelocTarget::Libm`], and any
//!   other external relocation fails the compilation).
//!
//! # Quick code
//!
//! Code that stands in for good for a quicker tier's ([`CompileOptions::quick`]: in the
//! baseline mode, the functions the baseline tier refuses, compiled at their first call on
//! the program's thread) is compiled without optimizations (`opt_level=none`, a third ISA
//! of the same flags). The largest SIMD function of the `simd` benchmark program (5 KB of
//! body) took 21.5 ms at `opt_level=speed` and 11.2 ms so (`RUST_LOG=tierup::tiering=trace
//! tierup run --tier baseline benches/programs/simd.wasm`), its code 23 KB against 28 KB;
//! the whole run went from 34 to 29 ms (medians of ten; `benches/README.md`). A large
//! function keeps the single-pass allocator at `opt_level=speed`.
//!
//! # Large functions
//!
//! The backtracking register allocator can take time far beyond linear in the size of a
//! function: a straight-line body where many long-lived values (constants that the
//! e-graph shares across one huge block) are spilled took 4.3 s at 110 KB of body, 48 s at
//! 220 KB and 252 s at 440 KB, and a valid body may have 7,654,321 bytes (the JS API's
//! limit). A function whose body is larger than [`LARGE_BODY_BYTES`] (64 KB; the same
//! shape takes 0.6 s just below it) is therefore compiled with the single-pass allocator
//! (`regalloc_algorithm=single_pass`, a second ISA of the same flags), which is linear:
//! 0.23 s at 440 KB (`benches/README.md`, "Large functions"). Its code spills more; such
//! functions are rare (none in the benchmark programs, 3 of 11,448 in CPython, 6 of
//! 30,186 in Yosys, 18 of 32,092 in cc1).
//!
//! Such a body can also need a frame no wasm stack holds (about 8 bytes per operator of
//! that shape, either allocator: 4 MB for a 7.6 MB body, where the default wasm stack is
//! 1 MiB). A frame above [`MAX_FRAME_BYTES`] is refused with
//! [`CompileError::beyond_limits`]: the runtime keeps the function in the tier below
//! (baseline code, or the interpreter, whose frames hold the operand stack only) rather
//! than publish code that would exhaust the stack where the lower tier's ran.
//!
//! # Traps
//!
//! Cranelift's own trap codes stand for the traps its instructions raise
//! (`HEAP_OUT_OF_BOUNDS`, `INTEGER_OVERFLOW`, `INTEGER_DIVISION_BY_ZERO`,
//! `BAD_CONVERSION_TO_INTEGER`, `STACK_OVERFLOW`); the other traps are Cranelift user
//! codes numbered by their status. [`MachineCode::traps`] carries
//! [`tierup_abi::TrapCode`]s, sorted by offset. The `ud2` that follows a call of `raise`
//! is never reached and is listed as `Unreachable`.
//!
//! # Source locations
//!
//! The builder's source location is each operator's byte offset in the module, so every
//! trap site and call site maps back to a wasm instruction; code that belongs to none
//! (prologue, epilogue, padding, the shim) maps to [`tierup_abi::SourceLoc::NONE`].
//!
//! # Robustness
//!
//! A body that cannot be translated is a [`CompileError`] with a message. Compilation runs
//! under `catch_unwind`, so a panic inside Cranelift also becomes a `CompileError` rather
//! than unwinding into the runtime.
//!
//! # Modules
//!
//! * `translate/`: the translator, one file per operator family, and `translate/osr.rs`,
//!   the OSR entry.
//! * `env.rs`: the environment through which everything instance-specific is lowered.
//! * `sig.rs`: value types and the register, array and libcall signatures.
//! * `isa.rs`: the host ISA and flags, and the step from compiled CLIF to [`MachineCode`].
//! * `shim.rs`, `adapter.rs`: the array shim of a function and the adapter of a signature.

mod adapter;
mod env;
mod isa;
mod shim;
mod sig;
mod translate;

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;

use cranelift_codegen::ir;
use cranelift_codegen::isa::{OwnedTargetIsa, TargetIsa};
use tierup_abi::{CompileError, CompileOptions, Compiled, Compiler, MachineCode, ModuleEnv, Tier};
use wasmparser::ValType;

pub use sig::{array_signature, clif_type, register_signature};

/// The body size (bytes, locals declaration included) above which a function is compiled
/// with Cranelift's single-pass register allocator (see the crate docs, "Large functions").
pub const LARGE_BODY_BYTES: usize = 64 << 10;

/// The largest stack frame the tier makes, in bytes: half the runtime's default wasm
/// stack (`Config::max_wasm_stack`, 1 MiB). A function that would need more (a
/// multi-megabyte straight-line body: about 8 bytes of frame per operator of it) is
/// refused with [`CompileError::beyond_limits`] and stays in the tier below, whose frame
/// holds its operand stack only, rather than move up into code that exhausts the stack.
pub const MAX_FRAME_BYTES: u32 = 512 << 10;

/// `code`, unless its frame is larger than [`MAX_FRAME_BYTES`].
fn check_frame(func_index: u32, code: isa::Emitted) -> Result<isa::Emitted, CompileError> {
    if code.frame_size > MAX_FRAME_BYTES {
        return Err(CompileError::beyond_limits(format!(
            "function {func_index} needs a stack frame of {} bytes in optimized code, more than {MAX_FRAME_BYTES}",
            code.frame_size
        )));
    }
    Ok(code)
}

/// A function type as parameter and result types.
type Signature = (Box<[ValType]>, Box<[ValType]>);

/// The optimizing tier: a [`Compiler`] for the host. One value serves any number of
/// threads at once; all state of a compilation lives in that call.
pub struct Optimizing {
    isa: OwnedTargetIsa,
    /// The same ISA with the single-pass register allocator, for functions of more than
    /// [`LARGE_BODY_BYTES`] (see the crate docs, "Large functions").
    large_isa: OwnedTargetIsa,
    /// The same ISA without optimizations (`opt_level=none`), for quick code
    /// ([`CompileOptions::quick`]; see the crate docs, "Quick code").
    quick_isa: OwnedTargetIsa,
    /// The compiled array shim of each signature: a shim depends only on its signature
    /// and holds no address, so every function of that type gets a copy of these bytes.
    shims: Mutex<HashMap<Signature, isa::Emitted>>,
}

impl core::fmt::Debug for Optimizing {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Optimizing")
            .field("isa", &self.isa.name())
            .field("flags", &self.isa.flags().to_string())
            .finish()
    }
}

/// Runs `f`, turning a panic into a `CompileError`.
fn guarded<T>(f: impl FnOnce() -> Result<T, CompileError>) -> Result<T, CompileError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(CompileError(format!("internal compiler error: {message}")))
        }
    }
}

impl Optimizing {
    /// The tier for the host, with the flags described in the crate docs.
    pub fn new() -> Result<Optimizing, CompileError> {
        Ok(Optimizing {
            isa: isa::host_isa("speed", "backtracking")?,
            large_isa: isa::host_isa("speed", "single_pass")?,
            quick_isa: isa::host_isa("none", "backtracking")?,
            shims: Mutex::new(HashMap::new()),
        })
    }

    /// The array shim for functions of type `params -> results`, compiled on first use.
    fn shim(&self, params: &[ValType], results: &[ValType]) -> Result<isa::Emitted, CompileError> {
        let key = (
            Box::<[ValType]>::from(params),
            Box::<[ValType]>::from(results),
        );
        // A panic while the lock is held leaves the map as it was; its entries are whole.
        let lock = || self.shims.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(shim) = lock().get(&key) {
            return Ok(shim.clone());
        }
        let shim = isa::emit(&*self.isa, shim::build(&*self.isa, params, results)?)?;
        lock().insert(key, shim.clone());
        Ok(shim)
    }

    /// The Cranelift ISA the tier compiles for.
    pub fn isa(&self) -> &dyn TargetIsa {
        &*self.isa
    }

    /// The compiled body of defined function `func_index` from `entry`, for the ISA that
    /// suits its size, unless its frame is beyond the tier's limits.
    fn body(
        &self,
        env: &ModuleEnv,
        func_index: u32,
        options: &CompileOptions,
        entry: translate::Entry,
    ) -> Result<isa::Emitted, CompileError> {
        let isa = self.isa_for(env, func_index, options);
        let func = translate::translate(isa, env, func_index, *options, entry)?;
        let code = check_frame(func_index, isa::emit(isa, func)?)?;
        if options.epoch_interruption && code.frame_ready.is_none() {
            // Its loops without calls test nothing: the runtime must be able to interrupt
            // them (`translate/epoch.rs`).
            return Err(CompileError(format!(
                "function {func_index}: the code does not begin with the expected prologue, so it cannot be interrupted"
            )));
        }
        Ok(code)
    }

    /// The ISA (and so the register allocator) for defined function `func_index`: the
    /// single-pass allocator's for a body of more than [`LARGE_BODY_BYTES`], else the
    /// unoptimizing one for quick code.
    fn isa_for(
        &self,
        env: &ModuleEnv,
        func_index: u32,
        options: &CompileOptions,
    ) -> &dyn TargetIsa {
        let bytes = env.body(func_index).map_or(0, |(body, _)| body.len());
        if bytes > LARGE_BODY_BYTES {
            &*self.large_isa
        } else if options.quick {
            &*self.quick_isa
        } else {
            &*self.isa
        }
    }

    /// The CLIF of the defined function `func_index` before Cranelift's optimisations (for
    /// tests and inspection).
    pub fn translate(
        &self,
        env: &ModuleEnv,
        func_index: u32,
        options: &CompileOptions,
    ) -> Result<ir::Function, CompileError> {
        guarded(|| {
            translate::translate(
                &*self.isa,
                env,
                func_index,
                *options,
                translate::Entry::Start,
            )
        })
    }

    /// The CLIF of the OSR entry of the defined function `func_index` at the point before
    /// its instruction at module offset `at`, before Cranelift's optimisations (for tests
    /// and inspection).
    pub fn translate_osr(
        &self,
        env: &ModuleEnv,
        func_index: u32,
        at: u32,
        options: &CompileOptions,
    ) -> Result<ir::Function, CompileError> {
        guarded(|| {
            translate::translate(
                &*self.isa,
                env,
                func_index,
                *options,
                translate::Entry::Osr { at },
            )
        })
    }

    /// Compiles a CLIF function built elsewhere (tests, tools) with the tier's flags into
    /// machine code with its tables and no array shim; the entry is at offset 0.
    pub fn compile_clif(&self, func: ir::Function) -> Result<MachineCode, CompileError> {
        guarded(|| isa::link(isa::emit(&*self.isa, func)?, None))
    }
}

impl Compiler for Optimizing {
    fn tier(&self) -> Tier {
        Tier::Optimizing
    }

    fn compile(
        &self,
        env: &ModuleEnv,
        func_index: u32,
        options: &CompileOptions,
    ) -> Result<Compiled, CompileError> {
        guarded(|| {
            let ty = sig::func_type(env, func_index)?;
            let entry = translate::Entry::Start;
            let body = self.body(env, func_index, options, entry)?;
            let shim = self.shim(ty.params(), ty.results())?;
            Ok(Compiled::Machine(isa::link(body, Some(shim))?))
        })
    }

    fn compile_osr(
        &self,
        env: &ModuleEnv,
        func_index: u32,
        at: u32,
        options: &CompileOptions,
    ) -> Result<MachineCode, CompileError> {
        guarded(|| {
            let ty = sig::func_type(env, func_index)?;
            let entry = translate::Entry::Osr { at };
            let body = self.body(env, func_index, options, entry)?;
            let shim = self.shim(&tierup_abi::osr::ENTRY_PARAMS, ty.results())?;
            isa::link(body, Some(shim))
        })
    }

    fn compile_adapter(
        &self,
        params: &[ValType],
        results: &[ValType],
    ) -> Option<Result<MachineCode, CompileError>> {
        Some(guarded(|| {
            let func = adapter::build(&*self.isa, params, results)?;
            isa::link(isa::emit(&*self.isa, func)?, None)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_the_documented_ones() {
        let tier = Optimizing::new().unwrap();
        let flags = tier.isa().flags();
        assert_eq!(
            flags.opt_level(),
            cranelift_codegen::settings::OptLevel::Speed
        );
        assert!(flags.preserve_frame_pointers());
        assert!(!flags.unwind_info());
        assert!(!flags.enable_probestack());
        assert_eq!(flags.enable_verifier(), cfg!(debug_assertions));
        assert!(!flags.enable_nan_canonicalization());
        assert_eq!(tier.tier(), Tier::Optimizing);
        let large = tier.large_isa.flags();
        assert_eq!(
            flags.regalloc_algorithm(),
            cranelift_codegen::settings::RegallocAlgorithm::Backtracking
        );
        assert_eq!(
            large.regalloc_algorithm(),
            cranelift_codegen::settings::RegallocAlgorithm::SinglePass
        );
        // Everything else the same.
        assert_eq!(
            flags.to_string().replace("single_pass", "backtracking"),
            large.to_string().replace("single_pass", "backtracking")
        );
    }

    /// The allocator is chosen by the size of the body: the single-pass one only above
    /// `LARGE_BODY_BYTES`.
    #[test]
    fn large_bodies_get_the_single_pass_allocator() {
        let tier = Optimizing::new().unwrap();
        let body = |nops: usize| format!("(func {})", "nop ".repeat(nops));
        let wat = format!(
            "(module {} {})",
            body(LARGE_BODY_BYTES - 2),
            body(LARGE_BODY_BYTES - 1)
        );
        let wasm = wat::parse_str(&wat).unwrap();
        let features = wasmparser::WasmFeatures::WASM2;
        let mut builder = tierup_abi::ModuleEnvBuilder::new(wasm.clone().into(), features);
        for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
            builder.payload(&payload.unwrap()).unwrap();
        }
        let env = builder.finish().unwrap();
        let default = CompileOptions::default();
        let quick = CompileOptions {
            quick: true,
            ..default
        };
        let algorithm = |f| tier.isa_for(&env, f, &default).flags().regalloc_algorithm();
        let opt_level = |f, o| tier.isa_for(&env, f, o).flags().opt_level();
        use cranelift_codegen::settings::{OptLevel, RegallocAlgorithm};
        // A body is its locals declaration (one byte here), the nops and the `end`.
        assert_eq!(env.body(0).unwrap().0.len(), LARGE_BODY_BYTES);
        assert_eq!(algorithm(0), RegallocAlgorithm::Backtracking);
        assert_eq!(algorithm(1), RegallocAlgorithm::SinglePass);
        // Quick code is unoptimized, but for large bodies, whose allocator is what counts.
        assert_eq!(opt_level(0, &default), OptLevel::Speed);
        assert_eq!(opt_level(0, &quick), OptLevel::None);
        assert_eq!(opt_level(1, &quick), OptLevel::Speed);
        for f in 0..2 {
            tier.compile(&env, f, &CompileOptions::default()).unwrap();
        }
    }
}
