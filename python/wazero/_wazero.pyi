"""Type stubs for the native module ``wazero._wazero`` (import ``wazero`` instead)."""

import os
from types import TracebackType
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Type, Union

from typing_extensions import Buffer, Self

ExternType = Union["FuncType", "MemoryType", "TableType", "GlobalType"]
Source = Union[bytes, bytearray, memoryview, str, "CompiledModule"]
StrPath = Union[str, "os.PathLike[str]"]
#: What an export is (``Module.exports`` values are typed ``Any`` so that
#: ``module.exports["add"](1, 2)`` type-checks without a cast; narrow with ``isinstance``).
Extern = Union["Function", "Memory", "Global", "Table"]
#: A value passed to WebAssembly: ``int`` (i32, i64, v128), ``float`` (f32, f64),
#: ``Function``/``Func``/``None`` (funcref) or any object (externref).
Value = Any
#: ``imports`` of :meth:`Runtime.instantiate`: module name -> name -> value.
Imports = Mapping[str, Mapping[str, Union[Callable[..., Any], "Func", Extern]]]

def _inspect(source: bytes) -> Tuple[List[str], List[Tuple[str, int, int]]]:
    """(types, sections) of a module (binary or text): the type section's entries as text
    and every section as ``(name, offset, size)``; used by ``python -m wazero inspect``."""
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

class Limits:
    """Hard limits on what a module may declare, checked while it is compiled.

    Every keyword is optional (defaults follow V8's and wasmtime's published limits).
    Exceeding one raises :class:`wazero.CompileError` whose ``limit`` names the field,
    with the value, the maximum and the place in the message. Growth at run time
    (``memory.grow``, ``table.grow``) is not a module limit.
    """

    def __init__(self, *, max_function_size: int = ..., max_locals: int = ..., max_functions: int = ..., max_types: int = ..., max_imports: int = ..., max_exports: int = ..., max_globals: int = ..., max_table_size: int = ..., max_memory_pages: int = ..., max_data_segments: int = ..., max_element_segments: int = ..., max_data_bytes: int = ..., max_element_items: int = ..., max_nesting_depth: int = ..., max_br_table_size: int = ..., max_value_stack: int = ..., max_code_size: int = ...) -> None: ...
    @property
    def max_function_size(self) -> int:
        """Bytes of one function body. Default 7,654,321 (V8)."""
    @property
    def max_locals(self) -> int:
        """Locals of one function, parameters excluded. Default 50,000 (V8, wasmtime)."""
    @property
    def max_functions(self) -> int:
        """Functions, imported ones included. Default 1,000,000 (V8, wasmtime)."""
    @property
    def max_types(self) -> int:
        """Function types. Default 1,000,000 (V8, wasmtime)."""
    @property
    def max_imports(self) -> int:
        """Imports. Default 100,000 (V8)."""
    @property
    def max_exports(self) -> int:
        """Exports. Default 100,000 (V8)."""
    @property
    def max_globals(self) -> int:
        """Globals, imported ones included. Default 1,000,000 (V8, wasmtime)."""
    @property
    def max_table_size(self) -> int:
        """Declared initial elements of each table. Default 10,000,000 (V8, wasmtime)."""
    @property
    def max_memory_pages(self) -> int:
        """Declared initial 64 KiB pages of each memory. Default 65,536 (4 GiB, the spec's maximum)."""
    @property
    def max_data_segments(self) -> int:
        """Data segments. Default 100,000 (V8, wasmtime)."""
    @property
    def max_element_segments(self) -> int:
        """Element segments. Default 100,000 (wasmtime)."""
    @property
    def max_data_bytes(self) -> int:
        """Bytes of all data segments together. Default 1 GiB."""
    @property
    def max_element_items(self) -> int:
        """Items of all element segments together. Default 10,000,000 (V8)."""
    @property
    def max_nesting_depth(self) -> int:
        """Nesting of block/loop/if in one function. Default 100,000."""
    @property
    def max_br_table_size(self) -> int:
        """Targets of one br_table. Default 131,072 (wasmtime; V8 65,520)."""
    @property
    def max_value_stack(self) -> int:
        """Operand-stack depth in one function. Default 100,000."""
    @property
    def max_code_size(self) -> int:
        """Bytes of machine code generated for one module. Default 256 MiB."""
    def as_dict(self) -> Dict[str, int]:
        """Every limit by name."""
    def __eq__(self, other: object) -> bool: ...

