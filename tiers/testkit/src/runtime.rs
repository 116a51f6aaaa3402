//! The state of an instance that libcalls change: its linear memory ([`LinearMemory`]), its
//! tables ([`Table`]), the data and element segments not yet dropped, and the code the
//! tier under test made. The context's `instance` field points at the [`Runtime`].

use core::ops::Range;
use core::sync::atomic::Ordering;
use std::alloc::Layout;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use tierup_abi::{FuncCode, MemoryDef, ModuleEnv, TableDef, WASM_PAGE_SIZE, WASM32_MAX_PAGES};

use tierup_abi::Compiler;

use crate::compiler::Code;
use crate::shared::Shared;

/// The most pages a kit memory can have: 256 MiB. The kit reserves a memory's maximum
/// (or this cap, if the maximum is larger or absent) when it creates the memory, so the
/// base never moves; `memory.grow` beyond the cap returns -1 as if the host had run out.
pub const MAX_MEMORY_PAGES: u64 = 4096;

/// The most elements a kit table can have; `table.grow` beyond it returns -1.
pub const MAX_TABLE_ELEMENTS: u32 = 1 << 20;

/// The one linear memory of an instance.
///
/// The whole reservation is allocated zeroed up front (the allocator maps it lazily, so
/// untouched pages cost nothing), and bytes at or beyond the current length are never
/// written, so growing only moves the bound. There is no guard region: the tier under
/// test must check its accesses against `MemoryDef::length`.
pub(crate) struct LinearMemory {
    def: Shared<MemoryDef>,
    /// The allocation, `None` when the maximum is zero pages (the base is then dangling
    /// and the length always zero).
    layout: Option<Layout>,
    max_pages: u64,
}

impl LinearMemory {
    /// A memory of type `ty`, `ty.initial` pages long.
    pub(crate) fn new(ty: &wasmparser::MemoryType) -> Result<LinearMemory, String> {
        if ty.memory64 || ty.shared || ty.page_size_log2.is_some() {
            return Err(format!(
                "the kit supports 32-bit unshared memories only: {ty:?}"
            ));
        }
        let max_pages = ty
            .maximum
            .unwrap_or(WASM32_MAX_PAGES)
            .min(WASM32_MAX_PAGES)
            .min(MAX_MEMORY_PAGES);
        if ty.initial > max_pages {
            return Err(format!(
                "a memory of {} pages exceeds the kit's cap of {max_pages} pages",
                ty.initial
            ));
        }
        let bytes = max_pages as usize * WASM_PAGE_SIZE;
        let (base, layout) = if bytes == 0 {
            (core::ptr::NonNull::<u8>::dangling().as_ptr(), None)
        } else {
            // An alignment of 16 keeps the allocation a `calloc`, which maps large blocks
            // lazily instead of clearing them.
            let layout = Layout::from_size_align(bytes, 16).map_err(|e| e.to_string())?;
            // SAFETY: the layout has a non-zero size.
            let base = unsafe { std::alloc::alloc_zeroed(layout) };
            if base.is_null() {
                return Err(format!("cannot reserve {bytes} bytes of linear memory"));
            }
            (base, Some(layout))
        };
        Ok(LinearMemory {
            def: Shared::new(Box::new(MemoryDef {
                base,
                length: (ty.initial as usize * WASM_PAGE_SIZE).into(),
                guarded: 0,
            })),
            layout,
            max_pages,
        })
    }

    /// The descriptor generated code reads.
    pub(crate) fn def(&self) -> *mut MemoryDef {
        self.def.ptr()
    }

    /// The base address; never changes.
    pub(crate) fn base(&self) -> *mut u8 {
        // SAFETY: `def` is alive while `self` is; `base` is never written after `new`.
        unsafe { (*self.def.ptr()).base }
    }

    /// The current length in bytes.
    pub(crate) fn len(&self) -> usize {
        // SAFETY: as in `base`; `length` is atomic.
        unsafe { (*self.def.ptr()).length.load(Ordering::Acquire) }
    }

    /// The current size in pages.
    pub(crate) fn pages(&self) -> u64 {
        (self.len() / WASM_PAGE_SIZE) as u64
    }

    /// `memory.grow`: the old size in pages, or `u32::MAX` beyond the maximum.
    pub(crate) fn grow(&mut self, delta: u32) -> u32 {
        let old = self.pages();
        let new = old + u64::from(delta);
        if new > self.max_pages {
            return u32::MAX;
        }
        // SAFETY: as in `base`. The bytes up to `new` pages lie inside the reservation and
        // are still zero: nothing writes at or beyond the current length.
        unsafe {
            (*self.def.ptr())
                .length
                .store(new as usize * WASM_PAGE_SIZE, Ordering::Release)
        };
        old as u32
    }

