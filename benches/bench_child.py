#!/usr/bin/env python3
"""One measurement in its own process (wazero benches). Started by compare.py; not for humans.

    python bench_child.py '<json spec>'

Prints one JSON object on the last line of stdout. Modes:

* ``kernel``  – load a module, call ``func(*args)`` once (warm-up, result, calibration), then
  ``samples`` timed samples of ``inner`` calls each (``inner`` chosen so a sample lasts at
  least ``min_sample_s``); reports seconds per call.
* ``calls``   – Python→Wasm call overhead: ``add(1, 2)`` and ``noop()`` through a
  pre-resolved handle, plus a plain Python function as the floor; ns per call including the
  Python ``for`` loop. Runtimes with a second way to call (wazero's ``Module.call``) report it
  too (``alt_add_ns``/``alt_noop_ns``).
* ``startup`` – import time, first compile+instantiate of a tiny module in a fresh process, then
  the steady-state compile+instantiate time (engine/runtime reused, new module each time).
* ``compile`` – compile a big generated module (compile only where the runtime can separate it),
  then instantiate it and call ``check()`` to validate.
* ``code``    – wasmtime only: compiled code bytes of each module in ``files``, read from the
  symbol table of ``Module.serialize()`` (an ELF image; see ``elf_code_bytes``).

Every mode reports ``maxrss_kb`` (peak RSS: VmHWM, see ``maxrss_kb()``) at the end.
"""

import functools
import json
import os
import resource
import sys
import time

perf = time.perf_counter


# --------------------------------------------------------------------------------------------
# Runtime adapters. Each has: import_runtime(), new_engine(), compile(engine, wasm_bytes),
# instantiate(engine, compiled, host=None), handle(instance, name) -> callable(*args),
# first(result). ``host`` is the host-call kernel's import ``env.f: (i32) -> i32``, passed in
# each runtime's own way (see ``host_f``).
# --------------------------------------------------------------------------------------------


def host_f(x):
    """The host function imported by ``hostcall.wat`` as ``env.f`` (native.c: ``host_f``)."""
    return 3 * x + 1


class Wazero:
    """The package built from this repository (``pip install .``)."""

    def import_runtime(self):
        import wazero
        self.w = wazero
        return getattr(wazero, "__version__", None) or dist_version("wazero")

    def new_engine(self):
        return self.w.Runtime()

    def can_compile_only(self):
        return hasattr(self.w, "CompiledModule")

    def compile(self, rt, wasm):
        # Compile without instantiating when the API allows it (CompiledModule); otherwise the
        # compile measurement includes instantiation (reported as such by compare.py).
        if self.can_compile_only():
            return self.w.CompiledModule(wasm)
        return rt.instantiate(wasm)

    def instantiate(self, rt, compiled, host=None):
        imports = {"env": {"f": host}} if host else None
        if self.can_compile_only() and isinstance(compiled, self.w.CompiledModule):
            return rt.instantiate(compiled, imports)
        return compiled  # compile() already instantiated

    def release(self, rt, inst):
        close = getattr(inst, "close", None)
        if close is not None:
            close()

    def handle(self, inst, name):
        # ``Module.exports[name]`` is a ``wazero.Function``: resolved once, called directly.
        return inst.exports[name]

    def alt_handle(self, inst, name):
        """The other way to call: ``Module.call(name, *args) -> list`` (the name bound with
        functools.partial, a C-level wrapper, so the lookup is not in the timed loop)."""
        return functools.partial(inst.call, name)

    ALT_LABEL = "`module.call(name, ...)`"

    def first(self, res):
        # a Function returns the single result itself; Module.call returns a list
        if isinstance(res, (list, tuple)):
            return res[0] if res else None
        return res


