//! Integer and float operators against Rust reference results.

use super::harness::*;
use wazero::TrapKind;

// ------------------------------------------------------------------ integer operators

const I32_EDGES: &[u32] = &[
    0,
    1,
    2,
    3,
    7,
    31,
    32,
    33,
    0x7f,
    0x80,
    0xff,
    0x7fff,
    0x8000,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0x8000_0001,
    0xffff_fffe,
    0xffff_ffff,
    0x1234_5678,
    0xdead_beef,
];
const I64_EDGES: &[u64] = &[
    0,
    1,
    2,
    7,
    63,
    64,
    65,
    0xff,
    0xffff_ffff,
    0x1_0000_0000,
    0x7fff_ffff,
    0x8000_0000,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    0x8000_0000_0000_0001,
    u64::MAX,
    u64::MAX - 1,
    0x0123_4567_89ab_cdef,
    0xfedc_ba98_7654_3210,
];

type Ref32 = fn(u32, u32) -> Result<u32, TrapKind>;
type Ref64 = fn(u64, u64) -> Result<u64, TrapKind>;

fn i32_binops() -> Vec<(&'static str, Ref32)> {
    use TrapKind::*;
    vec![
        ("add", |a, b| Ok(a.wrapping_add(b))),
        ("sub", |a, b| Ok(a.wrapping_sub(b))),
        ("mul", |a, b| Ok(a.wrapping_mul(b))),
        ("and", |a, b| Ok(a & b)),
        ("or", |a, b| Ok(a | b)),
        ("xor", |a, b| Ok(a ^ b)),
        ("shl", |a, b| Ok(a.wrapping_shl(b))),
        ("shr_s", |a, b| Ok((a as i32).wrapping_shr(b) as u32)),
        ("shr_u", |a, b| Ok(a.wrapping_shr(b))),
        ("rotl", |a, b| Ok(a.rotate_left(b % 32))),
        ("rotr", |a, b| Ok(a.rotate_right(b % 32))),
        ("div_s", |a, b| match (a as i32).checked_div(b as i32) {
            _ if b == 0 => Err(IntegerDivideByZero),
            Some(v) => Ok(v as u32),
            None => Err(IntegerOverflow),
        }),
        ("div_u", |a, b| a.checked_div(b).ok_or(IntegerDivideByZero)),
        ("rem_s", |a, b| {
            if b == 0 {
                Err(IntegerDivideByZero)
            } else {
                Ok((a as i32).wrapping_rem(b as i32) as u32)
            }
        }),
        ("rem_u", |a, b| a.checked_rem(b).ok_or(IntegerDivideByZero)),
        ("eq", |a, b| Ok((a == b) as u32)),
        ("ne", |a, b| Ok((a != b) as u32)),
        ("lt_s", |a, b| Ok(((a as i32) < b as i32) as u32)),
        ("lt_u", |a, b| Ok((a < b) as u32)),
        ("gt_s", |a, b| Ok((a as i32 > b as i32) as u32)),
        ("gt_u", |a, b| Ok((a > b) as u32)),
        ("le_s", |a, b| Ok((a as i32 <= b as i32) as u32)),
        ("le_u", |a, b| Ok((a <= b) as u32)),
        ("ge_s", |a, b| Ok((a as i32 >= b as i32) as u32)),
        ("ge_u", |a, b| Ok((a >= b) as u32)),
    ]
}

