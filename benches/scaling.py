"""Scaling benchmark of the pathological-module families (issue 13).

For each family of ``tests/pathological.py`` and sizes 1x, 2x, 4x, 8x (8x = the size the
issue asks for), generates the module here, then runs ``tests/pathological_run.py --load``
on it in ``--repeat`` fresh child processes, and records:

- the compile time (best of 5 compiles in each child) plus the instantiation time, as wall
  time and as the process's CPU time (all threads: parallel compilation included); the
  worst-growth summary uses CPU time, which other jobs on a shared machine barely move;
- the child's whole peak RSS (interpreter, module bytes, compiles, instantiation, calls);
- the *net* peak RSS: the child's peak from its first compile on, minus its RSS just before
  (interpreter, wazero and the module bytes already loaded): what compiling, instantiating
  and running the module costs, fixed costs included (as in the time columns). The module
  is generated in this process, so the child's heap holds no generator garbage, whose free
  space the compiler would reuse without the RSS growing (size-dependent noise);
- the compiler's peak heap bytes (``examples/mem_probe``: one compile under a counting
  allocator, bytes as requested, no page or allocator-arena quantisation; the largest of
  ``--repeat`` runs, as threads compiling at the same time add their peaks). Skipped with
  ``--no-heap``; built with cargo first.

Prints a Markdown table with the growth factor per doubling (linear work doubles: 2.0x).

    nice -n 10 python benches/scaling.py [--repeat 3] [--families locals,data]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from typing import Any, Dict, List

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import pathological  # noqa: E402
import pathological_run  # noqa: E402

RUNNER = os.path.join(ROOT, "tests", "pathological_run.py")
MEM_PROBE = os.path.join(ROOT, "target", "release", "examples", "mem_probe")
SCALES = (1, 2, 4, 8)


def child(family: str, n: int, path: str, repeat: int) -> Dict[str, Any]:
    cmd = [sys.executable, RUNNER, family, str(n), "--load", path, "--repeat", str(repeat)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise SystemExit(f"{path} failed: {out.stderr[-2000:]}")
    res: Dict[str, Any] = json.loads(out.stdout.splitlines()[0])
    if not res["ok"]:
        raise SystemExit(f"{path} gave a wrong result: {res}")
    if "peak_kib" not in res:
        raise SystemExit("the child could not reset its peak RSS (needs Linux /proc/self/clear_refs)")
    return res


def heap_peak(path: str) -> float:
    """The compiler's peak heap in MiB (``examples/mem_probe``)."""
    out = subprocess.run([MEM_PROBE, path], capture_output=True, text=True, timeout=600, check=True)
    m = re.search(r"peak heap (\d+) bytes", out.stdout)
    if not m:
        raise SystemExit(f"unexpected mem_probe output: {out.stdout!r}")
    return int(m.group(1)) / 2**20


def factors(values: List[float]) -> List[float]:
    return [b / a if a > 0 else float("nan") for a, b in zip(values, values[1:])]


def growth(values: List[float]) -> str:
    return " / ".join(f"{f:.2f}" for f in factors(values))


def mib(values: List[float], digits: int = 1) -> str:
    return " / ".join(f"{v:.{digits}f}" for v in values)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3, help="child processes per size")
    ap.add_argument("--families", default=",".join(pathological.FAMILIES))
    ap.add_argument("--no-heap", action="store_true", help="skip the counting-allocator column")
    ns = ap.parse_args()
    heap = not ns.no_heap
    if heap:  # a no-op when up to date; never measure a stale compiler
        subprocess.run(["cargo", "build", "--release", "--example", "mem_probe"], cwd=ROOT, check=True)
    rows = []
    worst: Dict[str, float] = {"cpu": 0.0, "net": 0.0, "heap": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        for family in ns.families.split(","):
            full = pathological.FULL[family]
            times, cpus, rss, net, heaps = [], [], [], [], []
            for s in SCALES:
                n = full * s // 8
                path = os.path.join(tmp, f"{family}-{n}.wasm")
                pathological_run.save_case(pathological.FAMILIES[family](n), path)
                runs = [child(family, n, path, repeat=5) for _ in range(ns.repeat)]
                times.append(min(r["compile_s"] + r.get("instantiate_s", 0.0) for r in runs))
                cpus.append(min(r["compile_cpu_s"] + r.get("instantiate_cpu_s", 0.0) for r in runs))
                rss.append(min(r["maxrss_kib"] for r in runs) / 1024)
                net.append(min(r["peak_kib"] - r["rss_before_kib"] for r in runs) / 1024)
                if heap:  # the largest: with several threads, the peak depends on their timing
                    heaps.append(max(heap_peak(path) for _ in range(ns.repeat)))
            worst["cpu"] = max([worst["cpu"]] + factors(cpus))
            worst["net"] = max([worst["net"]] + factors(net))
            row = (
                f"| {family} | {full // 8:,} → {full:,} | {mib([t * 1000 for t in times])} | {growth(times)} | "
                f"{mib([t * 1000 for t in cpus])} | {growth(cpus)} | {mib(rss, 0)} | {mib(net)} | {growth(net)} |"
            )
            if heap:
                worst["heap"] = max([worst["heap"]] + factors(heaps))
                row += f" {mib(heaps, 2)} | {growth(heaps)} |"
            rows.append(row)
            print(rows[-1], file=sys.stderr, flush=True)
    head = (
        "| family | n (1× → 8×) | compile + instantiate, wall ms (1×/2×/4×/8×) | growth per doubling | "
        "CPU ms (all threads) | CPU growth per doubling | peak RSS of the process, MiB | "
        "net peak RSS, MiB | net RSS growth per doubling |"
    )
    if heap:
        head += " compiler peak heap, MiB | heap growth per doubling |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for r in rows:
        print(r)
    summary = f"\nWorst growth per doubling: CPU time {worst['cpu']:.2f}×, net peak RSS {worst['net']:.2f}×"
    print(summary + (f", compiler peak heap {worst['heap']:.2f}×." if heap else "."))


if __name__ == "__main__":
    main()
