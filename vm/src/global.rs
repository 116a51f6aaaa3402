//! Globals: [`GlobalInstance`] (a cell owned by the store, whose address instances share)
//! and the [`Global`] handle of the embedding API.

use core::cell::UnsafeCell;

use tierup_abi::ValRaw;

use crate::Result;
use crate::store::{AsContext, AsContextMut, StoreId, StoreOpaque};
use crate::types::{GlobalType, Mutability};
use crate::values::Val;

/// One global's cell and type.
pub(crate) struct GlobalInstance {
    pub cell: UnsafeCell<ValRaw>,
    pub ty: GlobalType,
}

impl GlobalInstance {
    /// The cell's address, shared with code.
    pub fn cell_ptr(&self) -> *mut ValRaw {
        self.cell.get()
    }

    /// The current raw value.
    pub fn get_raw(&self) -> ValRaw {
        // SAFETY: the cell is only written by the thread that uses the store, which is us.
        unsafe { *self.cell.get() }
    }
}

/// A global in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Global {
    pub(crate) store: StoreId,
    pub(crate) index: usize,
}

impl Global {
    /// Creates a global of type `ty` holding `val`.
    pub fn new(mut store: impl AsContextMut, ty: GlobalType, val: Val) -> Result<Global> {
        let store = &mut store.as_context_mut().0.opaque;
        if val.ty() != ty.content() {
            anyhow::bail!(
                "global of type {} cannot hold a value of type {}",
                ty.content(),
                val.ty()
            );
        }
        let raw = val.to_raw(store)?;
        Ok(Global::new_raw(store, ty, raw))
    }

    pub(crate) fn new_raw(store: &mut StoreOpaque, ty: GlobalType, raw: ValRaw) -> Global {
        store.globals.push(Box::new(GlobalInstance {
            cell: UnsafeCell::new(raw),
            ty,
        }));
        Global {
            store: store.id,
            index: store.globals.len() - 1,
        }
    }

    pub(crate) fn instance<'a>(&self, store: &'a StoreOpaque) -> &'a GlobalInstance {
        store.check(self.store);
        &store.globals[self.index]
    }

    /// The global's type.
    pub fn ty(&self, store: impl AsContext) -> GlobalType {
        self.instance(&store.as_context().0.opaque).ty
    }

    /// The global's current value.
    pub fn get(&self, store: impl AsContext) -> Val {
        let store = &store.as_context().0.opaque;
        let g = self.instance(store);
        Val::from_raw(store.id, g.ty.content(), g.get_raw())
    }

    /// Sets a mutable global.
    pub fn set(&self, mut store: impl AsContextMut, val: Val) -> Result<()> {
        let store = &mut store.as_context_mut().0.opaque;
        let g = self.instance(store);
        if g.ty.mutability() != Mutability::Var {
            anyhow::bail!("cannot set an immutable global");
        }
        if val.ty() != g.ty.content() {
            anyhow::bail!(
                "global of type {} cannot hold a value of type {}",
                g.ty.content(),
                val.ty()
            );
        }
        let raw = val.to_raw(store)?;
        // SAFETY: the store is borrowed exclusively, so no code runs concurrently.
        unsafe { *g.cell.get() = raw };
        Ok(())
    }
}
