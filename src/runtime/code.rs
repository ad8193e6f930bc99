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

/// A one-page block from the pool, made read+write.
fn take_pooled_page() -> Option<region::Allocation> {
    let page = pool().pop()?.0;
    // SAFETY: a pooled page belongs to no live `CodeMemory` or `CodeWriter`: no code runs
    // in it and nothing else references it.
    match unsafe { region::protect(page.as_ptr::<u8>(), page.len(), region::Protection::READ_WRITE) } {
        Ok(()) => Some(page),
        Err(_) => None, // dropped (unmapped); the caller maps a fresh page
    }
}

/// A fresh read+write mapping of at least `len` bytes (zeroed by the kernel).
fn map_writable(len: usize) -> Result<region::Allocation> {
    region::alloc(len, region::Protection::READ_WRITE).map_err(|e| Error::Resource(format!("cannot map code memory: {e}")))
}

/// Makes the first `size` bytes (whole pages) of `alloc` read+execute, once its first `len`
/// bytes hold the finished code.
fn make_executable(alloc: &region::Allocation, size: usize, len: usize) -> Result<()> {
    // SAFETY: the code is complete and nothing writes to these pages any more (W^X).
    unsafe { region::protect(alloc.as_ptr::<u8>(), size, region::Protection::READ_EXECUTE) }
        .map_err(|e| Error::Resource(format!("cannot make code executable: {e}")))?;
    #[cfg(target_arch = "aarch64")]
    {
        // The instruction cache is not coherent with data writes on aarch64.
        // SAFETY: the mapping holds `len` initialised, readable bytes.
        dynasmrt::cache_control::synchronize_icache(unsafe { std::slice::from_raw_parts(alloc.as_ptr::<u8>(), len) });
    }
    #[cfg(not(target_arch = "aarch64"))]
    let _ = len;
    Ok(())
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
        let pooled = if len <= region::page::size() { take_pooled_page() } else { None };
        let reused = pooled.is_some();
        let mut alloc = pooled.map_or_else(|| map_writable(len), Ok)?;
        // SAFETY: `alloc` is a read+write mapping of at least `len` bytes that nothing else
        // references; the slice ends before `alloc` is used again.
        let out = unsafe { std::slice::from_raw_parts_mut(alloc.as_mut_ptr::<u8>(), len) };
        if reused {
            // An earlier module's code; a fresh mapping is zeroed by the kernel.
            out.fill(0);
        }
        let value = write(out)?;
        let size = alloc.len();
        make_executable(&alloc, size, len)?;
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

/// Pages that machine code is being written into: read+write, never executable, growing as
/// needed; [`CodeWriter::into_executable`] turns them into a [`CodeMemory`] in place, so a
/// module compiled as one chunk is never copied (and its code pages are faulted in once).
///
/// A write that cannot get memory is dropped and remembered: [`CodeWriter::into_executable`]
/// and [`CodeWriter::error`] report it (the assembler's `push` cannot return an error).
pub struct CodeWriter {
    alloc: Option<region::Allocation>,
    /// Start of `alloc` (dangling when there is none) and its size in bytes.
    ptr: *mut u8,
    capacity: usize,
    len: usize,
    /// Whether `alloc` came from the pool: its bytes past `len` hold an earlier module's code.
    reused: bool,
    failed: Option<String>,
}

// SAFETY: the writer owns its mapping exclusively (no other pointer to it exists); moving it
// to another thread moves that ownership.
unsafe impl Send for CodeWriter {}

impl std::fmt::Debug for CodeWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeWriter").field("len", &self.len).field("capacity", &self.capacity).finish_non_exhaustive()
    }
}

impl Default for CodeWriter {
    fn default() -> Self {
        CodeWriter { alloc: None, ptr: std::ptr::NonNull::dangling().as_ptr(), capacity: 0, len: 0, reused: false, failed: None }
    }
}

impl CodeWriter {
    /// An empty writer that maps nothing until written to or [`CodeWriter::reserve`]d.
    pub fn new() -> CodeWriter {
        CodeWriter::default()
    }

    /// Makes room for `additional` more bytes at once. Mapped pages cost no memory until
    /// written, so a generous estimate is cheap and saves growing (a copy) later.
    pub fn reserve(&mut self, additional: usize) {
        if self.capacity - self.len < additional {
            self.grow(additional);
        }
    }

