//! Executable memory for generated code. Pages are written while read+write, then switched
//! to read+execute; they are never writable and executable at once (W^X).
//!
//! Changing a page's protection is cheap as a system call but costs a TLB flush, about
//! 2 µs on a virtual machine whatever the number of pages changed. So the code of small
//! modules (one page) comes from a slab of [`SLAB_PAGES`] pages mapped once, each page
//! *ready* (read+write, no code that can run), *in use* (by a `CodeWriter` or, read+execute,
//! a `CodeMemory`) or *freed* (its owner dropped). A module takes a ready page and makes it
//! executable: one protection change. When no page is ready, every freed page is made
//! writable again at once, one protection change per run of adjacent pages.

use std::sync::{Mutex, MutexGuard};

use crate::error::{Error, Result};

/// Pages of the slab of one-page modules (mapped on first use, never unmapped: 256 KiB of
/// address space with 4 KiB pages, resident as far as used).
const SLAB_PAGES: usize = 64;

/// The slab's pages by state (addresses); pages in use are in neither list.
struct Slab {
    /// Start of the mapping (0 until mapped).
    base: usize,
    /// Read+write pages holding no code that can run.
    ready: Vec<usize>,
    /// Pages of dropped owners (read+execute, or read+write if never made executable).
    freed: Vec<usize>,
}

static SLAB: Mutex<Slab> = Mutex::new(Slab { base: 0, ready: Vec::new(), freed: Vec::new() });

fn slab() -> MutexGuard<'static, Slab> {
    // Plain lists that no panic can leave inconsistent.
    SLAB.lock().unwrap_or_else(|p| p.into_inner())
}

impl Slab {
    /// A read+write page nobody uses, if the slab can give one.
    fn take(&mut self) -> Option<usize> {
        if self.base == 0 {
            let page = region::page::size();
            let alloc = region::alloc(page * SLAB_PAGES, region::Protection::READ_WRITE).ok()?;
            self.base = alloc.as_ptr::<u8>() as usize;
            // Mapped for the life of the process: pages are handed out by address.
            std::mem::forget(alloc);
            self.ready = (0..SLAB_PAGES).rev().map(|i| self.base + i * page).collect();
        }
        if self.ready.is_empty() {
            self.recycle();
        }
        self.ready.pop()
    }

    /// Makes every freed page writable again, one protection change per run of adjacent
    /// pages (a run that fails stays freed, unused).
    fn recycle(&mut self) {
        let page = region::page::size();
        self.freed.sort_unstable();
        let mut i = 0;
        while i < self.freed.len() {
            let start = self.freed[i];
            let mut end = i + 1;
            while end < self.freed.len() && self.freed[end] == start + (end - i) * page {
                end += 1;
            }
            // SAFETY: the run lies in the slab's mapping and its pages belong to nobody: no
            // code runs in them and nothing references them.
            if unsafe { region::protect(start as *const u8, (end - i) * page, region::Protection::READ_WRITE) }.is_ok() {
                self.ready.extend(self.freed.drain(i..end));
            } else {
                i = end;
            }
        }
    }
}

/// Pages holding code: a mapping of their own, or one page of the slab.
enum Pages {
    Own(region::Allocation),
    /// The page's address.
    Slab(usize),
}

impl Pages {
    /// A read+write page from the slab, if it has one.
    fn slab_page() -> Option<Pages> {
        slab().take().map(Pages::Slab)
    }

    fn ptr(&self) -> *mut u8 {
        match self {
            Pages::Own(a) => a.as_ptr::<u8>() as *mut u8,
            Pages::Slab(addr) => *addr as *mut u8,
        }
    }

    fn size(&self) -> usize {
        match self {
            Pages::Own(a) => a.len(),
            Pages::Slab(_) => region::page::size(),
        }
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        // An own mapping is unmapped by its `Allocation`; a slab page waits to be recycled.
        if let Pages::Slab(addr) = *self {
            slab().freed.push(addr);
        }
    }
}

/// A fresh read+write mapping of at least `len` bytes (zeroed by the kernel).
fn map_writable(len: usize) -> std::result::Result<Pages, region::Error> {
    region::alloc(len, region::Protection::READ_WRITE).map(Pages::Own)
}

/// Makes the first `size` bytes (whole pages) of `pages` read+execute, once its first `len`
/// bytes hold the finished code.
fn make_executable(pages: &Pages, size: usize, len: usize) -> Result<()> {
    // SAFETY: the code is complete and nothing writes to these pages any more (W^X).
    unsafe { region::protect(pages.ptr(), size, region::Protection::READ_EXECUTE) }
        .map_err(|e| Error::Resource(format!("cannot make code executable: {e}")))?;
    #[cfg(target_arch = "aarch64")]
    {
        // The instruction cache is not coherent with data writes on aarch64.
        // SAFETY: the mapping holds `len` initialised, readable bytes.
        dynasmrt::cache_control::synchronize_icache(unsafe { std::slice::from_raw_parts(pages.ptr(), len) });
    }
    #[cfg(not(target_arch = "aarch64"))]
    let _ = len;
    Ok(())
}

