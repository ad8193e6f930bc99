//! Instances: a module's code bound to its imports, memories, tables and globals.

use crate::runtime::store::Store;
use crate::runtime::{Extern, Instance};

impl Instance {
    /// The export called `name`, if any.
    pub fn export(&self, store: &Store, name: &str) -> Option<Extern> {
        let _ = (store, name);
        todo!()
    }

    /// Every export with its name, in declaration order.
    pub fn exports(&self, store: &Store) -> Vec<(String, Extern)> {
        let _ = store;
        todo!()
    }
}