    /// Bytes written.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes written so far.
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` is valid for `capacity >= len` read+write bytes (or dangling with
        // `len == 0`), the first `len` of them written; `&self` keeps them unchanged.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// The bytes written so far, to patch in place.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`; `&mut self` makes this the only reference.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }

    /// Appends one byte.
    #[inline]
    pub fn push(&mut self, byte: u8) {
        if self.len == self.capacity {
            self.grow(1);
            if self.len == self.capacity {
                return; // out of memory: recorded in `failed`
            }
        }
        // SAFETY: `len < capacity`, and `ptr` is valid for `capacity` read+write bytes.
        unsafe { self.ptr.add(self.len).write(byte) };
        self.len += 1;
    }

    /// Appends `bytes`.
    #[inline]
    pub fn extend_from_slice(&mut self, bytes: &[u8]) {
        if self.capacity - self.len < bytes.len() {
            self.grow(bytes.len());
            if self.capacity - self.len < bytes.len() {
                return; // out of memory: recorded in `failed`
            }
        }
        // SAFETY: there is room for `bytes` past `len`; a fresh mapping cannot overlap them.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.ptr.add(self.len), bytes.len()) };
        self.len += bytes.len();
    }

    /// Why a write was dropped, if one was.
    pub fn error(&self) -> Option<&str> {
        self.failed.as_deref()
    }

    /// Moves the bytes to a mapping with room for `additional` more (at least double the
    /// size, whole pages). A writer that already failed stays as it is.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, additional: usize) {
        if self.failed.is_some() {
            return;
        }
        let Some(wanted) = self.len.checked_add(additional) else {
            self.failed = Some(format!("code buffer of {} + {additional} bytes", self.len));
            return;
        };
        let page = region::page::size();
        let size = wanted.max(self.capacity.saturating_mul(2)).max(page).next_multiple_of(page);
        let pooled = if size == page { take_pooled_page() } else { None };
        let reused = pooled.is_some();
        let alloc = match pooled.map_or_else(|| map_writable(size), Ok) {
            Ok(a) => a,
            Err(e) => {
                self.failed = Some(e.to_string());
                return;
            }
        };
        let mut alloc = alloc;
        let ptr = alloc.as_mut_ptr::<u8>();
        // SAFETY: both mappings are valid for `len` bytes and distinct; the old one is
        // dropped (unmapped) only after the copy.
        unsafe { std::ptr::copy_nonoverlapping(self.ptr, ptr, self.len) };
        self.alloc = Some(alloc);
        self.ptr = ptr;
        self.capacity = size;
        self.reused = reused;
    }

    /// Makes the written pages read+execute and returns them as code (W^X: nothing writes
    /// to them any more). Pages mapped beyond the code are made inaccessible.
    pub fn into_executable(mut self) -> Result<CodeMemory> {
        if let Some(e) = self.failed.take() {
            return Err(Error::Resource(format!("cannot map code memory: {e}")));
        }
        let Some(alloc) = self.alloc.take() else {
            return Ok(CodeMemory { alloc: None, len: 0 });
        };
        if self.reused {
            // The rest of a pooled page holds an earlier module's code; fresh pages are zero.
            // SAFETY: `ptr` is valid for `capacity` read+write bytes.
            unsafe { std::ptr::write_bytes(self.ptr.add(self.len), 0, self.capacity - self.len) };
        }
        let used = self.len.max(1).next_multiple_of(region::page::size());
        if used < alloc.len() {
            // SAFETY: the tail `used..` of our own mapping holds no code and is never read.
            unsafe { region::protect(self.ptr.add(used), alloc.len() - used, region::Protection::NONE) }
                .map_err(|e| Error::Resource(format!("cannot release code memory: {e}")))?;
        }
        make_executable(&alloc, used, self.len)?;
        Ok(CodeMemory { alloc: Some(alloc), len: self.len })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_writer_keeps_its_bytes_across_growth_and_becomes_executable_in_place() {
        let page = region::page::size();
        let mut w = CodeWriter::new();
        w.reserve(10);
        let bytes: Vec<u8> = (0..3 * page + 5).map(|i| (i % 251) as u8).collect();
        for chunk in bytes.chunks(7) {
            w.extend_from_slice(chunk);
        }
        w.push(0xab);
        w.bytes_mut()[0] = 0xcd;
        assert_eq!(w.len(), bytes.len() + 1);
        assert!(w.error().is_none());
        let code = w.into_executable().unwrap();
        assert_eq!(code.len(), bytes.len() + 1);
        assert_eq!(code.bytes()[0], 0xcd);
        assert_eq!(&code.bytes()[1..bytes.len()], &bytes[1..]);
        assert_eq!(code.bytes()[bytes.len()], 0xab);
    }

    #[test]
    fn a_pooled_page_holds_nothing_of_the_previous_code_past_the_new_code() {
        // Several rounds: another test may take the pooled page in between.
        for _ in 0..8 {
            let old = CodeMemory::new(&[0x90; 64]).unwrap();
            drop(old);
            let mut w = CodeWriter::new();
            w.extend_from_slice(&[0xc3; 8]);
            let code = w.into_executable().unwrap();
            // SAFETY: the page is mapped read+execute (so readable) for a whole page.
            let page = unsafe { std::slice::from_raw_parts(code.as_ptr(), region::page::size()) };
            assert_eq!(&page[..8], &[0xc3; 8]);
            assert!(page[8..].iter().all(|&b| b == 0), "stale bytes after the code");
        }
    }

    #[test]
    fn an_empty_writer_is_empty_code() {
        let code = CodeWriter::new().into_executable().unwrap();
        assert!(code.is_empty() && code.as_ptr().is_null());
    }
}
