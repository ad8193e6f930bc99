//! aarch64 float sequences: min/max, rounding, sign operations and float<->int conversions.
//!
//! Most Wasm float operators are single A64 instructions with exactly the Wasm semantics:
//! - `fmin`/`fmax` return a NaN when either operand is NaN (the quieted operand NaN, an
//!   arithmetic NaN; a canonical NaN stays canonical) and order `-0 < +0`.
//! - `frintn`/`frintm`/`frintp`/`frintz` are nearest-even/floor/ceil/trunc and quiet NaNs.
//! - `fabs`/`fneg` only touch the sign bit, NaN payloads included.
//! - `scvtf`/`ucvtf` round to nearest even from a W or X register.
//! - `fcvtzs`/`fcvtzu` are the saturating truncations (NaN -> 0). The trapping truncations
//!   check for NaN and the exact range first.

#![allow(clippy::useless_conversion, clippy::unnecessary_cast)]

use dynasmrt::DynasmApi;

use super::masm::{A64Masm, Cc};
use crate::a64_asm as asm;
use crate::compiler::masm::{FSize, Label, RoundMode, Size};

pub fn fmin_max(m: &mut A64Masm, is_min: bool, size: FSize, d: u8, r: u8) {
    let a = &mut m.asm;
    match (is_min, size) {
        (true, FSize::F32) => asm!(a; fmin S(d), S(d), S(r)),
        (true, FSize::F64) => asm!(a; fmin D(d), D(d), D(r)),
        (false, FSize::F32) => asm!(a; fmax S(d), S(d), S(r)),
        (false, FSize::F64) => asm!(a; fmax D(d), D(d), D(r)),
    }
}

pub fn fround(m: &mut A64Masm, mode: RoundMode, size: FSize, d: u8, s: u8) {
    let a = &mut m.asm;
    match (mode, size) {
        (RoundMode::Nearest, FSize::F32) => asm!(a; frintn S(d), S(s)),
        (RoundMode::Nearest, FSize::F64) => asm!(a; frintn D(d), D(s)),
        (RoundMode::Floor, FSize::F32) => asm!(a; frintm S(d), S(s)),
        (RoundMode::Floor, FSize::F64) => asm!(a; frintm D(d), D(s)),
        (RoundMode::Ceil, FSize::F32) => asm!(a; frintp S(d), S(s)),
        (RoundMode::Ceil, FSize::F64) => asm!(a; frintp D(d), D(s)),
        (RoundMode::Trunc, FSize::F32) => asm!(a; frintz S(d), S(s)),
        (RoundMode::Trunc, FSize::F64) => asm!(a; frintz D(d), D(s)),
    }
}

pub fn fabs(m: &mut A64Masm, size: FSize, d: u8) {
    match size {
        FSize::F32 => asm!(m.asm; fabs S(d), S(d)),
        FSize::F64 => asm!(m.asm; fabs D(d), D(d)),
    }
}

pub fn fneg(m: &mut A64Masm, size: FSize, d: u8) {
    match size {
        FSize::F32 => asm!(m.asm; fneg S(d), S(d)),
        FSize::F64 => asm!(m.asm; fneg D(d), D(d)),
    }
}

/// `d = copysign(d, r)` as integer bit operations (no NaN is touched).
pub fn fcopysign(m: &mut A64Masm, size: FSize, d: u8, r: u8) {
    match size {
        FSize::F32 => asm!(m.asm
            ; fmov w16, S(d)
            ; fmov w17, S(r)
            ; lsr w17, w17, #31
            ; bfi w16, w17, #31, #1
            ; fmov S(d), w16
        ),
        FSize::F64 => asm!(m.asm
            ; fmov x16, D(d)
            ; fmov x17, D(r)
            ; lsr x17, x17, #63
            ; bfi x16, x17, #63, #1
            ; fmov D(d), x16
        ),
    }
}

/// Range of inputs a trapping truncation accepts: `lo < x` (or `lo <= x` when
/// `lo_inclusive`) and `x < hi`, as raw float bits of the source type.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TruncRange {
    pub lo: u64,
    pub lo_inclusive: bool,
    pub hi: u64,
}

fn bits(size: FSize, v: f64) -> u64 {
    match size {
        FSize::F32 => (v as f32).to_bits() as u64,
        FSize::F64 => v.to_bits(),
    }
}

