//! Script values: `invoke` arguments to [`Val`]s, and `assert_return` expectations checked
//! against the [`Val`]s a call returned. Floats are compared by bits; NaN patterns bitwise.

use wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::{WastArg, WastRet};
use wazero::Val;

/// Converts an `invoke` argument.
pub fn arg(a: &WastArg<'_>) -> Result<Val, String> {
    let WastArg::Core(a) = a else {
        return Err("non-core argument".into());
    };
    Ok(match a {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(v) => Val::F32(v.bits),
        WastArgCore::F64(v) => Val::F64(v.bits),
        WastArgCore::V128(v) => Val::V128(u128::from_le_bytes(v.to_le_bytes())),
        WastArgCore::RefNull(ty) => match null_kind(ty)? {
            RefKind::Func => Val::FuncRef(None),
            RefKind::Extern => Val::ExternRef(None),
        },
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(extern_handle(*n))),
        WastArgCore::RefHost(_) => return Err("ref.host argument is not Wasm 2.0".into()),
    })
}

/// The host handle standing for the script's `ref.extern N`.
fn extern_handle(n: u32) -> u64 {
    u64::from(n)
}

#[derive(PartialEq)]
enum RefKind {
    Func,
    Extern,
}

fn null_kind(ty: &HeapType<'_>) -> Result<RefKind, String> {
    match ty {
        HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Func,
        } => Ok(RefKind::Func),
        HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Extern,
        } => Ok(RefKind::Extern),
        other => Err(format!("heap type {other:?} is not Wasm 2.0")),
    }
}

/// Whether an expected `ref.null` (of an optional heap type) admits a null of `kind`.
fn null_type_is(ty: &Option<HeapType<'_>>, kind: RefKind) -> Result<bool, String> {
    match ty {
        None => Ok(true),
        Some(t) => Ok(null_kind(t)? == kind),
    }
}

