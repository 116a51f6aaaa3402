//! [`Module`]: a validated WebAssembly module, decoded once and shared (by `Arc`) by every
//! instance. It owns the code every tier made for its functions (compiled once per module,
//! on demand, and published into the slots of its live instances), the executable memory
//! of that code, and the `Lazy` records fresh entry slots start with.

mod parse;

use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use parking_lot::Mutex;
use tierup_abi::{
    CompileError, CompileOptions, Compiled, Compiler, FuncCode, FuncEntry, MachineCode, ModuleEnv,
    OwnedCode, Tier, ValidatingError,
};

pub(crate) use parse::{ConstExpr, ElemMode, ExportKind, ModuleInfo};

use crate::Result;
use crate::code::{CodeMemory, CodeOwner};
use crate::engine::Engine;
use crate::types::{ExportType, ImportType};

/// Code one tier made for one function, with its record at a stable address.
pub(crate) enum FuncCodeBox {
    /// Code the tier owns (the interpreter's), with the record inside it.
    Owned {
        _code: Box<dyn OwnedCode>,
        record: *const FuncCode,
    },
    /// Machine code in the module's code memory, with the record the runtime made.
    Machine(Box<FuncCode>),
}

// SAFETY: the record is immutable once made, and the code it points at is `Send + Sync`
// (`OwnedCode`) or machine code the module owns.
unsafe impl Send for FuncCodeBox {}
// SAFETY: see `Send`.
unsafe impl Sync for FuncCodeBox {}

impl FuncCodeBox {
    /// The code record.
    pub(crate) fn record(&self) -> *const FuncCode {
        match self {
            FuncCodeBox::Owned { record, .. } => *record,
            FuncCodeBox::Machine(r) => &**r,
        }
    }
}

/// The number of kinds of code a function can have: the interpreter's, and the baseline
/// and the optimizing tier's for memories with a guard region and without one.
pub(crate) const KEYS: usize = 5;

/// The place of `tier`'s code for memories with (`bounds_checks` false) or without a guard
/// region in a function's table of code.
pub(crate) fn key(tier: Tier, bounds_checks: bool) -> Option<usize> {
    match tier {
        Tier::Interp => Some(0),
        Tier::Optimizing => Some(1 + usize::from(bounds_checks)),
        Tier::Baseline => Some(3 + usize::from(bounds_checks)),
        _ => None,
    }
}

/// The slots of a live instance, for publishing.
struct LiveSlots {
    /// The instance's slots of its defined functions.
    entries: *const FuncEntry,
    len: usize,
    bounds_checks: bool,
}

// SAFETY: the slots are atomics that live until the instance unregisters itself.
unsafe impl Send for LiveSlots {}

pub(crate) struct ModuleInner {
    pub(crate) engine: Engine,
    pub(crate) info: ModuleInfo,
    pub(crate) env: ModuleEnv,
    /// Canonical signature id of every type index.
    pub(crate) type_ids: Box<[u32]>,
    /// The record a defined function's slot starts with, by type index.
    lazy_codes: Box<[Box<FuncCode>]>,
    /// The code each tier made, by defined function index and [`key`].
    code: Box<[[OnceLock<FuncCodeBox>; KEYS]]>,
    /// The executable memory of the module's machine code.
    machine: CodeMemory,
    /// The slots of every live instance.
    instances: Mutex<Vec<LiveSlots>>,
    /// What the tier manager asked for.
    pub(crate) requests: crate::tiering::Requests,
    /// Distinguishes this module's functions when tiers are picked at random.
    pub(crate) salt: u64,
    /// With `Config::lazy_validation`: the validation state of each defined function's
    /// body, checked before its first translation. Empty when everything was validated
    /// up front.
    deferred: Box<[Mutex<Deferred>]>,
    /// Code made by [`Module::compile_fresh`], alive as long as the module.
    fresh: Mutex<Vec<FuncCodeBox>>,
}

/// The state of a function body whose validation was deferred.
enum Deferred {
    /// Not validated yet.
    Pending(wasmparser::FuncToValidate<wasmparser::ValidatorResources>),
    /// Valid.
    Valid,
    /// Invalid, with the validator's message.
    Invalid(String),
}

/// A validated, decoded WebAssembly module. Cheap to clone (shared).
#[derive(Clone)]
pub struct Module {
    pub(crate) inner: Arc<ModuleInner>,
}

impl core::fmt::Debug for Module {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Module")
            .field("name", &self.inner.info.name)
            .finish()
    }
}

