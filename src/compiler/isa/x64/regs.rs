//! x86-64 register assignment for generated code.

use crate::compiler::masm::Reg;

pub const RAX: u8 = 0;
pub const RCX: u8 = 1;
pub const RDX: u8 = 2;
pub const RBX: u8 = 3;
pub const RSP: u8 = 4;
pub const RBP: u8 = 5;
pub const RSI: u8 = 6;
pub const RDI: u8 = 7;
pub const R8: u8 = 8;
pub const R9: u8 = 9;
pub const R10: u8 = 10;
/// Scratch GPR: never allocated, free to clobber inside one masm operation.
pub const SCRATCH: u8 = 11;
pub const R12: u8 = 12;
pub const R13: u8 = 13;
pub const R14: u8 = 14;
/// Pinned: the running instance's vmctx.
pub const VMCTX: u8 = 15;
/// Scratch XMM register.
pub const XMM_SCRATCH: u8 = 15;

/// Allocatable GPRs, in preference order (caller-saved first; all are clobbered by calls
/// in the internal ABI anyway).
pub const ALLOCATABLE_GPRS: &[u8] = &[RAX, RCX, RDX, RSI, RDI, R8, R9, R10, RBX, R12, R13, R14];

/// Allocatable XMM registers.
pub const ALLOCATABLE_XMMS: &[u8] = &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];

pub const fn gpr(hw: u8) -> Reg {
    Reg::int(hw)
}

/// Registers that may hold a hot local for a whole function (taken from the end of the
/// allocation order so the value stack keeps the registers with fixed-role uses).
pub const LOCAL_GPRS: &[u8] = &[RBX, R12, R13, R14];

/// XMM registers that may hold a hot float local for a whole function.
pub const LOCAL_XMMS: &[u8] = &[14, 13, 12, 11];

/// Registers carrying the first integer parameters into a direct entry (`crate::abi`): not
/// used by the prologue (rax, r11), not pinned for locals or memory (r9, r10).
pub const ARG_GPRS: &[u8] = &[RSI, RDX, RCX, R8, RDI];

/// XMM registers carrying the first float parameters into a direct entry.
pub const ARG_XMMS: &[u8] = &[0, 1, 2, 3, 4, 5, 6, 7];
