//! Values compared across engines.

use std::fmt;

use arbitrary::{Result, Unstructured};
use wazero::ValType;

/// A Wasm value in an engine-neutral form. Floats are raw bits.
#[derive(Copy, Clone, Debug)]
pub enum DiffValue {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    FuncRef { null: bool },
    ExternRef { null: bool },
}

pub const F32_CANON_NAN: u32 = 0x7fc0_0000;
pub const F64_CANON_NAN: u64 = 0x7ff8_0000_0000_0000;

pub fn f32_is_nan(b: u32) -> bool {
    b & 0x7fff_ffff > 0x7f80_0000
}
pub fn f64_is_nan(b: u64) -> bool {
    b & 0x7fff_ffff_ffff_ffff > 0x7ff0_0000_0000_0000
}

impl DiffValue {
    pub fn ty(&self) -> ValType {
        match self {
            DiffValue::I32(_) => ValType::I32,
            DiffValue::I64(_) => ValType::I64,
            DiffValue::F32(_) => ValType::F32,
            DiffValue::F64(_) => ValType::F64,
            DiffValue::V128(_) => ValType::V128,
            DiffValue::FuncRef { .. } => ValType::FuncRef,
            DiffValue::ExternRef { .. } => ValType::ExternRef,
        }
    }

    pub fn is_nan(&self) -> bool {
        match *self {
            DiffValue::F32(b) => f32_is_nan(b),
            DiffValue::F64(b) => f64_is_nan(b),
            _ => false,
        }
    }

    /// Bit-for-bit equality (NaN payloads must match too).
    pub fn bits_eq(&self, other: &DiffValue) -> bool {
        use DiffValue::*;
        match (self, other) {
            (I32(a), I32(b)) => a == b,
            (I64(a), I64(b)) => a == b,
            (F32(a), F32(b)) => a == b,
            (F64(a), F64(b)) => a == b,
            (V128(a), V128(b)) => a == b,
            (FuncRef { null: a }, FuncRef { null: b }) => a == b,
            (ExternRef { null: a }, ExternRef { null: b }) => a == b,
            _ => false,
        }
    }

    /// A random value of type `ty`, biased towards boundary values. NaNs are replaced by
    /// the canonical NaN (the differential target runs wasm-smith's NaN-canonicalised code).
    pub fn arbitrary_of_type(u: &mut Unstructured<'_>, ty: ValType) -> Result<DiffValue> {
        Ok(match ty {
            ValType::I32 => DiffValue::I32(if u.ratio(1, 2)? { *u.choose(I32_EDGES)? } else { u.arbitrary()? }),
            ValType::I64 => DiffValue::I64(if u.ratio(1, 2)? { *u.choose(I64_EDGES)? } else { u.arbitrary()? }),
            ValType::F32 => {
                let b: u32 = if u.ratio(1, 2)? { *u.choose(F32_EDGES)? } else { u.arbitrary()? };
                DiffValue::F32(if f32_is_nan(b) { F32_CANON_NAN } else { b })
            }
            ValType::F64 => {
                let b: u64 = if u.ratio(1, 2)? { *u.choose(F64_EDGES)? } else { u.arbitrary()? };
                DiffValue::F64(if f64_is_nan(b) { F64_CANON_NAN } else { b })
            }
            ValType::V128 => DiffValue::V128(u.arbitrary()?),
            ValType::FuncRef => DiffValue::FuncRef { null: true },
            ValType::ExternRef => DiffValue::ExternRef { null: true },
        })
    }

    pub fn to_wazero(&self) -> wazero::Val {
        match *self {
            DiffValue::I32(x) => wazero::Val::I32(x),
            DiffValue::I64(x) => wazero::Val::I64(x),
            DiffValue::F32(x) => wazero::Val::F32(x),
            DiffValue::F64(x) => wazero::Val::F64(x),
            DiffValue::V128(x) => wazero::Val::V128(x),
            DiffValue::FuncRef { .. } => wazero::Val::FuncRef(None),
            DiffValue::ExternRef { .. } => wazero::Val::ExternRef(None),
        }
    }

    pub fn from_wazero(v: &wazero::Val) -> DiffValue {
        match *v {
            wazero::Val::I32(x) => DiffValue::I32(x),
            wazero::Val::I64(x) => DiffValue::I64(x),
            wazero::Val::F32(x) => DiffValue::F32(x),
            wazero::Val::F64(x) => DiffValue::F64(x),
            wazero::Val::V128(x) => DiffValue::V128(x),
            wazero::Val::FuncRef(f) => DiffValue::FuncRef { null: f.is_none() },
            wazero::Val::ExternRef(e) => DiffValue::ExternRef { null: e.is_none() },
        }
    }

