"""The full Python API: compile once, host functions, exports, memory, globals, tables, linking."""

from __future__ import annotations

import gc
import sys
import traceback
import weakref

import pytest

import wazero

HOST_WAT = r"""
(module
  (import "env" "add" (func $add (param i32 i32) (result i32)))
  (import "env" "log" (func $log (param i64)))
  (import "env" "pair" (func $pair (param f64) (result f64 i32)))
  (func (export "call_add") (param i32 i32) (result i32) (call $add (local.get 0) (local.get 1)))
  (func (export "call_log") (param i64) (call $log (local.get 0)))
  (func (export "call_pair") (param f64) (result f64 i32) (call $pair (local.get 0)))
  (func (export "after") (result i32) (i32.const 7))
)
"""


def host_imports(**overrides):
    env = {"add": lambda a, b: a + b, "log": lambda x: None, "pair": lambda x: (x * 2, 3)}
    env.update(overrides)
    return {"env": env}


# --- compile once, instantiate many ------------------------------------------------------------


def test_compile_once_instantiate_many(runtime):
    compiled = runtime.compile(HOST_WAT)
    assert isinstance(compiled, wazero.CompiledModule)
    assert compiled.imports == [
        ("env", "add", wazero.FuncType(["i32", "i32"], ["i32"])),
        ("env", "log", wazero.FuncType(["i64"], [])),
        ("env", "pair", wazero.FuncType(["f64"], ["f64", "i32"])),
    ]
    assert [n for n, _ in compiled.exports] == ["call_add", "call_log", "call_pair", "after"]
    seen = []
    modules = [runtime.instantiate(compiled, host_imports(add=lambda a, b, k=k: seen.append(k) or a + b + k))
               for k in range(3)]
    assert [m.exports["call_add"](1, 2) for m in modules] == [3, 4, 5]
    assert seen == [0, 1, 2]
    assert modules[0].compiled.exports == compiled.exports
    with wazero.Runtime() as other:  # and in another runtime
        assert other.instantiate(compiled, host_imports()).exports["call_add"](2, 2) == 4


def test_type_reprs():
    c = wazero.CompiledModule(
        '(module (import "m" "g" (global (mut i64))) (memory (export "mem") 1 2)'
        ' (table (export "t") 1 externref) (func (export "f") (param f32 funcref)))'
    )
    assert repr(c.imports[0][2]) == "GlobalType(content='i64', mutable=True)"
    types = dict(c.exports)
    assert repr(types["mem"]) == "MemoryType(min=1, max=2)"
    assert repr(types["t"]) == "TableType(element='externref', min=1, max=None)"
    assert repr(types["f"]) == "FuncType(['f32', 'funcref'], [])"
    assert str(types["f"]) == "func (param f32 funcref)"
    assert repr(c) == "<wazero.CompiledModule: 1 imports, 3 exports>"


def test_valtype_names():
    names = ["i32", "i64", "f32", "f64", "v128", "funcref", "externref"]
    assert wazero.FuncType(names, names).params == tuple(names)
    with pytest.raises(wazero.WazeroTypeError, match='unknown value type "int"'):
        wazero.FuncType(["int"], [])


# --- host functions ----------------------------------------------------------------------------


def test_host_function_typed_by_import(runtime):
    logged = []
    m = runtime.instantiate(HOST_WAT, host_imports(log=logged.append))
    assert m.exports["call_add"](40, 2) == 42
    assert m.exports["call_log"](-5) is None
    assert logged == [-5]
    assert m.exports["call_pair"](1.5) == (3.0, 3)
    assert m.call("call_pair", 1.5) == [3.0, 3]


def test_host_function_may_return_a_list(runtime):
    m = runtime.instantiate(HOST_WAT, host_imports(pair=lambda x: [x, -1]))
    assert m.exports["call_pair"](2.0) == (2.0, -1)


def test_explicit_func(runtime):
    f = wazero.Func(lambda a, b: a * b, params=["i32", "i32"], results=["i32"])
    assert f.type == wazero.FuncType(["i32", "i32"], ["i32"])
    assert f(3, 4) == 12  # still callable directly
    m = runtime.instantiate(HOST_WAT, host_imports(add=f))
    assert m.exports["call_add"](6, 7) == 42
    assert "Func(" in repr(f)


