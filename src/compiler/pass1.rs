//! Pass 1 over a function body as one [`VisitOperator`]: wasmparser's decoder calls a
//! `visit_*` method per operator with its immediates, which runs our own checks, the
//! validator's method of the same name, the local-usage counters and the recording, with no
//! `Operator` value matched on more than once (each method builds its own variant, so the
//! matches in [`Pass1::before`] and [`LocalUsage::observe`] fold away when inlined).
//!
//! The order of checks per operator is that of decoding with `read()` and then validating:
//! decoding errors first, then our reserved-byte and `br_table` limit checks, then
//! validation.

use std::mem::ManuallyDrop;

use wasmparser::{FuncValidator, Operator, ValidatorResources, VisitOperator, VisitSimdOperator};

use crate::compiler::frontend::LocalUsage;
use crate::error::{Error, Result};
use crate::limits::Limits;

/// The per-operator state of pass 1 (see the module docs).
pub(crate) struct Pass1<'s, 'a> {
    pub validator: &'s mut FuncValidator<ValidatorResources>,
    pub usage: &'s mut LocalUsage,
    /// Where recorded operators go, or `None` when the body is not recorded.
    pub ops: Option<&'s mut Recorded<'a>>,
    /// The body's bytes and the offset of their first byte in the module.
    pub bytes: &'a [u8],
    pub start: u64,
    /// Offset of the operator being visited (set before each).
    pub offset: u64,
    pub max_br_table_size: u64,
    pub func_index: u32,
}

impl<'a> Pass1<'_, 'a> {
    /// Our checks that precede validation (constant-folded per operator).
    #[inline(always)]
    fn before(&self, op: &Operator<'a>) -> Result<()> {
        match op {
            // Without multi-memory, the memory index is a reserved single zero byte;
            // wasmparser reads it as a LEB128, so a long form must be rejected here.
            Operator::MemorySize { .. } | Operator::MemoryGrow { .. } => {
                let at = (self.offset - self.start) as usize + 1;
                if self.bytes.get(at).is_some_and(|b| b & 0x80 != 0) {
                    return Err(reserved_byte_error(self.offset as usize + 1));
                }
                Ok(())
            }
            Operator::BrTable { targets } => {
                let func_index = self.func_index;
                let what = || format!("targets of a br_table in function {func_index}");
                Limits::check("max_br_table_size", targets.len().into(), self.max_br_table_size, what, self.offset)
            }
            _ => Ok(()),
        }
    }

    /// Counts and records a validated operator.
    #[inline(always)]
    fn after(&mut self, op: Operator<'a>, simd_prefix: bool) {
        self.usage.observe(&op, simd_prefix, self.offset as usize);
        if let Some(rec) = self.ops.as_mut() {
            // The only operators that own heap data (exception handling, stack switching).
            rec.owned |= matches!(
                op,
                Operator::TryTable { .. } | Operator::Resume { .. } | Operator::ResumeThrow { .. } | Operator::ResumeThrowRef { .. }
            );
            rec.ops.push((self.offset as usize, ManuallyDrop::new(op)));
        }
    }
}

/// Recorded operators with their byte offsets. Kept in [`ManuallyDrop`] so that forgetting
/// a body's operators costs nothing per operator: [`Recorded::clear`] drops them one by one
/// only when one of them owns heap data.
#[derive(Default)]
pub(crate) struct Recorded<'a> {
    pub ops: Vec<(usize, ManuallyDrop<Operator<'a>>)>,
    owned: bool,
}

impl Recorded<'_> {
    pub fn clear(&mut self) {
        if std::mem::take(&mut self.owned) {
            self.ops.drain(..).for_each(|(_, op)| drop(ManuallyDrop::into_inner(op)));
        }
        self.ops.clear();
    }
}

impl Drop for Recorded<'_> {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cold]
#[inline(never)]
fn reserved_byte_error(offset: usize) -> Error {
    Error::Compile {
        message: "zero byte expected".into(),
        offset: Some(offset),
    }
}

/// One `visit_*` method: build the operator, check, validate (through `$validator`, the
/// validator's plain or SIMD visitor), count and record. Immediates are cloned for the
/// validator (all are `Copy` but the exception-handling tables).
macro_rules! pass1_methods {
    ($validator:ident, $simd:literal; $( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*) )*) => {
        $(
            #[allow(clippy::clone_on_copy, unused_parens)]
            fn $visit(&mut self $($(, $arg: $argty)*)?) -> Result<()> {
                let op = Operator::$op $({ $($arg: $arg.clone()),* })?;
                self.before(&op)?;
                self.validator.$validator(self.offset).$visit($($($arg),*)?)?;
                self.after(op, $simd);
                Ok(())
            }
        )*
    };
}

macro_rules! pass1_plain {
    ($($t:tt)*) => { pass1_methods!(visitor, false; $($t)*); };
}

macro_rules! pass1_simd {
    ($($t:tt)*) => { pass1_methods!(simd_visitor, true; $($t)*); };
}

impl<'a> VisitOperator<'a> for Pass1<'_, 'a> {
    type Output = Result<()>;

    fn simd_visitor(&mut self) -> Option<&mut dyn VisitSimdOperator<'a, Output = Self::Output>> {
        Some(self)
    }

    wasmparser::for_each_visit_operator!(pass1_plain);
}

impl<'a> VisitSimdOperator<'a> for Pass1<'_, 'a> {
    wasmparser::for_each_visit_simd_operator!(pass1_simd);
}
