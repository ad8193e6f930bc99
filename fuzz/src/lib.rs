//! Shared logic of wazero's fuzz targets: differential execution against the `wasmi`
//! interpreter, single-instruction modules, and validation agreement with `wasmparser`.
//!
//! The libFuzzer targets in `fuzz_targets/` are thin wrappers around the `run` function of
//! each module below. The same modules are compiled into the root crate's
//! `tests/fuzz_regressions.rs` through `#[path]`, so that `cargo test` (stable, no
//! libFuzzer) replays the committed regressions and a fixed-seed smoke pass. Keep this file
//! free of crate-level attributes and refer to sibling modules with `super::`.

pub mod crash_dump;
pub mod differential;
pub mod engines;
pub mod features;
pub mod simd_ops;
pub mod single_inst;
pub mod util;
pub mod validate;
pub mod value;
