//! `single_inst`: one function wrapping one scalar or SIMD instruction, with boundary operands given
//! either as parameters or as constants (so both the register and the immediate paths of the
//! compiler are exercised), run on wazero and wasmi.

use arbitrary::{Result, Unstructured};
use wazero::ValType;

use super::engines::{compare_call, compare_state, CallVerdict, Failure, WasmiInstance, WazeroInstance};
use super::features;
use super::simd_ops::{lane_imm, lane_nan_violation, lanes_eq, v128_operand, SIMD_OPS};
use super::util::{describe_module, verbose};
use super::value::{f32_is_nan, f64_is_nan, list, DiffValue, F32_EDGES, F64_EDGES, I32_EDGES, I64_EDGES};

/// How results of an instruction are compared.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Float arithmetic: a NaN result may be any arithmetic NaN (wazero's must also follow the
    /// spec's NaN rules); everything else bitwise.
    Arith,
    /// Pure bit operations (integer ops, abs/neg/copysign, reinterpret, select): bitwise.
    Bits,
    /// A load with natural alignment `2^align`: bitwise.
    Load(u8),
    /// A store with natural alignment `2^align`: memory compared byte for byte.
    Store(u8),
    /// `memory.size` / `memory.grow`.
    Memory,
    /// Float lane arithmetic on v128 (`in`/`out` lane bits): lane by lane like `Arith`.
    VArith(u8, u8),
}

/// Immediates after the opcode (and after the memarg, for lane loads/stores).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Imm {
    None,
    /// A lane index of a 16/8/4/2-lane shape.
    Lane16,
    Lane8,
    Lane4,
    Lane2,
    /// `i8x16.shuffle`'s 16 lane indices.
    Shuffle,
}

impl Imm {
    /// Number of lanes a lane index may address.
    pub fn lanes(self) -> u8 {
        match self {
            Imm::Lane16 => 16,
            Imm::Lane8 => 8,
            Imm::Lane4 => 4,
            Imm::Lane2 => 2,
            Imm::None | Imm::Shuffle => 0,
        }
    }
}

/// One instruction: its text name, opcode bytes (memory immediates appended separately),
/// operand and result types.
#[derive(Copy, Clone, Debug)]
pub struct Op {
    pub name: &'static str,
    pub code: &'static [u8],
    /// The LEB-encoded sub-opcode after the `0xfd` prefix of a SIMD instruction.
    pub simd: Option<u32>,
    pub imm: Imm,
    pub params: &'static [ValType],
    pub results: &'static [ValType],
    pub kind: Kind,
}

const I32: ValType = ValType::I32;
const I64: ValType = ValType::I64;
const F32: ValType = ValType::F32;
const F64: ValType = ValType::F64;
const V128: ValType = ValType::V128;

macro_rules! ops {
    ($( $name:literal [$($code:expr),+] ($($p:ident),*) -> ($($r:ident),*) $kind:expr; )*) => {
        &[$( Op { name: $name, code: &[$($code),+], simd: None, imm: Imm::None, params: &[$($p),*], results: &[$($r),*], kind: $kind } ),*]
    };
}

use Kind::*;

