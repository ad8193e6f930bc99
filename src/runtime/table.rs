//! Tables of references. Elements are 8-byte words: a funcref is a `*const VMFuncRef`
//! (0 = null), an externref an opaque non-zero handle (0 = null).

use crate::error::{Error, Result};
use crate::runtime::store::Store;
use crate::runtime::vmctx::VMTableDef;
use crate::runtime::Table;
use crate::types::{TableType, Val};

/// Largest number of elements we allow a table to have.
pub const MAX_TABLE_ELEMENTS: u32 = 10_000_000;

/// A table owned by a store. `def` stays the first field: generated code reaches the table
/// through a `*mut VMTableDef`.
#[repr(C)]
pub(crate) struct TableInstance {
    pub def: VMTableDef,
    pub ty: TableType,
    /// Largest size: the declared maximum capped by the store's limit.
    max: u32,
    elements: Vec<u64>,
}

impl TableInstance {
    /// A table of type `ty` filled with `init` that may never exceed `limit` elements.
    pub fn new(ty: TableType, init: u64, limit: u32) -> Result<Box<TableInstance>> {
        let limit = limit.min(MAX_TABLE_ELEMENTS);
        if ty.min > limit {
            return Err(Error::Resource(format!(
                "table minimum of {} elements exceeds the limit max_table_elements={limit}",
                ty.min
            )));
        }
        let mut elements = vec![init; ty.min as usize];
        let def = VMTableDef { base: elements.as_mut_ptr(), len: ty.min as u64 };
        let max = ty.max.unwrap_or(u32::MAX).min(limit);
        Ok(Box::new(TableInstance { def, ty, max, elements }))
    }

    pub fn len(&self) -> u32 {
        self.elements.len() as u32
    }

    pub fn elements(&self) -> &[u64] {
        &self.elements
    }

    pub fn elements_mut(&mut self) -> &mut [u64] {
        &mut self.elements
    }

    /// Grows by `delta` elements set to `init`; returns the old size, or `None` past the max.
    pub fn grow(&mut self, delta: u32, init: u64) -> Option<u32> {
        let old = self.len();
        let new = old.checked_add(delta).filter(|&n| n <= self.max)?;
        self.elements.resize(new as usize, init);
        self.def = VMTableDef { base: self.elements.as_mut_ptr(), len: new as u64 };
        Some(old)
    }
}

impl Table {
    fn with<R>(&self, store: &Store, f: impl FnOnce(&mut TableInstance) -> R) -> Result<R> {
        store.check(self.store_id)?;
        let mut objects = store.objects.borrow_mut();
        let t = objects.tables.get_mut(self.index).ok_or_else(|| Error::usage("table was released"))?;
        Ok(f(t))
    }

    fn encode(&self, store: &Store, ty: TableType, val: &Val) -> Result<u64> {
        if val.ty() != ty.element {
            return Err(Error::usage(format!("table of {} cannot hold a {} value", ty.element, val.ty())));
        }
        let bytes = store.encode_val(val)?;
        Ok(u64::from_le_bytes(bytes[..8].try_into().unwrap()))
    }

    /// A new table of type `ty` with every element set to `init`.
    pub fn new(store: &Store, ty: TableType, init: Val) -> Result<Table> {
        let probe = Table { store_id: store.id, index: u32::MAX };
        let word = probe.encode(store, ty, &init)?;
        let t = TableInstance::new(ty, word, store.max_table_elements.get())?;
        let index = store.objects.borrow_mut().tables.push(t);
        Ok(Table { store_id: store.id, index })
    }
    /// The table's type: current size as minimum, declared maximum.
    pub fn ty(&self, store: &Store) -> Result<TableType> {
        self.with(store, |t| TableType { element: t.ty.element, min: t.len(), max: t.ty.max })
    }
    /// Current number of elements.
    pub fn size(&self, store: &Store) -> Result<u32> {
        self.with(store, |t| t.len())
    }
    /// Element `index` (`Error::Usage` when out of bounds).
    pub fn get(&self, store: &Store, index: u32) -> Result<Val> {
        let (ty, word) = self.with(store, |t| (t.ty.element, t.elements().get(index as usize).copied()))?;
        let word = word.ok_or_else(|| Error::usage(format!("table index {index} is out of bounds")))?;
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&word.to_le_bytes());
        Ok(store.decode_val(ty, &bytes))
    }
    /// Sets element `index`.
    pub fn set(&self, store: &Store, index: u32, val: Val) -> Result<()> {
        let ty = self.with(store, |t| t.ty)?;
        let word = self.encode(store, ty, &val)?;
        self.with(store, |t| match t.elements_mut().get_mut(index as usize) {
            Some(slot) => {
                *slot = word;
                Ok(())
            }
            None => Err(Error::usage(format!("table index {index} is out of bounds"))),
        })?
    }
    /// Grows by `delta` elements set to `init`; returns the old size.
    pub fn grow(&self, store: &Store, delta: u32, init: Val) -> Result<u32> {
        let ty = self.with(store, |t| t.ty)?;
        let word = self.encode(store, ty, &init)?;
        self.with(store, |t| t.grow(delta, word))?
            .ok_or_else(|| Error::usage(format!("table cannot grow by {delta} elements")))
    }
}