impl Module {
    /// Compiles a module from its binary or text (`.wat`) form. Function bodies are
    /// validated now and translated lazily, on their first call.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let bytes = bytes.as_ref();
        if bytes.starts_with(b"\0asm") {
            Module::from_binary(engine, bytes)
        } else {
            let wasm = wat::parse_bytes(bytes)?;
            Module::from_binary(engine, &wasm)
        }
    }

    /// Compiles a module from its binary or text form on the engine's worker pool, without
    /// blocking: see [`crate::tiering::AsyncCompile`]. The errors are those of
    /// [`Module::new`].
    pub fn new_async(engine: &Engine, bytes: impl Into<Vec<u8>>) -> crate::tiering::AsyncCompile {
        crate::tiering::AsyncCompile::start(engine, bytes.into())
    }

    /// Compiles a module from its binary form.
    pub fn from_binary(engine: &Engine, bytes: &[u8]) -> Result<Module> {
        let bodies = validate_sections(bytes)?;
        let deferred = if engine.config().lazy_validation {
            bodies
                .into_iter()
                .map(|(func, _)| Mutex::new(Deferred::Pending(func)))
                .collect()
        } else {
            validate_bodies(bodies)?;
            Box::default()
        };
        let wasm: Arc<[u8]> = Arc::from(bytes);
        let (info, env) = parse::parse(&wasm)?;
        let type_ids: Box<[u32]> = info.types.iter().map(|t| engine.signature_id(t)).collect();
        let defined = env.bodies.len();
        let register_entry = engine.array_code_register_entry();
        let lazy_codes = type_ids
            .iter()
            .map(|_| {
                Box::new(FuncCode {
                    array_entry: crate::libcalls::lazy_entry,
                    register_entry,
                    data: core::ptr::null(),
                    tier: Tier::Lazy,
                    variant: 0,
                })
            })
            .collect();
        let code_bytes = env.code_bytes();
        Ok(Module {
            inner: Arc::new(ModuleInner {
                engine: engine.clone(),
                salt: salt(&wasm),
                info,
                env,
                type_ids,
                lazy_codes,
                code: (0..defined).map(|_| Default::default()).collect(),
                // Machine code is a few times larger than wasm code; an arena holds a
                // page per function at least.
                machine: CodeMemory::new(
                    (code_bytes * 8 + defined * 4096).clamp(64 << 10, 1 << 30),
                ),
                instances: Mutex::new(Vec::new()),
                requests: crate::tiering::Requests::new(defined),
                deferred,
                fresh: Mutex::new(Vec::new()),
            }),
        })
    }

    /// Validates a binary module (WebAssembly 2.0 features) without decoding it further.
    /// The sections are validated in order; the function bodies after them, on up to
    /// eight threads when there is enough code. The error reported is that of the first
    /// invalid body in module order, as a sequential validation would report it.
    pub fn validate(_engine: &Engine, bytes: &[u8]) -> Result<()> {
        validate_bodies(validate_sections(bytes)?)
    }

    /// What the tier manager did with the module's functions so far: how many it compiled
    /// (in the background or, with synchronous tier-up, on the thread that ran them), how
    /// many wait, and its OSR entries.
    pub fn tiering_stats(&self) -> crate::tiering::TieringStats {
        self.inner.requests.stats()
    }

    /// The engine the module was compiled for.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The module's name from its name section, if any.
    pub fn name(&self) -> Option<&str> {
        self.inner.info.name.as_deref()
    }

    /// The name of function `func_index` from the name section, if any.
    pub fn func_name(&self, func_index: u32) -> Option<&str> {
        self.inner
            .info
            .func_names
            .get(&func_index)
            .map(String::as_str)
    }

    /// The module's imports, in order.
    pub fn imports(&self) -> impl ExactSizeIterator<Item = ImportType<'_>> {
        self.inner.info.imports.iter().map(|i| ImportType {
            module: &i.module,
            name: &i.name,
            ty: &i.ty,
        })
    }

    /// The module's exports, in order.
    pub fn exports(&self) -> impl ExactSizeIterator<Item = ExportType<'_>> {
        let info = &self.inner.info;
        info.exports.iter().map(move |e| ExportType {
            name: &e.name,
            ty: info
                .export_type(e)
                .unwrap_or(crate::types::ExternType::Func(crate::FuncType::new([], []))),
        })
    }

    /// The contents of every custom section called `name`.
    pub fn custom_sections<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.inner
            .info
            .custom
            .iter()
            .filter(move |(n, _)| n == name)
            .filter_map(|(_, r)| self.inner.env.wasm.get(r.clone()))
    }

    /// The module's bytes (binary format).
    pub fn bytes(&self) -> &[u8] {
        &self.inner.env.wasm
    }

    /// Compiles every defined function with `tier` now, on up to `threads` threads (0: one
    /// per core), for the engine's kind of memory; the module's instances then run that
    /// code. Returns what it took. The baseline tier skips the functions it does not
    /// compile yet ([`CompileStats::refused`]), which run in the interpreter.
    pub fn precompile(&self, tier: Tier, threads: usize) -> Result<CompileStats> {
        let inner = &*self.inner;
        let bounds_checks = !inner.engine.config().guard_regions;
        let first = inner.env.num_imported_funcs;
        let count = inner.env.bodies.len() as u32;
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
        .clamp(1, count.max(1) as usize);
        // Functions are taken a batch at a time, whose code is loaded together.
        const BATCH: usize = 64;
        let started = Instant::now();
        let done = in_batches(
            threads,
            count as usize,
            BATCH,
            Compiling::default,
            |c, range| {
                let cpu = ThreadCpu::start();
                let batch: Vec<u32> = range.map(|f| first + f as u32).collect();
                match inner.compile_batch(&batch, tier, bounds_checks) {
                    Ok((bytes, refused)) => {
                        c.machine_bytes += bytes;
                        c.refused += refused;
                    }
                    Err(e) => c.error = Some(e),
                }
                c.cpu += cpu.elapsed();
                c.error.is_none()
            },
        )
        .ok_or_else(|| anyhow::anyhow!("a compile thread panicked"))?;
        let mut stats = CompileStats {
            functions: count as usize,
            wasm_bytes: inner.env.code_bytes(),
            machine_bytes: 0,
            refused: 0,
            wall: started.elapsed(),
            cpu: std::time::Duration::ZERO,
            threads,
        };
        for c in done {
            if let Some(e) = c.error {
                return Err(e);
            }
            stats.machine_bytes += c.machine_bytes;
            stats.refused += c.refused;
            stats.cpu += c.cpu;
        }
        Ok(stats)
    }

    /// New code of the defined function `func_index` by `tier`, owned by the module and
    /// distinct from the code its instances run (used by tier-swap tests), for memories
    /// with a guard region.
    pub fn compile_fresh(&self, func_index: u32, tier: Tier) -> Result<crate::tiering::CodeHandle> {
        let (code, _) = self.inner.compile(func_index, tier, false)?;
        let record = code.record();
        self.inner.fresh.lock().push(code);
        Ok(crate::tiering::CodeHandle::from_raw(record))
    }
}

