"""Stopping runaway code: timeouts, Runtime.interrupt() from another thread, Ctrl-C."""

from __future__ import annotations

import math
import os
import signal
import threading
import time

import pytest

import wazero
from runaway import RUNAWAY_WAT


def instantiate(runtime: wazero.Runtime, host=lambda: None) -> wazero.Module:
    return runtime.instantiate(RUNAWAY_WAT, {"env": {"host": host}})


def later(seconds: float, action) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)
        action()

    t = threading.Thread(target=run)
    t.start()
    return t


def test_runtime_timeout_stops_a_loop_and_the_module_stays_usable():
    with wazero.Runtime(timeout=0.2) as rt:
        m = instantiate(rt)
        start = time.monotonic()
        with pytest.raises(wazero.Trap) as e:
            m.call("spin")
        took = time.monotonic() - start
        assert e.value.kind == "timeout"
        assert e.value.export == "spin"
        assert "timed out" in str(e.value)
        assert 0.2 <= took < 3, took
        assert m.call("answer") == [42]
        # Short calls never see a stale deadline.
        for _ in range(2000):
            assert m.exports["answer"]() == 42


def test_timeout_stops_loop_free_recursion():
    with wazero.Runtime() as rt:
        m = instantiate(rt)
        with pytest.raises(wazero.Trap) as e:
            m.call("fib", 100, timeout=0.2)
        assert e.value.kind == "timeout"
        assert m.call("fib", 20) == [6765]


def test_per_call_timeout_on_call_and_function():
    with wazero.Runtime(timeout=60) as rt:
        m = instantiate(rt)
        start = time.monotonic()
        with pytest.raises(wazero.Trap) as e:
            m.call("spin", timeout=0.1)
        assert e.value.kind == "timeout" and time.monotonic() - start < 3
        with pytest.raises(wazero.Trap) as e:
            m.exports["spin"](timeout=0.1)
        assert e.value.kind == "timeout"
        # Arguments and timeout together; the override does not stick.
        expected = m.call("count", 10)
        assert m.call("count", 10, timeout=5) == expected
        assert m.exports["count"](10, timeout=5) == expected[0]
        assert m.exports["count"](10, timeout=math.inf) == expected[0]
        assert m.call("count", 10_000_000, timeout=None) == m.call("count", 10_000_000)


def test_timeout_kwarg_errors():
    with wazero.Runtime() as rt:
        m = instantiate(rt)
        for bad in (0, -1, float("nan")):
            with pytest.raises(wazero.WazeroError, match="positive"):
                m.call("answer", timeout=bad)
            with pytest.raises(wazero.WazeroError, match="positive"):
                wazero.Runtime(timeout=bad)
        with pytest.raises(TypeError, match="unexpected keyword argument 'timout'"):
            m.call("answer", timout=1)
        with pytest.raises(TypeError):
            m.exports["answer"](timout=1)


def test_interrupt_from_another_thread():
    with wazero.Runtime() as rt:
        m = instantiate(rt)
        for name, args in (("spin", ()), ("fib", (100,))):
            t = later(0.2, rt.interrupt)
            start = time.monotonic()
            with pytest.raises(wazero.Trap) as e:
                m.call(name, *args)
            t.join()
            assert e.value.kind == "interrupted", name
            assert time.monotonic() - start < 3
            assert m.call("answer") == [42]


def test_interrupt_without_a_running_call_has_no_effect():
    with wazero.Runtime() as rt:
        m = instantiate(rt)
        rt.interrupt()
        assert m.call("answer") == [42]


def test_interrupt_from_a_host_function():
    with wazero.Runtime() as rt:
        m = instantiate(rt, host=lambda: rt.interrupt())
        # The host function returns normally; the Wasm caller stops at its next call.
        with pytest.raises(wazero.Trap) as e:
            m.call("call_host")
        assert e.value.kind == "interrupted"


def test_timeout_while_instantiating():
    wat = '(module (func $s (loop $l (br $l))) (start $s))'
    with wazero.Runtime(timeout=0.2) as rt:
        with pytest.raises(wazero.Trap) as e:
            rt.instantiate(wat)
        assert e.value.kind == "timeout" and e.value.export is None


def test_wasi_run_timeout():
    wat = '(module (memory (export "memory") 1) (func (export "_start") (loop $l (br $l))))'
    with wazero.Runtime() as rt:
        m = rt.instantiate(wat, wasi=wazero.WasiConfig())
        with pytest.raises(wazero.Trap) as e:
            m.run(timeout=0.2)
        assert e.value.kind == "timeout"


# A broken interrupt path must fail the test, not hang the run: every call that waits for
# a signal carries this deadline (a timeout trap is then the failure).
SAFETY_NET = 30.0


@pytest.fixture
def python_sigint_handler():
    """Python's own SIGINT handler for the test. A process started in the background by a
    non-interactive shell (as CI steps can be) inherits SIGINT ignored, and then CPython
    installs no handler: Ctrl-C is meant to do nothing there."""
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def notice_new_sigint_handler(m: wazero.Module) -> None:
    # wazero re-installs its SIGINT hook in front of a handler installed after it within
    # 32 calls (see src/python/control.rs).
    for _ in range(32):
        m.call("answer")



@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="needs the main thread")
@pytest.mark.parametrize("name, args", [("spin", ()), ("fib", (100,))])
def test_sigint_raises_keyboard_interrupt_promptly(name, args, python_sigint_handler):
    with wazero.Runtime() as rt:
        m = instantiate(rt)
        notice_new_sigint_handler(m)
        sent = []
        t = later(0.3, lambda: (sent.append(time.monotonic()), os.kill(os.getpid(), signal.SIGINT)))
        with pytest.raises(KeyboardInterrupt):
            m.call(name, *args, timeout=SAFETY_NET)
        stopped = time.monotonic()
        t.join()
        assert stopped - sent[0] < 1.0
        assert m.call("answer") == [42]


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="needs the main thread")
def test_sigint_with_a_custom_handler():
    seen = []
    old = signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
    try:
        with wazero.Runtime() as rt:
            m = instantiate(rt)
            # A handler installed after wazero's is noticed within 32 calls.
            notice_new_sigint_handler(m)
            t = later(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
            with pytest.raises(wazero.Trap) as e:
                m.call("spin", timeout=SAFETY_NET)
            t.join()
            assert e.value.kind == "interrupted"
            assert seen == [signal.SIGINT]
    finally:
        signal.signal(signal.SIGINT, old)


def test_interrupting_one_runtime_leaves_others_running():
    done = {}

    def other() -> None:
        with wazero.Runtime() as b:
            done["b"] = instantiate(b).call("count", 30_000_000)

    with wazero.Runtime() as a:
        ma = instantiate(a)
        t = threading.Thread(target=other)
        t.start()
        i = later(0.05, a.interrupt)
        with pytest.raises(wazero.Trap) as e:
            ma.call("spin")
        assert e.value.kind == "interrupted"
        i.join()
        t.join()
        assert done["b"] == ma.call("count", 30_000_000)
