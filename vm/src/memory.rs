//! Linear memories: [`MemoryInstance`] (an address-space reservation that grows in place, so
//! its base never moves, with a guard region unless `Config::guard_regions` is off or the
//! host refuses the reservation, backed by transparent huge pages where the host allows it
//! unless `Config::huge_pages` is off) and the [`Memory`] handle of the embedding API.

use core::sync::atomic::Ordering;

use memmap2::MmapMut;
use rustix::mm::MprotectFlags;
use tierup_abi::{GUARDED_RESERVATION, MemoryDef, WASM_PAGE_SIZE};

use crate::Result;
use crate::store::{AsContext, AsContextMut, StoreContext, StoreContextMut, StoreId, StoreOpaque};
use crate::types::MemoryType;

/// One linear memory, owned by a store.
pub(crate) struct MemoryInstance {
    // `def.base` points into `mmap`; the mapping is only touched through raw pointers.
    pub def: MemoryDef,
    _mmap: MmapMut,
    /// The largest number of pages this memory can grow to.
    max_pages: u64,
    pub ty: MemoryType,
}

impl MemoryInstance {
    /// Reserves and commits a memory of type `ty` with at most `limit` pages, backed by
    /// transparent huge pages where the host allows it if `huge_pages`, with a guard region
    /// if `guard` and the host grants the reservation (the Config).
    pub fn new(
        ty: MemoryType,
        limit: u32,
        huge_pages: bool,
        guard: bool,
    ) -> Result<MemoryInstance> {
        let limit = u64::from(limit).min(tierup_abi::WASM32_MAX_PAGES);
        if let Some(max) = ty.maximum()
            && (max < ty.minimum() || u64::from(max) > tierup_abi::WASM32_MAX_PAGES)
        {
            anyhow::bail!("invalid memory type {ty}: bad maximum");
        }
        if u64::from(ty.minimum()) > limit {
            anyhow::bail!(
                "memory minimum size of {} pages exceeds the limit of {limit} pages",
                ty.minimum()
            );
        }
        let max_pages = ty.maximum().map_or(limit, |m| u64::from(m).min(limit));
        let guarded = if guard {
            match reserve(GUARDED_RESERVATION) {
                Ok(m) => Some(m),
                Err(e) => {
                    tracing::debug!(
                        target: "tierup::memory",
                        error = %e,
                        "no guard region: the reservation failed; code run with this memory checks every access"
                    );
                    None
                }
            }
        } else {
            None
        };
        let has_guard = guarded.is_some();
        let mmap = match guarded {
            Some(m) => m,
            None => {
                let bytes = (max_pages as usize * WASM_PAGE_SIZE).max(WASM_PAGE_SIZE);
                reserve(bytes)
                    .map_err(|e| anyhow::anyhow!("failed to reserve linear memory: {e}"))?
            }
        };
        if huge_pages {
            advise_huge_pages(&mmap);
        }
        let base = mmap.as_ptr() as *mut u8;
        let initial = ty.minimum() as usize * WASM_PAGE_SIZE;
        commit(base, 0, initial)?;
        Ok(MemoryInstance {
            def: MemoryDef {
                base,
                length: core::sync::atomic::AtomicUsize::new(initial),
                guarded: usize::from(has_guard),
            },
            _mmap: mmap,
            max_pages,
            ty,
        })
    }

    /// The current size in bytes.
    pub fn byte_len(&self) -> usize {
        self.def.length.load(Ordering::Acquire)
    }

    /// The current size in pages.
    pub fn pages(&self) -> u64 {
        (self.byte_len() / WASM_PAGE_SIZE) as u64
    }

    /// Grows by `delta` pages; returns the old size in pages, or `None` if the memory
    /// cannot grow that far.
    pub fn grow(&self, delta: u64) -> Option<u64> {
        let old = self.pages();
        let new = old.checked_add(delta)?;
        if new > self.max_pages {
            return None;
        }
        if delta > 0 {
            let old_bytes = old as usize * WASM_PAGE_SIZE;
            let add = delta as usize * WASM_PAGE_SIZE;
            commit(self.def.base, old_bytes, add).ok()?;
            self.def
                .length
                .store(new as usize * WASM_PAGE_SIZE, Ordering::Release);
        }
        Some(old)
    }