class CompiledModule:
    """A validated, compiled module, not yet instantiated (immutable, thread-safe).

    ``source`` is a binary (``bytes``/``bytearray``/``memoryview``; content not starting
    with ``b"\\0asm"`` is read as UTF-8 text) or WebAssembly text (``str``).
    Raises :class:`wazero.CompileError` if the module is malformed or invalid, or exceeds
    ``limits`` (a :class:`Limits`; the defaults when absent).
    """

    def __init__(
        self, source: Union[bytes, bytearray, memoryview, str], *, limits: Optional[Limits] = None
    ) -> None: ...
    @staticmethod
    def from_file(path: StrPath, *, limits: Optional[Limits] = None) -> "CompiledModule":
        """Compiles a ``.wasm`` (binary) or ``.wat`` (text) file, decided by content."""
    @property
    def imports(self) -> List[Tuple[str, str, ExternType]]:
        """``(module, name, type)`` of every import, in order."""
    @property
    def exports(self) -> List[Tuple[str, ExternType]]:
        """``(name, type)`` of every export, in order."""
    def serialize(self) -> bytes:
        """The compiled module (metadata and machine code) as bytes, for :meth:`deserialize`
        in the same wazero build on a CPU with the same features: another process, a later
        run, a cache. :mod:`pickle` stores the same bytes."""
    @staticmethod
    def deserialize(data: Union[bytes, bytearray, memoryview]) -> "CompiledModule":
        """Loads bytes written by :meth:`serialize` without recompiling.

        Raises :class:`wazero.DeserializeError`, and runs nothing, if the bytes are
        truncated or corrupted (checksum) or were written by another wazero build, CPU
        architecture or CPU feature set. The bytes are native code: load only data you
        would trust as a native library (the checksum catches accidents, not tampering).
        """
    def __reduce__(self) -> Tuple[Callable[[bytes], "CompiledModule"], Tuple[bytes]]:
        """Pickle support (``multiprocessing``, ``ProcessPoolExecutor``, Dask, Ray)."""

