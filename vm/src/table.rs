//! Tables: [`TableInstance`] (a `TableDef` shared with code plus its element storage) and
//! the [`Table`] handle of the embedding API.
//!
//! A table's elements live in an address-space reservation for its largest size, grown in
//! place, so that `def.elements` never moves: code may hold it in a register across
//! anything the store does meanwhile, even an epoch deadline callback that grows the table
//! while the code is stopped in the middle of a loop (`code::preempt`).

use memmap2::MmapMut;
use tierup_abi::TableDef;

use crate::Result;
use crate::memory::{commit, reserve};
use crate::store::{AsContext, AsContextMut, StoreId, StoreOpaque};
use crate::types::{TableType, ValType};
use crate::values::Val;

/// The size of one element.
const ELEMENT: usize = core::mem::size_of::<usize>();

/// One table, owned by a store. `def.elements` points at the reservation and `def.length`
/// is the current size.
pub(crate) struct TableInstance {
    pub def: TableDef,
    /// Room for `max` elements; the pages of the first `committed` bytes are readable and
    /// writable, the rest inaccessible.
    mmap: MmapMut,
    committed: usize,
    pub ty: TableType,
    max: u32,
}

impl TableInstance {
    /// A table of type `ty`, every element `init`, at most `limit` elements (the Config).
    pub fn new(ty: TableType, init: usize, limit: u32) -> Result<TableInstance> {
        if ty.maximum().is_some_and(|m| m < ty.minimum()) {
            anyhow::bail!("invalid table type {ty}: maximum below minimum");
        }
        if !ty.element().is_ref() {
            anyhow::bail!("invalid table type {ty}: elements must be references");
        }
        if ty.minimum() > limit {
            anyhow::bail!(
                "table minimum size of {} elements exceeds the limit of {limit} elements",
                ty.minimum()
            );
        }
        let max = ty.maximum().map_or(limit, |m| m.min(limit));
        let bytes = (max as usize * ELEMENT).max(1);
        let mmap = reserve(bytes.next_multiple_of(page_size()))
            .map_err(|e| anyhow::anyhow!("failed to reserve a table of {max} elements: {e}"))?;
        let mut t = TableInstance {
            def: TableDef {
                elements: mmap.as_ptr() as *mut usize,
                length: 0,
            },
            mmap,
            committed: 0,
            ty,
            max,
        };
        if t.grow(ty.minimum(), init).is_none() {
            anyhow::bail!("out of memory allocating a table");
        }
        Ok(t)
    }

    /// The current size.
    pub fn size(&self) -> u32 {
        self.def.length as u32
    }

    /// The elements.
    pub fn elements(&self) -> &[usize] {
        // SAFETY: the first `length` elements are committed and initialised.
        unsafe { core::slice::from_raw_parts(self.def.elements, self.def.length) }
    }

    /// The elements, mutably.
    pub fn elements_mut(&mut self) -> &mut [usize] {
        // SAFETY: as in `elements`; `&mut self` makes the borrow unique.
        unsafe { core::slice::from_raw_parts_mut(self.def.elements, self.def.length) }
    }

    /// Grows by `delta` elements set to `init`; returns the old size or `None`.
    pub fn grow(&mut self, delta: u32, init: usize) -> Option<u32> {
        let old = self.size();
        let new = old.checked_add(delta)?;
        if new > self.max {
            return None;
        }
        let needed = (new as usize * ELEMENT).next_multiple_of(page_size());
        if needed > self.committed {
            let base = self.mmap.as_ptr() as *mut u8;
            commit(base, self.committed, needed - self.committed).ok()?;
            self.committed = needed;
        }
        let (old, new) = (old as usize, new as usize);
        if init != 0 {
            // SAFETY: `[old, new)` is committed (above) and inside the reservation. (Where
            // `init` is null there is nothing to write: past the length, nothing was ever
            // written, tables never shrink, and fresh pages are zero.)
            unsafe {
                core::slice::from_raw_parts_mut(self.def.elements.add(old), new - old).fill(init);
            }
        }
        self.def.length = new;
        Some(old as u32)
    }

    /// The table's type with its current size as the minimum.
    pub fn current_type(&self) -> TableType {
        TableType::new(self.ty.element(), self.size(), self.ty.maximum())
    }
}

fn page_size() -> usize {
    rustix::param::page_size()
}

/// A table in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Table {
    pub(crate) store: StoreId,
    pub(crate) index: usize,
}

impl Table {
    /// Creates a table of type `ty` with every element set to `init`.
    pub fn new(mut store: impl AsContextMut, ty: TableType, init: Val) -> Result<Table> {
        let store = &mut store.as_context_mut().0.opaque;
        let init = ref_to_raw(store, ty.element(), &init)?;
        Table::new_raw(store, ty, init)
    }

    pub(crate) fn new_raw(store: &mut StoreOpaque, ty: TableType, init: usize) -> Result<Table> {
        let limit = store.engine.config().max_table_elements;
        let t = TableInstance::new(ty, init, limit)?;
        store.tables.push(Box::new(t));
        Ok(Table {
            store: store.id,
            index: store.tables.len() - 1,
        })
    }

    pub(crate) fn instance<'a>(&self, store: &'a StoreOpaque) -> &'a TableInstance {
        store.check(self.store);
        &store.tables[self.index]
    }

    /// The table's type (its minimum is the current size).
    pub fn ty(&self, store: impl AsContext) -> TableType {
        self.instance(&store.as_context().0.opaque).current_type()
    }

    /// The current size.
    pub fn size(&self, store: impl AsContext) -> u32 {
        self.instance(&store.as_context().0.opaque).size()
    }

    /// Element `index`, or `None` if out of bounds.
    pub fn get(&self, mut store: impl AsContextMut, index: u32) -> Option<Val> {
        let store = &store.as_context_mut().0.opaque;
        let t = self.instance(store);
        let raw = *t.elements().get(index as usize)?;
        Some(Val::from_ref_raw(store.id, t.ty.element(), raw))
    }

    /// Sets element `index`.
    pub fn set(&self, mut store: impl AsContextMut, index: u32, val: Val) -> Result<()> {
        let store = &mut store.as_context_mut().0.opaque;
        let elem = self.instance(store).ty.element();
        let raw = ref_to_raw(store, elem, &val)?;
        let slot = store.tables[self.index]
            .elements_mut()
            .get_mut(index as usize)
            .ok_or_else(|| anyhow::anyhow!("table index {index} out of bounds"))?;
        *slot = raw;
        Ok(())
    }

    /// Grows the table by `delta` elements set to `init`; returns the old size.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u32, init: Val) -> Result<u32> {
        let store = &mut store.as_context_mut().0.opaque;
        let elem = self.instance(store).ty.element();
        let raw = ref_to_raw(store, elem, &init)?;
        store.tables[self.index]
            .grow(delta, raw)
            .ok_or_else(|| anyhow::anyhow!("failed to grow table by {delta} elements"))
    }
}

/// A reference value as a raw table element, checked against the element type.
fn ref_to_raw(store: &StoreOpaque, elem: ValType, val: &Val) -> Result<usize> {
    if val.ty() != elem {
        anyhow::bail!(
            "value of type {} does not match table element type {elem}",
            val.ty()
        );
    }
    Ok(val.to_raw(store)?.get_u64() as usize)
}
