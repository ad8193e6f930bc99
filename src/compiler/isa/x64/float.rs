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
        ; jp BYTE =>nan
        ; jne BYTE =>not_equal
    );
    // Equal operands: identical bits except for the ±0 pair, where OR picks -0 (min) and AND
    // picks +0 (max).
    if is_min {
        x64!(a; orps Rx(dst), Rx(rhs));
    } else {
        x64!(a; andps Rx(dst), Rx(rhs));
    }
    x64!(a
        ; jmp BYTE =>done
        ; =>nan
    );
    // At least one NaN: the addition returns the (first) NaN operand, quieted.
    adds(a, ty, dst, rhs);
    x64!(a
        ; jmp BYTE =>done
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
    x64!(a; jno BYTE =>done);
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
                ; jp BYTE =>nan
                ; xorps xmm15, xmm15
            );
            ucomis(a, from, src, xmm15_id());
            // Negative: INT_MIN is already the saturated result.
            x64!(a; jb BYTE =>done);
            // Positive overflow: INT_MIN -> INT_MAX.
            if wide {
                x64!(a; not Rq(dst));
            } else {
                x64!(a; not Rd(dst));
            }
            x64!(a
                ; jmp BYTE =>done
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
        ; jz BYTE =>done
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
                ; jbe BYTE =>done
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
    x64!(a; jae BYTE =>big);
    // src < 2^63 or NaN: the signed conversion is exact for (-1, 2^63); NaN and src <= -1
    // give a negative result.
    cvtt(a, from, true, dst, src);
    x64!(a
        ; test Rq(dst), Rq(dst)
        ; jns BYTE =>done
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
                ; jmp BYTE =>done
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
                ; jo BYTE =>max
                ; bts Rq(dst), 63
                ; jmp BYTE =>done
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
                ; js BYTE =>big
            );
            cvtsi2(a, to, true, dst, src);
            // >= 2^63: halve with the lost bit ORed into bit 0 ("round to odd" sticky bit) so
            // the single rounding of the 63-bit value is the correct rounding of the 64-bit
            // one (at least 10 bits are dropped), then double exactly.
            x64!(a
                ; jmp BYTE =>done
                ; =>big
                ; mov r11, Rq(src)
                ; shr r11, 1
                ; jnc BYTE =>even
                ; or r11, 1
                ; =>even
            );
            cvtsi2(a, to, true, dst, SCRATCH_GPR);
            adds(a, to, dst, dst);
            x64!(a; =>done);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tests: every sequence runs natively inside a harness that loads *all* registers from a
// register file (random sentinels + the inputs), runs the sequence, and dumps all registers
// back, so each case also checks that nothing but dst/r11/xmm15 changed.
// ---------------------------------------------------------------------------------------------

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use dynasmrt::mmap::{ExecutableBuffer, MutableBuffer};
    use dynasmrt::AssemblyOffset;

    // ---- harness ----------------------------------------------------------------------------

    #[repr(C)]
    #[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
    struct RegFile {
        gpr: [u64; 16],
        xmm: [[u64; 2]; 16],
    }

    const RET_OK: u64 = 0;
    const RET_OVERFLOW: u64 = 0x0F0F_0001;
    const RET_INVALID: u64 = 0x0F0F_0002;

    struct Code {
        buf: ExecutableBuffer,
    }

    impl Code {
        fn run(&self, rf: &mut RegFile) -> u64 {
            let f: extern "sysv64" fn(*mut RegFile) -> u64 =
                unsafe { std::mem::transmute(self.buf.ptr(AssemblyOffset(0))) };
            f(rf as *mut RegFile)
        }
    }

    /// Wraps `emit` in a SysV function `fn(*mut RegFile) -> u64` returning RET_OK (registers
    /// dumped back into the file), RET_OVERFLOW or RET_INVALID (trap labels reached).
    fn build(emit: &dyn Fn(&mut Asm, TruncTraps)) -> Code {
        let mut a = Asm::new(0);
        let overflow = a.new_dynamic_label();
        let invalid = a.new_dynamic_label();
        let exit = a.new_dynamic_label();
        x64!(a
            ; push rbx ; push rbp ; push r12 ; push r13 ; push r14 ; push r15
            ; push rdi
            ; mov r11, rdi
        );
        for j in 0..16u8 {
            let off = 128 + 16 * j as i32;
            x64!(a; movdqu Rx(j), [r11 + off]);
        }
        for i in 0..16u8 {
            if i != 4 && i != 11 {
                let off = 8 * i as i32;
                x64!(a; mov Rq(i), [r11 + off]);
            }
        }
        x64!(a; mov r11, [r11 + 88]);
        emit(&mut a, TruncTraps { overflow, invalid });
        x64!(a; mov r11, [rsp]);
        for i in 0..16u8 {
            if i != 4 && i != 11 {
                let off = 8 * i as i32;
                x64!(a; mov [r11 + off], Rq(i));
            }
        }
        for j in 0..16u8 {
            let off = 128 + 16 * j as i32;
            x64!(a; movdqu [r11 + off], Rx(j));
        }
        x64!(a
            ; xor eax, eax
            ; =>exit
            ; add rsp, 8
            ; pop r15 ; pop r14 ; pop r13 ; pop r12 ; pop rbp ; pop rbx
            ; ret
            ; =>overflow
            ; mov eax, RET_OVERFLOW as i32
            ; jmp =>exit
            ; =>invalid
            ; mov eax, RET_INVALID as i32
            ; jmp =>exit
        );
        let bytes = a.finalize().expect("assemble");
        let mut m = MutableBuffer::new(bytes.len()).expect("mmap");
        m.set_len(bytes.len());
        m.copy_from_slice(&bytes);
        Code { buf: m.make_exec().expect("make_exec") }
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            // xorshift64*
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn regfile(&mut self) -> RegFile {
            let mut rf = RegFile::default();
            for g in rf.gpr.iter_mut() {
                *g = self.next();
            }
            for x in rf.xmm.iter_mut() {
                *x = [self.next(), self.next()];
            }
            rf
        }
    }

    #[derive(Copy, Clone, Debug, PartialEq)]
    enum Out {
        Xmm(u8),
        Gpr(u8),
    }

    /// All registers except dst and the scratch registers must be unchanged.
    fn preserved(before: &RegFile, after: &RegFile, dst: Out) -> Result<(), String> {
        for i in 0..16u8 {
            if i == 4 || i == 11 || dst == Out::Gpr(i) {
                continue;
            }
            if before.gpr[i as usize] != after.gpr[i as usize] {
                return Err(format!("gpr {i} clobbered"));
            }
        }
        for j in 0..16u8 {
            if j == 15 || dst == Out::Xmm(j) {
                continue;
            }
            if before.xmm[j as usize] != after.xmm[j as usize] {
                return Err(format!("xmm{j} clobbered"));
            }
        }
        Ok(())
    }

    fn width_mask(ty: FloatTy) -> u64 {
        match ty {
            FloatTy::F32 => 0xFFFF_FFFF,
            FloatTy::F64 => u64::MAX,
        }
    }

    /// Writes a float into the low lane, keeping the random garbage above it.
    fn set_xmm(rf: &mut RegFile, ty: FloatTy, r: u8, bits: u64) {
        let m = width_mask(ty);
        let lane = &mut rf.xmm[r as usize][0];
        *lane = (*lane & !m) | (bits & m);
    }

    fn get_xmm(rf: &RegFile, ty: FloatTy, r: u8) -> u64 {
        rf.xmm[r as usize][0] & width_mask(ty)
    }

    /// Writes an integer into a GPR; i32 inputs keep random garbage in the upper half.
    fn set_gpr(rf: &mut RegFile, ty: IntTy, r: u8, v: u64) {
        let g = &mut rf.gpr[r as usize];
        *g = match ty {
            IntTy::I32 => (*g & !0xFFFF_FFFF) | (v & 0xFFFF_FFFF),
            IntTy::I64 => v,
        };
    }

    struct Failures {
        what: String,
        count: usize,
        cases: usize,
        first: Vec<String>,
    }
    impl Failures {
        fn new(what: &str) -> Self {
            Failures { what: what.to_string(), count: 0, cases: 0, first: Vec::new() }
        }
        fn check(&mut self, ok: Result<(), String>, ctx: impl FnOnce() -> String) {
            self.cases += 1;
            if let Err(e) = ok {
                self.count += 1;
                if self.first.len() < 20 {
                    self.first.push(format!("{}: {e}", ctx()));
                }
            }
        }
        fn finish(self) -> usize {
            assert!(
                self.count == 0,
                "{}: {} of {} cases failed:\n{}",
                self.what,
                self.count,
                self.cases,
                self.first.join("\n")
            );
            eprintln!("{}: {} cases ok", self.what, self.cases);
            self.cases
        }
    }

    // ---- reference semantics ----------------------------------------------------------------

    #[derive(Copy, Clone, Debug)]
    enum FExpect {
        Bits(u64),
        /// A quiet (arithmetic) NaN; canonical required when every NaN input was canonical.
        Nan { canonical: bool },
    }

    fn is_nan(ty: FloatTy, b: u64) -> bool {
        match ty {
            FloatTy::F32 => f32::from_bits(b as u32).is_nan(),
            FloatTy::F64 => f64::from_bits(b).is_nan(),
        }
    }
    fn quiet_bit(ty: FloatTy) -> u64 {
        match ty {
            FloatTy::F32 => 1 << 22,
            FloatTy::F64 => 1 << 51,
        }
    }
    fn payload(ty: FloatTy, b: u64) -> u64 {
        match ty {
            FloatTy::F32 => b & 0x7F_FFFF,
            FloatTy::F64 => b & 0xF_FFFF_FFFF_FFFF,
        }
    }
    fn is_canonical_nan(ty: FloatTy, b: u64) -> bool {
        is_nan(ty, b) && payload(ty, b) == quiet_bit(ty)
    }
    fn is_arithmetic_nan(ty: FloatTy, b: u64) -> bool {
        is_nan(ty, b) && payload(ty, b) & quiet_bit(ty) != 0
    }

    fn check_f(ty: FloatTy, got: u64, exp: FExpect) -> Result<(), String> {
        let ok = match exp {
            FExpect::Bits(b) => got == b,
            FExpect::Nan { canonical } => {
                is_arithmetic_nan(ty, got) && (!canonical || is_canonical_nan(ty, got))
            }
        };
        if ok {
            Ok(())
        } else {
            Err(format!("got {got:#x}, expected {exp:x?}"))
        }
    }

    fn nan_result(ty: FloatTy, inputs: &[u64]) -> FExpect {
        FExpect::Nan {
            canonical: inputs.iter().all(|&b| !is_nan(ty, b) || is_canonical_nan(ty, b)),
        }
    }

    fn as_f64(ty: FloatTy, b: u64) -> f64 {
        match ty {
            FloatTy::F32 => f32::from_bits(b as u32) as f64,
            FloatTy::F64 => f64::from_bits(b),
        }
    }

    fn ref_minmax(ty: FloatTy, x: u64, y: u64, is_min: bool) -> FExpect {
        if is_nan(ty, x) || is_nan(ty, y) {
            return nan_result(ty, &[x, y]);
        }
        let (fx, fy) = (as_f64(ty, x), as_f64(ty, y));
        if fx == 0.0 && fy == 0.0 {
            let sign = 1u64 << (if ty == FloatTy::F32 { 31 } else { 63 });
            let any_neg = (x | y) & sign != 0;
            let both_neg = (x & y) & sign != 0;
            let neg = if is_min { any_neg } else { both_neg };
            return FExpect::Bits(if neg { sign } else { 0 });
        }
        let pick_x = if is_min { fx < fy } else { fx > fy };
        FExpect::Bits(if pick_x || fx == fy { x } else { y })
    }

    fn ref_round(ty: FloatTy, mode: RoundMode, x: u64) -> FExpect {
        if is_nan(ty, x) {
            return nan_result(ty, &[x]);
        }
        FExpect::Bits(match ty {
            FloatTy::F32 => {
                let f = f32::from_bits(x as u32);
                let r = match mode {
                    RoundMode::Nearest => f.round_ties_even(),
                    RoundMode::Floor => f.floor(),
                    RoundMode::Ceil => f.ceil(),
                    RoundMode::Trunc => f.trunc(),
                };
                r.to_bits() as u64
            }
            FloatTy::F64 => {
                let f = f64::from_bits(x);
                let r = match mode {
                    RoundMode::Nearest => f.round_ties_even(),
                    RoundMode::Floor => f.floor(),
                    RoundMode::Ceil => f.ceil(),
                    RoundMode::Trunc => f.trunc(),
                };
                r.to_bits()
            }
        })
    }

    fn sign_bit(ty: FloatTy) -> u64 {
        match ty {
            FloatTy::F32 => 1 << 31,
            FloatTy::F64 => 1 << 63,
        }
    }

    #[derive(Copy, Clone, Debug, PartialEq, Eq)]
    enum TOut {
        Val(u64),
        Overflow,
        Invalid,
    }

    fn ref_trunc(from: FloatTy, to: IntTy, signed: bool, sat: bool, x: u64) -> TOut {
        let f = as_f64(from, x); // exact for f32
        if f.is_nan() {
            return if sat { TOut::Val(0) } else { TOut::Invalid };
        }
        // Rust `as` float->int casts are exactly the trunc_sat semantics.
        let sat_val = match (to, signed) {
            (IntTy::I32, true) => f as i32 as u32 as u64,
            (IntTy::I32, false) => f as u32 as u64,
            (IntTy::I64, true) => f as i64 as u64,
            (IntTy::I64, false) => f as u64,
        };
        if sat {
            return TOut::Val(sat_val);
        }
        let t = f.trunc();
        let in_range = match (to, signed) {
            (IntTy::I32, true) => (-2147483648.0..=2147483647.0).contains(&t),
            (IntTy::I32, false) => (0.0..=4294967295.0).contains(&t),
            (IntTy::I64, true) => t >= -9223372036854775808.0 && t < 9223372036854775808.0,
            (IntTy::I64, false) => t >= 0.0 && t < 18446744073709551616.0,
        };
        if in_range {
            TOut::Val(sat_val)
        } else {
            TOut::Overflow
        }
    }

    fn ref_convert(from: IntTy, signed: bool, to: FloatTy, v: u64) -> u64 {
        // Rust int->float `as` casts round to nearest, ties to even.
        match (from, signed, to) {
            (IntTy::I32, true, FloatTy::F32) => (v as i32 as f32).to_bits() as u64,
            (IntTy::I32, true, FloatTy::F64) => (v as i32 as f64).to_bits(),
            (IntTy::I32, false, FloatTy::F32) => (v as u32 as f32).to_bits() as u64,
            (IntTy::I32, false, FloatTy::F64) => (v as u32 as f64).to_bits(),
            (IntTy::I64, true, FloatTy::F32) => (v as i64 as f32).to_bits() as u64,
            (IntTy::I64, true, FloatTy::F64) => (v as i64 as f64).to_bits(),
            (IntTy::I64, false, FloatTy::F32) => (v as f32).to_bits() as u64,
            (IntTy::I64, false, FloatTy::F64) => (v as f64).to_bits(),
        }
    }

    // ---- input values -----------------------------------------------------------------------

    fn interesting_f64() -> Vec<f64> {
        let p = |e: i32| 2f64.powi(e);
        let mut v = vec![
            0.0, 0.5, 1.0, 1.5, 2.5, 3.5, 0.9, 0.1, 0.49999999999999994, 0.5000000000000001,
            0.49999997, 0.50000006, 0.99999994, 2.0, 3.0, 4.5, 5.5, 100.5, 1e10, 1e30, 1e300,
            3.4028234663852886e38, f64::MAX, f64::MIN_POSITIVE, 1.1754943508222875e-38,
            1.401298464324817e-45, 5e-324, 2.2250738585072009e-308, f64::INFINITY,
            2147483647.0, 2147483647.5, 2147483647.9, 2147483648.5, 2147483649.0,
            2147483520.0, 2147483904.0, 4294967295.0, 4294967295.5, 4294967040.0,
            4294967296.5, 9223372036854774784.0, 18446744073709549568.0,
            9223371487098961920.0, 18446742974197923840.0,
        ];
        for e in [22, 23, 24, 31, 32, 52, 53, 54, 62, 63, 64, 65, 127, 128, -1, -126, -127, -149, -1022, -1074] {
            v.push(p(e));
            v.push(p(e) + 0.5);
            v.push(p(e) - 0.5);
            v.push(p(e) + 1.0);
            v.push(p(e) - 1.0);
        }
        v
    }

    const NANS_F32: [u32; 10] = [
        0x7FC0_0000, 0xFFC0_0000, 0x7FC0_0001, 0xFFC1_2345, 0x7FFF_FFFF, 0x7F80_0001,
        0x7FA0_0000, 0xFF80_0001, 0xFFBF_FFFF, 0x7F80_1234,
    ];
    const NANS_F64: [u64; 10] = [
        0x7FF8_0000_0000_0000, 0xFFF8_0000_0000_0000, 0x7FF8_0000_0000_0001,
        0xFFF8_1234_5678_9ABC, 0x7FFF_FFFF_FFFF_FFFF, 0x7FF0_0000_0000_0001,
        0x7FF4_0000_0000_0000, 0xFFF0_0000_0000_0001, 0xFFF7_FFFF_FFFF_FFFF,
        0x7FF0_0000_DEAD_BEEF,
    ];

    /// Float bit patterns: interesting values, both signs, their bitwise neighbours
    /// (next up/down in magnitude), NaNs, and `random` random values.
    fn float_values(ty: FloatTy, random: usize, seed: u64) -> Vec<u64> {
        let mut base: Vec<u64> = Vec::new();
        for f in interesting_f64() {
            let b = match ty {
                FloatTy::F32 => (f as f32).to_bits() as u64,
                FloatTy::F64 => f.to_bits(),
            };
            base.push(b);
        }
        let sign = sign_bit(ty);
        let mask = width_mask(ty);
        let mut out = Vec::new();
        for b in base {
            for s in [0, sign] {
                let x = b | s;
                out.push(x);
                out.push(x.wrapping_add(1) & mask);
                if b & !sign != 0 {
                    out.push(x.wrapping_sub(1) & mask);
                }
            }
        }
        match ty {
            FloatTy::F32 => out.extend(NANS_F32.iter().map(|&b| b as u64)),
            FloatTy::F64 => out.extend(NANS_F64.iter()),
        }
        let mut rng = Rng(seed);
        for i in 0..random {
            let x = match i % 3 {
                0 => rng.next() & mask,
                1 => {
                    // Random integer-ish magnitudes with random fractions, over a wide range.
                    let e = (rng.next() % 140) as i32 - 70;
                    let f = (rng.next() as i64 as f64) * 2f64.powi(e - 63);
                    match ty {
                        FloatTy::F32 => (f as f32).to_bits() as u64,
                        FloatTy::F64 => f.to_bits(),
                    }
                }
                _ => {
                    let f = ((rng.next() % 2001) as f64 - 1000.0) / 4.0;
                    match ty {
                        FloatTy::F32 => (f as f32).to_bits() as u64,
                        FloatTy::F64 => f.to_bits(),
                    }
                }
            };
            out.push(x);
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    fn int_values(random: usize, seed: u64) -> Vec<u64> {
        let mut base: Vec<u64> = vec![
            0, 1, 2, 3, 7, 0xFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000,
            0x7F_FFFF, 0x80_0000, 0xFF_FFFF, 0x100_0000, 0x100_0001, 0x100_0003, 0x200_0002,
            0x200_0006, 0x7FFF_FFBF, 0x7FFF_FFC0, 0x7FFF_FFC1, 0xFFFF_FF7F, 0xFFFF_FF80,
            0xFFFF_FF81, 0xFFFF_FFC0,
            1 << 53, (1 << 53) + 1, (1 << 53) + 2, (1 << 53) + 3, (1 << 54) + 2, (1 << 54) + 6,
            (1 << 54) + 1, (1 << 54) + 3,
            i64::MAX as u64, i64::MIN as u64, u64::MAX, u64::MAX - 1,
            0x7FFF_FFFF_FFFF_FDFF, 0x7FFF_FFFF_FFFF_FE00, 0x7FFF_FFFF_FFFF_FC00,
            0x7FFF_FF7F_FFFF_FFFF, 0x7FFF_FF80_0000_0000, 0x7FFF_FF80_0000_0001,
        ];
        let top = 1u64 << 63;
        for low in [
            1, 2, 3, 0x3FF, 0x400, 0x401, 0x7FF, 0x800, 0x801, 0xBFF, 0xC00, 0xC01, 0x17FF,
            0x1800, 0x1801, 1 << 39, (1 << 39) + 1, (1 << 39) - 1, (1 << 40) + (1 << 39),
            (1 << 40) + (1 << 39) - 1, (1 << 40) + (1 << 39) + 1, (3 << 39) + 0x400,
        ] {
            base.push(top + low);
            base.push(top | (0x5555 << 40) | low);
            base.push(u64::MAX - low);
            base.push(u64::MAX - low + 1);
        }
        // 2^64 - 2^39 rounds to 2^64 in f32 (tie to even), one below does not.
        base.push(u64::MAX - (1 << 39) + 1);
        base.push(u64::MAX - (1 << 39));
        let mut out = Vec::new();
        for b in base {
            for v in [b, b.wrapping_neg(), b as u32 as i32 as i64 as u64, (b as u32).wrapping_neg() as u64] {
                out.push(v);
            }
        }
        let mut rng = Rng(seed);
        for i in 0..random {
            let r = rng.next();
            out.push(match i % 3 {
                0 => r,
                1 => r >> (rng.next() % 64),
                _ => (r >> (rng.next() % 64)).wrapping_neg(),
            });
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    // ---- register assignments ---------------------------------------------------------------

    /// (dst, rhs/src) XMM pairs: distinct, aliased, low/high registers.
    const XMM_PAIRS: [(u8, u8); 9] =
        [(0, 1), (1, 0), (3, 3), (8, 9), (14, 2), (9, 9), (0, 14), (13, 12), (14, 14)];
    /// (dst_gpr, src_xmm) for truncations: rax, rbx/rbp (callee-saved), r8+, rdi, r15.
    const TRUNC_REGS: [(u8, u8); 7] = [(0, 0), (1, 8), (8, 3), (15, 14), (3, 9), (5, 1), (12, 12)];
    /// (dst_xmm, src_gpr) for conversions.
    const CONV_REGS: [(u8, u8); 7] = [(0, 7), (8, 0), (14, 15), (3, 5), (1, 12), (9, 9), (2, 3)];

    const FTYS: [FloatTy; 2] = [FloatTy::F32, FloatTy::F64];
    const MODES: [RoundMode; 4] =
        [RoundMode::Nearest, RoundMode::Floor, RoundMode::Ceil, RoundMode::Trunc];

    // ---- generic drivers --------------------------------------------------------------------

    /// Binary `dst = op(dst, rhs)` over all value pairs (only x==y when dst aliases rhs).
    fn drive_binop(
        what: &str,
        ty: FloatTy,
        pairs: &[(u8, u8)],
        values: &[u64],
        emit: &dyn Fn(&mut Asm, u8, u8),
        reference: &dyn Fn(u64, u64) -> FExpect,
        seed: u64,
    ) -> usize {
        let mut fails = Failures::new(&format!("{what} {ty:?}"));
        let mut rng = Rng(seed);
        for &(dst, rhs) in pairs {
            let code = build(&|a, _| emit(a, dst, rhs));
            for &x in values {
                for &y in values {
                    if dst == rhs && x != y {
                        continue;
                    }
                    let mut rf = rng.regfile();
                    set_xmm(&mut rf, ty, dst, x);
                    set_xmm(&mut rf, ty, rhs, y);
                    let before = rf;
                    let ret = code.run(&mut rf);
                    let got = get_xmm(&rf, ty, dst);
                    let res = if ret != RET_OK {
                        Err(format!("unexpected return {ret:#x}"))
                    } else {
                        check_f(ty, got, reference(x, y))
                            .and_then(|_| preserved(&before, &rf, Out::Xmm(dst)))
                    };
                    fails.check(res, || format!("xmm{dst}=op(xmm{dst}={x:#x}, xmm{rhs}={y:#x})"));
                }
            }
        }
        fails.finish()
    }

    /// Unary `dst = op(src)`.
    fn drive_unop(
        what: &str,
        ty: FloatTy,
        pairs: &[(u8, u8)],
        values: &[u64],
        emit: &dyn Fn(&mut Asm, u8, u8),
        reference: &dyn Fn(u64) -> FExpect,
        seed: u64,
    ) -> usize {
        let mut fails = Failures::new(&format!("{what} {ty:?}"));
        let mut rng = Rng(seed);
        for &(dst, src) in pairs {
            let code = build(&|a, _| emit(a, dst, src));
            for &x in values {
                let mut rf = rng.regfile();
                set_xmm(&mut rf, ty, src, x);
                let before = rf;
                let ret = code.run(&mut rf);
                let got = get_xmm(&rf, ty, dst);
                let res = if ret != RET_OK {
                    Err(format!("unexpected return {ret:#x}"))
                } else {
                    check_f(ty, got, reference(x)).and_then(|_| preserved(&before, &rf, Out::Xmm(dst)))
                };
                fails.check(res, || format!("xmm{dst}=op(xmm{src}={x:#x})"));
            }
        }
        fails.finish()
    }

    fn drive_trunc(
        from: FloatTy,
        to: IntTy,
        signed: bool,
        sat: bool,
        regs: &[(u8, u8)],
        values: &[u64],
        seed: u64,
    ) -> usize {
        let name = format!(
            "{}.trunc{}_{}_{}",
            if to == IntTy::I32 { "i32" } else { "i64" },
            if sat { "_sat" } else { "" },
            if from == FloatTy::F32 { "f32" } else { "f64" },
            if signed { "s" } else { "u" }
        );
        let mut fails = Failures::new(&name);
        let mut rng = Rng(seed);
        for &(dst, src) in regs {
            let code = build(&|a, traps| {
                trunc_to_int(a, from, to, signed, dst, src, if sat { None } else { Some(traps) })
            });
            for &x in values {
                let mut rf = rng.regfile();
                set_xmm(&mut rf, from, src, x);
                let before = rf;
                let ret = code.run(&mut rf);
                let exp = ref_trunc(from, to, signed, sat, x);
                let got = match ret {
                    RET_OK => TOut::Val(rf.gpr[dst as usize]),
                    RET_OVERFLOW => TOut::Overflow,
                    RET_INVALID => TOut::Invalid,
                    r => panic!("bad return {r:#x}"),
                };
                let res = if got != exp {
                    Err(format!("got {got:x?}, expected {exp:x?}"))
                } else if ret == RET_OK {
                    preserved(&before, &rf, Out::Gpr(dst))
                } else {
                    Ok(())
                };
                fails.check(res, || format!("gpr{dst} <- xmm{src}={x:#x} ({})", as_f64(from, x)));
            }
        }
        fails.finish()
    }

    fn drive_convert(
        from: IntTy,
        signed: bool,
        to: FloatTy,
        regs: &[(u8, u8)],
        values: &[u64],
        seed: u64,
    ) -> usize {
        let name = format!(
            "{}.convert_{}_{}",
            if to == FloatTy::F32 { "f32" } else { "f64" },
            if from == IntTy::I32 { "i32" } else { "i64" },
            if signed { "s" } else { "u" }
        );
        let mut fails = Failures::new(&name);
        let mut rng = Rng(seed);
        for &(dst, src) in regs {
            let code = build(&|a, _| convert_from_int(a, from, signed, to, dst, src));
            for &v in values {
                let mut rf = rng.regfile();
                set_gpr(&mut rf, from, src, v);
                let before = rf;
                let ret = code.run(&mut rf);
                let exp = ref_convert(from, signed, to, v);
                let got = get_xmm(&rf, to, dst);
                let res = if ret != RET_OK {
                    Err(format!("unexpected return {ret:#x}"))
                } else if got != exp {
                    Err(format!("got {got:#x}, expected {exp:#x}"))
                } else {
                    preserved(&before, &rf, Out::Xmm(dst))
                };
                fails.check(res, || format!("xmm{dst} <- gpr{src}={v:#x}"));
            }
        }
        fails.finish()
    }

    // ---- tests ------------------------------------------------------------------------------

    #[test]
    fn float_cpu_features() {
        assert!(required_cpu_features_present(), "tests need SSE4.1");
    }

    #[test]
    fn float_min_max() {
        let mut n = 0;
        for ty in FTYS {
            let vals = float_values(ty, 60, 11);
            n += drive_binop("fmin", ty, &XMM_PAIRS, &vals, &|a, d, r| fmin(a, ty, d, r),
                &|x, y| ref_minmax(ty, x, y, true), 1);
            n += drive_binop("fmax", ty, &XMM_PAIRS, &vals, &|a, d, r| fmax(a, ty, d, r),
                &|x, y| ref_minmax(ty, x, y, false), 2);
        }
        eprintln!("float_min_max: {n} cases");
    }

    #[test]
    fn float_copysign() {
        let mut n = 0;
        for ty in FTYS {
            let vals = float_values(ty, 60, 12);
            let s = sign_bit(ty);
            n += drive_binop("fcopysign", ty, &XMM_PAIRS, &vals, &|a, d, r| fcopysign(a, ty, d, r),
                &|x, y| FExpect::Bits((x & !s) | (y & s)), 3);
        }
        eprintln!("float_copysign: {n} cases");
    }

    #[test]
    fn float_abs_neg() {
        let mut n = 0;
        let in_place: Vec<(u8, u8)> = (0..15).map(|r| (r, r)).collect();
        for ty in FTYS {
            let vals = float_values(ty, 300, 13);
            let s = sign_bit(ty);
            n += drive_unop("fabs", ty, &in_place, &vals, &|a, d, _| fabs(a, ty, d),
                &|x| FExpect::Bits(x & !s), 4);
            n += drive_unop("fneg", ty, &in_place, &vals, &|a, d, _| fneg(a, ty, d),
                &|x| FExpect::Bits(x ^ s), 5);
        }
        eprintln!("float_abs_neg: {n} cases");
    }

    #[test]
    fn float_round() {
        let mut n = 0;
        for ty in FTYS {
            let vals = float_values(ty, 2000, 14);
            for mode in MODES {
                n += drive_unop(&format!("fround {mode:?}"), ty, &XMM_PAIRS, &vals,
                    &|a, d, s| fround(a, ty, mode, d, s), &|x| ref_round(ty, mode, x), 6);
            }
        }
        eprintln!("float_round: {n} cases");
    }

    #[test]
    fn float_trunc_trapping_and_sat() {
        let mut n = 0;
        for from in FTYS {
            let vals = float_values(from, 3000, 15);
            for to in [IntTy::I32, IntTy::I64] {
                for signed in [true, false] {
                    for sat in [false, true] {
                        n += drive_trunc(from, to, signed, sat, &TRUNC_REGS, &vals, 7);
                    }
                }
            }
        }
        eprintln!("float_trunc: {n} cases");
    }

    /// The exact range edges of the brief, spelled out (independent of the generated sets).
    #[test]
    fn float_trunc_edges() {
        use IntTy::*;
        let f32b = |f: f32| f.to_bits() as u64;
        let f64b = |f: f64| f.to_bits();
        let cases: Vec<(FloatTy, IntTy, bool, u64, TOut)> = vec![
            (FloatTy::F32, I32, true, f32b(-2147483648.0), TOut::Val(0x8000_0000)),
            (FloatTy::F32, I32, true, f32b(-2147483904.0), TOut::Overflow),
            (FloatTy::F32, I32, true, f32b(2147483520.0), TOut::Val(2147483520)),
            (FloatTy::F32, I32, true, f32b(2147483648.0), TOut::Overflow),
            (FloatTy::F64, I32, true, f64b(-2147483648.9), TOut::Val(0x8000_0000)),
            (FloatTy::F64, I32, true, f64b(-2147483649.0), TOut::Overflow),
            (FloatTy::F64, I32, true, f64b(2147483647.9), TOut::Val(0x7FFF_FFFF)),
            (FloatTy::F64, I32, true, f64b(2147483648.0), TOut::Overflow),
            (FloatTy::F64, I32, false, f64b(-0.9), TOut::Val(0)),
            (FloatTy::F64, I32, false, f64b(-1.0), TOut::Overflow),
            (FloatTy::F64, I32, false, f64b(4294967295.9), TOut::Val(0xFFFF_FFFF)),
            (FloatTy::F64, I32, false, f64b(4294967296.0), TOut::Overflow),
            (FloatTy::F32, I32, false, f32b(-0.9), TOut::Val(0)),
            (FloatTy::F32, I32, false, f32b(4294967040.0), TOut::Val(4294967040)),
            (FloatTy::F32, I32, false, f32b(4294967296.0), TOut::Overflow),
            (FloatTy::F64, I64, true, f64b(-9223372036854775808.0), TOut::Val(i64::MIN as u64)),
            (FloatTy::F64, I64, true, f64b(9223372036854775808.0), TOut::Overflow),
            (FloatTy::F32, I64, true, f32b(-9223372036854775808.0), TOut::Val(i64::MIN as u64)),
            (FloatTy::F32, I64, true, 0xDF00_0001, TOut::Overflow),
            (FloatTy::F64, I64, false, f64b(-0.9), TOut::Val(0)),
            (FloatTy::F64, I64, false, f64b(-1.0), TOut::Overflow),
            (FloatTy::F64, I64, false, f64b(9223372036854775808.0), TOut::Val(1 << 63)),
            (FloatTy::F64, I64, false, f64b(18446744073709549568.0), TOut::Val(18446744073709549568)),
            (FloatTy::F64, I64, false, f64b(18446744073709551616.0), TOut::Overflow),
            (FloatTy::F32, I64, false, f32b(18446742974197923840.0), TOut::Val(18446742974197923840)),
            (FloatTy::F32, I64, false, f32b(18446744073709551616.0), TOut::Overflow),
            (FloatTy::F64, I64, false, NANS_F64[0], TOut::Invalid),
            (FloatTy::F32, I32, true, NANS_F32[5] as u64, TOut::Invalid),
        ];
        for (from, to, signed, x, exp) in cases {
            assert_eq!(ref_trunc(from, to, signed, false, x), exp, "reference {from:?}->{to:?} {x:#x}");
            let code = build(&|a, t| trunc_to_int(a, from, to, signed, 9, 7, Some(t)));
            let mut rf = Rng(99).regfile();
            set_xmm(&mut rf, from, 7, x);
            let got = match code.run(&mut rf) {
                RET_OK => TOut::Val(rf.gpr[9]),
                RET_OVERFLOW => TOut::Overflow,
                _ => TOut::Invalid,
            };
            assert_eq!(got, exp, "{from:?}->{to:?} signed={signed} {x:#x}");
        }
    }

    #[test]
    fn float_convert() {
        let mut n = 0;
        let vals = int_values(3000, 16);
        for from in [IntTy::I32, IntTy::I64] {
            for signed in [true, false] {
                for to in FTYS {
                    n += drive_convert(from, signed, to, &CONV_REGS, &vals, 8);
                }
            }
        }
        eprintln!("float_convert: {n} cases");
    }

    /// Every legal register assignment (including every aliasing), a few values each: only
    /// dst may change (plus r11/xmm15).
    #[test]
    fn float_register_preservation_all_assignments() {
        let all_xmm: Vec<u8> = (0..15).collect();
        let all_gpr: Vec<u8> = (0..16).filter(|&r| r != 4 && r != 11).collect();
        let xmm_pairs: Vec<(u8, u8)> =
            all_xmm.iter().flat_map(|&d| all_xmm.iter().map(move |&s| (d, s))).collect();
        let trunc_regs: Vec<(u8, u8)> =
            all_gpr.iter().flat_map(|&d| all_xmm.iter().map(move |&s| (d, s))).collect();
        let conv_regs: Vec<(u8, u8)> =
            all_xmm.iter().flat_map(|&d| all_gpr.iter().map(move |&s| (d, s))).collect();
        let mut n = 0;
        for ty in FTYS {
            let sign = sign_bit(ty);
            let one = match ty {
                FloatTy::F32 => 1f32.to_bits() as u64,
                FloatTy::F64 => 1f64.to_bits(),
            };
            let vals = [0, sign, one, one | sign, (one + 1) | sign];
            n += drive_binop("fmin/all", ty, &xmm_pairs, &vals, &|a, d, r| fmin(a, ty, d, r),
                &|x, y| ref_minmax(ty, x, y, true), 21);
            n += drive_binop("fmax/all", ty, &xmm_pairs, &vals, &|a, d, r| fmax(a, ty, d, r),
                &|x, y| ref_minmax(ty, x, y, false), 22);
            n += drive_binop("fcopysign/all", ty, &xmm_pairs, &vals,
                &|a, d, r| fcopysign(a, ty, d, r),
                &|x, y| FExpect::Bits((x & !sign) | (y & sign)), 23);
            n += drive_unop("fround/all", ty, &xmm_pairs, &vals,
                &|a, d, s| fround(a, ty, RoundMode::Nearest, d, s),
                &|x| ref_round(ty, RoundMode::Nearest, x), 24);
            let big: Vec<u64> = [-1.5f64, 3e9, 1e19, 2.5, f64::NAN, -3e9]
                .iter()
                .map(|&f| match ty {
                    FloatTy::F32 => (f as f32).to_bits() as u64,
                    FloatTy::F64 => f.to_bits(),
                })
                .collect();
            for to in [IntTy::I32, IntTy::I64] {
                for signed in [true, false] {
                    for sat in [false, true] {
                        n += drive_trunc(ty, to, signed, sat, &trunc_regs, &big, 25);
                    }
                }
            }
            let ints = [0u64, 5, u64::MAX, 1 << 63, (1 << 63) | 0x401, 0x8000_0001];
            for from in [IntTy::I32, IntTy::I64] {
                for signed in [true, false] {
                    n += drive_convert(from, signed, ty, &conv_regs, &ints, 26);
                }
            }
        }
        eprintln!("float_register_preservation_all_assignments: {n} cases");
    }

    // ---- the tests can fail ---------------------------------------------------------------

    fn count_failures(run: impl FnOnce() -> usize + std::panic::UnwindSafe) -> bool {
        std::panic::catch_unwind(run).is_err()
    }

    /// A bare `minss` / `maxss` is detected as wrong (±0 and NaN cases).
    #[test]
    fn float_checker_rejects_naive_minss() {
        let vals = float_values(FloatTy::F32, 0, 1);
        assert!(count_failures(move || drive_binop("naive minss", FloatTy::F32, &[(0, 1)], &vals,
            &|a, d, r| x64!(a; minss Rx(d), Rx(r)),
            &|x, y| ref_minmax(FloatTy::F32, x, y, true), 1)));
    }

    /// A bare `cvttsd2si` (no range checks) is detected as wrong.
    #[test]
    fn float_checker_rejects_naive_trunc() {
        let vals = float_values(FloatTy::F64, 0, 1);
        let fails = std::panic::catch_unwind(move || {
            let mut fails = Failures::new("naive cvttsd2si");
            let code = build(&|a, _| x64!(a; cvttsd2si Rd(0), Rx(0)));
            for &x in &vals {
                let mut rf = Rng(5).regfile();
                set_xmm(&mut rf, FloatTy::F64, 0, x);
                code.run(&mut rf);
                let exp = ref_trunc(FloatTy::F64, IntTy::I32, true, false, x);
                let got = TOut::Val(rf.gpr[0]);
                fails.check(if got == exp { Ok(()) } else { Err("x".into()) }, || String::new());
            }
            fails.finish()
        });
        assert!(fails.is_err());
    }

    /// A sequence that clobbers a non-scratch register is detected.
    #[test]
    fn float_checker_rejects_clobber() {
        let vals = float_values(FloatTy::F64, 0, 1);
        assert!(count_failures(move || drive_unop("clobber rbx", FloatTy::F64, &[(2, 2)], &vals,
            &|a, d, _| { fabs(a, FloatTy::F64, d); x64!(a; xor ebx, ebx) },
            &|x| FExpect::Bits(x & !(1 << 63)), 1)));
        let vals = float_values(FloatTy::F64, 0, 1);
        assert!(count_failures(move || drive_unop("clobber xmm14", FloatTy::F64, &[(2, 2)], &vals,
            &|a, d, _| { fabs(a, FloatTy::F64, d); x64!(a; xorps xmm14, xmm14) },
            &|x| FExpect::Bits(x & !(1 << 63)), 1)));
        // u64 -> f64 through a single signed conversion (no halving) is detected.
        let vals = int_values(100, 3);
        let fails = std::panic::catch_unwind(move || {
            let mut fails = Failures::new("naive u64->f64");
            let code = build(&|a, _| x64!(a; xorps xmm0, xmm0; cvtsi2sd xmm0, rdi));
            for &v in &vals {
                let mut rf = Rng(5).regfile();
                rf.gpr[7] = v;
                code.run(&mut rf);
                let ok = get_xmm(&rf, FloatTy::F64, 0) == (v as f64).to_bits();
                fails.check(if ok { Ok(()) } else { Err("x".into()) }, || String::new());
            }
            fails.finish()
        });
        assert!(fails.is_err());
    }
}
