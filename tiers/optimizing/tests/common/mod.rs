//! Test harness: executable copies of machine code, and small hand-built instances of a
//! module (a `VmContext` with memory, globals, tables, slots and a libcall table) whose
//! defined functions are all compiled by the optimizing tier. No traps are exercised:
//! trap handling belongs to the runtime.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use memmap2::{Mmap, MmapMut, MmapOptions};
use tierup_abi::{
    ArrayEntry, Compiled, Compiler, ConstExpr, ElemMode, ElemSegment, FuncCode, FuncEntry,
    Libcalls, Libm, MachineCode, MemoryDef, ModuleEnv, RelocKind, RelocTarget, RuntimeLimits,
    TableDef, Tier, ValRaw, VmContext, WASM_PAGE_SIZE,
};
use tierup_optimizing::Optimizing;
use wasmparser::{Payload, ValType};

/// Machine code copied into executable memory.
pub struct Code {
    map: Mmap,
    pub code: MachineCode,
}

extern "C" fn floorf(x: f32) -> f32 {
    x.floor()
}
extern "C" fn floor(x: f64) -> f64 {
    x.floor()
}
extern "C" fn ceilf(x: f32) -> f32 {
    x.ceil()
}
extern "C" fn ceil(x: f64) -> f64 {
    x.ceil()
}
extern "C" fn truncf(x: f32) -> f32 {
    x.trunc()
}
extern "C" fn trunc(x: f64) -> f64 {
    x.trunc()
}
extern "C" fn nearbyintf(x: f32) -> f32 {
    x.round_ties_even()
}
extern "C" fn nearbyint(x: f64) -> f64 {
    x.round_ties_even()
}