fn i64_binops() -> Vec<(&'static str, Ref64)> {
    use TrapKind::*;
    vec![
        ("add", |a, b| Ok(a.wrapping_add(b))),
        ("sub", |a, b| Ok(a.wrapping_sub(b))),
        ("mul", |a, b| Ok(a.wrapping_mul(b))),
        ("and", |a, b| Ok(a & b)),
        ("or", |a, b| Ok(a | b)),
        ("xor", |a, b| Ok(a ^ b)),
        ("shl", |a, b| Ok(a.wrapping_shl(b as u32))),
        ("shr_s", |a, b| Ok((a as i64).wrapping_shr(b as u32) as u64)),
        ("shr_u", |a, b| Ok(a.wrapping_shr(b as u32))),
        ("rotl", |a, b| Ok(a.rotate_left((b % 64) as u32))),
        ("rotr", |a, b| Ok(a.rotate_right((b % 64) as u32))),
        ("div_s", |a, b| match (a as i64).checked_div(b as i64) {
            _ if b == 0 => Err(IntegerDivideByZero),
            Some(v) => Ok(v as u64),
            None => Err(IntegerOverflow),
        }),
        ("div_u", |a, b| a.checked_div(b).ok_or(IntegerDivideByZero)),
        ("rem_s", |a, b| {
            if b == 0 {
                Err(IntegerDivideByZero)
            } else {
                Ok((a as i64).wrapping_rem(b as i64) as u64)
            }
        }),
        ("rem_u", |a, b| a.checked_rem(b).ok_or(IntegerDivideByZero)),
        ("eq", |a, b| Ok((a == b) as u64)),
        ("ne", |a, b| Ok((a != b) as u64)),
        ("lt_s", |a, b| Ok(((a as i64) < b as i64) as u64)),
        ("lt_u", |a, b| Ok((a < b) as u64)),
        ("gt_s", |a, b| Ok((a as i64 > b as i64) as u64)),
        ("gt_u", |a, b| Ok((a > b) as u64)),
        ("le_s", |a, b| Ok((a as i64 <= b as i64) as u64)),
        ("le_u", |a, b| Ok((a <= b) as u64)),
        ("ge_s", |a, b| Ok((a as i64 >= b as i64) as u64)),
        ("ge_u", |a, b| Ok((a >= b) as u64)),
    ]
}

fn is_compare(op: &str) -> bool {
    matches!(
        op,
        "eq" | "ne" | "lt_s" | "lt_u" | "gt_s" | "gt_u" | "le_s" | "le_u" | "ge_s" | "ge_u"
    )
}

/// For every binary op: register/register, register/immediate, immediate/register,
/// constant/constant (folded) forms, and for comparisons the flag-consuming forms.
fn binop_module(ty: &str, ops: &[&str], consts: &[u64]) -> String {
    let mut m = String::from("(module\n");
    for op in ops {
        let rty = if is_compare(op) { "i32" } else { ty };
        m += &format!(
            "(func (export \"{op}\") (param {ty} {ty}) (result {rty}) local.get 0 local.get 1 {ty}.{op})\n"
        );
        for (k, c) in consts.iter().enumerate() {
            m += &format!("(func (export \"{op}_rc{k}\") (param {ty}) (result {rty}) local.get 0 {ty}.const {} {ty}.{op})\n", *c as i64);
            m += &format!("(func (export \"{op}_cr{k}\") (param {ty}) (result {rty}) {ty}.const {} local.get 0 {ty}.{op})\n", *c as i64);
        }
        if is_compare(op) {
            m += &format!("(func (export \"{op}_if\") (param {ty} {ty}) (result i32) (if (result i32) ({ty}.{op} (local.get 0) (local.get 1)) (then (i32.const 1)) (else (i32.const 0))))\n");
            m += &format!("(func (export \"{op}_select\") (param {ty} {ty}) (result i32) (select (i32.const 1) (i32.const 0) ({ty}.{op} (local.get 0) (local.get 1))))\n");
            m += &format!("(func (export \"{op}_brif\") (param {ty} {ty}) (result i32) (block (br_if 0 ({ty}.{op} (local.get 0) (local.get 1))) (return (i32.const 0))) (i32.const 1))\n");
        }
        // Values computed in registers (not straight from locals).
        m += &format!("(func (export \"{op}_regs\") (param {ty} {ty}) (result {rty}) ({ty}.{op} ({ty}.add (local.get 0) ({ty}.const 0)) ({ty}.or (local.get 1) ({ty}.const 0))))\n");
    }
    m + ")"
}

#[test]
fn i32_binary_operators_match_reference() {
    let ops = i32_binops();
    let names: Vec<&str> = ops.iter().map(|o| o.0).collect();
    let consts: Vec<u64> = [0u32, 1, 5, 31, 32, 0x8000_0000, 0xffff_ffff, 0x7fff_ffff]
        .iter()
        .map(|&c| c as u64)
        .collect();
    let mut inst = Instance::new(&binop_module("i32", &names, &consts));
    for (name, f) in &ops {
        for &a in I32_EDGES {
            for &b in I32_EDGES {
                let want = f(a, b).map(|v| v as u64);
                for variant in ["", "_regs"] {
                    let got = inst.call(&format!("{name}{variant}"), &[a as u64, b as u64]);
                    assert_eq!(got, want, "i32.{name}{variant}({a:#x}, {b:#x})");
                }
                if is_compare(name) {
                    for variant in ["_if", "_select", "_brif"] {
                        let got = inst.call(&format!("{name}{variant}"), &[a as u64, b as u64]);
                        assert_eq!(got, want, "i32.{name}{variant}({a:#x}, {b:#x})");
                    }
                }
            }
            for (k, &c) in consts.iter().enumerate() {
                let c = c as u32;
                assert_eq!(
                    inst.call(&format!("{name}_rc{k}"), &[a as u64]),
                    f(a, c).map(|v| v as u64),
                    "i32.{name}({a:#x}, const {c:#x})"
                );
                assert_eq!(
                    inst.call(&format!("{name}_cr{k}"), &[a as u64]),
                    f(c, a).map(|v| v as u64),
                    "i32.{name}(const {c:#x}, {a:#x})"
                );
            }
        }
    }
}

