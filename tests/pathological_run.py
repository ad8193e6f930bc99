"""Child process for the pathological-module tests and the scaling benchmark.

``python pathological_run.py FAMILY N [--limits JSON] [--variants] [--as-bytes B]``
generates the module, compiles it (with ``wazero.Limits(**JSON)`` when given), runs its
calls, and prints one JSON object per line: ``{"case", "ok", "error", "limit", "compile_s",
"maxrss_kib", ...}``. The address space is capped first (``RLIMIT_AS``), so a regression
shows as a failed child rather than a machine out of memory.

``maxrss_kib`` is the whole process's peak RSS (VmHWM on Linux) (interpreter, module generation, compiles,
instantiation and calls). ``rss_before_kib`` and ``peak_kib`` isolate wazero's part: the RSS
once the module bytes exist (generator garbage collected), and the peak RSS from there on
(Linux: the high-water mark is reset through ``/proc/self/clear_refs`` just before the first
compile; ``peak_kib`` is absent where that is not possible).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import time
from typing import Any, Dict, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pathological  # noqa: E402


def run_case(wazero: Any, case: pathological.Case, limits: Optional[Any], call: bool, repeat: int = 1) -> Dict[str, Any]:
    # compile_cpu_s: CPU time of the whole process (every compile thread), which other jobs on
    # a busy machine barely move, unlike wall time.
    out: Dict[str, Any] = {"ok": True, "compile_s": float("inf"), "compile_cpu_s": float("inf")}
    for _ in range(repeat):  # best of `repeat`: the benchmark's defence against a busy machine
        compiled = None  # each compile's peak, not two modules at once
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            compiled = wazero.CompiledModule(case.wasm, limits=limits) if limits else wazero.CompiledModule(case.wasm)
        except wazero.CompileError as e:
            out.update(ok=False, error=str(e), limit=e.limit, offset=e.offset)
            return out
        finally:
            out["compile_s"] = min(out["compile_s"], time.perf_counter() - t0)
            out["compile_cpu_s"] = min(out["compile_cpu_s"], time.process_time() - c0)
    if not call:
        return out
    with wazero.Runtime() as rt:
        t0, c0 = time.perf_counter(), time.process_time()
        module = rt.instantiate(compiled)
        out["instantiate_s"] = time.perf_counter() - t0
        out["instantiate_cpu_s"] = time.process_time() - c0
        results = []
        for export, args, expected in case.calls:
            try:
                got: object = module.exports[export](*args)
            except wazero.Trap as t:
                got = f"trap:{t.kind}"
            results.append([export, list(args), got, expected])
            if got != expected:
                out["ok"] = False
        out["calls"] = results
    return out


def save_case(case: pathological.Case, path: str) -> None:
    """Writes ``case`` for ``--load``: the module to ``path``, its calls to ``path.json``."""
    with open(path, "wb") as f:
        f.write(case.wasm)
    with open(path + ".json", "w") as f:
        json.dump({"family": case.family, "n": case.n, "calls": case.calls}, f)


def load_case(path: str) -> pathological.Case:
    """The case written by :func:`save_case`: generating it in another process leaves this
    one with the same heap whatever the size (the generator's garbage would otherwise be
    free heap that the compiler reuses without the RSS growing)."""
    with open(path, "rb") as f:
        wasm = f.read()
    with open(path + ".json") as f:
        d = json.load(f)
    calls = [(e, tuple(a), r) for e, a, r in d["calls"]]
    return pathological.Case(d["family"], d["n"], wasm, calls)


def status_kib(field: str) -> Optional[int]:
    """A ``/proc/self/status`` size field in KiB (None off Linux)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def peak_rss_kib() -> int:
    """This process's peak RSS. VmHWM where there is one: Linux's ru_maxrss also counts the
    parent's RSS at the fork that started this process (kept across ``execve``), which is
    larger than ours when the parent is the benchmark holding generated modules."""
    hwm = status_kib("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def reset_peak_rss() -> bool:
    """Resets the process's RSS high-water mark (Linux); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("family", choices=sorted(pathological.FAMILIES))
    ap.add_argument("n", type=int)
    ap.add_argument("--limits", default=None, help="wazero.Limits keyword arguments as JSON")
    ap.add_argument("--variants", action="store_true", help="also compile truncated/garbled copies")
    ap.add_argument("--repeat", type=int, default=1, help="compile this many times, report the best")
    ap.add_argument("--as-bytes", type=int, default=6 << 30, help="RLIMIT_AS for this process")
    ap.add_argument("--load", metavar="PATH", help="read the case saved by save_case() instead of generating it")
    ns = ap.parse_args()
    resource.setrlimit(resource.RLIMIT_AS, (ns.as_bytes, ns.as_bytes))
    import wazero

    case = load_case(ns.load) if ns.load else pathological.FAMILIES[ns.family](ns.n)
    limits = wazero.Limits(**json.loads(ns.limits)) if ns.limits else None
    gc.collect()
    gen_peak = peak_rss_kib()
    rss_before = status_kib("VmRSS")
    reset = reset_peak_rss()
    res = run_case(wazero, case, limits, call=True, repeat=ns.repeat)
    res.update(case=f"{ns.family}/{ns.n}", wasm_bytes=len(case.wasm))
    # Resetting the high-water mark also resets ru_maxrss: the process's peak is the larger.
    res["maxrss_kib"] = max(gen_peak, peak_rss_kib())
    if reset and rss_before is not None:
        res.update(rss_before_kib=rss_before, peak_kib=status_kib("VmHWM"))
    print(json.dumps(res), flush=True)
    if ns.variants:
        for label, wasm in pathological.variants(case):
            # Compile only: a garbled body may loop forever when run.
            v = pathological.Case(case.family, case.n, wasm, [])
            r = run_case(wazero, v, limits, call=False)
            r["case"] = f"{ns.family}/{ns.n}/{label}"
            print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
