//! A subset of the core spec suite on fake instances.

use super::harness::*;
use wast::core::{NanPattern, WastArgCore, WastRetCore};
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastRet};

const SUITE: &str = "/work/shared/wasm-testsuite/core-2.0";

/// Files whose every module this harness can instantiate (spectest imports only, no
/// linking between modules; modules using `memory.grow` are skipped: the harness memory is
/// not a runtime memory).
const FILES: &[&str] = &[
    "address",
    "align",
    "block",
    "br",
    "br_if",
    "br_table",
    "call",
    "call_indirect",
    "const",
    "conversions",
    "endianness",
    "f32",
    "f32_bitwise",
    "f32_cmp",
    "f64",
    "f64_bitwise",
    "f64_cmp",
    "fac",
    "float_exprs",
    "float_literals",
    "float_memory",
    "float_misc",
    "forward",
    "func",
    "func_ptrs",
    "global",
    "i32",
    "i64",
    "if",
    "int_exprs",
    "int_literals",
    "labels",
    "left-to-right",
    "load",
    "local_get",
    "local_set",
    "local_tee",
    "loop",
    "memory",
    "memory_redundancy",
    "memory_trap",
    "nop",
    "return",
    "select",
    "stack",
    "store",
    "switch",
    "traps",
    "unreachable",
    "unwind",
    "unreached-valid",
    "memory_copy",
    "memory_fill",
    "memory_init",
    "ref_null",
    "ref_is_null",
    "ref_func",
    "table_get",
    "table_set",
    "table_size",
];

fn arg(a: &WastArg) -> Option<u64> {
    Some(match a {
        WastArg::Core(WastArgCore::I32(v)) => *v as u32 as u64,
        WastArg::Core(WastArgCore::I64(v)) => *v as u64,
        WastArg::Core(WastArgCore::F32(v)) => v.bits as u64,
        WastArg::Core(WastArgCore::F64(v)) => v.bits,
        WastArg::Core(WastArgCore::RefNull(_)) => 0,
        // Host references are opaque non-null words.
        WastArg::Core(WastArgCore::RefExtern(n)) => *n as u64 + 1,
        _ => return None,
    })
}

fn ret_matches(r: &WastRet, got: u64) -> Option<bool> {
    Some(match r {
        WastRet::Core(WastRetCore::I32(v)) => got == *v as u32 as u64,
        WastRet::Core(WastRetCore::I64(v)) => got == *v as u64,
        WastRet::Core(WastRetCore::F32(p)) => {
            let b = got as u32;
            match p {
                NanPattern::CanonicalNan => b & 0x7fff_ffff == 0x7fc0_0000,
                NanPattern::ArithmeticNan => b & 0x7fc0_0000 == 0x7fc0_0000,
                NanPattern::Value(v) => b == v.bits && got >> 32 == 0,
            }
        }
        WastRet::Core(WastRetCore::F64(p)) => match p {
            NanPattern::CanonicalNan => got & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
            NanPattern::ArithmeticNan => got & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
            NanPattern::Value(v) => got == v.bits,
        },
        WastRet::Core(WastRetCore::RefNull(_)) => got == 0,
        WastRet::Core(WastRetCore::RefExtern(Some(n))) => got == *n as u64 + 1,
        WastRet::Core(WastRetCore::RefFunc(_)) => got != 0,
        _ => return None,
    })
}

fn uses_runtime_growth(bytes: &[u8]) -> bool {
    for payload in wasmparser::Parser::new(0).parse_all(bytes).flatten() {
        if let wasmparser::Payload::CodeSectionEntry(body) = payload {
            let Ok(reader) = body.get_operators_reader() else {
                return true;
            };
            for op in reader {
                if matches!(
                    op,
                    Ok(wasmparser::Operator::MemoryGrow { .. } | wasmparser::Operator::TableGrow { .. })
                        | Err(_)
                ) {
                    return true;
                }
            }
        }
    }
    false
}

fn instantiate(wat: &mut QuoteWat) -> Result<Option<Instance>, String> {
    let bytes = wat.encode().map_err(|e| e.to_string())?;
    let (info, code) = match compile(&bytes) {
        Ok(x) => x,
        Err(wazero::Error::Compile { message, .. }) if message.starts_with("unsupported") => return Ok(None),
        Err(e) => return Err(format!("compile: {e}")),
    };
    // `memory.grow`/`table.grow` need runtime objects (tests/spec.rs covers them): skip.
    if info.imports.iter().any(|i| i.module != "spectest") || uses_runtime_growth(&bytes) {
        return Ok(None);
    }
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Instance::build(info, code, Vec::new())
    }))
    .map(Some)
    .map_err(|_| "instantiation failed".to_string())
}

