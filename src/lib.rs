//! wazero: a WebAssembly runtime built on a single-pass JIT compiler.
//!
//! The crate has three layers:
//! - [`compiler`]: validates and compiles each function body in one pass into native code
//!   (one ISA-neutral frontend over a lazy value stack, one thin backend per ISA).
//! - [`runtime`]: store, instances, memories, tables, globals, the entry trampoline and traps.
//! - `python` (cargo feature `python`): the PyO3 bindings behind the `wazero` Python package.
//!
//! The pure Rust API re-exported here is what the tests, fuzzers and benches drive.

pub mod abi;
pub mod compiler;
pub mod error;
pub mod limits;
pub mod module;
pub mod runtime;
pub mod serialize;
pub mod types;
pub mod wasi;

#[cfg(feature = "python")]
mod python;

pub use error::{Error, Result, Trap, TrapKind};
pub use limits::Limits;
pub use module::Module;
pub use runtime::interrupt::InterruptHandle;
pub use runtime::store::Store;
pub use runtime::{Extern, Func, Global, Instance, Memory, Table};
pub use types::{ExternType, FuncType, GlobalType, MemoryType, TableType, Val, ValType};

/// The version of this crate (and of the Python package built from it).
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
