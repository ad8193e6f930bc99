//! Integer and bitwise lane-wise operations. Most are one NEON instruction with exactly the
//! Wasm semantics: comparisons give all-ones/zero lanes (`lt`/`le` swap the operands of
//! `cmgt`/`cmge`/`cmhi`/`cmhs`), `sqxtn`/`sqxtun` are the saturating narrows (signed input),
//! `urhadd` is the rounding average, `sqrdmulh` is `q15mulr_sat_s` (only `-1 * -1`
//! saturates), `abs`/`neg` wrap, `smull`/`umull(2)` are the extending multiplies. i64x2.mul
//! has no NEON instruction and goes through the general registers.

#![allow(clippy::useless_conversion, clippy::unnecessary_cast)]

use dynasmrt::DynasmApi;

use super::super::masm::A64Masm;
use crate::a64_asm as asm;
use crate::compiler::simd::{Shape, VOp, VResult, VShift};

/// Emits `$op` on `d = d . r` for the given lane arrangement.
macro_rules! bin {
    ($a:expr, $op:ident, $t:ident, $d:expr, $r:expr) => {
        asm!($a; $op V($d).$t, V($d).$t, V($r).$t)
    };
}

/// Emits `$op` on `d = r . d` (swapped operands for `lt`/`le`).
macro_rules! rev {
    ($a:expr, $op:ident, $t:ident, $d:expr, $r:expr) => {
        asm!($a; $op V($d).$t, V($r).$t, V($d).$t)
    };
}

