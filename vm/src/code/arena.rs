//! Executable memory: [`CodeMemory`], the code of one owner (a module, or the engine's
//! adapters), in arenas of reserved address space.
//!
//! Each load gets pages of its own (one piece, or a batch of pieces that share them): the
//! pages are made readable and writable, the bytes are copied in and patched, and then the
//! pages are made readable and executable, for good. No page is ever writable and
//! executable at once, and code never moves (a later load never shares a page that
//! already runs). An arena is registered
//! for the signal handler when it is made, and every piece is in its index before its
//! address is returned; arenas are unregistered and unmapped only when their owner is
//! dropped.

use parking_lot::Mutex;
use rustix::mm::MprotectFlags;
use tierup_abi::{MachineCode, Reloc, RelocKind, RelocTarget};

use super::registry::{self, ArenaIndex, CodeInfo, CodeOwner};

/// The size of a page of code.
const PAGE: usize = 4096;

/// The average size of a piece of code an arena's index is made for (pieces loaded one at
/// a time take a page each; loaded together, they share pages). A full index starts a new
/// arena.
const PIECE: usize = 128;

/// The size from which a load populates its pages in one call rather than faulting them
/// in one at a time as the copy reaches them.
const POPULATE_FROM: usize = 16 * PAGE;

/// One reservation of address space with the code placed in it so far.
struct Arena {
    base: *mut u8,
    len: usize,
    /// Bytes used from `base`, page-aligned.
    used: usize,
    index: Box<ArenaIndex>,
}

// SAFETY: the mapping is owned by the arena; mutation happens under `CodeMemory`'s lock.
unsafe impl Send for Arena {}

impl Arena {
    /// An arena of `len` bytes whose index holds at least `pieces` entries.
    fn new(len: usize, pieces: usize) -> std::io::Result<Arena> {
        let len = len.next_multiple_of(PAGE);
        // SAFETY: a fresh anonymous mapping with no access, which nothing else references.
        let base = unsafe {
            rustix::mm::mmap_anonymous(
                core::ptr::null_mut(),
                len,
                rustix::mm::ProtFlags::empty(),
                rustix::mm::MapFlags::PRIVATE | rustix::mm::MapFlags::NORESERVE,
            )
        }?
        .cast::<u8>();
        let index = Box::new(ArenaIndex::new((len / PIECE).max(pieces)));
        // SAFETY: the index is owned by the arena, which unregisters before dropping it;
        // the range is a fresh mapping, so it overlaps no registered one.
        unsafe { registry::register(base as usize, base as usize + len, &*index) };
        Ok(Arena {
            base,
            len,
            used: 0,
            index,
        })
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        registry::unregister(self.base as usize);
        // SAFETY: the arena's own mapping; it is unregistered, and its owner (the module or
        // engine) is being dropped, so no code in it can still run.
        let _ = unsafe { rustix::mm::munmap(self.base.cast(), self.len) };
    }
}

/// The executable memory of one owner.
pub(crate) struct CodeMemory {
    arenas: Mutex<Vec<Arena>>,
    /// The size of each new arena (a larger piece of code gets an arena of its size).
    arena_size: usize,
}

impl CodeMemory {
    /// Memory whose arenas reserve `arena_size` bytes each.
    pub fn new(arena_size: usize) -> CodeMemory {
        CodeMemory {
            arenas: Mutex::new(Vec::new()),
            arena_size: arena_size.max(PAGE),
        }
    }

    /// Copies `code` into executable memory, applies its relocations and registers it as
    /// `owner`'s. Returns the address of its first byte.
    pub fn load(&self, code: &MachineCode, owner: CodeOwner) -> Result<*const u8, String> {
        Ok(self.load_many(&[(code, owner)])?[0])
    }

