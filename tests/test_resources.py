"""No memory growth over many instantiate/close cycles (RSS from /proc/self/statm)."""

from __future__ import annotations

import gc
import os

import pytest

import wazero
from conftest import KITCHEN_WAT

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")

# Wasm memory of the module under test: 1 page = 64 KiB. A leak of one instance per cycle
# would grow RSS by far more than the slack over 10,000 cycles.
SLACK = 4 * 1024 * 1024
CYCLES = 10_000
WARMUP = 1_000


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture(scope="module")
def kitchen_binary() -> wazero.CompiledModule:
    return wazero.CompiledModule(KITCHEN_WAT)


def _cycle_new_runtime(source) -> None:
    with wazero.Runtime() as rt:
        with rt.instantiate(source) as m:
            m.call("store", 0, 1)  # touch the memory so its page is resident
            assert m.call("load", 0) == [1]


def _measure(fn, n: int) -> int:
    for _ in range(WARMUP):
        fn()
    gc.collect()
    before = rss()
    for _ in range(n):
        fn()
    gc.collect()
    return rss() - before


def test_instantiate_close_cycles_new_runtime(kitchen_binary):
    growth = _measure(lambda: _cycle_new_runtime(kitchen_binary), CYCLES)
    assert growth < SLACK, f"RSS grew by {growth} bytes over {CYCLES} cycles"


def test_compile_instantiate_close_cycles(kitchen_binary):
    source = KITCHEN_WAT.encode()
    growth = _measure(lambda: _cycle_new_runtime(source), CYCLES // 5)
    assert growth < SLACK, f"RSS grew by {growth} bytes over {CYCLES // 5} cycles"


def test_instantiate_close_cycles_same_runtime(kitchen_binary):
    with wazero.Runtime() as rt:

        def cycle():
            with rt.instantiate(kitchen_binary) as m:
                m.call("store", 0, 1)

        growth = _measure(cycle, CYCLES)
    assert growth < SLACK, f"RSS grew by {growth} bytes over {CYCLES} cycles in one runtime"


def test_traps_do_not_leak(kitchen_binary):
    with wazero.Runtime() as rt, rt.instantiate(kitchen_binary) as m:

        def cycle():
            try:
                m.call("div_s", 1, 0)
            except wazero.Trap:
                pass

        growth = _measure(cycle, CYCLES)
    assert growth < SLACK


def test_rss_measure_detects_a_leak():
    # guard against a measurement that can never fail
    hoard = []
    growth = _measure(lambda: hoard.append(bytearray(1024)), CYCLES)
    assert growth > SLACK // 2