    /// The memory's current contents.
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: the first `len()` bytes of the allocation are initialised (zeroed, then
        // written only by wasm code and the kit) and alive while `self` is; no code runs
        // while the borrow of `self` lasts (calls into wasm take the instance mutably).
        unsafe { core::slice::from_raw_parts(self.base(), self.len()) }
    }

    /// The memory's current contents, mutably.
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`; `&mut self` makes the borrow exclusive on the Rust side,
        // and the slice is derived from the base pointer code uses, which stays valid.
        unsafe { core::slice::from_raw_parts_mut(self.base(), self.len()) }
    }
}

impl Drop for LinearMemory {
    fn drop(&mut self) {
        if let Some(layout) = self.layout {
            // SAFETY: `base` was allocated in `new` with exactly this layout.
            unsafe { std::alloc::dealloc(self.base(), layout) };
        }
    }
}

/// One table of an instance. `def.elements` and `def.length` describe `elems` again after
/// every change the kit makes, so generated code always finds the current buffer.
pub(crate) struct Table {
    def: Shared<TableDef>,
    elems: Vec<usize>,
    max: u32,
}

impl Table {
    /// A table of type `ty`, `ty.initial` elements set to `init`.
    pub(crate) fn new(ty: &wasmparser::TableType, init: usize) -> Result<Table, String> {
        if ty.table64 {
            return Err("the kit supports 32-bit tables only".into());
        }
        let max = ty
            .maximum
            .unwrap_or(u64::from(u32::MAX))
            .min(u64::from(MAX_TABLE_ELEMENTS)) as u32;
        if ty.initial > u64::from(max) {
            return Err(format!(
                "a table of {} elements exceeds the kit's cap of {max}",
                ty.initial
            ));
        }
        let mut table = Table {
            def: Shared::new(Box::new(TableDef {
                elements: core::ptr::null_mut(),
                length: 0,
            })),
            elems: vec![init; ty.initial as usize],
            max,
        };
        table.sync();
        Ok(table)
    }

    /// Points the descriptor at the current buffer and length (after every change).
    fn sync(&mut self) {
        // SAFETY: `def` is alive while `self` is, and no code runs during a libcall's or the
        // kit's change of the table.
        unsafe {
            (*self.def.ptr()).elements = self.elems.as_mut_ptr();
            (*self.def.ptr()).length = self.elems.len();
        }
    }

    /// The descriptor generated code reads.
    pub(crate) fn def(&self) -> *mut TableDef {
        self.def.ptr()
    }

    /// The elements.
    pub(crate) fn elems(&self) -> &[usize] {
        &self.elems
    }

    /// Runs `f` on the elements, then describes them again.
    pub(crate) fn update<R>(&mut self, f: impl FnOnce(&mut [usize]) -> R) -> R {
        let r = f(&mut self.elems);
        self.sync();
        r
    }

    /// `table.grow`: the old size, or `u32::MAX` beyond the maximum or out of memory.
    pub(crate) fn grow(&mut self, delta: u32, init: usize) -> u32 {
        let old = self.elems.len() as u32;
        let Some(new) = old.checked_add(delta).filter(|n| *n <= self.max) else {
            return u32::MAX;
        };
        if self.elems.try_reserve_exact(delta as usize).is_err() {
            return u32::MAX;
        }
        self.elems.resize(new as usize, init);
        self.sync();
        old
    }
}

/// What the libcalls of one instance work on (the context's `instance` points here).
pub(crate) struct Runtime {
    pub(crate) env: Arc<ModuleEnv>,
    pub(crate) compiler: Box<dyn Compiler>,
    pub(crate) memory: Option<LinearMemory>,
    pub(crate) tables: Vec<Table>,
    /// Data segments as ranges of the module's bytes; empty once dropped.
    pub(crate) datas: Vec<Range<usize>>,
    /// Element segments as raw elements; empty once dropped.
    pub(crate) elems: Vec<Box<[usize]>>,
    /// The record every slot of a defined function starts with when translation is lazy.
    pub(crate) lazy: Shared<FuncCode>,
    /// Everything the tier compiled for this instance, alive until the instance drops.
    pub(crate) compiled: Vec<Code>,
}

impl Runtime {
    /// Compiles defined function `func_index` and keeps the code; returns its record.
    /// A panic of the compiler is an error with the panic's message.
    pub(crate) fn compile(&mut self, func_index: u32) -> Result<*const FuncCode, String> {
        let (compiler, env) = (&*self.compiler, &*self.env);
        let mut compiled = catch_unwind(AssertUnwindSafe(|| {
            Code::compile(compiler, env, func_index)
        }))
        .map_err(|payload| format!("the compiler panicked: {}", panic_message(&*payload)))??;
        let code = compiled.record();
        if code.is_null() {
            return Err(format!("the compiler gave function {func_index} no code"));
        }
        self.compiled.push(compiled);
        Ok(code)
    }
}

/// The text of a panic's payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}
