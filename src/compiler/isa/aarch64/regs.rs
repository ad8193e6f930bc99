//! aarch64 register assignment for generated code (see `crate::abi` for the calling
//! convention these numbers implement).

/// Scratch GPRs (the AAPCS64 intra-procedure-call registers): never allocated, free to
/// clobber inside one masm operation. `SCRATCH` carries values, `ADDR_SCRATCH` addresses
/// and out-of-range offsets, so one operation can use both.
pub const SCRATCH: u8 = 16;
pub const ADDR_SCRATCH: u8 = 17;
/// Pinned: the running instance's vmctx (callee-saved in AAPCS64).
pub const VMCTX: u8 = 28;
/// Frame pointer.
pub const FP: u8 = 29;
/// Link register.
pub const LR: u8 = 30;
/// Register number 31: `sp` as a base register, `xzr`/`wzr` as an operand.
pub const SP: u8 = 31;
pub const ZR: u8 = 31;
/// Scratch vector register.
pub const V_SCRATCH: u8 = 31;

/// Allocatable GPRs, in preference order. x18 (platform register) is never used.
pub const ALLOCATABLE_GPRS: &[u8] = &[
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 27, 26, 25, 24, 23, 22, 21, 20, 19,
];

/// Allocatable vector registers (all but the scratch v31).
pub const ALLOCATABLE_VREGS: &[u8] = &[
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
    25, 26, 27, 28, 29, 30,
];

/// Registers that may hold a hot local for a whole function (from the end of the
/// allocation order).
pub const LOCAL_GPRS: &[u8] = &[19, 20, 21, 22, 23, 24];
/// Vector registers that may hold a hot float local for a whole function.
pub const LOCAL_VREGS: &[u8] = &[30, 29, 28, 27];
/// Memory 0's definition pointer and base, when pinned for a function.
pub const MEMORY_DEF: u8 = 25;
pub const MEMORY_BASE: u8 = 26;
/// Registers carrying the first integer parameters into a direct entry (`crate::abi`).
pub const ARG_GPRS: &[u8] = &[0, 1, 2, 3, 4, 5, 6, 7];
/// Vector registers carrying the first float parameters into a direct entry.
pub const ARG_VREGS: &[u8] = &[0, 1, 2, 3, 4, 5, 6, 7];
