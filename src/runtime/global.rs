//! Globals.

use crate::error::Result;
use crate::runtime::store::Store;
use crate::runtime::Global;
use crate::types::{GlobalType, Val};

impl Global {
    /// A new global holding `init` (which must match `ty.content`).
    pub fn new(store: &Store, ty: GlobalType, init: Val) -> Result<Global> {
        let _ = (store, ty, init);
        todo!()
    }
    /// The global's type.
    pub fn ty(&self, store: &Store) -> GlobalType {
        let _ = store;
        todo!()
    }
    /// Current value.
    pub fn get(&self, store: &Store) -> Val {
        let _ = store;
        todo!()
    }
    /// Sets the value (`Error::Usage` if immutable or of the wrong type).
    pub fn set(&self, store: &Store, val: Val) -> Result<()> {
        let _ = (store, val);
        todo!()
    }
}
