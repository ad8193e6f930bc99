#!/usr/bin/env python3
"""Compare wazero with its peers on WebAssembly kernels (wazero benches).

    python benches/compare.py            # full run (< 15 min on 2 cores)
    python benches/compare.py --quick    # < 2 min; validates every result, exits 1 on a mismatch

On first use this creates ``benches/.venv`` (``benches/requirements.txt``, one package at a
time so a peer that fails to build is reported *missing*, not fatal) and ``pip install``s the
wazero package from the repository root whenever its sources changed. ``--no-venv`` uses the
current interpreter as is.

Every measurement runs in its own subprocess (``bench_child.py``; native: ``native.c`` built
with ``gcc -O2``). Rounds are interleaved: each round runs every kernel on every runtime,
round-robin, with the runtime order rotated between rounds, so machine noise hits every
runtime alike. Medians and min/max are over all samples of all rounds. Results: Markdown in
``benches/results/latest.md``, raw data in ``latest.json``, charts ``*.png`` next to them.
"""

import argparse
import datetime
import hashlib
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV = BENCH / ".venv"
BUILD = BENCH / "build"
KDIR = BENCH / "kernels"
RESULTS = BENCH / "results"
CHILD = BENCH / "bench_child.py"

PY_RUNTIMES = ["wazero", "wasmtime-cranelift", "wasmtime-winch", "wasm3", "pywasm"]
# V8's baseline compiler through Node (not a Python runtime: kernels + compile only; an extra
# reference column for single-pass code quality and compile speed).
NODE_RUNTIMES = ["v8-liftoff"]
NODE_FLAGS = ["--liftoff", "--no-wasm-tier-up", "--no-wasm-dynamic-tiering"]
NODE_COMPILE_FLAGS = ["--single-threaded", "--no-wasm-lazy-compilation"]
ALL_RUNTIMES = ["native"] + PY_RUNTIMES + NODE_RUNTIMES
LABEL = {
    "native": "native (gcc -O2)",
    "wazero": "wazero",
    "wasmtime-cranelift": "wasmtime Cranelift",
    "wasmtime-winch": "wasmtime Winch",
    "wasm3": "wasm3",
    "pywasm": "pywasm",
    "v8-liftoff": "V8 Liftoff (Node)",
}
ALL_PARTS = ["kernels", "calls", "startup", "compile", "code"]
DEFAULT_PARTS = {False: ALL_PARTS, True: ["kernels", "calls", "startup", "compile"]}
PIP_NAME = {"wazero": "wazero (this repo)", "wasmtime-cranelift": "wasmtime",
            "wasmtime-winch": "wasmtime", "wasm3": "pywasm3", "pywasm": "pywasm",
            "v8-liftoff": "node"}

# Size tiers: every runtime of a tier runs the same sizes as native, so every ratio in a
# tier's table is a plain time ratio at equal work. wazero runs in every tier so it is compared
# with each peer at the peer's sizes too.
TIERS = {
    "jit": {"title": "native-code compilers (full sizes)",
            "runtimes": ["native", "wazero", "wasmtime-cranelift", "wasmtime-winch", "v8-liftoff"]},
    "interp": {"title": "interpreter sizes", "runtimes": ["native", "wazero", "wasm3"]},
    "tiny": {"title": "pure-Python sizes", "runtimes": ["native", "wazero", "pywasm"]},
}


class Kernel:
    """One kernel. ``sizes``/``quick``: args per tier (a tier left out is not run for this
    kernel). ``host``: the module imports ``env.f`` (the host-call kernel). ``unsupported``:
    runtime -> why it cannot run the kernel at all (shown as *unsupported*, not an error; checked
    when the harness was written, see README)."""

    def __init__(self, name, wasm, func, bits, sizes, quick, what, expected=None, host=False,
                 unsupported=None):
        self.name, self.wasm, self.func, self.bits = name, wasm, func, bits
        self.sizes, self.quick, self.what = sizes, quick, what
        self.expected = expected or {}  # args tuple -> documented value (shared README)
        self.host = host
        self.unsupported = unsupported or {}

    def args(self, tier, quick):
        return (self.quick if quick else self.sizes).get(tier)


NO_SIMD = {"wasm3": "wasm3 has no SIMD (`unknown value_type` on v128)"}
KERNELS = [
    Kernel("fib", "fib", "fib", 32, {"jit": (38,), "interp": (34,), "tiny": (20,)},
           {"jit": (30,), "interp": (25,), "tiny": (14,)}, "recursive calls",
           {(38,): 39088169, (34,): 5702887}),
    Kernel("loop", "loop", "loop", 64,
           {"jit": (300_000_000,), "interp": (50_000_000,), "tiny": (20_000,)},
           {"jit": (20_000_000,), "interp": (2_000_000,), "tiny": (2_000,)},
           "latency-bound i64 loop", {(300_000_000,): 3775294600717003120}),
    Kernel("sum", "sum", "sum", 64,
           {"jit": (500_000_000,), "interp": (50_000_000,), "tiny": (20_000,)},
           {"jit": (20_000_000,), "interp": (2_000_000,), "tiny": (2_000,)},
           "throughput-bound i64 loop", {(500_000_000,): 124999999750000000}),
    Kernel("sieve", "sieve", "sieve", 32,
           {"jit": (16_777_216,), "interp": (4_194_304,), "tiny": (20_000,)},
           {"jit": (1_048_576,), "interp": (262_144,), "tiny": (2_000,)},
           "byte loads/stores, bounds checks", {(16_777_216,): 1077871}),
    Kernel("matmul", "matmul", "matmul", 0,
           {"jit": (200, 30), "interp": (200, 4), "tiny": (16, 1)},
           {"jit": (100, 4), "interp": (60, 1), "tiny": (8, 1)},
           "f64 arithmetic, address arithmetic",
           {(200, 30): -285.0, (200, 4): -285.0}),
    Kernel("indirect", "indirect", "indirect", 32,
           {"jit": (30_000_000,), "interp": (5_000_000,), "tiny": (5_000,)},
           {"jit": (2_000_000,), "interp": (200_000,), "tiny": (500,)},
           "call_indirect through a table"),
    Kernel("copy8", "copy", "copy_bytes", 64,
           {"jit": (4_194_304, 16), "interp": (1_048_576, 4), "tiny": (4_096, 1)},
           {"jit": (1_048_576, 2), "interp": (262_144, 1), "tiny": (512, 1)},
           "memory-bound byte copy loop"),
    Kernel("copy64", "copy", "copy_words", 64,
           {"jit": (4_194_304, 16), "interp": (1_048_576, 4), "tiny": (4_096, 1)},
           {"jit": (1_048_576, 2), "interp": (262_144, 1), "tiny": (512, 1)},
           "memory-bound i64 copy loop"),
    # Wasm -> host calls: wasmtime-py's Python callbacks cost ~60 µs each and pywasm's ~150 µs,
    # hence the small counts; native calls a C function through a pointer.
    Kernel("hostcall", "hostcall", "hostcall", 32,
           {"jit": (5_000,), "interp": (200_000,), "tiny": (2_000,)},
           {"jit": (1_000,), "interp": (20_000,), "tiny": (200,)},
           "Wasm calls an imported host function `(i32) -> i32` in a loop", host=True,
           unsupported={"v8-liftoff": "n/a: its host would be a JS function, not Python"}),
    # SIMD: no interp tier (wasm3 has no v128); pywasm interprets SIMD.
    Kernel("simd_dot", "simd", "dot", 0,
           {"jit": (16_384, 2_000), "tiny": (256, 4)}, {"jit": (4_096, 100), "tiny": (64, 1)},
           "f32x4 dot product (latency-bound reduction)", unsupported=NO_SIMD),
    Kernel("simd_axpy", "simd", "axpy", 0,
           {"jit": (16_384, 2_000), "tiny": (256, 4)}, {"jit": (4_096, 100), "tiny": (64, 1)},
           "f32x4 b += 0.75·a over memory (streaming loads/stores)", unsupported=NO_SIMD),
]
NATIVE_NAME = {"copy8": "copy8", "copy64": "copy64"}  # native.c kernel names (else = name)


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


