//! Replays every committed fuzz regression (`fuzz/regressions/<target>/<input>`) through the
//! same checks the libFuzzer targets run, and runs a fixed-seed smoke pass of each target, so
//! that plain `cargo test` (stable, no libFuzzer) exercises the differential logic.
//!
//! The check logic lives in the fuzz crate (`fuzz/src/`), compiled in here with `#[path]`.

#[allow(dead_code, unused_imports)]
#[path = "../fuzz/src/lib.rs"]
mod wazero_fuzz;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use wazero_fuzz::{differential, simd_ops, single_inst, util, validate};

const TARGETS: &[&str] = &["differential", "single_inst", "validate"];

fn run_target(target: &str, data: &[u8]) {
    match target {
        "differential" => differential::run(data),
        "single_inst" => single_inst::run(data),
        "validate" => validate::run(data),
        other => panic!("unknown fuzz target {other}"),
    }
}

/// Runs `f` on a thread with a main-thread-sized stack (libFuzzer runs targets on the main
/// thread; test threads only get 2 MiB).
fn on_big_stack<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(f)
        .expect("spawn test thread")
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

fn regressions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join("regressions")
}

/// `(target/file, skip)` entries of `fuzz/regressions/KNOWN_FAILURES`.
fn known_failures() -> Vec<(String, bool)> {
    let text = std::fs::read_to_string(regressions_dir().join("KNOWN_FAILURES")).unwrap_or_default();
    text.lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut parts = l.split_whitespace();
            let key = parts.next().unwrap().to_string();
            (key, parts.any(|p| p == "skip"))
        })
        .collect()
}

/// Regression inputs of a target: every file except descriptions (`.txt`, `.md`) and dotfiles.
fn inputs(target: &str) -> Vec<PathBuf> {
    let Ok(dir) = std::fs::read_dir(regressions_dir().join(target)) else { return Vec::new() };
    let mut v: Vec<PathBuf> = dir
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            !name.starts_with('.') && !name.ends_with(".txt") && !name.ends_with(".md")
        })
        .collect();
    v.sort();
    v
}

#[test]
fn regressions() {
    let known = known_failures();
    let mut problems = Vec::new();
    let mut replayed = 0;
    for target in TARGETS {
        for path in inputs(target) {
            let key = format!("{target}/{}", path.file_name().unwrap().to_string_lossy());
            let entry = known.iter().find(|(k, _)| *k == key);
            if matches!(entry, Some((_, true))) {
                eprintln!("skipping {key} (KNOWN_FAILURES: skip)");
                continue;
            }
            let data = std::fs::read(&path).unwrap();
            let target = target.to_string();
            let outcome = on_big_stack(move || catch_unwind(AssertUnwindSafe(|| run_target(&target, &data))).is_ok());
            replayed += 1;
            match (outcome, entry.is_some()) {
                (true, false) | (false, true) => {}
                (false, false) => problems.push(format!("{key}: fails (see the panic above)")),
                (true, true) => problems.push(format!("{key}: passes now: remove it from fuzz/regressions/KNOWN_FAILURES")),
            }
        }
    }
    eprintln!("replayed {replayed} regression input(s)");
    assert!(problems.is_empty(), "fuzz regressions:\n{}", problems.join("\n"));
}

/// Fixed-seed smoke pass: `n` deterministic inputs through a target.
fn smoke(target: &'static str, seed: u64, n: usize, max_len: usize) {
    on_big_stack(move || {
        for (i, data) in util::smoke_inputs(seed, n, max_len).into_iter().enumerate() {
            if let Err(e) = catch_unwind(AssertUnwindSafe(|| run_target(target, &data))) {
                let dir = std::env::temp_dir().join(format!("wazero-smoke-{target}-{i}"));
                let _ = std::fs::write(&dir, &data);
                eprintln!("smoke {target}: input #{i} (seed {seed:#x}) failed; saved to {}", dir.display());
                std::panic::resume_unwind(e);
            }
        }
    })
}