class Wasmtime:
    """wasmtime-py over the Wasmtime C API. strategy: 'cranelift' or 'winch'."""

    def __init__(self, strategy):
        self.strategy = strategy

    def import_runtime(self):
        import wasmtime
        self.w = wasmtime
        return dist_version("wasmtime")

    def new_engine(self, parallel=True):
        w = self.w
        cfg = w.Config()
        if self.strategy == "winch":
            # wasmtime-py's Config.strategy only accepts "auto"/"cranelift"; the C API's
            # wasmtime_strategy_t has WASMTIME_STRATEGY_WINCH = 2.
            from wasmtime import _ffi as ffi
            ffi.wasmtime_config_strategy_set(cfg.ptr(), 2)
        else:
            cfg.strategy = "cranelift"
        cfg.parallel_compilation = parallel
        engine = w.Engine(cfg)
        return engine

    def can_compile_only(self):
        return True

    def compile(self, engine, wasm):
        return self.w.Module(engine, wasm)

    def instantiate(self, engine, module, host=None):
        w = self.w
        store = w.Store(engine)
        imports = []
        if host:
            ft = w.FuncType([w.ValType.i32()], [w.ValType.i32()])
            imports.append(w.Func(store, ft, host))
        inst = w.Instance(store, module, imports)
        return (store, inst)

    def release(self, engine, inst):
        pass

    def handle(self, inst, name):
        store, instance = inst
        return functools.partial(instance.exports(store)[name], store)

    def first(self, res):
        return res


class Wasm3:
    """pywasm3 (the wasm3 interpreter, built from source by pip with gcc)."""

    STACK = 1 << 20

    def import_runtime(self):
        import wasm3
        self.w = wasm3
        return "pywasm3 %s (wasm3 %s)" % (dist_version("pywasm3"), getattr(wasm3, "M3_VERSION", "?"))

    def new_engine(self):
        return self.w.Environment()

    def can_compile_only(self):
        return False  # wasm3 translates each function lazily on its first call

    def compile(self, env, wasm):
        return env.parse_module(wasm)

    def instantiate(self, env, module, host=None):
        rt = env.new_runtime(self.STACK)
        rt.load(module)
        if host:
            module.link_function("env", "f", "i(i)", host)  # after load(), as pywasm3 needs
        return rt

    def release(self, env, inst):
        pass

    def handle(self, rt, name):
        return rt.find_function(name)

    def first(self, res):
        return res


class PyWasm:
    """pywasm (a pure-Python interpreter)."""

    def import_runtime(self):
        import pywasm
        self.w = pywasm
        return dist_version("pywasm")

    def new_engine(self):
        return None

    def can_compile_only(self):
        return False

    def compile(self, _, wasm):
        import io
        return self.w.core.ModuleDesc.from_reader(io.BytesIO(wasm))

    def instantiate(self, _, desc, host=None):
        core = self.w.core
        rt = core.Runtime()
        if host:
            # pywasm's host functions take (machine, [args]) and return [results]
            ft = core.FuncType([core.ValType.i32()], [core.ValType.i32()])
            rt.imports["env"] = {"f": rt.allocate_func_host(ft, lambda _m, a: [host(a[0])])}
        return (rt, rt.instance(desc))

    def release(self, engine, inst):
        pass

    def handle(self, inst, name):
        rt, mod = inst
        core = self.w.core
        addr = [e for e in mod.exps if e.name == name][0].data.data
        ftype = rt.machine.store.func[addr].type
        machine = rt.machine
        from_all = core.ValInst.from_all
        params = list(ftype.args)

        def call(*args):  # Runtime.invocate minus the per-call export lookup
            rets = machine.invocate(addr, [from_all(t, a) for t, a in zip(params, args)])
            return [r.into_all() for r in rets]
        return call

    def first(self, res):
        return res[0] if res else None


ADAPTERS = {
    "wazero": Wazero,
    "wasmtime-cranelift": lambda: Wasmtime("cranelift"),
    "wasmtime-winch": lambda: Wasmtime("winch"),
    "wasm3": Wasm3,
    "pywasm": PyWasm,
}


def dist_version(*names):
    from importlib import metadata
    for n in names:
        try:
            return metadata.version(n)
        except metadata.PackageNotFoundError:
            pass
    return "?"


