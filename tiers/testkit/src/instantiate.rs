//! Building an [`Instance`]: the module decoded in one pass (the shared `ModuleEnvBuilder`
//! of `tierup-abi`, plus the initialisers, exports and segments only an instance needs),
//! then its context, entry slots, globals, memory, tables and segments, the eager
//! compilation of every function (unless translation is lazy) and the start function.

use std::sync::Arc;

use tierup_abi::bulk;
use tierup_abi::trap::{self, TrapRecord};
use tierup_abi::{
    ArrayEntry, ConstExpr, DataSegment, DecodeError, ElemMode, ElemSegment, Entry, FuncCode,
    FuncEntry, ModuleEnv, ModuleEnvBuilder, STATUS_OK, TableDef, Tier, TrapCode, ValRaw, VmContext,
};
use wasmparser::{Payload, TableInit, TypeRef};

use crate::instance::{Export, Instance};
use crate::libcalls::{LIBCALLS, lazy_entry};
use crate::runtime::{LinearMemory, Runtime, Table};
use crate::shared::Shared;
use tierup_abi::{Compiler, RuntimeLimits};

/// How the kit builds an instance. `Options::default()` compiles every function up front,
/// provides no host function and allows 1,000 nested wasm calls.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub(crate) host: Option<ArrayEntry>,
    pub(crate) lazy: bool,
    pub(crate) max_call_depth: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            host: None,
            lazy: false,
            max_call_depth: 1000,
        }
    }
}

impl Options {
    /// The default options.
    pub fn new() -> Options {
        Options::default()
    }

    /// Implements every imported function with `host`. The kit gives each import its own
    /// slot, whose `func_index` is the import's function index, so one host entry can
    /// serve several imports by looking at its `callee`.
    pub fn host(mut self, host: ArrayEntry) -> Options {
        self.host = Some(host);
        self
    }

    /// Compiles each function on its first call instead of at instantiation: every slot
    /// starts with a `Tier::Lazy` record, whose entry (and the `translate` libcall, which
    /// the calling tier uses when it sees that record) compiles through the instance's
    /// compiler and publishes the code into the slot.
    pub fn lazy(mut self, lazy: bool) -> Options {
        self.lazy = lazy;
        self
    }

    /// The number of wasm frames a thread may have live at once (`VmContext::max_call_depth`).
    pub fn max_call_depth(mut self, depth: usize) -> Options {
        self.max_call_depth = depth;
        self
    }
}

/// Why the kit could not build an instance.
#[derive(Debug)]
pub enum Error {
    /// The text did not parse, the module did not validate or decode, it needs an import
    /// the kit cannot provide, or it exceeds one of the kit's limits.
    Module(String),
    /// The compiler under test failed on a function.
    Compile {
        /// The function's index.
        func_index: u32,
        /// The compiler's message.
        message: String,
    },
    /// Instantiation trapped: an active segment out of bounds, or the start function.
    Trap(TrapRecord),
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Module(m) => f.write_str(m),
            Error::Compile {
                func_index,
                message,
            } => write!(f, "function {func_index} failed to compile: {message}"),
            Error::Trap(t) => match t.code {
                Some(code) => write!(f, "instantiation trapped: {code}"),
                None => f.write_str("instantiation trapped"),
            },
        }
    }
}

impl std::error::Error for Error {}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Error {
        Error::Module(e.to_string())
    }
}

/// Everything the kit needs of a module.
struct Decoded {
    env: ModuleEnv,
    num_imported_globals: usize,
    num_imported_tables: usize,
    global_inits: Vec<ConstExpr>,
    table_inits: Vec<Option<ConstExpr>>,
    exports: Vec<Export>,
    elems: Vec<ElemSegment>,
    datas: Vec<DataSegment>,
    start: Option<u32>,
}