/// What [`Module::precompile`] did.
#[derive(Clone, Debug)]
pub struct CompileStats {
    /// The defined functions compiled.
    pub functions: usize,
    /// Their wasm code (function bodies), in bytes.
    pub wasm_bytes: usize,
    /// The machine code made, in bytes (0 for a tier that makes none).
    pub machine_bytes: usize,
    /// Functions the baseline tier does not compile yet (SIMD), which keep running in the
    /// interpreter; 0 for the other tiers, whose failures are errors.
    pub refused: usize,
    /// The wall-clock time.
    pub wall: std::time::Duration,
    /// The CPU time of the compiling threads together.
    pub cpu: std::time::Duration,
    /// The threads that compiled.
    pub threads: usize,
}

/// A cheap fingerprint of a module's bytes (FNV-1a over its length and at most its first
/// 4 KiB), which tells the functions of different modules apart in random tier choices.
fn salt(wasm: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ wasm.len() as u64;
    for &b in wasm.iter().take(4096) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A function body with what its validation needs.
type Body<'a> = (
    wasmparser::FuncToValidate<wasmparser::ValidatorResources>,
    wasmparser::FunctionBody<'a>,
);

/// Validates every section of a binary module (WebAssembly 2.0 features) except the
/// function bodies, which it returns in order.
fn validate_sections(bytes: &[u8]) -> Result<Vec<Body<'_>>> {
    let mut validator = wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::WASM2);
    let mut parser = wasmparser::Parser::new(0);
    parser.set_features(wasmparser::WasmFeatures::WASM2);
    let mut bodies = Vec::new();
    for payload in parser.parse_all(bytes) {
        if let wasmparser::ValidPayload::Func(func, body) = validator.payload(&payload?)? {
            bodies.push((func, body));
        }
    }
    Ok(bodies)
}

/// Validates one function body, reusing (and giving back) the validator's allocations.
fn validate_body(
    func: wasmparser::FuncToValidate<wasmparser::ValidatorResources>,
    body: &wasmparser::FunctionBody<'_>,
    allocs: &mut wasmparser::FuncValidatorAllocations,
) -> Result<(), wasmparser::BinaryReaderError> {
    let mut v = func.into_validator(core::mem::take(allocs));
    let result = v.validate(body);
    *allocs = v.into_allocations();
    result
}

std::thread_local! {
    /// The allocations of the last function validator of a lazily validated body on this
    /// thread, for the next one.
    static VALIDATOR_ALLOCATIONS: core::cell::Cell<Option<wasmparser::FuncValidatorAllocations>> =
        const { core::cell::Cell::new(None) };
}

/// The thread's function validator allocations (new ones the first time).
fn take_validator_allocations() -> wasmparser::FuncValidatorAllocations {
    VALIDATOR_ALLOCATIONS.with(|a| a.take()).unwrap_or_default()
}

/// Keeps `allocs` for the thread's next function validator.
fn keep_validator_allocations(allocs: wasmparser::FuncValidatorAllocations) {
    VALIDATOR_ALLOCATIONS.with(|a| a.set(Some(allocs)));
}

/// Code sections smaller than this are validated on the calling thread: starting threads
/// would cost more than they save.
const PARALLEL_VALIDATION_BYTES: usize = 256 << 10;

