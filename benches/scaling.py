"""Scaling benchmark of the pathological-module families (issue 13).

For each family of ``tests/pathological.py`` and sizes 1x, 2x, 4x, 8x (8x = the size the
issue asks for), runs ``tests/pathological_run.py`` in a fresh child process and records
the compile time (best of 5 compiles in each of ``--repeat`` children), the instantiation time and the child's peak RSS.
Times are given as wall time and as the process's CPU time (all threads: parallel compilation
included); the worst-growth summary uses CPU time, which other jobs on a shared machine
barely move.
Prints a Markdown table with the growth factor per doubling (linear work doubles: 2.0x).

Peak RSS includes the interpreter and the generated module; the "net" column subtracts a
child that generated and compiled the smallest module of the family at 1/64 size, so the
growth factor reflects what the size adds.

    nice -n 10 python benches/scaling.py [--repeat 3] [--families locals,data]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any, Dict, List, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import pathological  # noqa: E402

RUNNER = os.path.join(ROOT, "tests", "pathological_run.py")
SCALES = (1, 2, 4, 8)


def child(family: str, n: int, repeat: int = 1) -> Dict[str, Any]:
    cmd = [sys.executable, RUNNER, family, str(n), "--repeat", str(repeat)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise SystemExit(f"{family}/{n} failed: {out.stderr[-2000:]}")
    res: Dict[str, Any] = json.loads(out.stdout.splitlines()[0])
    if not res["ok"]:
        raise SystemExit(f"{family}/{n} gave a wrong result: {res}")
    return res


def growth(values: List[float]) -> str:
    factors = [b / a if a > 0 else float("nan") for a, b in zip(values, values[1:])]
    return " / ".join(f"{f:.2f}" for f in factors) if factors else "-"


MEMORY_FLOOR_MIB = 1.0


def memory_factors(net: List[float]) -> List[Optional[float]]:
    """Growth per doubling of the net RSS; None for a step that starts below
    MEMORY_FLOOR_MIB, where page granularity and allocator arenas dominate the ratio."""
    return [b / a if a >= MEMORY_FLOOR_MIB else None for a, b in zip(net, net[1:])]


def memory_growth(net: List[float]) -> str:
    """Growth of the net RSS, or "flat" when even 8x adds less than 2 MiB (then the ratios
    of a few hundred KiB are page-granularity noise)."""
    if net[-1] < 2:
        return "flat (< 2 MiB)"
    return " / ".join("(< 1 MiB)" if f is None else f"{f:.2f}" for f in memory_factors(net))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--families", default=",".join(pathological.FAMILIES))
    ns = ap.parse_args()
    rows = []
    worst_t, worst_m = 0.0, 0.0
    for family in ns.families.split(","):
        full = pathological.FULL[family]
        base_rss = child(family, max(full // 64, 8))["maxrss_kib"]
        times, cpus, rss, net = [], [], [], []
        for s in SCALES:
            n = full * s // 8
            runs = [child(family, n, repeat=5) for _ in range(ns.repeat)]
            times.append(min(r["compile_s"] + r.get("instantiate_s", 0.0) for r in runs))
            cpus.append(min(r["compile_cpu_s"] + r.get("instantiate_cpu_s", 0.0) for r in runs))
            peak = min(r["maxrss_kib"] for r in runs)
            rss.append(peak / 1024)
            net.append(max(peak - base_rss, 0) / 1024)
        tf = [b / a for a, b in zip(cpus, cpus[1:])]
        mf = [f for f in memory_factors(net) if f is not None] if net[-1] >= 2 else []
        worst_t, worst_m = max([worst_t] + tf), max([worst_m] + mf)
        rows.append(
            f"| {family} | {full // 8:,} → {full:,} | "
            + " / ".join(f"{t * 1000:.1f}" for t in times)
            + f" | {growth(times)} | "
            + " / ".join(f"{t * 1000:.1f}" for t in cpus)
            + f" | {growth(cpus)} | "
            + " / ".join(f"{m:.0f}" for m in rss)
            + f" | {memory_growth(net)} |"
        )
        print(rows[-1], file=sys.stderr, flush=True)
    print("| family | n (1× → 8×) | compile + instantiate, wall ms (1×/2×/4×/8×) | growth per doubling | "
          "CPU ms (all threads) | CPU growth per doubling | peak RSS, MiB | net RSS growth per doubling |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(r)
    print(f"\nWorst growth per doubling: CPU time {worst_t:.2f}×, net memory {worst_m:.2f}×.")


if __name__ == "__main__":
    main()
