//! Serialised modules and the module cache: round trips run identically, and every
//! corrupted, truncated or foreign blob is rejected before any code is mapped.

use sha2::{Digest, Sha256};
use wazero::compiler::Isa;
use wazero::serialize::cache::{CacheOutcome, ModuleCache};
use wazero::serialize::{self, FORMAT_VERSION, MAGIC};
use wazero::{Error, Extern, Func, FuncType, Module, Store, Val, ValType};

/// Exercises every kind of code the runtime patches or calls into: builtins (memory.grow,
/// table.grow/fill/copy/init, memory.init), call_indirect signature checks, an import,
/// globals, data and element segments, a start function and a trap.
const WAT: &str = r#"
(module
  (type $ii (func (param i32) (result i32)))
  (import "env" "twice" (func $twice (param i32) (result i32)))
  (memory 1 10)
  (table $t 4 20 funcref)
  (global $g (mut i32) (i32.const 7))
  (global $started (mut i32) (i32.const 0))
  (data $d "\01\02\03\04")
  (elem $e func $inc $dbl $wrong)
  (func $inc (type $ii) (i32.add (local.get 0) (i32.const 1)))
  (func $dbl (type $ii) (call $twice (local.get 0)))
  (func $wrong (param i64) (result i32) (i32.const -1))
  (func $start (global.set $started (i32.const 42)))
  (start $start)
  (func (export "started") (result i32) (global.get $started))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "init_and_sum") (result i32)
    (memory.init $d (i32.const 100) (i32.const 0) (i32.const 4))
    (i32.add (i32.load8_u (i32.const 100)) (i32.load8_u (i32.const 103))))
  (func (export "indirect") (param i32 i32) (result i32)
    (table.init $t $e (i32.const 0) (i32.const 0) (i32.const 3))
    (table.copy $t $t (i32.const 3) (i32.const 1) (i32.const 1))
    (call_indirect $t (type $ii) (local.get 0) (local.get 1)))
  (func (export "tgrow") (result i32) (table.grow $t (ref.null func) (i32.const 3)))
  (func (export "tfill") (param i32) (table.fill $t (local.get 0) (ref.null func) (i32.const 1)))
  (func (export "bump") (result i32)
    (global.set $g (i32.add (global.get $g) (i32.const 1))) (global.get $g))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
)
"#;

fn wasm() -> Vec<u8> {
    wat::parse_str(WAT).expect("test module parses")
}

/// Runs every export of the test module in a fresh store; returns what each call gave.
fn run_all(module: &Module) -> Vec<String> {
    let store = Store::new();
    let twice = Func::new_host(&store, FuncType::new([ValType::I32], [ValType::I32]), |_, args, results| {
        let Val::I32(x) = args[0] else { unreachable!() };
        results[0] = Val::I32(2 * x);
        Ok(())
    });
    let instance = store.instantiate(module, &[Extern::Func(twice)]).expect("instantiates");
    let call = |name: &str, args: &[Val]| -> String {
        let Some(Extern::Func(f)) = instance.export(&store, name) else { panic!("no export {name}") };
        match f.call(&store, args) {
            Ok(v) => format!("{name}{args:?} = {v:?}"),
            Err(e) => format!("{name}{args:?} ! {e}"),
        }
    };
    vec![
        call("started", &[]),
        call("grow", &[Val::I32(2)]),
        call("grow", &[Val::I32(100)]),
        call("size", &[]),
        call("init_and_sum", &[]),
        call("indirect", &[Val::I32(5), Val::I32(0)]),
        call("indirect", &[Val::I32(5), Val::I32(2)]),
        call("indirect", &[Val::I32(5), Val::I32(3)]),
        call("indirect", &[Val::I32(5), Val::I32(9)]),
        call("tgrow", &[]),
        call("tfill", &[Val::I32(6)]),
        call("tfill", &[Val::I32(7)]),
        call("bump", &[]),
        call("bump", &[]),
        call("div", &[Val::I32(7), Val::I32(0)]),
        call("div", &[Val::I32(-9), Val::I32(2)]),
    ]
}

fn fresh_blob() -> Vec<u8> {
    Module::new(&wasm()).expect("compiles").serialize()
}

fn load(blob: &[u8]) -> wazero::Result<Module> {
    // SAFETY: every blob in these tests was written by this process (possibly altered, which
    // `deserialize` must reject before mapping any code).
    unsafe { Module::deserialize(blob) }
}

