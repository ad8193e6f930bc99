//! The SIMD half of `single_inst`: every Wasm 2.0 v128 instruction (except `v128.const`,
//! which is how constant v128 operands are materialised), v128 operands built lane by lane
//! from the scalar boundary tables, and the lane-wise NaN-aware comparison.

use arbitrary::{Result, Unstructured};
use wazero::ValType;

use super::single_inst::{Imm, Kind, Op};
use super::value::{f32_is_nan, f64_is_nan, DiffValue, F32_EDGES, F64_EDGES, I32_EDGES, I64_EDGES};

const I32: ValType = ValType::I32;
const I64: ValType = ValType::I64;
const F32: ValType = ValType::F32;
const F64: ValType = ValType::F64;
const V128: ValType = ValType::V128;

macro_rules! simd_ops {
    ($( $name:literal [$sub:expr] $imm:ident ($($p:ident),*) -> ($($r:ident),*) $kind:expr; )*) => {
        &[$( Op {
            name: $name, code: &[0xfd], simd: Some($sub), imm: Imm::$imm,
            params: &[$($p),*], results: &[$($r),*], kind: $kind,
        } ),*]
    };
}

use Kind::*;

/// f32 lanes in and out (`VArith(32, 32)`), f64 lanes (`VArith(64, 64)`), ...
const A32: Kind = VArith(32, 32);
const A64: Kind = VArith(64, 64);