def test_explicit_func_type_mismatch_is_link_error(runtime):
    f = wazero.Func(lambda a: a, params=["i64"], results=["i64"])
    with pytest.raises(wazero.LinkError, match="env.add"):
        runtime.instantiate(HOST_WAT, host_imports(add=f))


def test_host_exception_is_the_same_object(runtime):
    raised = []

    def boom(a, b):
        e = ValueError("bad input")
        raised.append(e)
        raise e

    m = runtime.instantiate(HOST_WAT, host_imports(add=boom))
    with pytest.raises(ValueError) as ei:
        m.exports["call_add"](1, 2)
    assert ei.value is raised[0]
    # The traceback reaches into the host function.
    frames = [f.name for f in traceback.extract_tb(ei.value.__traceback__)]
    assert "boom" in frames
    # The instance stays usable.
    assert m.exports["after"]() == 7
    with pytest.raises(ValueError):
        m.call("call_add", 1, 2)
    assert m.call("after") == [7]


def test_host_exception_types_preserved(runtime):
    class Custom(Exception):
        pass

    def raise_custom(a, b):
        raise Custom("x")

    m = runtime.instantiate(HOST_WAT, host_imports(add=raise_custom))
    with pytest.raises(Custom):
        m.exports["call_add"](1, 2)

    def raise_kbi(a, b):
        raise KeyboardInterrupt

    m2 = runtime.instantiate(HOST_WAT, host_imports(add=raise_kbi))
    with pytest.raises(KeyboardInterrupt):
        m2.exports["call_add"](1, 2)


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("add", None, r"result 1 of host function 'env.add' \(i32\): expected int, got NoneType"),
        ("add", 1.5, r"result 1 of host function 'env.add' \(i32\): expected int, got float"),
        ("add", 2**40, r"result 1 of host function 'env.add' \(i32\).*out of range"),
        ("log", 3, r"host function 'env.log' returned a int, expected no results"),
        ("pair", 1.0, r"host function 'env.pair' returned a float, expected a tuple of 2 results"),
        ("pair", (1.0,), r"host function 'env.pair' returned 1 values, expected 2 results \(f64 i32\)"),
        ("pair", (1.0, "x"), r"result 2 of host function 'env.pair' \(i32\): expected int, got str"),
    ],
)
def test_bad_host_results_trap_naming_the_import(runtime, name, value, message):
    m = runtime.instantiate(HOST_WAT, host_imports(**{name: lambda *a: value}))
    call = {"add": ("call_add", 1, 2), "log": ("call_log", 1), "pair": ("call_pair", 1.0)}[name]
    with pytest.raises(wazero.Trap, match=message) as ei:
        m.call(*call)
    assert ei.value.kind == "host_error"
    assert m.call("after") == [7]


def test_host_function_calls_back_into_wasm(runtime):
    wat = r"""
    (module
      (import "env" "down" (func $down (param i32) (result i32)))
      (func (export "count") (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0))
          (then (i32.const 0))
          (else (i32.add (i32.const 1) (call $down (i32.sub (local.get 0) (i32.const 1))))))))
    """
    holder = {}
    depth = []

    def down(n):
        depth.append(n)
        return holder["count"](n)  # re-enters Wasm

    m = runtime.instantiate(wat, {"env": {"down": down}})
    holder["count"] = m.exports["count"]
    assert m.exports["count"](50) == 50
    assert depth == list(range(49, -1, -1))


def test_deep_reentrancy_ends_in_a_trap_not_a_crash(runtime):
    wat = r"""
    (module
      (import "env" "again" (func $again (param i32) (result i32)))
      (func (export "f") (param i32) (result i32) (call $again (local.get 0))))
    """
    holder = {}
    m = runtime.instantiate(wat, {"env": {"again": lambda n: holder["f"](n + 1)}})
    holder["f"] = m.exports["f"]
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(100_000)
    try:
        with pytest.raises((wazero.Trap, RecursionError)) as ei:
            m.exports["f"](0)
    finally:
        sys.setrecursionlimit(old)
    if isinstance(ei.value, wazero.Trap):
        assert ei.value.kind == "stack_overflow"
    assert m.exports["f"].type.params == ("i32",)


