//! Instantiation ([`Instance::new`]): import checks, allocation of globals, tables and
//! memories, the `VmContext` and entry slots, element and data segments, the start function;
//! and the [`Instance`] handle with its exports.

use std::ops::Range;

use tierup_abi::{FuncEntry, TableDef, TrapCode, ValRaw, VmContext};

use crate::Result;
use crate::externs::Extern;
use crate::func::{Func, TypedFunc, WasmTyList};
use crate::global::Global;
use crate::linker::LinkError;
use crate::memory::Memory;
use crate::module::{ConstExpr, ElemMode, ExportKind, Module};
use crate::store::{AsContextMut, StoreId, StoreOpaque};
use crate::table::Table;
use crate::trap::Trap;
use crate::types::ExternType;

/// The runtime state of one instance, boxed in its store (its address is shared with code
/// through `VmContext::instance`).
pub(crate) struct InstanceData {
    pub vmctx: VmContext,
    pub index: usize,
    pub module: Module,
    /// The slots of the defined functions.
    pub entries: Box<[FuncEntry]>,
    pub func_refs: Box<[*const FuncEntry]>,
    pub global_ptrs: Box<[*mut ValRaw]>,
    pub table_ptrs: Box<[*mut TableDef]>,
    /// Store indices of the memories, tables and globals (imports first).
    pub memories: Vec<usize>,
    pub tables: Vec<usize>,
    pub globals: Vec<usize>,
    /// Element segments resolved to raw elements (empty once dropped).
    pub elems: Vec<Box<[usize]>>,
    /// Data segments as ranges of the module's bytes (empty once dropped).
    pub datas: Vec<Range<usize>>,
    /// Whether a memory of the instance has no guard region, so that its code must check
    /// every access.
    pub bounds_checks: bool,
}

impl Drop for InstanceData {
    fn drop(&mut self) {
        self.module.inner.unregister_instance(self.entries.as_ptr());
    }
}

/// An instance of a module in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instance {
    pub(crate) store: StoreId,
    pub(crate) index: usize,
}

fn empty_vmctx() -> VmContext {
    VmContext {
        memory_base: core::ptr::null_mut(),
        memory: core::ptr::null(),
        func_refs: core::ptr::null(),
        defined_funcs: core::ptr::null(),
        globals: core::ptr::null(),
        limits: core::ptr::null(),
        tables: core::ptr::null(),
        type_ids: core::ptr::null(),
        libcalls: &crate::libcalls::LIBCALLS,
        instance: core::ptr::null_mut(),
        store: core::ptr::null_mut(),
        interrupt: core::sync::atomic::AtomicUsize::new(0),
    }
}

/// Checks one import against the item provided for it.
fn check_import(
    store: &StoreOpaque,
    module: &Module,
    index: usize,
    expected: &ExternType,
    actual: &Extern,
) -> Result<()> {
    let imp = &module.inner.info.imports[index];
    let fail = |why: String| -> anyhow::Error {
        LinkError(format!(
            "incompatible import type for `{}::{}` (import #{index}): {why}",
            imp.module, imp.name
        ))
        .into()
    };
    if actual.store_id() != store.id {
        return Err(fail("the item belongs to another store".into()));
    }
    match (expected, actual) {
        (ExternType::Func(want), Extern::Func(f)) => {
            let have = f.ty_in(store);
            if *want != have {
                return Err(fail(format!(
                    "expected function of type {want}, found {have}"
                )));
            }
        }
        (ExternType::Global(want), Extern::Global(g)) => {
            let have = g.instance(store).ty;
            if *want != have {
                return Err(fail(format!("expected {want}, found {have}")));
            }
        }
        (ExternType::Table(want), Extern::Table(t)) => {
            let inst = t.instance(store);
            let have = inst.current_type();
            let ok = want.element() == have.element()
                && have.minimum() >= want.minimum()
                && match want.maximum() {
                    None => true,
                    Some(m) => have.maximum().is_some_and(|h| h <= m),
                };
            if !ok {
                return Err(fail(format!("expected {want}, found {have}")));
            }
        }
        (ExternType::Memory(want), Extern::Memory(m)) => {
            let have = m.instance(store).current_type();
            let ok = have.minimum() >= want.minimum()
                && match want.maximum() {
                    None => true,
                    Some(mx) => have.maximum().is_some_and(|h| h <= mx),
                };
            if !ok {
                return Err(fail(format!("expected {want}, found {have}")));
            }
        }
        (want, _) => {
            let have = match actual {
                Extern::Func(_) => "func",
                Extern::Global(_) => "global",
                Extern::Table(_) => "table",
                Extern::Memory(_) => "memory",
            };
            return Err(fail(format!("expected {}, found {have}", want.kind_name())));
        }
    }
    Ok(())
}

