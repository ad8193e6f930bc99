"""Python <-> Wasm value conversion: integer ranges, float edge values, multi-value."""

from __future__ import annotations

import math
import struct

import pytest

import wazero
from conftest import f32_bits_signed, f32_round, f64_bits, f64_from_bits

I32_MIN, I32_UMAX = -(2**31), 2**32 - 1
I64_MIN, I64_UMAX = -(2**63), 2**64 - 1


def signed32(x: int) -> int:
    x &= 0xFFFFFFFF
    return x - 2**32 if x >= 2**31 else x


def signed64(x: int) -> int:
    x &= 2**64 - 1
    return x - 2**64 if x >= 2**63 else x


# --- integers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [0, 1, -1, I32_MIN, I32_MIN + 1, 2**31 - 1, 2**31, 2**31 + 1, I32_UMAX - 1, I32_UMAX, 0x12345678]
)
def test_i32_range_accepted(kitchen, value):
    assert kitchen.call("id_i32", value) == [signed32(value)]


@pytest.mark.parametrize("value", [I32_MIN - 1, I32_UMAX + 1, 2**63, -(2**63), 10**30, -(10**30)])
def test_i32_out_of_range(kitchen, value):
    with pytest.raises(wazero.WazeroOverflowError):
        kitchen.call("id_i32", value)
    with pytest.raises(OverflowError):
        kitchen.call("add", 0, value)


@pytest.mark.parametrize(
    "value", [0, 1, -1, I64_MIN, I64_MIN + 1, 2**63 - 1, 2**63, 2**63 + 1, I64_UMAX - 1, I64_UMAX, I32_UMAX + 1]
)
def test_i64_range_accepted(kitchen, value):
    assert kitchen.call("id_i64", value) == [signed64(value)]


@pytest.mark.parametrize("value", [I64_MIN - 1, I64_UMAX + 1, 2**100, -(2**100)])
def test_i64_out_of_range(kitchen, value):
    with pytest.raises(wazero.WazeroOverflowError):
        kitchen.call("id_i64", value)


def test_results_are_signed(kitchen):
    assert kitchen.call("add", 2**31 - 1, 1) == [I32_MIN]  # wraps
    assert kitchen.call("add", I32_UMAX, 1) == [0]
    assert kitchen.call("i64_add", 2**63 - 1, 1) == [I64_MIN]
    assert kitchen.call("i64_add", I64_UMAX, I64_UMAX) == [-2]
    assert kitchen.call("extend8", 0x80) == [-128]
    assert kitchen.call("extend8", 0x17F) == [127]


def test_index_protocol_accepted(kitchen):
    class Idx:
        def __index__(self):
            return 41

    class BigInt(int):
        pass

    assert kitchen.call("add", Idx(), 1) == [42]
    assert kitchen.call("id_i64", BigInt(2**64 - 1)) == [-1]
    assert kitchen.call("id_f64", BigInt(3)) == [3.0]


def test_bool_rejected_everywhere(kitchen):
    for export in ("id_i32", "id_i64", "id_f32", "id_f64"):
        with pytest.raises(wazero.WazeroTypeError):
            kitchen.call(export, True)


def test_many_params_inline_and_heap(kitchen):
    assert kitchen.call("sum10", *range(10)) == [45]
    assert kitchen.call("sum10", *([I32_UMAX] * 10)) == [-10]
    args = [2**60 + i for i in range(20)]
    assert kitchen.call("sum20", *args) == [signed64(sum(args))]
    with pytest.raises(wazero.WazeroOverflowError, match="argument 20 of 'sum20'"):
        kitchen.call("sum20", *([0] * 19 + [2**64]))


# --- multi-value / no value ----------------------------------------------------------------


def test_no_results(kitchen):
    assert kitchen.call("nothing") == []
    assert kitchen.call("store", 8, 5) == []
    assert kitchen.call("load", 8) == [5]


def test_multi_value(kitchen):
    assert kitchen.call("swap", 1, 2) == [2, 1]
    assert kitchen.call("swap", I32_UMAX, I64_UMAX) == [-1, -1]
    r = kitchen.call("three")
    assert r == [-1, 2.5, -3]
    assert [type(x) for x in r] == [int, float, int]


def test_result_is_a_fresh_list(kitchen):
    a = kitchen.call("add", 1, 2)
    a.append(99)
    assert kitchen.call("add", 1, 2) == [3]


# --- floats --------------------------------------------------------------------------------

F64_EDGES = [
    0.0, -0.0, 1.0, -1.5, math.pi, math.inf, -math.inf,
    5e-324, -5e-324,  # smallest subnormal
    2.2250738585072014e-308, 2.225073858507201e-308,  # smallest normal, largest subnormal
    1.7976931348623157e308,  # largest finite
    0.1, 1e300,
]


