//! The entry trampoline, the host-function stub and the trap exit: a small block of machine
//! code generated once per process.

use crate::abi::EntryTrampoline;

/// The entry trampoline (see `crate::abi`).
pub fn entry_trampoline() -> EntryTrampoline {
    todo!("entry trampoline (compiler branch)")
}

/// Address of the trap exit code, stored in `VMRuntime::trap_exit`.
pub fn trap_exit_address() -> usize {
    0
}

/// Address of the shared host-function stub.
pub fn host_stub_address() -> *const u8 {
    std::ptr::null()
}