    /// [`CodeMemory::load`] for several pieces at once: they share pages (each at its
    /// alignment), made writable and then executable once for all of them. Returns the
    /// address of each piece.
    pub fn load_many(
        &self,
        pieces: &[(&MachineCode, CodeOwner)],
    ) -> Result<Vec<*const u8>, String> {
        let mut offsets = Vec::with_capacity(pieces.len());
        let mut end = 0usize;
        for (code, _) in pieces {
            if code.align as usize > PAGE {
                return Err(format!("code alignment {} is beyond a page", code.align));
            }
            let at = end.next_multiple_of(code.align.max(1) as usize);
            offsets.push(at);
            end = at + code.bytes.len().max(1);
        }
        let size = end.max(1).next_multiple_of(PAGE);
        let mut arenas = self.arenas.lock();
        let fits = |a: &Arena| a.len - a.used >= size && a.index.room() >= pieces.len();
        if !arenas.last().is_some_and(fits) {
            let arena = Arena::new(self.arena_size.max(size), pieces.len())
                .map_err(|e| format!("cannot reserve memory for code: {e}"))?;
            arenas.push(arena);
        }
        let Some(arena) = arenas.last_mut() else {
            return Err("no code arena".into());
        };
        // SAFETY: `used + size <= len`, so the range lies inside the arena's reservation.
        let base = unsafe { arena.base.add(arena.used) };
        protect(base, size, MprotectFlags::READ | MprotectFlags::WRITE)?;
        if size >= POPULATE_FROM {
            // One call faults in all the pages the copy is about to write, instead of one
            // fault per page (a batch of a large module's code is tens of megabytes). Only
            // a hint: a kernel without it (before Linux 5.14) faults them in one by one.
            // SAFETY: the range lies inside the arena's reservation and was just made
            // writable; populating changes no contents (fresh pages are zero anyway).
            let _ = unsafe {
                rustix::mm::madvise(base.cast(), size, rustix::mm::Advice::LinuxPopulateWrite)
            };
        }
        for ((code, _), &at) in pieces.iter().zip(&offsets) {
            // SAFETY: the pages were just made writable, nothing else uses them yet, and
            // every piece lies inside `size`.
            unsafe {
                let to = base.add(at);
                core::ptr::copy_nonoverlapping(code.bytes.as_ptr(), to, code.bytes.len());
                for reloc in &code.relocs {
                    apply(to, code.bytes.len(), reloc)?;
                }
            }
        }
        protect(base, size, MprotectFlags::READ | MprotectFlags::EXEC)?;
        let mut addresses = Vec::with_capacity(pieces.len());
        for ((code, owner), &at) in pieces.iter().zip(&offsets) {
            let info = Box::new(CodeInfo {
                owner: *owner,
                traps: code.traps.clone().into_boxed_slice(),
                wasm_map: code.wasm_map.clone().into_boxed_slice(),
                preemptible: code.preemptible.clone(),
            });
            let start = base as usize + at;
            // SAFETY: appends happen under the arenas' lock, in address order, above every
            // earlier piece of the arena; the room was checked above.
            if !unsafe { arena.index.push(start, start + code.bytes.len(), info) } {
                return Err("code arena index is full".into());
            }
            addresses.push((base as usize + at) as *const u8);
        }
        arena.used += size;
        Ok(addresses)
    }
}

/// Changes the protection of `[at, at + len)`.
fn protect(at: *mut u8, len: usize, flags: MprotectFlags) -> Result<(), String> {
    // SAFETY: callers pass page-aligned ranges inside an arena's reservation, which only
    // the arena's owner changes.
    unsafe { rustix::mm::mprotect(at.cast(), len, flags) }
        .map_err(|e| format!("cannot change the protection of code memory: {e}"))
}

/// Patches one relocation of code copied to `at` (`len` bytes).
///
/// # Safety
///
/// `[at, at + len)` must be writable.
unsafe fn apply(at: *mut u8, len: usize, reloc: &Reloc) -> Result<(), String> {
    let target = match reloc.target {
        RelocTarget::Libm(f) => f.address(),
    };
    let value = (target as i64).wrapping_add(reloc.addend);
    let offset = reloc.offset as usize;
    let width = match reloc.kind {
        RelocKind::Abs8 => 8,
        RelocKind::PcRel4 => 4,
    };
    if offset.checked_add(width).is_none_or(|end| end > len) {
        return Err(format!("relocation at {offset} lies outside the code"));
    }
    // SAFETY: the range was checked to lie inside the code, which the caller made
    // writable.
    unsafe {
        let place = at.add(offset);
        match reloc.kind {
            RelocKind::Abs8 => place.cast::<u64>().write_unaligned(value as u64),
            RelocKind::PcRel4 => {
                let rel = i32::try_from(value.wrapping_sub(place as i64))
                    .map_err(|_| "relocation target out of 32-bit range".to_string())?;
                place.cast::<i32>().write_unaligned(rel);
            }
        }
    }
    Ok(())
}