#[test]
fn i64_binary_operators_match_reference() {
    let ops = i64_binops();
    let names: Vec<&str> = ops.iter().map(|o| o.0).collect();
    let consts: Vec<u64> = vec![
        0,
        1,
        5,
        63,
        64,
        0x8000_0000,
        0xffff_ffff,
        u64::MAX,
        0x8000_0000_0000_0000,
        0x1234_5678_9abc_def0,
    ];
    let mut inst = Instance::new(&binop_module("i64", &names, &consts));
    for (name, f) in &ops {
        for &a in I64_EDGES {
            for &b in I64_EDGES {
                let want = f(a, b).map(|v| if is_compare(name) { v as u32 as u64 } else { v });
                for variant in ["", "_regs"] {
                    let got = inst.call(&format!("{name}{variant}"), &[a, b]);
                    assert_eq!(got, want, "i64.{name}{variant}({a:#x}, {b:#x})");
                }
                if is_compare(name) {
                    for variant in ["_if", "_select", "_brif"] {
                        assert_eq!(
                            inst.call(&format!("{name}{variant}"), &[a, b]),
                            want,
                            "i64.{name}{variant}({a:#x}, {b:#x})"
                        );
                    }
                }
            }
            for (k, &c) in consts.iter().enumerate() {
                assert_eq!(
                    inst.call(&format!("{name}_rc{k}"), &[a]),
                    f(a, c),
                    "i64.{name}({a:#x}, const {c:#x})"
                );
                assert_eq!(
                    inst.call(&format!("{name}_cr{k}"), &[a]),
                    f(c, a),
                    "i64.{name}(const {c:#x}, {a:#x})"
                );
            }
        }
    }
}

