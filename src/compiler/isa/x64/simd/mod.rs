//! x86-64 implementation of [`SimdMasm`] (SSE4.1 baseline, SSE4.2 `pcmpgtq` when present):
//! memory, constants, lanes, shuffles and reductions here; lane-wise arithmetic in [`int`]
//! and [`float`].

#![allow(clippy::useless_conversion)]

use dynasmrt::DynasmApi;

use super::masm::X64Masm;
use super::regs::{SCRATCH, XMM_SCRATCH};
use crate::compiler::masm::{Addr, Reg};
use crate::compiler::simd::{Shape, SimdMasm, VLoad, VOp, VResult, VShift, VTest};
use crate::x64_asm as asm;

mod float;
mod int;

/// Emits `$pre [address] $post` for an address resolved to `(base, index, disp)`.
macro_rules! vmem {
    ($ops:expr, $addr:expr, [$($pre:tt)*] [$($post:tt)*]) => {{
        let (base, index, disp): (u8, Option<u8>, i32) = $addr;
        match index {
            None => asm!($ops; $($pre)* [Rq(base) + disp] $($post)*),
            Some(index) => asm!($ops; $($pre)* [Rq(base) + Rq(index) + disp] $($post)*),
        }
    }};
}

const X15: u8 = XMM_SCRATCH;

impl X64Masm {
    /// `dst = bits` without touching the flags (through the scratch GPR).
    pub(super) fn vconst(&mut self, dst: u8, bits: u128) {
        let (lo, hi) = (bits as u64, (bits >> 64) as u64);
        let a = &mut self.asm;
        if bits == 0 {
            asm!(a; pxor Rx(dst), Rx(dst));
            return;
        }
        if bits == u128::MAX {
            asm!(a; pcmpeqd Rx(dst), Rx(dst));
            return;
        }
        asm!(a; mov Rq(SCRATCH), QWORD lo as i64; movq Rx(dst), Rq(SCRATCH));
        if hi == lo {
            asm!(a; punpcklqdq Rx(dst), Rx(dst));
        } else {
            asm!(a; mov Rq(SCRATCH), QWORD hi as i64; pinsrq Rx(dst), Rq(SCRATCH), 1);
        }
    }

    /// `dst = splat of a 32-bit pattern`.
    pub(super) fn splat32(&mut self, dst: u8, bits: u32) {
        let b = bits as u128;
        self.vconst(dst, b | b << 32 | b << 64 | b << 96);
    }

    pub(super) fn splat16(&mut self, dst: u8, bits: u16) {
        self.splat32(dst, bits as u32 | (bits as u32) << 16);
    }

    pub(super) fn splat8(&mut self, dst: u8, bits: u8) {
        self.splat16(dst, bits as u16 | (bits as u16) << 8);
    }

    pub(super) fn splat64(&mut self, dst: u8, bits: u64) {
        self.vconst(dst, bits as u128 | (bits as u128) << 64);
    }

    /// `dst = !dst`.
    pub(super) fn vnot(&mut self, dst: u8, tmp: u8) {
        asm!(self.asm; pcmpeqd Rx(tmp), Rx(tmp); pxor Rx(dst), Rx(tmp));
    }

    /// `dst = addr` materialised in the scratch GPR for instructions whose operand forms
    /// dynasm spells awkwardly; returns the address parts.
    fn vparts(addr: Addr) -> (u8, Option<u8>, i32) {
        X64Masm::parts(addr)
    }
}

impl SimdMasm for X64Masm {
    fn v128_load(&mut self, dst: Reg, addr: Addr) {
        // movdqu xmm, m128
        let op = crate::compiler::isa::x64::enc::Op::new(Some(0xf3), false, &[0x0f, 0x6f]);
        crate::compiler::isa::x64::enc::rm_mem(&mut self.asm, op, dst.hw, Self::vparts(addr));
    }

