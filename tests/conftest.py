"""Shared fixtures and modules for the wazero pytest suite."""

from __future__ import annotations

import os
import struct
from typing import Iterator

import pytest

import wazero

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")

# The seed example as a binary, written by hand (and checked against tests/data/add.wat):
# (module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
ADD_WASM = bytes.fromhex(
    "0061736d" "01000000"          # magic, version 1
    "0107" "01" "60" "027f7f" "017f"  # type section: [(i32, i32) -> i32]
    "0302" "01" "00"               # function section: func 0 has type 0
    "0707" "01" "03616464" "00" "00"  # export section: "add" = func 0
    "0a09" "01" "07" "00" "2000" "2001" "6a" "0b"  # code: local.get 0, local.get 1, i32.add, end
)
#: Offset of the `i32.add` opcode (0x6a) in ADD_WASM.
ADD_OPCODE_OFFSET = ADD_WASM.index(b"\x20\x01\x6a") + 2

# One module exercising every value type, traps and recursion.
KITCHEN_WAT = r"""
(module
  (type $i2i (func (param i32) (result i32)))
  (type $v2v (func))
  (memory (export "memory") 1)
  (global (export "answer") i32 (i32.const 42))
  (table (export "table") 4 funcref)
  (elem (i32.const 0) $id_i32 $nothing)

  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func $id_i32 (export "id_i32") (param i32) (result i32) (local.get 0))
  (func (export "id_i64") (param i64) (result i64) (local.get 0))
  (func (export "id_f32") (param f32) (result f32) (local.get 0))
  (func (export "id_f64") (param f64) (result f64) (local.get 0))
  (func (export "f32_bits") (param f32) (result i32) (i32.reinterpret_f32 (local.get 0)))
  (func (export "f64_bits") (param f64) (result i64) (i64.reinterpret_f64 (local.get 0)))
  (func (export "bits_f32") (param i32) (result f32) (f32.reinterpret_i32 (local.get 0)))
  (func (export "bits_f64") (param i64) (result f64) (f64.reinterpret_i64 (local.get 0)))
  (func (export "i64_add") (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1)))
  (func (export "f32_add") (param f32 f32) (result f32) (f32.add (local.get 0) (local.get 1)))
  (func (export "f64_mul") (param f64 f64) (result f64) (f64.mul (local.get 0) (local.get 1)))
  (func (export "div_s") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "rem_u64") (param i64 i64) (result i64) (i64.rem_u (local.get 0) (local.get 1)))
  (func (export "trap_unreachable") unreachable)
  (func $nothing (export "nothing"))
  (func (export "swap") (param i32 i64) (result i64 i32) (local.get 1) (local.get 0))
  (func (export "three") (result i32 f64 i64) (i32.const -1) (f64.const 2.5) (i64.const -3))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "trunc") (param f64) (result i32) (i32.trunc_f64_s (local.get 0)))
  (func (export "trunc_sat") (param f64) (result i32) (i32.trunc_sat_f64_s (local.get 0)))
  (func (export "extend8") (param i32) (result i32) (i32.extend8_s (local.get 0)))
  (func (export "call_ind") (param i32 i32) (result i32)
    (call_indirect (type $i2i) (local.get 0) (local.get 1)))
  (func $recurse (export "recurse") (param i32) (result i32)
    (i32.add (call $recurse (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func $count (export "count") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (i32.add (call $count (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))))
  (func (export "sum10")
    (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add (i32.add
      (local.get 0) (local.get 1)) (local.get 2)) (local.get 3)) (local.get 4))
      (local.get 5)) (local.get 6)) (local.get 7)) (local.get 8)) (local.get 9)))
  (func (export "sum20")
    (param i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (result i64)
    (local $i i32) (local $acc i64)
    (i64.add (i64.add (i64.add (i64.add (i64.add (i64.add (i64.add (i64.add (i64.add (i64.add
    (i64.add (i64.add (i64.add (i64.add (i64.add (i64.add (i64.add (i64.add (i64.add
      (local.get 0) (local.get 1)) (local.get 2)) (local.get 3)) (local.get 4)) (local.get 5))
      (local.get 6)) (local.get 7)) (local.get 8)) (local.get 9)) (local.get 10)) (local.get 11))
      (local.get 12)) (local.get 13)) (local.get 14)) (local.get 15)) (local.get 16))
      (local.get 17)) (local.get 18)) (local.get 19)))
)
"""


def f32_round(x: float) -> float:
    """`x` rounded to the nearest f32 (what Python's struct does for finite values in range)."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def f64_bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def f64_from_bits(bits: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


def f32_bits_signed(x: float) -> int:
    return struct.unpack("<i", struct.pack("<f", x))[0]


@pytest.fixture
def runtime() -> Iterator[wazero.Runtime]:
    with wazero.Runtime() as rt:
        yield rt


@pytest.fixture
def kitchen(runtime: wazero.Runtime) -> Iterator[wazero.Module]:
    with runtime.instantiate(KITCHEN_WAT) as m:
        yield m


@pytest.fixture
def add_wasm_file(tmp_path) -> str:
    path = tmp_path / "add.wasm"
    path.write_bytes(ADD_WASM)
    return str(path)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fails the run when fewer tests than $WAZERO_MIN_TESTS were collected (CI guard)."""
    minimum = int(os.environ.get("WAZERO_MIN_TESTS", "0"))
    if minimum and session.testscollected < minimum:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"ERROR: only {session.testscollected} tests collected, "
                f"WAZERO_MIN_TESTS={minimum}",
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
