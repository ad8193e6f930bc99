//! Compiling one function body with a single decoding pass.
//!
//! The register assignment of hot locals needs usage counts of the whole body before any
//! code is emitted. Pass 1 (`pass1.rs`) decodes each operator once, validates it, feeds it to the
//! [`LocalUsage`] counters and records it; pass 2 generates code from the recorded
//! operators. The record holds at most [`RECORD_OPS`] operators: pass 2 decodes the rest of
//! a longer body a second time (without validating again), from a copy of the decoder taken
//! where the record stopped. A worker's memory for the record is thus bounded, and grows
//! with the body up to that bound without a step where a body becomes "too large to
//! record".

use wasmparser::{FuncToValidate, FuncValidatorAllocations, FunctionBody, OperatorsReader, ValidatorResources};

use crate::compiler::pass1::{Pass1, Recorded};

use crate::compiler::frontend::{FuncCompiler, LocalUsage, ModuleEnv};
use crate::compiler::masm::MacroAssembler;
use crate::compiler::regalloc::RegAlloc;
use crate::error::Result;
use crate::limits::Limits;

/// Operators recorded per body, at most: a recorded operator takes 64 bytes (about 30× its
/// encoding), so this bounds the record to 1 MiB per compiling thread. Bodies up to ~30 KB
/// (nearly all real functions) are recorded whole; decoding the rest of a longer one again
/// costs 10–20 % of its compile time (`benches/README.md`, Scaling).
pub const RECORD_OPS: usize = 16 * 1024;

/// Per-thread state reused from one body to the next (only its allocations carry over).
#[derive(Default)]
pub(crate) struct BodyCompiler<'a> {
    /// Pass 1's operators with their byte offsets (the first [`RECORD_OPS`]).
    ops: Recorded<'a>,
    /// The decoder where the record stopped, when the body has more operators.
    rest: Option<OperatorsReader<'a>>,
    /// Local declarations: (byte offset, count, type).
    locals: Vec<(usize, u32, wasmparser::ValType)>,
    usage: LocalUsage,
    allocs: FuncValidatorAllocations,
}

impl<'a> BodyCompiler<'a> {
    /// Validates `body` and compiles it as function `func_index` at the current position of
    /// `masm`.
    pub(crate) fn compile<M: MacroAssembler>(
        &mut self,
        masm: &mut M,
        env: &ModuleEnv<'_>,
        regs: &RegAlloc,
        func_index: u32,
        func: FuncToValidate<ValidatorResources>,
        body: FunctionBody<'a>,
    ) -> Result<Option<(usize, usize)>> {
        self.validate_and_scan(func, &body, env.limits, func_index)?;
        let mut fc = FuncCompiler::new(masm, env, regs.clone(), func_index)?;
        for &(offset, count, ty) in &self.locals {
            fc.add_locals(count, ty, offset)?;
        }
        fc.pin_memory(&self.usage);
        fc.pin_locals(&self.usage);
        fc.begin();
        for &(offset, ref op) in &self.ops.ops {
            fc.visit(offset, op)?;
            check_function_limits(&fc, env.limits, func_index, offset)?;
        }
        if let Some(mut reader) = self.rest.take() {
            while !reader.eof() {
                let offset = reader.original_position() as usize;
                fc.visit(offset, &reader.read()?)?;
                check_function_limits(&fc, env.limits, func_index, offset)?;
            }
        }
        fc.finish()
    }

    /// Pass 1: validates the locals and every operator, counts local and memory usage, and
    /// keeps the first [`RECORD_OPS`] operators (and the decoder after them) for pass 2.
    fn validate_and_scan(
        &mut self,
        func: FuncToValidate<ValidatorResources>,
        body: &FunctionBody<'a>,
        limits: &Limits,
        func_index: u32,
    ) -> Result<()> {
        self.ops.clear();
        self.rest = None;
        // Every operator takes at least one byte: the exact room for this body, so the
        // record never doubles (and copies) its way up.
        self.ops.ops.reserve_exact(body.as_bytes().len().min(RECORD_OPS));
        self.locals.clear();
        self.usage.clear();
        let mut validator = func.into_validator(std::mem::take(&mut self.allocs));
        let mut locals = body.get_locals_reader()?;
        let mut n_locals = 0u64;
        for _ in 0..locals.get_count() {
            let offset = locals.original_position();
            let (count, ty) = locals.read()?;
            n_locals += u64::from(count);
            let what = || format!("locals in function {func_index}");
            Limits::check("max_locals", n_locals, limits.max_locals, what, offset)?;
            validator.define_locals(offset, count, ty)?;
            self.locals.push((offset as usize, count, ty));
        }
        let mut reader: OperatorsReader<'a> = body.get_operators_reader()?;
        let mut pass1 = Pass1 {
            validator: &mut validator,
            usage: &mut self.usage,
            ops: Some(&mut self.ops),
            bytes: body.as_bytes(),
            start: body.range().start,
            offset: 0,
            max_br_table_size: limits.max_br_table_size,
            func_index,
        };
        while !reader.eof() {
            if pass1.ops.as_ref().is_some_and(|r| r.ops.len() == RECORD_OPS) {
                self.rest = Some(reader.clone());
                pass1.ops = None;
            }
            pass1.offset = reader.original_position();
            reader.visit_operator(&mut pass1)??;
        }
        reader.finish()?;
        self.allocs = validator.into_allocations();
        Ok(())
    }
}

/// Limits that grow with the operators of a body: checked after each one, so that none can
/// be exceeded by more than one operator's worth. The code size is that of the chunk being
/// compiled here; the module's total is checked again when the chunks are linked.
///
/// Runs once per operator: the common case is three comparisons; the error is built out of
/// line.
#[inline(always)]
fn check_function_limits<M: MacroAssembler>(
    fc: &FuncCompiler<'_, M>,
    limits: &Limits,
    func_index: u32,
    offset: usize,
) -> Result<()> {
    let depth = fc.nesting_depth() as u64;
    let height = fc.stack.len() as u64;
    let code = fc.masm.code_offset() as u64;
    if depth <= limits.max_nesting_depth && height <= limits.max_value_stack && code <= limits.max_code_size {
        return Ok(());
    }
    function_limit_error(depth, height, code, limits, func_index, offset as u64)
}

/// The error of [`check_function_limits`] (nesting first, then stack, then code size).
#[cold]
#[inline(never)]
fn function_limit_error(depth: u64, height: u64, code: u64, limits: &Limits, func_index: u32, offset: u64) -> Result<()> {
    let what = |s: &str| format!("{s} in function {func_index}");
    Limits::check("max_nesting_depth", depth, limits.max_nesting_depth, || what("nested blocks"), offset)?;
    Limits::check("max_value_stack", height, limits.max_value_stack, || what("operand stack entries"), offset)?;
    let code_what = || format!("bytes of code for the module up to function {func_index}");
    Limits::check("max_code_size", code, limits.max_code_size, code_what, offset)
}