/// Evaluates a constant expression in a partly built instance.
fn eval(expr: ConstExpr, func_refs: &[*const FuncEntry], globals: &[*mut ValRaw]) -> ValRaw {
    match expr {
        ConstExpr::I32(v) => ValRaw::i32(v),
        ConstExpr::I64(v) => ValRaw::i64(v),
        ConstExpr::F32(v) => ValRaw::f32_bits(v),
        ConstExpr::F64(v) => ValRaw::f64_bits(v),
        ConstExpr::V128(v) => ValRaw::v128(v),
        ConstExpr::RefNull => ValRaw::ZERO,
        ConstExpr::RefFunc(i) => ValRaw::funcref(
            func_refs
                .get(i as usize)
                .copied()
                .unwrap_or(core::ptr::null()),
        ),
        ConstExpr::GlobalGet(g) => match globals.get(g as usize) {
            // SAFETY: global cells are owned by the store and alive.
            Some(p) => unsafe { **p },
            None => ValRaw::ZERO,
        },
    }
}

impl Instance {
    /// Instantiates `module` with `imports` (one item per import, in order).
    pub fn new(
        mut store: impl AsContextMut,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance> {
        let store = &mut store.as_context_mut().0.opaque;
        Instance::new_in(store, module, imports)
    }

    pub(crate) fn new_in(
        store: &mut StoreOpaque,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance> {
        if !crate::Engine::same(&store.engine, module.engine()) {
            anyhow::bail!("the module was compiled for a different engine than the store's");
        }
        let info = &module.inner.info;
        if imports.len() != info.imports.len() {
            return Err(LinkError(format!(
                "expected {} imports, found {}",
                info.imports.len(),
                imports.len()
            ))
            .into());
        }
        let mut func_refs = Vec::with_capacity(info.funcs.len());
        let mut memories = Vec::new();
        let mut tables = Vec::new();
        let mut globals = Vec::new();
        for (i, (imp, ext)) in info.imports.iter().zip(imports).enumerate() {
            check_import(store, module, i, &imp.ty, ext)?;
            match ext {
                Extern::Func(f) => func_refs.push(f.entry()),
                Extern::Memory(m) => memories.push(m.index),
                Extern::Table(t) => tables.push(t.index),
                Extern::Global(g) => globals.push(g.index),
            }
        }

        let index = store.instances.len();
        let mut inst = Box::new(InstanceData {
            vmctx: empty_vmctx(),
            index,
            module: module.clone(),
            entries: Box::new([]),
            func_refs: Box::new([]),
            global_ptrs: Box::new([]),
            table_ptrs: Box::new([]),
            memories: Vec::new(),
            tables: Vec::new(),
            globals: Vec::new(),
            elems: Vec::new(),
            datas: Vec::new(),
            bounds_checks: false,
        });
        let vmctx: *mut VmContext = &mut inst.vmctx;
        let num_imported = info.num_imported_funcs as usize;
        let limits: *const tierup_abi::RuntimeLimits = &*store.limits;
        // The counter of code that counts in its slot (the baseline tier's).
        let hotness = module.inner.engine.initial_hotness();
        inst.entries = info.funcs[num_imported..]
            .iter()
            .enumerate()
            .map(|(i, ty)| {
                let type_id = module
                    .inner
                    .type_ids
                    .get(*ty as usize)
                    .copied()
                    .unwrap_or(0);
                let func_index = (num_imported + i) as u32;
                let lazy = module.inner.lazy_code(func_index);
                // SAFETY: the module's lazy records are valid while it lives.
                unsafe { FuncEntry::new(lazy, vmctx, limits, type_id, func_index, hotness) }
            })
            .collect();
        func_refs.extend(inst.entries.iter().map(|e| e as *const FuncEntry));
        inst.func_refs = func_refs.into_boxed_slice();

        // Globals, in order: an initialiser may read earlier (imported) globals.
        let mut global_ptrs: Vec<*mut ValRaw> = globals
            .iter()
            .map(|g| store.globals[*g].cell_ptr())
            .collect();
        for (ty, init) in &info.globals {
            let raw = eval(*init, &inst.func_refs, &global_ptrs);
            let g = Global::new_raw(store, *ty, raw);
            globals.push(g.index);
            global_ptrs.push(store.globals[g.index].cell_ptr());
        }
        for (ty, init) in &info.tables {
            let init = init.map_or(0, |e| {
                eval(e, &inst.func_refs, &global_ptrs).get_u64() as usize
            });
            let t = Table::new_raw(store, *ty, init)?;
            tables.push(t.index);
        }
        for ty in &info.memories {
            let m = Memory::new_in(store, *ty)?;
            memories.push(m.index);
        }
        // The slots start with the best code compiled so far for memories like these.
        // (Without `Config::guard_regions` no memory of the engine has one.)
        inst.bounds_checks = memories.iter().any(|m| store.memories[*m].def.guarded == 0);
        for e in inst.entries.iter() {
            let code = module.inner.initial_code(e.func_index, inst.bounds_checks);
            // SAFETY: the record belongs to the module, alive as long as the instance.
            unsafe { e.publish(code) };
        }
        inst.table_ptrs = tables
            .iter()
            .map(|t| &mut store.tables[*t].def as *mut TableDef)
            .collect();
        inst.global_ptrs = global_ptrs.into_boxed_slice();
        inst.elems = info
            .elems
            .iter()
            .map(|e| {
                e.items
                    .iter()
                    .map(|x| eval(*x, &inst.func_refs, &inst.global_ptrs).get_u64() as usize)
                    .collect()
            })
            .collect();
        inst.datas = info.datas.iter().map(|d| d.range.clone()).collect();

        let inst_ptr: *mut InstanceData = &mut *inst;
        let v = &mut inst.vmctx;
        if let Some(m) = memories.first() {
            v.memory_base = store.memories[*m].def.base;
            v.memory = &store.memories[*m].def;
        }
        v.func_refs = inst.func_refs.as_ptr();
        v.defined_funcs = inst.entries.as_ptr();
        v.globals = inst.global_ptrs.as_ptr();
        v.tables = inst.table_ptrs.as_ptr();
        v.type_ids = module.inner.type_ids.as_ptr();
        v.limits = limits;
        v.instance = inst_ptr.cast();
        v.store = (store as *mut StoreOpaque).cast();
        // SAFETY: the context lives in the boxed instance, which the store keeps until it
        // drops, and the store's drop forgets the word first.
        unsafe { store.interrupts.add(&v.interrupt, store.engine.epoch()) };
        inst.memories = memories;
        inst.tables = tables;
        inst.globals = globals;
        module.inner.register_instance(
            inst.entries.as_ptr(),
            inst.entries.len(),
            inst.bounds_checks,
        );
        // In the eager mode, the module's functions are compiled in the background from now
        // on (once per module and kind of memory).
        module.inner.queue_all(inst.bounds_checks);
        store.instances.push(inst);
        let handle = Instance {
            store: store.id,
            index,
        };
        handle.initialize(store)?;
        Ok(handle)
    }

    /// Applies the element and data segments, then runs the start function.
    fn initialize(&self, store: &mut StoreOpaque) -> Result<()> {
        let module = store.instances[self.index].module.clone();
        let info = &module.inner.info;
        for (i, seg) in info.elems.iter().enumerate() {
            match &seg.mode {
                ElemMode::Active { table, offset } => {
                    let inst = &store.instances[self.index];
                    let offset = eval(*offset, &inst.func_refs, &inst.global_ptrs).get_i32() as u32;
                    let items = core::mem::take(&mut store.instances[self.index].elems[i]);
                    let t = store.instances[self.index].tables[*table as usize];
                    let dst = store.tables[t].elements_mut();
                    if !tierup_abi::bulk::copy_in(&items, dst, offset as usize, 0, items.len()) {
                        return Err(Trap::new(TrapCode::TableOutOfBounds).into());
                    }
                }
                ElemMode::Passive => {}
                ElemMode::Declared => store.instances[self.index].elems[i] = Box::new([]),
            }
        }
        for (i, seg) in info.datas.iter().enumerate() {
            let Some((mem, offset)) = seg.active else {
                continue;
            };
            let inst = &store.instances[self.index];
            let offset = eval(offset, &inst.func_refs, &inst.global_ptrs).get_i32() as u32;
            let m = inst.memories[mem as usize];
            let bytes = &module.inner.env.wasm[seg.range.clone()];
            let dst = store.memories[m].data_mut();
            if !tierup_abi::bulk::copy_in(bytes, dst, offset as usize, 0, bytes.len()) {
                return Err(Trap::new(TrapCode::MemoryOutOfBounds).into());
            }
            store.instances[self.index].datas[i] = 0..0;
        }
        if let Some(start) = info.start {
            let entry = store.instances[self.index].func_refs[start as usize];
            let mut cells = [ValRaw::ZERO; 1];
            let wasm = store.wasm_entry();
            // SAFETY: the start function has type [] -> [] and its slot is live.
            unsafe { crate::func::call_raw(entry, &wasm, &mut cells)? };
        }
        Ok(())
    }

    pub(crate) fn data<'a>(&self, store: &'a StoreOpaque) -> &'a InstanceData {
        store.check(self.store);
        &store.instances[self.index]
    }