/// Runs `work` over the indices `0..count` on `threads` scoped threads (all have finished
/// when this returns), a batch of `batch` indices at a time, taken in order through one
/// shared cursor. Each thread keeps the state `state` made for it; it stops early when
/// `work` returns false. Returns every thread's final state, or `None` if one panicked.
fn in_batches<S: Send>(
    threads: usize,
    count: usize,
    batch: usize,
    state: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, core::ops::Range<usize>) -> bool + Sync,
) -> Option<Vec<S>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads.max(1))
            .map(|_| {
                scope.spawn(|| {
                    let mut s = state();
                    loop {
                        let start = next.fetch_add(batch, Ordering::Relaxed);
                        if start >= count || !work(&mut s, start..count.min(start + batch)) {
                            return s;
                        }
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().ok()).collect()
    })
}

/// What one thread of [`Module::precompile`] did.
#[derive(Default)]
struct Compiling {
    machine_bytes: usize,
    refused: usize,
    cpu: std::time::Duration,
    error: Option<anyhow::Error>,
}

/// The CPU time of the calling thread since [`ThreadCpu::start`].
struct ThreadCpu(std::time::Duration);

impl ThreadCpu {
    fn start() -> ThreadCpu {
        ThreadCpu(thread_cpu_time())
    }

    fn elapsed(&self) -> std::time::Duration {
        thread_cpu_time().saturating_sub(self.0)
    }
}

/// The CPU time the calling thread has used.
fn thread_cpu_time() -> std::time::Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    std::time::Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// At most this many threads validate function bodies.
const MAX_VALIDATION_THREADS: usize = 8;

/// Validates function bodies. With a large code section the bodies are shared out to
/// worker threads (scoped: all have finished when this returns), each reusing its
/// validator allocations; the error reported is that of the first invalid body in module
/// order, as a sequential validation would report it.
fn validate_bodies(bodies: Vec<Body<'_>>) -> Result<()> {
    let code_bytes: usize = bodies
        .iter()
        .map(|(_, b)| {
            let r = b.range();
            (r.end - r.start) as usize
        })
        .sum();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_VALIDATION_THREADS);
    if threads < 2 || code_bytes < PARALLEL_VALIDATION_BYTES {
        let mut allocs = wasmparser::FuncValidatorAllocations::default();
        for (func, body) in bodies {
            validate_body(func, &body, &mut allocs)?;
        }
        return Ok(());
    }
    // Bodies are taken in order, a batch at a time.
    const BATCH: usize = 16;
    let slots: Vec<Mutex<Option<_>>> = bodies.into_iter().map(|b| Mutex::new(Some(b))).collect();
    let first_error = Mutex::new(None::<(usize, wasmparser::BinaryReaderError)>);
    in_batches(
        threads,
        slots.len(),
        BATCH,
        wasmparser::FuncValidatorAllocations::default,
        |allocs, range| {
            for i in range {
                if first_error.lock().as_ref().is_some_and(|(e, _)| *e < i) {
                    return false;
                }
                let Some((func, body)) = slots[i].lock().take() else {
                    continue;
                };
                if let Err(e) = validate_body(func, &body, allocs) {
                    let mut first = first_error.lock();
                    if first.as_ref().is_none_or(|(f, _)| i < *f) {
                        *first = Some((i, e));
                    }
                }
            }
            true
        },
    )
    .ok_or_else(|| anyhow::anyhow!("a validation thread panicked"))?;
    match first_error.into_inner() {
        Some((_, e)) => Err(e.into()),
        None => Ok(()),
    }
}

impl ModuleInner {
    /// Compiles the defined function `func_index` with `tier` into new code; also returns
    /// the bytes of machine code made.
    fn compile(
        &self,
        func_index: u32,
        tier: Tier,
        bounds_checks: bool,
    ) -> Result<(FuncCodeBox, usize)> {
        self.compile_many(&[func_index], tier, bounds_checks)?
            .pop()
            .ok_or_else(|| anyhow::anyhow!("no code for function {func_index}"))
    }

