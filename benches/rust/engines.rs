//! wazero vs wasmi, in process (criterion). See Cargo.toml for the commands.
//!
//! Groups: `compile/*` (validate + compile a generated module; throughput in bytes, so
//! criterion prints MB/s), `instantiate/*` (a tiny module, store created each time), and
//! `kernel/*` (the Python harness's kernels at sizes an interpreter finishes quickly). Every
//! kernel result is checked against the other engine (and the native reference values where
//! known) before anything is timed: a mismatch panics.
//!
//! wasmi runs with `CompilationMode::Eager` so its compile numbers include translating every
//! function (its default, lazy translation, would defer that to the first call).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn benches_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn kernel_bytes(name: &str) -> Vec<u8> {
    let p = benches_dir().join("kernels").join(format!("{name}.wat"));
    wat::parse_file(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The generated compile workload: `benches/build/compile_3000.wasm` (written by
/// `python benches/compare.py` or `python benches/gen_compile_module.py --funcs 3000 -o
/// benches/build/compile_3000.wat`), else every kernel concatenated is not a module, so fall
/// back to matmul (small) and say so.
fn compile_workload() -> (String, Vec<u8>) {
    let build = benches_dir().join("build");
    for name in ["compile_3000.wasm", "compile_3000.wat", "compile_300.wasm", "compile_300.wat"] {
        let p = build.join(name);
        if p.exists() {
            let bytes = if name.ends_with(".wat") {
                wat::parse_file(&p).unwrap()
            } else {
                std::fs::read(&p).unwrap()
            };
            return (name.to_string(), bytes);
        }
    }
    eprintln!("note: benches/build/compile_*.wasm not found (run `python benches/compare.py \
               --quick` once); compiling matmul.wat instead");
    ("matmul".to_string(), kernel_bytes("matmul"))
}

/// Runs wazero setup code; a wazero error or panic (e.g. an unimplemented compiler feature)
/// skips that wazero benchmark with a message instead of aborting the whole run, so the peer
/// numbers still come out.
fn wz_try<T>(what: &str, f: impl FnOnce() -> Result<T, String>) -> Option<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Some(v),
        Ok(Err(e)) => {
            eprintln!("SKIPPED wazero/{what}: {e}");
            None
        }
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            eprintln!("SKIPPED wazero/{what}: panic: {msg}");
            None
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Engines
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum R {
    I32(i32),
    I64(i64),
    F64(f64),
}

enum Arg {
    I32(i32),
    I64(i64),
}

struct Wz {
    store: wazero::Store,
    func: wazero::Func,
}

impl Wz {
    fn new(bytes: &[u8], export: &str) -> Result<Wz, String> {
        let module = wazero::Module::new(bytes).map_err(|e| format!("compile: {e}"))?;
        let store = wazero::Store::new();
        let inst = store.instantiate(&module, &[]).map_err(|e| format!("instantiate: {e}"))?;
        let func = match inst.export(&store, export) {
            Some(wazero::Extern::Func(f)) => f,
            _ => return Err(format!("no exported function {export}")),
        };
        Ok(Wz { store, func })
    }
    fn try_call(&self, args: &[Arg]) -> Result<R, String> {
        let v: Vec<wazero::Val> = args
            .iter()
            .map(|a| match a {
                Arg::I32(v) => wazero::Val::I32(*v),
                Arg::I64(v) => wazero::Val::I64(*v),
            })
            .collect();
        match self.func.call(&self.store, &v).map_err(|e| format!("call: {e}"))?.first() {
            Some(wazero::Val::I32(v)) => Ok(R::I32(*v)),
            Some(wazero::Val::I64(v)) => Ok(R::I64(*v)),
            Some(wazero::Val::F64(bits)) => Ok(R::F64(f64::from_bits(*bits))),
            other => Err(format!("unexpected result {other:?}")),
        }
    }
    fn call(&self, args: &[Arg]) -> R {
        let args: Vec<wazero::Val> = args
            .iter()
            .map(|a| match a {
                Arg::I32(v) => wazero::Val::I32(*v),
                Arg::I64(v) => wazero::Val::I64(*v),
            })
            .collect();
        let out = self.func.call(&self.store, &args).expect("wazero: call");
        match out.first() {
            Some(wazero::Val::I32(v)) => R::I32(*v),
            Some(wazero::Val::I64(v)) => R::I64(*v),
            Some(wazero::Val::F64(bits)) => R::F64(f64::from_bits(*bits)),
            other => panic!("wazero: unexpected result {other:?}"),
        }
    }
}

fn wasmi_engine() -> wasmi::Engine {
    let mut config = wasmi::Config::default();
    config.compilation_mode(wasmi::CompilationMode::Eager);
    wasmi::Engine::new(&config)
}

struct Wi {
    store: wasmi::Store<()>,
    func: wasmi::Func,
}

impl Wi {
    fn new(bytes: &[u8], export: &str) -> Wi {
        let engine = wasmi_engine();
        let module = wasmi::Module::new(&engine, bytes).expect("wasmi: compile");
        let mut store = wasmi::Store::new(&engine, ());
        let linker = wasmi::Linker::<()>::new(&engine);
        let inst = linker.instantiate_and_start(&mut store, &module).expect("wasmi: instantiate");
        let func = inst.get_func(&store, export).expect("wasmi: export");
        Wi { store, func }
    }
    fn call(&mut self, args: &[Arg]) -> R {
        let args: Vec<wasmi::Val> = args
            .iter()
            .map(|a| match a {
                Arg::I32(v) => wasmi::Val::I32(*v),
                Arg::I64(v) => wasmi::Val::I64(*v),
            })
            .collect();
        let ty = self.func.ty(&self.store);
        let mut out: Vec<wasmi::Val> = ty.results().iter().map(|t| wasmi::Val::default_for_ty(*t)).collect();
        self.func.call(&mut self.store, &args, &mut out).expect("wasmi: call");
        match out.first() {
            Some(wasmi::Val::I32(v)) => R::I32(*v),
            Some(wasmi::Val::I64(v)) => R::I64(*v),
            Some(wasmi::Val::F64(v)) => R::F64(f64::from(*v)),
            _ => panic!("wasmi: unexpected result"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Benchmarks
// ---------------------------------------------------------------------------------------------

fn compile(c: &mut Criterion) {
    let (name, bytes) = compile_workload();
    let mut g = c.benchmark_group("compile");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    if wz_try("compile", || wazero::Module::new(&bytes).map_err(|e| e.to_string())).is_some() {
        g.bench_function(BenchmarkId::new("wazero", &name), |b| {
            b.iter(|| black_box(wazero::Module::new(black_box(&bytes)).unwrap()))
        });
    }
    let engine = wasmi_engine();
    g.bench_function(BenchmarkId::new("wasmi-eager", &name), |b| {
        b.iter(|| black_box(wasmi::Module::new(&engine, black_box(&bytes[..])).unwrap()))
    });
    g.finish();
}

fn instantiate(c: &mut Criterion) {
    let bytes = kernel_bytes("add");
    let mut g = c.benchmark_group("instantiate");
    let wz_module = wz_try("instantiate", || {
        let m = wazero::Module::new(&bytes).map_err(|e| e.to_string())?;
        wazero::Store::new().instantiate(&m, &[]).map_err(|e| e.to_string())?;
        Ok(m)
    });
    if let Some(wz_module) = wz_module {
        g.bench_function("wazero/add", |b| {
            b.iter(|| {
                let store = wazero::Store::new();
                black_box(store.instantiate(&wz_module, &[]).unwrap());
            })
        });
        g.bench_function("wazero/add+compile", |b| {
            b.iter(|| {
                let m = wazero::Module::new(&bytes).unwrap();
                let store = wazero::Store::new();
                black_box(store.instantiate(&m, &[]).unwrap());
            })
        });
    }
    let engine = wasmi_engine();
    let wi_module = wasmi::Module::new(&engine, &bytes[..]).unwrap();
    let linker = wasmi::Linker::<()>::new(&engine);
    g.bench_function("wasmi/add", |b| {
        b.iter(|| {
            let mut store = wasmi::Store::new(&engine, ());
            black_box(linker.instantiate_and_start(&mut store, &wi_module).unwrap());
        })
    });
    g.finish();
}

struct K {
    name: &'static str,
    file: &'static str,
    export: &'static str,
    args: fn() -> Vec<Arg>,
    expected: Option<R>,
}

fn kernels(c: &mut Criterion) {
    let ks = [
        K { name: "fib(27)", file: "fib", export: "fib", args: || vec![Arg::I32(27)], expected: Some(R::I32(196418)) },
        K { name: "loop(5M)", file: "loop", export: "loop", args: || vec![Arg::I64(5_000_000)], expected: None },
        K { name: "sum(5M)", file: "sum", export: "sum", args: || vec![Arg::I64(5_000_000)], expected: Some(R::I64(12_499_997_500_000)) },
        K { name: "sieve(1Mi)", file: "sieve", export: "sieve", args: || vec![Arg::I32(1 << 20)], expected: Some(R::I32(82025)) },
        K { name: "matmul(60,1)", file: "matmul", export: "matmul", args: || vec![Arg::I32(60), Arg::I32(1)], expected: None },
        K { name: "indirect(1M)", file: "indirect", export: "indirect", args: || vec![Arg::I32(1_000_000)], expected: None },
        K { name: "copy8(256Ki,1)", file: "copy", export: "copy_bytes", args: || vec![Arg::I32(1 << 18), Arg::I32(1)], expected: None },
        K { name: "copy64(256Ki,1)", file: "copy", export: "copy_words", args: || vec![Arg::I32(1 << 18), Arg::I32(1)], expected: None },
    ];
    let mut g = c.benchmark_group("kernel");
    g.sample_size(10).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_millis(500));
    for k in &ks {
        let bytes = kernel_bytes(k.file);
        let mut wi = Wi::new(&bytes, k.export);
        let b = wi.call(&(k.args)());
        if let Some(e) = k.expected {
            assert_eq!(b, e, "{}: wasmi {b:?} != expected {e:?}", k.name);
        }
        let args = (k.args)();
        // wazero: set up and run once (errors/panics skip it); a wrong result is a hard failure.
        let wz = wz_try(k.name, || {
            let wz = Wz::new(&bytes, k.export)?;
            let a = wz.try_call(&args)?;
            Ok((wz, a))
        });
        if let Some((wz, a)) = wz {
            assert_eq!(a, b, "{}: wazero {a:?} != wasmi {b:?}", k.name);
            g.bench_function(BenchmarkId::new("wazero", k.name), |bn| bn.iter(|| black_box(wz.call(&args))));
        }
        g.bench_function(BenchmarkId::new("wasmi", k.name), |bn| bn.iter(|| black_box(wi.call(&args))));
    }
    g.finish();
}

criterion_group!(benches, compile, instantiate, kernels);
criterion_main!(benches);