    /// The memory's current contents.
    pub fn data(&self) -> &[u8] {
        // SAFETY: the first `byte_len` bytes of the reservation are committed read/write and
        // stay mapped while `self` lives.
        unsafe { core::slice::from_raw_parts(self.def.base, self.byte_len()) }
    }

    /// The memory's current contents, mutably.
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `data`; `&mut self` makes the borrow exclusive on the Rust side.
        unsafe { core::slice::from_raw_parts_mut(self.def.base, self.byte_len()) }
    }

    /// The memory's type with its current size as the minimum.
    pub fn current_type(&self) -> MemoryType {
        MemoryType::new(
            u32::try_from(self.pages()).unwrap_or(u32::MAX),
            self.ty.maximum(),
        )
    }
}

/// Reserves `len` bytes of inaccessible address space.
pub(crate) fn reserve(len: usize) -> std::io::Result<MmapMut> {
    let mmap = memmap2::MmapOptions::new()
        .len(len)
        .no_reserve_swap()
        .map_anon()?;
    // SAFETY: the range is exactly the fresh mapping, which nothing references yet.
    unsafe { rustix::mm::mprotect(mmap.as_ptr() as *mut _, len, MprotectFlags::empty()) }?;
    Ok(mmap)
}

/// Advises the kernel that `mmap` may be backed by transparent huge pages. The advice is
/// only a hint: where the kernel lacks them or refuses, the memory keeps base pages, so a
/// failure is not an error.
fn advise_huge_pages(mmap: &MmapMut) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let _ = mmap.advise(memmap2::Advice::HugePage);
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = mmap;
}

/// Makes `[base + offset, base + offset + len)` readable and writable.
pub(crate) fn commit(base: *mut u8, offset: usize, len: usize) -> Result<()> {
    if len == 0 {
        return Ok(());
    }
    // SAFETY: callers only commit ranges inside the reservation that starts at `base`.
    unsafe {
        rustix::mm::mprotect(
            base.add(offset).cast(),
            len,
            MprotectFlags::READ | MprotectFlags::WRITE,
        )
    }?;
    Ok(())
}

/// A linear memory in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory {
    pub(crate) store: StoreId,
    pub(crate) index: usize,
}

impl Memory {
    /// Creates a memory of type `ty` in the store.
    pub fn new(mut store: impl AsContextMut, ty: MemoryType) -> Result<Memory> {
        let store = &mut store.as_context_mut().0.opaque;
        Memory::new_in(store, ty)
    }

    pub(crate) fn new_in(store: &mut StoreOpaque, ty: MemoryType) -> Result<Memory> {
        let config = store.engine.config();
        let mem = MemoryInstance::new(
            ty,
            config.max_memory_pages,
            config.huge_pages,
            config.guard_regions,
        )?;
        store.memories.push(Box::new(mem));
        Ok(Memory {
            store: store.id,
            index: store.memories.len() - 1,
        })
    }

    pub(crate) fn instance<'a>(&self, store: &'a StoreOpaque) -> &'a MemoryInstance {
        store.check(self.store);
        &store.memories[self.index]
    }

    /// The memory's contents.
    pub fn data<'a, T: 'a>(&self, store: impl Into<StoreContext<'a, T>>) -> &'a [u8] {
        let store = store.into().0;
        self.instance(&store.opaque).data()
    }

    /// The memory's contents, mutably.
    pub fn data_mut<'a, T: 'a>(&self, store: impl Into<StoreContextMut<'a, T>>) -> &'a mut [u8] {
        let store = &mut store.into().0.opaque;
        store.check(self.store);
        store.memories[self.index].data_mut()
    }

    /// The current size in pages.
    pub fn size(&self, store: impl AsContext) -> u64 {
        self.instance(&store.as_context().0.opaque).pages()
    }

    /// The current size in bytes.
    pub fn data_size(&self, store: impl AsContext) -> usize {
        self.instance(&store.as_context().0.opaque).byte_len()
    }

    /// Grows the memory by `delta` pages and returns the old size in pages.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64) -> Result<u64> {
        let mem = self.instance(&store.as_context_mut().0.opaque);
        mem.grow(delta)
            .ok_or_else(|| anyhow::anyhow!("failed to grow memory by {delta} pages"))
    }

    /// The memory's type (its minimum is the current size).
    pub fn ty(&self, store: impl AsContext) -> MemoryType {
        self.instance(&store.as_context().0.opaque).current_type()
    }
}