    fn v128_store(&mut self, addr: Addr, src: Reg) {
        // movdqu m128, xmm
        let op = crate::compiler::isa::x64::enc::Op::new(Some(0xf3), false, &[0x0f, 0x7f]);
        crate::compiler::isa::x64::enc::rm_mem(&mut self.asm, op, src.hw, Self::vparts(addr));
    }

    fn v128_const(&mut self, dst: Reg, bits: u128) {
        self.vconst(dst.hw, bits);
    }

    fn load(&mut self, kind: VLoad, dst: Reg, addr: Addr) -> VResult {
        let d = dst.hw;
        let p = Self::vparts(addr);
        let a = &mut self.asm;
        match kind {
            VLoad::Full => vmem!(a, p, [movdqu Rx(d),] []),
            VLoad::Splat(8) => {
                vmem!(a, p, [movzx Rd(SCRATCH), BYTE] []);
                asm!(a; movd Rx(d), Rd(SCRATCH); pxor Rx(X15), Rx(X15); pshufb Rx(d), Rx(X15));
            }
            VLoad::Splat(16) => {
                vmem!(a, p, [movzx Rd(SCRATCH), WORD] []);
                asm!(a; movd Rx(d), Rd(SCRATCH); pshuflw Rx(d), Rx(d), 0; pshufd Rx(d), Rx(d), 0);
            }
            VLoad::Splat(32) => {
                vmem!(a, p, [movss Rx(d),] []);
                asm!(a; shufps Rx(d), Rx(d), 0);
            }
            VLoad::Splat(_) => {
                vmem!(a, p, [movsd Rx(d),] []);
                asm!(a; punpcklqdq Rx(d), Rx(d));
            }
            VLoad::Zero(32) => vmem!(a, p, [movss Rx(d),] []),
            VLoad::Zero(_) => vmem!(a, p, [movsd Rx(d),] []),
            VLoad::Extend { bits, signed } => {
                vmem!(a, p, [movsd Rx(d),] []);
                match (bits, signed) {
                    (8, true) => asm!(a; pmovsxbw Rx(d), Rx(d)),
                    (8, false) => asm!(a; pmovzxbw Rx(d), Rx(d)),
                    (16, true) => asm!(a; pmovsxwd Rx(d), Rx(d)),
                    (16, false) => asm!(a; pmovzxwd Rx(d), Rx(d)),
                    (_, true) => asm!(a; pmovsxdq Rx(d), Rx(d)),
                    (_, false) => asm!(a; pmovzxdq Rx(d), Rx(d)),
                }
            }
        }
        Ok(())
    }

    fn load_lane(&mut self, bits: u32, lane: u8, dst: Reg, addr: Addr) -> VResult {
        let d = dst.hw;
        let p = Self::vparts(addr);
        let a = &mut self.asm;
        match bits {
            8 => vmem!(a, p, [movzx Rd(SCRATCH), BYTE] []),
            16 => vmem!(a, p, [movzx Rd(SCRATCH), WORD] []),
            32 => vmem!(a, p, [mov Rd(SCRATCH), DWORD] []),
            _ => vmem!(a, p, [mov Rq(SCRATCH), QWORD] []),
        }
        match bits {
            8 => asm!(a; pinsrb Rx(d), Rd(SCRATCH), lane as i8),
            16 => asm!(a; pinsrw Rx(d), Rd(SCRATCH), lane as i8),
            32 => asm!(a; pinsrd Rx(d), Rd(SCRATCH), lane as i8),
            _ => asm!(a; pinsrq Rx(d), Rq(SCRATCH), lane as i8),
        }
        Ok(())
    }

