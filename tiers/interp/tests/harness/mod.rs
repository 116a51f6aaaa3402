//! A minimal hand-built instance for running interpreted functions without the vm: a
//! `ModuleEnv` parsed from wat, one eagerly translated `InterpFunc` per function, a
//! `Vec`-backed memory, globals, one funcref table and stub libcalls.

#![allow(dead_code)]
// Boxed elements keep the addresses the context points at independent of the vectors.
#![allow(clippy::vec_box)]

use std::sync::Arc;

use tierup_abi::{
    FuncBodyRange, FuncCode, FuncEntry, Libcalls, MemoryDef, ModuleEnv, TableDef, ValRaw,
    VmContext, trap,
};
use tierup_interp::InterpFunc;
use wasmparser::{Parser, Payload, TypeRef};

/// A module instance assembled by hand. Boxed parts keep stable addresses.
pub struct Instance {
    pub env: Arc<ModuleEnv>,
    funcs: Vec<Box<InterpFunc>>,
    host_codes: Vec<Box<FuncCode>>,
    entries: Vec<Box<FuncEntry>>,
    func_refs: Vec<*const FuncEntry>,
    globals: Vec<Box<ValRaw>>,
    global_ptrs: Vec<*mut ValRaw>,
    pub memory: Vec<u8>,
    memdef: Box<MemoryDef>,
    table: Vec<usize>,
    tabledef: Box<TableDef>,
    table_ptrs: Vec<*mut TableDef>,
    type_ids: Vec<u32>,
    pub vmctx: Box<VmContext>,
    exports: Vec<(String, u32)>,
}

// The stub libcalls below never dereference their arguments.

/// # Safety
/// Always safe to call.
unsafe extern "sysv64" fn memory_grow(_: *mut VmContext, _: u32, _: u32) -> u32 {
    u32::MAX
}
/// # Safety
/// Always safe to call.
unsafe extern "sysv64" fn memory_init(
    _: *mut VmContext,
    _: u32,
    _: u32,
    _: u32,
    _: u32,
    _: u32,
) -> u32 {
    trap::record(tierup_abi::TrapCode::MemoryOutOfBounds)
}
/// # Safety
/// Always safe to call.
unsafe extern "sysv64" fn data_drop(_: *mut VmContext, _: u32) {}
/// # Safety
/// Always safe to call.
unsafe extern "sysv64" fn table_grow(_: *mut VmContext, _: u32, _: usize, _: u32) -> u32 {
    u32::MAX
}
/// # Safety
/// Always safe to call.
unsafe extern "sysv64" fn table_fill(_: *mut VmContext, _: u32, _: u32, _: usize, _: u32) -> u32 {
    trap::record(tierup_abi::TrapCode::TableOutOfBounds)
}
/// # Safety
/// Always safe to call.
unsafe extern "sysv64" fn table_copy(
    _: *mut VmContext,
    _: u32,
    _: u32,
    _: u32,
    _: u32,
    _: u32,
) -> u32 {
    trap::record(tierup_abi::TrapCode::TableOutOfBounds)
}
/// # Safety
/// Always safe to call.
unsafe extern "sysv64" fn table_init(
    _: *mut VmContext,
    _: u32,
    _: u32,
    _: u32,
    _: u32,
    _: u32,
) -> u32 {
    trap::record(tierup_abi::TrapCode::TableOutOfBounds)
}
/// # Safety
/// Always safe to call.
unsafe extern "sysv64" fn elem_drop(_: *mut VmContext, _: u32) {}
/// # Safety
/// Always safe to call.
unsafe extern "sysv64" fn translate(_: *const FuncEntry) -> *const FuncCode {
    trap::record(tierup_abi::TrapCode::CompileError);
    core::ptr::null()
}

static LIBCALLS: Libcalls = Libcalls {
    memory_grow,
    memory_init,
    data_drop,
    table_grow,
    table_fill,
    table_copy,
    table_init,
    elem_drop,
    translate,
};

impl Instance {
    /// Builds an instance of `wat` (no imports) with `pages` of memory and a funcref table
    /// holding every function in order.
    pub fn new(wat: &str, pages: usize) -> Instance {
        Instance::with_host(wat, pages, None)
    }

    /// Like [`Instance::new`], with every imported function implemented by `host`.
    pub fn with_host(wat: &str, pages: usize, host: Option<tierup_abi::ArrayEntry>) -> Instance {
        Instance::from_bytes(wat.as_bytes(), pages, host)
    }

