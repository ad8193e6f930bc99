//! `validate`: wazero's accept/reject decision must equal `wasmparser`'s, and compiling any
//! bytes must never panic or crash.
//!
//! "Our feature set" is what `wazero::Module::new` claims to accept
//! (`wazero::module::features()`, Wasm 2.0). A module that is valid there but uses a proposal
//! outside `features::supported()` (the set the JIT compiles today) may be rejected with a
//! compile error without failing: the compiler does not implement it yet.
//!
//! Half of the cases compile under tight [`wazero::Limits`] drawn from the input (the limits an
//! embedder facing hostile modules would set), so limit checks fire at arbitrary points of
//! decoding, validation and code generation. A limit may reject a module wasmparser accepts;
//! the error must then name a real limit, and nothing may panic.

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
    // Drawn first: wasm-smith consumes whatever input remains.
    let limits = if u.arbitrary()? { tight_limits(u)? } else { wazero::Limits::default() };
    let (source, bytes) = bytes(u)?;
    if verbose() && limits != wazero::Limits::default() {
        eprintln!("validate: tight limits {limits:?}");
    }
    check_bytes_with_limits(&bytes, &format!("{source:?}"), &limits);
    Ok(())
}

/// The limits checked while a function body is compiled (the others are checked per section,
/// and a low one would stop most modules before any code is generated).
const BODY_LIMITS: &[&str] =
    &["max_function_size", "max_locals", "max_nesting_depth", "max_br_table_size", "max_value_stack", "max_code_size"];

/// Limits drawn from the input: one to three of them (half of the time only among
/// [`BODY_LIMITS`]) lowered to a small value (0 included), so that modules of fuzzing size
/// meet them. Few input bytes are spent, so short inputs still leave wasm-smith some.
pub fn tight_limits(u: &mut Unstructured<'_>) -> Result<wazero::Limits> {
    let mut limits = wazero::Limits::default();
    let names = if u.arbitrary()? { BODY_LIMITS } else { wazero::Limits::FIELDS };
    for _ in 0..u.int_in_range(1..=3)? {
        let name = u.choose(names)?;
        let value = *u.choose(&[0u64, 1, 2, 3, 7, 16, 100, 1_000, 4_096, 65_536])?;
        *limits.get_mut(name).expect("a name from Limits::FIELDS") = value;
    }
    Ok(limits)
}

/// Checks one module binary under the default limits; panics on disagreement.
pub fn check_bytes(bytes: &[u8], source: &str) {
    check_bytes_with_limits(bytes, source, &wazero::Limits::default())
}

/// Checks one module binary compiled under `limits`; panics on disagreement.
pub fn check_bytes_with_limits(bytes: &[u8], source: &str, limits: &wazero::Limits) {
    let engine_features = wazero::module::features();
    let full = valid(engine_features, bytes);
    let ours = wazero::Module::with_limits(bytes, limits);
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
        (Err(wazero::Error::Compile { message, .. }), Ok(())) if wazero::limits::exceeded_limit(&message).is_some() => {
            let name = wazero::limits::exceeded_limit(&message).unwrap_or_default();
            if !wazero::Limits::FIELDS.contains(&name) {
                panic!("validate ({source}): a limit error names no limit: {message}\n{}", describe_module(bytes));
            }
        }
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