@pytest.mark.parametrize("value", F64_EDGES, ids=repr)
def test_f64_roundtrip_exact(kitchen, value):
    [r] = kitchen.call("id_f64", value)
    assert type(r) is float
    assert f64_bits(r) == f64_bits(value)
    assert kitchen.call("f64_bits", value) == [signed64(f64_bits(value))]


def test_f64_nan(kitchen):
    [r] = kitchen.call("id_f64", math.nan)
    assert math.isnan(r)


@pytest.mark.parametrize("bits", [0x7FF8000000000000, 0x7FF8000000000123, 0xFFF80000DEADBEEF, 0x7FF4000000000001, 0x7FF0000000000001])
def test_f64_nan_payload_bits_roundtrip(kitchen, bits):
    x = f64_from_bits(bits)
    assert math.isnan(x)
    # argument conversion keeps the bits
    assert kitchen.call("f64_bits", x) == [signed64(bits)]
    # result conversion keeps the bits
    [r] = kitchen.call("bits_f64", bits)
    assert f64_bits(r) == bits
    # and through an identity function
    [r] = kitchen.call("id_f64", x)
    assert struct.pack("<d", r) == struct.pack("<Q", bits)


F32_EDGES = [
    0.0, -0.0, 1.0, -2.5, math.inf, -math.inf,
    2.0**-149, -(2.0**-149),  # smallest subnormal
    2.0**-126, 2.0**-126 - 2.0**-149,  # smallest normal, largest subnormal
    3.4028234663852886e38,  # largest finite
    0.1, math.pi, 16777216.0,
]


@pytest.mark.parametrize("value", F32_EDGES, ids=repr)
def test_f32_edges(kitchen, value):
    expected = f32_round(value)
    [r] = kitchen.call("id_f32", value)
    assert type(r) is float
    assert f64_bits(r) == f64_bits(expected)
    assert kitchen.call("f32_bits", value) == [f32_bits_signed(value)]


@pytest.mark.parametrize(
    "value, expected",
    [
        (16777217.0, 16777216.0),  # tie: round to even
        (16777219.0, 16777220.0),  # tie: round to even (up)
        (0.1, 0.10000000149011612),
        (2.0**-150, 0.0),  # tie between 0 and the smallest subnormal: even is 0
        (2.0**-150 + 2.0**-200, 2.0**-149),
        (1e-50, 0.0),
        (-1e-50, -0.0),
        (1e39, math.inf),  # beyond the f32 range: IEEE overflow to infinity
        (-1e39, -math.inf),
        (3.4028235677973366e38, math.inf),  # the f32 overflow threshold itself rounds to inf
        (16777217, 16777216.0),  # ints are accepted and rounded too
    ],
)
def test_f32_rounding(kitchen, value, expected):
    [r] = kitchen.call("id_f32", value)
    assert f64_bits(r) == f64_bits(expected), (r, expected)


def test_f32_nan(kitchen):
    [r] = kitchen.call("id_f32", math.nan)
    assert math.isnan(r)
    [r] = kitchen.call("bits_f32", 0x7FC00000)
    assert math.isnan(r)
    [r] = kitchen.call("bits_f32", signed32(0xFFC00000))
    assert math.isnan(r) and math.copysign(1.0, r) == -1.0


def test_f32_bits_results(kitchen):
    for bits in (0x00000001, 0x007FFFFF, 0x00800000, 0x7F7FFFFF, 0x7F800000, 0x80000000, 0x3DCCCCCD):
        [r] = kitchen.call("bits_f32", bits)
        assert r == struct.unpack("<f", struct.pack("<I", bits))[0]
        assert kitchen.call("f32_bits", r) == [signed32(bits)]


def test_float_arithmetic(kitchen):
    assert kitchen.call("f32_add", 0.1, 0.2) == [f32_round(f32_round(0.1) + f32_round(0.2))]
    assert kitchen.call("f64_mul", 1.5, -4) == [-6.0]
    [z] = kitchen.call("f64_mul", -0.0, 1.0)
    assert math.copysign(1.0, z) == -1.0


def test_int_args_for_float_params(kitchen):
    assert kitchen.call("id_f64", 2**53 + 1) == [9007199254740992.0]
    assert kitchen.call("id_f64", -7) == [-7.0]
    with pytest.raises(wazero.WazeroOverflowError):
        kitchen.call("id_f64", 10**400)
    with pytest.raises(OverflowError):
        kitchen.call("id_f32", 10**400)