    pub fn to_wasmi(&self) -> wasmi::Val {
        match *self {
            DiffValue::I32(x) => wasmi::Val::I32(x),
            DiffValue::I64(x) => wasmi::Val::I64(x),
            DiffValue::F32(x) => wasmi::Val::F32(wasmi::F32::from_bits(x)),
            DiffValue::F64(x) => wasmi::Val::F64(wasmi::F64::from_bits(x)),
            DiffValue::V128(x) => wasmi::Val::V128(wasmi::V128::from(x)),
            DiffValue::FuncRef { .. } => wasmi::Val::default_for_ty(wasmi::ValType::FuncRef),
            DiffValue::ExternRef { .. } => wasmi::Val::default_for_ty(wasmi::ValType::ExternRef),
        }
    }

    pub fn from_wasmi(v: &wasmi::Val) -> DiffValue {
        match v {
            wasmi::Val::I32(x) => DiffValue::I32(*x),
            wasmi::Val::I64(x) => DiffValue::I64(*x),
            wasmi::Val::F32(x) => DiffValue::F32(x.to_bits()),
            wasmi::Val::F64(x) => DiffValue::F64(x.to_bits()),
            wasmi::Val::V128(x) => DiffValue::V128(x.as_u128()),
            wasmi::Val::FuncRef(f) => DiffValue::FuncRef { null: f.is_null() },
            wasmi::Val::ExternRef(e) => DiffValue::ExternRef { null: e.is_null() },
        }
    }
}

/// Equality as the differential oracle sees it: bitwise, except that any NaN equals any NaN.
impl PartialEq for DiffValue {
    fn eq(&self, other: &DiffValue) -> bool {
        if self.ty() == other.ty() && self.is_nan() && other.is_nan() {
            return true;
        }
        self.bits_eq(other)
    }
}

impl fmt::Display for DiffValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DiffValue::I32(x) => write!(f, "i32:{x} ({:#010x})", x as u32),
            DiffValue::I64(x) => write!(f, "i64:{x} ({:#018x})", x as u64),
            DiffValue::F32(b) => write!(f, "f32:{:?} ({b:#010x})", f32::from_bits(b)),
            DiffValue::F64(b) => write!(f, "f64:{:?} ({b:#018x})", f64::from_bits(b)),
            DiffValue::V128(x) => write!(f, "v128:{x:#034x}"),
            DiffValue::FuncRef { null } => write!(f, "funcref:{}", if null { "null" } else { "non-null" }),
            DiffValue::ExternRef { null } => write!(f, "externref:{}", if null { "null" } else { "non-null" }),
        }
    }
}

/// `[a, b, ...]` for messages.
pub fn list(vals: &[DiffValue]) -> String {
    let v: Vec<String> = vals.iter().map(|v| v.to_string()).collect();
    format!("[{}]", v.join(", "))
}

/// Interesting i32 operands: zero/one, signs, extremes, shift counts, byte/half edges and the
/// addresses around the end of a 64 KiB page.
pub const I32_EDGES: &[i32] = &[
    0, 1, -1, 2, -2, 3, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65, 127, 128, 255, 256, 0x7fff, 0x8000,
    0xffff, 0x1_0000, 0x1_0001, 65528, 65529, 65530, 65531, 65532, 65533, 65534, 65535, -65536,
    0x7f, -0x80, -0x81, -0x8000, -0x8001, i32::MIN, i32::MIN + 1, i32::MAX, i32::MAX - 1,
    0x5555_5555, 0xaaaa_aaaau32 as i32, 0x8000_0001u32 as i32, 0x00ff_ff00, 10, 100,
];

pub const I64_EDGES: &[i64] = &[
    0, 1, -1, 2, -2, 31, 32, 33, 63, 64, 65, 127, 128, 255, 0x7fff, 0x8000, 0xffff, 0x1_0000,
    65528, 65535, 65536, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x1_0000_0000, 0x1_0000_0001,
    -0x8000_0000, -0x8000_0001, -0x1_0000_0000, i64::MIN, i64::MIN + 1, i64::MAX, i64::MAX - 1,
    0x5555_5555_5555_5555, 0xaaaa_aaaa_aaaa_aaaau64 as i64, 0x8000_0000_0000_0001u64 as i64,
    0x0000_0001_8000_0000, 0x7fff_ffff_0000_0000, 10, 100,
];

