//! The ISA-neutral interface for fixed-width SIMD (v128), separate from
//! [`MacroAssembler`](crate::compiler::masm::MacroAssembler) so that a backend without SIMD
//! support needs no code: [`MacroAssembler::simd`](crate::compiler::masm::MacroAssembler::simd)
//! returns `None` by default and the frontend then reports "unsupported: SIMD on this ISA".
//!
//! v128 values live in `Float`-class registers and take 16 bytes (two slots) in memory.
//! Lane-wise operations are named after the Wasm instruction they implement ([`VOp`]): the
//! frontend maps operators and picks operands, the backend selects instructions. A backend
//! may still reject an operation (`Err(reason)`), which becomes a compile error.

use wasmparser::Operator;

use crate::compiler::masm::{Addr, Reg};

/// Lane shape of an operation.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Shape {
    I8x16,
    I16x8,
    I32x4,
    I64x2,
    F32x4,
    F64x2,
}

impl Shape {
    pub fn lane_bits(self) -> u32 {
        match self {
            Shape::I8x16 => 8,
            Shape::I16x8 => 16,
            Shape::I32x4 | Shape::F32x4 => 32,
            Shape::I64x2 | Shape::F64x2 => 64,
        }
    }
}

/// How a `v128.load*` fills the register.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum VLoad {
    /// All 16 bytes.
    Full,
    /// `v128.loadN_splat`: one lane of `bits` bits copied to every lane.
    Splat(u32),
    /// `v128.load8x8_s` etc.: 8 bytes, each lane of `bits` bits extended to twice its width.
    Extend { bits: u32, signed: bool },
    /// `v128.load32_zero` / `v128.load64_zero`.
    Zero(u32),
}

impl VLoad {
    /// Bytes read from memory.
    pub fn bytes(self) -> u32 {
        match self {
            VLoad::Full => 16,
            VLoad::Splat(b) | VLoad::Zero(b) => b / 8,
            VLoad::Extend { .. } => 8,
        }
    }
}

/// Lane shifts: `(v128, i32) -> v128`, count modulo the lane width.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum VShift {
    Shl,
    ShrS,
    ShrU,
}

/// Reductions of a v128 to an i32.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum VTest {
    AnyTrue,
    AllTrue(Shape),
    Bitmask(Shape),
}

/// Arity of a lane-wise [`VOp`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Arity {
    Unary,
    Binary,
}

macro_rules! vops {
    (binary: $($b:ident),* ; unary: $($u:ident),* $(;)?) => {
        /// Lane-wise v128 operations, named after their `wasmparser::Operator`.
        #[derive(Copy, Clone, Debug, PartialEq, Eq)]
        pub enum VOp { $($b,)* $($u,)* }

        /// The lane-wise operation of a Wasm operator, with its arity.
        pub fn lanewise(op: &Operator<'_>) -> Option<(VOp, Arity)> {
            match op {
                $(Operator::$b => Some((VOp::$b, Arity::Binary)),)*
                $(Operator::$u => Some((VOp::$u, Arity::Unary)),)*
                _ => None,
            }
        }
    };
}

