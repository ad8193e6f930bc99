//! The internal calling convention shared by generated code, the entry trampoline and
//! host-function stubs. Everything that both the compiler and the runtime must agree on
//! about *frames and calls* lives here; data-structure layouts live in `runtime::vmctx`.
//!
//! ## Calls between Wasm functions (x86-64)
//! - `r15` holds the vmctx of the running instance (or a `VMHostCtx` in a host stub). Both
//!   start with a `*mut VMRuntime` at offset 0, so trap and stack-limit code can always
//!   reach the runtime through `[r15]`.
//! - The caller reserves an *argument area* of [`arg_area_slots`] 8-byte slots at `[rsp]`,
//!   stores argument `i` at byte offset `8 * param_slot(i)`, sets `r15` to the callee's
//!   vmctx, and executes `call` with `rsp` 16-byte aligned.
//! - The callee does `push rbp; mov rbp, rsp`: its parameters are at
//!   `[rbp + ARGS_OFFSET + 8 * slot]`. Before `ret` it writes result `j` to
//!   `[rbp + ARGS_OFFSET + 8 * result_slot(j)]` (the same area; the caller reads them back).
//!   A function with exactly one result also returns it in `rax` (integers, zero-extended
//!   i32) or `xmm0` (floats, v128); aarch64: `x0` / `v0`. Direct calls between defined
//!   functions take it from there; the entry trampoline, host stubs and calls through
//!   funcrefs only use the argument area.
//! - `r15` is callee-saved: a function returns with the value it was entered with. It keeps
//!   its own vmctx at `[rbp + VMCTX_SLOT]` and reloads `r15` from there after calling an
//!   import or through a table. `rbp`/`rsp` are preserved; every other register is clobbered.
//! - v128 values take two slots (16 bytes); everything else one slot, with i32/f32 in the low
//!   4 bytes (upper bytes unspecified on input, written as zero on output).
//!
//! ## Calls between Wasm functions (aarch64)
//! The same convention with AAPCS64 registers (`isa::aarch64::regs`):
//! - `x28` holds the vmctx (same `*mut VMRuntime` at offset 0); `x16`/`x17` and `v31` are
//!   scratch and never hold values across masm operations; `x18` is never touched.
//! - The caller reserves the argument area at `[sp]` (sp 16-byte aligned, as always) and
//!   executes `bl`/`blr`. The callee does `stp x29, x30, [sp, #-16]!; mov x29, sp`: its
//!   parameters and results are at `[x29 + ARGS_OFFSET + 8 * slot]` and its own vmctx at
//!   `[x29 + VMCTX_SLOT]`, exactly as on x86-64; it returns with
//!   `mov sp, x29; ldp x29, x30, [sp], #16; ret`.
//! - `x28`, `x29` and `sp` are preserved; every other register (including the AAPCS64
//!   callee-saved x19-x27 and d8-d15) is clobbered, so the entry trampoline saves them.
//! - Traps pass the code in `w0` (instead of `esi`); builtins are called with the AAPCS64
//!   (`extern "C"`) convention: vmctx in `x0`, operands in `x1..`, result in `w0`.
//!
//! ## Traps
//! A trap loads the [`crate::TrapKind`] code into `esi` (aarch64: `w0`) and jumps to
//! `VMRuntime::trap_exit`, which restores the stack pointer saved by the innermost entry
//! trampoline and returns the code to Rust. No Rust frame is ever skipped: host calls return status codes instead.
//!
//! ## Entry from Rust
//! [`EntryTrampoline`] is `extern "C" fn(vmctx, code, args, nslots) -> u32` (SysV on x86-64,
//! AAPCS64 on aarch64): it copies `nslots` 8-byte values from `args` into an argument area,
//! calls `code` with `r15`/`x28` = vmctx, copies the area back to `args` (results), and
//! returns 0, or the trap code after a trap.
//!
//! ## Host functions
//! A host function's `VMFuncRef` has `code` = the shared host stub and `vmctx` = a
//! `VMHostCtx`. The stub calls `VMHostCtx::callback(ctx, args_ptr) -> u32` with the C ABI
//! and traps with the returned code when it is non-zero.

use crate::types::{FuncType, ValType};

/// Size of one argument/result/spill slot.
pub const SLOT_SIZE: i32 = 8;

/// Offset from the callee's frame pointer to its argument area (saved rbp + return address;
/// on aarch64 the saved x29/x30 pair).
pub const ARGS_OFFSET: i32 = 16;

/// Frame-pointer-relative offset where every function keeps its own vmctx.
pub const VMCTX_SLOT: i32 = -8;

/// Signature of the entry trampoline.
pub type EntryTrampoline =
    unsafe extern "C" fn(vmctx: *mut u8, code: *const u8, args: *mut u64, nslots: usize) -> u32;

/// Signature of the Rust side of a host function (called by the host stub).
pub type HostCallback = unsafe extern "C" fn(ctx: *mut u8, args: *mut u64) -> u32;

fn slot_offsets(types: &[ValType]) -> impl Iterator<Item = usize> + '_ {
    types.iter().scan(0usize, |next, t| {
        let at = *next;
        *next += t.slots();
        Some(at)
    })
}

/// Slot index of each parameter in the argument area.
pub fn param_slots(ty: &FuncType) -> Vec<usize> {
    slot_offsets(&ty.params).collect()
}

/// Slot index of each result in the argument area.
pub fn result_slots(ty: &FuncType) -> Vec<usize> {
    slot_offsets(&ty.results).collect()
}

/// Total number of slots the caller must reserve for a call of this type.
pub fn arg_area_slots(ty: &FuncType) -> usize {
    let p: usize = ty.params.iter().map(|t| t.slots()).sum();
    let r: usize = ty.results.iter().map(|t| t.slots()).sum();
    p.max(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v128_takes_two_slots() {
        let ty = FuncType::new([ValType::I32, ValType::V128, ValType::F64], [ValType::I64]);
        assert_eq!(param_slots(&ty), vec![0, 1, 3]);
        assert_eq!(result_slots(&ty), vec![0]);
        assert_eq!(arg_area_slots(&ty), 4);
    }
}
