//! [`Instance`]: one small real instance of a module, and how a test calls into it and
//! looks at its memory, globals, tables and slots.

use std::sync::Arc;

use tierup_abi::trap::{self, TrapRecord};
use tierup_abi::{
    ArrayEntry, FuncCode, FuncEntry, ModuleEnv, STATUS_OK, TableDef, Tier, TrapCode, ValRaw,
    VmContext,
};
use wasmparser::ExternalKind;

use crate::instantiate::Options;
use crate::runtime::Runtime;
use crate::shared::Shared;
use tierup_abi::{Compiler, RuntimeLimits};

/// One export of the module.
pub(crate) struct Export {
    pub(crate) name: String,
    pub(crate) kind: ExternalKind,
    pub(crate) index: u32,
}

/// An instance of one module, run by the tier under test.
///
/// Everything generated code reaches (the context, slots, globals, descriptors, memory)
/// lives in allocations of its own that never move; the instance is not `Send`. Calls take
/// the instance mutably, so no borrow of its memory or tables is alive while code runs.
/// The helpers that return a plain value (`i32`, `memory`, ...) panic on misuse (an
/// unknown export, a trap where a result was expected): they are for tests.
pub struct Instance {
    pub(crate) vmctx: Shared<VmContext>,
    pub(crate) entries: Shared<[FuncEntry]>,
    pub(crate) func_refs: Shared<[*const FuncEntry]>,
    pub(crate) globals: Shared<[ValRaw]>,
    pub(crate) _global_ptrs: Shared<[*mut ValRaw]>,
    pub(crate) _table_ptrs: Shared<[*mut TableDef]>,
    pub(crate) type_ids: Shared<[u32]>,
    pub(crate) _limits: Shared<RuntimeLimits>,
    pub(crate) _host: Option<Shared<FuncCode>>,
    /// Declared after everything that points into the code it keeps.
    pub(crate) runtime: Shared<Runtime>,
    pub(crate) env: Arc<ModuleEnv>,
    pub(crate) exports: Vec<Export>,
}

impl core::fmt::Debug for Instance {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Instance")
            .field("vmctx", &self.vmctx.ptr())
            .field("funcs", &self.env.funcs.len())
            .finish_non_exhaustive()
    }
}

impl Instance {
    /// An instance of the wat module `wat` (no imported functions), every function compiled
    /// by `compiler` up front.
    ///
    /// # Panics
    ///
    /// If the module does not parse, validate or instantiate (see [`Instance::instantiate`]).
    pub fn new(compiler: impl Compiler + 'static, wat: &str) -> Instance {
        Instance::from_bytes(compiler, wat.as_bytes(), None)
    }

    /// Like [`Instance::new`], with every imported function implemented by `host`.
    pub fn with_host(compiler: impl Compiler + 'static, wat: &str, host: ArrayEntry) -> Instance {
        Instance::from_bytes(compiler, wat.as_bytes(), Some(host))
    }

    /// Like [`Instance::with_host`], from wat text or a binary module.
    pub fn from_bytes(
        compiler: impl Compiler + 'static,
        bytes: &[u8],
        host: Option<ArrayEntry>,
    ) -> Instance {
        let mut options = Options::new();
        if let Some(host) = host {
            options = options.host(host);
        }
        match Instance::instantiate(compiler, bytes, &options) {
            Ok(i) => i,
            Err(e) => panic!("cannot instantiate the module: {e}"),
        }
    }

    /// The module's environment, as the compiler saw it.
    pub fn env(&self) -> &Arc<ModuleEnv> {
        &self.env
    }

    /// The instance's context.
    pub fn vmctx(&self) -> *mut VmContext {
        self.vmctx.ptr()
    }

    /// The runtime, mutably.
    pub(crate) fn runtime_mut(&mut self) -> &mut Runtime {
        // SAFETY: the runtime lives as long as `self`; `&mut self` means no code runs and
        // no other borrow of the runtime exists.
        unsafe { &mut *self.runtime.ptr() }
    }

