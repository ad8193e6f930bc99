//! The store: owns every instance, memory, table, global and function created in it.

use crate::error::Result;
use crate::module::Module;
use crate::runtime::{Extern, Instance};

/// Owns all runtime objects; a Python `wazero.Runtime` wraps one.
///
/// Methods take `&self` so that host functions can call back into Wasm (re-entrancy);
/// a `Store` is used from one thread at a time (it is not `Sync`).
pub struct Store {
    pub(crate) id: u64,
}

impl Store {
    /// An empty store.
    pub fn new() -> Store {
        todo!("store")
    }

    /// Instantiates `module` with `imports` given in the order of `module.imports()`,
    /// then runs its start function.
    pub fn instantiate(&self, module: &Module, imports: &[Extern]) -> Result<Instance> {
        let _ = (module, imports);
        todo!("instantiate")
    }

    /// Sets how many bytes of native stack Wasm code may use (default 1 MiB), within the
    /// bounds of the calling thread's stack.
    pub fn set_max_wasm_stack(&self, bytes: usize) {
        let _ = bytes;
        todo!()
    }
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}