/// Every scalar instruction the JIT compiles.
pub const OPS: &[Op] = ops! {
    "i32.eqz" [0x45] (I32) -> (I32) Bits;
    "i32.eq" [0x46] (I32, I32) -> (I32) Bits;
    "i32.ne" [0x47] (I32, I32) -> (I32) Bits;
    "i32.lt_s" [0x48] (I32, I32) -> (I32) Bits;
    "i32.lt_u" [0x49] (I32, I32) -> (I32) Bits;
    "i32.gt_s" [0x4a] (I32, I32) -> (I32) Bits;
    "i32.gt_u" [0x4b] (I32, I32) -> (I32) Bits;
    "i32.le_s" [0x4c] (I32, I32) -> (I32) Bits;
    "i32.le_u" [0x4d] (I32, I32) -> (I32) Bits;
    "i32.ge_s" [0x4e] (I32, I32) -> (I32) Bits;
    "i32.ge_u" [0x4f] (I32, I32) -> (I32) Bits;
    "i64.eqz" [0x50] (I64) -> (I32) Bits;
    "i64.eq" [0x51] (I64, I64) -> (I32) Bits;
    "i64.ne" [0x52] (I64, I64) -> (I32) Bits;
    "i64.lt_s" [0x53] (I64, I64) -> (I32) Bits;
    "i64.lt_u" [0x54] (I64, I64) -> (I32) Bits;
    "i64.gt_s" [0x55] (I64, I64) -> (I32) Bits;
    "i64.gt_u" [0x56] (I64, I64) -> (I32) Bits;
    "i64.le_s" [0x57] (I64, I64) -> (I32) Bits;
    "i64.le_u" [0x58] (I64, I64) -> (I32) Bits;
    "i64.ge_s" [0x59] (I64, I64) -> (I32) Bits;
    "i64.ge_u" [0x5a] (I64, I64) -> (I32) Bits;
    "f32.eq" [0x5b] (F32, F32) -> (I32) Bits;
    "f32.ne" [0x5c] (F32, F32) -> (I32) Bits;
    "f32.lt" [0x5d] (F32, F32) -> (I32) Bits;
    "f32.gt" [0x5e] (F32, F32) -> (I32) Bits;
    "f32.le" [0x5f] (F32, F32) -> (I32) Bits;
    "f32.ge" [0x60] (F32, F32) -> (I32) Bits;
    "f64.eq" [0x61] (F64, F64) -> (I32) Bits;
    "f64.ne" [0x62] (F64, F64) -> (I32) Bits;
    "f64.lt" [0x63] (F64, F64) -> (I32) Bits;
    "f64.gt" [0x64] (F64, F64) -> (I32) Bits;
    "f64.le" [0x65] (F64, F64) -> (I32) Bits;
    "f64.ge" [0x66] (F64, F64) -> (I32) Bits;
    "i32.clz" [0x67] (I32) -> (I32) Bits;
    "i32.ctz" [0x68] (I32) -> (I32) Bits;
    "i32.popcnt" [0x69] (I32) -> (I32) Bits;
    "i32.add" [0x6a] (I32, I32) -> (I32) Bits;
    "i32.sub" [0x6b] (I32, I32) -> (I32) Bits;
    "i32.mul" [0x6c] (I32, I32) -> (I32) Bits;
    "i32.div_s" [0x6d] (I32, I32) -> (I32) Bits;
    "i32.div_u" [0x6e] (I32, I32) -> (I32) Bits;
    "i32.rem_s" [0x6f] (I32, I32) -> (I32) Bits;
    "i32.rem_u" [0x70] (I32, I32) -> (I32) Bits;
    "i32.and" [0x71] (I32, I32) -> (I32) Bits;
    "i32.or" [0x72] (I32, I32) -> (I32) Bits;
    "i32.xor" [0x73] (I32, I32) -> (I32) Bits;
    "i32.shl" [0x74] (I32, I32) -> (I32) Bits;
    "i32.shr_s" [0x75] (I32, I32) -> (I32) Bits;
    "i32.shr_u" [0x76] (I32, I32) -> (I32) Bits;
    "i32.rotl" [0x77] (I32, I32) -> (I32) Bits;
    "i32.rotr" [0x78] (I32, I32) -> (I32) Bits;
    "i64.clz" [0x79] (I64) -> (I64) Bits;
    "i64.ctz" [0x7a] (I64) -> (I64) Bits;
    "i64.popcnt" [0x7b] (I64) -> (I64) Bits;
    "i64.add" [0x7c] (I64, I64) -> (I64) Bits;
    "i64.sub" [0x7d] (I64, I64) -> (I64) Bits;
    "i64.mul" [0x7e] (I64, I64) -> (I64) Bits;
    "i64.div_s" [0x7f] (I64, I64) -> (I64) Bits;
    "i64.div_u" [0x80] (I64, I64) -> (I64) Bits;
    "i64.rem_s" [0x81] (I64, I64) -> (I64) Bits;
    "i64.rem_u" [0x82] (I64, I64) -> (I64) Bits;
    "i64.and" [0x83] (I64, I64) -> (I64) Bits;
    "i64.or" [0x84] (I64, I64) -> (I64) Bits;
    "i64.xor" [0x85] (I64, I64) -> (I64) Bits;
    "i64.shl" [0x86] (I64, I64) -> (I64) Bits;
    "i64.shr_s" [0x87] (I64, I64) -> (I64) Bits;
    "i64.shr_u" [0x88] (I64, I64) -> (I64) Bits;
    "i64.rotl" [0x89] (I64, I64) -> (I64) Bits;
    "i64.rotr" [0x8a] (I64, I64) -> (I64) Bits;
    "f32.abs" [0x8b] (F32) -> (F32) Bits;
    "f32.neg" [0x8c] (F32) -> (F32) Bits;
    "f32.ceil" [0x8d] (F32) -> (F32) Arith;
    "f32.floor" [0x8e] (F32) -> (F32) Arith;
    "f32.trunc" [0x8f] (F32) -> (F32) Arith;
    "f32.nearest" [0x90] (F32) -> (F32) Arith;
    "f32.sqrt" [0x91] (F32) -> (F32) Arith;
    "f32.add" [0x92] (F32, F32) -> (F32) Arith;
    "f32.sub" [0x93] (F32, F32) -> (F32) Arith;
    "f32.mul" [0x94] (F32, F32) -> (F32) Arith;
    "f32.div" [0x95] (F32, F32) -> (F32) Arith;
    "f32.min" [0x96] (F32, F32) -> (F32) Arith;
    "f32.max" [0x97] (F32, F32) -> (F32) Arith;
    "f32.copysign" [0x98] (F32, F32) -> (F32) Bits;
    "f64.abs" [0x99] (F64) -> (F64) Bits;
    "f64.neg" [0x9a] (F64) -> (F64) Bits;
    "f64.ceil" [0x9b] (F64) -> (F64) Arith;
    "f64.floor" [0x9c] (F64) -> (F64) Arith;
    "f64.trunc" [0x9d] (F64) -> (F64) Arith;
    "f64.nearest" [0x9e] (F64) -> (F64) Arith;
    "f64.sqrt" [0x9f] (F64) -> (F64) Arith;
    "f64.add" [0xa0] (F64, F64) -> (F64) Arith;
    "f64.sub" [0xa1] (F64, F64) -> (F64) Arith;
    "f64.mul" [0xa2] (F64, F64) -> (F64) Arith;
    "f64.div" [0xa3] (F64, F64) -> (F64) Arith;
    "f64.min" [0xa4] (F64, F64) -> (F64) Arith;
    "f64.max" [0xa5] (F64, F64) -> (F64) Arith;
    "f64.copysign" [0xa6] (F64, F64) -> (F64) Bits;
    "i32.wrap_i64" [0xa7] (I64) -> (I32) Bits;
    "i32.trunc_f32_s" [0xa8] (F32) -> (I32) Arith;
    "i32.trunc_f32_u" [0xa9] (F32) -> (I32) Arith;
    "i32.trunc_f64_s" [0xaa] (F64) -> (I32) Arith;
    "i32.trunc_f64_u" [0xab] (F64) -> (I32) Arith;
    "i64.extend_i32_s" [0xac] (I32) -> (I64) Bits;
    "i64.extend_i32_u" [0xad] (I32) -> (I64) Bits;
    "i64.trunc_f32_s" [0xae] (F32) -> (I64) Arith;
    "i64.trunc_f32_u" [0xaf] (F32) -> (I64) Arith;
    "i64.trunc_f64_s" [0xb0] (F64) -> (I64) Arith;
    "i64.trunc_f64_u" [0xb1] (F64) -> (I64) Arith;
    "f32.convert_i32_s" [0xb2] (I32) -> (F32) Arith;
    "f32.convert_i32_u" [0xb3] (I32) -> (F32) Arith;
    "f32.convert_i64_s" [0xb4] (I64) -> (F32) Arith;
    "f32.convert_i64_u" [0xb5] (I64) -> (F32) Arith;
    "f32.demote_f64" [0xb6] (F64) -> (F32) Arith;
    "f64.convert_i32_s" [0xb7] (I32) -> (F64) Arith;
    "f64.convert_i32_u" [0xb8] (I32) -> (F64) Arith;
    "f64.convert_i64_s" [0xb9] (I64) -> (F64) Arith;
    "f64.convert_i64_u" [0xba] (I64) -> (F64) Arith;
    "f64.promote_f32" [0xbb] (F32) -> (F64) Arith;
    "i32.reinterpret_f32" [0xbc] (F32) -> (I32) Bits;
    "i64.reinterpret_f64" [0xbd] (F64) -> (I64) Bits;
    "f32.reinterpret_i32" [0xbe] (I32) -> (F32) Bits;
    "f64.reinterpret_i64" [0xbf] (I64) -> (F64) Bits;
    "i32.extend8_s" [0xc0] (I32) -> (I32) Bits;
    "i32.extend16_s" [0xc1] (I32) -> (I32) Bits;
    "i64.extend8_s" [0xc2] (I64) -> (I64) Bits;
    "i64.extend16_s" [0xc3] (I64) -> (I64) Bits;
    "i64.extend32_s" [0xc4] (I64) -> (I64) Bits;
    "i32.trunc_sat_f32_s" [0xfc, 0] (F32) -> (I32) Bits;
    "i32.trunc_sat_f32_u" [0xfc, 1] (F32) -> (I32) Bits;
    "i32.trunc_sat_f64_s" [0xfc, 2] (F64) -> (I32) Bits;
    "i32.trunc_sat_f64_u" [0xfc, 3] (F64) -> (I32) Bits;
    "i64.trunc_sat_f32_s" [0xfc, 4] (F32) -> (I64) Bits;
    "i64.trunc_sat_f32_u" [0xfc, 5] (F32) -> (I64) Bits;
    "i64.trunc_sat_f64_s" [0xfc, 6] (F64) -> (I64) Bits;
    "i64.trunc_sat_f64_u" [0xfc, 7] (F64) -> (I64) Bits;
    "i32.load" [0x28] (I32) -> (I32) Load(2);
    "i64.load" [0x29] (I32) -> (I64) Load(3);
    "f32.load" [0x2a] (I32) -> (F32) Load(2);
    "f64.load" [0x2b] (I32) -> (F64) Load(3);
    "i32.load8_s" [0x2c] (I32) -> (I32) Load(0);
    "i32.load8_u" [0x2d] (I32) -> (I32) Load(0);
    "i32.load16_s" [0x2e] (I32) -> (I32) Load(1);
    "i32.load16_u" [0x2f] (I32) -> (I32) Load(1);
    "i64.load8_s" [0x30] (I32) -> (I64) Load(0);
    "i64.load8_u" [0x31] (I32) -> (I64) Load(0);
    "i64.load16_s" [0x32] (I32) -> (I64) Load(1);
    "i64.load16_u" [0x33] (I32) -> (I64) Load(1);
    "i64.load32_s" [0x34] (I32) -> (I64) Load(2);
    "i64.load32_u" [0x35] (I32) -> (I64) Load(2);
    "i32.store" [0x36] (I32, I32) -> () Store(2);
    "i64.store" [0x37] (I32, I64) -> () Store(3);
    "f32.store" [0x38] (I32, F32) -> () Store(2);
    "f64.store" [0x39] (I32, F64) -> () Store(3);
    "i32.store8" [0x3a] (I32, I32) -> () Store(0);
    "i32.store16" [0x3b] (I32, I32) -> () Store(1);
    "i64.store8" [0x3c] (I32, I64) -> () Store(0);
    "i64.store16" [0x3d] (I32, I64) -> () Store(1);
    "i64.store32" [0x3e] (I32, I64) -> () Store(2);
    "memory.size" [0x3f, 0x00] () -> (I32) Memory;
    "memory.grow" [0x40, 0x00] (I32) -> (I32) Memory;
    "select i32" [0x1b] (I32, I32, I32) -> (I32) Bits;
    "select i64" [0x1b] (I64, I64, I32) -> (I64) Bits;
    "select f32" [0x1b] (F32, F32, I32) -> (F32) Bits;
    "select f64" [0x1b] (F64, F64, I32) -> (F64) Bits;
    "select v128" [0x1b] (V128, V128, I32) -> (V128) Bits;
};