    fn store_lane(&mut self, bits: u32, lane: u8, addr: Addr, src: Reg) -> VResult {
        let s = src.hw;
        let p = Self::vparts(addr);
        let a = &mut self.asm;
        match bits {
            8 => asm!(a; pextrb Rd(SCRATCH), Rx(s), lane as i8),
            16 => asm!(a; pextrw Rd(SCRATCH), Rx(s), lane as i8),
            32 => asm!(a; pextrd Rd(SCRATCH), Rx(s), lane as i8),
            _ => asm!(a; pextrq Rq(SCRATCH), Rx(s), lane as i8),
        }
        match bits {
            8 => vmem!(a, p, [mov BYTE] [, Rb(SCRATCH)]),
            16 => vmem!(a, p, [mov WORD] [, Rw(SCRATCH)]),
            32 => vmem!(a, p, [mov DWORD] [, Rd(SCRATCH)]),
            _ => vmem!(a, p, [mov QWORD] [, Rq(SCRATCH)]),
        }
        Ok(())
    }

    fn splat(&mut self, shape: Shape, dst: Reg, src: Reg) -> VResult {
        let (d, s) = (dst.hw, src.hw);
        let a = &mut self.asm;
        match shape {
            Shape::I8x16 => {
                asm!(a; movd Rx(d), Rd(s); pxor Rx(X15), Rx(X15); pshufb Rx(d), Rx(X15))
            }
            Shape::I16x8 => {
                asm!(a; movd Rx(d), Rd(s); pshuflw Rx(d), Rx(d), 0; pshufd Rx(d), Rx(d), 0)
            }
            Shape::I32x4 => asm!(a; movd Rx(d), Rd(s); pshufd Rx(d), Rx(d), 0),
            Shape::I64x2 => asm!(a; movq Rx(d), Rq(s); punpcklqdq Rx(d), Rx(d)),
            Shape::F32x4 => asm!(a; movaps Rx(d), Rx(s); shufps Rx(d), Rx(d), 0),
            Shape::F64x2 => asm!(a; movaps Rx(d), Rx(s); punpcklqdq Rx(d), Rx(d)),
        }
        Ok(())
    }

    fn extract_lane(
        &mut self,
        shape: Shape,
        signed: bool,
        lane: u8,
        dst: Reg,
        src: Reg,
    ) -> VResult {
        let (d, s) = (dst.hw, src.hw);
        let l = lane as i8;
        let a = &mut self.asm;
        match shape {
            Shape::I8x16 => {
                asm!(a; pextrb Rd(d), Rx(s), l);
                if signed {
                    asm!(a; movsx Rd(d), Rb(d));
                }
            }
            Shape::I16x8 => {
                asm!(a; pextrw Rd(d), Rx(s), l);
                if signed {
                    asm!(a; movsx Rd(d), Rw(d));
                }
            }
            Shape::I32x4 => asm!(a; pextrd Rd(d), Rx(s), l),
            Shape::I64x2 => asm!(a; pextrq Rq(d), Rx(s), l),
            Shape::F32x4 => asm!(a; pshufd Rx(d), Rx(s), l),
            Shape::F64x2 => {
                asm!(a; pshufd Rx(d), Rx(s), if lane == 0 { 0x44 } else { 0xee_u8 as i8 })
            }
        }
        Ok(())
    }

    fn replace_lane(&mut self, shape: Shape, lane: u8, dst: Reg, value: Reg) -> VResult {
        let (d, v) = (dst.hw, value.hw);
        let l = lane as i8;
        let a = &mut self.asm;
        match shape {
            Shape::I8x16 => asm!(a; pinsrb Rx(d), Rd(v), l),
            Shape::I16x8 => asm!(a; pinsrw Rx(d), Rd(v), l),
            Shape::I32x4 => asm!(a; pinsrd Rx(d), Rd(v), l),
            Shape::I64x2 => asm!(a; pinsrq Rx(d), Rq(v), l),
            Shape::F32x4 => asm!(a; insertps Rx(d), Rx(v), (l << 4)),
            Shape::F64x2 if lane == 0 => asm!(a; movsd Rx(d), Rx(v)),
            Shape::F64x2 => asm!(a; unpcklpd Rx(d), Rx(v)),
        }
        Ok(())
    }

