//! Direct calls: parameters in registers (the direct entry) against the argument-area entry
//! (trampoline, `call_indirect`), and pinned locals across calls.

use super::harness::*;

/// Parameter types of the wide signature: more of each class than either ISA has argument
/// registers for (x86-64: 5 integer, 8 float; aarch64: 8 and 8).
const WIDE: [&str; 4] = ["i32", "i64", "f32", "f64"];
const N_WIDE: usize = 24;

fn wide_ty(k: usize) -> &'static str {
    WIDE[k % 4]
}

/// `(param ...)` of the wide signature.
fn wide_params() -> String {
    (0..N_WIDE).map(|k| format!(" {}", wide_ty(k))).collect::<Vec<_>>().join("")
}

/// Argument `k` computed from local `$s` (each in its own register before the call).
fn wide_arg(k: usize) -> String {
    match wide_ty(k) {
        "i32" => format!("(i32.add (local.get $s) (i32.const {k}))"),
        "i64" => format!("(i64.add (i64.extend_i32_u (local.get $s)) (i64.const {}))", k * 1000),
        "f32" => format!("(f32.add (f32.convert_i32_u (local.get $s)) (f32.const {k}.5))"),
        _ => format!("(f64.add (f64.convert_i32_u (local.get $s)) (f64.const {k}.25))"),
    }
}

/// The integer the callee folds from parameter `k` (its value for `s`).
fn wide_value(k: usize, s: u32) -> u64 {
    let s = s as u64;
    match wide_ty(k) {
        "i64" => s + 1000 * k as u64,
        _ => s + k as u64,
    }
}

fn wide_expected(s: u32) -> u64 {
    (0..N_WIDE).fold(0u64, |acc, k| acc.wrapping_mul(31).wrapping_add(wide_value(k, s)))
}

/// `$wide` folds its parameters in order (`acc * 31 + int(p_k)`), so a parameter in the
/// wrong place or register changes the result; "direct" and "indirect" call it from `$s`.
fn wide_module() -> String {
    let mut body = String::from("(i64.const 0)");
    for k in 0..N_WIDE {
        let v = match wide_ty(k) {
            "i32" => format!("(i64.extend_i32_u (local.get {k}))"),
            "i64" => format!("(local.get {k})"),
            "f32" => format!("(i64.trunc_sat_f32_s (local.get {k}))"),
            _ => format!("(i64.trunc_sat_f64_s (local.get {k}))"),
        };
        body = format!("(i64.add (i64.mul {body} (i64.const 31)) {v})");
    }
    let args: String = (0..N_WIDE).map(wide_arg).collect::<Vec<_>>().join(" ");
    format!(
        r#"(module
          (type $t (func (param{p}) (result i64)))
          (table 1 funcref) (elem (i32.const 0) $wide)
          (func $wide (export "wide") (type $t) {body})
          (func (export "direct") (param $s i32) (result i64) (call $wide {args}))
          (func (export "indirect") (param $s i32) (result i64)
            (call_indirect (type $t) {args} (i32.const 0))))"#,
        p = wide_params()
    )
}

#[test]
fn many_mixed_parameters_agree_on_every_entry() {
    let mut inst = Instance::new(&wide_module());
    for s in [0u32, 1, 7, 1000] {
        let expected = wide_expected(s);
        assert_eq!(inst.call("direct", &[s as u64]), Ok(expected), "direct, s={s}");
        assert_eq!(inst.call("indirect", &[s as u64]), Ok(expected), "indirect, s={s}");
        let raw: Vec<u64> = (0..N_WIDE)
            .map(|k| match wide_ty(k) {
                "f32" => ((s as f32 + k as f32 + 0.5).to_bits()) as u64,
                "f64" => (s as f64 + k as f64 + 0.25).to_bits(),
                _ => wide_value(k, s),
            })
            .collect();
        assert_eq!(inst.call("wide", &raw), Ok(expected), "entry, s={s}");
    }
}

#[test]
fn v128_parameters_between_register_parameters() {
    let wat = r#"(module
      (type $t (func (param i32 v128 f64 v128 i64) (result i64)))
      (table 1 funcref) (elem (i32.const 0) $f)
      (func $f (type $t)
        (i64.add
          (i64.add (i64.mul (i64.extend_i32_u (local.get 0)) (i64.const 1000000))
                   (i64.extend_i32_u (i32x4.extract_lane 3 (local.get 1))))
          (i64.add (i64.mul (i64.trunc_sat_f64_s (local.get 2)) (i64.const 100))
                   (i64.add (i64x2.extract_lane 1 (local.get 3)) (i64.mul (local.get 4) (i64.const 10000))))))
      (func (export "direct") (param $s i32) (result i64)
        (call $f (local.get $s) (v128.const i32x4 0 0 0 5) (f64.const 7.5)
                 (i64x2.splat (i64.extend_i32_u (local.get $s))) (i64.const 3)))
      (func (export "indirect") (param $s i32) (result i64)
        (call_indirect (type $t) (local.get $s) (v128.const i32x4 0 0 0 5) (f64.const 7.5)
                 (i64x2.splat (i64.extend_i32_u (local.get $s))) (i64.const 3) (i32.const 0))))"#;
    let mut inst = Instance::new(wat);
    let expected = |s: u64| s * 1_000_000 + 5 + 700 + s + 30_000;
    for s in [0u64, 9] {
        assert_eq!(inst.call("direct", &[s]), Ok(expected(s)));
        assert_eq!(inst.call("indirect", &[s]), Ok(expected(s)));
    }
}