# --------------------------------------------------------------------------------------------
# Environment: venv, peers, wazero
# --------------------------------------------------------------------------------------------

def in_bench_venv():
    return Path(sys.prefix).resolve() == VENV.resolve()


def ensure_venv(force=False):
    BUILD.mkdir(exist_ok=True)
    req = (BENCH / "requirements.txt").read_text()
    req_hash = hashlib.sha256(req.encode()).hexdigest()
    stamp = VENV / ".requirements.sha256"
    vpy = VENV / "bin" / "python"
    if not vpy.exists():
        log(f"[setup] creating {VENV}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    if force or not stamp.exists() or stamp.read_text() != req_hash:
        for line in req.splitlines():
            pkg = line.split("#")[0].strip()
            if not pkg:
                continue
            log(f"[setup] pip install {pkg}")
            r = sh([str(vpy), "-m", "pip", "install", "-q", "--disable-pip-version-check", pkg])
            name = pkg.split("=")[0].split(">")[0].split("<")[0]
            (BUILD / f"pip-{name}.log").write_text(r.stdout + r.stderr)
            if r.returncode:
                log(f"[setup] pip install {pkg} FAILED (see build/pip-{name}.log); "
                    "it will be reported as missing")
        stamp.write_text(req_hash)
    return vpy


def wazero_fingerprint():
    parts = []
    # the last commit touching the package's sources (not HEAD: a benches-only commit must not
    # trigger a rebuild), plus uncommitted changes to them
    for cmd in (["git", "log", "-1", "--format=%H", "--", "src", "python", "pyproject.toml",
                 "Cargo.toml", "Cargo.lock"],
                ["git", "status", "--porcelain", "--", "src", "python",
                                                 "pyproject.toml", "Cargo.toml", "Cargo.lock"],
                ["git", "diff", "HEAD", "--", "src", "python", "pyproject.toml", "Cargo.toml",
                 "Cargo.lock"]):
        parts.append(sh(cmd, cwd=ROOT).stdout)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def ensure_wazero(rebuild=False):
    """pip install the repo into the venv when its sources changed. Returns a status note."""
    if not (ROOT / "pyproject.toml").exists():
        return "no pyproject.toml at the repository root (Python bindings not on this branch yet)"
    stamp = VENV / ".wazero.fingerprint"
    fp = wazero_fingerprint()
    if not rebuild and stamp.exists() and stamp.read_text() == fp:
        return None
    log("[setup] pip install . (wazero, release build; ~1-3 min cold) ...")
    t0 = time.time()
    r = sh([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
            "--force-reinstall", "--no-deps", str(ROOT)])
    (BUILD / "pip-wazero.log").write_text(r.stdout + r.stderr)
    if r.returncode:
        if stamp.exists():
            stamp.unlink()
        tail = (r.stderr.strip().splitlines() or ["?"])[-1]
        log(f"[setup] wazero install FAILED in {time.time() - t0:.0f}s: {tail}")
        return f"`pip install .` failed: {tail[:160]} (benches/build/pip-wazero.log)"
    stamp.write_text(fp)
    log(f"[setup] wazero installed in {time.time() - t0:.0f}s")
    return None


CODE_SIZE_BIN = BENCH / "rust" / "target" / "release" / "code_size"


def build_code_size():
    """Builds the Rust layer's `code_size` binary (wazero's machine code bytes per module; only
    wazero, no wasmi/criterion). A no-op when fresh. Returns an error note or None."""
    cargo = shutil.which("cargo")
    if not cargo:
        return "cargo not on PATH"
    log("[setup] cargo build --release --bin code_size (benches/rust; minutes when cold) ...")
    t0 = time.time()
    try:
        r = sh([cargo, "build", "--release", "--quiet", "--manifest-path",
                str(BENCH / "rust" / "Cargo.toml"), "--bin", "code_size"], timeout=1800)
    except subprocess.TimeoutExpired:
        return "cargo build of code_size timed out"
    (BUILD / "cargo-code_size.log").write_text(r.stdout + r.stderr)
    if r.returncode:
        tail = (r.stderr.strip().splitlines() or ["?"])[-1]
        return f"cargo build of code_size failed: {tail[:160]} (benches/build/cargo-code_size.log)"
    log(f"[setup] code_size ready in {time.time() - t0:.0f}s")
    return None


def machine_info():
    info = {"platform": platform.platform(), "python": platform.python_version()}
    lscpu = sh(["lscpu"]).stdout
    for line in lscpu.splitlines():
        k, _, v = line.partition(":")
        if k.strip() in ("Model name", "CPU(s)", "Thread(s) per core", "L1d cache", "L2 cache",
                         "L3 cache", "Hypervisor vendor"):
            info[k.strip()] = v.strip()
    try:
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        info["RAM"] = f"{int(mem) / 1024 / 1024:.0f} GiB"
    except Exception:
        pass
    info["gcc"] = (sh(["gcc", "--version"]).stdout.splitlines() or ["?"])[0]
    info["commit"] = sh(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT).stdout.strip()
    return info


# --------------------------------------------------------------------------------------------
# Build: native binary, .wasm files, generated compile workload
# --------------------------------------------------------------------------------------------

def build_native():
    exe = BUILD / "native"
    src = KDIR / "native.c"
    if exe.exists() and exe.stat().st_mtime > src.stat().st_mtime:
        return None
    r = sh(["gcc", "-O2", "-o", str(exe), str(src)])
    if r.returncode:
        return "gcc failed: " + (r.stderr.strip().splitlines() or ["?"])[-1]
    return None


def wat2wasm(wat_path, wasm_path):
    if wasm_path.exists() and wasm_path.stat().st_mtime > wat_path.stat().st_mtime:
        return
    text = wat_path.read_text()
    try:
        import wasmtime  # in the venv: wasmtime-py's wat2wasm (wasm-tools' parser)
        data = wasmtime.wat2wasm(text)
    except ImportError:
        tool = shutil.which("wasm-tools")
        if not tool:
            raise SystemExit("need wasmtime-py or wasm-tools to assemble the .wat kernels")
        subprocess.run([tool, "parse", str(wat_path), "-o", str(wasm_path)], check=True)
        return
    wasm_path.write_bytes(bytes(data))


def build_wasm(compile_funcs):
    for wat in sorted(KDIR.glob("*.wat")):
        wat2wasm(wat, BUILD / (wat.stem + ".wasm"))
    gen = BUILD / f"compile_{compile_funcs}.wat"
    if not gen.exists() or not Path(str(gen) + ".expected").exists() or \
            gen.stat().st_mtime < (BENCH / "gen_compile_module.py").stat().st_mtime:
        subprocess.run([sys.executable, str(BENCH / "gen_compile_module.py"), "--funcs",
                        str(compile_funcs), "-o", str(gen)], check=True, capture_output=True)
    wasm = BUILD / f"compile_{compile_funcs}.wasm"
    wat2wasm(gen, wasm)
    expected = int(Path(str(gen) + ".expected").read_text())
    return wasm, expected


# --------------------------------------------------------------------------------------------
# Children
# --------------------------------------------------------------------------------------------

CHILD_CPU_S = [0.0]  # user + sys seconds of every child so far (load-independent run cost)


def run_proc(cmd, timeout):
    """Runs cmd; returns (rc, stdout, stderr, maxrss_kb, wall_s). rc None on timeout."""
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         cwd=BENCH)
    timed_out = []

    def kill():
        timed_out.append(1)
        p.kill()
    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        out_chunks, err_chunks = [], []
        t_err = threading.Thread(target=lambda: err_chunks.append(p.stderr.read()))
        t_err.start()
        out_chunks.append(p.stdout.read())
        t_err.join()
        _, status, ru = os.wait4(p.pid, 0)
        CHILD_CPU_S[0] += ru.ru_utime + ru.ru_stime
        p.returncode = os.waitstatus_to_exitcode(status)
    finally:
        timer.cancel()
    rc = None if timed_out else p.returncode
    return rc, "".join(out_chunks), "".join(err_chunks), ru.ru_maxrss, time.time() - t0


