//! Emulated sequences (taken when a CPU feature is missing) against the direct instruction.

use crate::compiler::isa::x64::masm::X64Masm;
use crate::compiler::isa::x64::CpuFeatures;
use crate::compiler::masm::Reg;
use crate::compiler::simd::{SimdMasm, VOp};
use crate::runtime::code::CodeMemory;
use crate::x64_asm as asm;

type BinFn = unsafe extern "sysv64" fn(*const u128, *const u128, *mut u128);

/// `out = op(a, b)` compiled with the given features.
fn compile(op: VOp, features: CpuFeatures) -> CodeMemory {
    let mut m = X64Masm::new(features);
    asm!(m.asm; movdqu xmm0, [rdi]; movdqu xmm1, [rsi]);
    m.binary(op, Reg::float(0), Reg::float(1), Reg::float(2))
        .unwrap();
    asm!(m.asm; movdqu [rdx], xmm0; ret);
    let bytes = m.asm.finalize().unwrap();
    CodeMemory::new(&bytes).unwrap()
}

fn run(code: &CodeMemory, a: u128, b: u128) -> u128 {
    let f: BinFn = unsafe { std::mem::transmute(code.as_ptr()) };
    let mut out = 0u128;
    unsafe { f(&a, &b, &mut out) };
    out
}

#[test]
fn i64x2_compares_without_sse42_match_pcmpgtq() {
    let native = CpuFeatures::detect();
    if !native.sse42 {
        return;
    }
    let emulated = CpuFeatures {
        sse42: false,
        ..native
    };
    let edge = [
        0u64,
        1,
        2,
        u64::MAX,
        u64::MAX - 1,
        1 << 63,
        (1 << 63) - 1,
        1 << 32,
        (1 << 32) - 1,
        0xffff_ffff_0000_0000,
    ];
    let mut values: Vec<u64> = edge.to_vec();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        values.push(x);
        values.push(x & 0xffff_ffff_8000_0000);
    }
    for op in [VOp::I64x2GtS, VOp::I64x2LtS, VOp::I64x2GeS, VOp::I64x2LeS] {
        let (fast, slow) = (compile(op, native), compile(op, emulated));
        for &a in &values {
            for &b in values.iter().step_by(3) {
                let (va, vb) = (a as u128 | (b as u128) << 64, b as u128 | (a as u128) << 64);
                assert_eq!(
                    run(&fast, va, vb),
                    run(&slow, va, vb),
                    "{op:?} {a:#x} {b:#x}"
                );
            }
        }
    }
}