def maxrss_kb():
    """Peak RSS of this process in KiB. VmHWM (per address space, reset by exec) rather than
    getrusage's ru_maxrss: on Linux ru_maxrss survives exec, so a child forked from the
    (larger) harness process would report the parent's RSS at fork time."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def norm(v):
    """Results as JSON-safe values: ints stay ints (compare.py reduces them mod 2**bits)."""
    if isinstance(v, float):
        return {"f": v.hex()}
    return v


# --------------------------------------------------------------------------------------------

def run_kernel(ad, spec):
    wasm = open(spec["wasm"], "rb").read()
    eng = ad.new_engine()
    t0 = perf()
    inst = ad.instantiate(eng, ad.compile(eng, wasm), host_f if spec.get("host") else None)
    load_s = perf() - t0
    f = ad.handle(inst, spec["func"])
    args = spec["args"]
    t0 = perf()
    res = f(*args)
    first_s = perf() - t0
    result = ad.first(res)
    inner = 1 if first_s >= spec["min_sample_s"] else int(spec["min_sample_s"] / max(first_s, 1e-7)) + 1
    times = []
    if spec.get("first_is_sample"):
        times.append(first_s)
    for _ in range(spec["samples"]):
        t0 = perf()
        for _ in range(inner):
            f(*args)
        times.append((perf() - t0) / inner)
    return {"result": norm(result), "times": times, "inner": inner, "load_s": load_s,
            "first_s": first_s}


def run_calls(ad, spec):
    wasm = open(spec["wasm"], "rb").read()
    eng = ad.new_engine()
    inst = ad.instantiate(eng, ad.compile(eng, wasm))
    add = ad.handle(inst, "add")
    noop = ad.handle(inst, "noop")
    check = ad.first(add(1, 2))
    if check != 3:
        raise RuntimeError(f"add(1, 2) returned {check!r}")

    def pyadd(a, b):
        return a + b

    out = {"result": check}
    cases = [("add", add, (1, 2)), ("noop", noop, ()), ("python", pyadd, (1, 2))]
    if hasattr(ad, "alt_handle"):
        alt_add, alt_noop = ad.alt_handle(inst, "add"), ad.alt_handle(inst, "noop")
        if ad.first(alt_add(1, 2)) != 3:
            raise RuntimeError("alternative add(1, 2) did not return 3")
        cases += [("alt_add", alt_add, (1, 2)), ("alt_noop", alt_noop, ())]
        out["alt_label"] = ad.ALT_LABEL
    for label, fn, args in cases:
        # calibrate: a loop long enough to last ~budget_s
        n = 100
        while True:
            t0 = perf()
            for _ in range(n):
                fn(*args)
            dt = perf() - t0
            if dt > 0.02 or n >= 10_000_000:
                break
            n *= 10
        n = max(100, int(n * spec["budget_s"] / max(dt, 1e-9)))
        samples = []
        for _ in range(spec["samples"]):
            if args:
                a, b = args
                t0 = perf()
                for _ in range(n):
                    fn(a, b)
                samples.append((perf() - t0) / n * 1e9)
            else:
                t0 = perf()
                for _ in range(n):
                    fn()
                samples.append((perf() - t0) / n * 1e9)
        out[label + "_ns"] = samples
        out[label + "_n"] = n
    return out


def run_startup(ad, spec, import_s):
    wasm = open(spec["wasm"], "rb").read()
    t0 = perf()
    eng = ad.new_engine()
    engine_s = perf() - t0
    t0 = perf()
    inst = ad.instantiate(eng, ad.compile(eng, wasm))
    r = ad.first(ad.handle(inst, "add")(1, 2))
    first_s = perf() - t0
    if r != 3:
        raise RuntimeError(f"add(1, 2) returned {r!r}")
    rss_first_kb = maxrss_kb()  # Python + runtime + one tiny module, before the steady loop
    ad.release(eng, inst)
    steady = []
    deadline = perf() + spec["budget_s"]
    while len(steady) < spec["max_iters"] and (perf() < deadline or len(steady) < 5):
        t0 = perf()
        inst = ad.instantiate(eng, ad.compile(eng, wasm))
        steady.append(perf() - t0)
        ad.release(eng, inst)
    return {"result": r, "import_s": import_s, "engine_s": engine_s, "first_s": first_s,
            "steady_s": steady, "rss_first_kb": rss_first_kb}


def elf_code_bytes(image):
    """(bytes of Wasm function bodies, bytes of all code symbols) in a wasmtime serialized module:
    an ELF64 little-endian image whose .symtab has one FUNC symbol per compiled function
    (``wasm[0]::function[N]...``) and per trampoline, each with its size."""
    import struct
    if image[:4] != b"\x7fELF" or image[4] != 2 or image[5] != 1:
        raise ValueError("serialized module is not an ELF64 little-endian image")
    shoff, = struct.unpack_from("<Q", image, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", image, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", image, shoff + i * shentsize)
                for i in range(shnum)]
    funcs = total = 0
    found = False
    for _name, typ, _fl, _addr, off, size, link, _info, _al, entsize in sections:
        if typ != 2:  # SHT_SYMTAB
            continue
        found = True
        stroff = sections[link][4]
        for j in range(size // entsize):
            st_name, st_info, _o, _shndx, _v, st_size = struct.unpack_from(
                "<IBBHQQ", image, off + j * entsize)
            if st_info & 0xF != 2:  # STT_FUNC
                continue
            end = image.index(b"\0", stroff + st_name)
            name = image[stroff + st_name:end].decode("utf-8", "replace")
            total += st_size
            if "::function[" in name:
                funcs += st_size
    if not found:
        raise ValueError("no symbol table in the serialized module")
    return funcs, total


def run_code(ad, spec):
    if not isinstance(ad, Wasmtime):
        raise SystemExit("code mode: wasmtime only")
    eng = ad.new_engine(parallel=False)
    out = {}
    for path in spec["files"]:
        image = bytes(ad.compile(eng, open(path, "rb").read()).serialize())
        funcs, total = elf_code_bytes(image)
        out[path] = {"func_bytes": funcs, "code_bytes": total, "serialized_bytes": len(image)}
    return {"files": out}


def run_compile(ad, spec):
    wasm = open(spec["wasm"], "rb").read()
    if isinstance(ad, Wasmtime):
        eng = ad.new_engine(parallel=False)  # one core, like every other runtime here
    else:
        eng = ad.new_engine()
    times = []
    compiled = None
    for _ in range(spec["samples"]):
        compiled = None  # drop the previous one before compiling again
        t0 = perf()
        compiled = ad.compile(eng, wasm)
        times.append(perf() - t0)
    t0 = perf()
    inst = ad.instantiate(eng, compiled)
    inst_s = perf() - t0
    t0 = perf()
    res = ad.first(ad.handle(inst, "check")())
    check_s = perf() - t0
    return {"result": norm(res), "times": times, "bytes": len(wasm), "instantiate_s": inst_s,
            "check_s": check_s, "compile_only": ad.can_compile_only()}


def main():
    spec = json.loads(sys.argv[1])
    if spec["mode"] == "compile":
        # One compile thread, like wasmtime's `parallel_compilation = False` (read by wazero
        # at its first compile; a value already in the environment is kept).
        os.environ.setdefault("WAZERO_COMPILE_THREADS", "1")
    ad = ADAPTERS[spec["runtime"]]()
    t0 = perf()
    version = ad.import_runtime()
    import_s = perf() - t0
    mode = spec["mode"]
    if mode == "kernel":
        out = run_kernel(ad, spec)
    elif mode == "calls":
        out = run_calls(ad, spec)
    elif mode == "startup":
        out = run_startup(ad, spec, import_s)
    elif mode == "compile":
        out = run_compile(ad, spec)
    elif mode == "code":
        out = run_code(ad, spec)
    elif mode == "version":
        out = {}
    else:
        raise SystemExit(f"unknown mode {mode}")
    out["version"] = str(version)
    out["maxrss_kb"] = maxrss_kb()
    sys.stdout.write("\n" + json.dumps(out) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