def err_summary(stderr, rc):
    lines = [l for l in stderr.strip().splitlines() if l.strip()]
    if rc is not None and rc < 0:
        return f"killed by signal {-rc}" + (f": {lines[-1][:200]}" if lines else "")
    return (lines[-1][:240] if lines else f"exit code {rc}")


def child(spec, timeout):
    """Returns (data dict | None, error str | None, maxrss_kb)."""
    if spec["runtime"] in NODE_RUNTIMES:
        node = shutil.which("node") or "node"
        flags = NODE_FLAGS + (NODE_COMPILE_FLAGS if spec["mode"] == "compile" else [])
        cmd = [node] + flags + [str(BENCH / "bench_child.mjs"), json.dumps(spec)]
    else:
        cmd = [sys.executable, str(CHILD), json.dumps(spec)]
    rc, out, err, rss, _ = run_proc(cmd, timeout)
    if rc is None:
        return None, f"timeout after {timeout:.0f} s", None
    if rc != 0:
        return None, err_summary(err, rc), None
    try:
        d = json.loads(out.strip().splitlines()[-1])
        return d, None, d.get("maxrss_kb")
    except Exception:
        return None, "unparsable child output: " + out[-200:], rss


def native(kname, args, reps, timeout):
    cmd = [str(BUILD / "native"), NATIVE_NAME.get(kname, kname)] + [str(a) for a in args] + \
        [str(reps)]
    rc, out, err, rss, _ = run_proc(cmd, timeout)
    if rc is None:
        return None, f"timeout after {timeout:.0f} s", rss
    if rc != 0:
        return None, err_summary(err, rc), rss
    d = json.loads(out)
    return d, None, d.get("maxrss_kb")


def parse_value(v, bits):
    """Normalise a result: ints modulo 2**bits (Wasm ints come back signed, native prints
    unsigned), floats as floats."""
    if isinstance(v, dict) and "f" in v:
        return float.fromhex(v["f"])
    if isinstance(v, str):
        if bits == 0:
            return float(v)
        v = int(v)
    if bits == 0:
        return float(v)
    return int(v) % (1 << bits)


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------

