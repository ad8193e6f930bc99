//! Linear memories: reserved once at their maximum size so the base never moves.

use crate::error::Result;
use crate::runtime::store::Store;
use crate::runtime::Memory;
use crate::types::MemoryType;

/// Bytes per Wasm page.
pub const PAGE_SIZE: u64 = 65536;

impl Memory {
    /// A new memory of the given type, zero-filled.
    pub fn new(store: &Store, ty: MemoryType) -> Result<Memory> {
        let _ = (store, ty);
        todo!()
    }
    /// The memory's type (current limits as declared).
    pub fn ty(&self, store: &Store) -> MemoryType {
        let _ = store;
        todo!()
    }
    /// Current size in pages.
    pub fn size(&self, store: &Store) -> u32 {
        let _ = store;
        todo!()
    }
    /// Current size in bytes.
    pub fn data_size(&self, store: &Store) -> usize {
        let _ = store;
        todo!()
    }
    /// Grows by `delta` pages; returns the old size in pages, or an error if it cannot grow.
    pub fn grow(&self, store: &Store, delta: u32) -> Result<u32> {
        let _ = (store, delta);
        todo!()
    }
    /// Copies `buf.len()` bytes at `offset` into `buf` (`Error::Usage` when out of bounds).
    pub fn read(&self, store: &Store, offset: usize, buf: &mut [u8]) -> Result<()> {
        let _ = (store, offset, buf);
        todo!()
    }
    /// Copies `data` into memory at `offset` (`Error::Usage` when out of bounds).
    pub fn write(&self, store: &Store, offset: usize, data: &[u8]) -> Result<()> {
        let _ = (store, offset, data);
        todo!()
    }
}

/// `memory.grow` executed by Wasm code on memory 0 of the instance owning `vmctx`: returns the
/// old size in pages, or `u32::MAX` when the memory cannot grow.
///
/// Placeholder until the runtime implements it (called by `runtime::builtins`).
pub fn grow_from_wasm(vmctx: *mut u8, delta: u32) -> u32 {
    let _ = (vmctx, delta);
    u32::MAX
}
