"""Call-overhead micro-benchmark: ns per call from Python into Wasm and back.

Run: ``python benches/calls/bench.py [--repeat N] [--number N]`` (in a venv with wazero
installed; ``pip install pywasm3`` to compare with pywasm3 in the same process).

Measures, best of ``--repeat`` runs of ``--number`` calls each (``timeit``):
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
import timeit
from typing import Callable, Dict, Optional

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


def best_ns(fn: Callable[[], object], number: int, repeat: int) -> float:
    """Best time per call of ``fn`` in ns."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e9


def host_ns(run_loop: Callable[[int], object], n: int, repeat: int) -> float:
    """ns per host call: Wasm calls the host ``n`` times per run."""
    return min(timeit.repeat(lambda: run_loop(n), number=1, repeat=repeat)) / n * 1e9


def bench_pywasm3(number: int, repeat: int) -> Dict[str, float]:
    import wasm3  # type: ignore[import-not-found]

    env = wasm3.Environment()
    rt = env.new_runtime(64 * 1024)
    mod = env.parse_module(WASM_BINARY)
    rt.load(mod)
    mod.link_function("env", "host", "i(i)", lambda x: x)
    add = rt.find_function("add")
    loop = rt.find_function("loop")
    assert add(1, 2) == 3
    return {
        "add": best_ns(lambda: add(1, 2), number, repeat),
        "host": host_ns(loop, number, repeat),
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

    results: Dict[str, float] = {
        'exports["add"](1, 2)': best_ns(lambda: add(1, 2), number, repeat),
        'module.call("add", 1, 2)': best_ns(lambda: module.call("add", 1, 2), number, repeat),
        "Wasm -> Python host call": host_ns(loop, number, repeat),
        "plain Python add(1, 2)": best_ns(lambda: py_add(1, 2), number, repeat),
    }
    try:
        w3: Optional[Dict[str, float]] = bench_pywasm3(number, repeat)
        w3_error = ""
    except Exception as e:  # ImportError, or a build that does not work
        w3, w3_error = None, f"{type(e).__name__}: {e}"
    if w3 is not None:
        results["pywasm3 add(1, 2)"] = w3["add"]
        results["pywasm3 Wasm -> Python host call"] = w3["host"]

    print(f"wazero {wazero.__version__}, Python {sys.version.split()[0]}, best of {repeat} x {number} calls")
    for name, t in results.items():
        print(f"  {name:36s} {t:8.1f} ns/call")
    if w3 is None:
        print(f"  pywasm3: not available ({w3_error}); `pip install pywasm3` to compare")
    else:
        base = w3["add"]
        print("ratio to pywasm3 in this run (target: <= 1.2x for calls, host call < 150 ns):")
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
