//! Shared helpers of the integration tests: where the specification test suite lives,
//! which of its scripts run, and a way to run a test body on a thread with a large stack.

use std::path::{Path, PathBuf};

/// The stack size of the threads that run wasm in tests: deep (but bounded) recursion in
/// the scripts must hit the engine's call-depth limit, not the host stack.
pub const TEST_STACK_SIZE: usize = 64 << 20;

/// The directory of the WebAssembly 2.0 specification scripts.
pub fn testsuite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testsuite/wasm-2.0")
}

/// The `.wast` scripts of `dir`, sorted by name, without those whose name starts with one
/// of `excluded_prefixes`. Fails if the directory cannot be read or holds no script.
pub fn wast_files(dir: &Path, excluded_prefixes: &[&str]) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        format!(
            "cannot read the test suite directory {}: {e}",
            dir.display()
        )
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !name.ends_with(".wast") || excluded_prefixes.iter().any(|p| name.starts_with(p)) {
            continue;
        }
        files.push(path);
    }
    files.sort();
    if files.is_empty() {
        return Err(format!("no .wast files in {}", dir.display()));
    }
    Ok(files)
}

/// Runs `f` on a new thread with a [`TEST_STACK_SIZE`] stack and returns its result; a
/// panic becomes an `Err` with the panic message.
pub fn with_big_stack<R: Send + 'static>(
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, String> {
    let handle = std::thread::Builder::new()
        .stack_size(TEST_STACK_SIZE)
        .spawn(f)
        .map_err(|e| format!("cannot spawn a test thread: {e}"))?;
    handle.join().map_err(|p| {
        if let Some(s) = p.downcast_ref::<&str>() {
            format!("panic: {s}")
        } else if let Some(s) = p.downcast_ref::<String>() {
            format!("panic: {s}")
        } else {
            "panic".to_string()
        }
    })
}

/// Differential testing of generated modules: `wasm-smith` makes a module of tierup's
/// feature set from arbitrary bytes, and every exported function runs under every tier
/// mode ([`tierup::compare`]). Shared by the deterministic slice the tests run
/// (`tests/differential.rs`) and the fuzz targets (`tools/fuzz`).
pub mod differential {
    use std::time::Duration;

    use tierup::compare::{Comparison, Mode, Program, Target, compare};

    /// `wasm-smith`'s configuration: WebAssembly 2.0 (SIMD, reference types, bulk
    /// memory, multiple values, saturating conversions, sign extension) and nothing
    /// newer; no imports (a generated module runs alone), every item exported, NaNs
    /// canonicalised (so that the bit patterns the specification leaves open cannot
    /// reach an integer and diverge), small memories and tables.
    pub fn smith_config() -> wasm_smith::Config {
        wasm_smith::Config {
            max_imports: 0,
            export_everything: true,
            allow_start_export: true,
            canonicalize_nans: true,
            simd_enabled: true,
            relaxed_simd_enabled: false,
            reference_types_enabled: true,
            bulk_memory_enabled: true,
            multi_value_enabled: true,
            saturating_float_to_int_enabled: true,
            sign_extension_ops_enabled: true,
            gc_enabled: false,
            exceptions_enabled: false,
            threads_enabled: false,
            shared_everything_threads_enabled: false,
            tail_call_enabled: false,
            memory64_enabled: false,
            custom_page_sizes_enabled: false,
            wide_arithmetic_enabled: false,
            extended_const_enabled: false,
            compact_imports_enabled: false,
            custom_descriptors_enabled: false,
            max_memories: 1,
            // Every memory and table declares a maximum: a growth beyond it fails alike
            // in every engine (without one, each engine's own bound decides).
            memory_max_size_required: true,
            table_max_size_required: true,
            max_memory32_bytes: 16 << 16,
            max_tables: 2,
            max_table_elements: 100,
            min_funcs: 1,
            max_funcs: 30,
            max_instructions: 2_000,
            ..wasm_smith::Config::default()
        }
    }

    /// The fuel of a generated module's instance, for all its calls together
    /// (`wasm-smith`'s `ensure_termination`: each function entry and loop iteration
    /// spends one, and the code traps with `unreachable` when it is gone), so that every
    /// run ends on its own, the same way in every tier. Small enough that no recursion
    /// reaches the stack's limit ([`modes`]) first: with 100,000 a recursion ran out of
    /// stack in some tier mixes and out of fuel in others, a divergence by stack depth,
    /// which the specification allows.
    pub const FUEL: u32 = 2_000;

    /// The modes modules are compared in: [`tierup::compare::default_modes`] with random
    /// tier masks of `seeds`, each with 16 MiB of wasm stack (run them on a thread with a
    /// larger stack, as `with_big_stack` makes).
    pub fn modes(seeds: std::ops::RangeInclusive<u64>) -> Vec<Mode> {
        let mut modes = tierup::compare::default_modes(seeds);
        for m in &mut modes {
            m.config.max_wasm_stack(16 << 20);
        }
        modes
    }

    /// A module made from `data`, with termination ensured; `None` where `wasm-smith`
    /// cannot make one from so few bytes.
    pub fn generate(data: &[u8]) -> Option<Vec<u8>> {
        let mut u = arbitrary::Unstructured::new(data);
        let mut module = wasm_smith::Module::new(smith_config(), &mut u).ok()?;
        module.ensure_termination(FUEL).ok()?;
        Some(module.to_bytes())
    }

    /// What one module's runs showed.
    #[derive(Debug)]
    pub enum Verdict {
        /// Every mode agreed, on this many calls.
        Agree(usize),
        /// A mode differed: the report.
        Diverge(String),
        /// A run hit the timeout (the module's own fuel should end it first): nothing is
        /// concluded.
        Inconclusive,
    }

    /// Runs every export of `wasm` under `modes` and compares; the timeout per run is a
    /// backstop (epoch interruption).
    pub fn check(wasm: &[u8], modes: &[Mode]) -> Verdict {
        let mut program = Program::new(wasm.to_vec(), Target::EveryExport);
        program.timeout = Duration::from_secs(20);
        let c: Comparison = match compare(&program, modes) {
            Ok(c) => c,
            Err(e) => return Verdict::Diverge(format!("{e:#}")),
        };
        let interrupted = c.outcomes.iter().any(|o| {
            let text = o.end.to_string();
            text.contains("trap: interrupt")
        });
        if interrupted {
            return Verdict::Inconclusive;
        }
        if let Some(d) = &c.divergence {
            return Verdict::Diverge(d.to_string());
        }
        match &c.outcomes[0].end {
            tierup::compare::End::Calls(calls) => Verdict::Agree(calls.len()),
            tierup::compare::End::Error(e) => {
                // Every mode refused it alike; a valid module must not be refused.
                Verdict::Diverge(format!("every mode refused a valid module: {e}"))
            }
            _ => Verdict::Agree(0),
        }
    }

    /// `len` bytes of the deterministic stream of `seed` (SplitMix64).
    pub fn seed_bytes(seed: u64, len: usize) -> Vec<u8> {
        let mut state = seed;
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
        }
        out.truncate(len);
        out
    }
}