impl A64Masm {
    /// `d op= r` for the integer and bitwise operations; false when `op` is not one.
    pub(super) fn int_binary(&mut self, op: VOp, d: u8, r: u8, _t: u8) -> bool {
        use VOp::*;
        let a = &mut self.asm;
        match op {
            I8x16Swizzle => asm!(a; tbl V(d).B16, {V(d).B16 * 1}, V(r).B16),
            I8x16Eq => bin!(a, cmeq, B16, d, r),
            I8x16Ne => asm!(a; cmeq V(d).B16, V(d).B16, V(r).B16; mvn V(d).B16, V(d).B16),
            I8x16LtS => rev!(a, cmgt, B16, d, r),
            I8x16LtU => rev!(a, cmhi, B16, d, r),
            I8x16GtS => bin!(a, cmgt, B16, d, r),
            I8x16GtU => bin!(a, cmhi, B16, d, r),
            I8x16LeS => rev!(a, cmge, B16, d, r),
            I8x16LeU => rev!(a, cmhs, B16, d, r),
            I8x16GeS => bin!(a, cmge, B16, d, r),
            I8x16GeU => bin!(a, cmhs, B16, d, r),
            I16x8Eq => bin!(a, cmeq, H8, d, r),
            I16x8Ne => asm!(a; cmeq V(d).H8, V(d).H8, V(r).H8; mvn V(d).B16, V(d).B16),
            I16x8LtS => rev!(a, cmgt, H8, d, r),
            I16x8LtU => rev!(a, cmhi, H8, d, r),
            I16x8GtS => bin!(a, cmgt, H8, d, r),
            I16x8GtU => bin!(a, cmhi, H8, d, r),
            I16x8LeS => rev!(a, cmge, H8, d, r),
            I16x8LeU => rev!(a, cmhs, H8, d, r),
            I16x8GeS => bin!(a, cmge, H8, d, r),
            I16x8GeU => bin!(a, cmhs, H8, d, r),
            I32x4Eq => bin!(a, cmeq, S4, d, r),
            I32x4Ne => asm!(a; cmeq V(d).S4, V(d).S4, V(r).S4; mvn V(d).B16, V(d).B16),
            I32x4LtS => rev!(a, cmgt, S4, d, r),
            I32x4LtU => rev!(a, cmhi, S4, d, r),
            I32x4GtS => bin!(a, cmgt, S4, d, r),
            I32x4GtU => bin!(a, cmhi, S4, d, r),
            I32x4LeS => rev!(a, cmge, S4, d, r),
            I32x4LeU => rev!(a, cmhs, S4, d, r),
            I32x4GeS => bin!(a, cmge, S4, d, r),
            I32x4GeU => bin!(a, cmhs, S4, d, r),
            I64x2Eq => bin!(a, cmeq, D2, d, r),
            I64x2Ne => asm!(a; cmeq V(d).D2, V(d).D2, V(r).D2; mvn V(d).B16, V(d).B16),
            I64x2LtS => rev!(a, cmgt, D2, d, r),
            I64x2GtS => bin!(a, cmgt, D2, d, r),
            I64x2LeS => rev!(a, cmge, D2, d, r),
            I64x2GeS => bin!(a, cmge, D2, d, r),
            V128And => bin!(a, and, B16, d, r),
            V128AndNot => bin!(a, bic, B16, d, r),
            V128Or => bin!(a, orr, B16, d, r),
            V128Xor => bin!(a, eor, B16, d, r),
            // The low half is written first: build in v31 in case `r` is `d`.
            I8x16NarrowI16x8S => {
                asm!(a; sqxtn v31.B8, V(d).H8; sqxtn2 v31.B16, V(r).H8; mov V(d).B16, v31.B16)
            }
            I8x16NarrowI16x8U => {
                asm!(a; sqxtun v31.B8, V(d).H8; sqxtun2 v31.B16, V(r).H8; mov V(d).B16, v31.B16)
            }
            I16x8NarrowI32x4S => {
                asm!(a; sqxtn v31.H4, V(d).S4; sqxtn2 v31.H8, V(r).S4; mov V(d).B16, v31.B16)
            }
            I16x8NarrowI32x4U => {
                asm!(a; sqxtun v31.H4, V(d).S4; sqxtun2 v31.H8, V(r).S4; mov V(d).B16, v31.B16)
            }
            I8x16Add => bin!(a, add, B16, d, r),
            I8x16AddSatS => bin!(a, sqadd, B16, d, r),
            I8x16AddSatU => bin!(a, uqadd, B16, d, r),
            I8x16Sub => bin!(a, sub, B16, d, r),
            I8x16SubSatS => bin!(a, sqsub, B16, d, r),
            I8x16SubSatU => bin!(a, uqsub, B16, d, r),
            I8x16MinS => bin!(a, smin, B16, d, r),
            I8x16MinU => bin!(a, umin, B16, d, r),
            I8x16MaxS => bin!(a, smax, B16, d, r),
            I8x16MaxU => bin!(a, umax, B16, d, r),
            I8x16AvgrU => bin!(a, urhadd, B16, d, r),
            I16x8Q15MulrSatS => bin!(a, sqrdmulh, H8, d, r),
            I16x8Add => bin!(a, add, H8, d, r),
            I16x8AddSatS => bin!(a, sqadd, H8, d, r),
            I16x8AddSatU => bin!(a, uqadd, H8, d, r),
            I16x8Sub => bin!(a, sub, H8, d, r),
            I16x8SubSatS => bin!(a, sqsub, H8, d, r),
            I16x8SubSatU => bin!(a, uqsub, H8, d, r),
            I16x8Mul => bin!(a, mul, H8, d, r),
            I16x8MinS => bin!(a, smin, H8, d, r),
            I16x8MinU => bin!(a, umin, H8, d, r),
            I16x8MaxS => bin!(a, smax, H8, d, r),
            I16x8MaxU => bin!(a, umax, H8, d, r),
            I16x8AvgrU => bin!(a, urhadd, H8, d, r),
            I16x8ExtMulLowI8x16S => asm!(a; smull V(d).H8, V(d).B8, V(r).B8),
            I16x8ExtMulHighI8x16S => asm!(a; smull2 V(d).H8, V(d).B16, V(r).B16),
            I16x8ExtMulLowI8x16U => asm!(a; umull V(d).H8, V(d).B8, V(r).B8),
            I16x8ExtMulHighI8x16U => asm!(a; umull2 V(d).H8, V(d).B16, V(r).B16),
            I32x4Add => bin!(a, add, S4, d, r),
            I32x4Sub => bin!(a, sub, S4, d, r),
            I32x4Mul => bin!(a, mul, S4, d, r),
            I32x4MinS => bin!(a, smin, S4, d, r),
            I32x4MinU => bin!(a, umin, S4, d, r),
            I32x4MaxS => bin!(a, smax, S4, d, r),
            I32x4MaxU => bin!(a, umax, S4, d, r),
            // Products of the low and high lane pairs, then pairwise sums (wrapping).
            I32x4DotI16x8S => asm!(a
                ; smull v31.S4, V(d).H4, V(r).H4
                ; smull2 V(d).S4, V(d).H8, V(r).H8
                ; addp V(d).S4, v31.S4, V(d).S4
            ),
            I32x4ExtMulLowI16x8S => asm!(a; smull V(d).S4, V(d).H4, V(r).H4),
            I32x4ExtMulHighI16x8S => asm!(a; smull2 V(d).S4, V(d).H8, V(r).H8),
            I32x4ExtMulLowI16x8U => asm!(a; umull V(d).S4, V(d).H4, V(r).H4),
            I32x4ExtMulHighI16x8U => asm!(a; umull2 V(d).S4, V(d).H8, V(r).H8),
            I64x2Add => bin!(a, add, D2, d, r),
            I64x2Sub => bin!(a, sub, D2, d, r),
            I64x2Mul => {
                for l in 0..2u32 {
                    asm!(a
                        ; umov x16, V(d).D[l]
                        ; umov x17, V(r).D[l]
                        ; mul x16, x16, x17
                        ; mov V(d).D[l], x16
                    );
                }
            }
            I64x2ExtMulLowI32x4S => asm!(a; smull V(d).D2, V(d).S2, V(r).S2),
            I64x2ExtMulHighI32x4S => asm!(a; smull2 V(d).D2, V(d).S4, V(r).S4),
            I64x2ExtMulLowI32x4U => asm!(a; umull V(d).D2, V(d).S2, V(r).S2),
            I64x2ExtMulHighI32x4U => asm!(a; umull2 V(d).D2, V(d).S4, V(r).S4),
            _ => return false,
        }
        true
    }

