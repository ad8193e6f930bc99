"""Generator of pathological WebAssembly modules (issue 13), shared by the tests and
``benches/scaling.py``.

Each family is a function ``make(n) -> Case`` producing a valid module whose size grows
linearly with ``n``; :data:`FULL` is the size the issue asks for (50,000 locals, 10,000
nested blocks, ...). A :class:`Case` says which export to call with which arguments and
what it must return, so a test checks a result, not just survival. :func:`variants`
derives truncated and garbled copies (which must be rejected cleanly or compile).

The binary encoder is minimal and self-contained (no ``wat`` dependency), so generating a
5 MB body takes milliseconds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

I32, I64, F64, FUNCREF = 0x7F, 0x7E, 0x7C, 0x70


def uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def sleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if (n == 0 and not b & 0x40) or (n == -1 and b & 0x40):
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def vec(items: Sequence[bytes]) -> bytes:
    return uleb(len(items)) + b"".join(items)


def name(s: str) -> bytes:
    return uleb(len(s)) + s.encode()


def section(sid: int, payload: bytes) -> bytes:
    return bytes([sid]) + uleb(len(payload)) + payload


def functype(params: Sequence[int], results: Sequence[int]) -> bytes:
    return b"\x60" + vec([bytes([p]) for p in params]) + vec([bytes([r]) for r in results])


def body(locals_: Sequence[Tuple[int, int]], code: bytes) -> bytes:
    b = vec([uleb(n) + bytes([t]) for n, t in locals_]) + code + b"\x0b"
    return uleb(len(b)) + b


def i32c(v: int) -> bytes:
    return b"\x41" + sleb(v)


@dataclass
class ModuleBuilder:
    """Sections in binary order; functions are (type index, encoded body)."""

    types: List[bytes] = field(default_factory=list)
    funcs: List[Tuple[int, bytes]] = field(default_factory=list)
    tables: List[bytes] = field(default_factory=list)
    memories: List[bytes] = field(default_factory=list)
    globals_: List[bytes] = field(default_factory=list)
    exports: List[bytes] = field(default_factory=list)
    elems: List[bytes] = field(default_factory=list)
    data: List[bytes] = field(default_factory=list)

    def type(self, params: Sequence[int], results: Sequence[int]) -> int:
        self.types.append(functype(params, results))
        return len(self.types) - 1

    def func(self, ty: int, b: bytes, export: Optional[str] = None) -> int:
        self.funcs.append((ty, b))
        idx = len(self.funcs) - 1
        if export:
            self.exports.append(name(export) + b"\x00" + uleb(idx))
        return idx

    def encode(self) -> bytes:
        out = b"\0asm\x01\0\0\0"
        out += section(1, vec(self.types))
        out += section(3, vec([uleb(t) for t, _ in self.funcs]))
        if self.tables:
            out += section(4, vec(self.tables))
        if self.memories:
            out += section(5, vec(self.memories))
        if self.globals_:
            out += section(6, vec(self.globals_))
        out += section(7, vec(self.exports))
        if self.elems:
            out += section(9, vec(self.elems))
        out += section(10, vec([b for _, b in self.funcs]))
        if self.data:
            out += section(11, vec(self.data))
        return out


@dataclass
class Case:
    """A module and how to check it: ``calls`` are (export, args, expected result); an
    expected ``"trap:<kind>"`` means that trap."""

    family: str
    n: int
    wasm: bytes
    calls: Sequence[Tuple[str, Tuple[int, ...], object]]
    #: The builder, to derive variants with a cut function body.
    builder: Optional[ModuleBuilder] = None


def make_locals(n: int) -> Case:
    """One function with ``n`` i32 locals, each set from a call (locals saved/reloaded
    around ``n`` calls), returning the first plus the last."""
    m = ModuleBuilder()
    t_i = m.type([], [I32])
    one = m.func(t_i, body([], i32c(1)))
    code = b"".join(b"\x10" + uleb(one) + b"\x21" + uleb(j) for j in range(n))
    code += b"\x20\x00\x20" + uleb(n - 1) + b"\x6a"
    m.func(t_i, body([(n, I32)], code), export="f")
    return Case("locals", n, m.encode(), [("f", (), 2)], builder=m)


def make_nesting(n: int) -> Case:
    """``n`` nested blocks and loops (with results); the innermost branches out of all."""
    m = ModuleBuilder()
    t_i = m.type([], [I32])
    code = b"".join((b"\x03" if k % 2 else b"\x02") + bytes([I32]) for k in range(n))
    code += i32c(42) + b"\x0c" + uleb(n - 1) + b"\x0b" * n
    m.func(t_i, body([], code), export="f")
    return Case("nesting", n, m.encode(), [("f", (), 42)], builder=m)


def make_br_table(n: int) -> Case:
    """A ``br_table`` of ``n`` targets spread over 64 blocks with results (each needs its
    own value move); block ``d`` returns 7 + 100 + d."""
    k = 64
    m = ModuleBuilder()
    t = m.type([I32], [I32])
    code = (b"\x02" + bytes([I32])) * k
    targets = [j % k for j in range(n)]
    code += i32c(7) + b"\x20\x00" + b"\x0e" + vec([uleb(d) for d in targets]) + uleb(k - 1)
    for d in range(k):
        code += b"\x0b" + i32c(100 + d) + b"\x6a" + b"\x0f"
    m.func(t, body([], code[:-1]), export="f")
    calls = [("f", (i,), 107 + (i % k if i < n else k - 1)) for i in (0, n // 2 + 1, n - 1, n + 5)]
    return Case("br_table", n, m.encode(), calls, builder=m)


def make_functions(n: int) -> Case:
    """``n`` tiny functions returning their index, all in a table reached by
    ``call_indirect``."""
    m = ModuleBuilder()
    t_i = m.type([], [I32])
    t_ii = m.type([I32], [I32])
    for j in range(n):
        m.func(t_i, body([], i32c(j)))
    m.func(t_ii, body([], b"\x20\x00\x11" + uleb(t_i) + b"\x00"), export="call")
    m.exports.append(name("last") + b"\x00" + uleb(n - 1))
    m.tables.append(bytes([FUNCREF]) + b"\x00" + uleb(n))
    m.elems.append(b"\x00" + i32c(0) + b"\x0b" + vec([uleb(j) for j in range(n)]))
    return Case("functions", n, m.encode(), [("last", (), n - 1), ("call", (n // 3,), n // 3)], builder=m)


def make_big_body(n: int) -> Case:
    """One function body of about ``n`` bytes: a counter incremented ``n // 7`` times."""
    reps = n // 7
    m = ModuleBuilder()
    t_i = m.type([], [I32])
    code = b"\x20\x00\x41\x01\x6a\x21\x00" * reps + b"\x20\x00"
    m.func(t_i, body([(1, I32)], code), export="f")
    return Case("big_body", n, m.encode(), [("f", (), reps)], builder=m)