class Run:
    def __init__(self, args):
        self.a = args
        self.quick = args.quick
        self.rounds = args.rounds or (1 if self.quick else 5)
        self.samples = 2 if self.quick else 3
        self.min_sample_s = 0.02 if self.quick else 0.1
        self.timeout = 90 if self.quick else 240
        self.kernels = [k for k in KERNELS if not args.kernels or k.name in args.kernels]
        self.data = {"kernels": {}, "calls": {}, "startup": {}, "compile": {}, "code": {}}
        self.code_bin_error = None  # set by main() when the code_size binary cannot be built
        self.missing = {}  # runtime -> reason
        self.versions = {}
        self.dead = {}  # (tier, kernel, runtime) -> reason: stop retrying after an error
        self.problems = []  # (severity, text)

    def runtimes(self):
        rts = [r for r in ALL_RUNTIMES if not self.a.runtimes or r in self.a.runtimes
               or r == "native"]
        return rts

    def available(self, rt):
        return rt in self.runtimes() and rt not in self.missing

    def probe(self, wazero_note):
        if wazero_note:
            self.missing["wazero"] = wazero_note
        nb = build_native()
        if nb:
            self.missing["native"] = nb
        else:
            self.versions["native"] = self.info["gcc"]
        for rt in PY_RUNTIMES + NODE_RUNTIMES:
            if rt not in self.runtimes() or rt in self.missing:
                continue
            if rt in NODE_RUNTIMES and not shutil.which("node"):
                self.missing[rt] = "node not on PATH"
                continue
            d, err, _ = child({"runtime": rt, "mode": "version"}, 60)
            if err:
                self.missing[rt] = f"{PIP_NAME[rt]}: {err}"
            else:
                self.versions[rt] = d["version"]
        for rt, why in self.missing.items():
            log(f"[probe] MISSING {rt}: {why}")

    # -- kernels -----------------------------------------------------------------------------
    def kernel_job(self, tier, k, rt, args):
        key = f"{tier}/{k.name}/{rt}"
        slot = self.data["kernels"].setdefault(key, {
            "tier": tier, "kernel": k.name, "runtime": rt, "args": list(args), "times": [],
            "results": [], "rss_kb": [], "load_s": [], "first_s": [], "error": None})
        if key in self.dead:
            return
        if rt == "native":
            d, err, rss = native(k.name, args, self.samples, self.timeout)
            if d:
                slot["times"] += d["times"]
                slot["results"].append(d["result"])
        else:
            spec = {"runtime": rt, "mode": "kernel", "wasm": str(BUILD / (k.wasm + ".wasm")),
                    "func": k.func, "args": list(args), "samples": self.samples,
                    "min_sample_s": self.min_sample_s, "host": k.host}
            if rt == "pywasm":  # ~1 s per call: the first call is the (only) sample
                spec.update(samples=0, first_is_sample=True)
            d, err, rss = child(spec, self.timeout)
            if d:
                slot["times"] += d["times"]
                slot["results"].append(d["result"])
                slot["load_s"].append(d["load_s"])
                slot["first_s"].append(d["first_s"])
        if rss:
            slot["rss_kb"].append(rss)
        if err:
            slot["error"] = err
            self.dead[key] = err
            log(f"  {key}: ERROR {err}")
        else:
            log(f"  {key} {args}: {statistics.median(slot['times']) * 1e3:.3f} ms")

    def kernel_round(self, r):
        tiers = [t for t in TIERS if not self.a.tiers or t in self.a.tiers]
        for tier in tiers:
            rts = [rt for rt in TIERS[tier]["runtimes"] if self.available(rt)]
            if not rts:
                continue
            for k in self.kernels:
                args = k.args(tier, self.quick)
                if args is None:
                    continue
                krts = [rt for rt in rts if rt not in k.unsupported]
                shift = r % len(krts)
                for rt in krts[shift:] + krts[:shift]:
                    self.kernel_job(tier, k, rt, args)

    # -- Python->Wasm calls, startup, compile -------------------------------------------------
    def py_rts(self):
        return [rt for rt in PY_RUNTIMES if self.available(rt)]

    def calls_round(self, r):
        rts = self.py_rts()
        shift = r % max(1, len(rts))
        for rt in rts[shift:] + rts[:shift]:
            slot = self.data["calls"].setdefault(rt, {"add_ns": [], "noop_ns": [],
                                                      "python_ns": [], "error": None})
            if ("calls", rt) in self.dead:
                continue
            d, err, _ = child({"runtime": rt, "mode": "calls", "wasm": str(BUILD / "add.wasm"),
                               "samples": self.samples,
                               "budget_s": 0.05 if self.quick else 0.15}, self.timeout)
            if err:
                slot["error"] = err
                self.dead[("calls", rt)] = err
                log(f"  calls/{rt}: ERROR {err}")
                continue
            for f in ("add_ns", "noop_ns", "python_ns", "alt_add_ns", "alt_noop_ns"):
                if f in d:
                    slot.setdefault(f, []).extend(d[f])
            if "alt_label" in d:
                slot["alt_label"] = d["alt_label"]
            log(f"  calls/{rt}: add {statistics.median(d['add_ns']):.0f} ns")

    def startup_round(self, r):
        rts = self.py_rts()
        shift = r % max(1, len(rts))
        for rt in rts[shift:] + rts[:shift]:
            slot = self.data["startup"].setdefault(rt, {"import_s": [], "engine_s": [],
                                                        "first_s": [], "steady_s": [],
                                                        "rss_kb": [], "error": None})
            if ("startup", rt) in self.dead:
                continue
            d, err, rss = child({"runtime": rt, "mode": "startup",
                                 "wasm": str(BUILD / "add.wasm"),
                                 "budget_s": 0.1 if self.quick else 0.4, "max_iters": 2000},
                                self.timeout)
            if err:
                slot["error"] = err
                self.dead[("startup", rt)] = err
                log(f"  startup/{rt}: ERROR {err}")
                continue
            for f in ("import_s", "engine_s", "first_s"):
                slot[f].append(d[f])
            slot["steady_s"] += d["steady_s"]
            slot["rss_kb"].append(d["rss_first_kb"])
            log(f"  startup/{rt}: first {d['first_s'] * 1e3:.2f} ms, "
                f"steady {statistics.median(d['steady_s']) * 1e6:.0f} us")

    def compile_round(self, r, wasm, expected):
        rts = [rt for rt in self.py_rts() + NODE_RUNTIMES if rt != "pywasm" and
               self.available(rt)]
        shift = r % max(1, len(rts))
        for rt in rts[shift:] + rts[:shift]:
            slot = self.data["compile"].setdefault(rt, {"times": [], "results": [],
                                                        "rss_kb": [], "error": None})
            if ("compile", rt) in self.dead:
                continue
            d, err, rss = child({"runtime": rt, "mode": "compile", "wasm": str(wasm),
                                 "samples": 1}, self.timeout)
            if err:
                slot["error"] = err
                self.dead[("compile", rt)] = err
                log(f"  compile/{rt}: ERROR {err}")
                continue
            slot["times"] += d["times"]
            slot.setdefault("total_s", []).append(d["times"][-1] + d["instantiate_s"] +
                                                  d["check_s"])
            slot["results"].append(d["result"])
            slot["rss_kb"].append(rss)
            slot.update(bytes=d["bytes"], compile_only=d["compile_only"],
                        instantiate_s=d["instantiate_s"], check_s=d["check_s"],
                        expected=expected)
            log(f"  compile/{rt}: {d['times'][0]:.3f} s")

    # -- validation ---------------------------------------------------------------------------
    def validate(self):
        """Every result against native at the same size (and native against the documented
        values). Marks slots 'status'."""
        kmap = {k.name: k for k in KERNELS}
        ks = self.data["kernels"]
        for key, s in ks.items():
            k = kmap[s["kernel"]]
            documented = k.expected.get(tuple(s["args"]))
            nat = ks.get(f"{s['tier']}/{s['kernel']}/native")
            ref, ref_src = None, None
            if nat and nat["results"]:
                ref, ref_src = parse_value(nat["results"][0], k.bits), "native"
            elif documented is not None:
                ref, ref_src = parse_value(documented, k.bits), "documented"
            s["expected"] = ref
            if s["error"]:
                s["status"] = "error"
                self.problems.append(("ERROR", f"{key} {s['args']}: {s['error']}"))
                continue
            if not s["results"]:
                s["status"] = "skipped"
                continue
            got = {parse_value(v, k.bits) for v in s["results"]}
            if ref is None:
                s["status"] = "unverified"
                self.problems.append(("WARN", f"{key}: no reference result"))
            elif got != {ref}:
                s["status"] = "WRONG"
                self.problems.append(("WRONG", f"{key} {s['args']}: got {sorted(got)}, "
                                      f"expected {ref} ({ref_src})"))
            else:
                s["status"] = "ok"
            if s["runtime"] == "native" and documented is not None and \
                    parse_value(documented, k.bits) not in got:
                s["status"] = "WRONG"
                self.problems.append(("WRONG", f"{key}: native {sorted(got)} != documented "
                                      f"{documented}"))
        for rt, s in self.data["compile"].items():
            if s["error"]:
                self.problems.append(("ERROR", f"compile/{rt}: {s['error']}"))
                s["status"] = "error"
            elif s["results"]:
                got = {parse_value(v, 32) for v in s["results"]}
                s["status"] = "ok" if got == {s["expected"]} else "WRONG"
                if s["status"] == "WRONG":
                    self.problems.append(("WRONG", f"compile/{rt}: check() = {sorted(got)}, "
                                          f"expected {s['expected']}"))
        for what in ("calls", "startup"):
            for rt, s in self.data[what].items():
                if s["error"]:
                    self.problems.append(("ERROR", f"{what}/{rt}: {s['error']}"))

    # -- compiled code size (deterministic: once, not per round) -----------------------------------
    def code_sizes(self, compile_wasm):
        files = [str(BUILD / f"{w}.wasm") for w in dict.fromkeys(k.wasm for k in self.kernels)]
        files.append(str(compile_wasm))
        code = self.data["code"] = {"files": files, "wasm_bytes":
                                    {f: Path(f).stat().st_size for f in files}}
        if self.available("wazero"):
            if self.code_bin_error:
                code["wazero"] = {"error": self.code_bin_error}
            else:
                rc, out, err, _, _ = run_proc([str(CODE_SIZE_BIN)] + files, self.timeout)
                try:
                    code["wazero"] = json.loads(out) if rc == 0 else \
                        {"error": err_summary(err, rc)}
                except ValueError:
                    code["wazero"] = {"error": "unparsable code_size output: " + out[-200:]}
        for rt in ("wasmtime-winch", "wasmtime-cranelift"):
            if self.available(rt):
                d, err, _ = child({"runtime": rt, "mode": "code", "files": files},
                                  self.timeout * 2)
                code[rt] = d["files"] if d else {"error": err}
        for rt in ("wazero", "wasmtime-winch", "wasmtime-cranelift"):
            e = code.get(rt, {}).get("error")
            if e:
                self.problems.append(("WARN", f"code size/{rt}: {e}"))
        log("  code sizes: done")

    # -- main ---------------------------------------------------------------------------------
    def go(self, wazero_note):
        t_start = time.time()
        self.info = machine_info()
        self.info["generated"] = now_utc()
        self.info["load_before"] = os.getloadavg()
        compile_funcs = 300 if self.quick else 3000
        wasm, expected = build_wasm(compile_funcs)
        self.probe(wazero_note)
        parts = set(self.a.parts or DEFAULT_PARTS[self.quick])
        if "code" in parts:
            self.code_sizes(wasm)
        compile_rounds = 1 if self.quick else self.rounds
        for r in range(self.rounds):
            log(f"[round {r + 1}/{self.rounds}] load {os.getloadavg()[0]:.2f}")
            if "calls" in parts:
                self.calls_round(r)
            if "startup" in parts:
                self.startup_round(r)
            if "kernels" in parts:
                self.kernel_round(r)
            if "compile" in parts and r < compile_rounds:
                self.compile_round(r, wasm, expected)
        self.info["load_after"] = os.getloadavg()
        self.elapsed = time.time() - t_start
        self.info["cpu_s"] = CHILD_CPU_S[0] + sum(os.times()[:2])  # children + this harness
        self.validate()


