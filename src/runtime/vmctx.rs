//! Layouts that generated code reads and writes directly.
//!
//! Every struct here is `#[repr(C)]`; the compiler uses the `*_OFFSET` constants and
//! [`VMOffsets`], never Rust field access, so a layout change only happens here.
//!
//! ## `VMContext` (one per instance, variable size, 8-byte aligned, address never changes)
//! ```text
//!   0                    runtime: *mut VMRuntime          (shared by the whole store)
//!   8                    memory:  *mut VMMemoryDef        (memory 0, or null)
//!   globals_offset       [*mut VMGlobal; n_globals]       (imports first)
//!   tables_offset        [*mut VMTableDef; n_tables]      (imports first)
//!   type_ids_offset      [u32; n_types], padded to 8      (store-wide canonical signature ids)
//!   funcs_offset         [VMFuncRef; n_funcs]             (imports first)
//!   data_segments_offset [VMDataSegment; n_data]          (passive data; len 0 once dropped)
//!   elem_segments_offset [VMElemSegment; n_elems]         (pre-evaluated; len 0 once dropped)
//! ```
//! Active data and element segments (and declarative element segments) are dropped when
//! instantiation completes, as the spec requires.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize};
use crate::runtime::builtins::{Builtin, BUILTIN_COUNT};

/// Store-wide state that generated code touches. One per store, address never changes.
///
/// Shared (`Arc`) with interrupt handles and the timeout thread, hence atomics: generated
/// code reads and writes these words with plain aligned loads and stores, Rust code only
/// with atomic operations (see `runtime::interrupt`). Each atomic has the size and alignment
/// of its plain integer, so the offsets below hold.
#[repr(C)]
#[derive(Debug)]
pub struct VMRuntime {
    /// Lowest address the native stack pointer may reach while Wasm runs; `usize::MAX`
    /// while an interrupt is pending (fails every prologue check).
    pub stack_limit: AtomicUsize,
    /// Stack pointer saved by the innermost entry trampoline (used to unwind traps).
    pub entry_sp: AtomicUsize,
    /// Address of the shared trap-exit code (jumped to with the trap code in `esi`).
    pub trap_exit: usize,
    /// Trap code of the last trap (0 = none).
    pub trap_code: AtomicU32,
    /// Why the running code must stop (`interrupt::REASON_*`), 0 = keep running.
    pub interrupt: AtomicU32,
    /// Addresses of the Rust builtins, indexed by [`Builtin`]: generated code calls
    /// `[[vmctx] + RUNTIME_BUILTINS_OFFSET + 8 * index]`, so it embeds no process address.
    pub builtins: [usize; BUILTIN_COUNT],
    /// Address of the yield entry (`runtime::entry`): the slow path of the interrupt and
    /// stack checks calls it, and resumes when it returns (see `runtime::interrupt`).
    pub yield_entry: usize,
    // Below: Rust-only state (generated code never reads it).
    /// `stack_limit` of the running outermost call, restored after a yield.
    pub call_stack_limit: AtomicUsize,
    /// `interrupt::YieldHook` run on a yield, or 0.
    pub yield_hook: AtomicUsize,
    /// Odd while a call watched for yields runs; changes with every call (`interrupt::watch`).
    pub call_seq: AtomicU64,
    /// Set when a yield ran the yield hook; cleared by its owner (the Python bindings).
    pub yielded: AtomicBool,
}

impl VMRuntime {
    /// A runtime with no stack room yet (`stack_limit` = `usize::MAX`), the shared trap exit
    /// and the builtin table filled in.
    pub fn new(trap_exit: usize) -> VMRuntime {
        VMRuntime {
            stack_limit: AtomicUsize::new(usize::MAX),
            entry_sp: AtomicUsize::new(0),
            trap_exit,
            trap_code: AtomicU32::new(0),
            interrupt: AtomicU32::new(0),
            builtins: Builtin::table(),
            // Every runtime gets it: generated code calls it from any check's slow path.
            yield_entry: crate::runtime::entry::yield_entry_address(),
            call_stack_limit: AtomicUsize::new(usize::MAX),
            yield_hook: AtomicUsize::new(0),
            call_seq: AtomicU64::new(0),
            yielded: AtomicBool::new(false),
        }
    }
}

