"""Every error path: compile, link, traps, arguments, exports."""

from __future__ import annotations

import pickle

import pytest

import wazero
from conftest import ADD_OPCODE_OFFSET, ADD_WASM

# --- hierarchy -----------------------------------------------------------------------------


def test_hierarchy():
    for cls in (wazero.CompileError, wazero.LinkError, wazero.Trap, wazero.WazeroTypeError, wazero.WazeroOverflowError):
        assert issubclass(cls, wazero.WazeroError)
    assert issubclass(wazero.WazeroError, Exception)
    assert issubclass(wazero.WazeroTypeError, TypeError)
    assert issubclass(wazero.WazeroOverflowError, OverflowError)
    assert not issubclass(wazero.Trap, TypeError)


def test_exceptions_pickle():
    t = pickle.loads(pickle.dumps(wazero.Trap("msg", "unreachable", "f")))
    assert (str(t), t.kind, t.export) == ("msg", "unreachable", "f")
    c = pickle.loads(pickle.dumps(wazero.CompileError("bad", 7)))
    assert (str(c), c.offset) == ("bad", 7)


# --- compile errors ------------------------------------------------------------------------


def test_compile_error_bad_version(runtime):
    with pytest.raises(wazero.CompileError) as ei:
        runtime.instantiate(b"\0asm\x02\0\0\0")
    e = ei.value
    assert e.offset is not None and 4 <= e.offset <= 8
    assert "offset" in str(e) and hex(e.offset) in str(e)


def test_compile_error_truncated(runtime):
    with pytest.raises(wazero.CompileError) as ei:
        runtime.instantiate(ADD_WASM[:-3])
    assert ei.value.offset is not None
    assert 8 <= ei.value.offset <= len(ADD_WASM)


def test_compile_error_invalid_body_has_offset(runtime):
    bad = bytearray(ADD_WASM)
    assert bad[ADD_OPCODE_OFFSET] == 0x6A
    bad[ADD_OPCODE_OFFSET] = 0x7C  # i64.add on i32 operands: type mismatch
    with pytest.raises(wazero.CompileError) as ei:
        runtime.instantiate(bytes(bad))
    e = ei.value
    assert e.offset is not None
    code_section = ADD_WASM.index(b"\x0a\x09")
    assert code_section < e.offset <= len(ADD_WASM), e.offset
    assert hex(e.offset) in str(e)


def test_compile_error_garbage(runtime):
    with pytest.raises(wazero.CompileError):
        runtime.instantiate(b"\xff\xfe\x00 definitely not wasm")
    with pytest.raises(wazero.CompileError):
        runtime.instantiate(b"")


def test_compile_error_text_syntax(runtime):
    with pytest.raises(wazero.CompileError) as ei:
        runtime.instantiate("(module (func (export \"f\") i32.frobnicate))")
    assert ei.value.offset is None
    assert "frobnicate" in str(ei.value)


def test_compile_error_text_invalid(runtime):
    with pytest.raises(wazero.CompileError):
        runtime.instantiate('(module (func (export "f") (result i32)))')  # missing result


def test_compile_error_from_compiled_module_and_file(tmp_path):
    with pytest.raises(wazero.CompileError):
        wazero.CompiledModule(b"\0asm\x02\0\0\0")
    p = tmp_path / "bad.wasm"
    p.write_bytes(b"\0asm\x01\0\0\0\x01")
    with pytest.raises(wazero.CompileError):
        wazero.CompiledModule.from_file(p)


# --- link errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "imp, expected",
    [
        ('(import "env" "f" (func (param i32)))', "env.f"),
        ('(import "env" "mem" (memory 1))', "env.mem"),
        ('(import "js" "g" (global i32))', "js.g"),
    ],
)
def test_link_error_names_missing_import(runtime, imp, expected):
    with pytest.raises(wazero.LinkError) as ei:
        runtime.instantiate(f"(module {imp})")
    assert expected in str(ei.value)


def test_imports_visible_without_instantiating():
    c = wazero.CompiledModule('(module (import "env" "f" (func (param i32) (result i64))))')
    [(mod, name, ty)] = c.imports
    assert (mod, name) == ("env", "f")
    assert ty == wazero.FuncType(["i32"], ["i64"])