# --------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------

def fmt_t(s):
    if s is None:
        return "—"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.1f} ms" if s >= 0.01 else f"{s * 1e3:.2f} ms"
    if s >= 1e-6:
        return f"{s * 1e6:.1f} µs"
    return f"{s * 1e9:.0f} ns"


def fmt_r(x):
    if x is None:
        return "—"
    if x >= 100:
        return f"{x:,.0f}"
    if 0 < x < 0.01:
        return f"1/{1 / x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def med(xs):
    return statistics.median(xs) if xs else None


def cell_status(run, rt, slot, k=None):
    if k is not None and rt in k.unsupported:
        return "n/a" if k.unsupported[rt].startswith("n/a") else "unsupported"
    if rt in run.missing:
        return "missing"
    if slot is None:
        return "—"
    if slot.get("status") == "error":
        return "error"
    if slot.get("status") == "WRONG":
        return "**WRONG**"
    return None


TIER_OF = {"wasmtime-cranelift": "jit", "wasmtime-winch": "jit", "wasm3": "interp",
           "pywasm": "tiny", "wazero": "jit", "v8-liftoff": "jit", "native": "jit"}


def host_call_ns(run):
    """runtime -> ns per Wasm->host call (hostcall kernel time ÷ calls, at the runtime's tier),
    None where it did not run or its result was not ok."""
    out = {}
    for rt in run.runtimes():
        s = run.data["kernels"].get(f"{TIER_OF.get(rt, 'jit')}/hostcall/{rt}")
        if s and s["times"] and s.get("status") == "ok":
            out[rt] = med(s["times"]) / s["args"][0] * 1e9
        else:
            out[rt] = None
    return out


def host_cell(run, rt, host):
    k = next((k for k in KERNELS if k.name == "hostcall"), None)
    s = run.data["kernels"].get(f"{TIER_OF.get(rt, 'jit')}/hostcall/{rt}")
    st = cell_status(run, rt, s, k)
    if st:
        return st
    return f"{host[rt]:,.0f}" if host.get(rt) else "—"


