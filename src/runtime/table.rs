//! Tables of references.

use crate::error::Result;
use crate::runtime::store::Store;
use crate::runtime::Table;
use crate::types::{TableType, Val};

impl Table {
    /// A new table of type `ty` with every element set to `init`.
    pub fn new(store: &Store, ty: TableType, init: Val) -> Result<Table> {
        let _ = (store, ty, init);
        todo!()
    }
    /// The table's type.
    pub fn ty(&self, store: &Store) -> TableType {
        let _ = store;
        todo!()
    }
    /// Current number of elements.
    pub fn size(&self, store: &Store) -> u32 {
        let _ = store;
        todo!()
    }
    /// Element `index`, or `None` when out of bounds.
    pub fn get(&self, store: &Store, index: u32) -> Option<Val> {
        let _ = (store, index);
        todo!()
    }
    /// Sets element `index`.
    pub fn set(&self, store: &Store, index: u32, val: Val) -> Result<()> {
        let _ = (store, index, val);
        todo!()
    }
}
