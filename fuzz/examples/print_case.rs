//! Shows what a fuzz input does: the generated module as WAT, then a trace of every call on
//! both engines (the check itself runs with `WAZERO_FUZZ_VERBOSE=1`).
//!
//! cargo run --manifest-path fuzz/Cargo.toml --example print_case -- <target> <file>...
//! (`DUMP_WASM=out.wasm` also writes the differential module's binary.)

use arbitrary::Unstructured;
use wazero_fuzz::{differential, single_inst, validate};

fn wat(wasm: &[u8]) -> String {
    wasmprinter::print_bytes(wasm).unwrap_or_else(|e| format!("<not printable: {e}>"))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (target, files) = match args.split_first() {
        Some((t, f)) if !f.is_empty() => (t.clone(), f.to_vec()),
        _ => {
            eprintln!("usage: print_case <differential|single_inst|validate> <input file>...");
            std::process::exit(2);
        }
    };
    std::env::set_var("WAZERO_FUZZ_VERBOSE", "1");
    for file in files {
        let data = std::fs::read(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
        println!(";; ===== {target} {file} ({} bytes)", data.len());
        let mut u = Unstructured::new(&data);
        match target.as_str() {
            "differential" => match differential::module(&mut u) {
                Ok(wasm) => {
                    if let Some(path) = std::env::var_os("DUMP_WASM") {
                        std::fs::write(path, &wasm).unwrap();
                    }
                    println!("{}", wat(&wasm))
                }
                Err(e) => println!(";; input too short: {e}"),
            },
            "single_inst" => loop {
                let Ok(case) = single_inst::Case::arbitrary(&mut u) else { break };
                println!(";; case: {}\n;; args: {}", case.describe(), wazero_fuzz::value::list(&case.args()));
                println!("{}", wat(&case.module()));
                if u.is_empty() || !u.arbitrary::<bool>().unwrap_or(false) {
                    break;
                }
            },
            "validate" => match validate::bytes(&mut u) {
                Ok((source, bytes)) => {
                    println!(";; source: {source:?}, {} bytes: {:02x?}", bytes.len(), &bytes[..bytes.len().min(64)]);
                    println!("{}", wat(&bytes));
                }
                Err(e) => println!(";; input too short: {e}"),
            },
            other => {
                eprintln!("unknown target {other}");
                std::process::exit(2);
            }
        }
        wazero_fuzz::util::set_wat_printer(|_| None);
        let outcome = std::panic::catch_unwind(|| match target.as_str() {
            "differential" => differential::run(&data),
            "single_inst" => single_inst::run(&data),
            _ => validate::run(&data),
        });
        println!(";; check: {}", if outcome.is_ok() { "passed" } else { "FAILED (see panic above)" });
    }
}