def report(run):
    d = run.data
    ks = d["kernels"]
    L = []
    w = L.append
    mode = "quick (`--quick`: small sizes, 1 round — a smoke test, not a measurement)" \
        if run.quick else f"full, {run.rounds} interleaved rounds × {run.samples} samples"
    w("# wazero benchmark results\n")
    w(f"Generated {run.info.get('generated') or now_utc()} by `python benches/compare.py{' --quick' if run.quick else ''}` "
      f"at commit `{run.info['commit']}`; mode: {mode}; wall time {run.elapsed / 60:.1f} min"
      + (f" (CPU time of the harness and its children {run.info['cpu_s'] / 60:.1f} min: "
         "measurements run one at a time, so this is about the wall time on an idle machine)"
         if run.info.get("cpu_s") else "") + ".\n")
    lb, la = run.info["load_before"], run.info["load_after"]
    if run.a.note:
        w(f"> **Note:** {run.a.note}\n")
    w(f"**Machine:** {run.info.get('Model name', '?')}, {run.info.get('CPU(s)', '?')} vCPUs "
      f"({run.info.get('Hypervisor vendor', 'bare metal')} VM), {run.info.get('RAM', '?')} RAM, "
      f"{run.info['platform']}, Python {run.info['python']}. **Shared machine:** other jobs "
      f"(compilers/builders) ran concurrently; load average {lb[0]:.2f} before, "
      f"{la[0]:.2f} after. Rounds are interleaved so noise hits every runtime alike, but treat "
      f"differences under ~10–15 % as noise.\n")
    w("## Runtimes\n")
    w("| runtime | version | status |")
    w("|---|---|---|")
    for rt in run.runtimes():
        st = f"**missing** — {run.missing[rt]}" if rt in run.missing else "ok"
        w(f"| {LABEL[rt]} | {run.versions.get(rt, '—')} | {st} |")
    w("")
    if "wazero" in run.missing:
        w("> **wazero has no numbers in this run** (see its status above): the tables below "
          "are peer-only baselines. They fill in automatically once the package builds.\n")

    # -- summary: ratio to native per runtime (each at its tier) ------------------------------
    summary_rts = ["wazero", "wasmtime-cranelift", "wasmtime-winch", "v8-liftoff", "wasm3",
                   "pywasm"]
    summary_rts = [r for r in summary_rts if r in run.runtimes()]
    tier_of = TIER_OF
    w("## Summary: time ÷ native (gcc -O2) at the same size — lower is better\n")
    w("Each runtime is divided by native run *in this run at the same sizes* (wazero and the "
      "compilers: full sizes; wasm3: interpreter sizes; pywasm: pure-Python sizes). Medians.\n")
    w("| kernel | " + " | ".join(LABEL[r] for r in summary_rts) + " |")
    w("|---|" + "---|" * len(summary_rts))
    chart = {}
    for k in run.kernels:
        row = []
        for rt in summary_rts:
            tier = tier_of[rt]
            s = ks.get(f"{tier}/{k.name}/{rt}")
            n = ks.get(f"{tier}/{k.name}/native")
            st = cell_status(run, rt, s, k)
            if st:
                row.append(st)
                continue
            if s and n and s["times"] and n["times"] and n.get("status") == "ok":
                r_ = med(s["times"]) / med(n["times"])
                chart.setdefault(k.name, {})[rt] = r_
                row.append(fmt_r(r_))
            else:
                row.append("—")
        w(f"| {k.name} | " + " | ".join(row) + " |")
    host = host_call_ns(run)
    if any(host.values()):
        w("| *Wasm→Python host call, ns per call* | " + " | ".join(
            host_cell(run, rt, host) for rt in summary_rts) + " |")
    w("")
    if any(host.values()):
        nat = host.get("native")
        w("The last row is the `hostcall` kernel's time ÷ its number of calls (each runtime at "
          "its tier's size; the loop and a trivial `3x + 1` Python body included)"
          + (f"; native's call through a C function pointer costs {nat:.1f} ns" if nat else "")
          + ".\n")
    notes = [(k.name, rt, why) for k in run.kernels for rt, why in k.unsupported.items()
             if rt in run.runtimes()]
    if notes:
        w("*unsupported* / *n/a*: " + "; ".join(f"`{kn}` on {LABEL[rt]}: {why}"
                                              for kn, rt, why in notes) + ".\n")

    # -- per tier ----------------------------------------------------------------------------
    for tier, spec in TIERS.items():
        rts = [rt for rt in spec["runtimes"] if rt in run.runtimes()]
        if not any(ks.get(f"{tier}/{k.name}/{rt}") for k in run.kernels for rt in rts):
            continue
        w(f"## Kernels — {spec['title']}\n")
        w("Time per kernel call: median [min–max] over all samples of all rounds. Every "
          "runtime in this table ran exactly the sizes in the *args* column, so ratios are "
          "plain time ratios (no normalisation).\n")
        w("| kernel | args | " + " | ".join(LABEL[r] for r in rts) + " |")
        w("|---|---|" + "---|" * len(rts))
        for k in run.kernels:
            args = k.args(tier, run.quick)
            if args is None:
                continue
            row = []
            for rt in rts:
                s = ks.get(f"{tier}/{k.name}/{rt}")
                st = cell_status(run, rt, s, k)
                if st:
                    row.append(st)
                elif s and s["times"]:
                    row.append(f"{fmt_t(med(s['times']))} [{fmt_t(min(s['times']))}–"
                               f"{fmt_t(max(s['times']))}]")
                else:
                    row.append("—")
            w(f"| {k.name} | {', '.join(f'{a:,}' for a in args)} | " + " | ".join(row) + " |")
        w("")
        peers = [rt for rt in rts if rt not in ("native", "wazero")]
        cols = [(f"{LABEL[rt]} ÷ native", rt, "native") for rt in rts if rt != "native"]
        cols += [(f"wazero ÷ {LABEL[p]}", "wazero", p) for p in peers]
        w("Ratios (medians, same run, same sizes; < 1 means the numerator is faster):\n")
        w("| kernel | " + " | ".join(c[0] for c in cols) + " |")
        w("|---|" + "---|" * len(cols))
        for k in run.kernels:
            if k.args(tier, run.quick) is None:
                continue
            row = []
            for _, a, b in cols:
                sa, sb = ks.get(f"{tier}/{k.name}/{a}"), ks.get(f"{tier}/{k.name}/{b}")
                st = cell_status(run, a, sa, k) or cell_status(run, b, sb, k)
                if st:
                    row.append(st)
                elif sa and sb and sa["times"] and sb["times"]:
                    row.append(fmt_r(med(sa["times"]) / med(sb["times"])))
                else:
                    row.append("—")
            w(f"| {k.name} | " + " | ".join(row) + " |")
        w("")

    # -- calls --------------------------------------------------------------------------------
    if d["calls"]:
        w("## Python ↔ Wasm call overhead\n")
        w("ns per call including the Python `for` loop, through a handle resolved before the "
          "loop (wazero: `module.exports[name]`, a `wazero.Function`; wasmtime: "
          "`partial(Func, store)`; wasm3: `find_function`; pywasm: `machine.invocate` with the "
          "export pre-resolved). *plain Python* is `def f(a, b): return a + b` measured in the "
          "same child. *Wasm→Python* is one call from Wasm to an imported Python function, "
          "from the `hostcall` kernel (time ÷ calls, loop included). Median [min–max].\n")
        w("| runtime | `add(1, 2)` | `noop()` | plain Python `f(1, 2)` | add ÷ plain Python | "
          "Wasm→Python host call |")
        w("|---|---|---|---|---|---|")
        host = host_call_ns(run)
        for rt in PY_RUNTIMES:
            if rt not in run.runtimes():
                continue
            s = d["calls"].get(rt)
            if rt in run.missing:
                w(f"| {LABEL[rt]} | missing | missing | — | — | missing |")
                continue
            if not s or s["error"] or not s["add_ns"]:
                w(f"| {LABEL[rt]} | error | error | — | — | {host_cell(run, rt, host)} |")
                continue
            f = lambda xs: f"{med(xs):,.0f} [{min(xs):,.0f}–{max(xs):,.0f}]"
            w(f"| {LABEL[rt]} | {f(s['add_ns'])} | {f(s['noop_ns'])} | {f(s['python_ns'])} | "
              f"{med(s['add_ns']) / med(s['python_ns']):.1f} | {host_cell(run, rt, host)} |")
            if s.get("alt_add_ns"):
                w(f"| {LABEL[rt]} {s.get('alt_label', '(alternative)')} | "
                  f"{f(s['alt_add_ns'])} | {f(s['alt_noop_ns'])} | (same) | "
                  f"{med(s['alt_add_ns']) / med(s['python_ns']):.1f} | — |")
        if host.get("native"):
            w(f"| {LABEL['native']} | — | — | — | — | {host['native']:.1f} (C function "
              "pointer) |")
        w("")

    # -- startup + RSS -------------------------------------------------------------------------
    if d["startup"]:
        w("## Startup and memory\n")
        w("*import*: `import <package>` in a fresh process. *first*: engine/runtime creation "
          "excluded, compile + instantiate `add.wat` + first call, first time in the process. "
          "*steady*: compile + instantiate the same tiny module again and again "
          "(engine/runtime reused, module closed/dropped each time). *peak RSS*: "
          "the child's own peak (VmHWM; `ru_maxrss` would include the forking harness) — "
          "Python + runtime + the tiny module after its first call, and the largest over the "
          "kernel children (full sizes; wasm3: interpreter sizes; pywasm: pure-Python sizes; "
          "sieve and copy touch 16 MiB of linear memory).\n")
        w("| runtime | import | first compile+instantiate | steady compile+instantiate | "
          "peak RSS, tiny module | peak RSS, kernels (max) |")
        w("|---|---|---|---|---|---|")
        for rt in PY_RUNTIMES:
            if rt not in run.runtimes():
                continue
            s = d["startup"].get(rt)
            krss = [max(v["rss_kb"]) for v in ks.values() if v["runtime"] == rt and v["rss_kb"]
                    and v["tier"] == ("tiny" if rt == "pywasm" else
                                      "interp" if rt == "wasm3" else "jit")]
            krss_s = f"{max(krss) / 1024:.0f} MiB" if krss else "—"
            if rt in run.missing:
                w(f"| {LABEL[rt]} | missing | missing | missing | — | — |")
            elif not s or s["error"] or not s["first_s"]:
                w(f"| {LABEL[rt]} | error | error | error | — | {krss_s} |")
            else:
                w(f"| {LABEL[rt]} | {fmt_t(med(s['import_s']))} | {fmt_t(med(s['first_s']))} | "
                  f"{fmt_t(med(s['steady_s']))} | {max(s['rss_kb']) / 1024:.0f} MiB | {krss_s} |")
        nat = [max(v["rss_kb"]) for v in ks.values() if v["runtime"] == "native" and v["rss_kb"]]
        if nat:
            w(f"| {LABEL['native']} | — | — | — | — | {max(nat) / 1024:.0f} MiB |")
        w("")

    # -- compile ------------------------------------------------------------------------------
    if d["compile"]:
        any_s = next(iter(d["compile"].values()))
        size = any_s.get("bytes")
        w("## Compile throughput\n")
        w(f"A generated module (`gen_compile_module.py --funcs {300 if run.quick else 3000}`: "
          f"{size / 1e6 if size else 0:.2f} MB of Wasm, MVP integer code, no imports), compiled "
          "once per round, each time in a fresh process, on one thread (wasmtime: `parallel_compilation = False`); then "
          "instantiated and `check()` (calls every function) compared with the generator's "
          "Python evaluation. MB/s = Wasm bytes ÷ median compile time.\n")
        w("| runtime | compile (median [min–max]) | MB/s | check() | what is timed |")
        w("|---|---|---|---|---|")
        for rt in PY_RUNTIMES + NODE_RUNTIMES:
            if rt not in run.runtimes():
                continue
            if rt == "pywasm":
                w(f"| {LABEL[rt]} | n/a | n/a | — | pure-Python decoder; not run on this "
                  f"module |")
                continue
            s = d["compile"].get(rt)
            if rt in run.missing:
                w(f"| {LABEL[rt]} | missing | — | — | — |")
                continue
            if not s or s["error"] or not s["times"]:
                w(f"| {LABEL[rt]} | error | — | — | {s['error'] if s else ''} |")
                continue
            t = med(s["times"])
            span = f"{fmt_t(t)} [{fmt_t(min(s['times']))}–{fmt_t(max(s['times']))}]"
            mbs = f"{s['bytes'] / 1e6 / t:.1f}"
            if rt == "wasm3":
                # wasm3 only parses here and translates each function on its first call: the
                # honest number is parse + load + the first check() (compiles all + runs).
                tt = med(s["total_s"])
                note = ("wasm3 translates lazily, on each function's first call: MB/s uses "
                        f"parse+load+first `check()` = {fmt_t(tt)} (includes running it); "
                        f"parse+load alone {fmt_t(t)}")
                span = fmt_t(tt)
                mbs = f"≥ {s['bytes'] / 1e6 / tt:.1f}"
            elif rt == "v8-liftoff":
                note = ("`new WebAssembly.Module(bytes)`, `" + " ".join(NODE_FLAGS +
                        NODE_COMPILE_FLAGS) + "`; bytes made unique per sample (V8 caches "
                        "modules by content)")
            elif rt == "wazero":
                note = ("`CompiledModule(bytes)` (validate + compile)" if s.get("compile_only")
                        else "`Runtime.instantiate(bytes)` (compile **and** instantiate)")
            else:
                note = "`Module(engine, bytes)` (validate + compile)"
            w(f"| {LABEL[rt]} | {span} | {mbs} | {s.get('status', '?')} | {note} |")
        w("")

    code_table(run, w)
    w("## Problems in this run\n")
    if run.problems:
        for sev, text in run.problems:
            w(f"- **{sev}** {text}")
    else:
        w("None: every result matched the native reference.")
    w("")
    return "\n".join(L), chart


