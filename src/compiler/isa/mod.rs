//! Instruction selection, one module per ISA. Only instruction choice lives here; every
//! Wasm-level decision is made by the frontend.

pub mod aarch64;
pub mod x64;
