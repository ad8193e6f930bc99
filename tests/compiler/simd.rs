//! SIMD code-generation paths the spec suite touches lightly: register pressure (spills of
//! v128 values), v128 across calls, block parameters/results, br_table and select.

use crate::harness::Instance;

#[test]
fn v128_spills_under_register_pressure() {
    // 20 live v128 values (more than the allocatable XMM registers), summed at the end.
    let mut body = String::new();
    for i in 0..20 {
        body.push_str(&format!(
            "(i32x4.splat (i32.add (local.get 0) (i32.const {i})))\n"
        ));
    }
    for _ in 0..19 {
        body.push_str("i32x4.add\n");
    }
    let wat = format!(
        r#"(module (func (export "f") (param i32) (result i32)
            {body}
            (i32x4.extract_lane 3)))"#
    );
    let mut inst = Instance::new(&wat);
    // sum_{i<20} (x + i) = 20x + 190
    assert_eq!(inst.call("f", &[5]), Ok(290));
}

#[test]
fn v128_across_calls_blocks_and_branches() {
    let wat = r#"(module
      (func $scale (param v128 i32 v128) (result v128)
        (i32x4.add (i32x4.mul (local.get 0) (i32x4.splat (local.get 1))) (local.get 2)))
      (func (export "calls") (param $x i32) (result i32) (local $v v128)
        (local.set $v (i32x4.splat (local.get $x)))
        (i32x4.extract_lane 2
          (i32x4.add
            (local.get $v)
            (call $scale (local.get $v) (i32.const 3) (v128.const i32x4 1 2 3 4)))))
      (func (export "blocks") (param $sel i32) (result i32)
        (i32x4.extract_lane 1
          (block $out (result v128)
            (block $b (result v128)
              (v128.const i32x4 7 8 9 10)
              (br_table $b $out (local.get $sel)))
            (i32x4.add (v128.const i32x4 100 100 100 100)))))
      (func (export "loop_param") (param $n i32) (result i32)
        (i32x4.extract_lane 0
          (v128.const i32x4 0 0 0 0)
          (loop $l (param v128) (result v128)
            (i32x4.add (v128.const i32x4 3 0 0 0))
            (local.tee $n (i32.sub (local.get $n) (i32.const 1)))
            (br_if $l))))
      (func (export "sel") (param $c i32) (result i64)
        (i64x2.extract_lane 1
          (select (v128.const i64x2 1 2) (v128.const i64x2 3 4) (local.get $c))))
      (func (export "if_v128") (param $c i32) (result i32) (local $g v128)
        (local.set $g (v128.const i32x4 5 6 7 8))
        (i32x4.extract_lane 3
          (if (result v128) (local.get $c)
            (then (local.get $g))
            (else (i32x4.neg (local.get $g))))))
    )"#;
    let mut inst = Instance::new(wat);
    // v + (v * 3 + [1 2 3 4]) at lane 2 = 4x + 3
    assert_eq!(inst.call("calls", &[10]), Ok(43));
    assert_eq!(inst.call("blocks", &[0]), Ok(108));
    assert_eq!(inst.call("blocks", &[1]), Ok(8));
    assert_eq!(inst.call("blocks", &[9]), Ok(8));
    assert_eq!(inst.call("loop_param", &[4]), Ok(12));
    assert_eq!(inst.call("sel", &[1]), Ok(2));
    assert_eq!(inst.call("sel", &[0]), Ok(4));
    assert_eq!(inst.call("if_v128", &[1]), Ok(8));
    assert_eq!(inst.call("if_v128", &[0]), Ok((-8i32) as u32 as u64));
}

#[test]
fn v128_types_without_simd_operators() {
    // No 0xfd opcode in these bodies: the pre-scan must still size the slots for v128.
    let wat = r#"(module
      (func (export "blk") (param $c i32) (result i32)
        (block (result v128) (br_if 1 (i32.const 7) (local.get $c)) unreachable)
        drop (i32.const 1))
      (func (export "sel") (param $c i32) (result i32)
        (block (result i32)
          (i32.const 9)
          (br_if 0 (i32.eqz (local.get $c)))
          drop
          (select (result v128) (unreachable) (unreachable) (local.get $c))
          drop (i32.const 2))))"#;
    let mut inst = Instance::new(wat);
    assert_eq!(inst.call("blk", &[1]), Ok(7));
    assert_eq!(inst.call("sel", &[0]), Ok(9));
}