#[test]
fn recursion_with_register_parameters() {
    let wat = r#"(module
      (func $fib (export "fib") (param $n i32) (result i32)
        (if (result i32) (i32.lt_s (local.get $n) (i32.const 2))
          (then (local.get $n))
          (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1)))
                         (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
      ;; Ackermann-like: parameters swap places between the recursive calls.
      (func $swap (export "swap") (param $a i64) (param $b i32) (param $x f64) (result f64)
        (if (result f64) (i32.eqz (local.get $b))
          (then (f64.add (local.get $x) (f64.convert_i64_s (local.get $a))))
          (else (f64.sub
                  (call $swap (i64.extend_i32_u (local.get $b)) (i32.sub (local.get $b) (i32.const 1))
                              (f64.mul (local.get $x) (f64.const 0.5)))
                  (call $swap (local.get $a) (i32.const 0) (local.get $x)))))))"#;
    let mut inst = Instance::new(wat);
    assert_eq!(inst.call("fib", &[20]), Ok(6765));
    fn swap(a: i64, b: u32, x: f64) -> f64 {
        if b == 0 {
            x + a as f64
        } else {
            swap(b as i64, b - 1, x * 0.5) - swap(a, 0, x)
        }
    }
    for (a, b, x) in [(3i64, 5u32, 10.0f64), (-4, 12, 1.25)] {
        let got = inst.call("swap", &[a as u64, b as u64, x.to_bits()]).map(f64::from_bits);
        assert_eq!(got, Ok(swap(a, b, x)), "swap({a}, {b}, {x})");
    }
}

/// The start of a module whose `$id` returns its argument and zeroes the registers that
/// hold pinned locals (so a caller's stale pinned local shows up in its result).
const CLOBBERING_ID: &str = r#"(module
      (func $id (param $v i32) (result i32) (local $a i32) (local $b i32) (local $c i32)
        (local $d i32) (local $e i32) (local $f i32)
        (local.set $a (i32.const 0)) (local.set $b (local.get $a)) (local.set $c (local.get $b))
        (local.set $d (local.get $c)) (local.set $e (local.get $d)) (local.set $f (local.get $e))
        (drop (i32.add (local.get $f) (local.get $f)))
        (local.get $v))
"#;

#[test]
fn pinned_locals_stay_right_across_calls() {
    // `$n` is last read before the call in body order, but the loop's back edge reads it
    // again; `$k` is pushed before a call and consumed after it; `$t` is dead after the
    // call in `tail` and its reload may be skipped. A stale `$n` ends the loop early.
    let wat = CLOBBERING_ID.to_owned()
        + r#"
      (func (export "loop") (param $n i32) (result i32) (local $acc i32)
        (block $done
          (loop $l
            (br_if $done (i32.eqz (local.get $n)))
            (local.set $acc (i32.add (local.get $acc) (i32.mul (local.get $n) (local.get $n))))
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (drop (call $id (i32.const 99)))
            (br $l)))
        (local.get $acc))
      (func (export "pending") (param $k i32) (result i32)
        (local.set $k (i32.mul (local.get $k) (local.get $k)))
        (i32.sub (local.get $k) (call $id (i32.add (local.get $k) (i32.const 5)))))
      (func (export "tail") (param $t i32) (result i32)
        (local.set $t (i32.add (local.get $t) (local.get $t)))
        (i32.add (call $id (local.get $t)) (call $id (i32.const 1)))))"#;
    let mut inst = Instance::new(&wat);
    let squares = |n: u32| (1..=n).map(|i| i * i).sum::<u32>() as u64;
    assert_eq!(inst.call("loop", &[10]), Ok(squares(10)));
    assert_eq!(inst.call("loop", &[0]), Ok(0));
    assert_eq!(inst.call("pending", &[6]), Ok((-5i32) as u32 as u64));
    assert_eq!(inst.call("tail", &[21]), Ok(43));
}