    /// Like [`Instance::with_host`], from wat text or a binary module.
    pub fn from_bytes(
        bytes: &[u8],
        pages: usize,
        host: Option<tierup_abi::ArrayEntry>,
    ) -> Instance {
        let wasm: Arc<[u8]> = wat::parse_bytes(bytes).expect("wat").into_owned().into();
        let features = wasmparser::WasmFeatures::WASM2;
        wasmparser::Validator::new_with_features(features)
            .validate_all(&wasm)
            .expect("valid");
        let mut env = ModuleEnv {
            wasm: wasm.clone(),
            types: Vec::new(),
            funcs: Vec::new(),
            num_imported_funcs: 0,
            bodies: Vec::new(),
            globals: Vec::new(),
            tables: Vec::new(),
            memories: Vec::new(),
            num_data: 0,
            num_elems: 0,
            features,
        };
        let mut exports = Vec::new();
        let mut global_inits = Vec::new();
        for payload in Parser::new(0).parse_all(&wasm) {
            match payload.expect("payload") {
                Payload::TypeSection(r) => {
                    for t in r.into_iter_err_on_gc_types() {
                        env.types.push(t.expect("type"));
                    }
                }
                Payload::ImportSection(r) => {
                    for i in r.into_imports() {
                        match i.expect("import").ty {
                            TypeRef::Func(t) => {
                                env.funcs.push(t);
                                env.num_imported_funcs += 1;
                            }
                            _ => panic!("only function imports are supported by this harness"),
                        }
                    }
                }
                Payload::FunctionSection(r) => {
                    for f in r {
                        env.funcs.push(f.expect("func"));
                    }
                }
                Payload::GlobalSection(r) => {
                    for g in r {
                        let g = g.expect("global");
                        env.globals.push(g.ty);
                        let mut ops = g.init_expr.get_operators_reader();
                        let v = match ops.read().expect("init") {
                            wasmparser::Operator::I32Const { value } => ValRaw::i32(value),
                            wasmparser::Operator::I64Const { value } => ValRaw::i64(value),
                            wasmparser::Operator::F32Const { value } => {
                                ValRaw::f32_bits(value.bits())
                            }
                            wasmparser::Operator::F64Const { value } => {
                                ValRaw::f64_bits(value.bits())
                            }
                            _ => ValRaw::ZERO,
                        };
                        global_inits.push(v);
                    }
                }
                Payload::ExportSection(r) => {
                    for e in r {
                        let e = e.expect("export");
                        if e.kind == wasmparser::ExternalKind::Func {
                            exports.push((e.name.to_string(), e.index));
                        }
                    }
                }
                Payload::CodeSectionEntry(body) => {
                    let range = body.range();
                    env.bodies.push(FuncBodyRange {
                        start: range.start as usize,
                        end: range.end as usize,
                    });
                }
                _ => {}
            }
        }
        let env = Arc::new(env);
        let n = env.funcs.len();
        let mut funcs = Vec::new();
        let mut codes = Vec::new();
        let mut host_codes = Vec::new();
        for i in 0..n as u32 {
            if i < env.num_imported_funcs {
                host_codes.push(Box::new(FuncCode {
                    array_entry: host.expect("a host function for the imports"),
                    data: core::ptr::null(),
                    tier: tierup_abi::Tier::Host,
                }));
                codes.push(&**host_codes.last().unwrap() as *const FuncCode);
                continue;
            }
            let f = Box::new(tierup_interp::translate(&env, i).expect("translate"));
            codes.push(f.code());
            funcs.push(f);
        }
        let mut globals: Vec<Box<ValRaw>> = global_inits.into_iter().map(Box::new).collect();
        let global_ptrs = globals
            .iter_mut()
            .map(|g| &mut **g as *mut ValRaw)
            .collect();
        let mut memory = vec![0u8; pages * 65536];
        let memdef = Box::new(MemoryDef {
            base: memory.as_mut_ptr(),
            length: pages.checked_mul(65536).unwrap().into(),
        });
        let type_ids = (0..env.types.len() as u32).collect::<Vec<_>>();
        let mut vmctx = Box::new(VmContext {
            memory_base: memory.as_mut_ptr(),
            memory: &*memdef,
            func_refs: core::ptr::null(),
            globals: core::ptr::null(),
            stack_limit: 0,
            tables: core::ptr::null(),
            type_ids: type_ids.as_ptr(),
            libcalls: &LIBCALLS,
            max_call_depth: 1000,
            instance: core::ptr::null_mut(),
            store: core::ptr::null_mut(),
        });
        let vm: *mut VmContext = &mut *vmctx;
        let entries: Vec<Box<FuncEntry>> = (0..n)
            .map(|i| Box::new(FuncEntry::new(codes[i], vm, env.funcs[i], i as u32, 1000)))
            .collect();
        let func_refs: Vec<*const FuncEntry> =
            entries.iter().map(|e| &**e as *const FuncEntry).collect();
        let mut table: Vec<usize> = func_refs.iter().map(|p| *p as usize).collect();
        table.push(0);
        let mut tabledef = Box::new(TableDef {
            elements: table.as_mut_ptr(),
            length: table.len(),
        });
        let table_ptrs = vec![&mut *tabledef as *mut TableDef];
        let mut inst = Instance {
            env,
            funcs,
            host_codes,
            entries,
            func_refs,
            globals,
            global_ptrs,
            memory,
            memdef,
            table,
            tabledef,
            table_ptrs,
            type_ids,
            vmctx,
            exports,
        };
        inst.vmctx.func_refs = inst.func_refs.as_ptr();
        inst.vmctx.globals = inst.global_ptrs.as_ptr();
        inst.vmctx.tables = inst.table_ptrs.as_ptr();
        inst
    }