/// Decodes a valid module in one pass over its payloads.
fn decode(wasm: Arc<[u8]>) -> Result<Decoded, DecodeError> {
    let features = wasmparser::WasmFeatures::WASM2;
    let mut builder = ModuleEnvBuilder::new(wasm.clone(), features);
    let (mut globals, mut tables) = (0, 0);
    let mut global_inits = Vec::new();
    let mut table_inits = Vec::new();
    let mut exports = Vec::new();
    let mut elems = Vec::new();
    let mut datas = Vec::new();
    let mut start = None;
    let mut parser = wasmparser::Parser::new(0);
    parser.set_features(features);
    for payload in parser.parse_all(&wasm) {
        let payload = payload?;
        builder.payload_with(&payload, |entry| {
            match entry {
                Entry::Import(i) if matches!(i.ty, TypeRef::Global(_)) => globals += 1,
                Entry::Import(i) if matches!(i.ty, TypeRef::Table(_)) => tables += 1,
                Entry::Global(g) => global_inits.push(ConstExpr::decode(&g.init_expr)?),
                Entry::Table(t) => table_inits.push(match &t.init {
                    TableInit::RefNull => None,
                    TableInit::Expr(e) => Some(ConstExpr::decode(e)?),
                }),
                _ => {}
            }
            Ok::<(), DecodeError>(())
        })?;
        match payload {
            Payload::ExportSection(reader) => {
                for e in reader {
                    let e = e?;
                    exports.push(Export {
                        name: e.name.to_string(),
                        kind: e.kind,
                        index: e.index,
                    });
                }
            }
            Payload::StartSection { func, .. } => start = Some(func),
            Payload::ElementSection(reader) => {
                for elem in reader {
                    elems.push(ElemSegment::decode(elem?)?);
                }
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    datas.push(DataSegment::decode(data?)?);
                }
            }
            _ => {}
        }
    }
    Ok(Decoded {
        env: builder.finish()?,
        num_imported_globals: globals,
        num_imported_tables: tables,
        global_inits,
        table_inits,
        exports,
        elems,
        datas,
        start,
    })
}

/// The value of a constant expression in an instance whose slots are `entries` and whose
/// globals so far are `globals`.
fn eval(
    expr: ConstExpr,
    entries: &Shared<[FuncEntry]>,
    globals: &[ValRaw],
) -> Result<ValRaw, Error> {
    Ok(match expr {
        ConstExpr::I32(v) => ValRaw::i32(v),
        ConstExpr::I64(v) => ValRaw::i64(v),
        ConstExpr::F32(v) => ValRaw::f32_bits(v),
        ConstExpr::F64(v) => ValRaw::f64_bits(v),
        ConstExpr::V128(v) => ValRaw::v128(v),
        ConstExpr::RefNull => ValRaw::ZERO,
        ConstExpr::RefFunc(f) => match entries.elem(f as usize) {
            Some(entry) => ValRaw::funcref(entry),
            None => return Err(Error::Module(format!("ref.func of unknown function {f}"))),
        },
        ConstExpr::GlobalGet(g) => match globals.get(g as usize) {
            Some(v) => *v,
            None => return Err(Error::Module(format!("global.get of unknown global {g}"))),
        },
    })
}

/// A trap of instantiation, with `code`.
fn trapped(code: TrapCode) -> Error {
    Error::Trap(TrapRecord {
        code: Some(code),
        ..TrapRecord::default()
    })
}

/// The canonical signature id of every type index: the first index of an equal type, so
/// that `call_indirect` compares types structurally, as WebAssembly 2.0 does.
fn canonical_type_ids(env: &ModuleEnv) -> Vec<u32> {
    (0..env.types.len())
        .map(|i| {
            let first = env.types.iter().position(|t| *t == env.types[i]);
            first.unwrap_or(i) as u32
        })
        .collect()
}

impl Instance {
    /// Builds an instance of `bytes` (wat text or a binary module) whose functions are
    /// compiled by `compiler`.
    pub fn instantiate(
        compiler: impl Compiler + 'static,
        bytes: &[u8],
        options: &Options,
    ) -> Result<Instance, Error> {
        let wasm: Arc<[u8]> = wat::parse_bytes(bytes)
            .map_err(|e| Error::Module(e.to_string()))?
            .into_owned()
            .into();
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::WASM2)
            .validate_all(&wasm)
            .map_err(|e| Error::Module(e.to_string()))?;
        let decoded = decode(wasm)?;
        build(Box::new(compiler), decoded, options)
    }
}