def code_table(run, w):
    """The compiled-code-size section (from Run.code_sizes)."""
    code = run.data.get("code") or {}
    if not code.get("files"):
        return
    rts = [rt for rt in ("wazero", "wasmtime-winch", "wasmtime-cranelift") if rt in code]
    if not rts:
        return

    def get(rt, f, field):
        e = code[rt].get(f) if "error" not in code[rt] else None
        return e.get(field) if isinstance(e, dict) else None

    w("## Compiled code size\n")
    w("Machine code bytes generated for each module (x86-64). *wazero*: the module's whole code "
      "buffer (function bodies **plus** out-of-line trap stubs), measured by the Rust layer's "
      "`code_size` binary (`wazero::module::compile_for`). *Winch*/*Cranelift*: the sizes of the "
      "`wasm[0]::function[N]` symbols in the ELF image of wasmtime's `Module.serialize()` "
      "(function bodies only; trampolines and metadata excluded, so the ratio is, if anything, "
      "unfavourable to wazero); *all* adds wasmtime's trampolines; the whole serialized image is "
      "an upper bound that also holds metadata. Deterministic: measured once.\n")
    w("| module | Wasm bytes | " + " | ".join(
        LABEL[rt] + (" functions / all / serialized" if rt != "wazero" else "") for rt in rts) +
      "".join(f" | wazero ÷ {LABEL[rt]}" for rt in rts if rt != "wazero" and "wazero" in rts) +
      " |")
    w("|---|---|" + "---|" * len(rts) +
      "---|" * len([rt for rt in rts if rt != "wazero" and "wazero" in rts]))
    for f in code["files"]:
        name = Path(f).stem
        row = [name, f"{code['wasm_bytes'][f]:,}"]
        for rt in rts:
            if "error" in code[rt] or get(rt, f, "error"):
                row.append("error")
            elif rt == "wazero":
                row.append(f"{get(rt, f, 'code_bytes'):,}")
            else:
                row.append(f"{get(rt, f, 'func_bytes'):,} / {get(rt, f, 'code_bytes'):,} / "
                           f"{get(rt, f, 'serialized_bytes'):,}")
        for rt in rts:
            if rt == "wazero" or "wazero" not in rts:
                continue
            a, b = get("wazero", f, "code_bytes"), get(rt, f, "func_bytes")
            row.append(f"{a / b:.2f}" if a and b else "—")
        w("| " + " | ".join(row) + " |")
    w("")


def charts(run, chart, outdir):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception as e:  # noqa: BLE001
        log(f"[charts] matplotlib unavailable ({e}); no PNGs")
        return []
    out = []
    colors = {"wazero": "#d62728", "wasmtime-cranelift": "#1f77b4", "wasmtime-winch": "#17becf",
              "v8-liftoff": "#ff7f0e", "wasm3": "#2ca02c", "pywasm": "#9467bd"}
    tag = " (quick mode)" if run.quick else ""
    # 1. ratio to native per kernel
    if chart:
        rts = [r for r in colors if any(r in v for v in chart.values())]
        kn = [k.name for k in run.kernels if k.name in chart]
        fig, ax = plt.subplots(figsize=(max(7, 1.3 * len(kn)), 4.5))
        wdt = 0.8 / max(1, len(rts))
        for i, rt in enumerate(rts):
            xs = [j + i * wdt for j, k in enumerate(kn) if rt in chart[k]]
            ys = [chart[k][rt] for k in kn if rt in chart[k]]
            ax.bar(xs, ys, wdt, label=LABEL[rt], color=colors[rt])
        ax.set_yscale("log")
        ax.axhline(1, color="k", lw=0.8)
        ax.set_xticks([j + wdt * (len(rts) - 1) / 2 for j in range(len(kn))])
        ax.set_xticklabels(kn)
        ax.set_ylabel("time ÷ native gcc -O2 (log)")
        ax.set_title("Kernels: time ÷ native at the same size, lower is better" + tag)
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi * 30)  # headroom for the legend above the tallest bars
        ax.legend(fontsize=8, loc="upper left", ncol=min(len(rts), 6))
        ax.grid(axis="y", which="both", alpha=0.3)
        fig.tight_layout()
        p = outdir / "kernels_vs_native.png"
        fig.savefig(p, dpi=110)
        plt.close(fig)
        out.append(p)
    # 2. call overhead: Python -> Wasm (add, noop; wazero also via module.call) and
    #    Wasm -> Python (host call)
    calls = {rt: s for rt, s in run.data["calls"].items() if s["add_ns"]}
    if calls:
        host = host_call_ns(run)
        rows = []  # (label, add, noop, host)
        for rt in calls:
            s = calls[rt]
            rows.append((LABEL[rt].replace(" ", "\n", 1), med(s["add_ns"]), med(s["noop_ns"]),
                         host.get(rt)))
            if s.get("alt_add_ns"):
                rows.append((LABEL[rt] + "\nmodule.call", med(s["alt_add_ns"]),
                             med(s["alt_noop_ns"]), None))
        fig, ax = plt.subplots(figsize=(max(7, 1.25 * len(rows)), 4.5))
        x = list(range(len(rows)))
        wdt = 0.27
        series = [("Python→Wasm add(1, 2)", 1, -wdt, "#1f77b4"),
                  ("Python→Wasm noop()", 2, 0, "#ff7f0e"),
                  ("Wasm→Python host call", 3, wdt, "#2ca02c")]
        for label, idx, off, color in series:
            xs = [i + off for i, r in zip(x, rows) if r[idx]]
            ys = [r[idx] for r in rows if r[idx]]
            if ys:
                ax.bar(xs, ys, wdt, label=label, color=color)
        py = med([v for r in calls for v in calls[r]["python_ns"]])
        ax.axhline(py, color="k", ls="--", lw=0.8, label=f"plain Python call ({py:.0f} ns)")
        ax.set_xticks(x)
        ax.set_xticklabels([r[0] for r in rows], fontsize=8)
        ax.set_yscale("log")
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi * 20)  # headroom for the legend
        ax.set_ylabel("ns per call (log)")
        ax.set_title("Python ↔ Wasm call overhead, lower is better" + tag)
        ax.legend(fontsize=8, loc="upper left", ncol=2)
        ax.grid(axis="y", which="both", alpha=0.3)
        fig.tight_layout()
        p = outdir / "call_overhead.png"
        fig.savefig(p, dpi=110)
        plt.close(fig)
        out.append(p)
    # 3. compile throughput
    comp = {rt: s for rt, s in run.data["compile"].items() if s["times"]}
    if comp:
        rts = list(comp)
        fig, ax = plt.subplots(figsize=(8, 4.5))
        vals = [comp[r]["bytes"] / 1e6 / med(comp[r]["total_s" if r == "wasm3" else "times"])
                for r in rts]
        ax.bar(range(len(rts)), vals, color=[colors.get(r, "grey") for r in rts])
        for i, v in enumerate(vals):  # the value on each bar: log bars are hard to read
            ax.text(i, v * 1.08, f"{v:.1f}", ha="center", va="bottom", fontsize=8)
        ax.set_xticks(range(len(rts)))
        ax.set_xticklabels([LABEL[r].replace(" ", "\n", 1) + ("*" if r == "wasm3" else "")
                            for r in rts], fontsize=8)
        ax.set_yscale("log")
        ax.set_ylim(min(vals) / 3, max(vals) * 3)
        ax.set_ylabel("MB of Wasm per second (log)")
        ax.set_title("Compile throughput, one thread, higher is better" + tag, fontsize=10)
        ax.grid(axis="y", which="both", alpha=0.3)
        fig.tight_layout()
        if "wasm3" in rts:  # below the axes, clear of the bars
            fig.subplots_adjust(bottom=0.2)
            fig.text(0.01, 0.01, "* wasm3 compiles lazily: parse + load + first check() call",
                     fontsize=7)
        p = outdir / "compile_throughput.png"
        fig.savefig(p, dpi=110)
        plt.close(fig)
        out.append(p)
    return out