/// Interesting f32 bit patterns: signed zeros, ones, infinities, NaNs with payloads and
/// signalling NaNs, subnormals, extremes, and ±2^31/2^32/2^63/2^64 with their neighbours.
pub const F32_EDGES: &[u32] = &[
    0x0000_0000, 0x8000_0000, 0x3f80_0000, 0xbf80_0000, 0x3f00_0000, 0xbf00_0000, 0x3fc0_0000,
    0xbfc0_0000, 0x4020_0000, 0xc020_0000, 0x3f7f_ffff, 0xbf7f_ffff, 0x3f80_0001, 0xbf80_0001,
    0x7f80_0000, 0xff80_0000, 0x7fc0_0000, 0xffc0_0000, 0x7f80_0001, 0xff80_0001, 0x7fa1_2345,
    0xffa1_2345, 0x7fff_ffff, 0xffff_ffff, 0x7fc0_0001, 0x0000_0001, 0x8000_0001, 0x007f_ffff,
    0x807f_ffff, 0x0080_0000, 0x8080_0000, 0x7f7f_ffff, 0xff7f_ffff, 0x4eff_ffff, 0x4f00_0000,
    0x4f00_0001, 0xceff_ffff, 0xcf00_0000, 0xcf00_0001, 0x4f7f_ffff, 0x4f80_0000, 0x4f80_0001,
    0x5eff_ffff, 0x5f00_0000, 0x5f00_0001, 0xdeff_ffff, 0xdf00_0000, 0xdf00_0001, 0x5f7f_ffff,
    0x5f80_0000, 0x5f80_0001, 0x4b00_0000, 0x4b80_0000, 0x4b00_0001, 0x3eff_ffff, 0x4000_0000,
];

pub const F64_EDGES: &[u64] = &[
    0x0000_0000_0000_0000, 0x8000_0000_0000_0000, 0x3ff0_0000_0000_0000, 0xbff0_0000_0000_0000,
    0x3fe0_0000_0000_0000, 0xbfe0_0000_0000_0000, 0x3ff8_0000_0000_0000, 0xbff8_0000_0000_0000,
    0x4004_0000_0000_0000, 0xc004_0000_0000_0000, 0x3fef_ffff_ffff_ffff, 0xbfef_ffff_ffff_ffff,
    0x7ff0_0000_0000_0000, 0xfff0_0000_0000_0000, 0x7ff8_0000_0000_0000, 0xfff8_0000_0000_0000,
    0x7ff0_0000_0000_0001, 0xfff0_0000_0000_0001, 0x7ff4_0000_0012_3456, 0xfffc_dead_beef_0001,
    0x7fff_ffff_ffff_ffff, 0x7ff8_0000_0000_0001, 0x0000_0000_0000_0001, 0x8000_0000_0000_0001,
    0x000f_ffff_ffff_ffff, 0x0010_0000_0000_0000, 0x7fef_ffff_ffff_ffff, 0xffef_ffff_ffff_ffff,
    // ±2^31 and neighbours, 2^31-1, -2^31-1 (exact in f64)
    0x41e0_0000_0000_0000, 0x41df_ffff_ffff_ffff, 0x41e0_0000_0000_0001, 0x41df_ffff_ffc0_0000,
    0xc1e0_0000_0000_0000, 0xc1e0_0000_0000_0001, 0xc1df_ffff_ffff_ffff, 0xc1e0_0000_0020_0000,
    0xc1e0_0000_001f_ffff,
    // 2^32, 2^32-1
    0x41f0_0000_0000_0000, 0x41ef_ffff_ffff_ffff, 0x41f0_0000_0000_0001, 0x41ef_ffff_ffe0_0000,
    // ±2^63, ±2^64 and neighbours
    0x43e0_0000_0000_0000, 0x43df_ffff_ffff_ffff, 0x43e0_0000_0000_0001, 0xc3e0_0000_0000_0000,
    0xc3e0_0000_0000_0001, 0xc3df_ffff_ffff_ffff, 0x43f0_0000_0000_0000, 0x43ef_ffff_ffff_ffff,
    0x43f0_0000_0000_0001, 0x4330_0000_0000_0000, 0x4340_0000_0000_0000, 0x3810_0000_0000_0000,
    0x47ef_ffff_e000_0000, 0x47ef_ffff_f000_0000, 0x36a0_0000_0000_0000, 0x3690_0000_0000_0000,
];
