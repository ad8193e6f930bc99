//! Integer lane-wise operations and shifts.

use dynasmrt::DynasmApi;

use super::X15;
use crate::compiler::isa::x64::masm::X64Masm;
use crate::compiler::simd::{Shape, VOp, VResult, VShift};
use crate::x64_asm as asm;

/// Integer comparison kinds, with the instruction family of a shape.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Cmp {
    Eq,
    Ne,
    LtS,
    LtU,
    GtS,
    GtU,
    LeS,
    LeU,
    GeS,
    GeU,
}

impl X64Masm {
    fn pcmpeq(&mut self, shape: Shape, d: u8, s: u8) {
        let a = &mut self.asm;
        match shape {
            Shape::I8x16 => asm!(a; pcmpeqb Rx(d), Rx(s)),
            Shape::I16x8 => asm!(a; pcmpeqw Rx(d), Rx(s)),
            Shape::I32x4 => asm!(a; pcmpeqd Rx(d), Rx(s)),
            _ => asm!(a; pcmpeqq Rx(d), Rx(s)),
        }
    }

    /// `d = d > s` (signed lanes), or `d = s > d` with `swap`; clobbers `t` and xmm15.
    fn pcmpgt(&mut self, shape: Shape, d: u8, s: u8, t: u8, swap: bool) {
        let sse42 = self.features.sse42;
        let a = &mut self.asm;
        if shape == Shape::I64x2 && !sse42 {
            // x > y: the high dwords decide unless equal; then the borrow of `y - x` does.
            let (x, y) = if swap { (s, d) } else { (d, s) };
            asm!(a
                ; movaps Rx(t), Rx(y)
                ; psubq Rx(t), Rx(x)
                ; movaps Rx(X15), Rx(d)
                ; pcmpeqd Rx(X15), Rx(s)
                ; pand Rx(t), Rx(X15)
                ; movaps Rx(X15), Rx(x)
                ; pcmpgtd Rx(X15), Rx(y)
                ; por Rx(t), Rx(X15)
                ; pshufd Rx(d), Rx(t), 0xf5u8 as i8
            );
            return;
        }
        let (dst, src) = if swap {
            asm!(a; movaps Rx(t), Rx(s));
            (t, d)
        } else {
            (d, s)
        };
        match shape {
            Shape::I8x16 => asm!(a; pcmpgtb Rx(dst), Rx(src)),
            Shape::I16x8 => asm!(a; pcmpgtw Rx(dst), Rx(src)),
            Shape::I32x4 => asm!(a; pcmpgtd Rx(dst), Rx(src)),
            _ => asm!(a; pcmpgtq Rx(dst), Rx(src)),
        }
        if swap {
            asm!(a; movaps Rx(d), Rx(t));
        }
    }

    fn pmaxu(&mut self, shape: Shape, d: u8, s: u8) {
        let a = &mut self.asm;
        match shape {
            Shape::I8x16 => asm!(a; pmaxub Rx(d), Rx(s)),
            Shape::I16x8 => asm!(a; pmaxuw Rx(d), Rx(s)),
            _ => asm!(a; pmaxud Rx(d), Rx(s)),
        }
    }

    fn pminu(&mut self, shape: Shape, d: u8, s: u8) {
        let a = &mut self.asm;
        match shape {
            Shape::I8x16 => asm!(a; pminub Rx(d), Rx(s)),
            Shape::I16x8 => asm!(a; pminuw Rx(d), Rx(s)),
            _ => asm!(a; pminud Rx(d), Rx(s)),
        }
    }