    /// Compiles the defined functions `funcs` with `tier` into new code, loading the
    /// machine code of all of them together; returns each one's code and machine code
    /// bytes, in order.
    fn compile_many(
        &self,
        funcs: &[u32],
        tier: Tier,
        bounds_checks: bool,
    ) -> Result<Vec<(FuncCodeBox, usize)>> {
        let compiler = self
            .engine
            .compiler(tier)
            .ok_or_else(|| anyhow::anyhow!("the engine has no {} tier", tier.name()))?;
        let mut compiled = Vec::with_capacity(funcs.len());
        for &func_index in funcs {
            if func_index < self.env.num_imported_funcs
                || func_index as usize >= self.env.funcs.len()
            {
                anyhow::bail!("function {func_index} is not a defined function of the module");
            }
            let started = Instant::now();
            let code = self
                .compile_checked(
                    compiler,
                    func_index,
                    &self.compile_options(func_index, tier, bounds_checks),
                )?
                .map_err(|e| {
                    let message = format!(
                        "failed to compile function {} ({}): {e}",
                        self.func_display_name(func_index),
                        tier.name()
                    );
                    if e.is_beyond_limits() {
                        anyhow::Error::new(BeyondLimits(message))
                    } else {
                        anyhow::anyhow!(message)
                    }
                })?;
            let size = match &code {
                Compiled::Machine(m) => m.bytes.len(),
                Compiled::Owned(_) => 0,
            };
            tracing::trace!(
                target: "tierup::tiering",
                func_index,
                module = self.info.name.as_deref().unwrap_or("<unknown>"),
                tier = tier.name(),
                micros = started.elapsed().as_micros() as u64,
                code_bytes = size,
                "compiled"
            );
            compiled.push((func_index, code));
        }
        // All machine code goes into executable memory in one load.
        let module = self as *const ModuleInner as *const ();
        let machine: Vec<_> = compiled
            .iter()
            .filter_map(|(func_index, c)| match c {
                Compiled::Machine(m) => Some((
                    m,
                    CodeOwner::Func {
                        module,
                        func_index: *func_index,
                        tier,
                    },
                )),
                Compiled::Owned(_) => None,
            })
            .collect();
        let mut bases = if machine.is_empty() {
            Vec::new()
        } else {
            self.machine
                .load_many(&machine)
                .map_err(|e| anyhow::anyhow!("cannot load compiled code: {e}"))?
        }
        .into_iter();
        let mut out = Vec::with_capacity(compiled.len());
        for (func_index, code) in compiled {
            out.push(match code {
                Compiled::Owned(mut owned) => {
                    let register_entry = self.engine.array_code_register_entry();
                    let record = owned.record();
                    // SAFETY: the record is the tier's, valid by the `OwnedCode` contract,
                    // and not published yet: this is the one write the runtime makes.
                    unsafe { (*record).register_entry = register_entry };
                    let code = FuncCodeBox::Owned {
                        _code: owned,
                        record,
                    };
                    (code, 0)
                }
                Compiled::Machine(machine) => {
                    let base = bases
                        .next()
                        .ok_or_else(|| anyhow::anyhow!("compiled code was not loaded"))?;
                    // SAFETY: `load_many` copied all of `machine` to `base`.
                    let record =
                        unsafe { self.machine_record(func_index, &machine, base, tier, None)? };
                    (record, machine.bytes.len())
                }
            });
        }
        Ok(out)
    }

    /// The record of `machine`, code of `tier` for function `func_index` loaded at `base`.
    ///
    /// # Safety
    ///
    /// All of `machine`'s bytes were loaded at `base`.
    unsafe fn machine_record(
        &self,
        func_index: u32,
        machine: &MachineCode,
        base: *const u8,
        tier: Tier,
        osr: Option<u32>,
    ) -> Result<FuncCodeBox> {
        let Some(shim) = machine.array_shim else {
            anyhow::bail!(
                "the {} tier gave function {} no array shim",
                tier.name(),
                self.func_display_name(func_index)
            );
        };
        // SAFETY: the caller's contract: all the bytes were loaded at `base`.
        unsafe {
            self.engine.code_loaded(base, machine.bytes.len(), || {
                let module = self.module_name();
                let func = self.func_display_name(func_index);
                match osr {
                    None => format!("wasm[{module}]::{func} ({})", tier.name()),
                    Some(at) => format!("wasm[{module}]::{func} ({} OSR @{at:#x})", tier.name()),
                }
            })
        };
        // SAFETY: both offsets lie in the code loaded at `base` (the caller's contract).
        let record = unsafe {
            FuncCode {
                array_entry: crate::code::jit_entry,
                register_entry: base.add(machine.register_entry as usize).cast(),
                data: base.add(shim as usize).cast(),
                tier,
                variant: 0,
            }
        };
        Ok(FuncCodeBox::Machine(Box::new(record)))
    }

    /// The options `tier` compiles function `func_index` with for memories with
    /// (`bounds_checks` false) or without a guard region: the baseline tier counts hotness
    /// in the tiered mode; every tier counts calls where the engine does
    /// ([`crate::Config::count_calls`]), and checks the epoch where it interrupts
    /// ([`crate::Config::epoch_interruption`]). In a mode that does not tier up, optimized
    /// code of a function that runs in the baseline tier only ever stands in for code the
    /// baseline tier refused, compiled at its first call and kept: it is quick code
    /// ([`CompileOptions::quick`]).
    fn compile_options(&self, func_index: u32, tier: Tier, bounds_checks: bool) -> CompileOptions {
        let stand_in = tier == Tier::Optimizing
            && !self.engine.tiers_up()
            && self.engine.tier_for(self.salt, func_index) == Tier::Baseline;
        CompileOptions {
            bounds_checks,
            hotness_budget: match tier {
                Tier::Baseline => self.engine.baseline_budget(),
                _ => None,
            },
            count_calls: self.engine.counts_calls(),
            epoch_interruption: self.engine.interrupts(),
            quick: stand_in,
        }
    }

