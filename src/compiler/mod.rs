//! The single-pass compiler: validates and compiles every function body of a module in one
//! pass over its operators.

pub(crate) mod isa;

use wasmparser::{FuncToValidate, FunctionBody, ValidatorResources};

use crate::error::Result;
use crate::module::ModuleInfo;
use crate::runtime::code::CodeMemory;

/// Native code of a whole module.
pub struct CompiledCode {
    /// Executable (read + execute, never writable) machine code of all functions.
    pub code: CodeMemory,
    /// Offset in `code` of the entry of each function *defined* by the module, in order.
    pub func_offsets: Vec<usize>,
}

/// Validates and compiles each function body (in order) of a module described by `info`.
pub fn compile_module(
    info: &ModuleInfo,
    bodies: Vec<(FuncToValidate<ValidatorResources>, FunctionBody<'_>)>,
) -> Result<CompiledCode> {
    let _ = (info, bodies);
    todo!("compiler")
}
