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
//! ```

/// Store-wide state that generated code touches. One per store, address never changes.
#[repr(C)]
#[derive(Debug)]
pub struct VMRuntime {
    /// Lowest address the native stack pointer may reach while Wasm runs.
    pub stack_limit: usize,
    /// Stack pointer saved by the innermost entry trampoline (used to unwind traps).
    pub entry_sp: usize,
    /// Address of the shared trap-exit code (jumped to with the trap code in `esi`).
    pub trap_exit: usize,
    /// Trap code of the last trap (0 = none).
    pub trap_code: u32,
    /// Reserved for interruption (non-zero = stop at the next check).
    pub interrupt: u32,
}

pub const RUNTIME_STACK_LIMIT_OFFSET: i32 = 0;
pub const RUNTIME_ENTRY_SP_OFFSET: i32 = 8;
pub const RUNTIME_TRAP_EXIT_OFFSET: i32 = 16;
pub const RUNTIME_TRAP_CODE_OFFSET: i32 = 24;
pub const RUNTIME_INTERRUPT_OFFSET: i32 = 28;

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
}

pub const VMCTX_RUNTIME_OFFSET: i32 = 0;
pub const VMCTX_MEMORY_OFFSET: i32 = 8;

impl VMOffsets {
    pub fn new(n_globals: u32, n_tables: u32, n_types: u32, n_funcs: u32) -> VMOffsets {
        VMOffsets { n_globals, n_tables, n_types, n_funcs }
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
    /// Total size of the `VMContext` in bytes.
    pub fn size(&self) -> usize {
        (self.funcs_offset() + FUNCREF_SIZE * self.n_funcs as i32) as usize
    }
}
