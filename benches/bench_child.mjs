// One measurement in its own process for V8's baseline compiler Liftoff (wazero benches).
// Started by compare.py as
//   node --liftoff --no-wasm-tier-up --no-wasm-dynamic-tiering [--single-threaded
//        --no-wasm-lazy-compilation] bench_child.mjs '<json spec>'
// Same protocol as bench_child.py (modes: version, kernel, compile); prints one JSON line.
// Not a Python runtime: used as an extra reference column for generated code quality and
// compile speed only (no Python call overhead or startup numbers).
import { readFileSync } from "node:fs";

const spec = JSON.parse(process.argv[2]);
const now = () => Number(process.hrtime.bigint()) / 1e9;

function maxrssKb() {
  // VmHWM: ru_maxrss (process.resourceUsage) keeps the forking parent's peak across exec
  const m = /VmHWM:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) : -1;
}

function callWith(f, args) {
  try {
    return [f(...args), args];
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    const big = args.map((a) => BigInt(a)); // i64 parameters take BigInt
    return [f(...big), big];
  }
}

let out = {};
if (spec.mode === "version") {
  out = {};
} else if (spec.mode === "kernel") {
  const bytes = readFileSync(spec.wasm);
  let t0 = now();
  const { instance } = await WebAssembly.instantiate(bytes, {});
  const loadS = now() - t0;
  const f = instance.exports[spec.func];
  t0 = now();
  const [res, args] = callWith(f, spec.args);
  const firstS = now() - t0;
  const inner = firstS >= spec.min_sample_s ? 1 : Math.floor(spec.min_sample_s / Math.max(firstS, 1e-7)) + 1;
  const times = [];
  for (let s = 0; s < spec.samples; s++) {
    t0 = now();
    for (let i = 0; i < inner; i++) f(...args);
    times.push((now() - t0) / inner);
  }
  out = { result: String(res), times, inner, load_s: loadS, first_s: firstS };
} else if (spec.mode === "compile") {
  const bytes = readFileSync(spec.wasm);
  const times = [];
  let mod = null;
  for (let s = 0; s < spec.samples; s++) {
    // V8 caches compiled modules by their bytes: make every sample's bytes unique by
    // appending a distinct custom section (name "x", payload = the sample number).
    const tail = Buffer.from([0, 3, 1, 0x78, s & 0x7f]);
    const b = Buffer.concat([bytes, tail]);
    mod = null;
    const t0 = now();
    mod = new WebAssembly.Module(b);
    times.push(now() - t0);
  }
  let t0 = now();
  const inst = new WebAssembly.Instance(mod, {});
  const instS = now() - t0;
  t0 = now();
  const res = inst.exports.check();
  const checkS = now() - t0;
  out = { result: String(res), times, bytes: bytes.length, instantiate_s: instS,
          check_s: checkS, compile_only: true };
} else {
  throw new Error("unknown mode " + spec.mode);
}
out.version = "node " + process.version + " (V8 " + process.versions.v8 + ")";
out.maxrss_kb = maxrssKb();
process.stdout.write("\n" + JSON.stringify(out) + "\n");
