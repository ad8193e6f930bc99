//! Rust functions called directly by generated code (`extern "C"`, never unwinding).
//!
//! Generated code reaches them through the store's [`VMRuntime::builtins`] table
//! (`[vmctx] -> VMRuntime`, then one indirect call), never through an address embedded in
//! the code: code stays position-independent and can be serialised and loaded in another
//! process. Each receives the caller's vmctx first, then the operands in Wasm order, then the
//! pointers the compiler read from the vmctx (tables). Builtins that can trap return 0 or a
//! `TrapKind` code.
//!
//! [`VMRuntime::builtins`]: crate::runtime::vmctx::VMRuntime::builtins

use crate::error::TrapKind;
use crate::runtime::vmctx::{VMDataSegment, VMElemSegment, VMMemoryDef, VMTableDef, VMCTX_MEMORY_OFFSET};

/// A builtin, by its index in the builtin table. The order is part of the serialised-code
/// format: append only (and bump `serialize::FORMAT_VERSION` on any change).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Builtin {
    MemoryGrow = 0,
    TableGrow = 1,
    TableFill = 2,
    TableCopy = 3,
    MemoryInit = 4,
    TableInit = 5,
}

/// Number of entries of the builtin table.
pub const BUILTIN_COUNT: usize = 6;

impl Builtin {
    /// Byte offset of this builtin's entry inside the table.
    pub fn table_offset(self) -> i32 {
        8 * self as i32
    }

    /// The builtin table: entry `b as usize` is the address of builtin `b`.
    pub fn table() -> [usize; BUILTIN_COUNT] {
        [
            wazero_memory_grow as *const () as usize,
            wazero_table_grow as *const () as usize,
            wazero_table_fill as *const () as usize,
            wazero_table_copy as *const () as usize,
            wazero_memory_init as *const () as usize,
            wazero_table_init as *const () as usize,
        ]
    }
}

/// `memory.grow` of memory 0: returns the old size in pages, or `u32::MAX` (-1) on failure.
///
/// # Safety
/// `vmctx` is the live `VMContext` of an instance with a memory (as generated code passes).
pub unsafe extern "C" fn wazero_memory_grow(vmctx: *mut u8, delta: u32) -> u32 {
    // A panic must not unwind into generated code.
    std::panic::catch_unwind(|| {
        // SAFETY: generated code only calls this builtin with its own vmctx, the live
        // `VMContext` of an instance that has a memory (validation requires one for
        // `memory.grow`).
        unsafe { crate::runtime::memory::grow_from_wasm(vmctx, delta) }
    })
    .unwrap_or(u32::MAX)
}

/// `table.grow`: returns the old size, or `u32::MAX` (-1) when the table cannot grow.
///
/// # Safety
/// `table` is the `VMTableDef` of a live runtime table (read from the caller's vmctx).
pub unsafe extern "C" fn wazero_table_grow(
    _vmctx: *mut u8,
    init: u64,
    delta: u32,
    table: *mut VMTableDef,
) -> u32 {
    std::panic::catch_unwind(|| {
        // SAFETY: `table` is the `VMTableDef` pointer of a live table taken from the caller's
        // vmctx; the runtime keeps it as the first field of its `#[repr(C)] TableInstance`,
        // and Wasm code holds no Rust reference to the table during the call.
        let instance = unsafe { &mut *(table as *mut crate::runtime::table::TableInstance) };
        instance.grow(delta, init).unwrap_or(u32::MAX)
    })
    .unwrap_or(u32::MAX)
}

/// Whether `[start, start + len)` lies inside `[0, bound)`.
fn in_bounds(start: u32, len: u32, bound: u64) -> bool {
    start as u64 + len as u64 <= bound
}

/// `memory.init` into memory 0: 0, or `MemoryOutOfBounds` (checked before any write; a
/// dropped segment has length 0).
///
/// # Safety
/// `vmctx` is the caller's live `VMContext` (with a memory) and `seg` points to one of its
/// `VMDataSegment`s.
pub unsafe extern "C" fn wazero_memory_init(
    vmctx: *mut u8,
    dst: u32,
    src: u32,
    len: u32,
    seg: *const VMDataSegment,
) -> u32 {
    // SAFETY: generated code passes its own vmctx, whose memory slot holds the live
    // `VMMemoryDef` of memory 0 (validation requires a memory for `memory.init`), and the
    // address of a segment descriptor inside that vmctx; `base` then covers `len` bytes that
    // the module owns. Source and destination never overlap (module data vs. linear memory).
    unsafe {
        let mem = &**(vmctx.add(VMCTX_MEMORY_OFFSET as usize) as *const *const VMMemoryDef);
        let seg = &*seg;
        if !in_bounds(src, len, seg.len) || !in_bounds(dst, len, mem.len) {
            return TrapKind::MemoryOutOfBounds as u32;
        }
        if len == 0 {
            return 0;
        }
        std::ptr::copy_nonoverlapping(seg.base.add(src as usize), mem.base.add(dst as usize), len as usize);
    }
    0
}