class Runtime:
    """A WebAssembly runtime: owns every module instantiated in it.

    Use it as a context manager or call :meth:`close`; closing it closes its modules.
    A runtime and its modules may only be used by the thread that created the runtime
    (other threads get :class:`wazero.WazeroError`).

    ``max_wasm_stack`` limits the native stack (in bytes, default 1 MiB) Wasm code may use;
    deeper recursion traps with kind ``"stack_overflow"``. ``timeout`` (seconds) is the
    default deadline of every call into Wasm (including start functions): a call past it
    raises :class:`wazero.Trap` with kind ``"timeout"``. ``max_memory_bytes`` caps every
    memory of the runtime (default 4 GiB, the whole 32-bit space; rounded down to 64 KiB
    pages): a larger minimum fails to instantiate, ``memory.grow`` past it returns -1, and
    only that much address space is reserved. ``max_table_elements`` does the same for
    tables (default 10 000 000). ``limits`` (a :class:`Limits`) bounds what the modules
    :meth:`compile` and :meth:`instantiate` compile may declare (a :class:`CompiledModule`
    passed in keeps the limits it was compiled with).

    ``cache_dir`` (created if needed) caches compiled modules on disk for :meth:`compile`,
    :meth:`instantiate` and :meth:`instantiate_file`, keyed by a hash of the module, the
    wazero build, the CPU and ``limits``. Processes may share it; a corrupted entry is recompiled. Its
    entries are native code: nobody else may be able to write to it.

    A Wasm call that runs longer than about a millisecond releases the GIL (host functions
    take it back), so threads with their own runtimes run Wasm in parallel.
    """

    def __init__(
        self,
        *,
        max_wasm_stack: Optional[int] = None,
        timeout: Optional[float] = None,
        max_memory_bytes: Optional[int] = None,
        max_table_elements: Optional[int] = None,
        limits: Optional[Limits] = None,
        cache_dir: Optional[StrPath] = None,
    ) -> None: ...
    def interrupt(self) -> None:
        """Stops the Wasm code running in this runtime at its next loop iteration or function
        call: the call raises :class:`wazero.Trap` with kind ``"interrupted"``. Callable from
        any thread (the only method that is); without a running call it has no effect."""
    def compile(self, source: Union[bytes, bytearray, memoryview, str]) -> "CompiledModule":
        """Compiles a module without instantiating it (same as ``CompiledModule(source)``,
        through ``cache_dir`` if the runtime has one)."""
    def deserialize(self, data: Union[bytes, bytearray, memoryview]) -> "CompiledModule":
        """Same as :meth:`CompiledModule.deserialize`."""
    @property
    def cache_stats(self) -> Optional[Dict[str, int]]:
        """``{"hits", "misses", "invalid"}`` counts of the ``cache_dir`` cache (``invalid``:
        entries rejected and recompiled), or ``None`` without a cache."""
    def instantiate(
        self, source: Source, imports: Optional[Imports] = None, *, wasi: Optional["WasiConfig"] = None
    ) -> "Module":
        """Compiles (unless given a :class:`CompiledModule`) and instantiates a module.

        ``str`` is WebAssembly text. ``imports`` maps module name -> name -> value: a Python
        callable (typed by the module's import declaration), a :class:`Func`, or a
        :class:`Function`, :class:`Memory`, :class:`Global` or :class:`Table` of this runtime
        (e.g. exported by another module). Raises :class:`wazero.CompileError`,
        :class:`wazero.LinkError` (missing or mismatched import) or :class:`wazero.Trap`
        (the start function trapped).
        """
    def instantiate_file(
        self, path: StrPath, imports: Optional[Imports] = None, *, wasi: Optional["WasiConfig"] = None
    ) -> "Module":
        """Like :meth:`instantiate` for a ``.wasm`` or ``.wat`` file (format decided by content).

        ``wasi`` (a :class:`WasiConfig`) provides the ``wasi_snapshot_preview1`` imports not
        given in ``imports``; a reactor's ``_initialize`` runs during instantiation."""
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

    def call(self, name: str, *args: Value, timeout: Optional[float] = None) -> List[Any]:
        """Calls the exported function ``name``; returns the list of its results.

        i32/i64 parameters take ``int`` in the signed or unsigned range (``-2**31 ..
        2**32-1``, ``-2**63 .. 2**64-1``; ``bool`` and ``float`` are rejected); f32/f64
        take ``float`` or ``int``. Integer results are signed ``int``, float results
        ``float``. An ``externref`` takes and returns any Python object (the same object
        comes back; the runtime keeps it alive until :meth:`Runtime.close`), a ``funcref``
        a :class:`Function` of the same runtime; ``None`` is the null reference. Raises
        :class:`wazero.Trap`, :class:`wazero.WazeroTypeError`,
        :class:`wazero.WazeroOverflowError` or :class:`wazero.WazeroError` (unknown export,
        not a function, closed module). ``timeout`` (seconds) overrides the runtime's
        deadline for this call. Ctrl-C during the call raises ``KeyboardInterrupt``.
        """
    @property
    def exports(self) -> Mapping[str, Any]:
        """Read-only mapping of export name -> :class:`Function`, :class:`Memory`,
        :class:`Global` or :class:`Table`, in declaration order."""
    @property
    def compiled(self) -> CompiledModule:
        """The :class:`CompiledModule` this module was instantiated from."""
    def run(self, *, timeout: Optional[float] = None) -> int:
        """Runs a WASI command (calls ``_start``) and returns its exit status: 0 when
        ``_start`` returns, ``n`` after ``proc_exit(n)``. Raises :class:`wazero.Trap`.
        ``timeout`` (seconds) overrides the runtime's deadline."""
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
    """A WebAssembly function: exported by a module, a host function, or a funcref value.

    ``f(*args)`` returns ``None`` (no results), the single result, or a tuple of results;
    arguments are converted as for :meth:`Module.call`.
    """

    def __call__(self, *args: Value, timeout: Optional[float] = None) -> Any:
        """Calls the function; ``timeout`` (seconds) overrides the runtime's deadline."""
    @property
    def type(self) -> FuncType:
        """The function's type."""
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class Func:
    """A Python callable with an explicit signature, to import as a host function.

    ``Func(fn, params=["i32"], results=["i64"])``. Calling it calls ``fn`` directly.
    """

    def __init__(
        self, func: Callable[..., Any], params: Sequence[str] = ..., results: Sequence[str] = ...
    ) -> None: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...
    @property
    def func(self) -> Callable[..., Any]:
        """The wrapped callable."""
    @property
    def type(self) -> FuncType:
        """The declared type."""