    /// The runtime.
    fn runtime(&self) -> &Runtime {
        // SAFETY: as in `runtime_mut`; a shared borrow of `self` means no code runs.
        unsafe { &*self.runtime.ptr() }
    }

    /// The slot of function `func_index`. Panics if there is none.
    pub(crate) fn entry_ptr(&self, func_index: u32) -> *mut FuncEntry {
        match self.entries.elem(func_index as usize) {
            Some(e) => e,
            None => panic!("the module has no function {func_index}"),
        }
    }

    /// The index of the function exported as `name`.
    pub fn func_index(&self, name: &str) -> Option<u32> {
        self.export(name, ExternalKind::Func)
    }

    /// The index of the export `name` of kind `kind`.
    fn export(&self, name: &str, kind: ExternalKind) -> Option<u32> {
        let e = self.exports.iter().find(|e| e.name == name)?;
        (e.kind == kind || (kind == ExternalKind::Func && e.kind == ExternalKind::FuncExact))
            .then_some(e.index)
    }

    /// The slot of function `func_index` (what a funcref to it holds), or `None`.
    pub fn entry(&self, func_index: u32) -> Option<*const FuncEntry> {
        // SAFETY: `func_refs` has one live pointer per function.
        self.func_refs
            .elem(func_index as usize)
            .map(|p| unsafe { *p })
    }

    /// The tier of the code in function `func_index`'s slot now: `Tier::Lazy` until a lazy
    /// instance first calls it, `Tier::Host` for imports.
    pub fn tier_of(&self, func_index: u32) -> Option<Tier> {
        let entry = self.entry(func_index)?;
        // SAFETY: the slot is live, and its code pointer always points at a valid record.
        Some(unsafe { (*(*entry).load_code()).tier })
    }

    /// Calls function `func_index` with argument cells; returns the result cells or the
    /// trap.
    ///
    /// # Panics
    ///
    /// If there is no such function or `args` does not match its parameters in number.
    pub fn call_index(
        &mut self,
        func_index: u32,
        args: &[ValRaw],
    ) -> Result<Vec<ValRaw>, TrapRecord> {
        let entry = self.entry_ptr(func_index);
        let ty = self.env.func_type(func_index);
        let (np, nr) = (ty.params().len(), ty.results().len());
        assert_eq!(np, args.len(), "function {func_index} takes {np} arguments");
        let mut cells = vec![ValRaw::ZERO; np.max(nr)];
        cells[..np].copy_from_slice(args);
        // SAFETY: the slot and its code are alive in `self` and the cells hold the
        // parameters, with room for the results. Nothing borrows the instance's parts while
        // the code runs (`&mut self`).
        let status = unsafe { FuncEntry::call(entry, core::ptr::null_mut(), cells.as_mut_ptr()) };
        if status != STATUS_OK {
            return Err(trap::take(status));
        }
        cells.truncate(nr);
        Ok(cells)
    }

    /// The index of the exported function `name`, or a panic.
    fn func_export(&self, name: &str) -> u32 {
        match self.func_index(name) {
            Some(i) => i,
            None => panic!("the module exports no function `{name}`"),
        }
    }

    /// Calls export `name` with argument cells (any types, v128 included); returns the
    /// result cells or the trap.
    ///
    /// # Panics
    ///
    /// If there is no such export or `args` does not match its parameters in number.
    pub fn call_cells(&mut self, name: &str, args: &[ValRaw]) -> Result<Vec<ValRaw>, TrapRecord> {
        let f = self.func_export(name);
        self.call_index(f, args)
    }

    /// Calls export `name` with raw 64-bit arguments (the low halves of the cells); returns
    /// the raw results or the trap.
    ///
    /// # Panics
    ///
    /// As for [`Instance::call_cells`].
    pub fn call(&mut self, name: &str, args: &[u64]) -> Result<Vec<u64>, TrapRecord> {
        let args: Vec<ValRaw> = args.iter().map(|a| ValRaw::from_u64(*a)).collect();
        let results = self.call_cells(name, &args)?;
        Ok(results.iter().map(ValRaw::get_u64).collect())
    }

