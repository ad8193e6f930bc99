//! Machine code bytes wazero generates for each module given on the command line (wazero
//! benches; read by `compare.py`'s code-size table). Prints one JSON object:
//! `{"<path>": {"code_bytes": N, "functions": F} | {"error": "..."}, ...}`.
//!
//! Uses `wazero::module::compile_for`, the same compiler as `Module::new` for the host ISA,
//! which hands back the module's whole code buffer (every function body plus the out-of-line
//! trap stubs and anything else the compiler emits into it).

use std::process::ExitCode;

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn main() -> ExitCode {
    let Some(isa) = wazero::compiler::Isa::host() else {
        eprintln!("code_size: no wazero backend for this CPU");
        return ExitCode::FAILURE;
    };
    let mut fields = Vec::new();
    for path in std::env::args().skip(1) {
        let entry = match std::fs::read(&path) {
            Err(e) => format!("{{\"error\": {}}}", json_str(&e.to_string())),
            Ok(bytes) => match wazero::module::compile_for(&bytes, isa) {
                Ok((code, offsets)) => {
                    format!("{{\"code_bytes\": {}, \"functions\": {}}}", code.len(), offsets.len())
                }
                Err(e) => format!("{{\"error\": {}}}", json_str(&e.to_string())),
            },
        };
        fields.push(format!("{}: {}", json_str(&path), entry));
    }
    println!("{{{}}}", fields.join(", "));
    ExitCode::SUCCESS
}