/// Builds the instance of a decoded module.
fn build(
    compiler: Box<dyn Compiler>,
    decoded: Decoded,
    options: &Options,
) -> Result<Instance, Error> {
    let env = Arc::new(decoded.env);
    let num_imported = env.num_imported_funcs;
    let vmctx = Shared::new(Box::new(VmContext {
        memory_base: core::ptr::null_mut(),
        memory: core::ptr::null(),
        func_refs: core::ptr::null(),
        defined_funcs: core::ptr::null(),
        globals: core::ptr::null(),
        limits: core::ptr::null(),
        tables: core::ptr::null(),
        type_ids: core::ptr::null(),
        libcalls: &LIBCALLS,
        instance: core::ptr::null_mut(),
        store: core::ptr::null_mut(),
        interrupt: core::sync::atomic::AtomicUsize::new(0),
    }));
    let lazy = Shared::new(Box::new(FuncCode {
        array_entry: lazy_entry,
        register_entry: core::ptr::null(),
        data: core::ptr::null(),
        tier: Tier::Lazy,
        variant: 0,
    }));
    let host = options.host.map(|h| {
        Shared::new(Box::new(FuncCode {
            array_entry: h,
            register_entry: core::ptr::null(),
            data: core::ptr::null(),
            tier: Tier::Host,
            variant: 0,
        }))
    });
    let host_code = match &host {
        Some(h) => h.ptr().cast_const(),
        None if num_imported > 0 => {
            return Err(Error::Module(
                "the module imports functions: pass a host entry (Options::host)".into(),
            ));
        }
        None => core::ptr::null(),
    };
    let type_ids: Shared<[u32]> = Shared::new(canonical_type_ids(&env).into_boxed_slice());
    // No stack limit: the kit runs no machine code, and the interpreter bounds its own
    // frames by the call depth.
    let limits = Shared::new(Box::new(RuntimeLimits::new(options.max_call_depth)));
    let entries: Vec<FuncEntry> = (0..env.funcs.len() as u32)
        .map(|i| {
            let type_id = env.funcs[i as usize];
            // SAFETY: `type_id` indexes `types` (the shared decoder checks every function's
            // type index), and `type_ids` has one id per type.
            let canonical = unsafe { *type_ids.ptr().cast::<u32>().add(type_id as usize) };
            // SAFETY: with imports there is a host record (checked above); the lazy record
            // lives as long as the instance.
            unsafe {
                if i < num_imported {
                    FuncEntry::new(
                        host_code,
                        core::ptr::null_mut(),
                        limits.ptr(),
                        canonical,
                        i,
                        0,
                    )
                } else {
                    FuncEntry::new(lazy.ptr(), vmctx.ptr(), limits.ptr(), canonical, i, 0)
                }
            }
        })
        .collect();
    let entries = Shared::new(entries.into_boxed_slice());
    let func_refs: Vec<*const FuncEntry> = (0..env.funcs.len())
        .filter_map(|i| entries.elem(i).map(<*mut FuncEntry>::cast_const))
        .collect();
    let func_refs = Shared::new(func_refs.into_boxed_slice());

    let mut globals = vec![ValRaw::ZERO; decoded.num_imported_globals];
    for init in &decoded.global_inits {
        let v = eval(*init, &entries, &globals)?;
        globals.push(v);
    }
    let initial_globals = globals.clone();
    let globals = Shared::new(globals.into_boxed_slice());
    let global_ptrs: Vec<*mut ValRaw> = (0..initial_globals.len())
        .filter_map(|i| globals.elem(i))
        .collect();
    let global_ptrs = Shared::new(global_ptrs.into_boxed_slice());

    let memory = match env.memories.as_slice() {
        [] => None,
        [ty] => Some(LinearMemory::new(ty).map_err(Error::Module)?),
        _ => return Err(Error::Module("the kit supports one memory".into())),
    };
    let mut tables = Vec::new();
    for (i, ty) in env.tables.iter().enumerate() {
        let init = match i.checked_sub(decoded.num_imported_tables) {
            Some(defined) => match decoded.table_inits.get(defined).copied().flatten() {
                Some(e) => eval(e, &entries, &initial_globals)?.get_u64() as usize,
                None => 0,
            },
            None => 0,
        };
        tables.push(Table::new(ty, init).map_err(Error::Module)?);
    }
    let table_ptrs: Vec<*mut TableDef> = tables.iter().map(Table::def).collect();
    let table_ptrs = Shared::new(table_ptrs.into_boxed_slice());
    let mut elems = Vec::new();
    for seg in &decoded.elems {
        let mut items = Vec::with_capacity(seg.items.len());
        for item in &seg.items {
            items.push(eval(*item, &entries, &initial_globals)?.get_u64() as usize);
        }
        elems.push(items.into_boxed_slice());
    }
    let datas = decoded.datas.iter().map(|d| d.range.clone()).collect();

    let runtime = Shared::new(Box::new(Runtime {
        env: env.clone(),
        compiler,
        memory,
        tables,
        datas,
        elems,
        lazy,
        compiled: Vec::new(),
    }));
    // SAFETY: the context and runtime are alive and nothing else uses them yet.
    unsafe {
        let v = &mut *vmctx.ptr();
        if let Some(m) = &(*runtime.ptr()).memory {
            v.memory_base = m.base();
            v.memory = m.def();
        }
        v.func_refs = func_refs.ptr().cast::<*const FuncEntry>();
        // Imported functions come first among the slots.
        v.defined_funcs = entries.ptr().cast::<FuncEntry>().add(num_imported as usize);
        v.globals = global_ptrs.ptr().cast::<*mut ValRaw>();
        v.tables = table_ptrs.ptr().cast::<*mut TableDef>();
        v.type_ids = type_ids.ptr().cast::<u32>();
        v.limits = limits.ptr();
        v.instance = runtime.ptr().cast();
    }
    let mut inst = Instance {
        vmctx,
        entries,
        func_refs,
        globals,
        _global_ptrs: global_ptrs,
        _table_ptrs: table_ptrs,
        type_ids,
        _limits: limits,
        _host: host,
        runtime,
        env,
        exports: decoded.exports,
    };
    if !options.lazy {
        for i in num_imported..inst.env.funcs.len() as u32 {
            let code = inst
                .runtime_mut()
                .compile(i)
                .map_err(|message| Error::Compile {
                    func_index: i,
                    message,
                })?;
            // SAFETY: `code` belongs to a `Code` the runtime keeps until the instance
            // drops; the slot exists (one per function).
            unsafe { (*inst.entry_ptr(i)).publish(code) };
        }
    }
    initialize(&mut inst, &decoded.elems, &decoded.datas, &initial_globals)?;
    if let Some(start) = decoded.start {
        let mut cells = [ValRaw::ZERO; 1];
        // SAFETY: the start function has type [] -> []; its slot is live in `inst`.
        let status = unsafe {
            FuncEntry::call(
                inst.entry_ptr(start),
                core::ptr::null_mut(),
                cells.as_mut_ptr(),
            )
        };
        if status != STATUS_OK {
            return Err(Error::Trap(trap::take(status)));
        }
    }
    Ok(inst)
}

