//! Control flow, calls, traps, memory, globals.

use super::harness::*;
use wazero::TrapKind;

// ------------------------------------------------------------------ control flow

#[test]
fn control_flow_blocks_loops_and_br_table() {
    let wat = r#"(module
      (func (export "sum_to") (param i32) (result i32) (local i32)
        (block $done
          (loop $next
            (br_if $done (i32.eqz (local.get 0)))
            (local.set 1 (i32.add (local.get 1) (local.get 0)))
            (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
            (br $next)))
        (local.get 1))
      (func (export "switch") (param i32) (result i32)
        (block $d (block $c (block $b (block $a
          (br_table $a $b $c $d (local.get 0)))
          (return (i32.const 10)))
          (return (i32.const 11)))
          (return (i32.const 12)))
        (i32.const 13))
      (func (export "switch_values") (param i32) (result i32)
        (block $outer (result i32)
          (block $inner (result i32)
            (i32.const 100)
            (br_table $inner $outer 0 (local.get 0)))
          (i32.add (i32.const 1)))
        (i32.add (i32.const 1000)))
      (func (export "switch_return") (param i32) (result i32)
        (block $a (result i32)
          (i32.const 7)
          (br_table $a 1 (local.get 0)))
        (i32.const 2) (i32.mul))
      (func (export "nested_if") (param i32 i32) (result i32)
        (if (result i32) (local.get 0)
          (then (if (result i32) (local.get 1) (then (i32.const 1)) (else (i32.const 2))))
          (else (if (result i32) (local.get 1) (then (i32.const 3)) (else (i32.const 4))))))
      (func (export "if_no_else") (param i32) (result i32) (local i32)
        (local.set 1 (i32.const 5))
        (if (local.get 0) (then (local.set 1 (i32.const 6))))
        (local.get 1))
      (func (export "br_if_value") (param i32) (result i32)
        (block (result i32)
          (drop (br_if 0 (i32.const 42) (local.get 0)))
          (i32.const 7)))
      (func (export "stack_across_block") (param i32) (result i32)
        (i32.add (i32.mul (local.get 0) (i32.const 3))
          (block (result i32) (i32.add (local.get 0) (i32.const 1)))))
      (func (export "loop_param") (param i32) (result i32)
        (i32.const 0)
        (loop $l (param i32) (result i32)
          (i32.add (local.get 0))
          (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
          (br_if $l (i32.ne (local.get 0) (i32.const 0)) )))
      (func (export "unreachable_tail") (param i32) (result i32)
        (block (result i32)
          (br 0 (i32.const 9))
          (i32.add (i32.const 1) (i32.const 2))
          (block (drop (i32.const 3)))
          (if (result i32) (i32.const 1) (then (i32.const 1)) (else (i32.const 2)))
          (drop))
        (return)
        (i32.const 5))
      (func (export "select_local") (param i32 i32 i32) (result i32)
        (select (local.get 0) (local.get 1) (local.get 2)))
      (func (export "tee") (param i32) (result i32) (local i32)
        (i32.add (local.tee 1 (i32.mul (local.get 0) (i32.const 2))) (local.get 1)))
      (func (export "latent_local") (param i32) (result i32)
        (local.get 0)
        (local.set 0 (i32.const 100))
        (local.get 0)
        (i32.sub))
    )"#;
    let mut inst = Instance::new(wat);
    assert_eq!(inst.call("sum_to", &[100]), Ok(5050));
    for (i, want) in [
        (0, 10),
        (1, 11),
        (2, 12),
        (3, 13),
        (4, 13),
        (1000, 13),
        (u32::MAX as u64, 13),
    ] {
        assert_eq!(inst.call("switch", &[i]), Ok(want), "switch({i})");
    }
    assert_eq!(inst.call("switch_values", &[0]), Ok(1101));
    assert_eq!(inst.call("switch_values", &[1]), Ok(1100));
    assert_eq!(inst.call("switch_values", &[2]), Ok(1101));
    assert_eq!(inst.call("switch_return", &[0]), Ok(14));
    assert_eq!(inst.call("switch_return", &[1]), Ok(7));
    assert_eq!(inst.call("switch_return", &[9]), Ok(7));
    assert_eq!(inst.call("nested_if", &[1, 1]), Ok(1));
    assert_eq!(inst.call("nested_if", &[1, 0]), Ok(2));
    assert_eq!(inst.call("nested_if", &[0, 1]), Ok(3));
    assert_eq!(inst.call("nested_if", &[0, 0]), Ok(4));
    assert_eq!(inst.call("if_no_else", &[0]), Ok(5));
    assert_eq!(inst.call("if_no_else", &[1]), Ok(6));
    assert_eq!(inst.call("br_if_value", &[1]), Ok(42));
    assert_eq!(inst.call("br_if_value", &[0]), Ok(7));
    assert_eq!(inst.call("stack_across_block", &[5]), Ok(21));
    assert_eq!(inst.call("loop_param", &[4]), Ok(10));
    assert_eq!(inst.call("unreachable_tail", &[0]), Ok(9));
    assert_eq!(inst.call("select_local", &[1, 2, 0]), Ok(2));
    assert_eq!(inst.call("select_local", &[1, 2, 5]), Ok(1));
    assert_eq!(inst.call("tee", &[21]), Ok(84));
    assert_eq!(
        inst.call("latent_local", &[1]),
        Ok((1u32.wrapping_sub(100)) as u64)
    );
}

#[test]
fn multi_value_blocks_and_functions() {
    let wat = r#"(module
      (func $swap (param i32 i64) (result i64 i32) (local.get 1) (local.get 0))
      (func (export "swap") (param i32 i64) (result i64 i32) (call $swap (local.get 0) (local.get 1)))
      (func (export "swap_params") (param i64 i64) (result i64 i64) (local.get 1) (local.get 0))
      (func (export "block_multi") (param i32) (result i32)
        (i32.const 5)
        (block (param i32) (result i32 i32)
          (i32.const 10)
          (br_if 0 (local.get 0))
          (drop) (drop) (i32.const 1) (i32.const 2))
        (i32.sub))
      (func (export "if_multi") (param i32) (result i32 i32 i32)
        (i32.const 5)
        (if (param i32) (result i32 i32 i32) (local.get 0)
          (then (i32.const 6) (i32.const 7))
          (else (i32.const 8) (i32.const 9))))
      (func (export "many") (result i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)
        (i32.const 1) (i32.const 2) (i32.const 3) (i32.const 4) (i32.const 5) (i32.const 6) (i32.const 7) (i32.const 8)
        (i32.const 9) (i32.const 10) (i32.const 11) (i32.const 12) (i32.const 13) (i32.const 14) (i32.const 15) (i32.const 16))
      (func $many_regs (result i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
        (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4) (i64.const 5) (i64.const 6) (i64.const 7) (i64.const 8)
        (i64.const 9) (i64.const 10) (i64.const 11) (i64.const 12) (i64.const 13) (i64.const 14) (i64.const 15))
      (func (export "sum_many") (result i64)
        (call $many_regs)
        (i64.add) (i64.add) (i64.add) (i64.add) (i64.add) (i64.add) (i64.add)
        (i64.add) (i64.add) (i64.add) (i64.add) (i64.add) (i64.add) (i64.add))
    )"#;
    let mut inst = Instance::new(wat);
    assert_eq!(
        inst.call_raw("swap", &[3, 0x1_0000_0000]),
        Ok(vec![0x1_0000_0000, 3])
    );
    assert_eq!(inst.call_raw("swap_params", &[1, 2]), Ok(vec![2, 1]));
    assert_eq!(inst.call("block_multi", &[1]), Ok(0xffff_fffb)); // taken: 5 - 10
    assert_eq!(inst.call("block_multi", &[0]), Ok(0xffff_ffff));
    assert_eq!(inst.call_raw("if_multi", &[1]), Ok(vec![5, 6, 7]));
    assert_eq!(inst.call_raw("if_multi", &[0]), Ok(vec![5, 8, 9]));
    assert_eq!(inst.call_raw("many", &[]), Ok((1..=16).collect()));
    assert_eq!(inst.call("sum_many", &[]), Ok(120));
}

// ------------------------------------------------------------------ calls

#[test]
fn calls_recursion_and_register_pressure() {
    let wat = r#"(module
      (func $fib (export "fib") (param i32) (result i32)
        (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
          (then (local.get 0))
          (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                         (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
      (func $mix (param i64 f64 i32 f32) (result f64 i64)
        (f64.add (local.get 1) (f64.promote_f32 (local.get 3)))
        (i64.add (local.get 0) (i64.extend_i32_u (local.get 2))))
      (func (export "mix") (result f64 i64)
        (call $mix (i64.const 40) (f64.const 1.5) (i32.const 2) (f32.const 0.25)))
      (func (export "live_across_call") (param i32) (result i32)
        (i32.add (i32.mul (local.get 0) (i32.const 7))
                 (call $fib (i32.const 10))))
      (func (export "pressure") (param i32) (result i32)
        (i32.add (local.get 0) (i32.const 1)) (i32.add (local.get 0) (i32.const 2))
        (i32.add (local.get 0) (i32.const 3)) (i32.add (local.get 0) (i32.const 4))
        (i32.add (local.get 0) (i32.const 5)) (i32.add (local.get 0) (i32.const 6))
        (i32.add (local.get 0) (i32.const 7)) (i32.add (local.get 0) (i32.const 8))
        (i32.add (local.get 0) (i32.const 9)) (i32.add (local.get 0) (i32.const 10))
        (i32.add (local.get 0) (i32.const 11)) (i32.add (local.get 0) (i32.const 12))
        (i32.add (local.get 0) (i32.const 13)) (i32.add (local.get 0) (i32.const 14))
        (i32.add (local.get 0) (i32.const 15)) (i32.add (local.get 0) (i32.const 16))
        (i32.div_u (i32.const 1000) (local.get 0))
        (i32.shl (i32.const 1) (local.get 0))
        (i32.add) (i32.add) (i32.add) (i32.add) (i32.add) (i32.add) (i32.add) (i32.add)
        (i32.add) (i32.add) (i32.add) (i32.add) (i32.add) (i32.add) (i32.add) (i32.add) (i32.add))
      (func (export "fpressure") (param f64) (result f64)
        (f64.add (local.get 0) (f64.const 1)) (f64.add (local.get 0) (f64.const 2))
        (f64.add (local.get 0) (f64.const 3)) (f64.add (local.get 0) (f64.const 4))
        (f64.add (local.get 0) (f64.const 5)) (f64.add (local.get 0) (f64.const 6))
        (f64.add (local.get 0) (f64.const 7)) (f64.add (local.get 0) (f64.const 8))
        (f64.add (local.get 0) (f64.const 9)) (f64.add (local.get 0) (f64.const 10))
        (f64.add (local.get 0) (f64.const 11)) (f64.add (local.get 0) (f64.const 12))
        (f64.add (local.get 0) (f64.const 13)) (f64.add (local.get 0) (f64.const 14))
        (f64.add (local.get 0) (f64.const 15)) (f64.add (local.get 0) (f64.const 16))
        (f64.add (local.get 0) (f64.const 17))
        (f64.add) (f64.add) (f64.add) (f64.add) (f64.add) (f64.add) (f64.add) (f64.add)
        (f64.add) (f64.add) (f64.add) (f64.add) (f64.add) (f64.add) (f64.add) (f64.add))
    )"#;
    let mut inst = Instance::new(wat);
    assert_eq!(inst.call("fib", &[20]), Ok(6765));
    assert_eq!(inst.call_raw("mix", &[]), Ok(vec![1.75f64.to_bits(), 42]));
    assert_eq!(inst.call("live_across_call", &[3]), Ok(21 + 55));
    let x = 5u32;
    let want: u32 = (1..=16).map(|k| x + k).sum::<u32>() + 1000 / x + (1 << x);
    assert_eq!(inst.call("pressure", &[x as u64]), Ok(want as u64));
    let want: f64 = (1..=17).map(|k| 0.5 + k as f64).sum();
    assert_eq!(inst.call("fpressure", &[0.5f64.to_bits()]), Ok(want.to_bits()));
}

#[test]
fn call_indirect_and_its_traps() {
    let wat = r#"(module
      (type $ii (func (param i32) (result i32)))
      (type $v (func))
      (table 4 funcref)
      (elem (i32.const 0) $double $triple $nop)
      (func $double (type $ii) (i32.mul (local.get 0) (i32.const 2)))
      (func $triple (type $ii) (i32.mul (local.get 0) (i32.const 3)))
      (func $nop (type $v))
      (func (export "dispatch") (param i32 i32) (result i32)
        (call_indirect (type $ii) (local.get 1) (local.get 0)))
    )"#;
    let mut inst = Instance::new(wat);
    assert_eq!(inst.call("dispatch", &[0, 7]), Ok(14));
    assert_eq!(inst.call("dispatch", &[1, 7]), Ok(21));
    assert_eq!(
        inst.call("dispatch", &[2, 7]),
        Err(TrapKind::IndirectCallTypeMismatch)
    );
    assert_eq!(
        inst.call("dispatch", &[3, 7]),
        Err(TrapKind::UninitializedElement)
    );
    assert_eq!(inst.call("dispatch", &[4, 7]), Err(TrapKind::UndefinedElement));
    assert_eq!(
        inst.call("dispatch", &[u32::MAX as u64, 7]),
        Err(TrapKind::UndefinedElement)
    );
    assert_eq!(inst.call("dispatch", &[1, 8]), Ok(24));
}

#[test]
fn host_imports_and_nested_traps() {
    let wat = r#"(module
      (import "env" "add10" (func $add10 (param i64) (result i64)))
      (import "env" "fail" (func $fail (param i32)))
      (global $g (mut i32) (i32.const 0))
      (func (export "call_host") (param i64) (result i64)
        (i64.mul (call $add10 (local.get 0)) (i64.const 2)))
      (func (export "call_fail") (param i32) (result i32)
        (global.set $g (i32.const 1))
        (call $fail (local.get 0))
        (global.get $g))
    )"#;
    let hosts: Vec<HostFn> = vec![
        Box::new(|args: &mut [u64]| {
            args[0] += 10;
            0
        }),
        Box::new(|args: &mut [u64]| args[0] as u32),
    ];
    let mut inst = Instance::with_hosts(wat, hosts);
    assert_eq!(inst.call("call_host", &[5]), Ok(30));
    assert_eq!(inst.call("call_fail", &[0]), Ok(1));
    assert_eq!(
        inst.call("call_fail", &[TrapKind::HostError as u64]),
        Err(TrapKind::HostError)
    );
    assert_eq!(inst.call("call_host", &[1]), Ok(22));
}

// ------------------------------------------------------------------ traps

#[test]
fn every_trap_kind_then_successful_call() {
    let wat = r#"(module
      (memory 1)
      (func (export "unreachable") (unreachable))
      (func (export "div0") (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
      (func (export "overflow") (param i64) (result i64) (i64.div_s (i64.const 0x8000000000000000) (local.get 0)))
      (func (export "rem_min") (param i64) (result i64) (i64.rem_s (i64.const 0x8000000000000000) (local.get 0)))
      (func (export "oob") (param i32) (result i32) (i32.load (local.get 0)))
      (func $deep (export "deep") (param i32) (result i32) (i32.add (call $deep (local.get 0)) (i32.const 1)))
      (func (export "ok") (result i32) (i32.const 77))
    )"#;
    let mut inst = Instance::new(wat);
    assert_eq!(inst.call_raw("unreachable", &[]), Err(TrapKind::Unreachable));
    assert_eq!(inst.call("ok", &[]), Ok(77));
    assert_eq!(inst.call("div0", &[0]), Err(TrapKind::IntegerDivideByZero));
    assert_eq!(inst.call("div0", &[1]), Ok(1));
    assert_eq!(inst.call("overflow", &[u64::MAX]), Err(TrapKind::IntegerOverflow));
    assert_eq!(inst.call("overflow", &[2]), Ok(0xc000_0000_0000_0000));
    assert_eq!(inst.call("rem_min", &[u64::MAX]), Ok(0));
    assert_eq!(inst.call("oob", &[65533]), Err(TrapKind::MemoryOutOfBounds));
    assert_eq!(inst.call("oob", &[65532]), Ok(0));
    assert_eq!(inst.call("deep", &[0]), Err(TrapKind::StackOverflow));
    assert_eq!(inst.call("ok", &[]), Ok(77));
    assert_eq!(inst.runtime.entry_sp.load(std::sync::atomic::Ordering::Relaxed), 0, "entry_sp restored after traps");
}

#[test]
fn interrupt_flag_stops_loops() {
    let wat = r#"(module (func (export "spin") (loop (br 0))))"#;
    let mut inst = Instance::new(wat);
    inst.runtime.interrupt.store(1, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(inst.call_raw("spin", &[]), Err(TrapKind::Interrupted));
}

// ------------------------------------------------------------------ memory

#[test]
fn memory_loads_stores_and_bounds() {
    let wat = r#"(module
      (memory 1)
      (data (i32.const 16) "\01\02\03\04\05\06\07\08\f0\ff\ff\ff\80")
      (func (export "i32.load") (param i32) (result i32) (i32.load (local.get 0)))
      (func (export "i32.load_off") (param i32) (result i32) (i32.load offset=4 (local.get 0)))
      (func (export "i64.load") (param i32) (result i64) (i64.load (local.get 0)))
      (func (export "i32.load8_s") (param i32) (result i32) (i32.load8_s (local.get 0)))
      (func (export "i32.load8_u") (param i32) (result i32) (i32.load8_u (local.get 0)))
      (func (export "i32.load16_s") (param i32) (result i32) (i32.load16_s (local.get 0)))
      (func (export "i32.load16_u") (param i32) (result i32) (i32.load16_u (local.get 0)))
      (func (export "i64.load8_s") (param i32) (result i64) (i64.load8_s (local.get 0)))
      (func (export "i64.load16_s") (param i32) (result i64) (i64.load16_s (local.get 0)))
      (func (export "i64.load32_s") (param i32) (result i64) (i64.load32_s (local.get 0)))
      (func (export "i64.load32_u") (param i32) (result i64) (i64.load32_u (local.get 0)))
      (func (export "f32.load") (param i32) (result f32) (f32.load (local.get 0)))
      (func (export "f64.load") (param i32) (result f64) (f64.load (local.get 0)))
      (func (export "const_addr") (result i32) (i32.load (i32.const 16)))
      (func (export "const_oob") (result i32) (i32.load (i32.const 65535)))
      (func (export "huge_offset") (param i32) (result i32) (i32.load offset=0xfffffff0 (local.get 0)))
      (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
      (func (export "store16") (param i32 i32) (i32.store16 (local.get 0) (local.get 1)))
      (func (export "store32") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
      (func (export "store64") (param i32 i64) (i64.store (local.get 0) (local.get 1)))
      (func (export "store64_32") (param i32 i64) (i64.store32 (local.get 0) (local.get 1)))
      (func (export "storef32") (param i32 f32) (f32.store (local.get 0) (local.get 1)))
      (func (export "storef64") (param i32 f64) (f64.store (local.get 0) (local.get 1)))
      (func (export "store_imm") (param i32) (i64.store (local.get 0) (i64.const -2)))
      (func (export "size") (result i32) (memory.size))
      (func (export "sum_bytes") (param i32 i32) (result i32) (local i32)
        (block $done (loop $l
          (br_if $done (i32.ge_u (local.get 0) (local.get 1)))
          (local.set 2 (i32.add (local.get 2) (i32.load8_u (local.get 0))))
          (local.set 0 (i32.add (local.get 0) (i32.const 1)))
          (br $l)))
        (local.get 2))
    )"#;
    let mut inst = Instance::new(wat);
    assert_eq!(inst.call("i32.load", &[16]), Ok(0x0403_0201));
    assert_eq!(inst.call("i32.load_off", &[16]), Ok(0x0807_0605));
    assert_eq!(inst.call("i64.load", &[16]), Ok(0x0807_0605_0403_0201));
    assert_eq!(inst.call("i32.load8_s", &[24]), Ok(0xffff_fff0));
    assert_eq!(inst.call("i32.load8_u", &[24]), Ok(0xf0));
    assert_eq!(inst.call("i32.load16_s", &[24]), Ok(0xffff_fff0));
    assert_eq!(inst.call("i32.load16_u", &[24]), Ok(0xfff0));
    assert_eq!(inst.call("i64.load8_s", &[28]), Ok(0xffff_ffff_ffff_ff80));
    assert_eq!(inst.call("i64.load16_s", &[27]), Ok(0xffff_ffff_ffff_80ff));
    assert_eq!(inst.call("i64.load32_s", &[25]), Ok(0xffff_ffff_80ff_ffff));
    assert_eq!(inst.call("i64.load32_u", &[25]), Ok(0x80ff_ffff));
    assert_eq!(inst.call("const_addr", &[]), Ok(0x0403_0201));
    assert_eq!(inst.call("const_oob", &[]), Err(TrapKind::MemoryOutOfBounds));
    assert_eq!(inst.call("huge_offset", &[0]), Err(TrapKind::MemoryOutOfBounds));
    assert_eq!(
        inst.call("huge_offset", &[0x20]),
        Err(TrapKind::MemoryOutOfBounds)
    );
    // Bounds edges for every width.
    for (f, size) in [
        ("i32.load", 4u64),
        ("i64.load", 8),
        ("i32.load8_u", 1),
        ("i32.load16_u", 2),
        ("f64.load", 8),
    ] {
        assert!(inst.call(f, &[65536 - size]).is_ok(), "{f} at last valid address");
        assert_eq!(
            inst.call(f, &[65536 - size + 1]),
            Err(TrapKind::MemoryOutOfBounds),
            "{f} one past"
        );
        assert_eq!(
            inst.call(f, &[u32::MAX as u64]),
            Err(TrapKind::MemoryOutOfBounds),
            "{f} at 4 GiB - 1"
        );
    }
    inst.call_raw("store8", &[100, 0x1ff]).unwrap();
    inst.call_raw("store16", &[102, 0x12345]).unwrap();
    assert_eq!(inst.call("i32.load", &[100]), Ok(0x2345_00ff));
    inst.call_raw("store32", &[104, 0xdead_beef]).unwrap();
    assert_eq!(inst.call("i32.load", &[104]), Ok(0xdead_beef));
    inst.call_raw("store64", &[200, 0x0102_0304_0506_0708]).unwrap();
    assert_eq!(inst.call("i64.load", &[200]), Ok(0x0102_0304_0506_0708));
    inst.call_raw("store64_32", &[200, 0xffff_ffff_aaaa_bbbb])
        .unwrap();
    assert_eq!(inst.call("i64.load", &[200]), Ok(0x0102_0304_aaaa_bbbb));
    inst.call_raw("storef32", &[300, 2.5f32.to_bits() as u64])
        .unwrap();
    assert_eq!(inst.call("f32.load", &[300]), Ok(2.5f32.to_bits() as u64));
    inst.call_raw("storef64", &[304, (-0.125f64).to_bits()]).unwrap();
    assert_eq!(inst.call("f64.load", &[304]), Ok((-0.125f64).to_bits()));
    inst.call_raw("store_imm", &[400]).unwrap();
    assert_eq!(inst.call("i64.load", &[400]), Ok(-2i64 as u64));
    assert_eq!(
        inst.call_raw("store32", &[65533, 1]),
        Err(TrapKind::MemoryOutOfBounds)
    );
    assert_eq!(&inst.memory_bytes[400..408], &(-2i64).to_le_bytes());
    assert_eq!(inst.call("size", &[]), Ok(1));
    assert_eq!(inst.call("sum_bytes", &[16, 20]), Ok(10));
}

#[test]
fn globals_read_and_write() {
    let wat = r#"(module
      (global $a (mut i32) (i32.const -5))
      (global $b (mut i64) (i64.const 0x100000000))
      (global $c (mut f64) (f64.const 2.5))
      (global $d f32 (f32.const 1.5))
      (func (export "bump") (result i32) (global.set $a (i32.add (global.get $a) (i32.const 1))) (global.get $a))
      (func (export "b") (result i64) (global.set $b (i64.shl (global.get $b) (i64.const 1))) (global.get $b))
      (func (export "c") (result f64) (global.set $c (f64.mul (global.get $c) (f64.const 2))) (global.get $c))
      (func (export "d") (result f32) (global.get $d))
    )"#;
    let mut inst = Instance::new(wat);
    assert_eq!(inst.call("bump", &[]), Ok((-4i32) as u32 as u64));
    assert_eq!(inst.call("bump", &[]), Ok((-3i32) as u32 as u64));
    assert_eq!(inst.call("b", &[]), Ok(0x2_0000_0000));
    assert_eq!(inst.call("c", &[]), Ok(5.0f64.to_bits()));
    assert_eq!(inst.call("d", &[]), Ok(1.5f32.to_bits() as u64));
}

#[test]
fn invalid_and_unsupported_modules_are_errors() {
    let bad = wat::parse_str("(module (func (result i32) (i64.const 1)))").unwrap();
    match compile(&bad) {
        Err(wazero::Error::Compile { offset: Some(_), .. }) => {}
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("invalid module accepted"),
    }
    let simd =
        wat::parse_str("(module (func (result i32) (i32x4.extract_lane 0 (v128.const i64x2 0 0))))").unwrap();
    // SIMD compiles on x86-64 (tests/compiler/simd.rs).
    assert!(compile(&simd).is_ok());
}

#[test]
fn pinned_locals_survive_calls_branches_and_tees() {
    let wat = r#"(module
      (func $clobber (param f64 i64) (result f64)
        (local f64 f64 f64 f64 i64 i64 i64 i64)
        (local.set 2 (f64.const 9)) (local.set 3 (f64.const 9)) (local.set 4 (f64.const 9)) (local.set 5 (f64.const 9))
        (local.set 6 (i64.const 9)) (local.set 7 (i64.const 9)) (local.set 8 (i64.const 9)) (local.set 9 (i64.const 9))
        (f64.add (local.get 0) (f64.convert_i64_s (i64.add (local.get 1) (i64.add (local.get 6) (local.get 9))))))
      (func (export "fsum") (param $n i32) (param $x f64) (result f64) (local $acc f64) (local $i i32)
        (loop $l
          (local.set $acc (f64.add (local.get $acc) (call $clobber (local.get $x) (i64.extend_i32_u (local.get $i)))))
          (local.set $x (f64.mul (local.get $x) (f64.const 0.5)))
          (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
        (f64.add (local.get $acc) (f64.convert_i32_u (local.get $i))))
      (func (export "latent_pinned") (param $a i32) (result i32)
        (local.get $a) (local.get $a)
        (local.set $a (i32.const 100))
        (i32.add)
        (local.get $a) (i32.add))
      (func (export "wrap_pinned") (param $v i64) (result i32)
        (i32.add (i32.wrap_i64 (local.get $v)) (i32.wrap_i64 (local.get $v))))
      (func (export "reinterpret_pinned") (param $v f64) (result i64)
        (i64.add (i64.reinterpret_f64 (local.get $v)) (i64.reinterpret_f64 (local.get $v))))
    )"#;
    let mut inst = Instance::new(wat);
    // Model: acc += x + (i + 18), x *= 0.5, for i in 0..n; result acc + n.
    let (mut acc, mut x) = (0.0f64, 3.0f64);
    for i in 0..5 {
        acc += x + (i + 18) as f64;
        x *= 0.5;
    }
    assert_eq!(
        inst.call("fsum", &[5, 3.0f64.to_bits()]),
        Ok((acc + 5.0).to_bits())
    );
    assert_eq!(inst.call("latent_pinned", &[7]), Ok(114));
    assert_eq!(inst.call("wrap_pinned", &[0xffff_ffff_8000_0001]), Ok(2));
    assert_eq!(
        inst.call("reinterpret_pinned", &[1.0f64.to_bits()]),
        Ok(1.0f64.to_bits().wrapping_mul(2))
    );
}

#[test]
fn pinned_memory_registers_survive_calls_and_check_bounds() {
    let wat = r#"(module
      (memory 1)
      (func $nop (param i32) (result i32) (local.get 0))
      (func (export "mix") (param $p i32) (result i64)
        (i32.store8 (local.get $p) (i32.const 0x81))
        (i32.store16 offset=2 (local.get $p) (i32.const 0x8382))
        (i64.store offset=8 (local.get $p) (i64.const 0x0102030405060708))
        (f64.store offset=16 (call $nop (local.get $p)) (f64.const 2.5))
        (i32.store (i32.const 100) (i32.load8_s (local.get $p)))
        (i64.add
          (i64.add (i64.load offset=8 (local.get $p)) (i64.load32_u offset=2 (local.get $p)))
          (i64.add (i64.extend_i32_u (i32.load (i32.const 100)))
                   (i64.trunc_f64_s (f64.load offset=16 (call $nop (local.get $p)))))))
      (func (export "oob") (param $p i32) (result i32)
        (i32.load (local.get $p)) (i32.load offset=4 (local.get $p)) (i32.add)
        (i32.load offset=8 (local.get $p)) (i32.add) (i32.load offset=12 (local.get $p)) (i32.add))
    )"#;
    let mut inst = Instance::new(wat);
    let want = 0x0102030405060708u64 + 0x8382u64 + 0xffff_ff81u64 + 2;
    assert_eq!(inst.call("mix", &[64]), Ok(want));
    assert_eq!(inst.call("mix", &[65536 - 24]), Ok(want));
    assert_eq!(inst.call("mix", &[65536 - 23]), Err(TrapKind::MemoryOutOfBounds));
    assert!(inst.call("oob", &[65536 - 16]).is_ok());
    assert_eq!(inst.call("oob", &[65536 - 15]), Err(TrapKind::MemoryOutOfBounds));
}
