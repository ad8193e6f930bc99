//! The single-pass compiler: validates and compiles every function body of a module in one
//! pass over its operators.
//!
//! Layout: [`frontend`] (Wasm semantics, driven per operator; numeric and memory operators
//! in `ops`) over a lazy [`value_stack`], [`control`] frames and a [`regalloc`] free list; it
//! emits through the ISA-neutral [`masm::MacroAssembler`], implemented per ISA under [`isa`]
//! (x86-64 and aarch64, both always built; [`Isa::host`] picks the running CPU's).
//! `body` decodes each body once (validating and recording it) before generating its code;
//! [`parallel`] compiles chunks of functions on several threads and links them. Both ISAs
//! emit through [`assembler::Assembler`] (dynasm's labels over a
//! [`crate::runtime::code::CodeWriter`]): code is written into the pages it runs from, which
//! become read+execute in place when the module is one chunk.
//!
//! ## What generated code expects from the runtime
//! Besides the calling convention of [`crate::abi`] and the layouts of
//! [`crate::runtime::vmctx`]:
//! - Every `VMContext` slot is filled before any code runs: runtime pointer, memory 0 (its
//!   `VMMemoryDef`), global and table pointers, canonical type ids
//!   ([`crate::runtime::typeids::type_id`]) and one `VMFuncRef` per function, imports first;
//!   a local function's entry is `code.as_ptr() + func_offsets[i - num_imported_funcs]` with
//!   its own instance's vmctx.
//! - A funcref value (table element, `ref.func`, funcref global/local) is a
//!   `*const VMFuncRef`, 0 = null; `ref.func` yields the address of the `VMFuncRef` inside the
//!   instance's own vmctx, so a vmctx must outlive every table/global holding such pointers.
//!   An externref is an opaque non-zero word (0 = null).
//! - `VMMemoryDef::base` never moves; `len` is the byte size. An imported memory has at least
//!   the declared minimum size (accesses below it skip the bounds check).
//! - `memory.grow`, `memory.init`, `table.grow/fill/copy/init` call the Rust builtins of
//!   `runtime::builtins` through the table `VMRuntime::builtins` (no process address is
//!   embedded in the code, which is position-independent; C-ABI arguments: vmctx, the
//!   Wasm operands, then table pointers read from the vmctx and segment descriptor addresses
//!   inside it). `memory.grow` relies on the runtime's `memory::grow_from_wasm`, `table.grow`
//!   on `TableInstance` keeping its `VMTableDef` first; trapping builtins return 0 or a trap
//!   code.
//! - Every `VMDataSegment`/`VMElemSegment` of the vmctx describes its segment (element items
//!   already evaluated to table words) until dropped; `data.drop`/`elem.drop` store a zero
//!   length inline, and the runtime zeroes the length of active and declarative segments once
//!   instantiation has initialised them.
//! - `VMRuntime::stack_limit` bounds the frames (each prologue checks its whole frame);
//!   `VMRuntime::interrupt != 0` makes the next loop header trap with `Interrupted` (the
//!   runtime clears it). To stop loop-free code too, an interrupt also sets `stack_limit` to
//!   `usize::MAX`, so the next prologue traps with `StackOverflow`, which the runtime reports
//!   as the interrupt (see `runtime::interrupt`). Both words may be written by other threads:
//!   read them with single aligned loads, never cache them across a loop header or call.
//!   Where the backend sets `MacroAssembler::RESUMABLE_CHECKS` (x86-64), both checks' slow
//!   paths call `VMRuntime::yield_entry` instead of trapping (one out-of-line stub per loop
//!   header and one per prologue): it traps for a real stop or stack overflow and returns
//!   for a yield request (`interrupt::REASON_YIELD`), every register intact, and the code
//!   resumes at the check.
//! - Traps leave through `VMRuntime::trap_exit` (see [`crate::runtime::entry`]).
//!
//! ## SIMD
//! v128 values live in vector (`Float`-class) registers and take two frame slots; the
//! vector operations go through [`simd::SimdMasm`], reached with `MacroAssembler::simd` (an
//! ISA returning `None` rejects SIMD code with "unsupported: SIMD on this ISA"). Both backends
//! implement it: x86-64 with SSE4.1 (`isa::x64::simd`), aarch64 with NEON (`isa::aarch64::simd`).

pub mod assembler;
mod body;
pub mod control;
pub mod frontend;
pub mod isa;
pub mod masm;
mod ops;
mod pass1;
pub mod parallel;
pub mod regalloc;
pub mod simd;
pub mod value_stack;

use std::panic::{catch_unwind, AssertUnwindSafe};

pub use body::RECORD_OPS;

use wasmparser::{FuncToValidate, FunctionBody, ValidatorResources};

use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::module::ModuleInfo;
use crate::runtime::code::CodeMemory;
use frontend::ModuleEnv;
use isa::aarch64::masm::A64Masm;
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

/// The instruction set code is generated for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Isa {
    X64,
    Aarch64,
}

