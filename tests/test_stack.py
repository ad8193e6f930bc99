"""Unbounded recursion traps with kind "stack_overflow" instead of crashing the process."""

from __future__ import annotations

import threading

import pytest

import wazero
from conftest import KITCHEN_WAT


def _overflow_then_recover(result: dict) -> None:
    try:
        with wazero.Runtime() as rt, rt.instantiate(KITCHEN_WAT) as m:
            for _ in range(3):
                try:
                    m.call("recurse", 0)
                except wazero.Trap as e:
                    result.setdefault("kinds", []).append(e.kind)
                    result["message"] = str(e)
                result.setdefault("after", []).append(m.call("count", 1000))
    except BaseException as e:  # noqa: BLE001 - reported to the main thread
        result["error"] = repr(e)


def test_stack_overflow_main_thread():
    result: dict = {}
    _overflow_then_recover(result)
    assert result.get("error") is None
    assert result["kinds"] == ["stack_overflow"] * 3
    assert "'recurse'" in result["message"]
    assert result["after"] == [[1000]] * 3


def test_stack_overflow_small_thread_stack():
    old = threading.stack_size(256 * 1024)
    try:
        result: dict = {}
        t = threading.Thread(target=_overflow_then_recover, args=(result,))
        t.start()
        t.join()
    finally:
        threading.stack_size(old)
    assert result.get("error") is None, result["error"]
    assert result["kinds"] == ["stack_overflow"] * 3
    assert result["after"] == [[1000]] * 3


@pytest.mark.parametrize("limit", [64 * 1024, 512 * 1024])
def test_max_wasm_stack(limit):
    with wazero.Runtime(max_wasm_stack=limit) as rt, rt.instantiate(KITCHEN_WAT) as m:
        with pytest.raises(wazero.Trap) as ei:
            m.call("recurse", 0)
        assert ei.value.kind == "stack_overflow"
        assert m.call("count", 100) == [100]


def test_smaller_stack_limit_allows_less_recursion():
    # binary search for the deepest `count` that succeeds under each limit
    def deepest(limit: int) -> int:
        with wazero.Runtime(max_wasm_stack=limit) as rt, rt.instantiate(KITCHEN_WAT) as m:
            lo, hi = 0, 1 << 20
            while lo < hi:
                mid = (lo + hi + 1) // 2
                try:
                    m.call("count", mid)
                    lo = mid
                except wazero.Trap as e:
                    assert e.kind == "stack_overflow"
                    hi = mid - 1
            return lo

    small, big = deepest(64 * 1024), deepest(256 * 1024)
    assert 0 < small < big