/// `table.init`: 0, or `TableOutOfBounds` (checked before any write; a dropped segment has
/// length 0).
///
/// # Safety
/// `table` describes a live element array and `seg` points to one of the caller's
/// `VMElemSegment`s (both read from the caller's vmctx).
pub unsafe extern "C" fn wazero_table_init(
    _vmctx: *mut u8,
    dst: u32,
    src: u32,
    len: u32,
    table: *mut VMTableDef,
    seg: *const VMElemSegment,
) -> u32 {
    // SAFETY: `table` comes from the caller's vmctx and describes live elements; `seg` is a
    // descriptor inside that vmctx whose words the instance owns; the two never overlap.
    unsafe {
        let (t, seg) = (&*table, &*seg);
        if !in_bounds(src, len, seg.len) || !in_bounds(dst, len, t.len) {
            return TrapKind::TableOutOfBounds as u32;
        }
        if len == 0 {
            return 0;
        }
        std::ptr::copy_nonoverlapping(seg.base.add(src as usize), t.base.add(dst as usize), len as usize);
    }
    0
}

/// `table.fill`: 0, or `TableOutOfBounds`.
///
/// # Safety
/// `table` describes a live element array (read from the caller's vmctx).
pub unsafe extern "C" fn wazero_table_fill(
    _vmctx: *mut u8,
    dst: u32,
    value: u64,
    len: u32,
    table: *mut VMTableDef,
) -> u32 {
    // SAFETY: `table` comes from the caller's vmctx and describes `len` live elements; Wasm
    // code is single-threaded per store, so nothing else accesses them during the call.
    unsafe {
        let t = &*table;
        if !in_bounds(dst, len, t.len) {
            return TrapKind::TableOutOfBounds as u32;
        }
        std::slice::from_raw_parts_mut(t.base.add(dst as usize), len as usize).fill(value);
    }
    0
}

/// `table.copy` (overlapping ranges allowed): 0, or `TableOutOfBounds`.
///
/// # Safety
/// Both tables describe live element arrays (read from the caller's vmctx).
pub unsafe extern "C" fn wazero_table_copy(
    _vmctx: *mut u8,
    dst: u32,
    src: u32,
    len: u32,
    dst_table: *mut VMTableDef,
    src_table: *mut VMTableDef,
) -> u32 {
    // SAFETY: both pointers come from the caller's vmctx and describe live element arrays;
    // `ptr::copy` handles overlap (the same table on both sides).
    unsafe {
        let (d, s) = (&*dst_table, &*src_table);
        if !in_bounds(src, len, s.len) || !in_bounds(dst, len, d.len) {
            return TrapKind::TableOutOfBounds as u32;
        }
        std::ptr::copy(s.base.add(src as usize), d.base.add(dst as usize), len as usize);
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Calls `memory.init` on a 16-byte memory with a 4-byte segment; returns the code and
    /// the memory afterwards.
    fn memory_init(dst: u32, src: u32, len: u32, seg_len: u64) -> (u32, Vec<u8>) {
        let mut mem = vec![0u8; 16];
        let data = [1u8, 2, 3, 4];
        let def = VMMemoryDef { base: mem.as_mut_ptr(), len: mem.len() as u64 };
        let seg = VMDataSegment { base: data.as_ptr(), len: seg_len };
        let mut vmctx = [0u64, &def as *const VMMemoryDef as u64];
        // SAFETY: a vmctx whose memory slot points to a live definition, and a live segment.
        let code = unsafe { wazero_memory_init(vmctx.as_mut_ptr() as *mut u8, dst, src, len, &seg) };
        (code, mem)
    }

    #[test]
    fn memory_init_checks_both_ranges_before_writing() {
        let oob = TrapKind::MemoryOutOfBounds as u32;
        let (code, mem) = memory_init(14, 1, 2, 4);
        assert_eq!((code, &mem[13..]), (0, &[0, 2, 3][..]));
        assert_eq!(memory_init(15, 0, 2, 4).0, oob);
        assert_eq!(memory_init(0, 3, 2, 4).0, oob);
        assert_eq!(memory_init(16, 4, 0, 4).0, 0);
        assert_eq!(memory_init(17, 0, 0, 4).0, oob);
        assert_eq!(memory_init(0, 5, 0, 4).0, oob);
        assert_eq!(memory_init(u32::MAX, 0, 1, 4).0, oob);
        // Dropped: length 0.
        assert_eq!(memory_init(0, 0, 0, 0).0, 0);
        let (code, mem) = memory_init(0, 0, 1, 0);
        assert_eq!((code, mem[0]), (oob, 0));
    }

    #[test]
    fn table_init_checks_both_ranges_before_writing() {
        let words = [7u64, 8, 9];
        let mut elems = vec![0u64; 4];
        let mut table = VMTableDef { base: elems.as_mut_ptr(), len: 4 };
        let seg = VMElemSegment { base: words.as_ptr(), len: 3 };
        let oob = TrapKind::TableOutOfBounds as u32;
        // SAFETY: live table and segment; the vmctx is unused by this builtin.
        let init = |t: &mut VMTableDef, d, s, n| unsafe { wazero_table_init(std::ptr::null_mut(), d, s, n, t, &seg) };
        assert_eq!(init(&mut table, 2, 1, 3), oob);
        assert_eq!(init(&mut table, 0, 2, 2), oob);
        assert_eq!(init(&mut table, 4, 3, 0), 0);
        assert_eq!(init(&mut table, 5, 0, 0), oob);
        assert_eq!(elems, [0, 0, 0, 0]);
        assert_eq!(init(&mut table, 1, 0, 3), 0);
        assert_eq!(elems, [0, 7, 8, 9]);
    }
}