#[test]
fn integer_unary_operators_match_reference() {
    let wat = r#"(module
      (func (export "i32.clz") (param i32) (result i32) (i32.clz (local.get 0)))
      (func (export "i32.ctz") (param i32) (result i32) (i32.ctz (local.get 0)))
      (func (export "i32.popcnt") (param i32) (result i32) (i32.popcnt (local.get 0)))
      (func (export "i32.eqz") (param i32) (result i32) (i32.eqz (local.get 0)))
      (func (export "i32.extend8_s") (param i32) (result i32) (i32.extend8_s (local.get 0)))
      (func (export "i32.extend16_s") (param i32) (result i32) (i32.extend16_s (local.get 0)))
      (func (export "i32.wrap_i64") (param i64) (result i32) (i32.wrap_i64 (local.get 0)))
      (func (export "i32.wrap_i64_reg") (param i64) (result i32) (i32.wrap_i64 (i64.add (local.get 0) (i64.const 0))))
      (func (export "i64.clz") (param i64) (result i64) (i64.clz (local.get 0)))
      (func (export "i64.ctz") (param i64) (result i64) (i64.ctz (local.get 0)))
      (func (export "i64.popcnt") (param i64) (result i64) (i64.popcnt (local.get 0)))
      (func (export "i64.eqz") (param i64) (result i32) (i64.eqz (local.get 0)))
      (func (export "i64.extend8_s") (param i64) (result i64) (i64.extend8_s (local.get 0)))
      (func (export "i64.extend16_s") (param i64) (result i64) (i64.extend16_s (local.get 0)))
      (func (export "i64.extend32_s") (param i64) (result i64) (i64.extend32_s (local.get 0)))
      (func (export "i64.extend_i32_s") (param i32) (result i64) (i64.extend_i32_s (local.get 0)))
      (func (export "i64.extend_i32_u") (param i32) (result i64) (i64.extend_i32_u (local.get 0)))
      (func (export "i64.extend_i32_u_reg") (param i32) (result i64) (i64.extend_i32_u (i32.add (local.get 0) (i32.const 0))))
    )"#;
    let mut inst = Instance::new(wat);
    for &a in I32_EDGES {
        let a64 = a as u64;
        assert_eq!(inst.call("i32.clz", &[a64]), Ok(a.leading_zeros() as u64));
        assert_eq!(inst.call("i32.ctz", &[a64]), Ok(a.trailing_zeros() as u64));
        assert_eq!(inst.call("i32.popcnt", &[a64]), Ok(a.count_ones() as u64));
        assert_eq!(inst.call("i32.eqz", &[a64]), Ok((a == 0) as u64));
        assert_eq!(
            inst.call("i32.extend8_s", &[a64]),
            Ok(a as i8 as i32 as u32 as u64)
        );
        assert_eq!(
            inst.call("i32.extend16_s", &[a64]),
            Ok(a as i16 as i32 as u32 as u64)
        );
        assert_eq!(inst.call("i64.extend_i32_s", &[a64]), Ok(a as i32 as i64 as u64));
        assert_eq!(inst.call("i64.extend_i32_u", &[a64]), Ok(a64));
        assert_eq!(inst.call("i64.extend_i32_u_reg", &[a64]), Ok(a64));
        // Garbage in the upper half of an i32 argument must be ignored.
        assert_eq!(
            inst.call("i64.extend_i32_u", &[a64 | 0xdead_0000_0000_0000]),
            Ok(a64)
        );
    }
    for &a in I64_EDGES {
        assert_eq!(inst.call("i64.clz", &[a]), Ok(a.leading_zeros() as u64));
        assert_eq!(inst.call("i64.ctz", &[a]), Ok(a.trailing_zeros() as u64));
        assert_eq!(inst.call("i64.popcnt", &[a]), Ok(a.count_ones() as u64));
        assert_eq!(inst.call("i64.eqz", &[a]), Ok((a == 0) as u64));
        assert_eq!(inst.call("i64.extend8_s", &[a]), Ok(a as i8 as i64 as u64));
        assert_eq!(inst.call("i64.extend16_s", &[a]), Ok(a as i16 as i64 as u64));
        assert_eq!(inst.call("i64.extend32_s", &[a]), Ok(a as i32 as i64 as u64));
        assert_eq!(inst.call("i32.wrap_i64", &[a]), Ok(a as u32 as u64));
        assert_eq!(inst.call("i32.wrap_i64_reg", &[a]), Ok(a as u32 as u64));
    }
}

#[test]
fn constant_folding_and_const_operands() {
    let wat = r#"(module
      (func (export "fold") (result i32) (i32.mul (i32.add (i32.const 7) (i32.const 5)) (i32.const -3)))
      (func (export "fold64") (result i64) (i64.xor (i64.const -1) (i64.const 0x0f0f0f0f0f0f0f0f)))
      (func (export "div_const") (param i32) (result i32) (i32.div_s (local.get 0) (i32.const -1)))
      (func (export "rem_const") (param i32) (result i32) (i32.rem_s (local.get 0) (i32.const -1)))
      (func (export "div7") (param i32) (result i32) (i32.div_u (local.get 0) (i32.const 7)))
      (func (export "div0") (param i32) (result i32) (i32.div_u (local.get 0) (i32.const 0)))
      (func (export "big_imm") (param i64) (result i64) (i64.add (local.get 0) (i64.const 0x123456789)))
      (func (export "ext_const") (result i64) (i64.extend_i32_s (i32.const -2)))
    )"#;
    let mut inst = Instance::new(wat);
    assert_eq!(inst.call("fold", &[]), Ok((-36i32) as u32 as u64));
    assert_eq!(inst.call("fold64", &[]), Ok(0xf0f0_f0f0_f0f0_f0f0));
    assert_eq!(inst.call("div_const", &[5]), Ok((-5i32) as u32 as u64));
    assert_eq!(
        inst.call("div_const", &[0x8000_0000]),
        Err(TrapKind::IntegerOverflow)
    );
    assert_eq!(inst.call("rem_const", &[0x8000_0000]), Ok(0));
    assert_eq!(inst.call("div7", &[50]), Ok(7));
    assert_eq!(inst.call("div0", &[50]), Err(TrapKind::IntegerDivideByZero));
    assert_eq!(inst.call("big_imm", &[1]), Ok(0x12345678a));
    assert_eq!(inst.call("ext_const", &[]), Ok(-2i64 as u64));
}

// ------------------------------------------------------------------ floats

