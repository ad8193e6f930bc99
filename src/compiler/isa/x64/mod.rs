//! x86-64 backend.

pub mod enc;
pub mod float;
pub mod masm;
pub mod regs;
pub mod simd;

/// The assembler all x86-64 code of a module is emitted into.
pub type Asm = crate::compiler::assembler::Assembler<dynasmrt::x64::X64Relocation>;

/// Writes x86-64 instructions; always states the architecture so that the code is the same
/// whatever the host.
#[macro_export]
#[doc(hidden)]
macro_rules! x64_asm {
    ($ops:expr; $($t:tt)*) => {
        dynasmrt::dynasm!($ops ; .arch x64 ; $($t)*)
    };
}

/// CPU features that change instruction selection, read once with CPUID.
#[derive(Copy, Clone, Debug, Default)]
pub struct CpuFeatures {
    pub lzcnt: bool,
    pub bmi1: bool,
    pub popcnt: bool,
    pub sse41: bool,
    /// `pcmpgtq` (otherwise emulated).
    pub sse42: bool,
    /// `pshufb`, `pabs*`, `pmaddubsw`, `pmulhrsw` (required with SSE4.1).
    pub ssse3: bool,
}

impl CpuFeatures {
    pub fn detect() -> CpuFeatures {
        #[cfg(target_arch = "x86_64")]
        {
            CpuFeatures {
                lzcnt: std::is_x86_feature_detected!("lzcnt"),
                bmi1: std::is_x86_feature_detected!("bmi1"),
                popcnt: std::is_x86_feature_detected!("popcnt"),
                sse41: std::is_x86_feature_detected!("sse4.1"),
                sse42: std::is_x86_feature_detected!("sse4.2"),
                ssse3: std::is_x86_feature_detected!("ssse3"),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            CpuFeatures::default()
        }
    }
}
