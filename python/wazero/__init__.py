"""wazero: a WebAssembly runtime for Python on a single-pass JIT compiler.

Quick start::

    import wazero

    with wazero.Runtime() as runtime:
        with runtime.instantiate_file("add.wasm") as module:
            assert module.call("add", 5, 7) == [12]

The public API: :class:`Runtime`, :class:`Module`, :class:`CompiledModule`, the exported
(or standalone) objects :class:`Function`, :class:`Memory`, :class:`Global`, :class:`Table`,
:class:`Func` (a Python callable with an explicit signature), the type descriptions
:class:`FuncType`, :class:`MemoryType`, :class:`TableType`, :class:`GlobalType`, the
exceptions (:class:`WazeroError` and subclasses) and :func:`version`.
"""

from ._errors import (
    CompileError,
    DeserializeError,
    LinkError,
    Trap,
    WasiExit,
    WazeroError,
    WazeroIndexError,
    WazeroOverflowError,
    WazeroTypeError,
)
from ._wazero import (
    CompiledModule,
    Func,
    FuncType,
    Function,
    Global,
    GlobalType,
    Limits,
    Memory,
    MemoryType,
    Module,
    Runtime,
    Table,
    TableType,
    WasiConfig,
    version,
)

__version__: str = version()

__all__ = [
    "Runtime",
    "Module",
    "CompiledModule",
    "Function",
    "Func",
    "Memory",
    "Global",
    "Table",
    "FuncType",
    "MemoryType",
    "TableType",
    "GlobalType",
    "WasiConfig",
    "Limits",
    "WasiExit",
    "WazeroError",
    "CompileError",
    "DeserializeError",
    "LinkError",
    "Trap",
    "WazeroTypeError",
    "WazeroOverflowError",
    "WazeroIndexError",
    "version",
    "__version__",
]
