//! The harness's libcall table and the instance state it works on (tables, passive
//! segments, the memory's maximum), reached through `VmContext::instance`.

use std::sync::atomic::Ordering;

use tierup_abi::bulk::{copy_in, range};
use tierup_abi::trap::record;
use tierup_abi::{
    FuncCode, FuncEntry, Libcalls, ModuleEnv, TableDef, TrapCode, VmContext, WASM_PAGE_SIZE,
};

/// What the libcalls of one instance change.
pub struct State {
    pub elements: Vec<Vec<usize>>,
    pub tables: Vec<TableDef>,
    table_max: Vec<u64>,
    /// Passive element segments (empty once dropped or used actively).
    pub elems: Vec<Vec<usize>>,
    /// Passive data segments (empty once dropped or used actively).
    pub data: Vec<Vec<u8>>,
    memory_max: usize,
}

impl State {
    pub fn new(env: &ModuleEnv) -> State {
        let elements: Vec<Vec<usize>> = env
            .tables
            .iter()
            .map(|t| vec![0; t.initial as usize])
            .collect();
        let tables = elements
            .iter()
            .map(|_| TableDef {
                elements: std::ptr::null_mut(),
                length: 0,
            })
            .collect();
        State {
            elements,
            tables,
            table_max: env
                .tables
                .iter()
                .map(|t| t.maximum.unwrap_or(u64::from(u32::MAX)))
                .collect(),
            elems: Vec::new(),
            data: Vec::new(),
            memory_max: env
                .memories
                .first()
                .and_then(|m| m.maximum)
                .unwrap_or(65536) as usize,
        }
    }

    /// Points the table descriptors at the current elements.
    pub fn sync_tables(&mut self) {
        for (def, elements) in self.tables.iter_mut().zip(&mut self.elements) {
            def.elements = elements.as_mut_ptr();
            def.length = elements.len();
        }
    }
}

/// Makes `len` bytes at `base + at` readable and writable, or inaccessible.
pub fn protect(base: *mut u8, at: usize, len: usize, rw: bool) {
    if len == 0 {
        return;
    }
    let flags = if rw {
        rustix::mm::MprotectFlags::READ | rustix::mm::MprotectFlags::WRITE
    } else {
        rustix::mm::MprotectFlags::empty()
    };
    // SAFETY: the range lies inside the memory's reservation.
    unsafe { rustix::mm::mprotect(base.add(at).cast(), len, flags).unwrap() };
}

/// The state of the instance `vmctx` belongs to.
///
/// # Safety
///
/// `vmctx` must be a harness context.
unsafe fn state<'a>(vmctx: *mut VmContext) -> &'a mut State {
    // SAFETY: the harness points `instance` at the instance's state.
    unsafe { &mut *(*vmctx).instance.cast::<State>() }
}

/// Memory 0 of `vmctx` as a slice of its current length.
///
/// # Safety
///
/// `vmctx` must be a harness context with a memory.
unsafe fn memory<'a>(vmctx: *mut VmContext) -> &'a mut [u8] {
    // SAFETY: the descriptor and the accessible bytes are the harness's.
    unsafe {
        let def = &*(*vmctx).memory;
        std::slice::from_raw_parts_mut(def.base, def.length.load(Ordering::Relaxed))
    }
}

unsafe extern "sysv64" fn memory_grow(vmctx: *mut VmContext, _: u32, delta: u32) -> u32 {
    // SAFETY: a harness context with a memory.
    let (def, state) = unsafe { (&*(*vmctx).memory, state(vmctx)) };
    let length = def.length.load(Ordering::Relaxed);
    let old = length / WASM_PAGE_SIZE;
    let new = old + delta as usize;
    if new > state.memory_max {
        return u32::MAX;
    }
    protect(def.base, length, delta as usize * WASM_PAGE_SIZE, true);
    def.length.store(new * WASM_PAGE_SIZE, Ordering::Relaxed);
    old as u32
}