    fn shuffle(&mut self, dst: Reg, rhs: Reg, lanes: [u8; 16], tmp: Reg) -> VResult {
        let (d, r, t) = (dst.hw, rhs.hw, tmp.hw);
        let mut from_lhs = [0u8; 16];
        let mut from_rhs = [0u8; 16];
        for (i, &l) in lanes.iter().enumerate() {
            from_lhs[i] = if l < 16 { l } else { 0x80 };
            from_rhs[i] = if l >= 16 { l - 16 } else { 0x80 };
        }
        self.vconst(t, u128::from_le_bytes(from_lhs));
        asm!(self.asm; pshufb Rx(d), Rx(t); movaps Rx(t), Rx(r));
        self.vconst(X15, u128::from_le_bytes(from_rhs));
        asm!(self.asm; pshufb Rx(t), Rx(X15); por Rx(d), Rx(t));
        Ok(())
    }

    fn bitselect(&mut self, dst: Reg, other: Reg, mask: Reg, tmp: Reg) -> VResult {
        let (d, o, m, t) = (dst.hw, other.hw, mask.hw, tmp.hw);
        asm!(self.asm; movaps Rx(t), Rx(m); pand Rx(d), Rx(t); pandn Rx(t), Rx(o); por Rx(d), Rx(t));
        Ok(())
    }

    fn binary(&mut self, op: VOp, dst: Reg, rhs: Reg, tmp: Reg) -> VResult {
        if self.int_binary(op, dst.hw, rhs.hw, tmp.hw)? {
            return Ok(());
        }
        if self.float_binary(op, dst.hw, rhs.hw, tmp.hw)? {
            return Ok(());
        }
        Err("not implemented on x86-64")
    }

    fn unary(&mut self, op: VOp, dst: Reg, tmp: Reg) -> VResult {
        if self.int_unary(op, dst.hw, tmp.hw)? {
            return Ok(());
        }
        if self.float_unary(op, dst.hw, tmp.hw)? {
            return Ok(());
        }
        Err("not implemented on x86-64")
    }

    fn shift(&mut self, op: VShift, shape: Shape, dst: Reg, count: Reg, tmp: Reg) -> VResult {
        self.vshift(op, shape, dst.hw, count.hw, tmp.hw)
    }

    fn test(&mut self, op: VTest, dst: Reg, src: Reg, tmp: Reg) -> VResult {
        let (d, s, t) = (dst.hw, src.hw, tmp.hw);
        let a = &mut self.asm;
        match op {
            VTest::AnyTrue => asm!(a; xor Rd(d), Rd(d); ptest Rx(s), Rx(s); setnz Rb(d)),
            VTest::AllTrue(shape) => {
                asm!(a; pxor Rx(t), Rx(t));
                match shape {
                    Shape::I8x16 => asm!(a; pcmpeqb Rx(t), Rx(s)),
                    Shape::I16x8 => asm!(a; pcmpeqw Rx(t), Rx(s)),
                    Shape::I32x4 => asm!(a; pcmpeqd Rx(t), Rx(s)),
                    _ => asm!(a; pcmpeqq Rx(t), Rx(s)),
                }
                asm!(a; xor Rd(d), Rd(d); ptest Rx(t), Rx(t); setz Rb(d));
            }
            VTest::Bitmask(shape) => match shape {
                Shape::I8x16 => asm!(a; pmovmskb Rd(d), Rx(s)),
                Shape::I16x8 => {
                    asm!(a; movaps Rx(t), Rx(s); packsswb Rx(t), Rx(t); pmovmskb Rd(d), Rx(t); and Rd(d), 0xff)
                }
                Shape::I32x4 => asm!(a; movmskps Rd(d), Rx(s)),
                _ => asm!(a; movmskpd Rd(d), Rx(s)),
            },
        }
        Ok(())
    }
}

// Executes x86-64 code natively.
#[cfg(all(test, target_arch = "x86_64"))]
mod tests;
