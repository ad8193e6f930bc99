//! Bit-exact x86-64 sequences for the WebAssembly float operations that have no single
//! matching SSE instruction (min/max, rounding, sign operations) and for the int <-> float
//! conversions (trapping and saturating truncations, signed/unsigned conversions).
//!
//! Conventions shared by every function here:
//! - Registers are dynasm numeric ids: GPR rax=0 .. r15=15, XMM 0..15.
//! - Scratch: only **r11** and **xmm15** are clobbered (besides `dst` and the flags). Neither
//!   may be passed as an operand. Every other register, including `src`/`rhs`, is preserved.
//! - `dst` may alias `src`/`rhs`.
//! - No stack use and no memory constants; constants are materialised through r11.
//! - For f32 values only the low 32 bits of the XMM register are meaningful; upper lanes of a
//!   `dst` XMM are unspecified afterwards. i32 results are zero-extended to 64 bits; i32
//!   sources may have garbage in their upper 32 bits.
//! - Internal branches use fresh dynamic labels (never local labels), so the sequences do not
//!   interfere with labels of the surrounding code.
//! - Requires SSE4.1 (`roundss`/`roundsd`), see [`required_cpu_features_present`].

// Until the backend calls every entry point.
#![allow(dead_code)]

use dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi};

/// The assembler the compiler emits into.
pub type Asm = dynasmrt::VecAssembler<dynasmrt::x64::X64Relocation>;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FloatTy {
    F32,
    F64,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum IntTy {
    I32,
    I64,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RoundMode {
    Nearest,
    Floor,
    Ceil,
    Trunc,
}

/// Where a trapping truncation jumps: `invalid` for a NaN input, `overflow` when the truncated
/// value does not fit the target integer type.
#[derive(Copy, Clone, Debug)]
pub struct TruncTraps {
    pub overflow: DynamicLabel,
    pub invalid: DynamicLabel,
}

/// Every `dynasm!` invocation of this file goes through here so `.arch x64` is never forgotten.
macro_rules! x64 {
    ($a:expr ; $($t:tt)*) => {
        dynasm!($a ; .arch x64 ; $($t)*)
    };
}

const SCRATCH_GPR: u8 = 11;
const SCRATCH_XMM: u8 = 15;

/// Whether the CPU has everything these sequences use (SSE4.1 for `roundss`/`roundsd`).
pub fn required_cpu_features_present() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("sse4.1")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[inline]
fn check_xmm(r: u8) {
    debug_assert!(r < 16 && r != SCRATCH_XMM, "xmm{r} is not a valid operand (xmm15 is scratch)");
}

#[inline]
fn check_gpr(r: u8) {
    debug_assert!(
        r < 16 && r != SCRATCH_GPR && r != 4,
        "gpr {r} is not a valid operand (r11 is scratch, rsp is the stack)"
    );
}

// ---------------------------------------------------------------------------------------------
// Small typed helpers
// ---------------------------------------------------------------------------------------------

/// `xmm15 = bits` (low lane; f32 constants use the low 32 bits). Clobbers r11.
fn load_xmm15(a: &mut Asm, ty: FloatTy, bits: u64) {
    match ty {
        FloatTy::F32 => x64!(a; mov r11d, bits as u32 as i32; movd xmm15, r11d),
        FloatTy::F64 => x64!(a; mov r11, QWORD bits as i64; movq xmm15, r11),
    }
}

/// Sets the flags from an (unordered) comparison of `x` with `y`: ZF,PF,CF = 1,1,1 when
/// unordered; otherwise CF = x < y, ZF = x == y.
fn ucomis(a: &mut Asm, ty: FloatTy, x: u8, y: u8) {
    match ty {
        FloatTy::F32 => x64!(a; ucomiss Rx(x), Rx(y)),
        FloatTy::F64 => x64!(a; ucomisd Rx(x), Rx(y)),
    }
}

/// `dst = cvtt(src)` truncating, into a 32-bit (zero-extended) or 64-bit register.
fn cvtt(a: &mut Asm, from: FloatTy, wide: bool, dst: u8, src: u8) {
    match (from, wide) {
        (FloatTy::F32, false) => x64!(a; cvttss2si Rd(dst), Rx(src)),
        (FloatTy::F32, true) => x64!(a; cvttss2si Rq(dst), Rx(src)),
        (FloatTy::F64, false) => x64!(a; cvttsd2si Rd(dst), Rx(src)),
        (FloatTy::F64, true) => x64!(a; cvttsd2si Rq(dst), Rx(src)),
    }
}

/// `dst = (float) src` from a 32-bit or 64-bit signed register (low lane only).
fn cvtsi2(a: &mut Asm, to: FloatTy, wide: bool, dst: u8, src: u8) {
    match (to, wide) {
        (FloatTy::F32, false) => x64!(a; cvtsi2ss Rx(dst), Rd(src)),
        (FloatTy::F32, true) => x64!(a; cvtsi2ss Rx(dst), Rq(src)),
        (FloatTy::F64, false) => x64!(a; cvtsi2sd Rx(dst), Rd(src)),
        (FloatTy::F64, true) => x64!(a; cvtsi2sd Rx(dst), Rq(src)),
    }
}

fn adds(a: &mut Asm, ty: FloatTy, dst: u8, src: u8) {
    match ty {
        FloatTy::F32 => x64!(a; addss Rx(dst), Rx(src)),
        FloatTy::F64 => x64!(a; addsd Rx(dst), Rx(src)),
    }
}

fn subs(a: &mut Asm, ty: FloatTy, dst: u8, src: u8) {
    match ty {
        FloatTy::F32 => x64!(a; subss Rx(dst), Rx(src)),
        FloatTy::F64 => x64!(a; subsd Rx(dst), Rx(src)),
    }
}

/// xmm15 = sign-bit mask of `ty` in every lane.
fn sign_mask_xmm15(a: &mut Asm, ty: FloatTy) {
    match ty {
        FloatTy::F32 => x64!(a; pcmpeqd xmm15, xmm15; pslld xmm15, 31),
        FloatTy::F64 => x64!(a; pcmpeqd xmm15, xmm15; psllq xmm15, 63),
    }
}

/// Clears the sign bit of `dst` in place (shift left then right, no scratch needed).
fn clear_sign(a: &mut Asm, ty: FloatTy, dst: u8) {
    match ty {
        FloatTy::F32 => x64!(a; pslld Rx(dst), 1; psrld Rx(dst), 1),
        FloatTy::F64 => x64!(a; psllq Rx(dst), 1; psrlq Rx(dst), 1),
    }
}

// ---------------------------------------------------------------------------------------------
// min / max
// ---------------------------------------------------------------------------------------------

/// `dst = min(dst, rhs)` with Wasm semantics: NaN if either is NaN (the NaN operand quieted, so
/// canonical in -> canonical out), `min(-0, +0) = -0`. Clobbers flags only.
pub fn fmin(a: &mut Asm, ty: FloatTy, dst: u8, rhs: u8) {
    min_max(a, ty, dst, rhs, true)
}

/// `dst = max(dst, rhs)` with Wasm semantics: NaN if either is NaN, `max(-0, +0) = +0`.
/// Clobbers flags only.
pub fn fmax(a: &mut Asm, ty: FloatTy, dst: u8, rhs: u8) {
    min_max(a, ty, dst, rhs, false)
}

fn min_max(a: &mut Asm, ty: FloatTy, dst: u8, rhs: u8, is_min: bool) {
    check_xmm(dst);
    check_xmm(rhs);
    let not_equal = a.new_dynamic_label();
    let nan = a.new_dynamic_label();
    let done = a.new_dynamic_label();
    ucomis(a, ty, dst, rhs);
    x64!(a
        ; jp =>nan
        ; jne =>not_equal
    );
    // Equal operands: identical bits except for the ±0 pair, where OR picks -0 (min) and AND
    // picks +0 (max).
    if is_min {
        x64!(a; orps Rx(dst), Rx(rhs));
    } else {
        x64!(a; andps Rx(dst), Rx(rhs));
    }
    x64!(a
        ; jmp =>done
        ; =>nan
    );
    // At least one NaN: the addition returns the (first) NaN operand, quieted.
    adds(a, ty, dst, rhs);
    x64!(a
        ; jmp =>done
        ; =>not_equal
    );
    // Ordered and different: the plain SSE instruction is exact here.
    match (ty, is_min) {
        (FloatTy::F32, true) => x64!(a; minss Rx(dst), Rx(rhs)),
        (FloatTy::F32, false) => x64!(a; maxss Rx(dst), Rx(rhs)),
        (FloatTy::F64, true) => x64!(a; minsd Rx(dst), Rx(rhs)),
        (FloatTy::F64, false) => x64!(a; maxsd Rx(dst), Rx(rhs)),
    }
    x64!(a; =>done);
}

// ---------------------------------------------------------------------------------------------
// Rounding
// ---------------------------------------------------------------------------------------------

/// `dst = round(src)` (nearest = ties to even). NaN in -> the same NaN quieted; ±0, ±inf and
/// the sign of zero results preserved. Uses SSE4.1 `roundss`/`roundsd`. Clobbers nothing else.
pub fn fround(a: &mut Asm, ty: FloatTy, mode: RoundMode, dst: u8, src: u8) {
    check_xmm(dst);
    check_xmm(src);
    // Bit 3 suppresses the precision exception (irrelevant to results, avoids flag churn).
    let imm: i8 = 0x8
        | match mode {
            RoundMode::Nearest => 0,
            RoundMode::Floor => 1,
            RoundMode::Ceil => 2,
            RoundMode::Trunc => 3,
        };
    if dst != src {
        // roundss/sd merge into dst's upper lanes: break the false dependency.
        x64!(a; xorps Rx(dst), Rx(dst));
    }
    match ty {
        FloatTy::F32 => x64!(a; roundss Rx(dst), Rx(src), imm),
        FloatTy::F64 => x64!(a; roundsd Rx(dst), Rx(src), imm),
    }
}

// ---------------------------------------------------------------------------------------------
// Sign bit operations (pure bit manipulation)
// ---------------------------------------------------------------------------------------------

/// `dst = |dst|` (clears the sign bit, NaN payloads untouched). Clobbers nothing else.
pub fn fabs(a: &mut Asm, ty: FloatTy, dst: u8) {
    check_xmm(dst);
    clear_sign(a, ty, dst);
}

/// `dst = -dst` (flips the sign bit, NaN payloads untouched). Clobbers xmm15.
pub fn fneg(a: &mut Asm, ty: FloatTy, dst: u8) {
    check_xmm(dst);
    sign_mask_xmm15(a, ty);
    x64!(a; xorps Rx(dst), xmm15);
}

/// `dst = copysign(dst, rhs)` (magnitude bits of dst, sign bit of rhs). Clobbers xmm15.
pub fn fcopysign(a: &mut Asm, ty: FloatTy, dst: u8, rhs: u8) {
    check_xmm(dst);
    check_xmm(rhs);
    if dst == rhs {
        return; // copysign(x, x) == x bit for bit
    }
    sign_mask_xmm15(a, ty);
    x64!(a; andps xmm15, Rx(rhs));
    clear_sign(a, ty, dst);
    x64!(a; orps Rx(dst), xmm15);
}

// ---------------------------------------------------------------------------------------------
// float -> int
// ---------------------------------------------------------------------------------------------

/// `dst_gpr = trunc(src_xmm)` converted to the integer type `to`.
///
/// With `trap = Some(..)` (`iNN.trunc_fMM_{s,u}`): NaN jumps to `invalid`, a truncated value
/// outside the target range jumps to `overflow` (dst_gpr is clobbered on those paths).
/// With `trap = None` (`iNN.trunc_sat_fMM_{s,u}`): NaN gives 0, out of range values clamp.
/// i32 results are zero-extended. Clobbers r11, xmm15 and flags; `src_xmm` is preserved.
pub fn trunc_to_int(
    a: &mut Asm,
    from: FloatTy,
    to: IntTy,
    signed: bool,
    dst_gpr: u8,
    src_xmm: u8,
    trap: Option<TruncTraps>,
) {
    check_gpr(dst_gpr);
    check_xmm(src_xmm);
    match (to, signed) {
        (_, true) => trunc_signed(a, from, to, dst_gpr, src_xmm, trap),
        (IntTy::I32, false) => trunc_u32(a, from, dst_gpr, src_xmm, trap),
        (IntTy::I64, false) => trunc_u64(a, from, dst_gpr, src_xmm, trap),
    }
}

fn trunc_signed(a: &mut Asm, from: FloatTy, to: IntTy, dst: u8, src: u8, trap: Option<TruncTraps>) {
    let wide = to == IntTy::I64;
    let done = a.new_dynamic_label();
    cvtt(a, from, wide, dst, src);
    // The hardware returns INT_MIN ("integer indefinite") for NaN and out of range inputs.
    // `cmp dst, 1` overflows (OF=1) exactly when dst == INT_MIN.
    if wide {
        x64!(a; cmp Rq(dst), 1);
    } else {
        x64!(a; cmp Rd(dst), 1);
    }
    x64!(a; jno =>done);
    // Slow path: dst == INT_MIN. Either NaN, or too large / too small, or a genuine INT_MIN.
    ucomis(a, from, src, src);
    match trap {
        Some(t) => {
            x64!(a; jp =>t.invalid);
            // Lower bound: the smallest accepted input. For f64 -> i32 every value in
            // (-2^31 - 1, -2^31] truncates to INT_MIN, so the bound is exclusive; in the other
            // three cases no representable value lies in that interval besides -2^N itself.
            let (bound, exclusive): (u64, bool) = match (from, to) {
                (FloatTy::F32, IntTy::I32) => ((-2147483648.0f32).to_bits() as u64, false),
                (FloatTy::F64, IntTy::I32) => ((-2147483649.0f64).to_bits(), true),
                (FloatTy::F32, IntTy::I64) => ((-9223372036854775808.0f32).to_bits() as u64, false),
                (FloatTy::F64, IntTy::I64) => ((-9223372036854775808.0f64).to_bits(), false),
            };
            load_xmm15(a, from, bound);
            ucomis(a, from, src, xmm15_id());
            if exclusive {
                x64!(a; jbe =>t.overflow);
            } else {
                x64!(a; jb =>t.overflow);
            }
            // Non-negative inputs cannot produce INT_MIN legitimately: positive overflow.
            x64!(a; xorps xmm15, xmm15);
            ucomis(a, from, src, xmm15_id());
            x64!(a; jae =>t.overflow);
        }
        None => {
            let nan = a.new_dynamic_label();
            x64!(a
                ; jp =>nan
                ; xorps xmm15, xmm15
            );
            ucomis(a, from, src, xmm15_id());
            // Negative: INT_MIN is already the saturated result.
            x64!(a; jb =>done);
            // Positive overflow: INT_MIN -> INT_MAX.
            if wide {
                x64!(a; not Rq(dst));
            } else {
                x64!(a; not Rd(dst));
            }
            x64!(a
                ; jmp =>done
                ; =>nan
                ; xor Rd(dst), Rd(dst)
            );
        }
    }
    x64!(a; =>done);
}

#[inline]
fn xmm15_id() -> u8 {
    SCRATCH_XMM
}

fn trunc_u32(a: &mut Asm, from: FloatTy, dst: u8, src: u8, trap: Option<TruncTraps>) {
    let done = a.new_dynamic_label();
    // The 64-bit conversion is exact for every input in (-1, 2^32); anything else (including
    // NaN, which gives 0x8000_0000_0000_0000) has a nonzero upper half.
    cvtt(a, from, true, dst, src);
    x64!(a
        ; mov r11, Rq(dst)
        ; shr r11, 32
        ; jz =>done
    );
    match trap {
        Some(t) => {
            ucomis(a, from, src, src);
            x64!(a
                ; jp =>t.invalid
                ; jmp =>t.overflow
            );
        }
        None => {
            x64!(a
                ; xor Rd(dst), Rd(dst)
                ; xorps xmm15, xmm15
            );
            ucomis(a, from, src, xmm15_id());
            // NaN (unordered: ZF=CF=1) or negative -> 0.
            x64!(a
                ; jbe =>done
                ; mov Rd(dst), -1
            );
        }
    }
    x64!(a; =>done);
}

fn trunc_u64(a: &mut Asm, from: FloatTy, dst: u8, src: u8, trap: Option<TruncTraps>) {
    let done = a.new_dynamic_label();
    let big = a.new_dynamic_label();
    let two63: u64 = match from {
        FloatTy::F32 => 9223372036854775808.0f32.to_bits() as u64,
        FloatTy::F64 => 9223372036854775808.0f64.to_bits(),
    };
    load_xmm15(a, from, two63);
    ucomis(a, from, src, xmm15_id());
    // src >= 2^63 (never taken for NaN: unordered sets CF).
    x64!(a; jae =>big);
    // src < 2^63 or NaN: the signed conversion is exact for (-1, 2^63); NaN and src <= -1
    // give a negative result.
    cvtt(a, from, true, dst, src);
    x64!(a
        ; test Rq(dst), Rq(dst)
        ; jns =>done
    );
    match trap {
        Some(t) => {
            ucomis(a, from, src, src);
            x64!(a
                ; jp =>t.invalid
                ; jmp =>t.overflow
            );
        }
        None => {
            x64!(a
                ; xor Rd(dst), Rd(dst)
                ; jmp =>done
            );
        }
    }
    // src >= 2^63: xmm15 = 2^63 - src (exact, <= 0), dst = -(trunc) = src - 2^63 then set
    // bit 63. When src >= 2^64 the conversion yields INT64_MIN and `neg` overflows.
    x64!(a; =>big);
    subs(a, from, xmm15_id(), src);
    cvtt(a, from, true, dst, xmm15_id());
    x64!(a; neg Rq(dst));
    match trap {
        Some(t) => {
            x64!(a
                ; jo =>t.overflow
                ; bts Rq(dst), 63
            );
        }
        None => {
            let max = a.new_dynamic_label();
            x64!(a
                ; jo =>max
                ; bts Rq(dst), 63
                ; jmp =>done
                ; =>max
                ; mov Rq(dst), -1
            );
        }
    }
    x64!(a; =>done);
}

// ---------------------------------------------------------------------------------------------
// int -> float
// ---------------------------------------------------------------------------------------------

/// `dst_xmm = (to) src_gpr`, correctly rounded (nearest, ties to even), signed or unsigned.
/// Upper lanes of dst_xmm are zeroed. Clobbers r11 (unsigned sources only) and flags;
/// `src_gpr` is preserved.
pub fn convert_from_int(a: &mut Asm, from: IntTy, signed: bool, to: FloatTy, dst_xmm: u8, src_gpr: u8) {
    check_xmm(dst_xmm);
    check_gpr(src_gpr);
    let (dst, src) = (dst_xmm, src_gpr);
    // cvtsi2ss/sd only write the low lane: zero dst first to break the false dependency.
    match (from, signed) {
        (IntTy::I32, true) => {
            x64!(a; xorps Rx(dst), Rx(dst));
            cvtsi2(a, to, false, dst, src);
        }
        (IntTy::I64, true) => {
            x64!(a; xorps Rx(dst), Rx(dst));
            cvtsi2(a, to, true, dst, src);
        }
        (IntTy::I32, false) => {
            // Zero-extend, then the 64-bit signed conversion is a single exact rounding.
            x64!(a
                ; mov r11d, Rd(src)
                ; xorps Rx(dst), Rx(dst)
            );
            cvtsi2(a, to, true, dst, SCRATCH_GPR);
        }
        (IntTy::I64, false) => {
            let big = a.new_dynamic_label();
            let even = a.new_dynamic_label();
            let done = a.new_dynamic_label();
            x64!(a
                ; xorps Rx(dst), Rx(dst)
                ; test Rq(src), Rq(src)
                ; js =>big
            );
            cvtsi2(a, to, true, dst, src);
            // >= 2^63: halve with the lost bit ORed into bit 0 ("round to odd" sticky bit) so
            // the single rounding of the 63-bit value is the correct rounding of the 64-bit
            // one (at least 10 bits are dropped), then double exactly.
            x64!(a
                ; jmp =>done
                ; =>big
                ; mov r11, Rq(src)
                ; shr r11, 1
                ; jnc =>even
                ; or r11, 1
                ; =>even
            );
            cvtsi2(a, to, true, dst, SCRATCH_GPR);
            adds(a, to, dst, dst);
            x64!(a; =>done);
        }
    }
}