/// A block of read+execute machine code.
pub struct CodeMemory {
    alloc: Option<Pages>,
    len: usize,
}

// SAFETY: the memory is immutable (read+execute) after construction; sharing its address
// between threads is sound.
unsafe impl Send for CodeMemory {}
unsafe impl Sync for CodeMemory {}

impl CodeMemory {
    /// Copies `code` into pages of its own and makes them executable. Code that fits in one
    /// page takes a page of the slab when there is one (see the module docs): one protection
    /// change instead of `mmap` + `mprotect` + `munmap` and a page fault.
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
        let mut writer = CodeWriter::new();
        writer.extend_zeroed(len);
        writer.check()?;
        let value = write(writer.bytes_mut())?;
        Ok((writer.into_executable()?, value))
    }

    /// Address of the first byte (null when empty).
    pub fn as_ptr(&self) -> *const u8 {
        self.alloc.as_ref().map_or(std::ptr::null(), |a| a.ptr() as *const u8)
    }

    /// The code bytes (readable: the pages are read+execute).
    pub fn bytes(&self) -> &[u8] {
        match &self.alloc {
            // SAFETY: the allocation holds `len` initialised bytes, readable and never written
            // again while `self` lives.
            Some(a) => unsafe { std::slice::from_raw_parts(a.ptr(), self.len) },
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

/// Pages that machine code is being written into: read+write, never executable, growing as
/// needed; [`CodeWriter::into_executable`] turns them into a [`CodeMemory`] in place, so a
/// module compiled as one chunk is never copied (and its code pages are faulted in once).
///
/// A write that cannot get memory is dropped and remembered: [`CodeWriter::into_executable`]
/// and [`CodeWriter::error`] report it (the assembler's `push` cannot return an error).
pub struct CodeWriter {
    alloc: Option<Pages>,
    /// Start of `alloc` (dangling when there is none) and its size in bytes.
    ptr: *mut u8,
    capacity: usize,
    len: usize,
    /// Whether `alloc` came from the slab: its bytes past `len` may hold earlier code.
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

    /// Appends `len` zero bytes.
    pub fn extend_zeroed(&mut self, len: usize) {
        self.reserve(len);
        if self.capacity - self.len < len {
            return; // out of memory: recorded in `failed`
        }
        if self.reused {
            // SAFETY: there is room for `len` bytes past `self.len`.
            unsafe { std::ptr::write_bytes(self.ptr.add(self.len), 0, len) };
        }
        // Otherwise the mapping is fresh: the kernel zeroed everything past `len`.
        self.len += len;
    }

    /// Why a write was dropped, if one was.
    pub fn error(&self) -> Option<&str> {
        self.failed.as_deref()
    }

    /// Fails if a write was dropped for want of memory.
    pub fn check(&self) -> Result<()> {
        match &self.failed {
            Some(e) => Err(Error::Resource(format!("cannot map code memory: {e}"))),
            None => Ok(()),
        }
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
        let from_slab = if size == page { Pages::slab_page() } else { None };
        let reused = from_slab.is_some();
        let alloc = match from_slab.map_or_else(|| map_writable(size), Ok) {
            Ok(a) => a,
            Err(e) => {
                self.failed = Some(format!("{size} bytes: {e}"));
                return;
            }
        };
        let ptr = alloc.ptr();
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
        self.check()?;
        let Some(alloc) = self.alloc.take() else {
            return Ok(CodeMemory { alloc: None, len: 0 });
        };
        if self.reused {
            // The rest of a slab page may hold earlier code; fresh pages are zero.
            // SAFETY: `ptr` is valid for `capacity` read+write bytes.
            unsafe { std::ptr::write_bytes(self.ptr.add(self.len), 0, self.capacity - self.len) };
        }
        let used = self.len.max(1).next_multiple_of(region::page::size());
        if used < alloc.size() {
            // SAFETY: the tail `used..` of our own mapping holds no code and is never read.
            unsafe { region::protect(self.ptr.add(used), alloc.size() - used, region::Protection::NONE) }
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
    fn a_slab_page_holds_nothing_of_the_previous_code_past_the_new_code() {
        // Several rounds: another test may take the freed page in between.
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
    fn more_small_modules_than_slab_pages_live_at_once_and_their_pages_come_back() {
        for round in 0..3u8 {
            // Past the slab's pages, code gets mappings of its own.
            let codes: Vec<CodeMemory> =
                (0..SLAB_PAGES as u8 + 8).map(|i| CodeMemory::new(&[i ^ round; 100]).unwrap()).collect();
            for (i, code) in codes.iter().enumerate() {
                assert_eq!(code.bytes(), &[i as u8 ^ round; 100], "round {round}, code {i}");
            }
            // Every page is freed here, and recycled by the next round.
        }
        let s = slab();
        assert!(s.ready.len() + s.freed.len() <= SLAB_PAGES);
    }

    #[test]
    fn an_empty_writer_is_empty_code() {
        let code = CodeWriter::new().into_executable().unwrap();
        assert!(code.is_empty() && code.as_ptr().is_null());
    }
}
