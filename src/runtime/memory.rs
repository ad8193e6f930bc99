//! Linear memories: address space for the maximum size is reserved once, so the base never
//! moves; growing only changes page protections. Every access from Wasm is bounds-checked
//! explicitly against `VMMemoryDef::len`.
//!
//! The maximum is the declared one (4 GiB if none) capped by the store's memory limit
//! (`Store::set_max_memory_bytes`), so a huge declared maximum reserves no more than the
//! limit allows, and growing past the cap fails like growing past the declared maximum.

use crate::error::{Error, Result};
use crate::runtime::store::Store;
use crate::runtime::vmctx::{VMMemoryDef, VMCTX_MEMORY_OFFSET};
use crate::runtime::Memory;
use crate::types::MemoryType;

/// Bytes per Wasm page.
pub const PAGE_SIZE: u64 = 65536;
/// Largest number of pages of a 32-bit memory.
pub const MAX_PAGES: u32 = 65536;

/// A memory owned by a store. `def` must stay the first field: generated code and
/// [`grow_from_wasm`] reach the instance through a `*mut VMMemoryDef`.
#[repr(C)]
pub(crate) struct MemoryInstance {
    pub def: VMMemoryDef,
    pub ty: MemoryType,
    /// Largest size in pages: the declared maximum capped by the store's limit.
    max_pages: u32,
    /// Reserved address space (`max_pages`), inaccessible beyond `def.len`.
    reservation: region::Allocation,
}

impl MemoryInstance {
    /// A memory of type `ty` that may never exceed `limit_pages` (the store's limit).
    pub fn new(ty: MemoryType, limit_pages: u32) -> Result<Box<MemoryInstance>> {
        let declared = ty.max.unwrap_or(MAX_PAGES).min(MAX_PAGES);
        if ty.min > declared {
            return Err(Error::Resource(format!("memory minimum {} exceeds maximum {declared}", ty.min)));
        }
        if ty.min > limit_pages {
            return Err(Error::Resource(format!(
                "memory minimum of {} pages ({} bytes) exceeds the limit max_memory_bytes={}",
                ty.min,
                ty.min as u64 * PAGE_SIZE,
                limit_pages as u64 * PAGE_SIZE
            )));
        }
        let max_pages = declared.min(limit_pages);
        let reserve = (max_pages as u64 * PAGE_SIZE).max(region::page::size() as u64) as usize;
        let mut reservation = region::alloc(reserve, region::Protection::NONE)
            .map_err(|e| Error::Resource(format!("cannot reserve {reserve} bytes for a memory: {e}")))?;
        let base = reservation.as_mut_ptr::<u8>();
        let mut mem = Box::new(MemoryInstance { def: VMMemoryDef { base, len: 0 }, ty, max_pages, reservation });
        if mem.grow(ty.min).is_none() {
            return Err(Error::Resource(format!("cannot allocate {} pages of memory", ty.min)));
        }
        Ok(mem)
    }

    /// Current size in pages.
    pub fn pages(&self) -> u32 {
        (self.def.len / PAGE_SIZE) as u32
    }

    /// Grows by `delta` pages; returns the previous size in pages, or `None` if the maximum
    /// would be exceeded or the OS refuses.
    pub fn grow(&mut self, delta: u32) -> Option<u32> {
        let old = self.pages();
        let new = old.checked_add(delta).filter(|&n| n <= self.max_pages)?;
        if delta > 0 {
            let old_len = self.def.len as usize;
            let new_len = new as usize * PAGE_SIZE as usize;
            // SAFETY: [old_len, new_len) lies inside our reservation (new <= max pages) and
            // nothing else maps it; making it read+write exposes fresh zero pages.
            unsafe {
                region::protect(self.def.base.add(old_len), new_len - old_len, region::Protection::READ_WRITE)
                    .ok()?;
            }
            self.def.len = new_len as u64;
        }
        debug_assert!(self.reservation.len() as u64 >= self.def.len);
        Some(old)
    }

    /// The accessible bytes.
    pub fn data(&self) -> &[u8] {
        // SAFETY: [base, base+len) is mapped read+write for as long as `self` lives.
        unsafe { std::slice::from_raw_parts(self.def.base, self.def.len as usize) }
    }

    /// The accessible bytes, mutably.
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `data`, and `&mut self` gives exclusive access on the Rust side.
        unsafe { std::slice::from_raw_parts_mut(self.def.base, self.def.len as usize) }
    }
}