    /// Calls an export returning one i32.
    ///
    /// # Panics
    ///
    /// If the call traps or returns nothing.
    pub fn i32(&mut self, name: &str, args: &[u64]) -> i32 {
        self.one(name, args) as u32 as i32
    }

    /// Calls an export returning one i64.
    ///
    /// # Panics
    ///
    /// If the call traps or returns nothing.
    pub fn i64(&mut self, name: &str, args: &[u64]) -> i64 {
        self.one(name, args) as i64
    }

    /// The first result of a call that must not trap.
    fn one(&mut self, name: &str, args: &[u64]) -> u64 {
        match self.call(name, args) {
            Ok(r) if !r.is_empty() => r[0],
            Ok(_) => panic!("`{name}` returned no result"),
            Err(t) => panic!("`{name}` trapped: {t:?}"),
        }
    }

    /// The trap of a call that must trap.
    ///
    /// # Panics
    ///
    /// If the call returns normally.
    pub fn trap(&mut self, name: &str, args: &[u64]) -> TrapCode {
        match self.call(name, args) {
            Ok(r) => panic!("`{name}` returned {r:?} instead of trapping"),
            Err(t) => t.code.unwrap_or(TrapCode::CompileError),
        }
    }

    /// The linear memory's current contents (empty without a memory).
    pub fn memory(&self) -> &[u8] {
        self.runtime().memory.as_ref().map_or(&[], |m| m.bytes())
    }

    /// The linear memory's current contents, mutably (empty without a memory).
    pub fn memory_mut(&mut self) -> &mut [u8] {
        match self.runtime_mut().memory.as_mut() {
            Some(m) => m.bytes_mut(),
            None => &mut [],
        }
    }

    /// The linear memory's current size in pages (0 without a memory).
    pub fn memory_pages(&self) -> u64 {
        self.runtime().memory.as_ref().map_or(0, |m| m.pages())
    }

    /// Writes the little-endian u32 `v` to memory at `at`.
    ///
    /// # Panics
    ///
    /// If `at .. at + 4` is out of bounds.
    pub fn put_u32(&mut self, at: usize, v: u32) {
        self.memory_mut()[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    /// The little-endian u32 in memory at `at`.
    ///
    /// # Panics
    ///
    /// If `at .. at + 4` is out of bounds.
    pub fn get_u32(&self, at: usize) -> u32 {
        let mut b = [0; 4];
        b.copy_from_slice(&self.memory()[at..at + 4]);
        u32::from_le_bytes(b)
    }

    /// The value of global `index` (imports first), or `None`.
    pub fn global_at(&self, index: u32) -> Option<ValRaw> {
        // SAFETY: the cell is alive in `self`, and no code runs while `self` is borrowed.
        self.globals.elem(index as usize).map(|g| unsafe { *g })
    }

    /// Sets global `index` (imports first) to `v`; `false` if there is no such global.
    pub fn set_global_at(&mut self, index: u32, v: ValRaw) -> bool {
        match self.globals.elem(index as usize) {
            // SAFETY: as in `global_at`; `&mut self` makes the write exclusive.
            Some(g) => unsafe {
                *g = v;
                true
            },
            None => false,
        }
    }

    /// The value of the global exported as `name`.
    ///
    /// # Panics
    ///
    /// If there is no such export.
    pub fn global(&self, name: &str) -> ValRaw {
        match self
            .export(name, ExternalKind::Global)
            .and_then(|g| self.global_at(g))
        {
            Some(v) => v,
            None => panic!("the module exports no global `{name}`"),
        }
    }

    /// The elements of table `index` (imports first): funcrefs are slot addresses (see
    /// [`Instance::entry`]), externrefs opaque handles, 0 is null.
    pub fn table(&self, index: u32) -> Option<&[usize]> {
        self.runtime().tables.get(index as usize).map(|t| t.elems())
    }

    /// The canonical signature id of every type index (the first index of an equal type).
    pub fn type_ids(&self) -> &[u32] {
        // SAFETY: the array is alive in `self` and never changes after instantiation.
        unsafe { &*self.type_ids.ptr() }
    }
}
