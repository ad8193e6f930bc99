"""Reference types from Python: externref carries any Python object, funcref results are
callable `wazero.Function`s, None is the null reference."""

from __future__ import annotations

import gc
import sys

import pytest

import wazero

REFS_WAT = r"""
(module
  (type $i2i (func (param i32) (result i32)))
  (table $ext (export "ext_table") 4 externref)
  (table $fns 3 funcref)
  (global $held (mut externref) (ref.null extern))
  (elem (table $fns) (i32.const 0) func $double $neg)
  (elem declare func $ident)

  (func (export "id") (param externref) (result externref) (local.get 0))
  (func (export "is_null") (param externref) (result i32) (ref.is_null (local.get 0)))
  (func (export "null_ext") (result externref) (ref.null extern))
  (func (export "swap") (param externref externref) (result externref externref)
    (local.get 1) (local.get 0))
  (func (export "hold") (param externref) (global.set $held (local.get 0)))
  (func (export "held") (result externref) (global.get $held))
  (func (export "put") (param i32 externref) (table.set $ext (local.get 0) (local.get 1)))
  (func (export "get") (param i32) (result externref) (table.get $ext (local.get 0)))
  (func (export "select_ext") (param externref externref i32) (result externref)
    (select (result externref) (local.get 0) (local.get 1) (local.get 2)))

  (func $double (export "double") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
  (func $neg (param i32) (result i32) (i32.sub (i32.const 0) (local.get 0)))
  (func (export "fn_at") (param i32) (result funcref) (table.get $fns (local.get 0)))
  (func (export "null_fn") (result funcref) (ref.null func))
  (func (export "fn_is_null") (param funcref) (result i32) (ref.is_null (local.get 0)))
  (func (export "call_ref") (param funcref i32) (result i32)
    (table.set $fns (i32.const 2) (local.get 0))
    (call_indirect $fns (type $i2i) (local.get 1) (i32.const 2)))
  (func $ident (param externref) (result externref) (local.get 0))
  (func (export "ident_ref") (result funcref) (ref.func $ident))
)
"""


@pytest.fixture
def refs(runtime: wazero.Runtime) -> wazero.Module:
    return runtime.instantiate(REFS_WAT)


class Thing:
    pass


@pytest.mark.parametrize(
    "value", [Thing(), object(), "text", b"bytes", 12345678901234567890, 3.5, [1, 2], {"k": Thing()}, True]
)
def test_externref_round_trip_preserves_identity(refs, value):
    assert refs.call("id", value)[0] is value
    assert refs.call("is_null", value) == [0]


def test_externref_null_is_none(refs):
    assert refs.call("id", None) == [None]
    assert refs.call("is_null", None) == [1]
    assert refs.call("null_ext") == [None]


def test_externref_multi_value_select_and_storage(refs):
    a, b = Thing(), Thing()
    x, y = refs.call("swap", a, b)
    assert x is b and y is a
    assert refs.call("select_ext", a, b, 1)[0] is a
    assert refs.call("select_ext", a, b, 0)[0] is b
    refs.call("hold", a)
    refs.call("put", 3, b)
    del x, y
    assert refs.call("held")[0] is a
    assert refs.call("get", 3)[0] is b
    assert refs.call("get", 0) == [None]
    with pytest.raises(wazero.Trap):
        refs.call("put", 4, a)


def test_runtime_keeps_externrefs_alive_until_close():
    rt = wazero.Runtime()
    m = rt.instantiate(REFS_WAT)
    obj = Thing()
    other = Thing()
    before, before_other = sys.getrefcount(obj), sys.getrefcount(other)
    for _ in range(100):
        assert m.call("id", obj)[0] is obj
    m.call("hold", other)
    m.call("put", 0, obj)
    assert sys.getrefcount(obj) > before, "Wasm holds a reference: the runtime must keep it"
    # Only Wasm holds this one: it survives the Python side letting go.
    temp = Thing()
    m.call("put", 1, temp)
    del temp
    gc.collect()
    assert isinstance(m.call("get", 1)[0], Thing)
    rt.close()
    assert sys.getrefcount(obj) == before
    assert sys.getrefcount(other) == before_other


def test_funcref_results_are_callable(refs):
    (double,) = refs.call("fn_at", 0)
    assert isinstance(double, wazero.Function)
    assert double(21) == [42]
    assert double.type == wazero.FuncType(["i32"], ["i32"])
    (neg,) = refs.call("fn_at", 1)
    assert neg(5) == [-5]
    assert neg != double and refs.call("fn_at", 1)[0] == neg
    assert hash(refs.call("fn_at", 1)[0]) == hash(neg)
    (ident,) = refs.call("ident_ref")
    obj = Thing()
    assert ident(obj)[0] is obj
    assert "Function" in repr(ident)


def test_funcref_null_and_arguments(refs):
    assert refs.call("fn_at", 2) == [None]
    assert refs.call("null_fn") == [None]
    assert refs.call("fn_is_null", None) == [1]
    (double,) = refs.call("fn_at", 0)
    assert refs.call("fn_is_null", double) == [0]
    assert refs.call("call_ref", double, 8) == [16]
    with pytest.raises(wazero.WazeroTypeError):
        refs.call("fn_is_null", lambda x: x)
    with pytest.raises(TypeError):
        double(1, 2)
    with pytest.raises(wazero.WazeroTypeError):
        double("1")


def test_function_of_another_runtime_is_rejected(refs):
    with wazero.Runtime() as other_rt:
        (foreign,) = other_rt.instantiate(REFS_WAT).call("fn_at", 0)
        with pytest.raises(wazero.WazeroError):
            refs.call("fn_is_null", foreign)


def test_function_after_close_raises():
    rt = wazero.Runtime()
    (double,) = rt.instantiate(REFS_WAT).call("fn_at", 0)
    rt.close()
    with pytest.raises(wazero.WazeroError):
        double(1)


def test_function_traps_raise(refs):
    (call_ref_target,) = refs.call("fn_at", 0)
    with pytest.raises(wazero.Trap):
        refs.call("call_ref", None, 1)  # call_indirect through a null entry
    assert call_ref_target(1) == [2]


def test_function_of_a_closed_module_raises(runtime):
    m = runtime.instantiate(REFS_WAT)
    (double,) = m.call("fn_at", 0)
    m.close()
    with pytest.raises(wazero.WazeroError, match="released"):
        double(1)
