"""Type stubs for the native module ``wazero._wazero`` (import ``wazero`` instead)."""

import os
from types import TracebackType
from typing import Any, List, Optional, Sequence, Tuple, Type, Union

from typing_extensions import Self

ExternType = Union["FuncType", "MemoryType", "TableType", "GlobalType"]
Source = Union[bytes, bytearray, memoryview, str, "CompiledModule"]
StrPath = Union[str, "os.PathLike[str]"]

def version() -> str:
    """The version of the wazero package (and of its Rust core)."""

class FuncType:
    """The type of a function: parameter and result value types (``"i32"``, ``"f64"``...)."""

    def __init__(self, params: Sequence[str], results: Sequence[str]) -> None: ...
    @property
    def params(self) -> Tuple[str, ...]:
        """Parameter types, e.g. ``("i32", "i32")``."""
    @property
    def results(self) -> Tuple[str, ...]:
        """Result types, e.g. ``("i32",)``."""
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class MemoryType:
    """The type of a linear memory: limits in 64 KiB pages."""

    @property
    def min(self) -> int:
        """Initial size in pages."""
    @property
    def max(self) -> Optional[int]:
        """Maximum size in pages, or ``None``."""
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class TableType:
    """The type of a table: element type and limits."""

    @property
    def element(self) -> str:
        """Element type: ``"funcref"`` or ``"externref"``."""
    @property
    def min(self) -> int:
        """Initial size in elements."""
    @property
    def max(self) -> Optional[int]:
        """Maximum size in elements, or ``None``."""
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class GlobalType:
    """The type of a global: value type and mutability."""

    @property
    def content(self) -> str:
        """Value type, e.g. ``"i32"``."""
    @property
    def mutable(self) -> bool:
        """Whether the global is mutable."""
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class CompiledModule:
    """A validated, compiled module, not yet instantiated (immutable, thread-safe).

    ``source`` is a binary (``bytes``/``bytearray``/``memoryview``; content not starting
    with ``b"\\0asm"`` is read as UTF-8 text) or WebAssembly text (``str``).
    Raises :class:`wazero.CompileError` if the module is malformed or invalid.
    """

    def __init__(self, source: Union[bytes, bytearray, memoryview, str]) -> None: ...
    @staticmethod
    def from_file(path: StrPath) -> "CompiledModule":
        """Compiles a ``.wasm`` (binary) or ``.wat`` (text) file, decided by content."""
    @property
    def imports(self) -> List[Tuple[str, str, ExternType]]:
        """``(module, name, type)`` of every import, in order."""
    @property
    def exports(self) -> List[Tuple[str, ExternType]]:
        """``(name, type)`` of every export, in order."""

class Runtime:
    """A WebAssembly runtime: owns every module instantiated in it.

    Use it as a context manager or call :meth:`close`; closing it closes its modules.
    A runtime and its modules may only be used by the thread that created the runtime
    (other threads get :class:`wazero.WazeroError`).

    ``max_wasm_stack`` limits the native stack (in bytes) Wasm code may use; deeper
    recursion traps with kind ``"stack_overflow"``.
    """

    def __init__(self, *, max_wasm_stack: Optional[int] = None) -> None: ...
    def instantiate(self, source: Source) -> "Module":
        """Compiles (unless given a :class:`CompiledModule`) and instantiates a module.

        ``str`` is WebAssembly text. Raises :class:`wazero.CompileError`,
        :class:`wazero.LinkError` (the module has imports: not supported yet) or
        :class:`wazero.Trap` (the start function trapped).
        """
    def instantiate_file(self, path: StrPath) -> "Module":
        """Like :meth:`instantiate` for a ``.wasm`` or ``.wat`` file (format decided by content)."""
    def close(self) -> None:
        """Frees the runtime and all its modules. Idempotent."""
    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool: ...

class Module:
    """An instantiated module, created by :meth:`Runtime.instantiate`."""

    def call(self, name: str, *args: Any) -> List[Any]:
        """Calls the exported function ``name``; returns the list of its results.

        i32/i64 parameters take ``int`` in the signed or unsigned range (``-2**31 ..
        2**32-1``, ``-2**63 .. 2**64-1``; ``bool`` and ``float`` are rejected); f32/f64
        take ``float`` or ``int``. Integer results are signed ``int``, float results
        ``float``. An ``externref`` takes and returns any Python object (the same object
        comes back; the runtime keeps it alive until :meth:`Runtime.close`), a ``funcref``
        a :class:`Function` of the same runtime; ``None`` is the null reference. Raises :class:`wazero.Trap`, :class:`wazero.WazeroTypeError`,
        :class:`wazero.WazeroOverflowError` or :class:`wazero.WazeroError` (unknown export,
        not a function, closed module).
        """
    @property
    def exports(self) -> List[Tuple[str, ExternType]]:
        """``(name, type)`` of every export, in order."""
    def close(self) -> None:
        """Closes the module; further calls raise :class:`wazero.WazeroError`. Idempotent."""
    @property
    def closed(self) -> bool:
        """True once this module or its runtime was closed."""
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool: ...

class Function:
    """A WebAssembly function of a runtime (e.g. a ``funcref`` result), callable from Python.

    ``f(*args)`` converts arguments and results like :meth:`Module.call` and returns the
    list of results. Usable while its runtime (and the module defining it) is open.
    """

    def __call__(self, *args: Any) -> List[Any]: ...
    @property
    def type(self) -> FuncType:
        """The function's signature."""
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...