/// The exact domain of `iNN.trunc_fMM_{s,u}`: every float strictly between the bounds
/// truncates to a representable integer. Bounds are powers of two (exact in both formats)
/// except `-2^31 - 1` for f64 -> i32, below which f32 has no value before `-2^31`.
pub fn trunc_range(from: FSize, to: Size, signed: bool) -> TruncRange {
    let two = |e: i32| 2f64.powi(e);
    match (signed, to, from) {
        (true, Size::S32, FSize::F64) => TruncRange {
            lo: bits(from, -two(31) - 1.0),
            lo_inclusive: false,
            hi: bits(from, two(31)),
        },
        (true, Size::S32, FSize::F32) => TruncRange {
            lo: bits(from, -two(31)),
            lo_inclusive: true,
            hi: bits(from, two(31)),
        },
        (true, Size::S64, _) => TruncRange {
            lo: bits(from, -two(63)),
            lo_inclusive: true,
            hi: bits(from, two(63)),
        },
        (false, Size::S32, _) => TruncRange {
            lo: bits(from, -1.0),
            lo_inclusive: false,
            hi: bits(from, two(32)),
        },
        (false, Size::S64, _) => TruncRange {
            lo: bits(from, -1.0),
            lo_inclusive: false,
            hi: bits(from, two(64)),
        },
    }
}

/// Float -> integer truncation. With `traps = Some((overflow, invalid))`: NaN jumps to
/// `invalid`, anything outside [`trunc_range`] to `overflow`; otherwise saturating.
pub fn trunc_to_int(
    m: &mut A64Masm,
    from: FSize,
    to: Size,
    signed: bool,
    d: u8,
    s: u8,
    traps: Option<(Label, Label)>,
) {
    if let Some((overflow, invalid)) = traps {
        m.fcmp_regs(from, s, s);
        m.branch_cc(Cc::Vs, invalid);
        let range = trunc_range(from, to, signed);
        m.load_vscratch(from, range.lo);
        m.fcmp_regs(from, s, 31);
        // Not NaN any more: `lt`/`ls` are exactly "below"/"at or below" the bound.
        m.branch_cc(if range.lo_inclusive { Cc::Lt } else { Cc::Ls }, overflow);
        m.load_vscratch(from, range.hi);
        m.fcmp_regs(from, s, 31);
        m.branch_cc(Cc::Ge, overflow);
    }
    let a = &mut m.asm;
    match (signed, to, from) {
        (true, Size::S32, FSize::F32) => asm!(a; fcvtzs W(d), S(s)),
        (true, Size::S32, FSize::F64) => asm!(a; fcvtzs W(d), D(s)),
        (true, Size::S64, FSize::F32) => asm!(a; fcvtzs X(d), S(s)),
        (true, Size::S64, FSize::F64) => asm!(a; fcvtzs X(d), D(s)),
        (false, Size::S32, FSize::F32) => asm!(a; fcvtzu W(d), S(s)),
        (false, Size::S32, FSize::F64) => asm!(a; fcvtzu W(d), D(s)),
        (false, Size::S64, FSize::F32) => asm!(a; fcvtzu X(d), S(s)),
        (false, Size::S64, FSize::F64) => asm!(a; fcvtzu X(d), D(s)),
    }
}

pub fn convert_from_int(m: &mut A64Masm, from: Size, signed: bool, to: FSize, d: u8, s: u8) {
    let a = &mut m.asm;
    match (signed, from, to) {
        (true, Size::S32, FSize::F32) => asm!(a; scvtf S(d), W(s)),
        (true, Size::S32, FSize::F64) => asm!(a; scvtf D(d), W(s)),
        (true, Size::S64, FSize::F32) => asm!(a; scvtf S(d), X(s)),
        (true, Size::S64, FSize::F64) => asm!(a; scvtf D(d), X(s)),
        (false, Size::S32, FSize::F32) => asm!(a; ucvtf S(d), W(s)),
        (false, Size::S32, FSize::F64) => asm!(a; ucvtf D(d), W(s)),
        (false, Size::S64, FSize::F32) => asm!(a; ucvtf S(d), X(s)),
        (false, Size::S64, FSize::F64) => asm!(a; ucvtf D(d), X(s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trunc_ranges_are_exact() {
        let r = trunc_range(FSize::F64, Size::S32, true);
        assert_eq!(f64::from_bits(r.lo), -2147483649.0);
        let r = trunc_range(FSize::F32, Size::S32, true);
        assert_eq!(f32::from_bits(r.lo as u32), -2147483648.0);
        assert!(r.lo_inclusive);
        let r = trunc_range(FSize::F32, Size::S64, false);
        assert_eq!(f32::from_bits(r.hi as u32), 18446744073709551616.0);
    }
}
