"""The seed contract, module sources, lifecycle (close / context managers) and metadata."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import pathlib
import threading

import pytest

import wazero
from conftest import ADD_WASM, DATA, KITCHEN_WAT


def test_seed_contract_file(add_wasm_file):
    with wazero.Runtime() as runtime:
        with runtime.instantiate_file(add_wasm_file) as module:
            assert module.call("add", 5, 7) == [12]


def test_seed_contract_bytes():
    with wazero.Runtime() as runtime:
        with runtime.instantiate(ADD_WASM) as module:
            assert module.call("add", 5, 7) == [12]


def test_seed_contract_names():
    assert issubclass(wazero.WazeroError, Exception)
    assert isinstance(wazero.version(), str)
    assert wazero.version()


@pytest.mark.parametrize(
    "source",
    [ADD_WASM, bytearray(ADD_WASM), memoryview(ADD_WASM), memoryview(b"xx" + ADD_WASM)[2:]],
    ids=["bytes", "bytearray", "memoryview", "memoryview-slice"],
)
def test_instantiate_binary_sources(runtime, source):
    with runtime.instantiate(source) as m:
        assert m.call("add", 1, 2) == [3]


def test_instantiate_text(runtime):
    with open(os.path.join(DATA, "add.wat")) as f:
        text = f.read()
    with runtime.instantiate(text) as m:
        assert m.call("add", 40, 2) == [42]


def test_instantiate_text_as_bytes(runtime):
    # bytes not starting with \0asm are WebAssembly text
    with runtime.instantiate(b'(module (func (export "f") (result i32) i32.const 9))') as m:
        assert m.call("f") == [9]


def test_instantiate_file_wat(runtime):
    with runtime.instantiate_file(os.path.join(DATA, "add.wat")) as m:
        assert m.call("add", 5, 7) == [12]


def test_instantiate_file_decides_by_content(runtime, tmp_path):
    # binary content under a .wat name and text content under a .wasm name both work
    (tmp_path / "binary.wat").write_bytes(ADD_WASM)
    (tmp_path / "text.wasm").write_text(pathlib.Path(DATA, "add.wat").read_text())
    for name in ("binary.wat", "text.wasm"):
        with runtime.instantiate_file(tmp_path / name) as m:  # os.PathLike accepted
            assert m.call("add", 5, 7) == [12]


def test_instantiate_file_missing(runtime, tmp_path):
    with pytest.raises(FileNotFoundError):
        runtime.instantiate_file(tmp_path / "nope.wasm")


def test_instantiate_wrong_source_type(runtime):
    for bad in (123, None, [0, 97, 115, 109]):
        with pytest.raises(wazero.WazeroTypeError) as ei:
            runtime.instantiate(bad)
        assert isinstance(ei.value, TypeError)


def test_compiled_module_reuse():
    compiled = wazero.CompiledModule(ADD_WASM)
    assert compiled.imports == []
    [(name, ty)] = compiled.exports
    assert name == "add"
    assert ty == wazero.FuncType(["i32", "i32"], ["i32"])
    assert ty.params == ("i32", "i32") and ty.results == ("i32",)
    assert str(ty) == "func (param i32 i32) (result i32)"
    for _ in range(3):
        with wazero.Runtime() as rt, rt.instantiate(compiled) as m:
            assert m.call("add", 2, 3) == [5]


def test_compiled_module_from_file(add_wasm_file):
    compiled = wazero.CompiledModule.from_file(add_wasm_file)
    assert [n for n, _ in compiled.exports] == ["add"]


def test_module_exports_types(kitchen):
    exports = {name: obj.type for name, obj in kitchen.exports.items()}
    assert exports["add"] == wazero.FuncType(["i32", "i32"], ["i32"])
    assert exports["swap"].results == ("i64", "i32")
    assert exports["nothing"] == wazero.FuncType([], [])
    mem = exports["memory"]
    assert isinstance(mem, wazero.MemoryType) and (mem.min, mem.max) == (1, None)
    g = exports["answer"]
    assert isinstance(g, wazero.GlobalType) and (g.content, g.mutable) == ("i32", False)
    t = exports["table"]
    assert isinstance(t, wazero.TableType) and (t.element, t.min) == ("funcref", 4)
    assert list(kitchen.exports)[:3] == ["memory", "answer", "table"]  # declaration order
    assert [n for n, _ in kitchen.compiled.exports] == list(kitchen.exports)


def test_instances_are_independent(runtime):
    a = runtime.instantiate(KITCHEN_WAT)
    b = runtime.instantiate(KITCHEN_WAT)
    a.call("store", 0, 111)
    assert a.call("load", 0) == [111]
    assert b.call("load", 0) == [0]


def test_version_matches_metadata():
    assert wazero.version() == importlib.metadata.version("wazero")
    assert wazero.__version__ == wazero.version()


# --- lifecycle ---------------------------------------------------------------------------


def test_runtime_close_and_use_after_close():
    rt = wazero.Runtime()
    assert not rt.closed
    rt.close()
    assert rt.closed
    rt.close()  # idempotent
    with pytest.raises(wazero.WazeroError, match="runtime is closed"):
        rt.instantiate(ADD_WASM)
    with pytest.raises(wazero.WazeroError, match="runtime is closed"):
        rt.instantiate_file(os.path.join(DATA, "add.wat"))
    with pytest.raises(wazero.WazeroError, match="runtime is closed"):
        with rt:
            pass


def test_module_close_and_use_after_close(runtime):
    m = runtime.instantiate(ADD_WASM)
    assert m.call("add", 1, 1) == [2]
    m.close()
    assert m.closed
    m.close()  # idempotent
    with pytest.raises(wazero.WazeroError, match="module is closed"):
        m.call("add", 1, 1)
    with pytest.raises(wazero.WazeroError, match="module is closed"):
        with m:
            pass
    # the runtime is still usable
    with runtime.instantiate(ADD_WASM) as m2:
        assert m2.call("add", 2, 2) == [4]


def test_closing_runtime_closes_modules():
    rt = wazero.Runtime()
    m = rt.instantiate(ADD_WASM)
    m.call("add", 1, 2)  # warm the export cache
    rt.close()
    assert m.closed
    with pytest.raises(wazero.WazeroError, match="closed"):
        m.call("add", 1, 2)
    m.close()  # still fine


def test_context_managers_close_on_exception():
    with pytest.raises(ZeroDivisionError):
        with wazero.Runtime() as rt:
            with rt.instantiate(ADD_WASM) as m:
                1 / 0
    assert m.closed and rt.closed


def test_context_manager_returns_self():
    rt = wazero.Runtime()
    with rt as entered:
        assert entered is rt
        m = rt.instantiate(ADD_WASM)
        with m as entered_m:
            assert entered_m is m


def test_module_outlives_dropped_runtime_object():
    # dropping the Python Runtime object without close() keeps its modules working
    m = wazero.Runtime().instantiate(ADD_WASM)
    assert m.call("add", 3, 4) == [7]


def test_repr(runtime):
    m = runtime.instantiate(ADD_WASM)
    assert "add" in repr(m)
    assert "Runtime" in repr(runtime)
    m.close()
    assert "closed" in repr(m)


def test_runtime_is_thread_bound():
    rt = wazero.Runtime()
    m = rt.instantiate(ADD_WASM)
    errors = []

    def other():
        for f in (lambda: m.call("add", 1, 2), lambda: rt.instantiate(ADD_WASM), rt.close):
            try:
                f()
            except BaseException as e:  # noqa: BLE001 - we check the exact type below
                errors.append(e)

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert len(errors) == 3
    for e in errors:
        assert type(e) is wazero.WazeroError, repr(e)
        assert "thread" in str(e)
    # still fine on the owning thread
    assert m.call("add", 1, 2) == [3]
    rt.close()


def test_runtimes_on_several_threads():
    compiled = wazero.CompiledModule(ADD_WASM)  # shared between threads
    results = {}

    def work(i):
        with wazero.Runtime() as rt, rt.instantiate(compiled) as m:
            results[i] = sum(m.call("add", i, k)[0] for k in range(1000))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: 1000 * i + 499500 for i in range(4)}


# --- typing and docs -----------------------------------------------------------------------

_PUBLIC_CLASSES = [
    "Runtime", "Module", "CompiledModule", "FuncType", "MemoryType", "TableType", "GlobalType",
    "Function", "Func", "Memory", "Global", "Table", "WasiConfig", "Limits",
]


def _stub_members():
    stub = pathlib.Path(wazero.__file__).with_name("_wazero.pyi")
    tree = ast.parse(stub.read_text())
    classes = {}
    functions = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            classes[node.name] = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
        elif isinstance(node, ast.FunctionDef):
            functions.add(node.name)
    return classes, functions


def test_stubs_in_sync():
    classes, functions = _stub_members()
    assert set(classes) == set(_PUBLIC_CLASSES)
    assert functions == {"version", "_inspect"}
    for cls_name, members in classes.items():
        cls = getattr(wazero, cls_name)
        for member in members - {"__buffer__"}:  # __buffer__: a Python attribute only on >= 3.12
            assert hasattr(cls, member), f"stub has {cls_name}.{member}, the class does not"
        public = {m for m in vars(cls) if not m.startswith("_")}
        assert public <= members, f"{cls_name}: not in the stub: {public - members}"
    assert pathlib.Path(wazero.__file__).with_name("py.typed").exists()


def test_public_items_have_docstrings():
    assert wazero.__doc__
    for name in wazero.__all__:
        if name == "__version__":
            continue
        obj = getattr(wazero, name)
        assert obj.__doc__ and obj.__doc__.strip(), name
    for cls_name in _PUBLIC_CLASSES:
        cls = getattr(wazero, cls_name)
        for member, value in vars(cls).items():
            if not member.startswith("_"):
                assert value.__doc__ and value.__doc__.strip(), f"{cls_name}.{member}"