class Memory(Buffer):
    """A linear memory (64 KiB pages). Supports the buffer protocol (zero copy).

    ``Memory(runtime, min, max=None)`` creates a standalone memory (to import).
    Out-of-range offsets raise :class:`wazero.WazeroIndexError`.
    """

    def __init__(self, runtime: Runtime, min: int, max: Optional[int] = None) -> None: ...
    def read(self, offset: int, length: int) -> bytes:
        """Copies ``length`` bytes at ``offset`` out of the memory."""
    def write(self, offset: int, data: Buffer) -> None:
        """Copies the bytes of ``data`` into the memory at ``offset``."""
    def grow(self, pages: int) -> int:
        """Grows by ``pages`` pages; returns the previous size in pages."""
    @property
    def size(self) -> int:
        """Current size in pages."""
    @property
    def type(self) -> MemoryType:
        """Current size (as ``min``) and maximum."""
    def __len__(self) -> int: ...
    def __buffer__(self, flags: int, /) -> memoryview: ...

class Global:
    """A global variable. ``Global(runtime, valtype, value, mutable=False)`` creates one."""

    def __init__(self, runtime: Runtime, valtype: str, value: Value, mutable: bool = False) -> None: ...
    @property
    def value(self) -> Any:
        """The current value; assigning raises :class:`wazero.WazeroError` if immutable."""
    @value.setter
    def value(self, value: Value) -> None: ...
    @property
    def type(self) -> GlobalType:
        """Value type and mutability."""

class Table:
    """A table of references (``funcref``: :class:`Function` or ``None``; ``externref``: any
    object or ``None``). ``Table(runtime, elemtype, min, max=None, init=None)`` creates one.
    """

    def __init__(
        self, runtime: Runtime, elemtype: str, min: int, max: Optional[int] = None, init: Value = None
    ) -> None: ...
    def __len__(self) -> int: ...
    def __getitem__(self, index: int) -> Any: ...
    def __setitem__(self, index: int, value: Value) -> None: ...
    def grow(self, delta: int, init: Value = None) -> int:
        """Grows by ``delta`` elements set to ``init``; returns the previous length."""
    @property
    def type(self) -> TableType:
        """Element type, current length (as ``min``) and maximum."""


class WasiConfig:
    """Configuration of a WASI preview1 program, for ``Runtime.instantiate(..., wasi=config)``.

    ``argv`` (``argv[0]`` is the program name), ``env`` (the whole guest environment);
    ``stdin``: ``None`` (empty), ``"inherit"``, bytes-like, a path or a binary file-like
    object; ``stdout``/``stderr``: ``None`` (discarded), ``"inherit"``, a ``bytearray``
    (captured), a path (created) or any file-like object (text streams get UTF-8);
    ``preopens`` / ``readonly_preopens``: guest path -> host directory. The guest sees only
    the preopened directories. Each instantiation gets its own descriptor table.
    """

    def __init__(
        self,
        argv: Optional[Sequence[str]] = None,
        env: Optional[Mapping[str, str]] = None,
        *,
        stdin: Any = None,
        stdout: Any = None,
        stderr: Any = None,
        preopens: Optional[Mapping[str, StrPath]] = None,
        readonly_preopens: Optional[Mapping[str, StrPath]] = None,
    ) -> None: ...
    @property
    def argv(self) -> Tuple[str, ...]:
        """The program's arguments (``argv[0]`` is the program name)."""
    @property
    def env(self) -> Dict[str, str]:
        """The guest environment."""
    @property
    def preopens(self) -> Dict[str, Tuple[str, bool]]:
        """``{guest: (host, readonly)}`` of the preopened directories."""
