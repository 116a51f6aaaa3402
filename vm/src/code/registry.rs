//! The process-wide registry of executable code: from a program counter to the
//! [`CodeInfo`] of the code it lies in, readable from a signal handler.
//!
//! Two levels. The registry holds the ranges of the [`CodeArena`](super::arena)s (one or a
//! few per module, registered when made and unregistered when dropped) as an immutable,
//! sorted snapshot behind one atomic pointer; each arena holds an append-only index of the
//! pieces of code in it, sorted because an arena only grows upwards.
//!
//! A lookup allocates nothing and takes no lock: it announces itself in `READERS`, loads
//! the snapshot, searches, reads, and leaves. A writer (under a mutex only writers take)
//! publishes a new snapshot and then waits until no reader is left before it frees the
//! old one, so no lookup ever reads a freed snapshot, index or info. Readers are short
//! (a binary search), so the wait is too.

use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::cell::UnsafeCell;
use std::mem::MaybeUninit;

use parking_lot::Mutex;
use tierup_abi::{SourceLoc, Tier, TrapCode, TrapSite};

/// What a piece of code is, for backtraces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CodeOwner {
    /// A function of a module (`module` is the identity of its `ModuleInner`), in the
    /// code of `tier` (its code, or one of its OSR entries).
    Func {
        module: *const (),
        func_index: u32,
        tier: Tier,
    },
    /// An adapter from the register convention to an array entry: no wasm frame.
    Adapter,
}

/// The tables of one piece of code, owned by its arena.
#[derive(Debug)]
pub(crate) struct CodeInfo {
    pub owner: CodeOwner,
    /// Sorted by offset.
    pub traps: Box<[TrapSite]>,
    /// Sorted by code offset.
    pub wasm_map: Box<[SourceLoc]>,
    /// Where the code may be interrupted by signal (`MachineCode::preemptible`).
    pub preemptible: core::ops::Range<u32>,
}

impl CodeInfo {
    /// The trap of a fault at `offset`.
    pub fn trap_at(&self, offset: u32) -> Option<TrapCode> {
        tierup_abi::compile::trap_at(&self.traps, offset)
    }

    /// The wasm offset of the instruction whose code contains `offset`.
    pub fn wasm_offset(&self, offset: u32) -> Option<u32> {
        tierup_abi::compile::wasm_offset(&self.wasm_map, offset)
    }
}

/// One piece of code in an arena's index.
struct IndexEntry {
    start: usize,
    end: usize,
    info: Box<CodeInfo>,
}

/// The append-only index of an arena: at most `capacity` entries, in address order.
pub(crate) struct ArenaIndex {
    entries: Box<[UnsafeCell<MaybeUninit<IndexEntry>>]>,
    /// Entries below `len` are initialised and never change.
    len: AtomicUsize,
}

// SAFETY: entries below `len` are immutable once published (Release/Acquire on `len`);
// only the arena's owner appends, under its own lock.
unsafe impl Sync for ArenaIndex {}
// SAFETY: see `Sync`; the infos are plain data.
unsafe impl Send for ArenaIndex {}

impl ArenaIndex {
    pub fn new(capacity: usize) -> ArenaIndex {
        let entries: Box<[MaybeUninit<IndexEntry>]> = Box::new_uninit_slice(capacity);
        // SAFETY: `UnsafeCell<MaybeUninit<T>>` has the layout of `MaybeUninit<T>`, and an
        // uninitialised value needs no initialisation (the allocation stays untouched until
        // entries are written, so a large index costs address space only).
        let entries = unsafe {
            Box::from_raw(Box::into_raw(entries) as *mut [UnsafeCell<MaybeUninit<IndexEntry>>])
        };
        ArenaIndex {
            entries,
            len: AtomicUsize::new(0),
        }
    }

    /// The entries that can still be appended.
    pub fn room(&self) -> usize {
        self.entries.len() - self.len.load(Ordering::Relaxed)
    }

    /// Appends the code at `[start, end)`, which lies above every entry so far. Returns
    /// false when the index is full.
    ///
    /// # Safety
    ///
    /// Only one thread appends at a time (the arena's lock).
    pub unsafe fn push(&self, start: usize, end: usize, info: Box<CodeInfo>) -> bool {
        let len = self.len.load(Ordering::Relaxed);
        let Some(cell) = self.entries.get(len) else {
            return false;
        };
        // SAFETY: `cell` is past `len`, so no reader looks at it, and the caller is the
        // only writer.
        unsafe { (*cell.get()).write(IndexEntry { start, end, info }) };
        self.len.store(len + 1, Ordering::Release);
        true
    }

