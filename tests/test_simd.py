"""SIMD (v128): values cross the Python boundary as unsigned 128-bit ints (little-endian
lanes), and a vectorised kernel agrees with its scalar twin."""

from __future__ import annotations

import random

import pytest

import wazero

SIMD_WAT = r"""
(module
  (memory (export "memory") 1)
  (global $g (mut v128) (v128.const i64x2 0 0))
  (func (export "id") (param v128) (result v128) (local.get 0))
  (func (export "add32") (param v128 v128) (result v128) (i32x4.add (local.get 0) (local.get 1)))
  (func (export "swap") (param i32 v128 f64) (result f64 v128 i32)
    (local.get 2) (local.get 1) (local.get 0))
  (func (export "roundtrip_global") (param v128) (result v128)
    (global.set $g (local.get 0)) (global.get $g))

  ;; Fills n i32 pairs at a = 0 and b = 4 * n with a deterministic sequence from `seed`.
  (func (export "fill") (param $n i32) (param $seed i32) (local $i i32) (local $x i32)
    (local.set $x (local.get $seed))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (i32.mul (local.get $n) (i32.const 2))))
      (local.set $x (i32.add (i32.mul (local.get $x) (i32.const 1103515245)) (i32.const 12345)))
      (i32.store (i32.shl (local.get $i) (i32.const 2)) (i32.shr_s (local.get $x) (i32.const 16)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))))

  (func (export "dot_scalar") (param $n i32) (result i32) (local $i i32) (local $acc i32)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $acc (i32.add (local.get $acc)
        (i32.mul (i32.load (i32.shl (local.get $i) (i32.const 2)))
                 (i32.load (i32.shl (i32.add (local.get $i) (local.get $n)) (i32.const 2))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.get $acc))

  ;; n must be a multiple of 4.
  (func (export "dot_simd") (param $n i32) (result i32) (local $i i32) (local $acc v128)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $acc (i32x4.add (local.get $acc)
        (i32x4.mul (v128.load (i32.shl (local.get $i) (i32.const 2)))
                   (v128.load (i32.shl (i32.add (local.get $i) (local.get $n)) (i32.const 2))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l)))
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
      (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc)))))
)
"""


def lanes32(*xs: int) -> int:
    return sum((x & 0xFFFF_FFFF) << (32 * i) for i, x in enumerate(xs))


@pytest.fixture
def simd(runtime: wazero.Runtime):
    with runtime.instantiate(SIMD_WAT) as m:
        yield m


@pytest.mark.parametrize("value", [0, 1, 2**64, 2**127, 2**128 - 1, 0x0123456789ABCDEF_FEDCBA9876543210])
def test_v128_round_trip(simd, value):
    assert simd.call("id", value) == [value]
    assert simd.call("roundtrip_global", value) == [value]


def test_v128_lane_arithmetic(simd):
    a = lanes32(1, 2, 3, 0xFFFF_FFFF)
    b = lanes32(10, 20, 30, 2)
    assert simd.call("add32", a, b) == [lanes32(11, 22, 33, 1)]


def test_v128_mixed_signature(simd):
    v = 2**128 - 5
    assert simd.call("swap", 7, v, 1.5) == [1.5, v, 7]


@pytest.mark.parametrize("value", [2**128, -(2**127) - 1, 2**200])
def test_v128_out_of_range(simd, value):
    with pytest.raises(OverflowError):
        simd.call("id", value)


def test_v128_results_are_unsigned(simd):
    # Negative ints are accepted as two's complement (like i32/i64); results are unsigned.
    assert simd.call("id", -1) == [2**128 - 1]


@pytest.mark.parametrize("n", [4, 64, 1000, 4096])
def test_simd_dot_product_matches_scalar(simd, n):
    simd.call("fill", n, random.Random(n).randrange(2**31))
    assert simd.call("dot_simd", n) == simd.call("dot_scalar", n)
