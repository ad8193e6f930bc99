//! Encoding tests: they run natively on any host (the bytes are compared, not executed; the
//! spec suite executes the code under qemu). Expected words are from GNU `as`.

use super::*;
use crate::compiler::masm::{Cond, MacroAssembler, Size};

fn words(f: impl FnOnce(&mut A64Masm)) -> Vec<u32> {
    let mut m = A64Masm::new();
    f(&mut m);
    let bytes = m.asm.finalize().unwrap();
    bytes.chunks(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect()
}

const V: fn(u8) -> Reg = Reg::float;

#[test]
fn known_encodings() {
    // ldur q3, [x29, #-16]; ldr q3, [x6, x7]; str q3, [x28, #32]
    assert_eq!(words(|m| m.v128_load(V(3), Addr::Frame(-16))), [0x3cdf_03a3]);
    assert_eq!(words(|m| m.v128_load(V(3), Addr::Indexed(Reg::int(6), Reg::int(7), 0))), [0x3ce7_68c3]);
    assert_eq!(words(|m| m.v128_store(Addr::Vmctx(32), V(3))), [0x3d80_0b83]);
    // bif v1.16b, v2.16b, v3.16b
    assert_eq!(words(|m| m.bitselect(V(1), V(2), V(3), V(4)).unwrap()), [0x6ee3_1c41]);
    // sqrdmulh v1.8h, v1.8h, v2.8h
    let q15 = words(|m| m.binary(VOp::I16x8Q15MulrSatS, V(1), V(2), V(4)).unwrap());
    assert_eq!(q15, [0x6e62_b421]);
    // mov v1.16b, v2.16b: float moves keep all 128 bits.
    assert_eq!(words(|m| MacroAssembler::mov(m, V(1), V(2))), [0x4ea2_1c41]);
    // select: csetm x16, ne; dup v31.2d, x16; bif v1.16b, v2.16b, v31.16b
    let sel = words(|m| MacroAssembler::select(m, Cond::Ne, Size::S64, V(1), V(2)));
    assert_eq!(sel, [0xda9f_03f0, 0x4e08_0e1f, 0x6eff_1c41]);
}

#[test]
fn shuffle_is_tbl_then_tbx_with_two_index_vectors() {
    let lanes: [u8; 16] = core::array::from_fn(|i| (31 - i) as u8);
    let code = words(|m| m.shuffle(V(2), V(4), lanes, V(5)).unwrap());
    // tbl v5.16b, {v2.16b}, v31.16b ... tbx v5.16b, {v4.16b}, v31.16b ... mov v2.16b, v5.16b
    let tbl = code.iter().position(|&w| w == 0x4e1f_0045).expect("tbl");
    let tbx = code.iter().position(|&w| w == 0x4e1f_1085).expect("tbx");
    assert!(tbl < tbx);
    assert_eq!(code.last(), Some(&0x4ea5_1ca2));
    assert!(words(|m| assert!(m.shuffle(V(2), V(4), [32; 16], V(5)).is_err())).is_empty());
}

#[test]
fn shift_counts_are_masked_and_negated_for_right_shifts() {
    // and w3, w3, #31; neg x3, x3; dup v31.4s, w3; sshl v1.4s, v1.4s, v31.4s
    let code = words(|m| SimdMasm::shift(m, VShift::ShrS, Shape::I32x4, V(1), Reg::int(3), V(4)).unwrap());
    assert_eq!(code, [0x1200_1063, 0xcb03_03e3, 0x4e04_0c7f, 0x4ebf_4421]);
    // ushl for left shifts, without the negation.
    let code = words(|m| SimdMasm::shift(m, VShift::Shl, Shape::I32x4, V(1), Reg::int(3), V(4)).unwrap());
    assert_eq!(code, [0x1200_1063, 0x4e04_0c7f, 0x6ebf_4421]);
}

#[test]
fn constants() {
    // A repeated byte is one movi.
    assert_eq!(words(|m| m.v128_const(V(1), 0)), [0x4f00_e401]);
    assert_eq!(words(|m| m.v128_const(V(1), u128::MAX)).len(), 1);
    // Equal halves: the half in x16, then dup; others: fmov + ins of the high half.
    assert_eq!(words(|m| m.v128_const(V(1), 0x1234_0000_0000_0000_1234)).len(), 2);
    assert_eq!(words(|m| m.v128_const(V(1), 0x1234)).len(), 2);
    let code = words(|m| m.v128_const(V(1), u128::MAX - 1));
    assert!(code.len() <= 4, "{code:x?}");
}

#[test]
fn every_lane_and_offset_is_encodable() {
    let imms = [0, 1, -1, 7, 15, 16, 255, 256, -256, -257, 4095, 4096, 65520, 65536, i32::MAX, i32::MIN];
    for &i in &imms {
        words(|m| {
            for addr in [
                Addr::Frame(i),
                Addr::Vmctx(i),
                Addr::Base(Reg::int(6), i),
                Addr::Indexed(Reg::int(6), Reg::int(7), i),
            ] {
                m.v128_load(V(2), addr);
                m.v128_store(addr, V(2));
                for kind in [VLoad::Splat(8), VLoad::Splat(16), VLoad::Splat(32), VLoad::Splat(64)] {
                    SimdMasm::load(m, kind, V(2), addr).unwrap();
                }
                for kind in [VLoad::Zero(32), VLoad::Zero(64), VLoad::Extend { bits: 16, signed: true }] {
                    SimdMasm::load(m, kind, V(2), addr).unwrap();
                }
                for bits in [8, 16, 32, 64] {
                    for lane in 0..(128 / bits) as u8 {
                        m.load_lane(bits, lane, V(2), addr).unwrap();
                        m.store_lane(bits, lane, addr, V(2)).unwrap();
                    }
                    assert!(m.load_lane(bits, (128 / bits) as u8, V(2), addr).is_err());
                }
            }
        });
    }
    for shape in [Shape::I8x16, Shape::I16x8, Shape::I32x4, Shape::I64x2, Shape::F32x4, Shape::F64x2] {
        words(|m| {
            let int = !matches!(shape, Shape::F32x4 | Shape::F64x2);
            let scalar = if int { Reg::int(3) } else { V(3) };
            for lane in 0..lanes(shape) {
                m.extract_lane(shape, int, lane, scalar, V(1)).unwrap();
                m.extract_lane(shape, false, lane, scalar, V(1)).unwrap();
                m.replace_lane(shape, lane, V(1), scalar).unwrap();
            }
            assert!(m.replace_lane(shape, lanes(shape), V(1), scalar).is_err());
            m.splat(shape, V(1), scalar).unwrap();
            if int {
                SimdMasm::test(m, VTest::AllTrue(shape), Reg::int(3), V(1), V(2)).unwrap();
                SimdMasm::test(m, VTest::Bitmask(shape), Reg::int(3), V(1), V(2)).unwrap();
                for op in [VShift::Shl, VShift::ShrS, VShift::ShrU] {
                    SimdMasm::shift(m, op, shape, V(1), Reg::int(3), V(2)).unwrap();
                }
            }
        });
    }
}
