//! A function with well over 1 MiB of machine code (beyond the ±1 MiB reach of aarch64
//! conditional branches) whose traps and branches span the whole body: shared by the
//! execution test (`tests/compiler/far_branches.rs`) and the cross-ISA compile test.
//!
//! `f(mode)`: 0 runs the body twice (a backward `br_if` over it) and returns the
//! accumulator; 1 divides by zero at the start, 2 at the end; 3 loads out of bounds at the
//! start; 4 skips the body with a forward `br_if` (returns 0); 5 recurses until the prologue's
//! stack check traps.

use std::fmt::Write;

/// Chunks of the body: each about 40 bytes of aarch64 code with a bounds-checked load.
pub const CHUNKS: u32 = 40_000;

const DATA: [u8; 64] = {
    let mut d = [0u8; 64];
    let mut i = 0;
    while i < 64 {
        d[i] = (i as u8).wrapping_mul(37).wrapping_add(11);
        i += 1;
    }
    d
};

/// The module's WAT text.
pub fn wat() -> String {
    let mut s = String::with_capacity(CHUNKS as usize * 120);
    s.push_str("(module (memory 1) (data (i32.const 0) \"");
    for b in DATA {
        write!(s, "\\{b:02x}").unwrap();
    }
    s.push_str(
        "\")
  (func $f (export \"f\") (param $mode i32) (result i32) (local $acc i32) (local $n i32)
    (drop (i32.div_u (i32.const 1) (i32.sub (local.get $mode) (i32.const 1))))
    (drop (i32.load (i32.mul (i32.eq (local.get $mode) (i32.const 3)) (i32.const 0x10000))))
    (if (i32.eq (local.get $mode) (i32.const 5)) (then (drop (call $f (i32.const 5)))))
    (local.set $n (i32.const 2))
    (block $out
      (br_if $out (i32.eq (local.get $mode) (i32.const 4)))
      (loop $again\n",
    );
    for i in 0..CHUNKS {
        writeln!(
            s,
            "(local.set $acc (i32.add (i32.add (i32.mul (local.get $acc) (i32.const 31)) \
             (i32.load (i32.and (local.get $acc) (i32.const 0x3c)))) (i32.const {i})))"
        )
        .unwrap();
    }
    s.push_str(
        "(local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br_if $again (local.get $n))))
    (drop (i32.div_u (i32.const 1) (i32.sub (local.get $mode) (i32.const 2))))
    (local.get $acc)))",
    );
    s
}

/// What `f(0)` returns.
pub fn expected() -> u32 {
    let load = |a: u32| u32::from_le_bytes(DATA[a as usize..a as usize + 4].try_into().unwrap());
    let mut acc = 0u32;
    for _ in 0..2 {
        for i in 0..CHUNKS {
            acc = acc.wrapping_mul(31).wrapping_add(load(acc & 0x3c)).wrapping_add(i);
        }
    }
    acc
}
