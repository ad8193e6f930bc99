//! Runs one export of a `.wat`/`.wasm` file on wazero and on wasmi and prints both outcomes
//! (handy to double-check a minimized finding by hand).
//!
//! cargo run --manifest-path fuzz/Cargo.toml --example run_wat -- <file> <export> [i32:N|i64:N|f32:BITS|f64:BITS]...

use wazero_fuzz::engines::{show, WasmiInstance, WazeroInstance};
use wazero_fuzz::features;
use wazero_fuzz::value::DiffValue;

fn parse_arg(s: &str) -> DiffValue {
    let (ty, v) = s.split_once(':').expect("argument must look like i32:5");
    let int = |v: &str| -> i128 {
        match v.strip_prefix("0x") {
            Some(h) => i128::from_str_radix(h, 16).unwrap(),
            None => v.parse().unwrap(),
        }
    };
    match ty {
        "i32" => DiffValue::I32(int(v) as i32),
        "i64" => DiffValue::I64(int(v) as i64),
        "f32" => DiffValue::F32(int(v) as u32),
        "f64" => DiffValue::F64(int(v) as u64),
        _ => panic!("unknown type {ty}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, export, rest @ ..] = args.as_slice() else {
        eprintln!("usage: run_wat <file.wat|file.wasm> <export> [type:value]...");
        std::process::exit(2);
    };
    let wasm = wat::parse_file(file).expect("parse module");
    let call_args: Vec<DiffValue> = rest.iter().map(|a| parse_arg(a)).collect();
    match wazero::Module::new(&wasm) {
        Err(e) => println!("wazero: compile error: {e}"),
        Ok(m) => match WazeroInstance::new(&m) {
            Err(e) => println!("wazero: instantiate: {e}"),
            Ok(i) => println!("wazero: {}", show(&i.call(export, &call_args))),
        },
    }
    let engine = WasmiInstance::engine(&features::supported());
    match WasmiInstance::compile(&engine, &wasm) {
        Err(e) => println!("wasmi:  compile error: {e}"),
        Ok(m) => match WasmiInstance::new(&engine, &m) {
            Err(e) => println!("wasmi:  instantiate: {e}"),
            Ok(mut i) => println!("wasmi:  {}", show(&i.call(export, &call_args))),
        },
    }
}