def test_missing_and_wrong_imports(runtime):
    with pytest.raises(wazero.LinkError, match=r"unresolved imports 'env.add' \(func \(param i32 i32\)"):
        runtime.instantiate(HOST_WAT)
    with pytest.raises(wazero.LinkError, match=r"unresolved import 'env.pair'"):
        runtime.instantiate(HOST_WAT, {"env": {"add": lambda a, b: 0, "log": print}})
    with pytest.raises(wazero.LinkError, match=r"import 'env.add' .*expected a callable.*got int"):
        runtime.instantiate(HOST_WAT, host_imports(add=5))
    mem = wazero.Memory(runtime, 1)
    with pytest.raises(wazero.LinkError, match="env.add"):
        runtime.instantiate(HOST_WAT, host_imports(add=mem))


def test_imports_from_another_runtime_are_rejected(runtime):
    with wazero.Runtime() as other:
        mem = wazero.Memory(other, 1)
        with pytest.raises(wazero.LinkError, match="another runtime"):
            runtime.instantiate('(module (import "env" "m" (memory 1)))', {"env": {"m": mem}})


# --- exports -----------------------------------------------------------------------------------


def test_exports_mapping(kitchen):
    ex = kitchen.exports
    assert isinstance(ex["add"], wazero.Function)
    assert isinstance(ex["memory"], wazero.Memory)
    assert isinstance(ex["answer"], wazero.Global)
    assert isinstance(ex["table"], wazero.Table)
    assert "add" in ex and "nope" not in ex
    assert len(ex) == len(kitchen.compiled.exports)
    assert ex["add"] is ex["add"]  # resolved once
    with pytest.raises(TypeError):
        ex["add"] = None  # type: ignore[index]
    with pytest.raises(KeyError):
        ex["nope"]
    assert repr(ex["add"]) == "<wazero.Function 'add': func (param i32 i32) (result i32)>"


def test_function_results(kitchen):
    ex = kitchen.exports
    assert ex["nothing"]() is None
    assert ex["add"](2, 3) == 5
    assert ex["swap"](1, 2) == (2, 1)
    assert ex["three"]() == (-1, 2.5, -3)
    assert ex["add"].type == wazero.FuncType(["i32", "i32"], ["i32"])
    # Module.call is unchanged: always a list.
    assert kitchen.call("nothing") == []
    assert kitchen.call("swap", 1, 2) == [2, 1]


def test_function_argument_errors(kitchen):
    add = kitchen.exports["add"]
    with pytest.raises(wazero.WazeroTypeError, match=r"'add' takes 2 arguments \(1 given\)"):
        add(1)
    with pytest.raises(TypeError, match=r"argument 2 of 'add' \(i32\): expected int, got str"):
        add(1, "2")
    with pytest.raises(OverflowError, match="out of range"):
        add(1, 2**32)
    with pytest.raises(wazero.Trap, match=r"integer divide by zero \(in export 'div_s'\)") as ei:
        kitchen.exports["div_s"](1, 0)
    assert ei.value.export == "div_s"


def test_module_call_errors(kitchen):
    with pytest.raises(wazero.WazeroError, match="no export named 'nope'"):
        kitchen.call("nope")
    with pytest.raises(wazero.WazeroError, match="export 'memory' is a memory, not a function"):
        kitchen.call("memory")


def test_exports_after_close(runtime):
    m = runtime.instantiate(HOST_WAT, host_imports())
    f = m.exports["after"]
    m.close()
    with pytest.raises(wazero.WazeroError, match="module is closed"):
        f()
    with pytest.raises(wazero.WazeroError, match="module is closed"):
        m.call("after")


def test_exports_after_runtime_close():
    rt = wazero.Runtime()
    m = rt.instantiate(HOST_WAT, host_imports())
    f, ex = m.exports["after"], m.exports
    rt.close()
    with pytest.raises(wazero.WazeroError, match="runtime is closed"):
        f()
    assert "after" in ex


