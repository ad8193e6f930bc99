//! The single-pass compiler: validates and compiles every function body of a module in one
//! pass over its operators.
//!
//! Layout: [`frontend`] (Wasm semantics, driven per operator) over a lazy
//! [`value_stack`], [`control`] frames and a [`regalloc`] free list; it emits through the
//! ISA-neutral [`masm::MacroAssembler`], implemented per ISA under [`isa`].

pub mod control;
pub mod frontend;
pub mod isa;
pub mod masm;
mod ops;
pub mod regalloc;
pub mod value_stack;

use std::panic::{catch_unwind, AssertUnwindSafe};

use wasmparser::{FuncToValidate, FuncValidatorAllocations, FunctionBody, ValidatorResources};

use crate::error::{Error, Result};
use crate::module::ModuleInfo;
use crate::runtime::code::CodeMemory;
use frontend::{FuncCompiler, ModuleEnv};
use isa::x64::masm::X64Masm;
use isa::x64::CpuFeatures;
use masm::MacroAssembler;

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
    if !cfg!(target_arch = "x86_64") {
        return Err(Error::Compile { message: "unsupported: host architecture".into(), offset: None });
    }
    let features = CpuFeatures::detect();
    if !features.sse41 {
        return Err(Error::Compile { message: "unsupported: CPU without SSE4.1".into(), offset: None });
    }
    // A panic here is a compiler bug; it must never unwind into the caller (possibly Python).
    match catch_unwind(AssertUnwindSafe(|| compile_x64(info, bodies, features))) {
        Ok(result) => result,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(Error::Compile { message: format!("internal compiler error: {what}"), offset: None })
        }
    }
}

fn compile_x64(
    info: &ModuleInfo,
    bodies: Vec<(FuncToValidate<ValidatorResources>, FunctionBody<'_>)>,
    features: CpuFeatures,
) -> Result<CompiledCode> {
    let mut masm = X64Masm::new(features);
    let func_labels = (0..bodies.len()).map(|_| masm.new_label()).collect();
    let env = ModuleEnv {
        info,
        offsets: info.vm_offsets(),
        func_labels,
        memory_grow_builtin: crate::runtime::builtins::wazero_memory_grow as *const () as usize,
    };
    let regs = regalloc::RegAlloc::new(isa::x64::regs::ALLOCATABLE_GPRS, isa::x64::regs::ALLOCATABLE_XMMS);
    let mut func_offsets = Vec::with_capacity(bodies.len());
    let mut allocs = FuncValidatorAllocations::default();
    for (i, (func, body)) in bodies.into_iter().enumerate() {
        let func_index = info.num_imported_funcs + i as u32;
        let mut validator = func.into_validator(allocs);
        // Functions start 16-byte aligned (better decoding, stable benchmarks).
        masm.align16();
        masm.bind(env.func_labels[i]);
        func_offsets.push(masm.offset());

        let mut fc = FuncCompiler::new(&mut masm, &env, regs.clone(), func_index)?;
        let mut locals = body.get_locals_reader()?;
        for _ in 0..locals.get_count() {
            let offset = locals.original_position();
            let (count, ty) = locals.read()?;
            validator.define_locals(offset, count, ty)?;
            fc.add_locals(count, ty, offset as usize)?;
        }
        fc.pin_locals(&frontend::LocalUsage::scan(&body));
        fc.begin();
        let mut ops = body.get_operators_reader()?;
        while !ops.eof() {
            let offset = ops.original_position();
            let op = ops.read()?;
            validator.op(offset, &op)?;
            fc.visit(offset as usize, &op)?;
        }
        ops.finish()?;
        fc.finish()?;
        allocs = validator.into_allocations();
    }
    let bytes = masm
        .asm
        .finalize()
        .map_err(|e| Error::Compile { message: format!("internal compiler error: {e}"), offset: None })?;
    Ok(CompiledCode { code: CodeMemory::new(&bytes)?, func_offsets })
}
