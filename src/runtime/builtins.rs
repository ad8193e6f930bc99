//! Rust functions called directly by generated code (`extern "sysv64"`, never unwinding).
//!
//! Generated code calls them through their absolute address, embedded as an immediate (code
//! is never serialised, so this stays valid for the process). Each receives the caller's
//! vmctx first.

/// `memory.grow` of memory 0: returns the old size in pages, or `u32::MAX` (-1) on failure.
pub extern "sysv64" fn wazero_memory_grow(vmctx: *mut u8, delta: u32) -> u32 {
    // A panic must not unwind into generated code.
    // SAFETY: generated code only emits this call for a module with a memory, passing its own
    // live vmctx.
    std::panic::catch_unwind(|| unsafe { crate::runtime::memory::grow_from_wasm(vmctx, delta) }).unwrap_or(u32::MAX)
}