/// memarg offsets around 0, the end of the first page and the end of the 32-bit space.
const OFFSETS: &[u32] = &[
    0, 1, 2, 3, 4, 7, 8, 16, 255, 256, 4096, 65520, 65528, 65532, 65534, 65535, 65536, 65537,
    0x7fff_ffff, 0x8000_0000, 0xffff_fff0, 0xffff_fffc, 0xffff_ffff,
];

/// One generated case.
#[derive(Clone, Debug)]
pub struct Case {
    pub op: Op,
    /// Operand values, in stack order.
    pub operands: Vec<DiffValue>,
    /// Which operands are constants in the code (the others are function parameters).
    pub is_const: Vec<bool>,
    /// memarg (alignment exponent, offset) for loads and stores.
    pub memarg: Option<(u8, u32)>,
    /// Lane index or shuffle immediates (after the memarg).
    pub lanes: Vec<u8>,
    /// Initial bytes at offset 0 and at the last 16 bytes of the page.
    pub data_lo: [u8; 16],
    pub data_hi: [u8; 16],
}

impl Case {
    pub fn arbitrary(u: &mut Unstructured<'_>) -> Result<Case> {
        let simd = features::supported().simd;
        // SIMD ops get about as many cases as the scalar ones (they are about as many).
        let op = if simd && u.arbitrary()? { *u.choose(SIMD_OPS)? } else { *u.choose(OPS)? };
        if !simd && op.params.iter().chain(op.results).any(|&t| t == V128) {
            return Err(arbitrary::Error::IncorrectFormat);
        }
        let mut operands = Vec::new();
        let mut is_const = Vec::new();
        for &t in op.params {
            operands.push(operand(u, t)?);
            is_const.push(u.ratio(1, 3)?);
        }
        let memarg = match op.kind {
            Load(a) | Store(a) => {
                let align = u.int_in_range(0..=a)?;
                let offset = if u.ratio(3, 4)? { *u.choose(OFFSETS)? } else { u.arbitrary()? };
                Some((align, offset))
            }
            _ => None,
        };
        let lanes = lane_imm(u, op.imm)?;
        Ok(Case { op, operands, is_const, memarg, lanes, data_lo: u.arbitrary()?, data_hi: u.arbitrary()? })
    }