    /// The entry containing `pc`.
    fn find(&self, pc: usize) -> Option<(&CodeInfo, usize)> {
        let len = self.len.load(Ordering::Acquire);
        // SAFETY: the first `len` entries are initialised and immutable.
        let entries =
            unsafe { core::slice::from_raw_parts(self.entries.as_ptr().cast::<IndexEntry>(), len) };
        let i = entries.partition_point(|e| e.start <= pc).checked_sub(1)?;
        let e = &entries[i];
        (pc < e.end).then_some((&*e.info, e.start))
    }
}

impl Drop for ArenaIndex {
    fn drop(&mut self) {
        let len = *self.len.get_mut();
        for cell in &mut self.entries[..len] {
            // SAFETY: the first `len` entries are initialised, and dropped once.
            unsafe { cell.get_mut().assume_init_drop() };
        }
    }
}

/// One registered arena.
#[derive(Clone, Copy)]
struct Range {
    start: usize,
    end: usize,
    index: *const ArenaIndex,
}

/// The current snapshot: ranges sorted by start, never overlapping.
struct Snapshot(Box<[Range]>);

static SNAPSHOT: AtomicPtr<Snapshot> = AtomicPtr::new(core::ptr::null_mut());
static READERS: AtomicUsize = AtomicUsize::new(0);
static WRITER: Mutex<()> = Mutex::new(());

/// Calls `f` with the info of the code `pc` lies in and `pc`'s offset in that code, or
/// returns `None` when `pc` is in no registered code. Allocates nothing and takes no
/// lock, so a signal handler may call it.
pub(crate) fn lookup<R>(pc: usize, f: impl FnOnce(&CodeInfo, u32) -> R) -> Option<R> {
    READERS.fetch_add(1, Ordering::SeqCst);
    let snapshot = SNAPSHOT.load(Ordering::SeqCst);
    // SAFETY: a writer frees a snapshot (and an unregistered arena's index) only after it
    // replaced it and saw no reader, and this reader announced itself before loading it.
    let result = unsafe { snapshot.as_ref() }.and_then(|s| {
        let ranges = &s.0;
        let i = ranges.partition_point(|r| r.start <= pc).checked_sub(1)?;
        let r = ranges[i];
        if pc >= r.end {
            return None;
        }
        // SAFETY: as above: the index outlives its registration.
        let (info, start) = unsafe { &*r.index }.find(pc)?;
        Some(f(info, (pc - start) as u32))
    });
    READERS.fetch_sub(1, Ordering::SeqCst);
    result
}

/// Replaces the snapshot with `edit` applied to a copy of it, then waits until no lookup
/// can still be reading the old one, and frees it.
fn update(edit: impl FnOnce(&mut Vec<Range>)) {
    let _writer = WRITER.lock();
    let old = SNAPSHOT.load(Ordering::SeqCst);
    // SAFETY: only writers replace the snapshot, and this one holds the lock.
    let mut ranges: Vec<Range> = unsafe { old.as_ref() }.map_or(Vec::new(), |s| s.0.to_vec());
    edit(&mut ranges);
    ranges.sort_by_key(|r| r.start);
    let new = Box::into_raw(Box::new(Snapshot(ranges.into_boxed_slice())));
    SNAPSHOT.store(new, Ordering::SeqCst);
    wait_for_readers();
    if !old.is_null() {
        // SAFETY: `old` came from `Box::into_raw` and no reader can hold it any more.
        drop(unsafe { Box::from_raw(old) });
    }
}

/// Waits until no lookup is in progress.
fn wait_for_readers() {
    while READERS.load(Ordering::SeqCst) != 0 {
        std::thread::yield_now();
    }
}

/// Registers an arena at `[start, end)` with its index.
///
/// # Safety
///
/// `index` must stay alive until [`unregister`] of `start` has returned, and the range
/// must not overlap a registered one.
pub(crate) unsafe fn register(start: usize, end: usize, index: *const ArenaIndex) {
    update(|r| r.push(Range { start, end, index }));
}

/// Unregisters the arena that starts at `start`. Once this returns, no lookup reads its
/// index any more.
pub(crate) fn unregister(start: usize) {
    update(|r| r.retain(|x| x.start != start));
}

// SAFETY: a range only names an index, which is `Sync`.
unsafe impl Send for Range {}