const F32_EDGES: &[f32] = &[
    0.0,
    -0.0,
    1.0,
    -1.5,
    3.25,
    f32::MIN_POSITIVE,
    f32::MAX,
    f32::MIN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    f32::NAN,
    1e-45,
    16777217.0,
];
const F64_EDGES: &[f64] = &[
    0.0,
    -0.0,
    1.0,
    -1.5,
    3.25,
    f64::MIN_POSITIVE,
    f64::MAX,
    f64::MIN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    5e-324,
    1e300,
];

fn same_f32(got: u64, want: f32) -> bool {
    let g = f32::from_bits(got as u32);
    (g.is_nan() && want.is_nan()) || g.to_bits() == want.to_bits()
}

fn same_f64(got: u64, want: f64) -> bool {
    let g = f64::from_bits(got);
    (g.is_nan() && want.is_nan()) || g.to_bits() == want.to_bits()
}

#[test]
fn float_arithmetic_and_comparisons_match_reference() {
    let mut m = String::from("(module\n");
    for ty in ["f32", "f64"] {
        for op in ["add", "sub", "mul", "div"] {
            m += &format!("(func (export \"{ty}.{op}\") (param {ty} {ty}) (result {ty}) ({ty}.{op} (local.get 0) (local.get 1)))\n");
        }
        for op in ["eq", "ne", "lt", "gt", "le", "ge"] {
            m += &format!("(func (export \"{ty}.{op}\") (param {ty} {ty}) (result i32) ({ty}.{op} (local.get 0) (local.get 1)))\n");
            m += &format!("(func (export \"{ty}.{op}_if\") (param {ty} {ty}) (result i32) (if (result i32) ({ty}.{op} (local.get 0) (local.get 1)) (then (i32.const 1)) (else (i32.const 0))))\n");
            m += &format!("(func (export \"{ty}.{op}_select\") (param {ty} {ty}) (result i32) (select (i32.const 1) (i32.const 0) ({ty}.{op} (local.get 0) (local.get 1))))\n");
            m += &format!("(func (export \"{ty}.{op}_brif\") (param {ty} {ty}) (result i32) (block (br_if 0 ({ty}.{op} (local.get 0) (local.get 1))) (return (i32.const 0))) (i32.const 1))\n");
            m += &format!("(func (export \"{ty}.{op}_fsel\") (param {ty} {ty}) (result {ty}) (select (local.get 0) (local.get 1) ({ty}.{op} (local.get 0) (local.get 1))))\n");
        }
        m += &format!("(func (export \"{ty}.sqrt\") (param {ty}) (result {ty}) ({ty}.sqrt (local.get 0)))\n");
    }
    m += r#"(func (export "promote") (param f32) (result f64) (f64.promote_f32 (local.get 0)))
      (func (export "demote") (param f64) (result f32) (f32.demote_f64 (local.get 0)))
      (func (export "i32.reinterpret") (param f32) (result i32) (i32.reinterpret_f32 (local.get 0)))
      (func (export "i32.reinterpret_reg") (param f32) (result i32) (i32.reinterpret_f32 (f32.add (local.get 0) (f32.const 0))))
      (func (export "f64.reinterpret_reg") (param i64) (result f64) (f64.reinterpret_i64 (i64.add (local.get 0) (i64.const 1))))
      (func (export "f32.const") (result f32) (f32.const -0x1.8p1))
      (func (export "f64.const") (result f64) (f64.const 0x1.23456789abcdep100))
    )"#;
    let mut inst = Instance::new(&m);
    let cmp32: [(&str, fn(f32, f32) -> bool); 6] = [
        ("eq", |a, b| a == b),
        ("ne", |a, b| a != b),
        ("lt", |a, b| a < b),
        ("gt", |a, b| a > b),
        ("le", |a, b| a <= b),
        ("ge", |a, b| a >= b),
    ];
    let cmp64: [(&str, fn(f64, f64) -> bool); 6] = [
        ("eq", |a, b| a == b),
        ("ne", |a, b| a != b),
        ("lt", |a, b| a < b),
        ("gt", |a, b| a > b),
        ("le", |a, b| a <= b),
        ("ge", |a, b| a >= b),
    ];
    for &a in F32_EDGES {
        for &b in F32_EDGES {
            let args = [a.to_bits() as u64, b.to_bits() as u64];
            for (op, want) in [("add", a + b), ("sub", a - b), ("mul", a * b), ("div", a / b)] {
                let got = inst.call(&format!("f32.{op}"), &args).unwrap();
                assert!(
                    same_f32(got, want),
                    "f32.{op}({a}, {b}) = {}",
                    f32::from_bits(got as u32)
                );
                assert_eq!(got >> 32, 0, "f32 results are zero-extended");
            }
            for (op, f) in cmp32 {
                let want = f(a, b) as u64;
                for v in ["", "_if", "_select", "_brif"] {
                    assert_eq!(
                        inst.call(&format!("f32.{op}{v}"), &args),
                        Ok(want),
                        "f32.{op}{v}({a}, {b})"
                    );
                }
                let sel = inst.call(&format!("f32.{op}_fsel"), &args).unwrap();
                assert!(
                    same_f32(sel, if f(a, b) { a } else { b }),
                    "f32.{op}_fsel({a}, {b})"
                );
            }
        }
        let got = inst.call("f32.sqrt", &[a.to_bits() as u64]).unwrap();
        assert!(same_f32(got, a.sqrt()));
        assert!(same_f64(
            inst.call("promote", &[a.to_bits() as u64]).unwrap(),
            a as f64
        ));
        assert_eq!(
            inst.call("i32.reinterpret", &[a.to_bits() as u64]),
            Ok(a.to_bits() as u64)
        );
    }
    for &a in F64_EDGES {
        for &b in F64_EDGES {
            let args = [a.to_bits(), b.to_bits()];
            for (op, want) in [("add", a + b), ("sub", a - b), ("mul", a * b), ("div", a / b)] {
                let got = inst.call(&format!("f64.{op}"), &args).unwrap();
                assert!(same_f64(got, want), "f64.{op}({a}, {b})");
            }
            for (op, f) in cmp64 {
                let want = f(a, b) as u64;
                for v in ["", "_if", "_select", "_brif"] {
                    assert_eq!(
                        inst.call(&format!("f64.{op}{v}"), &args),
                        Ok(want),
                        "f64.{op}{v}({a}, {b})"
                    );
                }
                let sel = inst.call(&format!("f64.{op}_fsel"), &args).unwrap();
                assert!(
                    same_f64(sel, if f(a, b) { a } else { b }),
                    "f64.{op}_fsel({a}, {b})"
                );
            }
        }
        assert!(same_f64(inst.call("f64.sqrt", &[a.to_bits()]).unwrap(), a.sqrt()));
        assert!(same_f32(inst.call("demote", &[a.to_bits()]).unwrap(), a as f32));
    }
    assert_eq!(
        inst.call("i32.reinterpret_reg", &[1.5f32.to_bits() as u64]),
        Ok(1.5f32.to_bits() as u64)
    );
    assert_eq!(inst.call("f64.reinterpret_reg", &[41]), Ok(42));
    assert_eq!(inst.call("f32.const", &[]), Ok((-3.0f32).to_bits() as u64));
    assert_eq!(
        inst.call("f64.const", &[]),
        Ok(f64::from_bits(0x4632_3456_789a_bcde).to_bits())
    );
}

