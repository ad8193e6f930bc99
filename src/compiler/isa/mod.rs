//! Instruction-set specific code generation.

pub(crate) mod x64;