    /// The instance's module.
    pub fn module<'a>(&self, store: &'a impl crate::AsContext) -> &'a Module {
        &self.data(&store.as_context().0.opaque).module
    }

    pub(crate) fn export_in(&self, store: &StoreOpaque, name: &str) -> Option<Extern> {
        let inst = self.data(store);
        let e = inst
            .module
            .inner
            .info
            .exports
            .iter()
            .find(|e| e.name == name)?;
        Some(self.extern_of(store, e.kind, e.index))
    }

    fn extern_of(&self, store: &StoreOpaque, kind: ExportKind, index: u32) -> Extern {
        let inst = self.data(store);
        let i = index as usize;
        match kind {
            ExportKind::Func => Extern::Func(Func {
                store: store.id,
                entry: inst.func_refs[i] as usize,
            }),
            ExportKind::Memory => Extern::Memory(Memory {
                store: store.id,
                index: inst.memories[i],
            }),
            ExportKind::Table => Extern::Table(Table {
                store: store.id,
                index: inst.tables[i],
            }),
            ExportKind::Global => Extern::Global(Global {
                store: store.id,
                index: inst.globals[i],
            }),
        }
    }

    /// The export called `name`.
    pub fn get_export(&self, mut store: impl AsContextMut, name: &str) -> Option<Extern> {
        self.export_in(&store.as_context_mut().0.opaque, name)
    }

    /// All exports, in order.
    pub fn exports(&self, mut store: impl AsContextMut) -> Vec<(String, Extern)> {
        let store = &store.as_context_mut().0.opaque;
        let module = self.data(store).module.clone();
        module
            .inner
            .info
            .exports
            .iter()
            .map(|e| (e.name.clone(), self.extern_of(store, e.kind, e.index)))
            .collect()
    }

    /// The exported function `name`.
    pub fn get_func(&self, store: impl AsContextMut, name: &str) -> Option<Func> {
        self.get_export(store, name)?.into_func()
    }

    /// The exported function `name`, typed; fails if it is missing or has another type.
    pub fn get_typed_func<P: WasmTyList, R: WasmTyList>(
        &self,
        mut store: impl AsContextMut,
        name: &str,
    ) -> Result<TypedFunc<P, R>> {
        let f = self
            .get_func(&mut store, name)
            .ok_or_else(|| anyhow::anyhow!("no exported function `{name}`"))?;
        f.typed(&store)
    }

    /// The exported memory `name`.
    pub fn get_memory(&self, store: impl AsContextMut, name: &str) -> Option<Memory> {
        self.get_export(store, name)?.into_memory()
    }

    /// The exported table `name`.
    pub fn get_table(&self, store: impl AsContextMut, name: &str) -> Option<Table> {
        self.get_export(store, name)?.into_table()
    }

    /// The exported global `name`.
    pub fn get_global(&self, store: impl AsContextMut, name: &str) -> Option<Global> {
        self.get_export(store, name)?.into_global()
    }
}
