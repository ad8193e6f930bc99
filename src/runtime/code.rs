//! Executable memory for generated code. Pages are written while read+write, then switched
//! to read+execute; they are never writable and executable at once (W^X).

use std::sync::{Mutex, MutexGuard};

use crate::error::{Error, Result};

/// Freed one-page code blocks kept (read+execute) for reuse, at most this many: compiling
/// many tiny modules one after another then maps no new pages.
const POOL_PAGES: usize = 64;

/// A pooled page.
struct Pooled(region::Allocation);
// SAFETY: a pooled page is plain memory owned by the pool; no thread references it.
unsafe impl Send for Pooled {}

static POOL: Mutex<Vec<Pooled>> = Mutex::new(Vec::new());

fn pool() -> MutexGuard<'static, Vec<Pooled>> {
    // The pool is a plain list that no panic can leave inconsistent.
    POOL.lock().unwrap_or_else(|p| p.into_inner())
}

/// A block of read+execute machine code.
pub struct CodeMemory {
    alloc: Option<region::Allocation>,
    len: usize,
}

// SAFETY: the memory is immutable (read+execute) after construction; sharing its address
// between threads is sound.
unsafe impl Send for CodeMemory {}
unsafe impl Sync for CodeMemory {}

impl CodeMemory {
    /// Copies `code` into pages of its own and makes them executable. A module whose code
    /// fits in one page reuses a page freed by an earlier module when there is one (see
    /// [`POOL_PAGES`]): two `mprotect` calls instead of `mmap` + `mprotect` + `munmap` and a
    /// page fault.
    pub fn new(code: &[u8]) -> Result<CodeMemory> {
        let (memory, ()) = CodeMemory::build(code.len(), |out| {
            out.copy_from_slice(code);
            Ok(())
        })?;
        Ok(memory)
    }

    /// [`CodeMemory::new`] for `len` bytes that `write` fills in place (e.g. the linker
    /// copying compiled chunks one by one, each freed once copied), so the code need not
    /// exist in a buffer of its own first. `write` gets exactly `len` zeroed bytes; its
    /// error is returned (and the pages released).
    pub fn build<T>(len: usize, write: impl FnOnce(&mut [u8]) -> Result<T>) -> Result<(CodeMemory, T)> {
        if len == 0 {
            return Ok((CodeMemory { alloc: None, len: 0 }, write(&mut [])?));
        }
        let pooled = if len <= region::page::size() { pool().pop().map(|p| p.0) } else { None };
        let reused = pooled.is_some();
        let mut alloc = match pooled {
            Some(a) => {
                // SAFETY: a pooled page belongs to no live `CodeMemory`: no code runs in it.
                unsafe { region::protect(a.as_ptr::<u8>(), a.len(), region::Protection::READ_WRITE) }
                    .map_err(|e| Error::Resource(format!("cannot make code memory writable: {e}")))?;
                a
            }
            None => region::alloc(len, region::Protection::READ_WRITE)
                .map_err(|e| Error::Resource(format!("cannot map code memory: {e}")))?,
        };
        // SAFETY: `alloc` is a read+write mapping of at least `len` bytes that nothing else
        // references; the slice ends before `alloc` is used again.
        let out = unsafe { std::slice::from_raw_parts_mut(alloc.as_mut_ptr::<u8>(), len) };
        if reused {
            // An earlier module's code; a fresh mapping is zeroed by the kernel.
            out.fill(0);
        }
        let value = write(out)?;
        // SAFETY: as above; the code is complete, nothing writes to the pages any more.
        unsafe {
            region::protect(alloc.as_ptr::<u8>(), alloc.len(), region::Protection::READ_EXECUTE)
                .map_err(|e| Error::Resource(format!("cannot make code executable: {e}")))?;
        }
        #[cfg(target_arch = "aarch64")]
        {
            // The instruction cache is not coherent with data writes on aarch64.
            // SAFETY: the mapping holds `len` initialised, readable bytes.
            dynasmrt::cache_control::synchronize_icache(unsafe {
                std::slice::from_raw_parts(alloc.as_ptr::<u8>(), len)
            });
        }
        Ok((CodeMemory { alloc: Some(alloc), len }, value))
    }

    /// Address of the first byte (null when empty).
    pub fn as_ptr(&self) -> *const u8 {
        self.alloc.as_ref().map_or(std::ptr::null(), |a| a.as_ptr::<u8>())
    }

    /// The code bytes (readable: the pages are read+execute).
    pub fn bytes(&self) -> &[u8] {
        match &self.alloc {
            // SAFETY: the allocation holds `len` initialised bytes, readable and never written
            // again while `self` lives.
            Some(a) => unsafe { std::slice::from_raw_parts(a.as_ptr::<u8>(), self.len) },
            None => &[],
        }
    }

    /// Number of code bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no code is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for CodeMemory {
    fn drop(&mut self) {
        if let Some(a) = self.alloc.take() {
            if a.len() == region::page::size() {
                let mut p = pool();
                if p.len() < POOL_PAGES {
                    p.push(Pooled(a));
                }
            }
        }
    }
}
