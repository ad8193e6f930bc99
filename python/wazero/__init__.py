"""wazero: a WebAssembly runtime for Python on a single-pass JIT compiler.

Quick start::

    import wazero

    with wazero.Runtime() as runtime:
        with runtime.instantiate_file("add.wasm") as module:
            assert module.call("add", 5, 7) == [12]

The public API: :class:`Runtime`, :class:`Module`, :class:`CompiledModule`,
:class:`Function` (``funcref`` values), the type
descriptions :class:`FuncType`, :class:`MemoryType`, :class:`TableType`,
:class:`GlobalType`, the exceptions (:class:`WazeroError` and subclasses) and
:func:`version`.
"""

from ._errors import (
    CompileError,
    LinkError,
    Trap,
    WazeroError,
    WazeroOverflowError,
    WazeroTypeError,
)
from ._wazero import (
    CompiledModule,
    Function,
    FuncType,
    GlobalType,
    MemoryType,
    Module,
    Runtime,
    TableType,
    version,
)

__version__: str = version()

__all__ = [
    "Runtime",
    "Module",
    "CompiledModule",
    "Function",
    "FuncType",
    "MemoryType",
    "TableType",
    "GlobalType",
    "WazeroError",
    "CompileError",
    "LinkError",
    "Trap",
    "WazeroTypeError",
    "WazeroOverflowError",
    "version",
    "__version__",
]