# --- memory ------------------------------------------------------------------------------------

MEM_WAT = r"""
(module
  (memory (export "mem") 1 3)
  (data (i32.const 16) "hello")
  (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
)
"""


def test_memory_read_write_len_size(runtime):
    m = runtime.instantiate(MEM_WAT)
    mem = m.exports["mem"]
    assert len(mem) == 65536 and mem.size == 1
    assert (mem.type.min, mem.type.max) == (1, 3)
    assert mem.read(16, 5) == b"hello"
    mem.write(100, b"\x01\x02")
    assert m.exports["load8"](101) == 2
    mem.write(0, bytearray(b"ab"))
    mem.write(2, memoryview(b"cd"))
    import array

    mem.write(4, array.array("B", [9]))
    assert mem.read(0, 5) == b"abcd\x09"
    assert mem.read(65535, 1) == b"\x00" and mem.read(65536, 0) == b""
    assert repr(mem) == "<wazero.Memory pages=1 max=3>"


def test_memory_out_of_range(runtime):
    mem = runtime.instantiate(MEM_WAT).exports["mem"]
    for call in (lambda: mem.read(65535, 2), lambda: mem.read(-1, 1), lambda: mem.write(65536, b"x"),
                 lambda: mem.read(2**62, 2**62)):
        with pytest.raises(wazero.WazeroIndexError, match="out of bounds") as ei:
            call()
        assert isinstance(ei.value, IndexError) and isinstance(ei.value, wazero.WazeroError)
    with pytest.raises(TypeError, match="bytes-like"):
        mem.write(0, 5)  # type: ignore[arg-type]
    assert mem.read(65535, 1) == b"\x00"


def test_memory_grow(runtime):
    m = runtime.instantiate(MEM_WAT)
    mem = m.exports["mem"]
    assert mem.grow(1) == 1
    assert mem.size == 2 and len(mem) == 2 * 65536
    assert m.exports["grow"](1) == 2  # grown from Wasm: seen from Python
    assert mem.size == 3
    with pytest.raises(wazero.WazeroError, match="cannot grow"):
        mem.grow(1)
    assert m.exports["grow"](1) == -1


def test_memoryview_zero_copy(runtime):
    m = runtime.instantiate(MEM_WAT)
    mem = m.exports["mem"]
    view = memoryview(mem)
    assert view.nbytes == 65536 and not view.readonly and view.format == "B"
    m.exports["store8"](5, 200)
    assert view[5] == 200
    view[6] = 77
    assert m.exports["load8"](6) == 77
    assert bytes(view[16:21]) == b"hello"
    view.release()


def test_view_stays_valid_after_grow(runtime):
    m = runtime.instantiate(MEM_WAT)
    mem = m.exports["mem"]
    view = memoryview(mem)
    assert mem.grow(2) == 1
    m.exports["store8"](65535, 1)
    m.exports["store8"](3 * 65536 - 1, 2)
    assert view[65535] == 1  # old bytes still visible through the old view
    assert len(view) == 65536
    assert memoryview(mem)[3 * 65536 - 1] == 2  # a new view covers the new size


def test_view_outlives_runtime_close():
    rt = wazero.Runtime()
    m = rt.instantiate(MEM_WAT)
    mem = m.exports["mem"]
    view = memoryview(mem)
    m.close()  # not freed while the view is out
    rt.close()
    assert bytes(view[16:21]) == b"hello"
    view[0] = 1
    view.release()
    with pytest.raises(wazero.WazeroError, match="closed"):
        len(mem)


def test_numpy_zero_copy_view(runtime):
    np = pytest.importorskip("numpy", reason="numpy not installed")
    m = runtime.instantiate(MEM_WAT)
    mem = m.exports["mem"]
    a = np.frombuffer(mem, dtype=np.uint8)
    assert a.shape == (65536,)
    m.exports["store8"](42, 99)
    assert a[42] == 99  # sees writes made by Wasm
    a[43] = 17
    assert m.exports["load8"](43) == 17
    words = np.frombuffer(mem, dtype=np.uint32, count=4, offset=16)
    assert words[0] == int.from_bytes(b"hell", "little")
    mem.grow(1)
    m.exports["store8"](44, 5)
    assert a[44] == 5  # still valid after grow
    mem.write(0, np.arange(4, dtype=np.uint16))
    assert mem.read(0, 8) == bytes([0, 0, 1, 0, 2, 0, 3, 0])