# --- traps ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "export, args, kind",
    [
        ("div_s", (1, 0), "integer_divide_by_zero"),
        ("div_s", (-(2**31), -1), "integer_overflow"),
        ("rem_u64", (1, 0), "integer_divide_by_zero"),
        ("trap_unreachable", (), "unreachable"),
        ("load", (65536,), "memory_out_of_bounds"),
        ("load", (65533,), "memory_out_of_bounds"),
        ("load", (-1,), "memory_out_of_bounds"),
        ("trunc", (float("nan"),), "invalid_conversion"),
        ("trunc", (1e10,), "integer_overflow"),
        ("call_ind", (0, 7), "undefined_element"),
        ("call_ind", (0, 2), "uninitialized_element"),
        ("call_ind", (0, 1), "indirect_call_type_mismatch"),
    ],
)
def test_traps(kitchen, export, args, kind):
    with pytest.raises(wazero.Trap) as ei:
        kitchen.call(export, *args)
    e = ei.value
    assert e.kind == kind
    assert e.export == export
    assert f"'{export}'" in str(e)
    assert isinstance(e, wazero.WazeroError)


def test_trap_message(kitchen):
    with pytest.raises(wazero.Trap, match=r"integer divide by zero.*'div_s'"):
        kitchen.call("div_s", 1, 0)


def test_trap_then_success(kitchen):
    for _ in range(100):
        with pytest.raises(wazero.Trap):
            kitchen.call("div_s", 1, 0)
        assert kitchen.call("div_s", 7, 2) == [3]
        with pytest.raises(wazero.Trap):
            kitchen.call("load", 70000)
        assert kitchen.call("load", 65532) == [0]
    assert kitchen.call("call_ind", 5, 0) == [5]
    assert kitchen.call("trunc_sat", 1e10) == [2**31 - 1]


def test_trap_in_start_function(runtime):
    with pytest.raises(wazero.Trap) as ei:
        runtime.instantiate("(module (func $s unreachable) (start $s))")
    assert ei.value.kind == "unreachable"
    assert ei.value.export is None
    # the runtime survives
    with runtime.instantiate(ADD_WASM) as m:
        assert m.call("add", 1, 1) == [2]


# --- argument and export errors ----------------------------------------------------------


@pytest.mark.parametrize("args", [(), (1,), (1, 2, 3)])
def test_wrong_argument_count(kitchen, args):
    with pytest.raises(wazero.WazeroTypeError, match=r"'add' takes 2 arguments") as ei:
        kitchen.call("add", *args)
    assert isinstance(ei.value, TypeError)


@pytest.mark.parametrize("bad", [1.0, "1", None, True, False, b"1", [1], 1j])
def test_wrong_argument_type_int(kitchen, bad):
    with pytest.raises(wazero.WazeroTypeError, match="argument 2 of 'add'") as ei:
        kitchen.call("add", 1, bad)
    assert isinstance(ei.value, TypeError)


@pytest.mark.parametrize("bad", ["1.0", None, True, b"", [1.0]])
def test_wrong_argument_type_float(kitchen, bad):
    with pytest.raises(wazero.WazeroTypeError, match="argument 1 of 'id_f64'"):
        kitchen.call("id_f64", bad)
    with pytest.raises(TypeError):
        kitchen.call("id_f32", bad)


def test_overflow_is_both(kitchen):
    with pytest.raises(wazero.WazeroOverflowError) as ei:
        kitchen.call("add", 2**32, 0)
    assert isinstance(ei.value, OverflowError)
    assert isinstance(ei.value, wazero.WazeroError)
    assert "argument 1 of 'add' (i32)" in str(ei.value)


def test_unknown_export(kitchen):
    with pytest.raises(wazero.WazeroError, match="no export named 'nope'"):
        kitchen.call("nope")
    with pytest.raises(wazero.WazeroError, match="no export named ''"):
        kitchen.call("")


@pytest.mark.parametrize("name, kind", [("memory", "memory"), ("answer", "global"), ("table", "table")])
def test_non_function_export(kitchen, name, kind):
    with pytest.raises(wazero.WazeroError, match=f"export '{name}' is a {kind}, not a function"):
        kitchen.call(name)


def test_export_name_must_be_str(kitchen):
    with pytest.raises(TypeError):
        kitchen.call(b"add", 1, 2)


def test_errors_leave_module_usable(kitchen):
    for bad in (lambda: kitchen.call("nope"), lambda: kitchen.call("add", 1), lambda: kitchen.call("add", 2**40, 1)):
        with pytest.raises(wazero.WazeroError):
            bad()
        assert kitchen.call("add", 1, 2) == [3]
