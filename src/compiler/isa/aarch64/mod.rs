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

/// Expands `$m!(<cc>)` with the condition-code token of `$cc` (dynasm takes condition codes
/// only as literal tokens).
macro_rules! with_cc {
    ($cc:expr, $m:ident) => {
        match $cc {
            Cc::Eq => $m!(eq),
            Cc::Ne => $m!(ne),
            Cc::Hs => $m!(hs),
            Cc::Lo => $m!(lo),
            Cc::Mi => $m!(mi),
            Cc::Pl => $m!(pl),
            Cc::Vs => $m!(vs),
            Cc::Vc => $m!(vc),
            Cc::Hi => $m!(hi),
            Cc::Ls => $m!(ls),
            Cc::Ge => $m!(ge),
            Cc::Lt => $m!(lt),
            Cc::Gt => $m!(gt),
            Cc::Le => $m!(le),
        }
    };
}

mod branches;
pub mod float;
pub mod masm;
pub mod regs;
pub mod simd;

/// The assembler all aarch64 code of a module is emitted into.
pub type Asm = crate::compiler::assembler::Assembler<dynasmrt::aarch64::Aarch64Relocation>;

/// Writes aarch64 instructions; always states the architecture so that the code is the same
/// whatever the host (the proc-macro would otherwise assume its own host's).
#[macro_export]
#[doc(hidden)]
macro_rules! a64_asm {
    ($ops:expr; $($t:tt)*) => {
        dynasmrt::dynasm!($ops ; .arch aarch64 ; $($t)*)
    };
}