    /// Compiles the OSR entry of defined function `func_index` at the point before its
    /// instruction at module offset `at` with `tier` (`tierup_abi::osr`), for memories with
    /// (`bounds_checks` false) or without a guard region, and loads it; also returns its
    /// bytes of machine code. The entry lives as long as the module.
    pub(crate) fn compile_osr(
        &self,
        func_index: u32,
        at: u32,
        tier: Tier,
        bounds_checks: bool,
    ) -> Result<(FuncCodeBox, usize)> {
        let compiler = self
            .engine
            .compiler(tier)
            .ok_or_else(|| anyhow::anyhow!("the engine has no {} tier", tier.name()))?;
        self.validate_deferred(func_index)?;
        let machine = compiler
            .compile_osr(
                &self.env,
                func_index,
                at,
                &self.compile_options(func_index, tier, bounds_checks),
            )
            .map_err(|e| {
                anyhow::anyhow!(
                    "failed to compile the OSR entry of function {} at offset {at}: {e}",
                    self.func_display_name(func_index)
                )
            })?;
        let owner = CodeOwner::Func {
            module: self as *const ModuleInner as *const (),
            func_index,
            tier,
        };
        let base = self
            .machine
            .load(&machine, owner)
            .map_err(|e| anyhow::anyhow!("cannot load compiled code: {e}"))?;
        // SAFETY: `load` copied all of `machine` to `base`.
        let record = unsafe { self.machine_record(func_index, &machine, base, tier, Some(at))? };
        Ok((record, machine.bytes.len()))
    }

    /// Where the code of defined function `func_index` by `tier` for memories with
    /// (`bounds_checks` false) or without a guard region is kept; `None` for an imported or
    /// unknown function or a tier with no code of its own.
    fn place(
        &self,
        func_index: u32,
        tier: Tier,
        bounds_checks: bool,
    ) -> Option<&OnceLock<FuncCodeBox>> {
        let defined = func_index.checked_sub(self.env.num_imported_funcs)?;
        Some(&self.code.get(defined as usize)?[key(tier, bounds_checks)?])
    }

    /// The code of defined function `func_index` by `tier` for memories with
    /// (`bounds_checks` false) or without a guard region, compiled on first use and kept.
    pub(crate) fn code(
        &self,
        func_index: u32,
        tier: Tier,
        bounds_checks: bool,
    ) -> Result<*const FuncCode> {
        Ok(self.code_made(func_index, tier, bounds_checks)?.0)
    }

    /// [`ModuleInner::code`], and the bytes of machine code this call made (0 when the code
    /// existed).
    fn code_made(
        &self,
        func_index: u32,
        tier: Tier,
        bounds_checks: bool,
    ) -> Result<(*const FuncCode, usize)> {
        let place = self
            .place(func_index, tier, bounds_checks)
            .ok_or_else(|| anyhow::anyhow!("function {func_index} has no {} code", tier.name()))?;
        if let Some(c) = place.get() {
            return Ok((c.record(), 0));
        }
        let (code, size) = self.compile(func_index, tier, bounds_checks)?;
        // Another thread may have won the race; then its code is used and ours is dropped
        // without ever having been published (machine code of ours stays in the code
        // memory, unused, until the module is dropped).
        let _ = place.set(code);
        place
            .get()
            .map(|c| (c.record(), size))
            .ok_or_else(|| anyhow::anyhow!("compiled code vanished"))
    }

    /// Compiles those of `funcs` (defined functions) that have no `tier` code for this kind
    /// of memory yet, loading their machine code together, and keeps it; returns the bytes
    /// of machine code made.
    /// Compiles those of `funcs` that have no `tier` code yet (for memories with or without
    /// guard regions); returns the bytes of machine code made and how many functions the
    /// baseline tier refused (they keep running in the interpreter; any other tier's
    /// failure is an error).
    fn compile_batch(
        &self,
        funcs: &[u32],
        tier: Tier,
        bounds_checks: bool,
    ) -> Result<(usize, usize)> {
        if key(tier, bounds_checks).is_none() {
            anyhow::bail!("the engine has no {} tier", tier.name());
        }
        let place = |f: u32| self.place(f, tier, bounds_checks);
        let missing: Vec<u32> = funcs
            .iter()
            .copied()
            .filter(|&f| place(f).is_some_and(|p| p.get().is_none()))
            .collect();
        let compiled: Vec<_> = match self.compile_many(&missing, tier, bounds_checks) {
            Ok(all) => all.into_iter().map(Some).collect(),
            // One at a time, to keep what the baseline tier does compile; an invalid body
            // is an error.
            Err(e) if tier == Tier::Baseline && e.downcast_ref::<InvalidBody>().is_none() => {
                let mut each = Vec::with_capacity(missing.len());
                for &f in &missing {
                    each.push(match self.compile_many(&[f], tier, bounds_checks) {
                        Ok(mut one) => one.pop(),
                        Err(e) if e.downcast_ref::<InvalidBody>().is_some() => return Err(e),
                        Err(_) => None,
                    });
                }
                each
            }
            Err(e) => return Err(e),
        };
        let (mut bytes, mut refused) = (0, 0);
        for (f, code) in missing.iter().zip(compiled) {
            match code {
                Some((code, size)) => {
                    if let Some(p) = place(*f)
                        && p.set(code).is_ok()
                    {
                        bytes += size;
                    }
                }
                None => refused += 1,
            }
        }
        Ok((bytes, refused))
    }