def rerender(path):
    """Re-renders latest.md + charts from a saved latest.json (report format changes)."""
    j = json.loads(path.read_text())

    class Saved:
        pass
    run = Saved()
    run.info, run.missing, run.versions = j["info"], j["missing"], j["versions"]
    run.quick, run.rounds, run.samples = j["quick"], j["rounds"], j.get("samples", 3)
    run.elapsed, run.data, run.problems = j.get("elapsed", 0), j["data"], j["problems"]
    run.data.setdefault("code", {})
    names = j.get("kernels") or sorted({v["kernel"] for v in run.data["kernels"].values()})
    run.kernels = [k for k in KERNELS if k.name in names]
    rts = j.get("runtimes") or ALL_RUNTIMES
    run.runtimes = lambda: rts
    run.a = argparse.Namespace(note=j.get("note"))
    md, chart = report(run)
    pngs = charts(run, chart, path.parent)
    if pngs:
        md += "\n## Charts\n\n" + "\n".join(f"![{p.stem}]({p.name})" for p in pngs) + "\n"
    path.with_suffix(".md").write_text(md)
    log(f"[done] re-rendered {path.with_suffix('.md')}")
    return 0


def update_readme(md):
    """Copies the headline sections of a full run into README.md between the markers."""
    readme = BENCH / "README.md"
    text = readme.read_text()
    b, e = "<!-- results:begin -->", "<!-- results:end -->"
    if b not in text or e not in text:
        return
    sections, cur = {}, None
    head = []
    for line in md.splitlines():
        if line.startswith("## "):
            cur = line[3:].strip()
            sections[cur] = []
        elif cur is None:
            if not line.startswith("# "):
                head.append(line)
        else:
            sections[cur].append(line)
    keep = [k for k in sections if k.startswith(("Runtimes", "Summary", "Python", "Startup",
                                                  "Compile", "Problems"))]
    body = ["\n".join(head).strip(), ""]
    for k in keep:
        body += [f"### {k}", *sections[k]]
    body.append("Per-tier tables with min/max and wazero ÷ each peer: "
                "[`results/latest.md`](results/latest.md).\n")
    for png in ("kernels_vs_native", "call_overhead", "compile_throughput"):
        if (RESULTS / f"{png}.png").exists():
            body.append(f"![{png}](results/{png}.png)")
    new = text[:text.index(b) + len(b)] + "\n" + "\n".join(body).strip() + "\n" + \
        text[text.index(e):]
    readme.write_text(new)
    log("[done] README.md results section updated")


def main():
    p = argparse.ArgumentParser(description="wazero vs peers: interleaved kernel benchmarks")
    p.add_argument("--quick", action="store_true",
                   help="small sizes, 1 round (< 2 min); exits 1 on any wrong result or error")
    p.add_argument("--rounds", type=int, help="interleaved rounds (default 5, quick 1)")
    p.add_argument("--kernels", nargs="*", help="subset of kernels")
    p.add_argument("--runtimes", nargs="*", help="subset of runtimes (native always runs)")
    p.add_argument("--tiers", nargs="*", choices=list(TIERS), help="subset of size tiers")
    p.add_argument("--parts", nargs="*", choices=ALL_PARTS,
                   help="default: all; quick mode leaves out `code` (it may need a cargo "
                   "build of benches/rust)")
    p.add_argument("--require", nargs="*", default=[],
                   help="runtimes that must be present (missing ⇒ exit 1), e.g. --require wazero")
    p.add_argument("--out", default=None, help="Markdown output (default results/latest.md, "
                   "quick: results/quick.md)")
    p.add_argument("--report-from", metavar="JSON",
                   help="only re-render the Markdown + charts of a saved run (its .json) "
                   "next to it")
    p.add_argument("--setup", action="store_true", help="only create/update the venv and exit")
    p.add_argument("--no-venv", action="store_true", help="use this interpreter as is")
    p.add_argument("--no-build-wazero", action="store_true",
                   help="do not (re)install wazero from the repository")
    p.add_argument("--rebuild-wazero", action="store_true", help="force `pip install .`")
    p.add_argument("--note", default=None,
                   help="a sentence printed under the report's title (e.g. where the installed "
                   "wazero came from when using --no-build-wazero)")
    a = p.parse_args()

    if a.report_from:
        return rerender(Path(a.report_from))
    if not a.no_venv and not in_bench_venv():
        vpy = ensure_venv()
        os.execv(str(vpy), [str(vpy), str(Path(__file__).resolve())] + sys.argv[1:])
    BUILD.mkdir(exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    wazero_note = None
    if not a.no_build_wazero:
        wazero_note = ensure_wazero(a.rebuild_wazero)
    if a.setup:
        log("[setup] done" + (f"; wazero: {wazero_note}" if wazero_note else ""))
        return 0
    run = Run(a)
    if "code" in (a.parts or DEFAULT_PARTS[a.quick]) and not wazero_note:
        run.code_bin_error = build_code_size()
    run.go(wazero_note)
    out = Path(a.out) if a.out else RESULTS / ("quick/latest.md" if a.quick else "latest.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    md, chart = report(run)
    pngs = charts(run, chart, out.parent)
    if pngs:
        md += "\n## Charts\n\n" + "\n".join(f"![{p.stem}]({p.name})" for p in pngs) + "\n"
    out.write_text(md)
    (out.with_suffix(".json")).write_text(json.dumps(
        {"info": run.info, "missing": run.missing, "versions": run.versions,
         "quick": run.quick, "rounds": run.rounds, "samples": run.samples,
         "elapsed": run.elapsed, "note": a.note, "kernels": [k.name for k in run.kernels],
         "runtimes": run.runtimes(), "data": run.data, "problems": run.problems},
        indent=1, default=str))
    log(f"[done] {run.elapsed / 60:.1f} min -> {out}")
    if not a.quick and not a.out and not (a.kernels or a.runtimes or a.tiers or a.parts):
        update_readme(md)
    bad = [p for p in run.problems if p[0] in ("WRONG", "ERROR")]
    req_missing = [r for r in a.require if r in run.missing or r not in run.runtimes()]
    if bad or req_missing:
        log("\n" + "!" * 78)
        for sev, text in bad:
            log(f"!! {sev}: {text}")
        for r in req_missing:
            log(f"!! MISSING (required): {r}: {run.missing.get(r, 'not selected')}")
        log("!" * 78)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