#[test]
fn smoke_differential() {
    smoke("differential", 0x5eed_0001, 400, 8192);
}

#[test]
fn smoke_single_inst() {
    smoke("single_inst", 0x5eed_0002, 2000, 256);
}

#[test]
fn smoke_validate() {
    smoke("validate", 0x5eed_0003, 600, 4096);
}

/// The harness itself, independent of the compiler: every generated module is valid for the
/// feature set it claims, and the wasmi oracle runs the single-instruction modules.
#[test]
fn harness_generates_valid_modules() {
    use arbitrary::Unstructured;
    let supported = wazero_fuzz::features::supported().wasmparser();
    for data in util::smoke_inputs(0x5eed_0004, 100, 8192) {
        let mut u = Unstructured::new(&data);
        if let Ok(wasm) = differential::module(&mut u) {
            wasmparser::Validator::new_with_features(supported)
                .validate_all(&wasm)
                .unwrap_or_else(|e| panic!("differential generated an invalid module: {e}"));
        }
    }
    let engine = wazero_fuzz::engines::WasmiInstance::engine(&wazero_fuzz::features::supported());
    for data in util::smoke_inputs(0x5eed_0005, 500, 128) {
        let mut u = Unstructured::new(&data);
        let Ok(case) = single_inst::Case::arbitrary(&mut u) else { continue };
        let wasm = case.module();
        wasmparser::Validator::new_with_features(supported)
            .validate_all(&wasm)
            .unwrap_or_else(|e| panic!("single_inst {}: invalid module: {e}", case.describe()));
        let module = wazero_fuzz::engines::WasmiInstance::compile(&engine, &wasm).unwrap();
        let mut inst = wazero_fuzz::engines::WasmiInstance::new(&engine, &module).unwrap();
        let _ = inst.call("f", &case.args());
    }
    // Every scalar and SIMD opcode is covered exactly once per name and per sub-opcode.
    let all: Vec<_> = single_inst::OPS.iter().chain(simd_ops::SIMD_OPS).collect();
    let mut names: Vec<&str> = all.iter().map(|o| o.name).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), all.len());
    let mut subs: Vec<u32> = simd_ops::SIMD_OPS.iter().map(|o| o.simd.unwrap()).collect();
    subs.sort();
    subs.dedup();
    assert_eq!(subs.len(), simd_ops::SIMD_OPS.len());
}

/// The lane-wise float comparison of `single_inst` accepts NaN-for-NaN lanes only, and its
/// NaN rule rejects signalling or non-canonical NaN lanes.
#[test]
fn simd_lane_comparison_can_fail() {
    use wazero_fuzz::value::DiffValue::V128;
    let canon = 0x7fc0_0000u128;
    let other_nan = 0x7fc0_0001u128;
    let one = 0x3f80_0000u128;
    assert!(simd_ops::lanes_eq(&V128(canon << 32 | one), &V128(other_nan << 32 | one), 32));
    assert!(!simd_ops::lanes_eq(&V128(canon << 32 | one), &V128(canon << 32), 32));
    assert!(!simd_ops::lanes_eq(&V128(one << 96), &V128(canon << 96), 32));
    // f64 lanes: a NaN in the high lane must not hide a difference in the low one.
    let nan64 = 0x7ff8_0000_0000_0000u128;
    assert!(!simd_ops::lanes_eq(&V128(nan64 << 64 | 1), &V128(nan64 << 64 | 2), 64));
    let ops = [V128(one), V128(canon)];
    assert_eq!(simd_ops::lane_nan_violation(&ops, &V128(canon << 32), 32, 32), None);
    assert!(simd_ops::lane_nan_violation(&ops, &V128(other_nan), 32, 32).is_some());
    assert!(simd_ops::lane_nan_violation(&ops, &V128(0x7f80_0001), 32, 32).is_some());
    // A non-canonical NaN operand lane allows any arithmetic NaN.
    assert_eq!(simd_ops::lane_nan_violation(&[V128(other_nan)], &V128(other_nan), 32, 32), None);
}
