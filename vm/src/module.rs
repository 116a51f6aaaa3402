//! [`Module`]: a validated WebAssembly module, decoded once and shared (by `Arc`) by every
//! instance. It owns the interpreter translations of its functions (made lazily, cached per
//! function) and the shared `Lazy` code record every fresh entry slot starts with.

mod parse;

use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use tierup_abi::{FuncCode, ModuleEnv, Tier};
use tierup_interp::InterpFunc;

pub(crate) use parse::{ConstExpr, ElemMode, ExportKind, ModuleInfo};

use crate::Result;
use crate::engine::Engine;
use crate::types::{ExportType, ImportType};

/// One interpreter translation of a function, boxed so that its code record (which lies
/// inside it) has a stable address.
pub(crate) struct Translation {
    func: Box<InterpFunc>,
}

impl Translation {
    fn new(func: InterpFunc) -> Translation {
        Translation {
            func: Box::new(func),
        }
    }

    /// The code record.
    pub(crate) fn code(&self) -> *const FuncCode {
        self.func.code()
    }
}

pub(crate) struct ModuleInner {
    pub(crate) engine: Engine,
    pub(crate) info: ModuleInfo,
    pub(crate) env: ModuleEnv,
    /// Canonical signature id of every type index.
    pub(crate) type_ids: Box<[u32]>,
    /// The record every defined function's slot starts with.
    pub(crate) lazy_code: Box<FuncCode>,
    /// Cached translations, by defined function index.
    translations: Box<[OnceLock<Translation>]>,
    /// With `Config::lazy_validation`: the validation state of each defined function's
    /// body, checked before its first translation. Empty when everything was validated
    /// up front.
    deferred: Box<[Mutex<Deferred>]>,
    /// Translations made by [`Module::translate_fresh`], alive as long as the module.
    fresh: Mutex<Vec<Translation>>,
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
        let type_ids = info.types.iter().map(|t| engine.signature_id(t)).collect();
        let defined = env.bodies.len();
        let lazy_code = Box::new(FuncCode {
            array_entry: crate::libcalls::lazy_entry,
            data: core::ptr::null(),
            tier: Tier::Lazy,
        });
        Ok(Module {
            inner: Arc::new(ModuleInner {
                engine: engine.clone(),
                info,
                env,
                type_ids,
                lazy_code,
                translations: (0..defined).map(|_| OnceLock::new()).collect(),
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

    /// A new interpreter translation of the defined function `func_index`, owned by the
    /// module and distinct from the cached one (used by tier-swap tests).
    pub fn translate_fresh(&self, func_index: u32) -> Result<crate::tiering::CodeHandle> {
        let func = self.inner.translate_new(func_index)?;
        let t = Translation::new(func);
        let code = t.code();
        self.inner.fresh.lock().push(t);
        Ok(crate::tiering::CodeHandle::from_raw(code))
    }
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

/// Code sections smaller than this are validated on the calling thread: starting threads
/// would cost more than they save.
const PARALLEL_VALIDATION_BYTES: usize = 256 << 10;

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
    // Bodies are taken in order, a batch at a time, through one shared cursor.
    const BATCH: usize = 16;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<_>>> = bodies.into_iter().map(|b| Mutex::new(Some(b))).collect();
    let first_error = Mutex::new(None::<(usize, wasmparser::BinaryReaderError)>);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut allocs = wasmparser::FuncValidatorAllocations::default();
                loop {
                    let start = next.fetch_add(BATCH, std::sync::atomic::Ordering::Relaxed);
                    if start >= slots.len() {
                        break;
                    }
                    for (i, slot) in slots.iter().enumerate().skip(start).take(BATCH) {
                        if first_error.lock().as_ref().is_some_and(|(e, _)| *e < i) {
                            return;
                        }
                        let Some((func, body)) = slot.lock().take() else {
                            continue;
                        };
                        if let Err(e) = validate_body(func, &body, &mut allocs) {
                            let mut first = first_error.lock();
                            if first.as_ref().is_none_or(|(f, _)| i < *f) {
                                *first = Some((i, e));
                            }
                        }
                    }
                }
            });
        }
    });
    match first_error.into_inner() {
        Some((_, e)) => Err(e.into()),
        None => Ok(()),
    }
}

impl ModuleInner {
    fn translate_new(&self, func_index: u32) -> Result<InterpFunc> {
        if func_index < self.env.num_imported_funcs || func_index as usize >= self.env.funcs.len() {
            anyhow::bail!("function {func_index} is not a defined function of the module");
        }
        self.validate_deferred(func_index)?;
        tierup_interp::translate(&self.env, func_index).map_err(|e| {
            anyhow::anyhow!(
                "failed to translate function {}: {e}",
                self.func_display_name(func_index)
            )
        })
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
                    validate_body(func, &body, &mut Default::default()).map_err(|e| e.to_string())
                }
                None => Err(format!("function {func_index} has no body")),
            },
        };
        match verdict {
            Ok(()) => Ok(()),
            Err(message) => {
                *state = Deferred::Invalid(message.clone());
                anyhow::bail!(
                    "function {} is invalid: {message}",
                    self.func_display_name(func_index)
                )
            }
        }
    }

    /// The cached translation of defined function `func_index`, made on first use.
    pub(crate) fn translation(&self, func_index: u32) -> Result<*const FuncCode> {
        let defined = func_index
            .checked_sub(self.env.num_imported_funcs)
            .and_then(|d| self.translations.get(d as usize))
            .ok_or_else(|| anyhow::anyhow!("function {func_index} is not defined"))?;
        if let Some(t) = defined.get() {
            return Ok(t.code());
        }
        let func = self.translate_new(func_index)?;
        // Another thread may have won the race; then its translation is used and ours is
        // dropped without ever having been published.
        let _ = defined.set(Translation::new(func));
        defined
            .get()
            .map(Translation::code)
            .ok_or_else(|| anyhow::anyhow!("translation vanished"))
    }

    /// `name` from the name section, or `func[i]`.
    pub(crate) fn func_display_name(&self, func_index: u32) -> String {
        match self.info.func_names.get(&func_index) {
            Some(n) => n.clone(),
            None => format!("func[{func_index}]"),
        }
    }
}