/// Every SIMD instruction the JIT compiles (`Imm::Lane(n)`: a lane index below `n`).
pub const SIMD_OPS: &[Op] = simd_ops! {
    // memory
    "v128.load" [0x00] None (I32) -> (V128) Load(4);
    "v128.load8x8_s" [0x01] None (I32) -> (V128) Load(3);
    "v128.load8x8_u" [0x02] None (I32) -> (V128) Load(3);
    "v128.load16x4_s" [0x03] None (I32) -> (V128) Load(3);
    "v128.load16x4_u" [0x04] None (I32) -> (V128) Load(3);
    "v128.load32x2_s" [0x05] None (I32) -> (V128) Load(3);
    "v128.load32x2_u" [0x06] None (I32) -> (V128) Load(3);
    "v128.load8_splat" [0x07] None (I32) -> (V128) Load(0);
    "v128.load16_splat" [0x08] None (I32) -> (V128) Load(1);
    "v128.load32_splat" [0x09] None (I32) -> (V128) Load(2);
    "v128.load64_splat" [0x0a] None (I32) -> (V128) Load(3);
    "v128.store" [0x0b] None (I32, V128) -> () Store(4);
    "v128.load8_lane" [0x54] Lane16 (I32, V128) -> (V128) Load(0);
    "v128.load16_lane" [0x55] Lane8 (I32, V128) -> (V128) Load(1);
    "v128.load32_lane" [0x56] Lane4 (I32, V128) -> (V128) Load(2);
    "v128.load64_lane" [0x57] Lane2 (I32, V128) -> (V128) Load(3);
    "v128.store8_lane" [0x58] Lane16 (I32, V128) -> () Store(0);
    "v128.store16_lane" [0x59] Lane8 (I32, V128) -> () Store(1);
    "v128.store32_lane" [0x5a] Lane4 (I32, V128) -> () Store(2);
    "v128.store64_lane" [0x5b] Lane2 (I32, V128) -> () Store(3);
    "v128.load32_zero" [0x5c] None (I32) -> (V128) Load(2);
    "v128.load64_zero" [0x5d] None (I32) -> (V128) Load(3);
    // lanes
    "i8x16.shuffle" [0x0d] Shuffle (V128, V128) -> (V128) Bits;
    "i8x16.swizzle" [0x0e] None (V128, V128) -> (V128) Bits;
    "i8x16.splat" [0x0f] None (I32) -> (V128) Bits;
    "i16x8.splat" [0x10] None (I32) -> (V128) Bits;
    "i32x4.splat" [0x11] None (I32) -> (V128) Bits;
    "i64x2.splat" [0x12] None (I64) -> (V128) Bits;
    "f32x4.splat" [0x13] None (F32) -> (V128) Bits;
    "f64x2.splat" [0x14] None (F64) -> (V128) Bits;
    "i8x16.extract_lane_s" [0x15] Lane16 (V128) -> (I32) Bits;
    "i8x16.extract_lane_u" [0x16] Lane16 (V128) -> (I32) Bits;
    "i8x16.replace_lane" [0x17] Lane16 (V128, I32) -> (V128) Bits;
    "i16x8.extract_lane_s" [0x18] Lane8 (V128) -> (I32) Bits;
    "i16x8.extract_lane_u" [0x19] Lane8 (V128) -> (I32) Bits;
    "i16x8.replace_lane" [0x1a] Lane8 (V128, I32) -> (V128) Bits;
    "i32x4.extract_lane" [0x1b] Lane4 (V128) -> (I32) Bits;
    "i32x4.replace_lane" [0x1c] Lane4 (V128, I32) -> (V128) Bits;
    "i64x2.extract_lane" [0x1d] Lane2 (V128) -> (I64) Bits;
    "i64x2.replace_lane" [0x1e] Lane2 (V128, I64) -> (V128) Bits;
    "f32x4.extract_lane" [0x1f] Lane4 (V128) -> (F32) Bits;
    "f32x4.replace_lane" [0x20] Lane4 (V128, F32) -> (V128) Bits;
    "f64x2.extract_lane" [0x21] Lane2 (V128) -> (F64) Bits;
    "f64x2.replace_lane" [0x22] Lane2 (V128, F64) -> (V128) Bits;
    // comparisons
    "i8x16.eq" [0x23] None (V128, V128) -> (V128) Bits;
    "i8x16.ne" [0x24] None (V128, V128) -> (V128) Bits;
    "i8x16.lt_s" [0x25] None (V128, V128) -> (V128) Bits;
    "i8x16.lt_u" [0x26] None (V128, V128) -> (V128) Bits;
    "i8x16.gt_s" [0x27] None (V128, V128) -> (V128) Bits;
    "i8x16.gt_u" [0x28] None (V128, V128) -> (V128) Bits;
    "i8x16.le_s" [0x29] None (V128, V128) -> (V128) Bits;
    "i8x16.le_u" [0x2a] None (V128, V128) -> (V128) Bits;
    "i8x16.ge_s" [0x2b] None (V128, V128) -> (V128) Bits;
    "i8x16.ge_u" [0x2c] None (V128, V128) -> (V128) Bits;
    "i16x8.eq" [0x2d] None (V128, V128) -> (V128) Bits;
    "i16x8.ne" [0x2e] None (V128, V128) -> (V128) Bits;
    "i16x8.lt_s" [0x2f] None (V128, V128) -> (V128) Bits;
    "i16x8.lt_u" [0x30] None (V128, V128) -> (V128) Bits;
    "i16x8.gt_s" [0x31] None (V128, V128) -> (V128) Bits;
    "i16x8.gt_u" [0x32] None (V128, V128) -> (V128) Bits;
    "i16x8.le_s" [0x33] None (V128, V128) -> (V128) Bits;
    "i16x8.le_u" [0x34] None (V128, V128) -> (V128) Bits;
    "i16x8.ge_s" [0x35] None (V128, V128) -> (V128) Bits;
    "i16x8.ge_u" [0x36] None (V128, V128) -> (V128) Bits;
    "i32x4.eq" [0x37] None (V128, V128) -> (V128) Bits;
    "i32x4.ne" [0x38] None (V128, V128) -> (V128) Bits;
    "i32x4.lt_s" [0x39] None (V128, V128) -> (V128) Bits;
    "i32x4.lt_u" [0x3a] None (V128, V128) -> (V128) Bits;
    "i32x4.gt_s" [0x3b] None (V128, V128) -> (V128) Bits;
    "i32x4.gt_u" [0x3c] None (V128, V128) -> (V128) Bits;
    "i32x4.le_s" [0x3d] None (V128, V128) -> (V128) Bits;
    "i32x4.le_u" [0x3e] None (V128, V128) -> (V128) Bits;
    "i32x4.ge_s" [0x3f] None (V128, V128) -> (V128) Bits;
    "i32x4.ge_u" [0x40] None (V128, V128) -> (V128) Bits;
    "f32x4.eq" [0x41] None (V128, V128) -> (V128) Bits;
    "f32x4.ne" [0x42] None (V128, V128) -> (V128) Bits;
    "f32x4.lt" [0x43] None (V128, V128) -> (V128) Bits;
    "f32x4.gt" [0x44] None (V128, V128) -> (V128) Bits;
    "f32x4.le" [0x45] None (V128, V128) -> (V128) Bits;
    "f32x4.ge" [0x46] None (V128, V128) -> (V128) Bits;
    "f64x2.eq" [0x47] None (V128, V128) -> (V128) Bits;
    "f64x2.ne" [0x48] None (V128, V128) -> (V128) Bits;
    "f64x2.lt" [0x49] None (V128, V128) -> (V128) Bits;
    "f64x2.gt" [0x4a] None (V128, V128) -> (V128) Bits;
    "f64x2.le" [0x4b] None (V128, V128) -> (V128) Bits;
    "f64x2.ge" [0x4c] None (V128, V128) -> (V128) Bits;
    "i64x2.eq" [0xd6] None (V128, V128) -> (V128) Bits;
    "i64x2.ne" [0xd7] None (V128, V128) -> (V128) Bits;
    "i64x2.lt_s" [0xd8] None (V128, V128) -> (V128) Bits;
    "i64x2.gt_s" [0xd9] None (V128, V128) -> (V128) Bits;
    "i64x2.le_s" [0xda] None (V128, V128) -> (V128) Bits;
    "i64x2.ge_s" [0xdb] None (V128, V128) -> (V128) Bits;
    // bitwise and reductions
    "v128.not" [0x4d] None (V128) -> (V128) Bits;
    "v128.and" [0x4e] None (V128, V128) -> (V128) Bits;
    "v128.andnot" [0x4f] None (V128, V128) -> (V128) Bits;
    "v128.or" [0x50] None (V128, V128) -> (V128) Bits;
    "v128.xor" [0x51] None (V128, V128) -> (V128) Bits;
    "v128.bitselect" [0x52] None (V128, V128, V128) -> (V128) Bits;
    "v128.any_true" [0x53] None (V128) -> (I32) Bits;
    "i8x16.all_true" [0x63] None (V128) -> (I32) Bits;
    "i8x16.bitmask" [0x64] None (V128) -> (I32) Bits;
    "i16x8.all_true" [0x83] None (V128) -> (I32) Bits;
    "i16x8.bitmask" [0x84] None (V128) -> (I32) Bits;
    "i32x4.all_true" [0xa3] None (V128) -> (I32) Bits;
    "i32x4.bitmask" [0xa4] None (V128) -> (I32) Bits;
    "i64x2.all_true" [0xc3] None (V128) -> (I32) Bits;
    "i64x2.bitmask" [0xc4] None (V128) -> (I32) Bits;
    // integer lane arithmetic
    "i8x16.abs" [0x60] None (V128) -> (V128) Bits;
    "i8x16.neg" [0x61] None (V128) -> (V128) Bits;
    "i8x16.popcnt" [0x62] None (V128) -> (V128) Bits;
    "i8x16.narrow_i16x8_s" [0x65] None (V128, V128) -> (V128) Bits;
    "i8x16.narrow_i16x8_u" [0x66] None (V128, V128) -> (V128) Bits;
    "i8x16.shl" [0x6b] None (V128, I32) -> (V128) Bits;
    "i8x16.shr_s" [0x6c] None (V128, I32) -> (V128) Bits;
    "i8x16.shr_u" [0x6d] None (V128, I32) -> (V128) Bits;
    "i8x16.add" [0x6e] None (V128, V128) -> (V128) Bits;
    "i8x16.add_sat_s" [0x6f] None (V128, V128) -> (V128) Bits;
    "i8x16.add_sat_u" [0x70] None (V128, V128) -> (V128) Bits;
    "i8x16.sub" [0x71] None (V128, V128) -> (V128) Bits;
    "i8x16.sub_sat_s" [0x72] None (V128, V128) -> (V128) Bits;
    "i8x16.sub_sat_u" [0x73] None (V128, V128) -> (V128) Bits;
    "i8x16.min_s" [0x76] None (V128, V128) -> (V128) Bits;
    "i8x16.min_u" [0x77] None (V128, V128) -> (V128) Bits;
    "i8x16.max_s" [0x78] None (V128, V128) -> (V128) Bits;
    "i8x16.max_u" [0x79] None (V128, V128) -> (V128) Bits;
    "i8x16.avgr_u" [0x7b] None (V128, V128) -> (V128) Bits;
    "i16x8.extadd_pairwise_i8x16_s" [0x7c] None (V128) -> (V128) Bits;
    "i16x8.extadd_pairwise_i8x16_u" [0x7d] None (V128) -> (V128) Bits;
    "i32x4.extadd_pairwise_i16x8_s" [0x7e] None (V128) -> (V128) Bits;
    "i32x4.extadd_pairwise_i16x8_u" [0x7f] None (V128) -> (V128) Bits;
    "i16x8.abs" [0x80] None (V128) -> (V128) Bits;
    "i16x8.neg" [0x81] None (V128) -> (V128) Bits;
    "i16x8.q15mulr_sat_s" [0x82] None (V128, V128) -> (V128) Bits;
    "i16x8.narrow_i32x4_s" [0x85] None (V128, V128) -> (V128) Bits;
    "i16x8.narrow_i32x4_u" [0x86] None (V128, V128) -> (V128) Bits;
    "i16x8.extend_low_i8x16_s" [0x87] None (V128) -> (V128) Bits;
    "i16x8.extend_high_i8x16_s" [0x88] None (V128) -> (V128) Bits;
    "i16x8.extend_low_i8x16_u" [0x89] None (V128) -> (V128) Bits;
    "i16x8.extend_high_i8x16_u" [0x8a] None (V128) -> (V128) Bits;
    "i16x8.shl" [0x8b] None (V128, I32) -> (V128) Bits;
    "i16x8.shr_s" [0x8c] None (V128, I32) -> (V128) Bits;
    "i16x8.shr_u" [0x8d] None (V128, I32) -> (V128) Bits;
    "i16x8.add" [0x8e] None (V128, V128) -> (V128) Bits;
    "i16x8.add_sat_s" [0x8f] None (V128, V128) -> (V128) Bits;
    "i16x8.add_sat_u" [0x90] None (V128, V128) -> (V128) Bits;
    "i16x8.sub" [0x91] None (V128, V128) -> (V128) Bits;
    "i16x8.sub_sat_s" [0x92] None (V128, V128) -> (V128) Bits;
    "i16x8.sub_sat_u" [0x93] None (V128, V128) -> (V128) Bits;
    "i16x8.mul" [0x95] None (V128, V128) -> (V128) Bits;
    "i16x8.min_s" [0x96] None (V128, V128) -> (V128) Bits;
    "i16x8.min_u" [0x97] None (V128, V128) -> (V128) Bits;
    "i16x8.max_s" [0x98] None (V128, V128) -> (V128) Bits;
    "i16x8.max_u" [0x99] None (V128, V128) -> (V128) Bits;
    "i16x8.avgr_u" [0x9b] None (V128, V128) -> (V128) Bits;
    "i16x8.extmul_low_i8x16_s" [0x9c] None (V128, V128) -> (V128) Bits;
    "i16x8.extmul_high_i8x16_s" [0x9d] None (V128, V128) -> (V128) Bits;
    "i16x8.extmul_low_i8x16_u" [0x9e] None (V128, V128) -> (V128) Bits;
    "i16x8.extmul_high_i8x16_u" [0x9f] None (V128, V128) -> (V128) Bits;
    "i32x4.abs" [0xa0] None (V128) -> (V128) Bits;
    "i32x4.neg" [0xa1] None (V128) -> (V128) Bits;
    "i32x4.extend_low_i16x8_s" [0xa7] None (V128) -> (V128) Bits;
    "i32x4.extend_high_i16x8_s" [0xa8] None (V128) -> (V128) Bits;
    "i32x4.extend_low_i16x8_u" [0xa9] None (V128) -> (V128) Bits;
    "i32x4.extend_high_i16x8_u" [0xaa] None (V128) -> (V128) Bits;
    "i32x4.shl" [0xab] None (V128, I32) -> (V128) Bits;
    "i32x4.shr_s" [0xac] None (V128, I32) -> (V128) Bits;
    "i32x4.shr_u" [0xad] None (V128, I32) -> (V128) Bits;
    "i32x4.add" [0xae] None (V128, V128) -> (V128) Bits;
    "i32x4.sub" [0xb1] None (V128, V128) -> (V128) Bits;
    "i32x4.mul" [0xb5] None (V128, V128) -> (V128) Bits;
    "i32x4.min_s" [0xb6] None (V128, V128) -> (V128) Bits;
    "i32x4.min_u" [0xb7] None (V128, V128) -> (V128) Bits;
    "i32x4.max_s" [0xb8] None (V128, V128) -> (V128) Bits;
    "i32x4.max_u" [0xb9] None (V128, V128) -> (V128) Bits;
    "i32x4.dot_i16x8_s" [0xba] None (V128, V128) -> (V128) Bits;
    "i32x4.extmul_low_i16x8_s" [0xbc] None (V128, V128) -> (V128) Bits;
    "i32x4.extmul_high_i16x8_s" [0xbd] None (V128, V128) -> (V128) Bits;
    "i32x4.extmul_low_i16x8_u" [0xbe] None (V128, V128) -> (V128) Bits;
    "i32x4.extmul_high_i16x8_u" [0xbf] None (V128, V128) -> (V128) Bits;
    "i64x2.abs" [0xc0] None (V128) -> (V128) Bits;
    "i64x2.neg" [0xc1] None (V128) -> (V128) Bits;
    "i64x2.extend_low_i32x4_s" [0xc7] None (V128) -> (V128) Bits;
    "i64x2.extend_high_i32x4_s" [0xc8] None (V128) -> (V128) Bits;
    "i64x2.extend_low_i32x4_u" [0xc9] None (V128) -> (V128) Bits;
    "i64x2.extend_high_i32x4_u" [0xca] None (V128) -> (V128) Bits;
    "i64x2.shl" [0xcb] None (V128, I32) -> (V128) Bits;
    "i64x2.shr_s" [0xcc] None (V128, I32) -> (V128) Bits;
    "i64x2.shr_u" [0xcd] None (V128, I32) -> (V128) Bits;
    "i64x2.add" [0xce] None (V128, V128) -> (V128) Bits;
    "i64x2.sub" [0xd1] None (V128, V128) -> (V128) Bits;
    "i64x2.mul" [0xd5] None (V128, V128) -> (V128) Bits;
    "i64x2.extmul_low_i32x4_s" [0xdc] None (V128, V128) -> (V128) Bits;
    "i64x2.extmul_high_i32x4_s" [0xdd] None (V128, V128) -> (V128) Bits;
    "i64x2.extmul_low_i32x4_u" [0xde] None (V128, V128) -> (V128) Bits;
    "i64x2.extmul_high_i32x4_u" [0xdf] None (V128, V128) -> (V128) Bits;
    // float lane arithmetic (abs/neg/pmin/pmax are exact bit operations)
    "f32x4.ceil" [0x67] None (V128) -> (V128) A32;
    "f32x4.floor" [0x68] None (V128) -> (V128) A32;
    "f32x4.trunc" [0x69] None (V128) -> (V128) A32;
    "f32x4.nearest" [0x6a] None (V128) -> (V128) A32;
    "f64x2.ceil" [0x74] None (V128) -> (V128) A64;
    "f64x2.floor" [0x75] None (V128) -> (V128) A64;
    "f64x2.trunc" [0x7a] None (V128) -> (V128) A64;
    "f64x2.nearest" [0x94] None (V128) -> (V128) A64;
    "f32x4.abs" [0xe0] None (V128) -> (V128) Bits;
    "f32x4.neg" [0xe1] None (V128) -> (V128) Bits;
    "f32x4.sqrt" [0xe3] None (V128) -> (V128) A32;
    "f32x4.add" [0xe4] None (V128, V128) -> (V128) A32;
    "f32x4.sub" [0xe5] None (V128, V128) -> (V128) A32;
    "f32x4.mul" [0xe6] None (V128, V128) -> (V128) A32;
    "f32x4.div" [0xe7] None (V128, V128) -> (V128) A32;
    "f32x4.min" [0xe8] None (V128, V128) -> (V128) A32;
    "f32x4.max" [0xe9] None (V128, V128) -> (V128) A32;
    "f32x4.pmin" [0xea] None (V128, V128) -> (V128) Bits;
    "f32x4.pmax" [0xeb] None (V128, V128) -> (V128) Bits;
    "f64x2.abs" [0xec] None (V128) -> (V128) Bits;
    "f64x2.neg" [0xed] None (V128) -> (V128) Bits;
    "f64x2.sqrt" [0xef] None (V128) -> (V128) A64;
    "f64x2.add" [0xf0] None (V128, V128) -> (V128) A64;
    "f64x2.sub" [0xf1] None (V128, V128) -> (V128) A64;
    "f64x2.mul" [0xf2] None (V128, V128) -> (V128) A64;
    "f64x2.div" [0xf3] None (V128, V128) -> (V128) A64;
    "f64x2.min" [0xf4] None (V128, V128) -> (V128) A64;
    "f64x2.max" [0xf5] None (V128, V128) -> (V128) A64;
    "f64x2.pmin" [0xf6] None (V128, V128) -> (V128) Bits;
    "f64x2.pmax" [0xf7] None (V128, V128) -> (V128) Bits;
    // conversions
    "f32x4.demote_f64x2_zero" [0x5e] None (V128) -> (V128) VArith(64, 32);
    "f64x2.promote_low_f32x4" [0x5f] None (V128) -> (V128) VArith(32, 64);
    "i32x4.trunc_sat_f32x4_s" [0xf8] None (V128) -> (V128) Bits;
    "i32x4.trunc_sat_f32x4_u" [0xf9] None (V128) -> (V128) Bits;
    "f32x4.convert_i32x4_s" [0xfa] None (V128) -> (V128) Bits;
    "f32x4.convert_i32x4_u" [0xfb] None (V128) -> (V128) Bits;
    "i32x4.trunc_sat_f64x2_s_zero" [0xfc] None (V128) -> (V128) Bits;
    "i32x4.trunc_sat_f64x2_u_zero" [0xfd] None (V128) -> (V128) Bits;
    "f64x2.convert_low_i32x4_s" [0xfe] None (V128) -> (V128) Bits;
    "f64x2.convert_low_i32x4_u" [0xff] None (V128) -> (V128) Bits;
};