/// Applies the active element and data segments in order and drops them (and the
/// declarative element segments), as instantiation does; an active segment out of bounds
/// traps, keeping what earlier segments wrote.
fn initialize(
    inst: &mut Instance,
    elems: &[ElemSegment],
    datas: &[DataSegment],
    globals: &[ValRaw],
) -> Result<(), Error> {
    for (i, seg) in elems.iter().enumerate() {
        match seg.mode {
            ElemMode::Active { table, offset } => {
                let offset = eval(offset, &inst.entries, globals)?.get_i32() as u32;
                let rt = inst.runtime_mut();
                let items = core::mem::take(&mut rt.elems[i]);
                let Some(t) = rt.tables.get_mut(table as usize) else {
                    return Err(trapped(TrapCode::TableOutOfBounds));
                };
                let len = items.len();
                if !t.update(|e| bulk::copy_in(&items, e, offset as usize, 0, len)) {
                    return Err(trapped(TrapCode::TableOutOfBounds));
                }
            }
            ElemMode::Passive => {}
            ElemMode::Declared => inst.runtime_mut().elems[i] = Box::new([]),
        }
    }
    for (i, seg) in datas.iter().enumerate() {
        let Some((memory, offset)) = seg.active else {
            continue;
        };
        let offset = eval(offset, &inst.entries, globals)?.get_i32() as u32;
        let rt = inst.runtime_mut();
        let bytes = rt.env.wasm.get(seg.range.clone()).unwrap_or(&[]);
        let Some(mem) = rt.memory.as_mut().filter(|_| memory == 0) else {
            return Err(trapped(TrapCode::MemoryOutOfBounds));
        };
        if !bulk::copy_in(bytes, mem.bytes_mut(), offset as usize, 0, bytes.len()) {
            return Err(trapped(TrapCode::MemoryOutOfBounds));
        }
        rt.datas[i] = 0..0;
    }
    Ok(())
}
