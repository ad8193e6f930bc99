//! aarch64 (ARMv8.0-A, little endian) backend.

/// Emits a load or store of `$reg` (e.g. `X(d)`) through a `masm::Mem`, with `$op` for the
/// scaled and register forms and `$opu` for the unscaled one.
macro_rules! ldst {
    ($a:expr, $mem:expr, $op:ident, $opu:ident, $rk:ident($rn:expr)) => {{
        let rn = $rn;
        match $mem {
            Mem::Scaled(b, off) => asm!($a; $op $rk(rn), [XSP(b), #off]),
            Mem::Unscaled(b, off) => asm!($a; $opu $rk(rn), [XSP(b), #off]),
            Mem::Indexed(b, i) => asm!($a; $op $rk(rn), [XSP(b), X(i)]),
        }
    }};
}

pub mod float;
pub mod masm;
pub mod regs;
pub mod simd;

/// The assembler all aarch64 code of a module is emitted into.
pub type Asm = dynasmrt::VecAssembler<dynasmrt::aarch64::Aarch64Relocation>;

/// Writes aarch64 instructions; always states the architecture so that the code is the same
/// whatever the host (the proc-macro would otherwise assume its own host's).
#[macro_export]
#[doc(hidden)]
macro_rules! a64_asm {
    ($ops:expr; $($t:tt)*) => {
        dynasmrt::dynasm!($ops ; .arch aarch64 ; $($t)*)
    };
}
