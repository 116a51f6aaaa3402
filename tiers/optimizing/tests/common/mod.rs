//! Test harness: executable copies of machine code, and small hand-built instances of a
//! module (a `VmContext` with memory, globals, tables, slots and a libcall table) whose
//! defined functions are all compiled by the optimizing tier, with a libcall table of
//! their own (`libcalls.rs`). A call expected to trap runs in a child process
//! (`traps.rs`); trap handling proper belongs to the runtime.

#![allow(dead_code)]

mod libcalls;
mod traps;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use memmap2::{Mmap, MmapMut, MmapOptions};
use tierup_abi::{
    ArrayEntry, CompileOptions, Compiled, Compiler, ConstExpr, ElemMode, ElemSegment, FuncCode,
    FuncEntry, GUARDED_RESERVATION, MachineCode, MemoryDef, ModuleEnv, RelocKind, RelocTarget,
    RuntimeLimits, TableDef, Tier, ValRaw, VmContext, WASM_PAGE_SIZE,
};
use tierup_optimizing::Optimizing;
use wasmparser::{Payload, ValType};

use libcalls::State;
// Not every test binary that includes the harness runs calls that trap.
#[allow(unused_imports)]
pub use traps::{Outcome, call_in_child, run_in_child};

/// Machine code copied into executable memory.
pub struct Code {
    map: Mmap,
    pub code: MachineCode,
}

impl Code {
    /// Maps `code`, applies its relocations and makes it executable.
    pub fn load(code: MachineCode) -> Code {
        let mut map = MmapOptions::new()
            .len(code.bytes.len().max(1))
            .map_anon()
            .unwrap();
        assert_eq!(map.as_ptr() as usize % code.align as usize, 0);
        map[..code.bytes.len()].copy_from_slice(&code.bytes);
        let base = map.as_ptr() as i64;
        for r in &code.relocs {
            let RelocTarget::Libm(f) = r.target;
            let target = f.address() as i64 + r.addend;
            let at = r.offset as usize;
            match r.kind {
                RelocKind::Abs8 => map[at..at + 8].copy_from_slice(&target.to_le_bytes()),
                RelocKind::PcRel4 => {
                    let rel = i32::try_from(target - (base + at as i64)).unwrap();
                    map[at..at + 4].copy_from_slice(&rel.to_le_bytes());
                }
            }
        }
        Code {
            map: map.make_exec().unwrap(),
            code,
        }
    }

    /// The address of code offset `offset`.
    pub fn at(&self, offset: u32) -> *const u8 {
        assert!((offset as usize) < self.map.len());
        self.map.as_ptr().wrapping_add(offset as usize)
    }
}

/// A host function given to an instance as an import.
pub struct Host {
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
    pub entry: ArrayEntry,
}

/// What an instance imports: its function imports and the values of its global imports,
/// in order. (Imported memories and tables are made from their declared types.)
#[derive(Default)]
pub struct Imports {
    pub funcs: Vec<Host>,
    pub globals: Vec<ValRaw>,
    /// The actual (initial, maximum) pages of an imported memory, if not those declared.
    pub memory: Option<(u64, u64)>,
    /// The actual (initial, maximum) sizes of the imported tables.
    pub tables: Vec<(u64, u64)>,
}

/// One instance of a module.
pub struct Instance {
    pub env: ModuleEnv,
    pub vmctx: Box<VmContext>,
    pub slots: Vec<FuncEntry>,
    records: Vec<FuncCode>,
    codes: Vec<Code>,
    /// The records of OSR entries, boxed so that their addresses, which calls pass, stay
    /// put when the vector grows.
    #[allow(clippy::vec_box)]
    osr_records: Vec<Box<FuncCode>>,
    func_refs: Vec<*const FuncEntry>,
    globals: Vec<ValRaw>,
    global_ptrs: Vec<*mut ValRaw>,
    table_ptrs: Vec<*mut TableDef>,
    type_ids: Vec<u32>,
    memory: Option<(MmapMut, Box<MemoryDef>)>,
    state: Box<State>,
    limits: Box<RuntimeLimits>,
    exports: HashMap<String, (wasmparser::ExternalKind, u32)>,
}

impl Instance {
    /// Compiles every defined function of `wat` and instantiates the module with `hosts` as
    /// its function imports, in order.
    pub fn new(wat: &str, hosts: Vec<Host>) -> Instance {
        let wasm = wat::parse_str(wat).unwrap();
        let imports = Imports {
            funcs: hosts,
            ..Imports::default()
        };
        Instance::instantiate(wasm.into(), imports, CompileOptions::default()).unwrap()
    }

