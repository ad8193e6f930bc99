//! Float lane-wise operations and conversions (Wasm NaN and saturation rules).

use dynasmrt::DynasmApi;

use super::X15;
use crate::compiler::isa::x64::masm::X64Masm;
use crate::compiler::simd::VOp;
use crate::x64_asm as asm;

// cmpps/cmppd predicates.
const EQ: i8 = 0;
const LT: i8 = 1;
const LE: i8 = 2;
const UNORD: i8 = 3;
const NEQ: i8 = 4;

impl X64Masm {
    /// Float binary operations; `Ok(false)` when `op` is not one.
    pub(super) fn float_binary(
        &mut self,
        op: VOp,
        d: u8,
        s: u8,
        t: u8,
    ) -> Result<bool, &'static str> {
        use VOp::*;
        let a = &mut self.asm;
        match op {
            F32x4Add => asm!(a; addps Rx(d), Rx(s)),
            F32x4Sub => asm!(a; subps Rx(d), Rx(s)),
            F32x4Mul => asm!(a; mulps Rx(d), Rx(s)),
            F32x4Div => asm!(a; divps Rx(d), Rx(s)),
            F64x2Add => asm!(a; addpd Rx(d), Rx(s)),
            F64x2Sub => asm!(a; subpd Rx(d), Rx(s)),
            F64x2Mul => asm!(a; mulpd Rx(d), Rx(s)),
            F64x2Div => asm!(a; divpd Rx(d), Rx(s)),
            F32x4Eq => asm!(a; cmpps Rx(d), Rx(s), EQ),
            F32x4Ne => asm!(a; cmpps Rx(d), Rx(s), NEQ),
            F32x4Lt => asm!(a; cmpps Rx(d), Rx(s), LT),
            F32x4Le => asm!(a; cmpps Rx(d), Rx(s), LE),
            F32x4Gt => asm!(a; movaps Rx(t), Rx(s); cmpps Rx(t), Rx(d), LT; movaps Rx(d), Rx(t)),
            F32x4Ge => asm!(a; movaps Rx(t), Rx(s); cmpps Rx(t), Rx(d), LE; movaps Rx(d), Rx(t)),
            F64x2Eq => asm!(a; cmppd Rx(d), Rx(s), EQ),
            F64x2Ne => asm!(a; cmppd Rx(d), Rx(s), NEQ),
            F64x2Lt => asm!(a; cmppd Rx(d), Rx(s), LT),
            F64x2Le => asm!(a; cmppd Rx(d), Rx(s), LE),
            F64x2Gt => asm!(a; movaps Rx(t), Rx(s); cmppd Rx(t), Rx(d), LT; movaps Rx(d), Rx(t)),
            F64x2Ge => asm!(a; movaps Rx(t), Rx(s); cmppd Rx(t), Rx(d), LE; movaps Rx(d), Rx(t)),
            // pmin(a, b) = b < a ? b : a, which is minps(b, a) exactly (same for pmax).
            F32x4PMin => asm!(a; movaps Rx(t), Rx(s); minps Rx(t), Rx(d); movaps Rx(d), Rx(t)),
            F32x4PMax => asm!(a; movaps Rx(t), Rx(s); maxps Rx(t), Rx(d); movaps Rx(d), Rx(t)),
            F64x2PMin => asm!(a; movaps Rx(t), Rx(s); minpd Rx(t), Rx(d); movaps Rx(d), Rx(t)),
            F64x2PMax => asm!(a; movaps Rx(t), Rx(s); maxpd Rx(t), Rx(d); movaps Rx(d), Rx(t)),
            // min/max in both operand orders, merged so that NaNs and -0 propagate; NaNs
            // then become canonical (quiet, no payload).
            F32x4Min => asm!(a
                ; movaps Rx(t), Rx(s); minps Rx(t), Rx(d); minps Rx(d), Rx(s)
                ; orps Rx(t), Rx(d); cmpps Rx(d), Rx(t), UNORD; orps Rx(t), Rx(d)
                ; psrld Rx(d), 10; andnps Rx(d), Rx(t)),
            F64x2Min => asm!(a
                ; movaps Rx(t), Rx(s); minpd Rx(t), Rx(d); minpd Rx(d), Rx(s)
                ; orpd Rx(t), Rx(d); cmppd Rx(d), Rx(t), UNORD; orpd Rx(t), Rx(d)
                ; psrlq Rx(d), 13; andnpd Rx(d), Rx(t)),
            F32x4Max => asm!(a
                ; movaps Rx(t), Rx(s); maxps Rx(t), Rx(d); maxps Rx(d), Rx(s)
                ; xorps Rx(d), Rx(t); orps Rx(t), Rx(d); subps Rx(t), Rx(d)
                ; cmpps Rx(d), Rx(t), UNORD; psrld Rx(d), 10; andnps Rx(d), Rx(t)),
            F64x2Max => asm!(a
                ; movaps Rx(t), Rx(s); maxpd Rx(t), Rx(d); maxpd Rx(d), Rx(s)
                ; xorpd Rx(d), Rx(t); orpd Rx(t), Rx(d); subpd Rx(t), Rx(d)
                ; cmppd Rx(d), Rx(t), UNORD; psrlq Rx(d), 13; andnpd Rx(d), Rx(t)),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Float unary operations and conversions; `Ok(false)` when `op` is not one.
    pub(super) fn float_unary(&mut self, op: VOp, d: u8, t: u8) -> Result<bool, &'static str> {
        use VOp::*;
        let a = &mut self.asm;
        match op {
            F32x4Abs => asm!(a; pcmpeqd Rx(t), Rx(t); psrld Rx(t), 1; andps Rx(d), Rx(t)),
            F32x4Neg => asm!(a; pcmpeqd Rx(t), Rx(t); pslld Rx(t), 31; xorps Rx(d), Rx(t)),
            F64x2Abs => asm!(a; pcmpeqd Rx(t), Rx(t); psrlq Rx(t), 1; andpd Rx(d), Rx(t)),
            F64x2Neg => asm!(a; pcmpeqd Rx(t), Rx(t); psllq Rx(t), 63; xorpd Rx(d), Rx(t)),
            F32x4Sqrt => asm!(a; sqrtps Rx(d), Rx(d)),
            F64x2Sqrt => asm!(a; sqrtpd Rx(d), Rx(d)),
            F32x4Nearest => asm!(a; roundps Rx(d), Rx(d), 8),
            F32x4Floor => asm!(a; roundps Rx(d), Rx(d), 9),
            F32x4Ceil => asm!(a; roundps Rx(d), Rx(d), 10),
            F32x4Trunc => asm!(a; roundps Rx(d), Rx(d), 11),
            F64x2Nearest => asm!(a; roundpd Rx(d), Rx(d), 8),
            F64x2Floor => asm!(a; roundpd Rx(d), Rx(d), 9),
            F64x2Ceil => asm!(a; roundpd Rx(d), Rx(d), 10),
            F64x2Trunc => asm!(a; roundpd Rx(d), Rx(d), 11),
            F32x4ConvertI32x4S => asm!(a; cvtdq2ps Rx(d), Rx(d)),
            F32x4ConvertI32x4U => asm!(a
                // low 16 bits convert exactly; the rest is halved, converted and doubled.
                ; movaps Rx(t), Rx(d); pslld Rx(t), 16; psrld Rx(t), 16
                ; psubd Rx(d), Rx(t); cvtdq2ps Rx(t), Rx(t)
                ; psrld Rx(d), 1; cvtdq2ps Rx(d), Rx(d); addps Rx(d), Rx(d); addps Rx(d), Rx(t)),
            F64x2ConvertLowI32x4S => asm!(a; cvtdq2pd Rx(d), Rx(d)),
            F64x2ConvertLowI32x4U => {
                // 0x43300000_xxxxxxxx is 2^52 + x exactly.
                self.splat32(X15, 0x4330_0000);
                asm!(self.asm; unpcklps Rx(d), Rx(X15));
                self.splat64(t, 0x4330_0000_0000_0000);
                asm!(self.asm; subpd Rx(d), Rx(t));
            }
            F32x4DemoteF64x2Zero => asm!(a; cvtpd2ps Rx(d), Rx(d)),
            F64x2PromoteLowF32x4 => asm!(a; cvtps2pd Rx(d), Rx(d)),
            I32x4TruncSatF32x4S => asm!(a
                // NaN -> 0
                ; movaps Rx(t), Rx(d); cmpps Rx(t), Rx(t), EQ; pand Rx(d), Rx(t)
                // top bit of t set for lanes >= 0
                ; pxor Rx(t), Rx(d)
                ; cvttps2dq Rx(d), Rx(d)
                // lanes that were >= 0 but became 0x80000000 overflowed: make them 0x7fffffff
                ; pand Rx(t), Rx(d); psrad Rx(t), 31; pxor Rx(d), Rx(t)),
            I32x4TruncSatF32x4U => asm!(a
                // NaN and negatives -> 0
                ; xorps Rx(X15), Rx(X15); maxps Rx(d), Rx(X15)
                // X15 = 2^31 as float
                ; pcmpeqd Rx(X15), Rx(X15); psrld Rx(X15), 1; cvtdq2ps Rx(X15), Rx(X15)
                ; movaps Rx(t), Rx(d); subps Rx(t), Rx(X15)
                ; cmpps Rx(X15), Rx(t), LE
                ; cvttps2dq Rx(t), Rx(t)
                ; pxor Rx(t), Rx(X15)
                ; xorps Rx(X15), Rx(X15); pmaxsd Rx(t), Rx(X15)
                ; cvttps2dq Rx(d), Rx(d)
                ; paddd Rx(d), Rx(t)),
            I32x4TruncSatF64x2SZero => {
                self.splat64(t, 2147483647.0f64.to_bits());
                asm!(self.asm
                    ; movaps Rx(X15), Rx(d); cmppd Rx(X15), Rx(d), EQ
                    ; andps Rx(X15), Rx(t); minpd Rx(d), Rx(X15)
                    ; cvttpd2dq Rx(d), Rx(d));
            }
            I32x4TruncSatF64x2UZero => {
                asm!(a; xorpd Rx(X15), Rx(X15); maxpd Rx(d), Rx(X15));
                self.splat64(t, 4294967295.0f64.to_bits());
                asm!(self.asm; minpd Rx(d), Rx(t); roundpd Rx(d), Rx(d), 11);
                self.splat64(t, 4503599627370496.0f64.to_bits());
                asm!(self.asm; addpd Rx(d), Rx(t); shufps Rx(d), Rx(X15), 0x88_u8 as i8);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