def test_standalone_memory_imported(runtime):
    mem = wazero.Memory(runtime, 1, 2)
    mem.write(0, b"\x2a")
    m = runtime.instantiate(
        '(module (import "env" "mem" (memory 1)) (func (export "first") (result i32) (i32.load8_u (i32.const 0))))',
        {"env": {"mem": mem}},
    )
    assert m.exports["first"]() == 42
    with pytest.raises(wazero.WazeroError, match="exceeds maximum"):
        wazero.Memory(runtime, 3, 2)


# --- globals -----------------------------------------------------------------------------------


def test_globals(runtime):
    m = runtime.instantiate(
        r"""(module
          (global (export "c") f64 (f64.const 1.5))
          (global $g (export "g") (mut i32) (i32.const 5))
          (func (export "get") (result i32) (global.get $g))
          (func (export "set") (param i32) (global.set $g (local.get 0))))"""
    )
    c, g = m.exports["c"], m.exports["g"]
    assert c.value == 1.5 and (c.type.content, c.type.mutable) == ("f64", False)
    with pytest.raises(wazero.WazeroError, match="immutable"):
        c.value = 2.0
    assert g.value == 5
    g.value = 9
    assert m.exports["get"]() == 9
    m.exports["set"](-3)
    assert g.value == -3
    with pytest.raises(TypeError, match=r"global value \(i32\): expected int"):
        g.value = 1.5
    assert repr(g) == "<wazero.Global global (mut i32) = -3>"


def test_standalone_global_imported(runtime):
    g = wazero.Global(runtime, "i64", 2**40, mutable=True)
    assert g.type.content == "i64" and g.type.mutable
    m = runtime.instantiate(
        r"""(module (import "env" "g" (global $g (mut i64)))
             (func (export "bump") (global.set $g (i64.add (global.get $g) (i64.const 1)))))""",
        {"env": {"g": g}},
    )
    m.exports["bump"]()
    assert g.value == 2**40 + 1
    const = wazero.Global(runtime, "i64", 1)
    with pytest.raises(wazero.LinkError, match="env.g"):
        runtime.instantiate('(module (import "env" "g" (global (mut i64))))', {"env": {"g": const}})
    with pytest.raises(wazero.WazeroTypeError, match="unknown value type"):
        wazero.Global(runtime, "int", 1)


# --- tables and references ---------------------------------------------------------------------

TABLE_WAT = r"""
(module
  (type $i2i (func (param i32) (result i32)))
  (table (export "t") 2 10 funcref)
  (table (export "x") 2 externref)
  (elem (i32.const 0) $double)
  (func $double (export "double") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
  (func (export "call_at") (param i32 i32) (result i32) (call_indirect (type $i2i) (local.get 1) (local.get 0)))
  (func (export "id") (param externref) (result externref) (local.get 0))
  (func (export "fref") (result funcref) (ref.func $double))
)
"""


def test_table_funcref(runtime):
    m = runtime.instantiate(TABLE_WAT)
    t = m.exports["t"]
    assert len(t) == 2 and (t.type.element, t.type.min, t.type.max) == ("funcref", 2, 10)
    f = t[0]
    assert isinstance(f, wazero.Function) and f(21) == 42
    assert t[1] is None and t[-2](1) == 2
    t[1] = m.exports["double"]
    assert m.exports["call_at"](1, 5) == 10
    assert t[1] == m.exports["double"] == t[0] and hash(t[1]) == hash(m.exports["double"])
    assert t[1] != m.exports["call_at"]
    t[1] = wazero.Func(lambda x: x + 100, params=["i32"], results=["i32"])
    assert m.exports["call_at"](1, 5) == 105
    assert t.grow(3) == 2 and len(t) == 5 and t[4] is None
    assert t.grow(1, m.exports["double"]) == 5 and t[5](4) == 8
    with pytest.raises(wazero.WazeroIndexError, match="out of range"):
        t[6]
    with pytest.raises(TypeError, match="expected wazero.Function"):
        t[0] = lambda x: x
    with pytest.raises(wazero.WazeroError, match="cannot grow"):
        t.grow(100)
    assert m.exports["fref"]()(3) == 6  # funcref results are callable Functions