/// A v128 operand: one lane shape drawn from the input, each lane a boundary value of that
/// shape (nudged by ±1 now and then) or random bits; sometimes entirely random bits.
pub fn v128_operand(u: &mut Unstructured<'_>) -> Result<DiffValue> {
    if u.ratio(1, 8)? {
        return Ok(DiffValue::V128(u.arbitrary()?));
    }
    let shape = u.int_in_range(0..=5u8)?;
    let (lanes, bits) = match shape {
        0 => (16, 8),
        1 => (8, 16),
        2 | 4 => (4, 32),
        _ => (2, 64),
    };
    let splat = u.ratio(1, 4)?;
    let mut first = None;
    let mut v = 0u128;
    for i in 0..lanes {
        let lane: u64 = match (splat, first) {
            (true, Some(x)) => x,
            _ => {
                let edge = u.ratio(3, 4)?;
                let mut x: u64 = if !edge {
                    u.arbitrary()?
                } else {
                    match shape {
                        0..=2 => *u.choose(I32_EDGES)? as u32 as u64,
                        3 => *u.choose(I64_EDGES)? as u64,
                        4 => *u.choose(F32_EDGES)? as u64,
                        _ => *u.choose(F64_EDGES)?,
                    }
                };
                if edge && u.ratio(1, 6)? {
                    x = if u.arbitrary()? { x.wrapping_add(1) } else { x.wrapping_sub(1) };
                }
                x
            }
        };
        first.get_or_insert(lane);
        let mask = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
        v |= ((lane & mask) as u128) << (i * bits);
    }
    Ok(DiffValue::V128(v))
}