    /// Arguments of the call (the non-constant operands).
    pub fn args(&self) -> Vec<DiffValue> {
        self.operands.iter().zip(&self.is_const).filter(|(_, &c)| !c).map(|(v, _)| *v).collect()
    }

    /// `(module (memory 1 2) (data ...) (func (export "f") ... op ...) (export "mem" (memory 0)))`
    pub fn module(&self) -> Vec<u8> {
        let params: Vec<ValType> = self.args().iter().map(|v| v.ty()).collect();
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        // type section
        let mut s = vec![1, 0x60];
        vec_of_types(&mut s, &params);
        vec_of_types(&mut s, self.op.results);
        section(&mut m, 1, &s);
        section(&mut m, 3, &[1, 0]);
        section(&mut m, 5, &[1, 0x01, 1, 2]); // memory: min 1, max 2 pages
        let mut s = vec![2];
        s.extend_from_slice(&[1, b'f', 0x00, 0]);
        s.extend_from_slice(&[3, b'm', b'e', b'm', 0x02, 0]);
        section(&mut m, 7, &s);
        // code section
        let mut body = vec![0]; // no locals
        let mut param = 0u32;
        for (v, &c) in self.operands.iter().zip(&self.is_const) {
            if c {
                push_const(&mut body, v);
            } else {
                body.push(0x20);
                leb_u(&mut body, param as u64);
                param += 1;
            }
        }
        body.extend_from_slice(self.op.code);
        if let Some(sub) = self.op.simd {
            leb_u(&mut body, sub as u64);
        }
        if let Some((align, offset)) = self.memarg {
            body.push(align);
            leb_u(&mut body, offset as u64);
        }
        body.extend_from_slice(&self.lanes);
        body.push(0x0b);
        let mut s = vec![1];
        leb_u(&mut s, body.len() as u64);
        s.extend_from_slice(&body);
        section(&mut m, 10, &s);
        // data section: 16 bytes at 0 and 16 bytes at 65520
        let mut s = vec![2];
        for (off, bytes) in [(0i64, &self.data_lo), (65520, &self.data_hi)] {
            s.extend_from_slice(&[0, 0x41]);
            leb_s(&mut s, off);
            s.extend_from_slice(&[0x0b, 16]);
            s.extend_from_slice(bytes);
        }
        section(&mut m, 11, &s);
        m
    }