    fn icmp(&mut self, shape: Shape, cmp: Cmp, d: u8, s: u8, t: u8) {
        match cmp {
            Cmp::Eq => self.pcmpeq(shape, d, s),
            Cmp::Ne => {
                self.pcmpeq(shape, d, s);
                self.vnot(d, t);
            }
            Cmp::GtS => self.pcmpgt(shape, d, s, t, false),
            Cmp::LeS => {
                self.pcmpgt(shape, d, s, t, false);
                self.vnot(d, t);
            }
            // a < b  <=>  b > a
            Cmp::LtS => self.pcmpgt(shape, d, s, t, true),
            Cmp::GeS => {
                self.pcmpgt(shape, d, s, t, true);
                self.vnot(d, t);
            }
            Cmp::GeU | Cmp::LtU => {
                // a >= b  <=>  max(a, b) == a
                asm!(self.asm; movaps Rx(t), Rx(d));
                self.pmaxu(shape, t, s);
                self.pcmpeq(shape, d, t);
                if cmp == Cmp::LtU {
                    self.vnot(d, t);
                }
            }
            Cmp::LeU | Cmp::GtU => {
                asm!(self.asm; movaps Rx(t), Rx(d));
                self.pminu(shape, t, s);
                self.pcmpeq(shape, d, t);
                if cmp == Cmp::GtU {
                    self.vnot(d, t);
                }
            }
        }
    }