def test_externref_identity_and_lifetime(runtime):
    m = runtime.instantiate(TABLE_WAT)

    class Thing:
        pass

    obj = Thing()
    assert m.exports["id"](obj) is obj
    assert m.exports["id"](None) is None
    x = m.exports["x"]
    x[0] = obj
    assert x[0] is obj and x[1] is None
    ref = weakref.ref(obj)
    del obj
    gc.collect()
    assert ref() is not None  # kept alive by the runtime
    assert x[0] is ref()
    runtime.close()
    gc.collect()
    assert ref() is None  # released by close()


def test_standalone_table_imported(runtime):
    t = wazero.Table(runtime, "externref", 1, 4, init="hi")
    assert len(t) == 1 and t[0] == "hi"
    m = runtime.instantiate(
        r"""(module (import "env" "t" (table 1 externref))
             (func (export "get") (param i32) (result externref) (table.get 0 (local.get 0))))""",
        {"env": {"t": t}},
    )
    marker = object()
    t[0] = marker
    assert m.exports["get"](0) is marker
    with pytest.raises(wazero.WazeroTypeError, match="funcref or externref"):
        wazero.Table(runtime, "i32", 1)


# --- linking modules in Python -----------------------------------------------------------------


def test_linking_two_modules(runtime):
    lib = runtime.instantiate(
        r"""(module
          (memory (export "mem") 1)
          (global (export "base") i32 (i32.const 100))
          (func (export "put") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))"""
    )
    app = runtime.instantiate(
        r"""(module
          (import "lib" "mem" (memory 1))
          (import "lib" "put" (func $put (param i32 i32)))
          (import "lib" "base" (global $base i32))
          (func (export "run") (result i32)
            (call $put (global.get $base) (i32.const 7))
            (i32.load8_u (global.get $base))))""",
        {"lib": lib.exports},
    )
    assert app.exports["run"]() == 7
    assert lib.exports["mem"].read(100, 1) == b"\x07"  # shared memory
    # Closing the library keeps what the app imported working.
    lib.close()
    assert app.exports["run"]() == 7


def test_objects_are_bound_to_their_thread(runtime):
    import threading

    m = runtime.instantiate(MEM_WAT)
    add, mem = m.exports["load8"], m.exports["mem"]
    errors = []

    def work():
        for call in (lambda: add(0), lambda: len(mem), lambda: memoryview(mem)):
            try:
                call()
            except wazero.WazeroError as e:
                errors.append(str(e))

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert len(errors) == 3 and all("another thread" in e for e in errors)


def test_funcref_global_and_host_function_as_value(runtime):
    g = wazero.Global(runtime, "funcref", wazero.Func(lambda: 5, results=["i32"]), mutable=True)
    f = g.value
    assert isinstance(f, wazero.Function) and f() == 5 and f.type == wazero.FuncType([], ["i32"])
    g.value = None
    assert g.value is None
    with pytest.raises(TypeError, match="needs a callable"):
        wazero.Func(5)  # type: ignore[arg-type]


def test_module_call_argument_handling(kitchen):
    # Module.call reads its arguments straight from the vectorcall array.
    with pytest.raises(TypeError, match="missing required argument 'name'"):
        kitchen.call()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="argument 'name' must be str, not int"):
        kitchen.call(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        wazero.Module.call(5, "add")  # type: ignore[arg-type]
    assert wazero.Module.call(kitchen, "add", 1, 2) == [3]
    assert kitchen.call("sum10", *range(10)) == [45]
    assert "returns the list of its results" in (wazero.Module.call.__doc__ or "")
