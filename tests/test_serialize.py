"""Serialized modules: serialize/deserialize, pickle, process pools and Runtime(cache_dir=...)."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import List

import pytest

import wazero

# Memory growth and table operations call the runtime's builtins; call_indirect checks
# signature ids; the start function and a host import run at instantiation.
WAT = r"""
(module
  (type $ii (func (param i32) (result i32)))
  (import "env" "offset" (func $offset (param i32) (result i32)))
  (memory (export "mem") 1 100)
  (table 3 funcref)
  (global $started (mut i32) (i32.const 0))
  (elem (i32.const 0) $sq $neg)
  (func $sq (type $ii) (i32.mul (local.get 0) (local.get 0)))
  (func $neg (type $ii) (i32.sub (i32.const 0) (local.get 0)))
  (func $start (global.set $started (i32.const 1)))
  (start $start)
  (func (export "started") (result i32) (global.get $started))
  (func (export "apply") (param i32 i32) (result i32)
    (call $offset (call_indirect (type $ii) (local.get 0) (local.get 1))))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func $fib (export "fib") (param i32) (result i64)
    (if (result i64) (i32.lt_u (local.get 0) (i32.const 2))
      (then (i64.extend_i32_u (local.get 0)))
      (else (i64.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
)
"""

IMPORTS = {"env": {"offset": lambda x: x + 1000}}


def exercise(compiled: wazero.CompiledModule) -> List[object]:
    """Instantiates `compiled` in a fresh runtime and returns the results of every export."""
    with wazero.Runtime() as rt:
        m = rt.instantiate(compiled, IMPORTS)
        out: List[object] = [m.call("started"), m.call("apply", 7, 0), m.call("apply", 7, 1)]
        out += [m.call("grow", 2), m.call("fib", 20)]
        try:
            m.call("apply", 7, 2)
        except wazero.Trap as e:
            out.append(e.kind)
        out.append(len(m.exports["mem"]))
        return out


EXPECTED = [[1], [1049], [993], [1], [6765], "uninitialized_element", 3 * 65536]


def worker(compiled: wazero.CompiledModule, n: int) -> List[object]:
    """Runs in a pool worker: instantiates the unpickled module."""
    with wazero.Runtime() as rt:
        m = rt.instantiate(compiled, IMPORTS)
        return [m.call("fib", n), m.call("apply", n, 0), os.getpid()]


def test_round_trip_runs_identically() -> None:
    compiled = wazero.CompiledModule(WAT)
    assert exercise(compiled) == EXPECTED
    blob = compiled.serialize()
    assert isinstance(blob, bytes) and blob[:8] == b"\0wazero\x1a"
    for data in (blob, bytearray(blob), memoryview(blob)):
        loaded = wazero.CompiledModule.deserialize(data)
        assert exercise(loaded) == EXPECTED
        assert loaded.serialize() == blob
        assert [(n, str(t)) for n, t in loaded.exports] == [(n, str(t)) for n, t in compiled.exports]
    with wazero.Runtime() as rt:
        assert exercise(rt.deserialize(blob)) == EXPECTED


def test_pickle_round_trip() -> None:
    compiled = wazero.CompiledModule(WAT)
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        again = pickle.loads(pickle.dumps(compiled, protocol=protocol))
        assert isinstance(again, wazero.CompiledModule)
        assert exercise(again) == EXPECTED
    # Inside containers too (as multiprocessing sends arguments).
    (a, b) = pickle.loads(pickle.dumps((compiled, compiled)))
    assert exercise(b) == EXPECTED


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_process_pool_runs_the_pickled_module(method: str) -> None:
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} start method")
    compiled = wazero.CompiledModule(WAT)
    ctx = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        results = list(pool.map(worker, [compiled] * 4, [10, 15, 20, 25]))
    fibs = {10: 55, 15: 610, 20: 6765, 25: 75025}
    for n, (fib, sq, pid) in zip([10, 15, 20, 25], results):
        assert fib == [fibs[n]]
        assert sq == [n * n + 1000]
        assert pid != os.getpid()


def test_corrupted_blobs_are_rejected() -> None:
    blob = wazero.CompiledModule(WAT).serialize()
    bad_inputs = [b"", blob[:7], blob[:100], blob[:-1], blob + b"\0", b"\0asm\x01\0\0\0"]
    for i in range(0, len(blob), max(1, len(blob) // 200)):
        flipped = bytearray(blob)
        flipped[i] ^= 0x40
        bad_inputs.append(bytes(flipped))
    for bad in bad_inputs:
        with pytest.raises(wazero.DeserializeError):
            wazero.CompiledModule.deserialize(bad)
    with pytest.raises(wazero.DeserializeError, match="checksum"):
        wazero.CompiledModule.deserialize(blob[:-1] + bytes([blob[-1] ^ 1]))
    with pytest.raises(wazero.DeserializeError, match="magic"):
        pickle.loads(pickle.dumps(wazero.CompiledModule(WAT)).replace(b"\0wazero\x1a", b"\0wazerX\x1a"))
    with pytest.raises(wazero.WazeroTypeError):
        wazero.CompiledModule.deserialize("not bytes")  # type: ignore[arg-type]
    assert issubclass(wazero.DeserializeError, wazero.WazeroError)


def test_cache_dir_hit_miss_and_corrupted_entry(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with wazero.Runtime(cache_dir=cache) as rt:
        assert rt.cache_stats == {"hits": 0, "misses": 0, "invalid": 0}
        compiled = rt.compile(WAT)
        assert exercise(compiled) == EXPECTED
        assert rt.cache_stats == {"hits": 0, "misses": 1, "invalid": 0}
        # The same module as binary text-converted source: the same entry.
        rt.instantiate(WAT, IMPORTS)
        assert rt.cache_stats == {"hits": 1, "misses": 1, "invalid": 0}
    entries = list(cache.iterdir())
    assert len(entries) == 1 and entries[0].name.endswith(".wazero-module")
    good = entries[0].read_bytes()

    with wazero.Runtime(cache_dir=str(cache)) as rt:
        assert exercise(rt.compile(WAT)) == EXPECTED
        assert rt.cache_stats == {"hits": 1, "misses": 0, "invalid": 0}
        for bad in (good[: len(good) // 2], good[:-1] + b"\x00", b""):
            entries[0].write_bytes(bad)
            assert exercise(rt.compile(WAT)) == EXPECTED
            assert entries[0].read_bytes() == good  # recompiled and rewritten
        assert rt.cache_stats == {"hits": 1, "misses": 0, "invalid": 3}

    # A file path works through the cache too; compile errors are raised, not cached.
    wasm_file = tmp_path / "m.wat"
    wasm_file.write_text(WAT)
    with wazero.Runtime(cache_dir=cache) as rt:
        m = rt.instantiate_file(wasm_file, IMPORTS)
        assert m.call("fib", 10) == [55]
        assert rt.cache_stats == {"hits": 1, "misses": 0, "invalid": 0}
        with pytest.raises(wazero.CompileError):
            rt.compile(b"\0asm\x01\0\0\0\x01")
    assert len(list(cache.iterdir())) == 1
    assert wazero.Runtime().cache_stats is None


CHILD = r"""
import sys, wazero
sys.path.insert(0, sys.argv[2])
from test_serialize import WAT, EXPECTED, exercise
with wazero.Runtime(cache_dir=sys.argv[1]) as rt:
    assert exercise(rt.compile(WAT)) == EXPECTED
    print(rt.cache_stats["hits"] + rt.cache_stats["misses"])
"""


def test_cache_shared_by_concurrent_processes(tmp_path: Path) -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    procs = [
        subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path), here], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0 and out.strip() == "1"
    assert [e.name.endswith(".wazero-module") for e in tmp_path.iterdir()] == [True]
    with wazero.Runtime(cache_dir=tmp_path) as rt:
        rt.compile(WAT)
        assert rt.cache_stats == {"hits": 1, "misses": 0, "invalid": 0}
