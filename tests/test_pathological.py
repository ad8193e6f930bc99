"""Pathological modules (issue 13): each family at the size the issue asks for compiles and
returns the right results; under tight limits it is rejected naming the limit; truncated and
garbled copies are rejected cleanly (or compile). Every case runs in a child process with a
timeout and an address-space cap, so a hang or a blow-up fails the test instead of CI."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from typing import Any, Dict, List, Optional

import pytest

import wazero

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pathological  # noqa: E402

RUNNER = os.path.join(HERE, "pathological_run.py")
TIMEOUT_S = 120  # debug builds under load; the release scaling bench shows each takes < 1 s
MAX_RSS_KIB = 1 << 20  # 1 GiB: every family needs far less (see benches/README.md)
# Under user-mode emulation (.ci/aarch64.sh sets this) the child's RSS is mostly QEMU's own
# translation cache (~1.3 GiB): memory bounds say nothing about wazero there, so only the
# results and errors are checked.
EMULATED = os.environ.get("WAZERO_EMULATED") == "1"


def run_child(family: str, n: int, limits: Optional[Dict[str, int]] = None, variants: bool = False) -> List[Dict[str, Any]]:
    cmd = [sys.executable, RUNNER, family, str(n)]
    if limits:
        cmd += ["--limits", json.dumps(limits)]
    if variants:
        cmd.append("--variants")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert proc.returncode == 0, f"{family}/{n}: child died ({proc.returncode}): {proc.stderr[-2000:]}"
    return [json.loads(line) for line in proc.stdout.splitlines()]


@pytest.mark.parametrize("family", sorted(pathological.FAMILIES))
def test_full_size_compiles_and_runs(family: str) -> None:
    (res,) = run_child(family, pathological.FULL[family])
    assert res["ok"], res
    assert res["calls"] and all(got == expected for _, _, got, expected in res["calls"]), res
    assert EMULATED or res["maxrss_kib"] < MAX_RSS_KIB, res


@pytest.mark.parametrize("family", sorted(pathological.FAMILIES))
def test_tight_limit_is_named(family: str) -> None:
    limits, name = pathological.TIGHT[family]
    (res,) = run_child(family, pathological.FULL[family], limits=limits)
    assert not res["ok"] and res["limit"] == name, res
    maximum = limits[name]
    assert f"limit {name} exceeded:" in res["error"] and f"the maximum is {maximum}" in res["error"], res
    assert res["offset"] is not None


@pytest.mark.parametrize("family", sorted(pathological.FAMILIES))
def test_truncated_and_garbled_fail_cleanly(family: str) -> None:
    # A tenth of the full size: the variants exercise the same code paths, faster.
    lines = run_child(family, max(pathological.FULL[family] // 10, 10), variants=True)
    first, variants = lines[0], lines[1:]
    assert first["ok"], first
    assert len(variants) == 37, [v["case"] for v in variants]
    for v in variants:
        # Compiling is allowed (a garbled byte may leave a valid module); failing must be a
        # CompileError with a message and an offset.
        assert v["ok"] or (v["error"] and v["offset"] is not None), v
    assert any(not v["ok"] for v in variants)


def test_generator_sizes_grow_linearly() -> None:
    for family, make in pathological.FAMILIES.items():
        small, large = len(make(1000).wasm), len(make(2000).wasm)
        if family != "maxima":  # the table size is a number, not bytes
            assert 1.5 < large / small < 2.5, (family, small, large)


# ---------------------------------------------------------------- the Python API


def test_limits_defaults_and_keywords() -> None:
    d = wazero.Limits()
    assert d.max_locals == 50_000 and d.max_function_size == 7_654_321
    assert set(d.as_dict()) >= {"max_locals", "max_br_table_size", "max_code_size"}
    l = wazero.Limits(max_locals=3, max_code_size=1 << 20)
    assert l.max_locals == 3 and l.max_code_size == 1 << 20 and l.max_types == d.max_types
    assert l == wazero.Limits(max_code_size=1 << 20, max_locals=3) and l != d
    assert "max_locals=3" in repr(l)
    with pytest.raises(TypeError, match="unexpected keyword argument 'max_lokals'"):
        wazero.Limits(max_lokals=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="non-negative"):
        wazero.Limits(max_locals=-1)
    with pytest.raises(AttributeError):
        d.nope  # type: ignore[attr-defined]  # noqa: B018


FOUR_LOCALS = "(module (func (export \"f\") (result i32) (local i32 i32 i32 i32) (i32.const 4)))"


def test_runtime_limits_apply_to_compile_and_instantiate(tmp_path: Any) -> None:
    tight = wazero.Limits(max_locals=3)
    with wazero.Runtime(limits=tight) as rt:
        for attempt in (lambda: rt.compile(FOUR_LOCALS), lambda: rt.instantiate(FOUR_LOCALS)):
            with pytest.raises(wazero.CompileError) as e:
                attempt()
            assert e.value.limit == "max_locals"
            assert "4 locals in function 0, the maximum is 3" in str(e.value)
        path = tmp_path / "four.wat"
        path.write_text(FOUR_LOCALS)
        with pytest.raises(wazero.CompileError):
            rt.instantiate_file(str(path))
        # A module compiled elsewhere is not re-checked.
        assert rt.instantiate(wazero.CompiledModule(FOUR_LOCALS)).exports["f"]() == 4
    with wazero.Runtime(limits=wazero.Limits(max_locals=4)) as rt:
        assert rt.instantiate(FOUR_LOCALS).exports["f"]() == 4


def test_compiled_module_limits_and_pickled_error(tmp_path: Any) -> None:
    with pytest.raises(wazero.CompileError) as e:
        wazero.CompiledModule(FOUR_LOCALS, limits=wazero.Limits(max_locals=0))
    assert e.value.limit == "max_locals" and e.value.offset is not None
    again = pickle.loads(pickle.dumps(e.value))
    assert again.limit == "max_locals" and str(again) == str(e.value)
    path = tmp_path / "four.wat"
    path.write_text(FOUR_LOCALS)
    with pytest.raises(wazero.CompileError, match="max_locals"):
        wazero.CompiledModule.from_file(str(path), limits=wazero.Limits(max_locals=1))
    # An invalid (not too large) module has no limit.
    with pytest.raises(wazero.CompileError) as e:
        wazero.CompiledModule(b"\0asm\x01\0\0\0\x01")
    assert e.value.limit is None


def test_jit_bomb_is_stopped_by_the_code_size_limit() -> None:
    # 50,000 calls x ~15 KiB of result moves = ~750 MB of code; stopped at the cap (32 MiB
    # here to keep the test fast: the 256 MiB default takes ~15 s in a debug build).
    cap = 32 << 20
    proc = subprocess.run(
        [sys.executable, "-c", JIT_BOMB_CHILD, str(cap)], capture_output=True, text=True, timeout=TIMEOUT_S
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    limit, message, maxrss_kib = json.loads(proc.stdout)
    assert limit == "max_code_size" and f"the maximum is {cap}" in message
    assert EMULATED or maxrss_kib < 4 * cap // 1024, maxrss_kib


JIT_BOMB_CHILD = f"""
import json, resource, sys
sys.path.insert(0, {HERE!r})
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
import pathological, wazero
case = pathological.make_jit_bomb(50_000)
try:
    wazero.CompiledModule(case.wasm, limits=wazero.Limits(max_code_size=int(sys.argv[1])))
    out = [None, "compiled", 0]
except wazero.CompileError as e:
    out = [e.limit, str(e), 0]
out[2] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(out))
"""


def test_saved_case_runs_and_reports_the_compile_peak(tmp_path: Any) -> None:
    # benches/scaling.py generates each module in its own process and has the child load it
    # (`--load`): the child must check the same results and report its compile's own peak.
    import pathological_run

    case = pathological.FAMILIES["big_body"](1_000_000)
    path = str(tmp_path / "big_body.wasm")
    pathological_run.save_case(case, path)
    proc = subprocess.run([sys.executable, RUNNER, "big_body", "0", "--load", path], capture_output=True, text=True, timeout=TIMEOUT_S)
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = json.loads(proc.stdout.splitlines()[0])
    assert res["ok"] and res["wasm_bytes"] == len(case.wasm), res
    assert [c[2] for c in res["calls"]] == [c[2] for c in case.calls], res
    if sys.platform == "linux" and not EMULATED:
        # The compile adds its code buffer and machine code (hundreds of KiB) to the RSS.
        assert res["rss_before_kib"] < res["peak_kib"] <= res["maxrss_kib"], res