/// Lane index immediate for `Imm::Lane*`, or the 16 shuffle indices (< 32).
pub fn lane_imm(u: &mut Unstructured<'_>, imm: Imm) -> Result<Vec<u8>> {
    Ok(match imm {
        Imm::None => Vec::new(),
        Imm::Lane16 | Imm::Lane8 | Imm::Lane4 | Imm::Lane2 => {
            let n = imm.lanes();
            // The first and last lanes most often: those are the edge cases of the encodings.
            vec![if u.ratio(1, 2)? { *u.choose(&[0, n - 1])? } else { u.int_in_range(0..=n - 1)? }]
        }
        Imm::Shuffle => {
            let pattern = u.int_in_range(0..=3u8)?;
            let base: u8 = u.int_in_range(0..=31)?;
            (0..16u8)
                .map(|i| match pattern {
                    0 => Ok(i),                         // identity of the first operand
                    1 => Ok(base),                      // broadcast one byte
                    2 => Ok((base & 16) + (i ^ (base & 15))), // permutation within one operand
                    _ => u.int_in_range(0..=31),        // anything, both operands mixed
                })
                .collect::<Result<Vec<u8>>>()?
        }
    })
}

/// `bits`-wide float lanes of a value (scalars are one lane).
fn float_lanes(v: &DiffValue, bits: u8) -> Vec<u64> {
    match (*v, bits) {
        (DiffValue::V128(x), 32) => (0..4).map(|i| (x >> (32 * i)) as u32 as u64).collect(),
        (DiffValue::V128(x), _) => (0..2).map(|i| (x >> (64 * i)) as u64).collect(),
        _ => Vec::new(),
    }
}