unsafe extern "sysv64" fn memory_init(
    vmctx: *mut VmContext,
    _: u32,
    data: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: a harness context with a memory.
    let (state, memory) = unsafe { (state(vmctx), memory(vmctx)) };
    let bytes = &state.data[data as usize];
    if copy_in(bytes, memory, dst as usize, src as usize, len as usize) {
        0
    } else {
        record(TrapCode::MemoryOutOfBounds)
    }
}

unsafe extern "sysv64" fn data_drop(vmctx: *mut VmContext, data: u32) {
    // SAFETY: a harness context.
    unsafe { state(vmctx) }.data[data as usize] = Vec::new();
}

unsafe extern "sysv64" fn table_grow(
    vmctx: *mut VmContext,
    table: u32,
    init: usize,
    delta: u32,
) -> u32 {
    // SAFETY: a harness context.
    let state = unsafe { state(vmctx) };
    let t = table as usize;
    let old = state.elements[t].len();
    if old as u64 + u64::from(delta) > state.table_max[t] {
        return u32::MAX;
    }
    state.elements[t].resize(old + delta as usize, init);
    state.sync_tables();
    old as u32
}

unsafe extern "sysv64" fn table_fill(
    vmctx: *mut VmContext,
    table: u32,
    dst: u32,
    val: usize,
    len: u32,
) -> u32 {
    // SAFETY: a harness context.
    let elements = &mut unsafe { state(vmctx) }.elements[table as usize];
    match range(dst as usize, len as usize, elements.len()) {
        Some(r) => {
            elements[r].fill(val);
            0
        }
        None => record(TrapCode::TableOutOfBounds),
    }
}

unsafe extern "sysv64" fn table_copy(
    vmctx: *mut VmContext,
    dst_table: u32,
    src_table: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: a harness context.
    let state = unsafe { state(vmctx) };
    let from = state.elements[src_table as usize].clone();
    let to = &mut state.elements[dst_table as usize];
    if copy_in(&from, to, dst as usize, src as usize, len as usize) {
        0
    } else {
        record(TrapCode::TableOutOfBounds)
    }
}

unsafe extern "sysv64" fn table_init(
    vmctx: *mut VmContext,
    table: u32,
    elem: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: a harness context.
    let state = unsafe { state(vmctx) };
    let items = &state.elems[elem as usize];
    let to = &mut state.elements[table as usize];
    if copy_in(items, to, dst as usize, src as usize, len as usize) {
        0
    } else {
        record(TrapCode::TableOutOfBounds)
    }
}

unsafe extern "sysv64" fn elem_drop(vmctx: *mut VmContext, elem: u32) {
    // SAFETY: a harness context.
    unsafe { state(vmctx) }.elems[elem as usize] = Vec::new();
}

unsafe extern "sysv64" fn translate(_: *const FuncEntry) -> *const FuncCode {
    std::ptr::null()
}

unsafe extern "sysv64" fn raise(status: u32) {
    super::traps::raise(status);
}

/// Machine code counts no hotness; nothing here tiers up.
unsafe extern "sysv64" fn hot(
    _: *mut VmContext,
    _: u32,
    _: u32,
    _: u32,
    _: u32,
) -> *const FuncCode {
    std::ptr::null()
}

/// The libcall table of every harness instance.
pub static LIBCALLS: Libcalls = Libcalls {
    memory_grow,
    memory_init,
    data_drop,
    table_grow,
    table_fill,
    table_copy,
    table_init,
    elem_drop,
    translate,
    raise,
    hot,
    epoch,
    epoch_preserving,
};

/// The harness has no epoch (its limits point at none), so no code calls this; should one, it
/// traps with `interrupt`.
unsafe extern "sysv64" fn epoch(_vmctx: *mut VmContext) -> u32 {
    tierup_abi::trap::record(tierup_abi::TrapCode::Interrupt)
}

/// The harness has no epoch, so no code calls this; should one, it ends the process (it cannot
/// return a status, and the harness has nothing to raise to).
unsafe extern "sysv64" fn epoch_preserving(_vmctx: *mut VmContext) {
    eprintln!("tierup: `epoch_preserving` called without an epoch");
    std::process::abort();
}