    /// `d = op(d)` for the integer and bitwise operations; false when `op` is not one.
    pub(super) fn int_unary(&mut self, op: VOp, d: u8) -> bool {
        use VOp::*;
        let a = &mut self.asm;
        match op {
            V128Not => asm!(a; mvn V(d).B16, V(d).B16),
            I8x16Abs => asm!(a; abs V(d).B16, V(d).B16),
            I8x16Neg => asm!(a; neg V(d).B16, V(d).B16),
            I8x16Popcnt => asm!(a; cnt V(d).B16, V(d).B16),
            I16x8ExtAddPairwiseI8x16S => asm!(a; saddlp V(d).H8, V(d).B16),
            I16x8ExtAddPairwiseI8x16U => asm!(a; uaddlp V(d).H8, V(d).B16),
            I32x4ExtAddPairwiseI16x8S => asm!(a; saddlp V(d).S4, V(d).H8),
            I32x4ExtAddPairwiseI16x8U => asm!(a; uaddlp V(d).S4, V(d).H8),
            I16x8Abs => asm!(a; abs V(d).H8, V(d).H8),
            I16x8Neg => asm!(a; neg V(d).H8, V(d).H8),
            I16x8ExtendLowI8x16S => asm!(a; sxtl V(d).H8, V(d).B8),
            I16x8ExtendHighI8x16S => asm!(a; sxtl2 V(d).H8, V(d).B16),
            I16x8ExtendLowI8x16U => asm!(a; uxtl V(d).H8, V(d).B8),
            I16x8ExtendHighI8x16U => asm!(a; uxtl2 V(d).H8, V(d).B16),
            I32x4Abs => asm!(a; abs V(d).S4, V(d).S4),
            I32x4Neg => asm!(a; neg V(d).S4, V(d).S4),
            I32x4ExtendLowI16x8S => asm!(a; sxtl V(d).S4, V(d).H4),
            I32x4ExtendHighI16x8S => asm!(a; sxtl2 V(d).S4, V(d).H8),
            I32x4ExtendLowI16x8U => asm!(a; uxtl V(d).S4, V(d).H4),
            I32x4ExtendHighI16x8U => asm!(a; uxtl2 V(d).S4, V(d).H8),
            I64x2Abs => asm!(a; abs V(d).D2, V(d).D2),
            I64x2Neg => asm!(a; neg V(d).D2, V(d).D2),
            I64x2ExtendLowI32x4S => asm!(a; sxtl V(d).D2, V(d).S2),
            I64x2ExtendHighI32x4S => asm!(a; sxtl2 V(d).D2, V(d).S4),
            I64x2ExtendLowI32x4U => asm!(a; uxtl V(d).D2, V(d).S2),
            I64x2ExtendHighI32x4U => asm!(a; uxtl2 V(d).D2, V(d).S4),
            _ => return false,
        }
        true
    }

    /// Lane shifts: the count modulo the lane width, splatted into `v31`; `ushl`/`sshl`
    /// shift right by a negative count.
    pub(super) fn vshift(&mut self, op: VShift, shape: Shape, d: u8, c: u8) -> VResult {
        let mask = shape.lane_bits() - 1;
        let a = &mut self.asm;
        match mask {
            7 => asm!(a; and WSP(c), W(c), #7),
            15 => asm!(a; and WSP(c), W(c), #15),
            31 => asm!(a; and WSP(c), W(c), #31),
            63 => asm!(a; and WSP(c), W(c), #63),
            _ => return Err("not an integer shape"),
        }
        if op != VShift::Shl {
            asm!(a; neg X(c), X(c));
        }
        match shape {
            Shape::I8x16 => asm!(a; dup v31.B16, W(c)),
            Shape::I16x8 => asm!(a; dup v31.H8, W(c)),
            Shape::I32x4 => asm!(a; dup v31.S4, W(c)),
            _ => asm!(a; dup v31.D2, X(c)),
        }
        macro_rules! sh {
            ($t:ident) => {
                if op == VShift::ShrS {
                    asm!(a; sshl V(d).$t, V(d).$t, v31.$t)
                } else {
                    asm!(a; ushl V(d).$t, V(d).$t, v31.$t)
                }
            };
        }
        match shape {
            Shape::I8x16 => sh!(B16),
            Shape::I16x8 => sh!(H8),
            Shape::I32x4 => sh!(S4),
            _ => sh!(D2),
        }
        Ok(())
    }
}