fn lane_is_nan(x: u64, bits: u8) -> bool {
    if bits == 32 { f32_is_nan(x as u32) } else { f64_is_nan(x) }
}

fn lane_is_canonical_nan(x: u64, bits: u8) -> bool {
    if bits == 32 { x as u32 & 0x007f_ffff == 0x0040_0000 } else { x & 0x000f_ffff_ffff_ffff == 1 << 51 }
}

fn lane_is_quiet(x: u64, bits: u8) -> bool {
    if bits == 32 { x & 0x0040_0000 != 0 } else { x & (1 << 51) != 0 }
}

/// Lane-wise equality of two float-lane v128 results: bitwise, or both lanes NaN.
pub fn lanes_eq(a: &DiffValue, b: &DiffValue, bits: u8) -> bool {
    if !matches!((a, b), (DiffValue::V128(_), DiffValue::V128(_))) {
        return a.bits_eq(b);
    }
    float_lanes(a, bits)
        .into_iter()
        .zip(float_lanes(b, bits))
        .all(|(x, y)| x == y || (lane_is_nan(x, bits) && lane_is_nan(y, bits)))
}

/// The spec's NaN rule, lane by lane: every NaN lane of `result` (`out` bits wide) is an
/// arithmetic NaN, and canonical when every NaN lane of the v128 operands (`inp` bits) is.
pub fn lane_nan_violation(operands: &[DiffValue], result: &DiffValue, inp: u8, out: u8) -> Option<&'static str> {
    let inputs_canonical = operands
        .iter()
        .flat_map(|v| float_lanes(v, inp))
        .all(|x| !lane_is_nan(x, inp) || lane_is_canonical_nan(x, inp));
    for x in float_lanes(result, out) {
        if !lane_is_nan(x, out) {
            continue;
        }
        if !lane_is_quiet(x, out) {
            return Some("a NaN lane is not an arithmetic NaN (quiet bit clear)");
        }
        if inputs_canonical && !lane_is_canonical_nan(x, out) {
            return Some("a NaN lane is not canonical although every NaN operand lane is");
        }
    }
    None
}