    pub fn describe(&self) -> String {
        let ops: Vec<String> = self
            .operands
            .iter()
            .zip(&self.is_const)
            .map(|(v, &c)| format!("{}{v}", if c { "const " } else { "param " }))
            .collect();
        let memarg = self.memarg.map_or(String::new(), |(a, o)| format!(" align=2^{a} offset={o:#x}"));
        let lanes = if self.lanes.is_empty() { String::new() } else { format!(" lanes {:?}", self.lanes) };
        format!("`{}`{memarg}{lanes} operands [{}]", self.op.name, ops.join(", "))
    }
}

fn operand(u: &mut Unstructured<'_>, t: ValType) -> Result<DiffValue> {
    let edge = u.ratio(3, 4)?;
    Ok(match t {
        ValType::I32 => DiffValue::I32(if edge { *u.choose(I32_EDGES)? } else { u.arbitrary()? }),
        ValType::I64 => DiffValue::I64(if edge { *u.choose(I64_EDGES)? } else { u.arbitrary()? }),
        ValType::F32 => {
            let mut b: u32 = if edge { *u.choose(F32_EDGES)? } else { u.arbitrary()? };
            if edge && u.ratio(1, 4)? {
                b = if u.arbitrary()? { b.wrapping_add(1) } else { b.wrapping_sub(1) };
            }
            DiffValue::F32(b)
        }
        ValType::F64 => {
            let mut b: u64 = if edge { *u.choose(F64_EDGES)? } else { u.arbitrary()? };
            if edge && u.ratio(1, 4)? {
                b = if u.arbitrary()? { b.wrapping_add(1) } else { b.wrapping_sub(1) };
            }
            DiffValue::F64(b)
        }
        ValType::V128 => v128_operand(u)?,
        _ => unreachable!("single_inst only uses numeric and vector types"),
    })
}