/// Checks `actual` against the expected results; `Err` describes the first mismatch.
pub fn check_results(expected: &[WastRet<'_>], actual: &[Val]) -> Result<(), String> {
    if expected.len() != actual.len() {
        return Err(format!(
            "expected {} result(s), got {}: {}",
            expected.len(),
            actual.len(),
            show_vals(actual)
        ));
    }
    for (i, (e, a)) in expected.iter().zip(actual).enumerate() {
        let WastRet::Core(e) = e else {
            return Err("non-core expectation".into());
        };
        match matches(e, a) {
            Ok(true) => {}
            Ok(false) => {
                return Err(format!(
                    "result {i}: expected {}, got {}",
                    show_ret(e),
                    show_val(a)
                ))
            }
            Err(why) => return Err(format!("result {i}: {why}")),
        }
    }
    Ok(())
}

/// Whether `actual` matches `expected`; `Err` for expectations outside Wasm 2.0.
fn matches(expected: &WastRetCore<'_>, actual: &Val) -> Result<bool, String> {
    Ok(match (expected, actual) {
        (WastRetCore::I32(e), Val::I32(a)) => e == a,
        (WastRetCore::I64(e), Val::I64(a)) => e == a,
        (WastRetCore::F32(e), Val::F32(a)) => f32_matches(e, *a),
        (WastRetCore::F64(e), Val::F64(a)) => f64_matches(e, *a),
        (WastRetCore::V128(e), Val::V128(a)) => v128_matches(e, *a),
        (WastRetCore::RefNull(ty), Val::FuncRef(r)) => {
            r.is_none() && null_type_is(ty, RefKind::Func)?
        }
        (WastRetCore::RefNull(ty), Val::ExternRef(r)) => {
            r.is_none() && null_type_is(ty, RefKind::Extern)?
        }
        (WastRetCore::RefExtern(None), Val::ExternRef(r)) => r.is_some(),
        (WastRetCore::RefExtern(Some(e)), Val::ExternRef(r)) => *r == Some(extern_handle(*e)),
        (WastRetCore::RefFunc(None), Val::FuncRef(r)) => r.is_some(),
        (WastRetCore::RefFunc(Some(idx)), _) => {
            return Err(format!(
                "cannot check (ref.func {idx:?}) against a specific function"
            ))
        }
        (WastRetCore::Either(options), a) => {
            for option in options {
                if matches(option, a)? {
                    return Ok(true);
                }
            }
            false
        }
        (
            WastRetCore::RefHost(_)
            | WastRetCore::RefAny
            | WastRetCore::RefEq
            | WastRetCore::RefArray
            | WastRetCore::RefStruct
            | WastRetCore::RefI31
            | WastRetCore::RefI31Shared,
            _,
        ) => return Err(format!("expectation {expected:?} is not Wasm 2.0")),
        _ => false,
    })
}

const F32_EXP_MASK: u32 = 0x7f80_0000;
const F32_QUIET: u32 = 0x0040_0000;
const F64_EXP_MASK: u64 = 0x7ff0_0000_0000_0000;
const F64_QUIET: u64 = 0x0008_0000_0000_0000;

fn f32_matches(e: &NanPattern<wast::token::F32>, bits: u32) -> bool {
    let magnitude = bits & 0x7fff_ffff;
    match e {
        NanPattern::CanonicalNan => magnitude == F32_EXP_MASK | F32_QUIET,
        NanPattern::ArithmeticNan => {
            magnitude & (F32_EXP_MASK | F32_QUIET) == F32_EXP_MASK | F32_QUIET
        }
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn f64_matches(e: &NanPattern<wast::token::F64>, bits: u64) -> bool {
    let magnitude = bits & 0x7fff_ffff_ffff_ffff;
    match e {
        NanPattern::CanonicalNan => magnitude == F64_EXP_MASK | F64_QUIET,
        NanPattern::ArithmeticNan => {
            magnitude & (F64_EXP_MASK | F64_QUIET) == F64_EXP_MASK | F64_QUIET
        }
        NanPattern::Value(v) => v.bits == bits,
    }
}

/// Lane `i` of width `bytes` of a v128, zero-extended.
fn lane(v: u128, bytes: u32, i: usize) -> u128 {
    let bits = bytes * 8;
    (v >> (bits as usize * i)) & ((1u128 << bits) - 1)
}

fn v128_matches(e: &V128Pattern, v: u128) -> bool {
    match e {
        V128Pattern::I8x16(l) => l
            .iter()
            .enumerate()
            .all(|(i, x)| lane(v, 1, i) == u128::from(*x as u8)),
        V128Pattern::I16x8(l) => l
            .iter()
            .enumerate()
            .all(|(i, x)| lane(v, 2, i) == u128::from(*x as u16)),
        V128Pattern::I32x4(l) => l
            .iter()
            .enumerate()
            .all(|(i, x)| lane(v, 4, i) == u128::from(*x as u32)),
        V128Pattern::I64x2(l) => l
            .iter()
            .enumerate()
            .all(|(i, x)| lane(v, 8, i) == u128::from(*x as u64)),
        V128Pattern::F32x4(l) => l
            .iter()
            .enumerate()
            .all(|(i, p)| f32_matches(p, lane(v, 4, i) as u32)),
        V128Pattern::F64x2(l) => l
            .iter()
            .enumerate()
            .all(|(i, p)| f64_matches(p, lane(v, 8, i) as u64)),
    }
}

fn show_ret(e: &WastRetCore<'_>) -> String {
    match e {
        WastRetCore::I32(v) => format!("i32 {v}"),
        WastRetCore::I64(v) => format!("i64 {v}"),
        WastRetCore::F32(NanPattern::Value(v)) => format!("f32 {:#010x}", v.bits),
        WastRetCore::F64(NanPattern::Value(v)) => format!("f64 {:#018x}", v.bits),
        WastRetCore::F32(p) => format!("f32 {}", nan_name(p)),
        WastRetCore::F64(p) => format!("f64 {}", nan_name(p)),
        WastRetCore::RefNull(None) => "ref.null".into(),
        WastRetCore::RefNull(Some(HeapType::Abstract {
            ty: AbstractHeapType::Func,
            ..
        })) => "ref.null func".into(),
        WastRetCore::RefNull(Some(HeapType::Abstract {
            ty: AbstractHeapType::Extern,
            ..
        })) => "ref.null extern".into(),
        WastRetCore::RefExtern(None) => "ref.extern".into(),
        WastRetCore::RefExtern(Some(n)) => format!("ref.extern {n}"),
        WastRetCore::RefFunc(None) => "ref.func".into(),
        other => format!("{other:?}"),
    }
}

fn nan_name<T>(p: &NanPattern<T>) -> &'static str {
    match p {
        NanPattern::CanonicalNan => "nan:canonical",
        NanPattern::ArithmeticNan => "nan:arithmetic",
        NanPattern::Value(_) => "value",
    }
}

pub fn show_val(v: &Val) -> String {
    match v {
        Val::I32(x) => format!("i32 {x}"),
        Val::I64(x) => format!("i64 {x}"),
        Val::F32(b) => format!("f32 {b:#010x} ({})", f32::from_bits(*b)),
        Val::F64(b) => format!("f64 {b:#018x} ({})", f64::from_bits(*b)),
        Val::V128(b) => format!("v128 {b:#034x}"),
        Val::FuncRef(None) => "ref.null func".into(),
        Val::FuncRef(Some(_)) => "ref.func".into(),
        Val::ExternRef(None) => "ref.null extern".into(),
        Val::ExternRef(Some(h)) => format!("ref.extern {h}"),
    }
}

pub fn show_vals(vs: &[Val]) -> String {
    format!(
        "[{}]",
        vs.iter().map(show_val).collect::<Vec<_>>().join(", ")
    )
}