    /// The code of function `func_index` in the tier it runs in, compiled on first use,
    /// and published into the slot of every live instance (of the same memory kind) that
    /// still holds the function's lazy record.
    pub(crate) fn compile_lazy(
        &self,
        func_index: u32,
        bounds_checks: bool,
    ) -> Result<*const FuncCode> {
        let first = self.engine.tier_for(self.salt, func_index);
        // After the first tier, the other compiling tier, once, where the engine has it;
        // then the interpreter.
        let instead = |other: Tier| {
            if other != first && self.engine.compiler(other).is_some() {
                other
            } else {
                Tier::Interp
            }
        };
        let mut tier = first;
        let code = loop {
            let below = match self.code(func_index, tier, bounds_checks) {
                Ok(code) => break code,
                // What the baseline tier does not compile yet (SIMD) skips it, as in the
                // tiered mode's chain: into optimized code.
                Err(e) if tier == Tier::Baseline => (e, instead(Tier::Optimizing)),
                // A function beyond the optimizing tier's limits, in the tier below.
                Err(e)
                    if tier == Tier::Optimizing && e.downcast_ref::<BeyondLimits>().is_some() =>
                {
                    (e, instead(Tier::Baseline))
                }
                Err(e) => return Err(e),
            };
            tracing::debug!(
                target: "tierup::tiering",
                func_index,
                func = self.func_display_name(func_index),
                tier = tier.name(),
                "compile failed, running in the {} tier: {:#}",
                below.1.name(),
                below.0
            );
            tier = below.1;
        };
        let lazy = self.lazy_code(func_index);
        self.publish_live(func_index, code, bounds_checks, |slot| {
            // SAFETY: both records belong to this module and live as long as it.
            unsafe { slot.publish_if(lazy, code) }
        });
        Ok(code)
    }

    /// The record a new slot of defined function `func_index` starts with: the best code
    /// compiled so far (in the modes that tier up), else the code of the tier it runs in if
    /// that was compiled already (or the optimizing tier's, made for a function the
    /// baseline tier refused), else its lazy record.
    pub(crate) fn initial_code(&self, func_index: u32, bounds_checks: bool) -> *const FuncCode {
        let compiled = |tier: Tier| self.place(func_index, tier, bounds_checks)?.get();
        let background = if self.engine.tiers_up() {
            compiled(Tier::Optimizing).or_else(|| compiled(Tier::Baseline))
        } else {
            None
        };
        let tier = self.engine.tier_for(self.salt, func_index);
        // In the baseline mode, a function the baseline tier refused has optimized code.
        let refused = || (tier == Tier::Baseline).then(|| compiled(Tier::Optimizing))?;
        match background.or_else(|| compiled(tier)).or_else(refused) {
            Some(c) => c.record(),
            None => self.lazy_code(func_index),
        }
    }

    /// Compiles defined function `func_index` with `tier` (once per module) and publishes the
    /// code into its slot in every live instance of this kind of memory that holds code of
    /// the function's own of a lower tier: what a worker does with a job. Returns the bytes
    /// of machine code made (0 when the code existed).
    pub(crate) fn compile_and_publish(
        &self,
        func_index: u32,
        tier: Tier,
        bounds_checks: bool,
    ) -> Result<usize> {
        let (code, made) = self.code_made(func_index, tier, bounds_checks)?;
        let lazy = self.lazy_code(func_index);
        let own = self
            .code
            .get((func_index - self.env.num_imported_funcs) as usize);
        self.publish_live(func_index, code, bounds_checks, |slot| {
            // Only over the function's own code (its lazy record or code a tier made for
            // it): code someone else published there (`SlotHandle::publish`) stays. The
            // compare-and-swap keeps a publication made since the load.
            let current = slot.load_code();
            let ours = current == lazy
                || own.is_some_and(|o| {
                    o.iter()
                        .any(|c| c.get().is_some_and(|c| c.record() == current))
                });
            // SAFETY: the slot's records are this module's (or the embedder's, alive as
            // long as the store by `SlotHandle::publish`'s contract), and `code` is one of
            // the module's.
            unsafe { ours && (*current).tier < tier && slot.publish_if(current, code) }
        });
        Ok(made)
    }

    /// Offers `code` of defined function `func_index` to its slot in every live instance of
    /// this kind of memory: `publish` publishes it there or not, and says whether it did.
    fn publish_live(
        &self,
        func_index: u32,
        code: *const FuncCode,
        bounds_checks: bool,
        mut publish: impl FnMut(&FuncEntry) -> bool,
    ) {
        let defined = (func_index - self.env.num_imported_funcs) as usize;
        for live in self.instances.lock().iter() {
            if live.bounds_checks != bounds_checks || defined >= live.len {
                continue;
            }
            // SAFETY: the instance is alive while registered (it unregisters under this
            // lock before its slots are freed), and `defined` is within its slots.
            let slot = unsafe { &*live.entries.add(defined) };
            if publish(slot) {
                tracing::debug!(
                    target: "tierup::tiering",
                    func_index,
                    func = %self.func_display_name(func_index),
                    module = self.info.name.as_deref().unwrap_or("<unknown>"),
                    // SAFETY: a record of this module, alive as long as it.
                    tier = unsafe { (*code).tier }.name(),
                    "published"
                );
            }
        }
    }

