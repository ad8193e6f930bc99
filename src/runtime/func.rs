//! Functions: calling Wasm from Rust and host functions callable from Wasm.

use crate::error::Result;
use crate::runtime::store::Store;
use crate::runtime::Func;
use crate::types::{FuncType, Val};

/// The Rust side of a host function: gets the arguments, writes the results (the slice has
/// exactly `ty.results.len()` entries, pre-filled with zeros of the right types).
pub type HostFn = dyn Fn(&Store, &[Val], &mut [Val]) -> Result<()>;

impl Func {
    /// A host function of type `ty`.
    pub fn new_host(
        store: &Store,
        ty: FuncType,
        f: impl Fn(&Store, &[Val], &mut [Val]) -> Result<()> + 'static,
    ) -> Func {
        let _ = (store, ty, f);
        todo!()
    }

    /// The function's signature.
    pub fn ty(&self, store: &Store) -> FuncType {
        let _ = store;
        todo!()
    }

    /// Calls the function. Arguments must match the parameter types exactly
    /// (`Error::Usage` otherwise); a trap is returned as `Error::Trap`, an error raised by a
    /// host function as that same error.
    pub fn call(&self, store: &Store, args: &[Val]) -> Result<Vec<Val>> {
        let _ = (store, args);
        todo!()
    }
}
