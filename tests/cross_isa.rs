//! Both backends on any host: every module of the spec suite (`../shared/wasm-testsuite/
//! core-2.0/`) is compiled for x86-64 *and* aarch64 in this process, natively, and the two
//! must agree on success or on the exact error. This catches aarch64 instruction-selection
//! panics (e.g. an unencodable immediate reaching `dynasm!`) without qemu; executing the
//! aarch64 code is the job of `cargo test --target aarch64-unknown-linux-gnu`.

use std::path::PathBuf;

use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::{Wast, WastDirective};
use wazero::compiler::Isa;
use wazero::module::compile_for;

#[path = "common/big_function.rs"]
mod big_function;

fn modules_of(src: &str) -> Vec<Vec<u8>> {
    let mut lexer = Lexer::new(src);
    lexer.allow_confusing_unicode(true);
    let Ok(buf) = ParseBuffer::new_with_lexer(lexer) else { return Vec::new() };
    let Ok(wast) = parser::parse::<Wast<'_>>(&buf) else { return Vec::new() };
    let mut out = Vec::new();
    for directive in wast.directives {
        if let WastDirective::Module(mut wat) = directive {
            if let Ok(bytes) = wat.encode() {
                out.push(bytes);
            }
        }
    }
    out
}

#[test]
fn both_backends_compile_every_spec_module() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/wasm-testsuite/core-2.0");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("skipped: no spec suite at {}", dir.display());
        return;
    };
    let (mut compiled, mut code_bytes) = (0usize, 0usize);
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "wast") {
            continue;
        }
        let src = std::fs::read_to_string(&path).unwrap();
        for (k, bytes) in modules_of(&src).iter().enumerate() {
            let x64 = compile_for(bytes, Isa::X64).map(|(_, offsets)| offsets.len());
            let a64 = compile_for(bytes, Isa::Aarch64);
            if let Ok((code, _)) = &a64 {
                compiled += 1;
                code_bytes += code.len();
                assert_eq!(code.len() % 4, 0);
            }
            let a64 = a64.map(|(_, offsets)| offsets.len());
            // SIMD included (NEON on aarch64): the backends must agree exactly.
            assert_eq!(
                format!("{x64:?}"),
                format!("{a64:?}"),
                "{} module #{k}: backends disagree",
                path.display()
            );
        }
    }
    eprintln!("{compiled} modules, {code_bytes} bytes of aarch64 code");
}

#[test]
fn function_over_one_mib_compiles_for_both() {
    // aarch64 conditional branches reach ±1 MiB: this body's traps and loop need islands
    // and long-form branches (executed by tests/compiler/far_branches.rs under qemu).
    let wasm = wat::parse_str(big_function::wat()).unwrap();
    compile_for(&wasm, Isa::X64).unwrap();
    let (code, _) = compile_for(&wasm, Isa::Aarch64).unwrap();
    assert!(code.len() > 5 << 18, "only {} bytes of aarch64 code", code.len());
}