    /// The lazy record of function `func_index`'s type.
    pub(crate) fn lazy_code(&self, func_index: u32) -> *const FuncCode {
        let ty = self
            .env
            .funcs
            .get(func_index as usize)
            .copied()
            .unwrap_or(0) as usize;
        match self.lazy_codes.get(ty) {
            Some(c) => &**c,
            None => core::ptr::null(),
        }
    }

    /// Registers a live instance's slots (`len` of them, from `entries`) for publishing.
    pub(crate) fn register_instance(
        &self,
        entries: *const FuncEntry,
        len: usize,
        bounds_checks: bool,
    ) {
        self.instances.lock().push(LiveSlots {
            entries,
            len,
            bounds_checks,
        });
    }

    /// Unregisters the slots starting at `entries`; nothing is published into them after.
    pub(crate) fn unregister_instance(&self, entries: *const FuncEntry) {
        self.instances.lock().retain(|l| l.entries != entries);
    }

    /// Compiles defined function `func_index` with `compiler` once its body is known to be
    /// valid: with lazy validation and the body not validated yet, the compiler validates
    /// it as it compiles ([`Compiler::compile_validating`]), holding the validation
    /// state's lock (as [`ModuleInner::validate_deferred`] does). The outer error says the
    /// body is invalid; the inner one, that the compiler failed on a valid body.
    fn compile_checked(
        &self,
        compiler: &dyn Compiler,
        func_index: u32,
        options: &CompileOptions,
    ) -> Result<Result<Compiled, CompileError>> {
        let defined = (func_index - self.env.num_imported_funcs) as usize;
        if let Some(state) = self.deferred.get(defined) {
            let mut state = state.lock();
            if let Deferred::Pending(func) = &*state {
                let again = || wasmparser::FuncToValidate {
                    resources: func.resources.clone(),
                    index: func.index,
                    ty: func.ty,
                    features: func.features,
                };
                let mut validator = again().into_validator(take_validator_allocations());
                let compiled =
                    compiler.compile_validating(&self.env, func_index, options, &mut validator);
                keep_validator_allocations(validator.into_allocations());
                let failed = match compiled {
                    Ok(code) => {
                        *state = Deferred::Valid;
                        return Ok(Ok(code));
                    }
                    Err(ValidatingError::Invalid(e)) => {
                        let message = e.to_string();
                        *state = Deferred::Invalid(message.clone());
                        return Err(self.invalid(func_index, &message));
                    }
                    Err(ValidatingError::Compile(e)) => e,
                };
                // The compiler may have stopped before the end: the whole body is
                // validated now, so that an invalid body is reported as invalid.
                *state = Deferred::Pending(again());
                drop(state);
                self.validate_deferred(func_index)?;
                return Ok(Err(failed));
            }
        }
        self.validate_deferred(func_index)?;
        Ok(compiler.compile(&self.env, func_index, options))
    }

    /// With lazy validation: validates the body of defined function `func_index` unless
    /// that was done before (its verdict is kept). Holding the state's lock while
    /// validating keeps every other thread from translating the body until it is known
    /// to be valid.
    fn validate_deferred(&self, func_index: u32) -> Result<()> {
        let defined = (func_index - self.env.num_imported_funcs) as usize;
        let Some(state) = self.deferred.get(defined) else {
            return Ok(());
        };
        let mut state = state.lock();
        let verdict = match core::mem::replace(&mut *state, Deferred::Valid) {
            Deferred::Valid => return Ok(()),
            Deferred::Invalid(message) => Err(message),
            Deferred::Pending(func) => match self.env.body_reader(func_index) {
                Some(body) => {
                    let mut allocs = take_validator_allocations();
                    let verdict = validate_body(func, &body, &mut allocs);
                    keep_validator_allocations(allocs);
                    verdict.map_err(|e| e.to_string())
                }
                None => Err(format!("function {func_index} has no body")),
            },
        };
        match verdict {
            Ok(()) => Ok(()),
            Err(message) => {
                *state = Deferred::Invalid(message.clone());
                Err(self.invalid(func_index, &message))
            }
        }
    }

    /// The error of defined function `func_index`, whose body is invalid for `message`.
    fn invalid(&self, func_index: u32, message: &str) -> anyhow::Error {
        anyhow::Error::new(InvalidBody(format!(
            "function {} is invalid: {message}",
            self.func_display_name(func_index)
        )))
    }

    /// `name` from the name section, or `func[i]`.
    pub(crate) fn func_display_name(&self, func_index: u32) -> String {
        match self.info.func_names.get(&func_index) {
            Some(n) => n.clone(),
            None => format!("func[{func_index}]"),
        }
    }
}

/// A compile error of a function beyond its tier's limits
/// (`tierup_abi::CompileError::beyond_limits`), which runs in the tier below.
#[derive(Debug)]
struct BeyondLimits(String);

impl core::fmt::Display for BeyondLimits {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BeyondLimits {}

/// The error of a function whose body, validated lazily, is invalid.
#[derive(Debug)]
struct InvalidBody(String);

impl core::fmt::Display for InvalidBody {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidBody {}
