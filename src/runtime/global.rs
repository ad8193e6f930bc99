//! Globals.

use crate::error::{Error, Result};
use crate::runtime::store::Store;
use crate::runtime::vmctx::VMGlobal;
use crate::runtime::Global;
use crate::types::{GlobalType, Val};

/// A global owned by a store. Generated code reads and writes `cell` through a pointer.
#[repr(C)]
pub(crate) struct GlobalInstance {
    pub cell: VMGlobal,
    pub ty: GlobalType,
}

impl Global {
    fn check(&self, store: &Store) -> Result<*mut GlobalInstance> {
        store.check(self.store_id)?;
        let mut objects = store.objects.borrow_mut();
        let g = objects.globals.get_mut(self.index).ok_or_else(|| Error::usage("global was released"))?;
        Ok(g as *mut GlobalInstance)
    }

    /// A new global holding `init` (which must match `ty.content`).
    pub fn new(store: &Store, ty: GlobalType, init: Val) -> Result<Global> {
        if init.ty() != ty.content {
            return Err(Error::usage(format!("global of type {} cannot hold a {} value", ty.content, init.ty())));
        }
        let mut g = Box::new(GlobalInstance { cell: VMGlobal::default(), ty });
        g.cell.bytes = store.encode_val(&init)?;
        let index = store.objects.borrow_mut().globals.push(g);
        Ok(Global { store_id: store.id, index })
    }
    /// The global's type.
    pub fn ty(&self, store: &Store) -> Result<GlobalType> {
        // SAFETY: `check` returned a pointer to a live boxed global of this store.
        Ok(unsafe { (*self.check(store)?).ty })
    }
    /// Current value.
    pub fn get(&self, store: &Store) -> Result<Val> {
        let g = self.check(store)?;
        // SAFETY: as in `ty`; Wasm may write the cell, but not while this thread runs Rust.
        let (ty, bytes) = unsafe { ((*g).ty, (*g).cell.bytes) };
        Ok(store.decode_val(ty.content, &bytes))
    }
    /// Sets the value (`Error::Usage` if immutable or of the wrong type).
    pub fn set(&self, store: &Store, val: Val) -> Result<()> {
        let g = self.check(store)?;
        // SAFETY: as in `get`.
        let ty = unsafe { (*g).ty };
        if !ty.mutable {
            return Err(Error::usage("cannot set an immutable global"));
        }
        if val.ty() != ty.content {
            return Err(Error::usage(format!("global of type {} cannot hold a {} value", ty.content, val.ty())));
        }
        let bytes = store.encode_val(&val)?;
        // SAFETY: as in `get`.
        unsafe { (*g).cell.bytes = bytes };
        Ok(())
    }
}