    /// Integer binary operations; `Ok(false)` when `op` is not one.
    pub(super) fn int_binary(
        &mut self,
        op: VOp,
        d: u8,
        s: u8,
        t: u8,
    ) -> Result<bool, &'static str> {
        use Shape::*;
        use VOp::*;
        let cmp = match op {
            I8x16Eq => Some((I8x16, Cmp::Eq)),
            I8x16Ne => Some((I8x16, Cmp::Ne)),
            I8x16LtS => Some((I8x16, Cmp::LtS)),
            I8x16LtU => Some((I8x16, Cmp::LtU)),
            I8x16GtS => Some((I8x16, Cmp::GtS)),
            I8x16GtU => Some((I8x16, Cmp::GtU)),
            I8x16LeS => Some((I8x16, Cmp::LeS)),
            I8x16LeU => Some((I8x16, Cmp::LeU)),
            I8x16GeS => Some((I8x16, Cmp::GeS)),
            I8x16GeU => Some((I8x16, Cmp::GeU)),
            I16x8Eq => Some((I16x8, Cmp::Eq)),
            I16x8Ne => Some((I16x8, Cmp::Ne)),
            I16x8LtS => Some((I16x8, Cmp::LtS)),
            I16x8LtU => Some((I16x8, Cmp::LtU)),
            I16x8GtS => Some((I16x8, Cmp::GtS)),
            I16x8GtU => Some((I16x8, Cmp::GtU)),
            I16x8LeS => Some((I16x8, Cmp::LeS)),
            I16x8LeU => Some((I16x8, Cmp::LeU)),
            I16x8GeS => Some((I16x8, Cmp::GeS)),
            I16x8GeU => Some((I16x8, Cmp::GeU)),
            I32x4Eq => Some((I32x4, Cmp::Eq)),
            I32x4Ne => Some((I32x4, Cmp::Ne)),
            I32x4LtS => Some((I32x4, Cmp::LtS)),
            I32x4LtU => Some((I32x4, Cmp::LtU)),
            I32x4GtS => Some((I32x4, Cmp::GtS)),
            I32x4GtU => Some((I32x4, Cmp::GtU)),
            I32x4LeS => Some((I32x4, Cmp::LeS)),
            I32x4LeU => Some((I32x4, Cmp::LeU)),
            I32x4GeS => Some((I32x4, Cmp::GeS)),
            I32x4GeU => Some((I32x4, Cmp::GeU)),
            I64x2Eq => Some((I64x2, Cmp::Eq)),
            I64x2Ne => Some((I64x2, Cmp::Ne)),
            I64x2LtS => Some((I64x2, Cmp::LtS)),
            I64x2GtS => Some((I64x2, Cmp::GtS)),
            I64x2LeS => Some((I64x2, Cmp::LeS)),
            I64x2GeS => Some((I64x2, Cmp::GeS)),
            _ => None,
        };
        if let Some((shape, cmp)) = cmp {
            self.icmp(shape, cmp, d, s, t);
            return Ok(true);
        }
        let a = &mut self.asm;
        match op {
            V128And => asm!(a; pand Rx(d), Rx(s)),
            V128Or => asm!(a; por Rx(d), Rx(s)),
            V128Xor => asm!(a; pxor Rx(d), Rx(s)),
            V128AndNot => asm!(a; movaps Rx(t), Rx(s); pandn Rx(t), Rx(d); movaps Rx(d), Rx(t)),
            I8x16NarrowI16x8S => asm!(a; packsswb Rx(d), Rx(s)),
            I8x16NarrowI16x8U => asm!(a; packuswb Rx(d), Rx(s)),
            I16x8NarrowI32x4S => asm!(a; packssdw Rx(d), Rx(s)),
            I16x8NarrowI32x4U => asm!(a; packusdw Rx(d), Rx(s)),
            I8x16Add => asm!(a; paddb Rx(d), Rx(s)),
            I8x16AddSatS => asm!(a; paddsb Rx(d), Rx(s)),
            I8x16AddSatU => asm!(a; paddusb Rx(d), Rx(s)),
            I8x16Sub => asm!(a; psubb Rx(d), Rx(s)),
            I8x16SubSatS => asm!(a; psubsb Rx(d), Rx(s)),
            I8x16SubSatU => asm!(a; psubusb Rx(d), Rx(s)),
            I8x16MinS => asm!(a; pminsb Rx(d), Rx(s)),
            I8x16MinU => asm!(a; pminub Rx(d), Rx(s)),
            I8x16MaxS => asm!(a; pmaxsb Rx(d), Rx(s)),
            I8x16MaxU => asm!(a; pmaxub Rx(d), Rx(s)),
            I8x16AvgrU => asm!(a; pavgb Rx(d), Rx(s)),
            I16x8Add => asm!(a; paddw Rx(d), Rx(s)),
            I16x8AddSatS => asm!(a; paddsw Rx(d), Rx(s)),
            I16x8AddSatU => asm!(a; paddusw Rx(d), Rx(s)),
            I16x8Sub => asm!(a; psubw Rx(d), Rx(s)),
            I16x8SubSatS => asm!(a; psubsw Rx(d), Rx(s)),
            I16x8SubSatU => asm!(a; psubusw Rx(d), Rx(s)),
            I16x8Mul => asm!(a; pmullw Rx(d), Rx(s)),
            I16x8MinS => asm!(a; pminsw Rx(d), Rx(s)),
            I16x8MinU => asm!(a; pminuw Rx(d), Rx(s)),
            I16x8MaxS => asm!(a; pmaxsw Rx(d), Rx(s)),
            I16x8MaxU => asm!(a; pmaxuw Rx(d), Rx(s)),
            I16x8AvgrU => asm!(a; pavgw Rx(d), Rx(s)),
            I16x8Q15MulrSatS => {
                // pmulhrsw gives 0x8000 for 0x8000 * 0x8000: flip it to 0x7fff.
                asm!(a; pmulhrsw Rx(d), Rx(s));
                self.splat16(t, 0x8000);
                asm!(self.asm; pcmpeqw Rx(t), Rx(d); pxor Rx(d), Rx(t));
            }
            I32x4Add => asm!(a; paddd Rx(d), Rx(s)),
            I32x4Sub => asm!(a; psubd Rx(d), Rx(s)),
            I32x4Mul => asm!(a; pmulld Rx(d), Rx(s)),
            I32x4MinS => asm!(a; pminsd Rx(d), Rx(s)),
            I32x4MinU => asm!(a; pminud Rx(d), Rx(s)),
            I32x4MaxS => asm!(a; pmaxsd Rx(d), Rx(s)),
            I32x4MaxU => asm!(a; pmaxud Rx(d), Rx(s)),
            I32x4DotI16x8S => asm!(a; pmaddwd Rx(d), Rx(s)),
            I64x2Add => asm!(a; paddq Rx(d), Rx(s)),
            I64x2Sub => asm!(a; psubq Rx(d), Rx(s)),
            I64x2Mul => asm!(a
                ; movaps Rx(t), Rx(d)
                ; psrlq Rx(t), 32
                ; pmuludq Rx(t), Rx(s)
                ; movaps Rx(X15), Rx(s)
                ; psrlq Rx(X15), 32
                ; pmuludq Rx(X15), Rx(d)
                ; paddq Rx(t), Rx(X15)
                ; psllq Rx(t), 32
                ; pmuludq Rx(d), Rx(s)
                ; paddq Rx(d), Rx(t)
            ),
            I16x8ExtMulLowI8x16S => {
                asm!(a; pmovsxbw Rx(d), Rx(d); pmovsxbw Rx(t), Rx(s); pmullw Rx(d), Rx(t))
            }
            I16x8ExtMulLowI8x16U => {
                asm!(a; pmovzxbw Rx(d), Rx(d); pmovzxbw Rx(t), Rx(s); pmullw Rx(d), Rx(t))
            }
            I16x8ExtMulHighI8x16S => asm!(a
                ; pshufd Rx(d), Rx(d), 0xee_u8 as i8; pshufd Rx(t), Rx(s), 0xee_u8 as i8
                ; pmovsxbw Rx(d), Rx(d); pmovsxbw Rx(t), Rx(t); pmullw Rx(d), Rx(t)),
            I16x8ExtMulHighI8x16U => asm!(a
                ; pshufd Rx(d), Rx(d), 0xee_u8 as i8; pshufd Rx(t), Rx(s), 0xee_u8 as i8
                ; pmovzxbw Rx(d), Rx(d); pmovzxbw Rx(t), Rx(t); pmullw Rx(d), Rx(t)),
            I32x4ExtMulLowI16x8S => {
                asm!(a; pmovsxwd Rx(d), Rx(d); pmovsxwd Rx(t), Rx(s); pmulld Rx(d), Rx(t))
            }
            I32x4ExtMulLowI16x8U => {
                asm!(a; pmovzxwd Rx(d), Rx(d); pmovzxwd Rx(t), Rx(s); pmulld Rx(d), Rx(t))
            }
            I32x4ExtMulHighI16x8S => asm!(a
                ; pshufd Rx(d), Rx(d), 0xee_u8 as i8; pshufd Rx(t), Rx(s), 0xee_u8 as i8
                ; pmovsxwd Rx(d), Rx(d); pmovsxwd Rx(t), Rx(t); pmulld Rx(d), Rx(t)),
            I32x4ExtMulHighI16x8U => asm!(a
                ; pshufd Rx(d), Rx(d), 0xee_u8 as i8; pshufd Rx(t), Rx(s), 0xee_u8 as i8
                ; pmovzxwd Rx(d), Rx(d); pmovzxwd Rx(t), Rx(t); pmulld Rx(d), Rx(t)),
            I64x2ExtMulLowI32x4S => {
                asm!(a; pshufd Rx(d), Rx(d), 0x50; pshufd Rx(t), Rx(s), 0x50; pmuldq Rx(d), Rx(t))
            }
            I64x2ExtMulLowI32x4U => {
                asm!(a; pshufd Rx(d), Rx(d), 0x50; pshufd Rx(t), Rx(s), 0x50; pmuludq Rx(d), Rx(t))
            }
            I64x2ExtMulHighI32x4S => asm!(a
                ; pshufd Rx(d), Rx(d), 0xfa_u8 as i8; pshufd Rx(t), Rx(s), 0xfa_u8 as i8; pmuldq Rx(d), Rx(t)),
            I64x2ExtMulHighI32x4U => asm!(a
                ; pshufd Rx(d), Rx(d), 0xfa_u8 as i8; pshufd Rx(t), Rx(s), 0xfa_u8 as i8; pmuludq Rx(d), Rx(t)),
            I8x16Swizzle => {
                // Indices >= 16 get their top bit set (pshufb then writes 0).
                self.splat8(t, 0x70);
                asm!(self.asm; paddusb Rx(t), Rx(s); pshufb Rx(d), Rx(t));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Integer unary operations; `Ok(false)` when `op` is not one.
    pub(super) fn int_unary(&mut self, op: VOp, d: u8, t: u8) -> Result<bool, &'static str> {
        use VOp::*;
        let a = &mut self.asm;
        match op {
            V128Not => self.vnot(d, t),
            I8x16Abs => asm!(a; pabsb Rx(d), Rx(d)),
            I16x8Abs => asm!(a; pabsw Rx(d), Rx(d)),
            I32x4Abs => asm!(a; pabsd Rx(d), Rx(d)),
            I64x2Abs => asm!(a
                ; pshufd Rx(t), Rx(d), 0xf5_u8 as i8
                ; psrad Rx(t), 31
                ; pxor Rx(d), Rx(t)
                ; psubq Rx(d), Rx(t)),
            I8x16Neg => asm!(a; pxor Rx(t), Rx(t); psubb Rx(t), Rx(d); movaps Rx(d), Rx(t)),
            I16x8Neg => asm!(a; pxor Rx(t), Rx(t); psubw Rx(t), Rx(d); movaps Rx(d), Rx(t)),
            I32x4Neg => asm!(a; pxor Rx(t), Rx(t); psubd Rx(t), Rx(d); movaps Rx(d), Rx(t)),
            I64x2Neg => asm!(a; pxor Rx(t), Rx(t); psubq Rx(t), Rx(d); movaps Rx(d), Rx(t)),
            I8x16Popcnt => {
                const LUT: u128 = 0x0403_0302_0302_0201_0302_0201_0201_0100;
                self.splat8(X15, 0x0f);
                asm!(self.asm; movaps Rx(t), Rx(d); psrlw Rx(t), 4; pand Rx(t), Rx(X15); pand Rx(d), Rx(X15));
                self.vconst(X15, LUT);
                asm!(self.asm; pshufb Rx(X15), Rx(d));
                self.vconst(d, LUT);
                asm!(self.asm; pshufb Rx(d), Rx(t); paddb Rx(d), Rx(X15));
            }
            I16x8ExtAddPairwiseI8x16S => {
                self.splat8(t, 1);
                asm!(self.asm; pmaddubsw Rx(t), Rx(d); movaps Rx(d), Rx(t));
            }
            I16x8ExtAddPairwiseI8x16U => {
                self.splat8(t, 1);
                asm!(self.asm; pmaddubsw Rx(d), Rx(t));
            }
            I32x4ExtAddPairwiseI16x8S => {
                self.splat16(t, 1);
                asm!(self.asm; pmaddwd Rx(d), Rx(t));
            }
            I32x4ExtAddPairwiseI16x8U => {
                self.splat16(t, 0x8000);
                asm!(self.asm; pxor Rx(d), Rx(t));
                self.splat16(t, 1);
                asm!(self.asm; pmaddwd Rx(d), Rx(t));
                self.splat32(t, 0x10000);
                asm!(self.asm; paddd Rx(d), Rx(t));
            }
            I16x8ExtendLowI8x16S => asm!(a; pmovsxbw Rx(d), Rx(d)),
            I16x8ExtendLowI8x16U => asm!(a; pmovzxbw Rx(d), Rx(d)),
            I32x4ExtendLowI16x8S => asm!(a; pmovsxwd Rx(d), Rx(d)),
            I32x4ExtendLowI16x8U => asm!(a; pmovzxwd Rx(d), Rx(d)),
            I64x2ExtendLowI32x4S => asm!(a; pmovsxdq Rx(d), Rx(d)),
            I64x2ExtendLowI32x4U => asm!(a; pmovzxdq Rx(d), Rx(d)),
            I16x8ExtendHighI8x16S => {
                asm!(a; pshufd Rx(d), Rx(d), 0xee_u8 as i8; pmovsxbw Rx(d), Rx(d))
            }
            I16x8ExtendHighI8x16U => {
                asm!(a; pshufd Rx(d), Rx(d), 0xee_u8 as i8; pmovzxbw Rx(d), Rx(d))
            }
            I32x4ExtendHighI16x8S => {
                asm!(a; pshufd Rx(d), Rx(d), 0xee_u8 as i8; pmovsxwd Rx(d), Rx(d))
            }
            I32x4ExtendHighI16x8U => {
                asm!(a; pshufd Rx(d), Rx(d), 0xee_u8 as i8; pmovzxwd Rx(d), Rx(d))
            }
            I64x2ExtendHighI32x4S => {
                asm!(a; pshufd Rx(d), Rx(d), 0xee_u8 as i8; pmovsxdq Rx(d), Rx(d))
            }
            I64x2ExtendHighI32x4U => {
                asm!(a; pshufd Rx(d), Rx(d), 0xee_u8 as i8; pmovzxdq Rx(d), Rx(d))
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Lane shifts, the count taken modulo the lane width.
    pub(super) fn vshift(&mut self, op: VShift, shape: Shape, d: u8, c: u8, t: u8) -> VResult {
        let mask = shape.lane_bits() as i32 - 1;
        let a = &mut self.asm;
        asm!(a; and Rd(c), mask);
        match shape {
            Shape::I8x16 => {
                // Widen each byte b to the word b:b, shift words, narrow again.
                if op != VShift::Shl {
                    asm!(a; add Rd(c), 8);
                }
                asm!(a; movd Rx(X15), Rd(c); movaps Rx(t), Rx(d); punpckhbw Rx(t), Rx(t); punpcklbw Rx(d), Rx(d));
                match op {
                    VShift::Shl => {
                        asm!(a; psllw Rx(t), Rx(X15); psllw Rx(d), Rx(X15));
                        self.splat16(X15, 0x00ff);
                        asm!(self.asm; pand Rx(t), Rx(X15); pand Rx(d), Rx(X15); packuswb Rx(d), Rx(t));
                    }
                    VShift::ShrS => {
                        asm!(a; psraw Rx(t), Rx(X15); psraw Rx(d), Rx(X15); packsswb Rx(d), Rx(t))
                    }
                    VShift::ShrU => {
                        asm!(a; psrlw Rx(t), Rx(X15); psrlw Rx(d), Rx(X15); packuswb Rx(d), Rx(t))
                    }
                }
            }
            Shape::I16x8 => {
                asm!(a; movd Rx(X15), Rd(c));
                match op {
                    VShift::Shl => asm!(a; psllw Rx(d), Rx(X15)),
                    VShift::ShrS => asm!(a; psraw Rx(d), Rx(X15)),
                    VShift::ShrU => asm!(a; psrlw Rx(d), Rx(X15)),
                }
            }
            Shape::I32x4 => {
                asm!(a; movd Rx(X15), Rd(c));
                match op {
                    VShift::Shl => asm!(a; pslld Rx(d), Rx(X15)),
                    VShift::ShrS => asm!(a; psrad Rx(d), Rx(X15)),
                    VShift::ShrU => asm!(a; psrld Rx(d), Rx(X15)),
                }
            }
            _ => {
                asm!(a; movd Rx(X15), Rd(c));
                match op {
                    VShift::Shl => asm!(a; psllq Rx(d), Rx(X15)),
                    VShift::ShrU => asm!(a; psrlq Rx(d), Rx(X15)),
                    // (x >>u n) ^ m) - m with m = (1 << 63) >>u n sign-extends.
                    VShift::ShrS => asm!(a
                        ; pcmpeqd Rx(t), Rx(t)
                        ; psllq Rx(t), 63
                        ; psrlq Rx(t), Rx(X15)
                        ; psrlq Rx(d), Rx(X15)
                        ; pxor Rx(d), Rx(t)
                        ; psubq Rx(d), Rx(t)),
                }
            }
        }
        Ok(())
    }
}
