//! `validate`: wazero's accept/reject decision must equal `wasmparser`'s, and compiling any
//! bytes must never panic or crash.
//!
//! "Our feature set" is what `wazero::Module::new` claims to accept
//! (`wazero::module::features()`, Wasm 2.0). A module that is valid there but uses a proposal
//! outside `features::supported()` (the set the JIT compiles today) may be rejected with a
//! compile error without failing: the compiler does not implement it yet.

use arbitrary::{Result, Unstructured};
use wasmparser::{Validator, WasmFeatures};

use super::features;
use super::util::{describe_module, verbose};

/// How the bytes of a case are made.
#[derive(Copy, Clone, Debug)]
pub enum Source {
    /// Raw bytes, behind a valid header half of the time.
    Raw,
    /// wasm-smith with `allow_invalid_funcs` (function bodies may be arbitrary bytes).
    InvalidFuncs,
    /// A valid wasm-smith module with a few byte mutations.
    Mutated,
    /// A valid wasm-smith module using every Wasm 2.0 proposal (SIMD, bulk memory, ...).
    Wasm2,
}

fn smith_config(u: &mut Unstructured<'_>, all_wasm2: bool) -> Result<wasm_smith::Config> {
    let mut c: wasm_smith::Config = u.arbitrary()?;
    let mut f = features::supported();
    if all_wasm2 {
        f.bulk_memory = true;
        f.reference_types = true;
        f.simd = true;
    }
    f.configure_smith(&mut c);
    c.max_memory32_bytes = c.max_memory32_bytes.min(65536 * 65536);
    Ok(c)
}

/// The bytes of a case.
pub fn bytes(u: &mut Unstructured<'_>) -> Result<(Source, Vec<u8>)> {
    let source = *u.choose(&[Source::Raw, Source::InvalidFuncs, Source::Mutated, Source::Wasm2])?;
    let bytes = match source {
        Source::Raw => {
            let mut b = Vec::new();
            if u.arbitrary()? {
                b.extend_from_slice(b"\0asm\x01\0\0\0");
            }
            let rest: &[u8] = u.arbitrary()?;
            b.extend_from_slice(rest);
            b
        }
        Source::InvalidFuncs => {
            let mut c = smith_config(u, false)?;
            c.allow_invalid_funcs = true;
            wasm_smith::Module::new(c, u)?.to_bytes()
        }
        Source::Mutated => {
            let c = smith_config(u, false)?;
            let mut b = wasm_smith::Module::new(c, u)?.to_bytes();
            let n = u.int_in_range(1..=4)?;
            for _ in 0..n {
                if b.is_empty() {
                    break;
                }
                let i = u.choose_index(b.len())?;
                match u.int_in_range(0..=4)? {
                    0 => b[i] ^= 1 << u.int_in_range(0..=7)?,
                    1 => b[i] = *u.choose(&[0x00, 0x01, 0x7f, 0x80, 0xff, 0x0b, 0x40, 0xfc, 0xfd])?,
                    2 => {
                        b.remove(i);
                    }
                    3 => b.insert(i, u.arbitrary()?),
                    _ => b[i] = u.arbitrary()?,
                }
            }
            b
        }
        Source::Wasm2 => {
            let c = smith_config(u, true)?;
            wasm_smith::Module::new(c, u)?.to_bytes()
        }
    };
    Ok((source, bytes))
}

/// Compile errors wazero raises on purpose where wasmparser 0.263 accepts a module the spec
/// rejects (checked by the spec tests instead).
const STRICTER_THAN_WASMPARSER: &[&str] = &[
    // 32-bit memory limits encoded in more than 5 LEB128 bytes (wasmparser reads them as u64).
    "integer representation too long",
];

fn valid(features: WasmFeatures, bytes: &[u8]) -> std::result::Result<(), String> {
    Validator::new_with_features(features).validate_all(bytes).map(|_| ()).map_err(|e| e.to_string())
}

/// libFuzzer entry point.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let _ = check(&mut u);
}

pub fn check(u: &mut Unstructured<'_>) -> Result<()> {
    let (source, bytes) = bytes(u)?;
    check_bytes(&bytes, &format!("{source:?}"));
    Ok(())
}

/// Checks one module binary; panics on disagreement.
pub fn check_bytes(bytes: &[u8], source: &str) {
    let engine_features = wazero::module::features();
    let full = valid(engine_features, bytes);
    let ours = wazero::Module::new(bytes);
    if verbose() {
        eprintln!(
            "validate ({source}, {} bytes): wasmparser {:?} / wazero {}",
            bytes.len(),
            full,
            ours.as_ref().map_or_else(|e| e.to_string(), |_| "ok".into())
        );
    }
    match (ours, full) {
        (Ok(_), Ok(())) => {}
        (Ok(_), Err(e)) => panic!(
            "validate ({source}): wazero accepted a module that wasmparser rejects: {e}\n{}",
            describe_module(bytes)
        ),
        (Err(wazero::Error::Compile { .. }), Err(_)) => {}
        (Err(wazero::Error::Compile { message, offset }), Ok(())) => {
            // Valid Wasm 2.0 for wasmparser: rejecting it is only allowed if it uses a
            // proposal we don't compile yet, or where wasmparser is laxer than the spec.
            let stricter_than_wasmparser = STRICTER_THAN_WASMPARSER.iter().any(|m| message.contains(m));
            if !stricter_than_wasmparser && valid(features::supported().wasmparser(), bytes).is_ok() {
                panic!(
                    "validate ({source}): wazero rejected a valid module: {message} (offset {offset:?})\n{}",
                    describe_module(bytes)
                );
            }
        }
        (Err(e), _) => panic!(
            "validate ({source}): wazero::Module::new returned a non-compile error: {e}\n{}",
            describe_module(bytes)
        ),
    }
}
