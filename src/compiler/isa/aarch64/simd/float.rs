//! Float lane-wise operations. As for scalars (see `isa::aarch64::float`), NEON has the Wasm
//! semantics directly: `fmin`/`fmax` propagate NaN and order `-0 < +0`; `frint*` round and
//! quiet NaN; `fcvtzs`/`fcvtzu` saturate with NaN -> 0 (`sqxtn`/`uqxtn` then narrow the i64
//! lanes of the f64x2 forms, saturating, upper half zeroed); `fcvtn`/`fcvtl` demote/promote.
//! Comparisons are false on NaN (`ne` is the inverted `eq`). `pmin`/`pmax` are a compare and
//! a bit insert: `pmin(a, b) = b < a ? b : a`, `pmax(a, b) = a < b ? b : a`.

#![allow(clippy::useless_conversion, clippy::unnecessary_cast)]

use dynasmrt::DynasmApi;

use super::super::masm::A64Masm;
use crate::a64_asm as asm;
use crate::compiler::simd::VOp;

impl A64Masm {
    /// `d op= r` for the float operations; false when `op` is not one.
    pub(super) fn float_binary(&mut self, op: VOp, d: u8, r: u8) -> bool {
        use VOp::*;
        let a = &mut self.asm;
        macro_rules! f {
            ($op:ident, $t:ident) => {
                asm!(a; $op V(d).$t, V(d).$t, V(r).$t)
            };
        }
        macro_rules! swapped {
            ($op:ident, $t:ident) => {
                asm!(a; $op V(d).$t, V(r).$t, V(d).$t)
            };
        }
        match op {
            F32x4Eq => f!(fcmeq, S4),
            F32x4Ne => asm!(a; fcmeq V(d).S4, V(d).S4, V(r).S4; mvn V(d).B16, V(d).B16),
            F32x4Lt => swapped!(fcmgt, S4),
            F32x4Gt => f!(fcmgt, S4),
            F32x4Le => swapped!(fcmge, S4),
            F32x4Ge => f!(fcmge, S4),
            F64x2Eq => f!(fcmeq, D2),
            F64x2Ne => asm!(a; fcmeq V(d).D2, V(d).D2, V(r).D2; mvn V(d).B16, V(d).B16),
            F64x2Lt => swapped!(fcmgt, D2),
            F64x2Gt => f!(fcmgt, D2),
            F64x2Le => swapped!(fcmge, D2),
            F64x2Ge => f!(fcmge, D2),
            F32x4Add => f!(fadd, S4),
            F32x4Sub => f!(fsub, S4),
            F32x4Mul => f!(fmul, S4),
            F32x4Div => f!(fdiv, S4),
            F32x4Min => f!(fmin, S4),
            F32x4Max => f!(fmax, S4),
            F32x4PMin => asm!(a; fcmgt v31.S4, V(d).S4, V(r).S4; bit V(d).B16, V(r).B16, v31.B16),
            F32x4PMax => asm!(a; fcmgt v31.S4, V(r).S4, V(d).S4; bit V(d).B16, V(r).B16, v31.B16),
            F64x2Add => f!(fadd, D2),
            F64x2Sub => f!(fsub, D2),
            F64x2Mul => f!(fmul, D2),
            F64x2Div => f!(fdiv, D2),
            F64x2Min => f!(fmin, D2),
            F64x2Max => f!(fmax, D2),
            F64x2PMin => asm!(a; fcmgt v31.D2, V(d).D2, V(r).D2; bit V(d).B16, V(r).B16, v31.B16),
            F64x2PMax => asm!(a; fcmgt v31.D2, V(r).D2, V(d).D2; bit V(d).B16, V(r).B16, v31.B16),
            _ => return false,
        }
        true
    }

    /// `d = op(d)` for the float operations and conversions; false when `op` is not one.
    pub(super) fn float_unary(&mut self, op: VOp, d: u8) -> bool {
        use VOp::*;
        let a = &mut self.asm;
        macro_rules! f {
            ($op:ident, $t:ident) => {
                asm!(a; $op V(d).$t, V(d).$t)
            };
        }
        match op {
            F32x4Ceil => f!(frintp, S4),
            F32x4Floor => f!(frintm, S4),
            F32x4Trunc => f!(frintz, S4),
            F32x4Nearest => f!(frintn, S4),
            F32x4Abs => f!(fabs, S4),
            F32x4Neg => f!(fneg, S4),
            F32x4Sqrt => f!(fsqrt, S4),
            F64x2Ceil => f!(frintp, D2),
            F64x2Floor => f!(frintm, D2),
            F64x2Trunc => f!(frintz, D2),
            F64x2Nearest => f!(frintn, D2),
            F64x2Abs => f!(fabs, D2),
            F64x2Neg => f!(fneg, D2),
            F64x2Sqrt => f!(fsqrt, D2),
            I32x4TruncSatF32x4S => f!(fcvtzs, S4),
            I32x4TruncSatF32x4U => f!(fcvtzu, S4),
            F32x4ConvertI32x4S => f!(scvtf, S4),
            F32x4ConvertI32x4U => f!(ucvtf, S4),
            I32x4TruncSatF64x2SZero => asm!(a; fcvtzs V(d).D2, V(d).D2; sqxtn V(d).S2, V(d).D2),
            I32x4TruncSatF64x2UZero => asm!(a; fcvtzu V(d).D2, V(d).D2; uqxtn V(d).S2, V(d).D2),
            F64x2ConvertLowI32x4S => asm!(a; sxtl V(d).D2, V(d).S2; scvtf V(d).D2, V(d).D2),
            F64x2ConvertLowI32x4U => asm!(a; uxtl V(d).D2, V(d).S2; ucvtf V(d).D2, V(d).D2),
            F32x4DemoteF64x2Zero => asm!(a; fcvtn V(d).S2, V(d).D2),
            F64x2PromoteLowF32x4 => asm!(a; fcvtl V(d).D2, V(d).S2),
            _ => return false,
        }
        true
    }
}