def make_unreachable(n: int) -> Case:
    """``n`` dead instructions (with dead blocks and a dead ``br_table``) after
    ``unreachable``; one export returns before it, one traps on it."""
    m = ModuleBuilder()
    t_i = m.type([], [I32])
    dead = bytearray(b"\x00")
    for j in range(n // 3):
        dead += b"\x41\x01\x6a" if j % 50 else b"\x02\x40\x41\x00\x0e\x01\x00\x00\x0b"
    m.func(t_i, body([], i32c(5) + b"\x0f" + bytes(dead)), export="ret")
    m.func(t_i, body([], bytes(dead)), export="trap")
    return Case("unreachable", n, m.encode(), [("ret", (), 5), ("trap", (), "trap:unreachable")], builder=m)


def make_data(n: int) -> Case:
    """``n`` active data segments of 4 bytes each: segment ``i`` stores ``7 * i + 1``."""
    m = ModuleBuilder()
    t = m.type([I32], [I32])
    pages = (4 * n) // 65536 + 1
    m.memories.append(b"\x00" + uleb(pages))
    for i in range(n):
        m.data.append(b"\x00" + i32c(4 * i) + b"\x0b" + uleb(4) + (7 * i + 1).to_bytes(4, "little"))
    m.func(t, body([], b"\x20\x00\x41\x02\x74\x28\x02\x00"), export="load")
    calls = [("load", (i,), 7 * i + 1) for i in (0, n // 2, n - 1)]
    return Case("data", n, m.encode(), calls, builder=m)


def make_maxima(n: int) -> Case:
    """Declared but unused maxima: a 4 GiB memory maximum, a 2^32-1 element table
    maximum, and a table of ``n`` initial elements."""
    m = ModuleBuilder()
    t = m.type([], [I32])
    m.memories.append(b"\x01" + uleb(1) + uleb(65536))
    m.tables.append(bytes([FUNCREF]) + b"\x01" + uleb(n) + uleb(2**32 - 1))
    # memory.grow 1 + memory.size + table.size
    code = i32c(1) + b"\x40\x00\x3f\x00\x6a\xfc\x10\x00\x6a"
    m.func(t, body([], code), export="f")
    return Case("maxima", n, m.encode(), [("f", (), 1 + 2 + n)], builder=m)


def make_stack(n: int) -> Case:
    """A deep operand stack (``n`` constants under a local reference) that the compiler must
    not rescan: ``local.set`` of that local, register pressure, calls and blocks on top of
    it. Returns ``p + n + 2 * (n // 2)`` for argument ``p``."""
    m = ModuleBuilder()
    t = m.type([I32], [I32])
    t_i = m.type([], [I32])
    m.globals_.append(bytes([I32]) + b"\x00" + i32c(2) + b"\x0b")
    one = m.func(t_i, body([], i32c(1)))
    q = n // 4
    code = b"\x20\x00" + i32c(1) * n
    code += (i32c(3) + b"\x21\x00") * q  # local.set 0 with local 0 still on the stack
    code += b"\x23\x00" * (n // 2)  # global.get: registers run out, the deepest spills
    code += (b"\x10" + uleb(one) + b"\x1a") * q  # call + drop: spills around each call
    code += b"\x02\x40\x0b" * q  # empty blocks
    code += b"\x6a" * (n + n // 2)
    m.func(t, body([], code), export="f")
    return Case("stack", n, m.encode(), [("f", (5,), 5 + n + 2 * (n // 2))], builder=m)


FAMILIES: Dict[str, Callable[[int], Case]] = {
    "locals": make_locals,
    "nesting": make_nesting,
    "br_table": make_br_table,
    "functions": make_functions,
    "big_body": make_big_body,
    "unreachable": make_unreachable,
    "data": make_data,
    "maxima": make_maxima,
    "stack": make_stack,
}

#: The sizes the issue asks for (``big_body`` in bytes, ``unreachable`` in instructions).
FULL: Dict[str, int] = {
    "locals": 50_000,
    "nesting": 10_000,
    "br_table": 100_000,
    "functions": 100_000,
    "big_body": 5_000_000,
    "unreachable": 100_000,
    "data": 100_000,
    "maxima": 1_000_000,
    "stack": 60_000,
}

#: Per family: limits (``wazero.Limits`` keyword arguments) that the full-size case
#: exceeds, and the limit the error must name.
TIGHT: Dict[str, Tuple[Dict[str, int], str]] = {
    "locals": ({"max_locals": 1000}, "max_locals"),
    "nesting": ({"max_nesting_depth": 100}, "max_nesting_depth"),
    "br_table": ({"max_br_table_size": 1000}, "max_br_table_size"),
    "functions": ({"max_functions": 1000}, "max_functions"),
    "big_body": ({"max_function_size": 100_000}, "max_function_size"),
    "unreachable": ({"max_code_size": 16}, "max_code_size"),
    "data": ({"max_data_segments": 1000}, "max_data_segments"),
    "maxima": ({"max_table_size": 1000}, "max_table_size"),
    "stack": ({"max_value_stack": 1000}, "max_value_stack"),
}


def read_uleb(b: bytes) -> Tuple[int, int]:
    """Value and length of the unsigned LEB128 at the start of ``b``."""
    value, shift, i = 0, 0, 0
    while True:
        value |= (b[i] & 0x7F) << shift
        shift += 7
        i += 1
        if not b[i - 1] & 0x80:
            return value, i


def variants(case: Case, count: int = 12, seed: int = 13) -> Iterator[Tuple[str, bytes]]:
    """Truncated copies (the file cut at ``count`` evenly spread points, plus just before
    the end; and the largest function body cut short inside well-formed sections, so the
    compiler sees it) and garbled copies (a few bytes overwritten at seeded random places)."""
    wasm = case.wasm
    if case.builder is not None and case.builder.funcs:
        m = case.builder
        big = max(range(len(m.funcs)), key=lambda i: len(m.funcs[i][1]))
        ty, enc = m.funcs[big]
        size, at = read_uleb(enc)
        content = enc[at:]
        for k in range(1, count + 1):
            part = content[: len(content) * k // (count + 1)]
            m.funcs[big] = (ty, uleb(len(part)) + part)
            yield f"body-cut@{len(part)}", m.encode()
        m.funcs[big] = (ty, enc)
    for k in range(1, count + 1):
        cut = len(wasm) * k // (count + 1)
        yield f"truncated@{cut}", wasm[:cut]
    yield f"truncated@{len(wasm) - 1}", wasm[:-1]
    rng = random.Random(seed)
    for k in range(count):
        b = bytearray(wasm)
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(8, len(b))] = rng.choice([0x00, 0x0B, 0x7F, 0x80, 0xFF, rng.randrange(256)])
        yield f"garbled#{k}", bytes(b)


def make_jit_bomb(n: int) -> Case:
    """``n`` calls of a function with 1,000 results, each result copied into the caller's
    frame: a few input bytes per call, several KiB of code. The default code-size limit must
    stop it (expected: a ``max_code_size`` error) before memory runs out."""
    m = ModuleBuilder()
    t_many = m.type([], [I32] * 1000)
    t_i = m.type([], [I32])
    many = m.func(t_many, body([], i32c(1) * 1000))
    code = (b"\x02\x40\x10" + uleb(many) + b"\x0c\x00\x0b") * n + i32c(1)
    m.func(t_i, body([], code), export="f")
    return Case("jit_bomb", n, m.encode(), [("f", (), 1)], builder=m)