#[test]
fn parameter_homes_saved_only_by_the_calls_that_need_them() {
    // Without a call in a loop the direct entry leaves pinned parameters' homes unwritten;
    // each call after which one is read saves it first. `$id` zeroes the registers of
    // pinned locals, so a stale home or register shows up in the result.
    let wat = CLOBBERING_ID.to_owned()
        + r#"
      ;; Calls on one path only; the other path reads the parameters without a call.
      (func $branchy (param $n i32) (param $m i32) (result i32)
        (if (result i32) (i32.gt_s (local.get $n) (i32.const 0))
          (then (i32.add (call $id (local.get $m)) (i32.mul (local.get $n) (local.get $m))))
          (else (i32.sub (local.get $m) (local.get $n)))))
      ;; A top-level call saves `$n` once for all later calls (inside a branch too).
      (func $twice (param $n i32) (result i32)
        (drop (call $id (local.get $n)))
        (if (result i32) (local.get $n)
          (then (i32.add (call $id (i32.const 1)) (i32.add (local.get $n) (local.get $n))))
          (else (i32.const -1))))
      ;; `$n` is written after the first call and read after the second.
      (func $written (param $n i32) (result i32)
        (local.set $n (i32.add (call $id (local.get $n)) (local.get $n)))
        (i32.add (call $id (i32.const 3)) (local.get $n)))
      (func (export "branchy") (param i32 i32) (result i32) (call $branchy (local.get 0) (local.get 1)))
      (func (export "twice") (param i32) (result i32) (call $twice (local.get 0)))
      (func (export "written") (param i32) (result i32) (call $written (local.get 0)))
      (func (export "branchy_area") (param i32 i32) (result i32)
        (call_indirect (param i32 i32) (result i32) (local.get 0) (local.get 1) (i32.const 0)))
      (table funcref (elem $branchy)))"#;
    let mut inst = Instance::new(&wat);
    for (n, m) in [(5i32, 7i32), (0, 9), (-3, 4)] {
        let expected = if n > 0 { m + n * m } else { m - n };
        let args = [n as u32 as u64, m as u32 as u64];
        assert_eq!(inst.call("branchy", &args), Ok(expected as u32 as u64), "branchy({n}, {m})");
        assert_eq!(inst.call("branchy_area", &args), Ok(expected as u32 as u64), "area ({n}, {m})");
    }
    assert_eq!(inst.call("twice", &[20]), Ok(41));
    assert_eq!(inst.call("twice", &[0]), Ok(u32::MAX as u64));
    assert_eq!(inst.call("written", &[8]), Ok(19));
}

#[test]
fn branches_to_frames_that_end_the_function_return() {
    // Blocks and `if`s whose `end` is followed only by `end`s return from their branches
    // (each with its own epilogue); a frame with values below it does not.
    let wat = r#"(module
      (func $tails (param $x i32) (param $y i32) (result i32)
        (block $a (result i32)
          (block $b (result i32)
            (br_if $a (local.get $y) (i32.eq (local.get $x) (i32.const 1)))
            (drop)
            (br_table $a $b (i32.add (local.get $x) (local.get $y))
                            (i32.sub (local.get $x) (i32.const 2))))
          (i32.mul (i32.const 100))))
      (func $sel (param $c i32) (param $p i32) (param $q i32) (result i32)
        (if (result i32) (local.get $c)
          (then (i32.add (local.get $p) (local.get $p)))
          (else (local.get $q))))
      (func $below (param $x i32) (result i32)
        (i32.const 1000)
        (block (result i32)
          (br_if 0 (local.get $x) (local.get $x))
          (drop) (i32.const 5))
        (i32.add))
      ;; Inside a loop, `br_if` to a tail frame jumps to its end rather than returning.
      (func $count (param $n i32) (result i32) (local $i i32)
        (block $done (result i32)
          (loop $l
            (br_if $done (local.get $i) (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $i (i32.add (local.get $i) (i32.const 3)))
            (br $l))
          (unreachable)))
      (func (export "count") (param i32) (result i32) (call $count (local.get 0)))
      (func (export "tails") (param i32 i32) (result i32) (call $tails (local.get 0) (local.get 1)))
      (func (export "sel") (param i32 i32 i32) (result i32)
        (call $sel (local.get 0) (local.get 1) (local.get 2)))
      (func (export "below") (param i32) (result i32) (call $below (local.get 0))))"#;
    let mut inst = Instance::new(wat);
    assert_eq!(inst.call("tails", &[1, 9]), Ok(9));
    assert_eq!(inst.call("tails", &[2, 9]), Ok(11));
    assert_eq!(inst.call("tails", &[5, 9]), Ok(1400));
    assert_eq!(inst.call("sel", &[1, 4, 6]), Ok(8));
    assert_eq!(inst.call("sel", &[0, 4, 6]), Ok(6));
    assert_eq!(inst.call("below", &[7]), Ok(1007));
    assert_eq!(inst.call("below", &[0]), Ok(1005));
    assert_eq!(inst.call("count", &[10]), Ok(12));
    assert_eq!(inst.call("count", &[0]), Ok(0));
}