    /// Calls export `name` with raw 64-bit arguments; returns the raw results or the trap.
    pub fn call(
        &mut self,
        name: &str,
        args: &[u64],
    ) -> Result<Vec<u64>, tierup_abi::trap::TrapRecord> {
        let idx = self
            .exports
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, i)| *i)
            .expect("export");
        let ty = self.env.func_type(idx);
        let (np, nr) = (ty.params().len(), ty.results().len());
        assert_eq!(np, args.len());
        let mut cells: Vec<ValRaw> = vec![ValRaw::ZERO; np.max(nr)];
        for (c, a) in cells.iter_mut().zip(args) {
            *c = ValRaw::from_u64(*a);
        }
        // SAFETY: the slot and its code are alive in `self`; `cells` has enough room.
        let status = unsafe {
            FuncEntry::call(
                self.func_refs[idx as usize],
                core::ptr::null_mut(),
                cells.as_mut_ptr(),
            )
        };
        if status != tierup_abi::STATUS_OK {
            return Err(trap::take(status));
        }
        Ok(cells[..nr].iter().map(|c| c.get_u64()).collect())
    }

    /// Calls export `name` with argument cells (any types, v128 included); returns the
    /// result cells or the trap.
    pub fn call_cells(
        &mut self,
        name: &str,
        args: &[ValRaw],
    ) -> Result<Vec<ValRaw>, tierup_abi::trap::TrapRecord> {
        let idx = self
            .exports
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, i)| *i)
            .expect("export");
        let ty = self.env.func_type(idx);
        let (np, nr) = (ty.params().len(), ty.results().len());
        assert_eq!(np, args.len());
        let mut cells: Vec<ValRaw> = vec![ValRaw::ZERO; np.max(nr)];
        cells[..np].copy_from_slice(args);
        // SAFETY: the slot and its code are alive in `self`; `cells` has enough room.
        let status = unsafe {
            FuncEntry::call(
                self.func_refs[idx as usize],
                core::ptr::null_mut(),
                cells.as_mut_ptr(),
            )
        };
        if status != tierup_abi::STATUS_OK {
            return Err(trap::take(status));
        }
        cells.truncate(nr);
        Ok(cells)
    }

    /// Calls an export returning one i32.
    pub fn i32(&mut self, name: &str, args: &[u64]) -> i32 {
        self.call(name, args).expect("no trap")[0] as u32 as i32
    }

    /// Calls an export returning one i64.
    pub fn i64(&mut self, name: &str, args: &[u64]) -> i64 {
        self.call(name, args).expect("no trap")[0] as i64
    }

    /// Writes the little-endian u32 `v` to memory at `at`.
    pub fn put_u32(&mut self, at: usize, v: u32) {
        self.memory[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    /// The little-endian u32 in memory at `at`.
    pub fn get_u32(&self, at: usize) -> u32 {
        u32::from_le_bytes(self.memory[at..at + 4].try_into().unwrap())
    }
}