fn run_file(name: &str, failures: &mut Vec<String>) -> (usize, usize) {
    let path = format!("{SUITE}/{name}.wast");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let buf = ParseBuffer::new(&text).unwrap();
    let wast: Wast = parser::parse(&buf).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut current: Option<Instance> = None;
    let (mut passed, mut skipped) = (0, 0);
    for directive in wast.directives {
        let line = {
            let (l, _) = directive.span().linecol_in(&text);
            l + 1
        };
        let at = format!("{name}.wast:{line}");
        let invoke = |inst: &mut Instance, exec: &WastExecute| -> Option<Result<Vec<u64>, TrapKind>> {
            let WastExecute::Invoke(inv) = exec else {
                return None;
            };
            if inv.module.is_some() {
                return None;
            }
            let args: Option<Vec<u64>> = inv.args.iter().map(arg).collect();
            Some(inst.call_raw(inv.name, &args?))
        };
        match directive {
            WastDirective::Module(mut wat) => match instantiate(&mut wat) {
                Ok(i) => current = i,
                Err(e) => {
                    failures.push(format!("{at}: {e}"));
                    current = None;
                }
            },
            WastDirective::AssertReturn { exec, results, .. } => {
                let Some(inst) = current.as_mut() else {
                    skipped += 1;
                    continue;
                };
                match invoke(inst, &exec) {
                    None => skipped += 1,
                    Some(Err(t)) => failures.push(format!("{at}: trapped {t:?}")),
                    Some(Ok(got)) => {
                        let ok: Option<Vec<bool>> = results
                            .iter()
                            .zip(&got)
                            .map(|(r, g)| ret_matches(r, *g))
                            .collect();
                        match ok {
                            None => skipped += 1,
                            Some(v) if v.iter().all(|b| *b) && v.len() == results.len() => passed += 1,
                            Some(_) => failures.push(format!("{at}: got {got:x?}")),
                        }
                    }
                }
            }
            WastDirective::AssertExhaustion { call, message, .. } => {
                let Some(inst) = current.as_mut() else {
                    skipped += 1;
                    continue;
                };
                match invoke(inst, &WastExecute::Invoke(call)) {
                    None => skipped += 1,
                    Some(Err(TrapKind::StackOverflow)) => passed += 1,
                    Some(r) => failures.push(format!("{at}: expected {message:?}, got {r:x?}")),
                }
            }
            WastDirective::AssertTrap { exec, message, .. } => {
                let Some(inst) = current.as_mut() else {
                    skipped += 1;
                    continue;
                };
                match invoke(inst, &exec) {
                    None => skipped += 1,
                    Some(Err(t)) if message.starts_with(t.message()) || t.message().starts_with(message) => {
                        passed += 1
                    }
                    Some(r) => failures.push(format!("{at}: expected trap {message:?}, got {r:x?}")),
                }
            }
            WastDirective::Invoke(inv) => {
                let Some(inst) = current.as_mut() else {
                    skipped += 1;
                    continue;
                };
                let args: Option<Vec<u64>> = inv.args.iter().map(arg).collect();
                if let Some(args) = args {
                    let _ = inst.call_raw(inv.name, &args);
                }
            }
            WastDirective::AssertInvalid { mut module, .. }
            | WastDirective::AssertMalformed { mut module, .. } => {
                if let Ok(bytes) = module.encode() {
                    if compile(&bytes).is_ok() {
                        failures.push(format!("{at}: invalid module accepted"));
                    } else {
                        passed += 1;
                    }
                }
            }
            _ => skipped += 1,
        }
    }
    (passed, skipped)
}

#[test]
fn spec_core_subset_on_fake_instances() {
    if !std::path::Path::new(SUITE).exists() {
        eprintln!("spec suite not found at {SUITE}; skipped");
        return;
    }
    // Deep-recursion tests need more than the default test-thread stack.
    let handle = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(|| {
            let mut failures = Vec::new();
            let (mut passed, mut skipped) = (0, 0);
            for f in FILES {
                let (p, s) = run_file(f, &mut failures);
                passed += p;
                skipped += s;
            }
            (failures, passed, skipped)
        })
        .unwrap();
    let (failures, passed, skipped) = handle.join().unwrap();
    eprintln!(
        "spec subset: {passed} passed, {skipped} skipped, {} failed",
        failures.len()
    );
    for f in failures.iter().take(60) {
        eprintln!("  {f}");
    }
    assert!(failures.is_empty(), "{} spec failures", failures.len());
}