fn section(m: &mut Vec<u8>, id: u8, payload: &[u8]) {
    m.push(id);
    leb_u(m, payload.len() as u64);
    m.extend_from_slice(payload);
}

fn leb_u(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn leb_s(out: &mut Vec<u8>, mut v: i64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        let done = (v == 0 && b & 0x40 == 0) || (v == -1 && b & 0x40 != 0);
        if done {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn type_byte(t: ValType) -> u8 {
    match t {
        ValType::I32 => 0x7f,
        ValType::I64 => 0x7e,
        ValType::F32 => 0x7d,
        ValType::F64 => 0x7c,
        ValType::V128 => 0x7b,
        ValType::FuncRef => 0x70,
        ValType::ExternRef => 0x6f,
    }
}

fn vec_of_types(out: &mut Vec<u8>, ts: &[ValType]) {
    leb_u(out, ts.len() as u64);
    out.extend(ts.iter().map(|&t| type_byte(t)));
}

fn push_const(out: &mut Vec<u8>, v: &DiffValue) {
    match *v {
        DiffValue::I32(x) => {
            out.push(0x41);
            leb_s(out, x as i64);
        }
        DiffValue::I64(x) => {
            out.push(0x42);
            leb_s(out, x);
        }
        DiffValue::F32(b) => {
            out.push(0x43);
            out.extend_from_slice(&b.to_le_bytes());
        }
        DiffValue::F64(b) => {
            out.push(0x44);
            out.extend_from_slice(&b.to_le_bytes());
        }
        DiffValue::V128(x) => {
            out.extend_from_slice(&[0xfd, 0x0c]); // v128.const
            out.extend_from_slice(&x.to_le_bytes());
        }
        _ => unreachable!("single_inst only uses numeric and vector constants"),
    }
}

/// The spec's NaN rule for float arithmetic: a NaN result is an arithmetic NaN (quiet bit
/// set), and a canonical NaN when every NaN operand is canonical.
fn nan_rule_violation(operands: &[DiffValue], result: &DiffValue) -> Option<&'static str> {
    let (quiet, canonical) = match *result {
        DiffValue::F32(b) if f32_is_nan(b) => (b & 0x0040_0000 != 0, b & 0x007f_ffff == 0x0040_0000),
        DiffValue::F64(b) if f64_is_nan(b) => {
            (b & (1 << 51) != 0, b & 0x000f_ffff_ffff_ffff == 1 << 51)
        }
        _ => return None,
    };
    let inputs_canonical = operands.iter().all(|v| match *v {
        DiffValue::F32(b) => !f32_is_nan(b) || b & 0x007f_ffff == 0x0040_0000,
        DiffValue::F64(b) => !f64_is_nan(b) || b & 0x000f_ffff_ffff_ffff == 1 << 51,
        _ => true,
    });
    if !quiet {
        Some("NaN result is not an arithmetic NaN (quiet bit clear)")
    } else if inputs_canonical && !canonical {
        Some("NaN result is not canonical although every NaN operand is")
    } else {
        None
    }
}

/// libFuzzer entry point.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let _ = check(&mut u);
}

/// One or more single-instruction cases drawn from the input.
pub fn check(u: &mut Unstructured<'_>) -> Result<()> {
    // A few cases per input: cheaper per exec, and libFuzzer still minimises to one.
    loop {
        let case = Case::arbitrary(u)?;
        check_case(&case);
        if u.is_empty() || !u.arbitrary::<bool>()? {
            return Ok(());
        }
    }
}

/// Runs one case on both engines; panics on any divergence.
pub fn check_case(case: &Case) {
    let wasm = case.module();
    let fail = |what: String| -> ! {
        panic!("single_inst: {}: {what}\n{}", case.describe(), describe_module(&wasm))
    };
    let wz_module = match wazero::Module::new(&wasm) {
        Ok(m) => m,
        Err(e) => fail(format!("wazero rejected the module: {e}")),
    };
    let engine = WasmiInstance::engine(&features::supported());
    let wi_module = WasmiInstance::compile(&engine, &wasm).unwrap_or_else(|e| fail(format!("wasmi rejected the module: {e}")));
    let wz = WazeroInstance::new(&wz_module).unwrap_or_else(|e| fail(format!("wazero instantiation failed: {e}")));
    let mut wi = WasmiInstance::new(&engine, &wi_module).unwrap_or_else(|e| fail(format!("wasmi instantiation failed: {e}")));
    let args = case.args();
    let a = wz.call("f", &args);
    let b = wi.call("f", &args);
    if verbose() {
        eprintln!("{}: wazero {} / wasmi {}", case.describe(), super::engines::show(&a), super::engines::show(&b));
    }
    if let Err(Failure::Error(e)) = &a {
        fail(format!("wazero call error: {e}"));
    }
    let kind = case.op.kind;
    let eq = |_: usize, x: &DiffValue, y: &DiffValue| match kind {
        Arith => x == y,
        VArith(_, out) => lanes_eq(x, y, out),
        _ => x.bits_eq(y),
    };
    match compare_call(&a, &b, &eq) {
        Ok(CallVerdict::Same) | Ok(CallVerdict::Stop) => {}
        Err(d) => fail(d),
    }
    if let Ok(results) = &a {
        for r in results {
            let violation = match kind {
                Arith => nan_rule_violation(&case.operands, r),
                VArith(inp, out) => lane_nan_violation(&case.operands, r, inp, out),
                _ => None,
            };
            if let Some(v) = violation {
                fail(format!("wazero result {r}: {v}"));
            }
        }
    }
    if let Err(d) = compare_state(&wz, &wi) {
        fail(format!("after the call with args {}: {d}", list(&args)));
    }
}