pub const RUNTIME_STACK_LIMIT_OFFSET: i32 = 0;
pub const RUNTIME_ENTRY_SP_OFFSET: i32 = 8;
pub const RUNTIME_TRAP_EXIT_OFFSET: i32 = 16;
pub const RUNTIME_TRAP_CODE_OFFSET: i32 = 24;
pub const RUNTIME_INTERRUPT_OFFSET: i32 = 28;
pub const RUNTIME_BUILTINS_OFFSET: i32 = 32;
pub const RUNTIME_YIELD_ENTRY_OFFSET: i32 = RUNTIME_BUILTINS_OFFSET + 8 * BUILTIN_COUNT as i32;

const _: () = {
    assert!(std::mem::offset_of!(VMRuntime, stack_limit) == RUNTIME_STACK_LIMIT_OFFSET as usize);
    assert!(std::mem::offset_of!(VMRuntime, entry_sp) == RUNTIME_ENTRY_SP_OFFSET as usize);
    assert!(std::mem::offset_of!(VMRuntime, trap_exit) == RUNTIME_TRAP_EXIT_OFFSET as usize);
    assert!(std::mem::offset_of!(VMRuntime, trap_code) == RUNTIME_TRAP_CODE_OFFSET as usize);
    assert!(std::mem::offset_of!(VMRuntime, interrupt) == RUNTIME_INTERRUPT_OFFSET as usize);
    assert!(std::mem::offset_of!(VMRuntime, yield_entry) == RUNTIME_YIELD_ENTRY_OFFSET as usize);
};

/// A linear memory as generated code sees it. The base never moves (the maximum is reserved
/// up front); `len` grows with `memory.grow`.
#[repr(C)]
#[derive(Debug)]
pub struct VMMemoryDef {
    pub base: *mut u8,
    /// Current size in bytes.
    pub len: u64,
}

pub const MEMORY_BASE_OFFSET: i32 = 0;
pub const MEMORY_LEN_OFFSET: i32 = 8;

/// A table as generated code sees it: `len` elements of 8 bytes each. A funcref element is a
/// `*const VMFuncRef` (0 = null).
#[repr(C)]
#[derive(Debug)]
pub struct VMTableDef {
    pub base: *mut u64,
    /// Current number of elements.
    pub len: u64,
}

pub const TABLE_BASE_OFFSET: i32 = 0;
pub const TABLE_LEN_OFFSET: i32 = 8;

/// Storage of one global: 16 bytes, value little-endian from offset 0 (i32/f32 in the low
/// 4 bytes, i64/f64/references in the low 8, v128 in all 16).
#[repr(C, align(16))]
#[derive(Debug, Default, Clone, Copy)]
pub struct VMGlobal {
    pub bytes: [u8; 16],
}

/// A callable function: what `call`, `call_indirect` and table elements refer to.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VMFuncRef {
    /// Machine code entry following the internal ABI (`crate::abi`).
    pub code: *const u8,
    /// Value of `r15` for the callee: its instance's vmctx, or a `VMHostCtx`.
    pub vmctx: *mut u8,
    /// Canonical signature id (see `runtime::types::type_id`).
    pub type_id: u32,
    pub _pad: u32,
}

pub const FUNCREF_CODE_OFFSET: i32 = 0;
pub const FUNCREF_VMCTX_OFFSET: i32 = 8;
pub const FUNCREF_TYPE_ID_OFFSET: i32 = 16;
pub const FUNCREF_SIZE: i32 = 24;

/// A data segment as `memory.init` sees it: `len` bytes at `base` (owned by the module,
/// which the instance keeps alive). `data.drop` sets `len` to 0.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VMDataSegment {
    pub base: *const u8,
    pub len: u64,
}

/// An element segment as `table.init` sees it: `len` 8-byte table words at `base`, evaluated
/// once at instantiation (a funcref is a `*const VMFuncRef`, an externref its handle word;
/// owned by the instance). `elem.drop` sets `len` to 0.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VMElemSegment {
    pub base: *const u64,
    pub len: u64,
}

pub const SEGMENT_BASE_OFFSET: i32 = 0;
pub const SEGMENT_LEN_OFFSET: i32 = 8;
pub const SEGMENT_SIZE: i32 = 16;

/// What `r15` points to while a host function's stub runs.
#[repr(C)]
pub struct VMHostCtx {
    /// Same position as in `VMContext`, so trap code works unchanged.
    pub runtime: *mut VMRuntime,
    /// Rust side of the call: `(this ctx, args/results area) -> trap code or 0`.
    pub callback: crate::abi::HostCallback,
    /// Owned by the store; the callback casts it back.
    pub data: *mut u8,
}

pub const HOSTCTX_CALLBACK_OFFSET: i32 = 8;

/// Byte offsets inside one module's `VMContext`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VMOffsets {
    pub n_globals: u32,
    pub n_tables: u32,
    pub n_types: u32,
    pub n_funcs: u32,
    pub n_data: u32,
    pub n_elems: u32,
}

