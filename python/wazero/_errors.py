"""The wazero exception hierarchy.

Every exception raised by wazero for a WebAssembly-level problem is a :class:`WazeroError`.
Argument problems are *also* instances of the matching built-in exception
(:class:`WazeroTypeError` is a ``TypeError``, :class:`WazeroOverflowError` an
``OverflowError``), so ``except TypeError`` works as for any Python function.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

__all__ = [
    "WazeroError",
    "CompileError",
    "LinkError",
    "Trap",
    "WazeroTypeError",
    "WazeroOverflowError",
    "WazeroIndexError",
    "WasiExit",
    "DeserializeError",
]


class WazeroError(Exception):
    """Base class of every wazero error (also raised for misuse, e.g. a closed runtime)."""


class CompileError(WazeroError):
    """The module is malformed or invalid (or the text format does not parse).

    ``offset`` is the byte offset in the binary where the problem was found, or ``None``
    (e.g. for text-format syntax errors, whose message carries line and column instead).
    ``limit`` names the :class:`wazero.Limits` field the module exceeded (``"max_locals"``...),
    or is ``None`` when the module is malformed or invalid rather than too large.
    """

    offset: Optional[int]
    limit: Optional[str]

    def __init__(self, message: str, offset: Optional[int] = None, limit: Optional[str] = None) -> None:
        super().__init__(message)
        self.offset = offset
        self.limit = limit

    def __reduce__(self) -> Tuple[Any, ...]:  # keep pickling (multiprocessing) working
        return (type(self), (str(self), self.offset, self.limit))


class DeserializeError(WazeroError):
    """A serialized module (``CompiledModule.serialize()``, a pickle, a cache entry) was
    rejected before any of its code ran: it is truncated or corrupted (checksum mismatch), or
    was written by another wazero build, format version, CPU architecture or CPU feature set.
    Recompile the module from its WebAssembly source.
    """


class LinkError(WazeroError):
    """Instantiation failed: an import cannot be resolved or does not match its type."""


class Trap(WazeroError):
    """WebAssembly code trapped.

    ``kind`` is a short snake_case name such as ``"integer_divide_by_zero"``,
    ``"unreachable"``, ``"memory_out_of_bounds"``, ``"stack_overflow"``, ``"timeout"`` (the
    call's deadline passed) or ``"interrupted"`` (``Runtime.interrupt()``);
    ``export`` is the name of the export that was called (``None`` if the trap happened
    while instantiating, e.g. in a start function).
    """

    kind: str
    export: Optional[str]

    def __init__(self, message: str, kind: str = "unknown", export: Optional[str] = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.export = export

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (str(self), self.kind, self.export))


class WazeroTypeError(WazeroError, TypeError):
    """Wrong number or type of arguments for a WebAssembly function (or a wrong source type)."""


class WazeroOverflowError(WazeroError, OverflowError):
    """An integer argument does not fit the parameter's type (i32, i64, ...)."""


class WazeroIndexError(WazeroError, IndexError):
    """An out-of-bounds memory offset or table index (nothing was read or written)."""


class WasiExit(WazeroError):
    """A WASI program called ``proc_exit(code)`` during a plain call (``Module.call``) or
    while being instantiated. ``Module.run()`` returns the code instead of raising.
    """

    code: int

    def __init__(self, code: int) -> None:
        super().__init__(f"WASI program exited with status {code}")
        self.code = code

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self.code,))