impl Isa {
    /// The ISA of the running CPU, if there is a backend for it.
    pub fn host() -> Option<Isa> {
        if cfg!(target_arch = "x86_64") {
            Some(Isa::X64)
        } else if cfg!(target_arch = "aarch64") {
            Some(Isa::Aarch64)
        } else {
            None
        }
    }
}

/// Validates and compiles each function body (in order) of a module described by `info`,
/// for the running CPU, on [`parallel::default_threads`] threads, within the default
/// [`Limits`].
pub fn compile_module(
    info: &ModuleInfo,
    bodies: Vec<(FuncToValidate<ValidatorResources>, FunctionBody<'_>)>,
) -> Result<CompiledCode> {
    compile_module_threads(info, bodies, parallel::default_threads(), &Limits::default())
}

/// [`compile_module`] within `limits` (those on function bodies and generated code).
pub fn compile_module_with_limits(
    info: &ModuleInfo,
    bodies: Vec<(FuncToValidate<ValidatorResources>, FunctionBody<'_>)>,
    limits: &Limits,
) -> Result<CompiledCode> {
    compile_module_threads(info, bodies, parallel::default_threads(), limits)
}

/// [`compile_module`] on up to `threads` threads (1: the calling thread only) within `limits`.
pub fn compile_module_threads(
    info: &ModuleInfo,
    bodies: Vec<(FuncToValidate<ValidatorResources>, FunctionBody<'_>)>,
    threads: usize,
    limits: &Limits,
) -> Result<CompiledCode> {
    let Some(isa) = Isa::host() else {
        return Err(Error::Compile {
            message: "unsupported: host architecture".into(),
            offset: None,
        });
    };
    let unlinked = compile_module_unlinked(isa, info, bodies, threads, limits)?;
    let (code, func_offsets) = unlinked.into_executable()?;
    Ok(CompiledCode { code, func_offsets })
}

/// Validates and compiles for `isa` whatever the host (cross-compilation tests): the raw
/// machine code and the offset of each function.
pub fn compile_module_for(
    isa: Isa,
    info: &ModuleInfo,
    bodies: Vec<(FuncToValidate<ValidatorResources>, FunctionBody<'_>)>,
    limits: &Limits,
) -> Result<(Vec<u8>, Vec<usize>)> {
    compile_module_for_threads(isa, info, bodies, parallel::default_threads(), limits)
}

/// [`compile_module_for`] on up to `threads` threads; the bytes do not depend on `threads`.
pub fn compile_module_for_threads(
    isa: Isa,
    info: &ModuleInfo,
    bodies: Vec<(FuncToValidate<ValidatorResources>, FunctionBody<'_>)>,
    threads: usize,
    limits: &Limits,
) -> Result<(Vec<u8>, Vec<usize>)> {
    compile_module_unlinked(isa, info, bodies, threads, limits)?.into_vec()
}

/// Validates and compiles for `isa` on up to `threads` threads: the code still to be linked.
fn compile_module_unlinked(
    isa: Isa,
    info: &ModuleInfo,
    bodies: Vec<(FuncToValidate<ValidatorResources>, FunctionBody<'_>)>,
    threads: usize,
    limits: &Limits,
) -> Result<parallel::Unlinked> {
    // A panic here is a compiler bug; it must never unwind into the caller (possibly Python).
    let result = catch_unwind(AssertUnwindSafe(|| match isa {
        Isa::X64 => {
            let features = CpuFeatures::detect();
            if cfg!(target_arch = "x86_64") && !(features.sse41 && features.ssse3) {
                return Err(Error::Compile {
                    message: "unsupported: CPU without SSE4.1 and SSSE3".into(),
                    offset: None,
                });
            }
            compile_with(
                &|| X64Masm::new(features),
                isa::x64::regs::ALLOCATABLE_GPRS,
                isa::x64::regs::ALLOCATABLE_XMMS,
                info,
                bodies,
                threads,
                limits,
            )
        }
        Isa::Aarch64 => compile_with(
            &A64Masm::new,
            isa::aarch64::regs::ALLOCATABLE_GPRS,
            isa::aarch64::regs::ALLOCATABLE_VREGS,
            info,
            bodies,
            threads,
            limits,
        ),
    }));
    result.unwrap_or_else(|panic| Err(parallel::panic_error(panic)))
}

fn compile_with<M: MacroAssembler>(
    new_masm: &(impl Fn() -> M + Sync),
    int_regs: &'static [u8],
    float_regs: &'static [u8],
    info: &ModuleInfo,
    bodies: Vec<(FuncToValidate<ValidatorResources>, FunctionBody<'_>)>,
    threads: usize,
    limits: &Limits,
) -> Result<parallel::Unlinked> {
    let env = ModuleEnv::new(info, limits);
    let regs = regalloc::RegAlloc::new(int_regs, float_regs);
    parallel::compile_functions(&env, &regs, new_masm, bodies, threads)
}