fn libm(f: Libm) -> usize {
    match f {
        Libm::FloorF32 => floorf as *const () as usize,
        Libm::FloorF64 => floor as *const () as usize,
        Libm::CeilF32 => ceilf as *const () as usize,
        Libm::CeilF64 => ceil as *const () as usize,
        Libm::TruncF32 => truncf as *const () as usize,
        Libm::TruncF64 => trunc as *const () as usize,
        Libm::NearestF32 => nearbyintf as *const () as usize,
        Libm::NearestF64 => nearbyint as *const () as usize,
    }
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
            let target = libm(f) as i64 + r.addend;
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

/// The pages a test memory can grow to; a 64 KiB guard follows them.
pub const MEMORY_PAGES: usize = 4;

/// One instance of a module.
pub struct Instance {
    pub env: ModuleEnv,
    pub vmctx: Box<VmContext>,
    pub slots: Vec<FuncEntry>,
    records: Vec<FuncCode>,
    codes: Vec<Code>,
    func_refs: Vec<*const FuncEntry>,
    globals: Vec<ValRaw>,
    global_ptrs: Vec<*mut ValRaw>,
    elements: Vec<Vec<usize>>,
    tables: Vec<TableDef>,
    table_ptrs: Vec<*mut TableDef>,
    type_ids: Vec<u32>,
    memory: Option<(MmapMut, Box<MemoryDef>)>,
    limits: Box<RuntimeLimits>,
    libcalls: Box<Libcalls>,
    exports: HashMap<String, u32>,
}

unsafe extern "sysv64" fn memory_grow(vmctx: *mut VmContext, _memory: u32, delta: u32) -> u32 {
    // SAFETY: the context and its memory are the harness's own.
    let def = unsafe { &*(*vmctx).memory };
    let old = def.length.load(Ordering::Relaxed) / WASM_PAGE_SIZE;
    let new = old + delta as usize;
    if new > MEMORY_PAGES {
        return u32::MAX;
    }
    def.length.store(new * WASM_PAGE_SIZE, Ordering::Relaxed);
    old as u32
}
unsafe extern "sysv64" fn fails6(_: *mut VmContext, _: u32, _: u32, _: u32, _: u32, _: u32) -> u32 {
    tierup_abi::TrapCode::MemoryOutOfBounds.status()
}
unsafe extern "sysv64" fn drop_segment(_: *mut VmContext, _: u32) {}
unsafe extern "sysv64" fn table_grow(_: *mut VmContext, _: u32, _: usize, _: u32) -> u32 {
    u32::MAX
}
unsafe extern "sysv64" fn table_fill(_: *mut VmContext, _: u32, _: u32, _: usize, _: u32) -> u32 {
    tierup_abi::TrapCode::TableOutOfBounds.status()
}
unsafe extern "sysv64" fn translate(_: *const FuncEntry) -> *const FuncCode {
    std::ptr::null()
}
unsafe extern "sysv64" fn raise(status: u32) {
    eprintln!("raise({status}) called in a test that exercises no traps");
    std::process::abort();
}

impl Instance {
    /// Compiles every defined function of `wat` and instantiates the module with `hosts` as
    /// its function imports, in order.
    pub fn new(wat: &str, hosts: Vec<Host>) -> Instance {
        let tier = Optimizing::new().unwrap();
        let wasm: Arc<[u8]> = wat::parse_str(wat).unwrap().into();
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::WASM2)
            .validate_all(&wasm)
            .unwrap();
        let env = ModuleEnv::decode(wasm.clone(), wasmparser::WasmFeatures::WASM2).unwrap();
        assert_eq!(hosts.len(), env.num_imported_funcs as usize);

        let type_ids: Vec<u32> = (0..env.types.len())
            .map(|t| env.types.iter().position(|u| *u == env.types[t]).unwrap() as u32)
            .collect();
        let mut codes = Vec::new();
        let mut records = Vec::new();
        for host in &hosts {
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
            });
            codes.push(code);
        }
        let options = tierup_abi::CompileOptions::default();
        for f in env.num_imported_funcs..env.funcs.len() as u32 {
            let Compiled::Machine(mc) = tier.compile(&env, f, &options).unwrap() else {
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
            });
            codes.push(code);
        }
        let mut slots: Vec<FuncEntry> = records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let ty = env.funcs[i];
                FuncEntry::new(r, std::ptr::null_mut(), type_ids[ty as usize], i as u32, 0)
            })
            .collect();
        let func_refs: Vec<*const FuncEntry> = slots.iter().map(|s| s as *const _).collect();

        let mut memory = env.memories.first().map(|m| {
            let reserved = MEMORY_PAGES * WASM_PAGE_SIZE + WASM_PAGE_SIZE;
            let mut map = MmapOptions::new().len(reserved).map_anon().unwrap();
            // SAFETY: the guard lies inside the mapping.
            unsafe {
                rustix::mm::mprotect(
                    map.as_mut_ptr().add(MEMORY_PAGES * WASM_PAGE_SIZE).cast(),
                    WASM_PAGE_SIZE,
                    rustix::mm::MprotectFlags::empty(),
                )
                .unwrap();
            }
            let def = Box::new(MemoryDef {
                base: map.as_mut_ptr(),
                length: AtomicUsize::new(m.initial as usize * WASM_PAGE_SIZE),
                guarded: 0,
            });
            (map, def)
        });
        let mut globals: Vec<ValRaw> = Vec::new();
        let mut elements: Vec<Vec<usize>> = env
            .tables
            .iter()
            .map(|t| vec![0; t.initial as usize])
            .collect();
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
        for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
            match payload.unwrap() {
                Payload::GlobalSection(r) => {
                    for g in r {
                        let init = ConstExpr::decode(&g.unwrap().init_expr).unwrap();
                        let value = eval(init, &globals);
                        globals.push(value);
                    }
                }
                Payload::ExportSection(r) => {
                    for e in r {
                        let e = e.unwrap();
                        if e.kind == wasmparser::ExternalKind::Func {
                            exports.insert(e.name.to_string(), e.index);
                        }
                    }
                }
                Payload::ElementSection(r) => {
                    for e in r {
                        let seg = ElemSegment::decode(e.unwrap()).unwrap();
                        if let ElemMode::Active { table, offset } = seg.mode {
                            let ConstExpr::I32(at) = offset else {
                                panic!("offset")
                            };
                            for (i, item) in seg.items.iter().enumerate() {
                                let v = eval(*item, &globals).get_u64() as usize;
                                elements[table as usize][at as usize + i] = v;
                            }
                        }
                    }
                }
                Payload::DataSection(r) => {
                    for d in r {
                        let seg = tierup_abi::DataSegment::decode(d.unwrap()).unwrap();
                        if let Some((_, ConstExpr::I32(at))) = seg.active {
                            let (map, _) = memory.as_mut().unwrap();
                            let bytes = &wasm[seg.range.clone()];
                            map[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
                        }
                    }
                }
                _ => {}
            }
        }
        let global_ptrs: Vec<*mut ValRaw> = globals.iter_mut().map(|g| g as *mut _).collect();
        let mut tables: Vec<TableDef> = elements
            .iter_mut()
            .map(|e| TableDef {
                elements: e.as_mut_ptr(),
                length: e.len(),
            })
            .collect();
        let table_ptrs: Vec<*mut TableDef> = tables.iter_mut().map(|t| t as *mut _).collect();
        let limits = Box::new(RuntimeLimits::new(0));
        let libcalls = Box::new(Libcalls {
            memory_grow,
            memory_init: fails6,
            data_drop: drop_segment,
            table_grow,
            table_fill,
            table_copy: fails6,
            table_init: fails6,
            elem_drop: drop_segment,
            translate,
            raise,
        });
        let mut vmctx = Box::new(VmContext {
            memory_base: memory
                .as_mut()
                .map_or(std::ptr::null_mut(), |(m, _)| m.as_mut_ptr()),
            memory: memory.as_ref().map_or(std::ptr::null(), |(_, d)| &**d),
            func_refs: func_refs.as_ptr(),
            globals: global_ptrs.as_ptr(),
            limits: &*limits,
            tables: table_ptrs.as_ptr(),
            type_ids: type_ids.as_ptr(),
            libcalls: &*libcalls,
            instance: std::ptr::null_mut(),
            store: std::ptr::null_mut(),
        });
        let ctx: *mut VmContext = &mut *vmctx;
        for (i, slot) in slots.iter_mut().enumerate() {
            if i >= env.num_imported_funcs as usize {
                slot.vmctx = ctx;
            }
        }
        Instance {
            env,
            vmctx,
            slots,
            records,
            codes,
            func_refs,
            globals,
            global_ptrs,
            elements,
            tables,
            table_ptrs,
            type_ids,
            memory,
            limits,
            libcalls,
            exports,
        }
    }

    /// The index of export `name`.
    pub fn func(&self, name: &str) -> u32 {
        *self
            .exports
            .get(name)
            .unwrap_or_else(|| panic!("no export {name}"))
    }

    /// Calls export `name` through its slot's array entry (the shim).
    pub fn call(&mut self, name: &str, args: &[ValRaw]) -> Vec<ValRaw> {
        let f = self.func(name);
        let ty = self.env.func_type(f).clone();
        assert_eq!(args.len(), ty.params().len());
        let mut cells = vec![ValRaw::ZERO; ty.params().len().max(ty.results().len()).max(1)];
        cells[..args.len()].copy_from_slice(args);
        let slot: *const FuncEntry = &self.slots[f as usize];
        let ctx: *mut VmContext = &mut *self.vmctx;
        // SAFETY: the slot, its record and the context are alive and consistent.
        let status = unsafe { FuncEntry::call(slot, ctx, cells.as_mut_ptr()) };
        assert_eq!(status, 0, "call of {name} failed");
        cells.truncate(ty.results().len());
        cells
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
        let slot: &AtomicPtr<FuncCode> = &self.slots[func as usize].code;
        slot.store(code as *mut _, Ordering::Release);
    }
}