fn rejection(blob: &[u8]) -> String {
    match load(blob) {
        Err(Error::Deserialize(m)) => m,
        Err(e) => panic!("expected a deserialize error, got {e}"),
        Ok(_) => panic!("a bad blob was accepted"),
    }
}

/// Replaces the trailing checksum so that only the edited field is wrong.
fn reseal(mut blob: Vec<u8>) -> Vec<u8> {
    let body = blob.len() - 32;
    let sum = Sha256::digest(&blob[..body]);
    blob[body..].copy_from_slice(&sum);
    blob
}

#[test]
fn round_trip_runs_identically() {
    let module = Module::new(&wasm()).unwrap();
    let expected = run_all(&module);
    assert!(expected[0].ends_with("[I32(42)]"), "{expected:?}");
    assert!(expected[5].ends_with("[I32(6)]") && expected[7].ends_with("[I32(10)]"), "{expected:?}");
    assert!(expected[6].contains("indirect call type mismatch"), "{expected:?}");
    assert!(expected[14].contains("divide by zero"), "{expected:?}");
    let blob = module.serialize();
    let loaded = load(&blob).expect("a fresh blob loads");
    assert_eq!(run_all(&loaded), expected);
    // Deterministic, and loaded modules serialise to the same bytes.
    assert_eq!(loaded.serialize(), blob);
    assert_eq!(fresh_blob(), blob);
    assert_eq!(loaded.exports(), module.exports());
    assert_eq!(format!("{:?}", loaded.imports()), format!("{:?}", module.imports()));
}

#[test]
fn code_embeds_no_builtin_address() {
    let module = Module::new(&wasm()).unwrap();
    let blob = module.serialize();
    for addr in wazero::runtime::builtins::Builtin::table() {
        let needle = (addr as u64).to_le_bytes();
        assert!(!blob.windows(8).any(|w| w == needle), "builtin address {addr:#x} found in the code");
    }
}

#[test]
fn every_truncation_is_rejected() {
    let blob = fresh_blob();
    for len in 0..blob.len() {
        rejection(&blob[..len]);
    }
    let mut longer = blob.clone();
    longer.push(0);
    rejection(&longer);
}

#[test]
fn every_bit_flip_is_rejected() {
    let blob = fresh_blob();
    for i in 0..blob.len() {
        for mask in [0x01u8, 0x80] {
            let mut bad = blob.clone();
            bad[i] ^= mask;
            rejection(&bad);
        }
    }
}