    /// Compiles every defined function of the valid module `wasm` with `options` and
    /// instantiates it; fails if an active segment is out of bounds.
    pub fn instantiate(
        wasm: Arc<[u8]>,
        imports: Imports,
        options: CompileOptions,
    ) -> Result<Instance, String> {
        let tier = Optimizing::new().unwrap();
        let mut env = ModuleEnv::decode(wasm.clone(), wasmparser::WasmFeatures::WASM2).unwrap();
        // What was imported is what the instance has.
        if let (Some((initial, maximum)), Some(m)) = (imports.memory, env.memories.first_mut()) {
            (m.initial, m.maximum) = (initial, Some(maximum));
        }
        for (t, &(initial, maximum)) in env.tables.iter_mut().zip(&imports.tables) {
            (t.initial, t.maximum) = (initial, Some(maximum));
        }
        assert_eq!(imports.funcs.len(), env.num_imported_funcs as usize);

        let type_ids: Vec<u32> = (0..env.types.len())
            .map(|t| env.types.iter().position(|u| *u == env.types[t]).unwrap() as u32)
            .collect();
        let mut codes = Vec::new();
        let mut records = Vec::new();
        for host in &imports.funcs {
            let adapter = tier
                .compile_adapter(&host.params, &host.results)
                .unwrap()
                .unwrap();
            assert_eq!(adapter.array_shim, None);
            let code = Code::load(adapter);
            records.push(FuncCode {
                array_entry: host.entry,
                register_entry: code.at(code.code.register_entry) as *const (),
                data: std::ptr::null(),
                tier: Tier::Host,
                variant: 0,
            });
            codes.push(code);
        }
        for f in env.num_imported_funcs..env.funcs.len() as u32 {
            let Compiled::Machine(mc) = tier.compile(&env, f, &options).map_err(|e| e.0)? else {
                panic!("not machine code");
            };
            let code = Code::load(mc);
            let shim = code.at(code.code.array_shim.unwrap());
            records.push(FuncCode {
                // SAFETY: the shim has the array entry's signature.
                array_entry: unsafe { std::mem::transmute::<*const u8, ArrayEntry>(shim) },
                register_entry: code.at(code.code.register_entry) as *const (),
                data: shim as *const (),
                tier: Tier::Optimizing,
                variant: 0,
            });
            codes.push(code);
        }
        let limits = Box::new(RuntimeLimits::new(0));
        // Slots get their context once it exists.
        let mut slots: Vec<FuncEntry> = records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let ty = type_ids[env.funcs[i] as usize];
                // SAFETY: the records live as long as the harness instance.
                unsafe { FuncEntry::new(r, std::ptr::null_mut(), &*limits, ty, i as u32, 0) }
            })
            .collect();
        let func_refs: Vec<*const FuncEntry> = slots.iter().map(|s| s as *const _).collect();

        let mut memory = env.memories.first().map(|m| {
            let mut map = MmapOptions::new()
                .len(GUARDED_RESERVATION)
                .no_reserve_swap()
                .map_anon()
                .unwrap();
            libcalls::protect(map.as_mut_ptr(), 0, GUARDED_RESERVATION, false);
            let length = m.initial as usize * WASM_PAGE_SIZE;
            libcalls::protect(map.as_mut_ptr(), 0, length, true);
            let def = Box::new(MemoryDef {
                base: map.as_mut_ptr(),
                length: AtomicUsize::new(length),
                guarded: 1,
            });
            (map, def)
        });
        let mut state = Box::new(State::new(&env));
        let mut globals = imports.globals;
        let mut exports = HashMap::new();
        let eval = |e: ConstExpr, globals: &[ValRaw]| match e {
            ConstExpr::I32(v) => ValRaw::i32(v),
            ConstExpr::I64(v) => ValRaw::i64(v),
            ConstExpr::F32(v) => ValRaw::f32_bits(v),
            ConstExpr::F64(v) => ValRaw::f64_bits(v),
            ConstExpr::V128(v) => ValRaw::v128(v),
            ConstExpr::RefNull => ValRaw::ZERO,
            ConstExpr::RefFunc(f) => ValRaw::funcref(func_refs[f as usize]),
            ConstExpr::GlobalGet(g) => globals[g as usize],
        };
        let offset = |e: ConstExpr, globals: &[ValRaw]| eval(e, globals).get_i32() as u32 as usize;
        let mut start = None;
        for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
            match payload.unwrap() {
                Payload::GlobalSection(r) => {
                    for g in r {
                        let init = ConstExpr::decode(&g.unwrap().init_expr).unwrap();
                        let value = eval(init, &globals);
                        globals.push(value);
                    }
                }
                Payload::TableSection(r) => {
                    let first = env.tables.len() - r.count() as usize;
                    for (i, t) in r.into_iter().enumerate() {
                        if let wasmparser::TableInit::Expr(e) = t.unwrap().init {
                            let v = eval(ConstExpr::decode(&e).unwrap(), &globals).get_u64();
                            state.elements[first + i].fill(v as usize);
                        }
                    }
                }
                Payload::ExportSection(r) => {
                    for e in r {
                        let e = e.unwrap();
                        exports.insert(e.name.to_string(), (e.kind, e.index));
                    }
                }
                Payload::StartSection { func, .. } => start = Some(func),
                Payload::ElementSection(r) => {
                    for e in r {
                        let seg = ElemSegment::decode(e.unwrap()).unwrap();
                        let items: Vec<usize> = seg
                            .items
                            .iter()
                            .map(|&i| eval(i, &globals).get_u64() as usize)
                            .collect();
                        match seg.mode {
                            ElemMode::Active { table, offset: at } => {
                                let to = &mut state.elements[table as usize];
                                if !tierup_abi::bulk::copy_in(
                                    &items,
                                    to,
                                    offset(at, &globals),
                                    0,
                                    items.len(),
                                ) {
                                    return Err("element segment out of bounds".into());
                                }
                                state.elems.push(Vec::new());
                            }
                            ElemMode::Passive => state.elems.push(items),
                            ElemMode::Declared => state.elems.push(Vec::new()),
                        }
                    }
                }
                Payload::DataSection(r) => {
                    for d in r {
                        let seg = tierup_abi::DataSegment::decode(d.unwrap()).unwrap();
                        let bytes = wasm[seg.range.clone()].to_vec();
                        match seg.active {
                            Some((_, at)) => {
                                let (map, def) = memory.as_mut().unwrap();
                                let len = def.length.load(Ordering::Relaxed);
                                let to = &mut map[..len];
                                let at = offset(at, &globals);
                                if !tierup_abi::bulk::copy_in(&bytes, to, at, 0, bytes.len()) {
                                    return Err("data segment out of bounds".into());
                                }
                                state.data.push(Vec::new());
                            }
                            None => state.data.push(bytes),
                        }
                    }
                }
                _ => {}
            }
        }
        let global_ptrs: Vec<*mut ValRaw> = globals.iter_mut().map(|g| g as *mut _).collect();
        state.sync_tables();
        let table_ptrs: Vec<*mut TableDef> = state.tables.iter_mut().map(|t| t as *mut _).collect();
        let mut vmctx = Box::new(VmContext {
            memory_base: memory
                .as_mut()
                .map_or(std::ptr::null_mut(), |(m, _)| m.as_mut_ptr()),
            memory: memory.as_ref().map_or(std::ptr::null(), |(_, d)| &**d),
            func_refs: func_refs.as_ptr(),
            // The harness has a slot per function, imports first.
            defined_funcs: slots.as_ptr().wrapping_add(env.num_imported_funcs as usize),
            globals: global_ptrs.as_ptr(),
            limits: &*limits,
            tables: table_ptrs.as_ptr(),
            type_ids: type_ids.as_ptr(),
            libcalls: &libcalls::LIBCALLS,
            instance: (&mut *state as *mut State).cast(),
            store: std::ptr::null_mut(),
            interrupt: core::sync::atomic::AtomicUsize::new(0),
        });
        let ctx: *mut VmContext = &mut *vmctx;
        for slot in &mut slots[env.num_imported_funcs as usize..] {
            slot.vmctx = ctx;
        }
        let mut instance = Instance {
            env,
            vmctx,
            slots,
            records,
            codes,
            osr_records: Vec::new(),
            func_refs,
            globals,
            global_ptrs,
            table_ptrs,
            type_ids,
            memory,
            state,
            limits,
            exports,
        };
        if let Some(f) = start {
            instance.call_index(f, &[])?;
        }
        Ok(instance)
    }

    /// The index of function export `name`.
    pub fn func(&self, name: &str) -> u32 {
        match self.exports.get(name) {
            Some(&(wasmparser::ExternalKind::Func, f)) => f,
            _ => panic!("no function export {name}"),
        }
    }

    /// The value of global export `name`.
    pub fn exported_global(&self, name: &str) -> Option<ValRaw> {
        match self.exports.get(name) {
            Some(&(wasmparser::ExternalKind::Global, g)) => Some(self.globals[g as usize]),
            _ => None,
        }
    }

    /// Calls export `name` through its slot's array entry (the shim).
    pub fn call(&mut self, name: &str, args: &[ValRaw]) -> Vec<ValRaw> {
        let f = self.func(name);
        self.call_index(f, args)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// Calls function `f` through its slot's array entry.
    pub fn call_index(&mut self, f: u32, args: &[ValRaw]) -> Result<Vec<ValRaw>, String> {
        let ty = self.env.func_type(f).clone();
        if args.len() != ty.params().len() {
            return Err(format!(
                "{} arguments for {} parameters",
                args.len(),
                ty.params().len()
            ));
        }
        let mut cells = vec![ValRaw::ZERO; ty.params().len().max(ty.results().len()).max(1)];
        cells[..args.len()].copy_from_slice(args);
        let slot: *const FuncEntry = &self.slots[f as usize];
        let ctx: *mut VmContext = &mut *self.vmctx;
        // SAFETY: the slot, its record and the context are alive and consistent.
        let status = unsafe { FuncEntry::call(slot, ctx, cells.as_mut_ptr()) };
        if status != 0 {
            return Err(format!("status {status}"));
        }
        cells.truncate(ty.results().len());
        Ok(cells)
    }

    /// Compiles the OSR entry of function `f` at the point before its instruction at
    /// module offset `at` (with the options instances of the harness are compiled with) and
    /// loads it; returns its number for [`Instance::call_osr`].
    pub fn compile_osr(&mut self, f: u32, at: u32) -> Result<usize, String> {
        let tier = Optimizing::new().unwrap();
        let mc = tier
            .compile_osr(&self.env, f, at, &CompileOptions::default())
            .map_err(|e| e.0)?;
        let code = Code::load(mc);
        let shim = code.at(code.code.array_shim.ok_or("no array shim")?);
        self.osr_records.push(Box::new(FuncCode {
            // SAFETY: the shim has the array entry's signature.
            array_entry: unsafe { std::mem::transmute::<*const u8, ArrayEntry>(shim) },
            register_entry: code.at(code.code.register_entry) as *const (),
            data: shim as *const (),
            tier: Tier::Optimizing,
            variant: 0,
        }));
        self.codes.push(code);
        Ok(self.osr_records.len() - 1)
    }

    /// The machine code of OSR entry `entry`.
    pub fn osr_code(&self, entry: usize) -> &MachineCode {
        let first = self.codes.len() - self.osr_records.len();
        &self.codes[first + entry].code
    }

    /// Calls OSR entry `entry` of function `f` with `state` as the runtime does: through
    /// its array entry, with `f`'s own slot as the callee and one cell holding the state's
    /// address (and room for the results).
    pub fn call_osr(
        &mut self,
        f: u32,
        entry: usize,
        state: &[ValRaw],
    ) -> Result<Vec<ValRaw>, String> {
        let results = self.env.func_type(f).results().len();
        let mut cells = vec![ValRaw::ZERO; results.max(1)];
        cells[0] = ValRaw::i64(state.as_ptr() as i64);
        let slot: *const FuncEntry = &self.slots[f as usize];
        let ctx: *mut VmContext = &mut *self.vmctx;
        let record: *const FuncCode = &*self.osr_records[entry];
        // SAFETY: the slot, the record and the context are alive and consistent; the entry
        // reads `state`, which lives across the call, and writes at most `results` cells.
        let status = unsafe { ((*record).array_entry)(slot, record, ctx, cells.as_mut_ptr()) };
        if status != 0 {
            return Err(format!("status {status}"));
        }
        cells.truncate(results);
        Ok(cells)
    }

    /// The machine code of code record `index` (host adapters first, then defined
    /// functions in order).
    pub fn code(&self, index: usize) -> &MachineCode {
        &self.codes[index].code
    }

    /// Memory 0's bytes (its current length).
    pub fn memory(&mut self) -> &mut [u8] {
        let (map, def) = self.memory.as_mut().unwrap();
        let len = def.length.load(Ordering::Relaxed);
        &mut map[..len]
    }

    /// Global `index`'s cell.
    pub fn global(&self, index: u32) -> ValRaw {
        self.globals[index as usize]
    }

    /// Sets the stack limit the prologues check (0: none).
    pub fn set_stack_limit(&self, limit: usize) {
        self.limits.stack_limit.store(limit, Ordering::Relaxed);
    }

    /// Publishes `code` into function `func`'s slot.
    pub fn publish(&self, func: u32, code: *const FuncCode) {
        // SAFETY: `code` is a record of this harness instance, alive as long as it.
        unsafe { self.slots[func as usize].publish(code) };
    }
}
