//! Machine code bytes wazero generates for each module given on the command line (wazero
//! benches; read by `compare.py`'s code-size table). Prints one JSON object:
//! `{"<path>": {"code_bytes": N, "functions": F} | {"error": "..."}, ...}`.
//!
//! `--dump DIR` (first argument) also writes each module's code buffer to `DIR/<stem>.bin`
//! and its function offsets to `DIR/<stem>.offsets`, for reading the generated code with
//! `objdump -D -b binary -m i386:x86-64 --start-address=OFFSET DIR/<stem>.bin`.
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

fn write_dump(
    dir: &std::path::Path,
    path: &str,
    code: &[u8],
    offsets: &[usize],
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let stem = std::path::Path::new(path)
        .file_stem()
        .map_or("module".into(), |s| s.to_string_lossy());
    std::fs::write(dir.join(format!("{stem}.bin")), code)?;
    let text: String = offsets
        .iter()
        .enumerate()
        .map(|(i, o)| format!("{i} {o:#x}\n"))
        .collect();
    std::fs::write(dir.join(format!("{stem}.offsets")), text)
}

fn main() -> ExitCode {
    let Some(isa) = wazero::compiler::Isa::host() else {
        eprintln!("code_size: no wazero backend for this CPU");
        return ExitCode::FAILURE;
    };
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let dump = if args.first().map(String::as_str) == Some("--dump") && args.len() >= 2 {
        let dir = std::path::PathBuf::from(args[1].clone());
        args.drain(..2);
        Some(dir)
    } else {
        None
    };
    let mut fields = Vec::new();
    for path in args {
        let entry = match std::fs::read(&path) {
            Err(e) => format!("{{\"error\": {}}}", json_str(&e.to_string())),
            Ok(bytes) => match wazero::module::compile_for(&bytes, isa) {
                Ok((code, offsets)) => {
                    if let Some(dir) = &dump {
                        if let Err(e) = write_dump(dir, &path, &code, &offsets) {
                            eprintln!("code_size: --dump {}: {e}", dir.display());
                            return ExitCode::FAILURE;
                        }
                    }
                    format!(
                        "{{\"code_bytes\": {}, \"functions\": {}}}",
                        code.len(),
                        offsets.len()
                    )
                }
                Err(e) => format!("{{\"error\": {}}}", json_str(&e.to_string())),
            },
        };
        fields.push(format!("{}: {}", json_str(&path), entry));
    }
    println!("{{{}}}", fields.join(", "));
    ExitCode::SUCCESS
}
