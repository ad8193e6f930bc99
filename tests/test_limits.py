"""Runtime limits: max_memory_bytes, max_table_elements, max_wasm_stack."""

from __future__ import annotations

import pytest

import wazero

PAGE = 65536

GROW_WAT = r"""
(module
  (memory (export "memory") 2)
  (table (export "table") 4 funcref)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "grow_table") (param i32) (result i32) (table.grow (ref.null func) (local.get 0)))
  (func $deep (export "deep") (param i32) (result i32)
    (i32.add (i32.const 1) (call $deep (local.get 0)))))
"""


def test_memory_grow_past_the_limit_returns_minus_one():
    with wazero.Runtime(max_memory_bytes=4 * PAGE) as rt:
        m = rt.instantiate(GROW_WAT)
        assert m.call("grow", 2) == [2]
        assert m.call("grow", 1) == [-1]
        assert len(m.exports["memory"]) == 4 * PAGE
        with pytest.raises(wazero.WazeroError, match="cannot grow"):
            m.exports["memory"].grow(1)


def test_memory_minimum_past_the_limit_fails_to_instantiate():
    with wazero.Runtime(max_memory_bytes=PAGE + 100) as rt:  # rounds down to 1 page
        with pytest.raises(wazero.WazeroError) as e:
            rt.instantiate(GROW_WAT)
        msg = str(e.value)
        assert "max_memory_bytes=65536" in msg and "2 pages" in msg, msg
        with pytest.raises(wazero.WazeroError, match="max_memory_bytes"):
            wazero.Memory(rt, 3)
        assert len(wazero.Memory(rt, 1, 100)) == PAGE


def test_declared_maximum_is_capped_by_the_limit():
    wat = '(module (memory (export "m") 1 65536) (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))'
    with wazero.Runtime(max_memory_bytes=8 * PAGE) as rt:
        # Many memories declaring 4 GiB reserve 512 KiB of address space each.
        mods = [rt.instantiate(wat) for _ in range(200)]
        assert mods[0].call("grow", 7) == [1]
        assert mods[0].call("grow", 1) == [-1]
        assert mods[1].call("grow", 8) == [-1]


def test_default_memory_limit_is_the_32_bit_space():
    with wazero.Runtime() as rt:
        m = rt.instantiate(GROW_WAT)
        assert m.call("grow", 100) == [2]


def test_table_limit():
    with wazero.Runtime(max_table_elements=10) as rt:
        m = rt.instantiate(GROW_WAT)
        assert m.call("grow_table", 6) == [4]
        assert m.call("grow_table", 1) == [-1]
        assert len(m.exports["table"]) == 10
        with pytest.raises(wazero.WazeroError, match="max_table_elements=10"):
            rt.instantiate("(module (table 11 funcref))")


def test_max_wasm_stack():
    def depth(stack: int) -> None:
        with wazero.Runtime(max_wasm_stack=stack) as rt:
            m = rt.instantiate(GROW_WAT)
            with pytest.raises(wazero.Trap) as e:
                m.call("deep", 0)
            assert e.value.kind == "stack_overflow"
            assert m.call("grow", 0) == [2]  # still usable

    depth(64 * 1024)
    depth(4 * 1024 * 1024)


@pytest.mark.parametrize("kw", ["max_memory_bytes", "max_table_elements", "max_wasm_stack"])
def test_negative_limits_are_rejected(kw):
    with pytest.raises((OverflowError, TypeError)):
        wazero.Runtime(**{kw: -1})