pub const VMCTX_RUNTIME_OFFSET: i32 = 0;
pub const VMCTX_MEMORY_OFFSET: i32 = 8;

impl VMOffsets {
    pub fn new(n_globals: u32, n_tables: u32, n_types: u32, n_funcs: u32) -> VMOffsets {
        VMOffsets { n_globals, n_tables, n_types, n_funcs, n_data: 0, n_elems: 0 }
    }
    /// The same layout with room for `n_data` data and `n_elems` element segments.
    pub fn with_segments(self, n_data: u32, n_elems: u32) -> VMOffsets {
        VMOffsets { n_data, n_elems, ..self }
    }
    /// Offset of the pointer to global `i`'s `VMGlobal`.
    pub fn global(&self, i: u32) -> i32 {
        self.globals_offset() + 8 * i as i32
    }
    /// Offset of the pointer to table `i`'s `VMTableDef`.
    pub fn table(&self, i: u32) -> i32 {
        self.tables_offset() + 8 * i as i32
    }
    /// Offset of the canonical id (u32) of the module's type `i`.
    pub fn type_id(&self, i: u32) -> i32 {
        self.type_ids_offset() + 4 * i as i32
    }
    /// Offset of function `i`'s `VMFuncRef`.
    pub fn func(&self, i: u32) -> i32 {
        self.funcs_offset() + FUNCREF_SIZE * i as i32
    }
    /// Offset of data segment `i`'s `VMDataSegment`.
    pub fn data_segment(&self, i: u32) -> i32 {
        self.data_segments_offset() + SEGMENT_SIZE * i as i32
    }
    /// Offset of element segment `i`'s `VMElemSegment`.
    pub fn elem_segment(&self, i: u32) -> i32 {
        self.elem_segments_offset() + SEGMENT_SIZE * i as i32
    }
    pub fn globals_offset(&self) -> i32 {
        16
    }
    pub fn tables_offset(&self) -> i32 {
        self.globals_offset() + 8 * self.n_globals as i32
    }
    pub fn type_ids_offset(&self) -> i32 {
        self.tables_offset() + 8 * self.n_tables as i32
    }
    pub fn funcs_offset(&self) -> i32 {
        let end = self.type_ids_offset() + 4 * self.n_types as i32;
        (end + 7) & !7
    }
    pub fn data_segments_offset(&self) -> i32 {
        self.funcs_offset() + FUNCREF_SIZE * self.n_funcs as i32
    }
    pub fn elem_segments_offset(&self) -> i32 {
        self.data_segments_offset() + SEGMENT_SIZE * self.n_data as i32
    }
    /// Total size of the `VMContext` in bytes.
    pub fn size(&self) -> usize {
        (self.elem_segments_offset() + SEGMENT_SIZE * self.n_elems as i32) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_offsets_match_the_layout() {
        let r = VMRuntime::new(0);
        let base = &r as *const VMRuntime as usize;
        assert_eq!(&r.interrupt as *const AtomicU32 as usize - base, RUNTIME_INTERRUPT_OFFSET as usize);
        assert_eq!(r.builtins.as_ptr() as usize - base, RUNTIME_BUILTINS_OFFSET as usize);
        // Not compared with `Builtin::table()` by address: optimised builds may hold several
        // copies of a function, so function addresses need not be equal (`--release` failed
        // here). The spec suite's memory.grow/table.* tests exercise the indexing itself.
        assert!(r.builtins.iter().all(|&address| address != 0));
    }

    #[test]
    fn segments_follow_the_funcrefs() {
        let o = VMOffsets::new(1, 2, 3, 2).with_segments(2, 3);
        assert_eq!(o.funcs_offset(), 16 + 8 + 16 + 16);
        assert_eq!(o.data_segment(0), o.funcs_offset() + 2 * FUNCREF_SIZE);
        assert_eq!(o.data_segment(1), o.data_segment(0) + 16);
        assert_eq!(o.elem_segment(0), o.data_segment(0) + 32);
        assert_eq!(o.size() as i32, o.elem_segment(0) + 3 * 16);
        assert_eq!(std::mem::size_of::<VMDataSegment>() as i32, SEGMENT_SIZE);
        assert_eq!(std::mem::size_of::<VMElemSegment>() as i32, SEGMENT_SIZE);
        // Without segments the layout is unchanged.
        let plain = VMOffsets::new(1, 2, 3, 2);
        assert_eq!(plain.size() as i32, plain.funcs_offset() + 2 * FUNCREF_SIZE);
    }
}
