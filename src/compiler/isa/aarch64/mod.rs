//! aarch64 (ARMv8.0-A, little endian) backend.

pub mod float;
pub mod masm;
pub mod regs;

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
