"""Call-overhead micro-benchmark: ns per call from Python into Wasm and back.

Run: ``python benches/calls/bench.py [--repeat N] [--number N]`` (in a venv with wazero
installed; ``pip install pywasm3`` to compare with pywasm3 in the same process).

Measures the best of ``--repeat`` rounds of ``--number`` calls each, rounds interleaving
the cases (each timed batch includes the loop calling a lambda, like ``timeit``; the plain
Python function shows that floor):
- ``exports["add"](1, 2)``: a cached ``wazero.Function``;
- ``module.call("add", 1, 2)``;
- a Wasm -> Python host call: Wasm loops N times calling an imported Python function
  (reported per host call, loop overhead included);
- a plain Python function ``add(1, 2)``, as the floor;
- pywasm3's ``add(1, 2)`` and its Wasm -> Python host call, if pywasm3 is installed.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Callable, Dict, Optional, Tuple

import wazero

WAT = r"""
(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "loop") (param $n i32) (result i32)
    (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (i32.add (local.get $acc) (call $host (local.get $n))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $acc)))
"""


def measure(cases: Dict[str, Tuple[Callable[[], object], int]], repeat: int) -> Dict[str, float]:
    """Best ns per call of every case. Rounds interleave the cases (one batch of each per
    round), so that load changes on a shared machine hit all of them alike."""
    best = {name: float("inf") for name in cases}
    for _ in range(repeat):
        for name, (fn, calls) in cases.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], (time.perf_counter() - t0) / calls * 1e9)
    return best


def batch(fn: Callable[[], object], number: int) -> Tuple[Callable[[], object], int]:
    """A case calling ``fn`` ``number`` times."""

    def run() -> None:
        for _ in range(number):
            fn()

    return run, number


def pywasm3_cases(number: int) -> Dict[str, Tuple[Callable[[], object], int]]:
    import wasm3  # type: ignore[import-not-found]

    env = wasm3.Environment()
    rt = env.new_runtime(64 * 1024)
    mod = env.parse_module(WASM_BINARY)
    rt.load(mod)
    mod.link_function("env", "host", "i(i)", lambda x: x)
    add = rt.find_function("add")
    loop = rt.find_function("loop")
    assert add(1, 2) == 3 and loop(10) == 55
    return {
        "pywasm3 add(1, 2)": batch(lambda: add(1, 2), number),
        "pywasm3 Wasm -> Python host call": (lambda: loop(number), number),
    }


def _section(sid: int, *items: bytes) -> bytes:
    body = bytes([len(items)]) + b"".join(items)
    return bytes([sid, len(body)]) + body


def _name(s: str) -> bytes:
    return bytes([len(s)]) + s.encode()


def _body(locals_: bytes, code: str) -> bytes:
    b = locals_ + bytes.fromhex(code) + b"\x0b"
    return bytes([len(b)]) + b


# The module above as a binary (pywasm3 does not read text); main() checks it against WAT.
WASM_BINARY = (
    b"\0asm\x01\0\0\0"
    + _section(1, bytes.fromhex("60017f017f"), bytes.fromhex("60027f7f017f"))  # (i32)->i32, (i32 i32)->i32
    + _section(2, _name("env") + _name("host") + b"\x00\x00")  # import func type 0
    + _section(3, b"\x01", b"\x00")  # add: type 1, loop: type 0
    + _section(7, _name("add") + b"\x00\x01", _name("loop") + b"\x00\x02")
    + _section(
        10,
        _body(b"\x00", "2000 2001 6a"),
        _body(
            b"\x01\x01\x7f",  # one i32 local ($acc)
            "0240 0340 2000 45 0d01 2001 2000 1000 6a 2101 2000 4101 6b 2100 0c00 0b 0b 2001",
        ),
    )
)


def main(argv: Optional[list] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--number", type=int, default=200_000)
    p.add_argument("--repeat", type=int, default=7)
    ns = p.parse_args(argv)
    number, repeat = ns.number, ns.repeat

    rt = wazero.Runtime()
    module = rt.instantiate(WAT, imports={"env": {"host": lambda x: x}})
    check = rt.instantiate(WASM_BINARY, imports={"env": {"host": lambda x: x}})
    assert check.call("loop", 10) == module.call("loop", 10) == [55], "WASM_BINARY out of sync with WAT"
    add = module.exports["add"]
    loop = module.exports["loop"]
    assert add(1, 2) == 3

    def py_add(a: int, b: int) -> int:
        return a + b

    cases: Dict[str, Tuple[Callable[[], object], int]] = {
        'exports["add"](1, 2)': batch(lambda: add(1, 2), number),
        'module.call("add", 1, 2)': batch(lambda: module.call("add", 1, 2), number),
        "Wasm -> Python host call": (lambda: loop(number), number),
        "plain Python add(1, 2)": batch(lambda: py_add(1, 2), number),
    }
    w3_error = ""
    try:
        cases.update(pywasm3_cases(number))
    except Exception as e:  # ImportError, or a build that does not work
        w3_error = f"{type(e).__name__}: {e}"
    results = measure(cases, repeat)
    w3 = None if w3_error else results

    print(f"wazero {wazero.__version__}, Python {sys.version.split()[0]}, best of {repeat} interleaved rounds"
          f" of {number} calls")
    for name, t in results.items():
        print(f"  {name:36s} {t:8.1f} ns/call")
    if w3 is None:
        print(f"  pywasm3: not available ({w3_error}); `pip install pywasm3` to compare")
    else:
        print("ratio to pywasm3 in this run (targets: calls <= 1.0x, host call <= 150 ns):")
        for ours, theirs in (
            ('exports["add"](1, 2)', "pywasm3 add(1, 2)"),
            ('module.call("add", 1, 2)', "pywasm3 add(1, 2)"),
            ("Wasm -> Python host call", "pywasm3 Wasm -> Python host call"),
        ):
            print(f"  {ours:36s} {results[ours] / results[theirs]:5.2f}x")
    rt.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