// ------------------------------------------------------------------ float library operators

fn wasm_min_max<F: Copy + PartialOrd>(
    a: F,
    b: F,
    is_nan: fn(F) -> bool,
    neg_sign: fn(F) -> bool,
    is_min: bool,
) -> Option<F> {
    if is_nan(a) || is_nan(b) {
        return None; // any NaN
    }
    if a == b {
        // ±0: min prefers the negative zero, max the positive one.
        return Some(if neg_sign(a) == is_min { a } else { b });
    }
    Some(if (a < b) == is_min { a } else { b })
}

fn trunc_ref(x: f64, lo: f64, hi_exclusive: f64) -> Result<f64, TrapKind> {
    if x.is_nan() {
        return Err(TrapKind::InvalidConversion);
    }
    let t = x.trunc();
    if t < lo || t >= hi_exclusive {
        return Err(TrapKind::IntegerOverflow);
    }
    Ok(t)
}

#[test]
fn float_library_operators_match_reference() {
    let mut m = String::from("(module\n");
    for ty in ["f32", "f64"] {
        for op in ["min", "max", "copysign"] {
            m += &format!("(func (export \"{ty}.{op}\") (param {ty} {ty}) (result {ty}) ({ty}.{op} (local.get 0) (local.get 1)))\n");
        }
        for op in ["abs", "neg", "ceil", "floor", "trunc", "nearest"] {
            m += &format!(
                "(func (export \"{ty}.{op}\") (param {ty}) (result {ty}) ({ty}.{op} (local.get 0)))\n"
            );
        }
        for ity in ["i32", "i64"] {
            for sign in ["s", "u"] {
                m += &format!("(func (export \"{ity}.trunc_{ty}_{sign}\") (param {ty}) (result {ity}) ({ity}.trunc_{ty}_{sign} (local.get 0)))\n");
                m += &format!("(func (export \"{ity}.trunc_sat_{ty}_{sign}\") (param {ty}) (result {ity}) ({ity}.trunc_sat_{ty}_{sign} (local.get 0)))\n");
                m += &format!("(func (export \"{ty}.convert_{ity}_{sign}\") (param {ity}) (result {ty}) ({ty}.convert_{ity}_{sign} (local.get 0)))\n");
            }
        }
    }
    m += r#"(func (export "neg_const") (result f64) (f64.neg (f64.const 1.5)))
      (func (export "abs_const") (result f32) (f32.abs (f32.const -2)))
    )"#;
    let mut inst = Instance::new(&m);
    let f32s: Vec<f32> = F32_EDGES
        .iter()
        .copied()
        .chain([
            0.5,
            1.5,
            2.5,
            -0.5,
            -2.5,
            2147483520.0,
            2147483648.0,
            -2147483648.0,
            4294967040.0,
            4294967296.0,
            -0.9,
            9.223372e18,
            1.8446743e19,
        ])
        .collect();
    let f64s: Vec<f64> = F64_EDGES
        .iter()
        .copied()
        .chain([
            0.5,
            1.5,
            2.5,
            -0.5,
            -2.5,
            2147483647.9,
            2147483648.0,
            -2147483648.9,
            -2147483649.0,
            4294967295.5,
            4294967296.0,
            -0.99,
            9223372036854774784.0,
            9223372036854775808.0,
            18446744073709549568.0,
            18446744073709551616.0,
        ])
        .collect();
    for &a in &f32s {
        let x = a.to_bits() as u64;
        for &b in &f32s {
            let args = [x, b.to_bits() as u64];
            for (op, is_min) in [("min", true), ("max", false)] {
                let got = inst.call(&format!("f32.{op}"), &args).unwrap();
                match wasm_min_max(a, b, f32::is_nan, f32::is_sign_negative, is_min) {
                    None => assert!(f32::from_bits(got as u32).is_nan(), "f32.{op}({a}, {b})"),
                    Some(w) => assert_eq!(got, w.to_bits() as u64, "f32.{op}({a}, {b})"),
                }
            }
            assert_eq!(
                inst.call("f32.copysign", &args),
                Ok(a.copysign(b).to_bits() as u64),
                "copysign({a}, {b})"
            );
        }
        for (op, want) in [
            ("abs", a.abs()),
            ("neg", -a),
            ("ceil", a.ceil()),
            ("floor", a.floor()),
            ("trunc", a.trunc()),
            ("nearest", a.round_ties_even()),
        ] {
            let got = inst.call(&format!("f32.{op}"), &[x]).unwrap();
            assert!(
                same_f32(got, want),
                "f32.{op}({a}) = {}",
                f32::from_bits(got as u32)
            );
            if matches!(op, "abs" | "neg") {
                assert_eq!(got, want.to_bits() as u64, "f32.{op}({a}) is a bit operation");
            }
        }
        let v = a as f64;
        assert_eq!(
            inst.call("i32.trunc_f32_s", &[x]),
            trunc_ref(v, -2147483648.0, 2147483648.0).map(|t| t as i32 as u32 as u64),
            "i32.trunc_f32_s({a})"
        );
        assert_eq!(
            inst.call("i32.trunc_f32_u", &[x]),
            trunc_ref(v, 0.0, 4294967296.0).map(|t| t as u32 as u64),
            "i32.trunc_f32_u({a})"
        );
        assert_eq!(
            inst.call("i64.trunc_f32_s", &[x]),
            trunc_ref(v, -9223372036854775808.0, 9223372036854775808.0).map(|t| t as i64 as u64),
            "i64.trunc_f32_s({a})"
        );
        assert_eq!(
            inst.call("i64.trunc_f32_u", &[x]),
            trunc_ref(v, 0.0, 18446744073709551616.0).map(|t| t as u64),
            "i64.trunc_f32_u({a})"
        );
        assert_eq!(
            inst.call("i32.trunc_sat_f32_s", &[x]),
            Ok(a as i32 as u32 as u64),
            "sat {a}"
        );
        assert_eq!(
            inst.call("i32.trunc_sat_f32_u", &[x]),
            Ok(a as u32 as u64),
            "sat {a}"
        );
        assert_eq!(
            inst.call("i64.trunc_sat_f32_s", &[x]),
            Ok(a as i64 as u64),
            "sat {a}"
        );
        assert_eq!(inst.call("i64.trunc_sat_f32_u", &[x]), Ok(a as u64), "sat {a}");
    }
    for &a in &f64s {
        let x = a.to_bits();
        for &b in &f64s {
            let args = [x, b.to_bits()];
            for (op, is_min) in [("min", true), ("max", false)] {
                let got = inst.call(&format!("f64.{op}"), &args).unwrap();
                match wasm_min_max(a, b, f64::is_nan, f64::is_sign_negative, is_min) {
                    None => assert!(f64::from_bits(got).is_nan(), "f64.{op}({a}, {b})"),
                    Some(w) => assert_eq!(got, w.to_bits(), "f64.{op}({a}, {b})"),
                }
            }
            assert_eq!(inst.call("f64.copysign", &args), Ok(a.copysign(b).to_bits()));
        }
        for (op, want) in [
            ("abs", a.abs()),
            ("neg", -a),
            ("ceil", a.ceil()),
            ("floor", a.floor()),
            ("trunc", a.trunc()),
            ("nearest", a.round_ties_even()),
        ] {
            let got = inst.call(&format!("f64.{op}"), &[x]).unwrap();
            assert!(same_f64(got, want), "f64.{op}({a})");
        }
        assert_eq!(
            inst.call("i32.trunc_f64_s", &[x]),
            trunc_ref(a, -2147483648.0, 2147483648.0).map(|t| t as i32 as u32 as u64),
            "i32.trunc_f64_s({a})"
        );
        assert_eq!(
            inst.call("i32.trunc_f64_u", &[x]),
            trunc_ref(a, 0.0, 4294967296.0).map(|t| t as u32 as u64),
            "i32.trunc_f64_u({a})"
        );
        assert_eq!(
            inst.call("i64.trunc_f64_s", &[x]),
            trunc_ref(a, -9223372036854775808.0, 9223372036854775808.0).map(|t| t as i64 as u64),
            "i64.trunc_f64_s({a})"
        );
        assert_eq!(
            inst.call("i64.trunc_f64_u", &[x]),
            trunc_ref(a, 0.0, 18446744073709551616.0).map(|t| t as u64),
            "i64.trunc_f64_u({a})"
        );
        assert_eq!(inst.call("i32.trunc_sat_f64_s", &[x]), Ok(a as i32 as u32 as u64));
        assert_eq!(inst.call("i32.trunc_sat_f64_u", &[x]), Ok(a as u32 as u64));
        assert_eq!(inst.call("i64.trunc_sat_f64_s", &[x]), Ok(a as i64 as u64));
        assert_eq!(inst.call("i64.trunc_sat_f64_u", &[x]), Ok(a as u64));
    }
    for &i in I32_EDGES {
        let x = i as u64;
        assert_eq!(
            inst.call("f32.convert_i32_s", &[x]),
            Ok((i as i32 as f32).to_bits() as u64)
        );
        assert_eq!(
            inst.call("f32.convert_i32_u", &[x]),
            Ok((i as f32).to_bits() as u64)
        );
        assert_eq!(
            inst.call("f64.convert_i32_s", &[x]),
            Ok((i as i32 as f64).to_bits())
        );
        assert_eq!(inst.call("f64.convert_i32_u", &[x]), Ok((i as f64).to_bits()));
    }
    for &i in I64_EDGES
        .iter()
        .chain(&[0x20_0000_0000_0001u64, 0xffff_ff7f_ffff_ffff])
    {
        assert_eq!(
            inst.call("f32.convert_i64_s", &[i]),
            Ok((i as i64 as f32).to_bits() as u64),
            "f32.convert_i64_s({i:#x})"
        );
        assert_eq!(
            inst.call("f32.convert_i64_u", &[i]),
            Ok((i as f32).to_bits() as u64),
            "f32.convert_i64_u({i:#x})"
        );
        assert_eq!(
            inst.call("f64.convert_i64_s", &[i]),
            Ok((i as i64 as f64).to_bits())
        );
        assert_eq!(inst.call("f64.convert_i64_u", &[i]), Ok((i as f64).to_bits()));
    }
    assert_eq!(inst.call("neg_const", &[]), Ok((-1.5f64).to_bits()));
    assert_eq!(inst.call("abs_const", &[]), Ok(2.0f32.to_bits() as u64));
}