vops! {
    binary:
    I8x16Swizzle,
    I8x16Eq, I8x16Ne, I8x16LtS, I8x16LtU, I8x16GtS, I8x16GtU, I8x16LeS, I8x16LeU, I8x16GeS, I8x16GeU,
    I16x8Eq, I16x8Ne, I16x8LtS, I16x8LtU, I16x8GtS, I16x8GtU, I16x8LeS, I16x8LeU, I16x8GeS, I16x8GeU,
    I32x4Eq, I32x4Ne, I32x4LtS, I32x4LtU, I32x4GtS, I32x4GtU, I32x4LeS, I32x4LeU, I32x4GeS, I32x4GeU,
    I64x2Eq, I64x2Ne, I64x2LtS, I64x2GtS, I64x2LeS, I64x2GeS,
    F32x4Eq, F32x4Ne, F32x4Lt, F32x4Gt, F32x4Le, F32x4Ge,
    F64x2Eq, F64x2Ne, F64x2Lt, F64x2Gt, F64x2Le, F64x2Ge,
    V128And, V128AndNot, V128Or, V128Xor,
    I8x16NarrowI16x8S, I8x16NarrowI16x8U,
    I8x16Add, I8x16AddSatS, I8x16AddSatU, I8x16Sub, I8x16SubSatS, I8x16SubSatU,
    I8x16MinS, I8x16MinU, I8x16MaxS, I8x16MaxU, I8x16AvgrU,
    I16x8NarrowI32x4S, I16x8NarrowI32x4U, I16x8Q15MulrSatS,
    I16x8Add, I16x8AddSatS, I16x8AddSatU, I16x8Sub, I16x8SubSatS, I16x8SubSatU, I16x8Mul,
    I16x8MinS, I16x8MinU, I16x8MaxS, I16x8MaxU, I16x8AvgrU,
    I16x8ExtMulLowI8x16S, I16x8ExtMulHighI8x16S, I16x8ExtMulLowI8x16U, I16x8ExtMulHighI8x16U,
    I32x4Add, I32x4Sub, I32x4Mul, I32x4MinS, I32x4MinU, I32x4MaxS, I32x4MaxU, I32x4DotI16x8S,
    I32x4ExtMulLowI16x8S, I32x4ExtMulHighI16x8S, I32x4ExtMulLowI16x8U, I32x4ExtMulHighI16x8U,
    I64x2Add, I64x2Sub, I64x2Mul,
    I64x2ExtMulLowI32x4S, I64x2ExtMulHighI32x4S, I64x2ExtMulLowI32x4U, I64x2ExtMulHighI32x4U,
    F32x4Add, F32x4Sub, F32x4Mul, F32x4Div, F32x4Min, F32x4Max, F32x4PMin, F32x4PMax,
    F64x2Add, F64x2Sub, F64x2Mul, F64x2Div, F64x2Min, F64x2Max, F64x2PMin, F64x2PMax;
    unary:
    V128Not, I8x16Abs, I8x16Neg, I8x16Popcnt,
    I16x8ExtAddPairwiseI8x16S, I16x8ExtAddPairwiseI8x16U,
    I32x4ExtAddPairwiseI16x8S, I32x4ExtAddPairwiseI16x8U,
    I16x8Abs, I16x8Neg,
    I16x8ExtendLowI8x16S, I16x8ExtendHighI8x16S, I16x8ExtendLowI8x16U, I16x8ExtendHighI8x16U,
    I32x4Abs, I32x4Neg,
    I32x4ExtendLowI16x8S, I32x4ExtendHighI16x8S, I32x4ExtendLowI16x8U, I32x4ExtendHighI16x8U,
    I64x2Abs, I64x2Neg,
    I64x2ExtendLowI32x4S, I64x2ExtendHighI32x4S, I64x2ExtendLowI32x4U, I64x2ExtendHighI32x4U,
    F32x4Ceil, F32x4Floor, F32x4Trunc, F32x4Nearest, F32x4Abs, F32x4Neg, F32x4Sqrt,
    F64x2Ceil, F64x2Floor, F64x2Trunc, F64x2Nearest, F64x2Abs, F64x2Neg, F64x2Sqrt,
    I32x4TruncSatF32x4S, I32x4TruncSatF32x4U, F32x4ConvertI32x4S, F32x4ConvertI32x4U,
    I32x4TruncSatF64x2SZero, I32x4TruncSatF64x2UZero, F64x2ConvertLowI32x4S, F64x2ConvertLowI32x4U,
    F32x4DemoteF64x2Zero, F64x2PromoteLowF32x4;
}

/// Result of a backend operation: `Err(reason)` when it cannot (yet) emit it.
pub type VResult = std::result::Result<(), &'static str>;

/// Vector operations of a backend. `tmp` arguments are spare vector registers the backend
/// may clobber; every other register is preserved unless it is a destination.
pub trait SimdMasm {
    /// `dst = 16 bytes at addr` (no alignment required).
    fn v128_load(&mut self, dst: Reg, addr: Addr);
    fn v128_store(&mut self, addr: Addr, src: Reg);
    /// Materialises a constant without changing the flags.
    fn v128_const(&mut self, dst: Reg, bits: u128);
    /// Linear-memory loads other than the plain one.
    fn load(&mut self, kind: VLoad, dst: Reg, addr: Addr) -> VResult;
    /// `v128.loadN_lane`: replaces lane `lane` of `dst` with `bits` bits at `addr`.
    fn load_lane(&mut self, bits: u32, lane: u8, dst: Reg, addr: Addr) -> VResult;
    /// `v128.storeN_lane`.
    fn store_lane(&mut self, bits: u32, lane: u8, addr: Addr, src: Reg) -> VResult;
    /// `dst = splat(src)`; `src` is an integer register (zero-extended i32 or i64) for
    /// integer shapes, a float register for float shapes. May clobber `src`.
    fn splat(&mut self, shape: Shape, dst: Reg, src: Reg) -> VResult;
    /// `dst = src[lane]` (`signed` for the `_s` extracts of narrow lanes).
    fn extract_lane(&mut self, shape: Shape, signed: bool, lane: u8, dst: Reg, src: Reg)
        -> VResult;
    /// `dst[lane] = value`.
    fn replace_lane(&mut self, shape: Shape, lane: u8, dst: Reg, value: Reg) -> VResult;
    /// `dst = shuffle(dst, rhs, lanes)`.
    fn shuffle(&mut self, dst: Reg, rhs: Reg, lanes: [u8; 16], tmp: Reg) -> VResult;
    /// `dst = (dst & mask) | (other & !mask)` (v128.bitselect with dst = first operand).
    fn bitselect(&mut self, dst: Reg, other: Reg, mask: Reg, tmp: Reg) -> VResult;
    /// `dst op= rhs`.
    fn binary(&mut self, op: VOp, dst: Reg, rhs: Reg, tmp: Reg) -> VResult;
    /// `dst = op(dst)`.
    fn unary(&mut self, op: VOp, dst: Reg, tmp: Reg) -> VResult;
    /// `dst <<= count` etc.; `count` is an integer register the backend may clobber.
    fn shift(&mut self, op: VShift, shape: Shape, dst: Reg, count: Reg, tmp: Reg) -> VResult;
    /// `dst` (integer register) = the i32 reduction of `src`.
    fn test(&mut self, op: VTest, dst: Reg, src: Reg, tmp: Reg) -> VResult;
}
