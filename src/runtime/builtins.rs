//! Rust functions called directly by generated code (`extern "C"`, never unwinding).
//!
//! Generated code calls them through their absolute address, embedded as an immediate (code
//! is never serialised, so this stays valid for the process). Each receives the caller's
//! vmctx first, then the operands in Wasm order, then the pointers the compiler read from the
//! vmctx (tables). Builtins that can trap return 0 or a `TrapKind` code.

use crate::error::TrapKind;
use crate::runtime::vmctx::VMTableDef;

/// Addresses of every builtin, as the compiler embeds them.
#[derive(Copy, Clone, Debug)]
pub struct Builtins {
    pub memory_grow: usize,
    pub table_grow: usize,
    pub table_fill: usize,
    pub table_copy: usize,
}

impl Builtins {
    pub fn get() -> Builtins {
        Builtins {
            memory_grow: wazero_memory_grow as *const () as usize,
            table_grow: wazero_table_grow as *const () as usize,
            table_fill: wazero_table_fill as *const () as usize,
            table_copy: wazero_table_copy as *const () as usize,
        }
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