/// `memory.grow` called from generated code: grows memory 0 of the instance whose vmctx is
/// given; returns the old size in pages or `u32::MAX` (-1) on failure.
///
/// # Safety
/// `vmctx` must be a live instance's `VMContext` that has a memory.
pub unsafe fn grow_from_wasm(vmctx: *mut u8, delta: u32) -> u32 {
    // SAFETY: per the contract, the memory pointer at VMCTX_MEMORY_OFFSET points to the
    // `def` field, which is the first field of a live `MemoryInstance` (repr(C)). Wasm code
    // is single-threaded per store and holds no Rust reference to it during this call.
    unsafe {
        let def = *(vmctx.add(VMCTX_MEMORY_OFFSET as usize) as *const *mut VMMemoryDef);
        let mem = &mut *(def as *mut MemoryInstance);
        mem.grow(delta).unwrap_or(u32::MAX)
    }
}

impl Memory {
    fn with<R>(&self, store: &Store, f: impl FnOnce(&mut MemoryInstance) -> R) -> Result<R> {
        store.check(self.store_id)?;
        let mut objects = store.objects.borrow_mut();
        let mem = objects.memories.get_mut(self.index).ok_or_else(|| Error::usage("memory was released"))?;
        Ok(f(mem))
    }

    /// A new memory of the given type, zero-filled.
    pub fn new(store: &Store, ty: MemoryType) -> Result<Memory> {
        let mem = MemoryInstance::new(ty, store.max_memory_pages.get())?;
        let index = store.objects.borrow_mut().memories.push(mem);
        Ok(Memory { store_id: store.id, index })
    }
    /// The memory's type: current size as minimum, declared maximum.
    pub fn ty(&self, store: &Store) -> Result<MemoryType> {
        self.with(store, |m| MemoryType { min: m.pages(), max: m.ty.max })
    }
    /// Current size in pages.
    pub fn size(&self, store: &Store) -> Result<u32> {
        self.with(store, |m| m.pages())
    }
    /// Current size in bytes.
    pub fn data_size(&self, store: &Store) -> Result<usize> {
        self.with(store, |m| m.def.len as usize)
    }
    /// Base address of the memory (stable for the memory's lifetime).
    pub fn data_ptr(&self, store: &Store) -> Result<*mut u8> {
        self.with(store, |m| m.def.base)
    }
    /// Grows by `delta` pages; returns the old size in pages.
    pub fn grow(&self, store: &Store, delta: u32) -> Result<u32> {
        self.with(store, |m| m.grow(delta))?
            .ok_or_else(|| Error::usage(format!("memory cannot grow by {delta} pages")))
    }
    /// Copies `buf.len()` bytes at `offset` into `buf`.
    pub fn read(&self, store: &Store, offset: usize, buf: &mut [u8]) -> Result<()> {
        self.with(store, |m| {
            let src = offset.checked_add(buf.len()).and_then(|end| m.data().get(offset..end));
            match src {
                Some(src) => {
                    buf.copy_from_slice(src);
                    Ok(())
                }
                None => Err(Error::usage(format!("read of {} bytes at {offset} is out of bounds", buf.len()))),
            }
        })?
    }
    /// Copies `data` into memory at `offset`.
    pub fn write(&self, store: &Store, offset: usize, data: &[u8]) -> Result<()> {
        self.with(store, |m| {
            let dst = offset.checked_add(data.len()).and_then(|end| m.data_mut().get_mut(offset..end));
            match dst {
                Some(dst) => {
                    dst.copy_from_slice(data);
                    Ok(())
                }
                None => Err(Error::usage(format!("write of {} bytes at {offset} is out of bounds", data.len()))),
            }
        })?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_to_max_and_no_further() {
        let mut m = MemoryInstance::new(MemoryType { min: 1, max: Some(3) }, MAX_PAGES).unwrap();
        assert_eq!(m.pages(), 1);
        assert_eq!(m.grow(2), Some(1));
        assert_eq!(m.grow(1), None);
        assert_eq!(m.pages(), 3);
        m.data_mut()[3 * 65536 - 1] = 7;
        assert_eq!(m.data()[3 * 65536 - 1], 7);
    }

    #[test]
    fn zero_page_memory_has_a_valid_base() {
        let m = MemoryInstance::new(MemoryType { min: 0, max: Some(0) }, MAX_PAGES).unwrap();
        assert!(!m.def.base.is_null());
        assert_eq!(m.data().len(), 0);
    }

    #[test]
    fn the_limit_caps_growth_and_reservation() {
        let mut m = MemoryInstance::new(MemoryType { min: 1, max: None }, 4).unwrap();
        assert_eq!(m.reservation.len() as u64, 4 * PAGE_SIZE);
        assert_eq!(m.grow(3), Some(1));
        assert_eq!(m.grow(1), None);
        let e = MemoryInstance::new(MemoryType { min: 5, max: Some(100) }, 4).err().unwrap();
        assert!(e.to_string().contains("max_memory_bytes=262144"), "{e}");
    }
}