#[test]
fn header_fields_are_checked_even_with_a_valid_checksum() {
    let blob = fresh_blob();
    let mut bad = blob.clone();
    bad[0] = b'X';
    assert!(rejection(&bad).contains("magic"));

    let mut bad = blob.clone();
    bad[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    assert!(rejection(&reseal(bad)).contains("format version"));

    let mut bad = blob.clone();
    bad[13] = 1;
    assert!(rejection(&reseal(bad)).contains("reserved"));

    // Another build: same length, one character of the engine id changed.
    let mut bad = blob.clone();
    let engine = serialize::engine_id();
    let at = blob.windows(engine.len()).position(|w| w == engine.as_bytes()).unwrap();
    bad[at + engine.len() - 1] ^= 1;
    assert!(rejection(&reseal(bad)).contains("compiled by"));

    // CPU features this CPU does not have.
    let mut bad = blob.clone();
    bad[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(rejection(&reseal(bad)).contains("lacks"));

    let mut bad = blob.clone();
    bad[blob.len() - 1] ^= 0xff;
    assert!(rejection(&bad).contains("checksum"));
    assert!(rejection(b"\0asm\x01\0\0\0").contains("magic"));
    assert_eq!(&blob[..8], &MAGIC);
}

#[test]
fn code_for_another_isa_is_rejected() {
    let host = Isa::host().unwrap();
    let other = if host == Isa::X64 { Isa::Aarch64 } else { Isa::X64 };
    let foreign = serialize::precompile(&wasm(), other).expect("cross-compiles");
    let msg = rejection(&foreign);
    assert!(msg.contains("compiled for"), "{msg}");
    // The same path for the host ISA loads and runs.
    let native = serialize::precompile(&wasm(), host).unwrap();
    let expected = run_all(&Module::new(&wasm()).unwrap());
    assert_eq!(run_all(&load(&native).unwrap()), expected);
}

#[test]
fn inconsistent_payloads_are_rejected() {
    let module = Module::new(&wasm()).unwrap();
    let info = module.info();
    let isa = Isa::host().unwrap();
    let features = serialize::feature_bits(isa);
    let code = vec![0xccu8; 64];
    let n = info.funcs.len() - info.num_imported_funcs as usize;
    let offsets: Vec<usize> = (0..n).collect();
    // A well-formed blob of this shape loads...
    assert!(serialize::check_blob(&serialize::encode(info, &code, &offsets, isa, features)).is_ok());
    // ...but not with an entry outside the code, unordered entries, or one entry missing.
    let mut past = offsets.clone();
    past[n - 1] = 64;
    let mut unordered = offsets.clone();
    unordered.swap(0, 1);
    for bad in [past, unordered, offsets[1..].to_vec()] {
        let msg = rejection(&serialize::encode(info, &code, &bad, isa, features));
        assert!(msg.contains("invalid payload"), "{msg}");
    }
    // An export, a start function or a type index out of range.
    let mut broken = info.clone();
    broken.exports[0].index = 1000;
    assert!(rejection(&serialize::encode(&broken, &code, &offsets, isa, features)).contains("export"));
    let mut broken = info.clone();
    broken.start = Some(1000);
    assert!(rejection(&serialize::encode(&broken, &code, &offsets, isa, features)).contains("start"));
    let mut broken = info.clone();
    broken.global_inits[0] = wazero::module::ConstExpr::GlobalGet(1);
    assert!(rejection(&serialize::encode(&broken, &code, &offsets, isa, features)).contains("initialiser"));
    let mut broken = info.clone();
    broken.funcs[1] = 99;
    assert!(rejection(&serialize::encode(&broken, &code, &offsets, isa, features)).contains("type"));
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("wazero-cache-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn cache_misses_then_hits_and_recovers_from_bad_entries() {
    let dir = temp_dir("basic");
    let wasm = wasm();
    let expected = run_all(&Module::new(&wasm).unwrap());
    let cache = ModuleCache::new(&dir).unwrap();
    let (m, outcome) = cache.get_or_compile(&wasm).unwrap();
    assert_eq!(outcome, CacheOutcome::Miss);
    assert_eq!(run_all(&m), expected);
    let entry = cache.entry_path(&wasm);
    assert!(entry.exists());

    // Another cache on the same directory (as another process would) hits.
    let again = ModuleCache::new(&dir).unwrap();
    let (m, outcome) = again.get_or_compile(&wasm).unwrap();
    assert_eq!(outcome, CacheOutcome::Hit);
    assert_eq!(run_all(&m), expected);

    // Truncated, bit-flipped, emptied or another module's entry: recompiled and replaced.
    let good = std::fs::read(&entry).unwrap();
    let other = wat::parse_str("(module (func (export \"f\")))").unwrap();
    cache.get_or_compile(&other).unwrap();
    let other_entry = std::fs::read(cache.entry_path(&other)).unwrap();
    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 0x10;
    for bad in [good[..good.len() / 3].to_vec(), flipped, Vec::new(), other_entry] {
        std::fs::write(&entry, &bad).unwrap();
        let (m, outcome) = again.get_or_compile(&wasm).unwrap();
        assert_eq!(outcome, CacheOutcome::Invalid);
        assert_eq!(run_all(&m), expected);
        assert_eq!(std::fs::read(&entry).unwrap(), good, "the entry was rewritten");
        assert_eq!(again.get_or_compile(&wasm).unwrap().1, CacheOutcome::Hit);
    }
    let stats = again.stats();
    assert_eq!((stats.hits, stats.misses, stats.invalid), (5, 0, 4));

    // Compile errors are returned and nothing is stored; no temporary file is left behind.
    assert!(matches!(cache.get_or_compile(b"\0asm\x02\0\0\0"), Err(Error::Compile { .. })));
    let names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.iter().all(|n| n.ends_with(".wazero-module")), "{names:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn concurrent_writers_leave_a_valid_entry() {
    let dir = temp_dir("concurrent");
    let wasm = wasm();
    let expected = run_all(&Module::new(&wasm).unwrap());
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let cache = ModuleCache::new(&dir).unwrap();
                    (0..5).map(|_| cache.get_or_compile(&wasm).unwrap().0.serialize()).collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            for blob in h.join().unwrap() {
                assert_eq!(run_all(&load(&blob).unwrap()), expected);
            }
        }
    });
    let cache = ModuleCache::new(&dir).unwrap();
    assert_eq!(cache.get_or_compile(&wasm).unwrap().1, CacheOutcome::Hit);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}
