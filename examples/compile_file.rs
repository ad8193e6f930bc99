//! Compiles a module file N times and prints the throughput: a profiling aid for the compiler
//! (`valgrind --tool=callgrind target/release/examples/compile_file big.wasm 1`).
//!
//!     cargo run --release --example compile_file -- FILE.{wasm,wat} [ITERATIONS]

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: compile_file FILE [ITERATIONS]");
    let iterations: u32 = args.next().map_or(10, |n| n.parse().expect("ITERATIONS: a number"));
    let raw = std::fs::read(&path).expect("read module file");
    let bytes = wat::parse_bytes(&raw).expect("valid wat or wasm").into_owned();
    let start = Instant::now();
    for _ in 0..iterations {
        let module = wazero::Module::new(&bytes).expect("compile");
        std::hint::black_box(&module);
    }
    let secs = start.elapsed().as_secs_f64() / iterations as f64;
    let isa = wazero::compiler::Isa::host().expect("a supported host");
    let (code, _) = wazero::module::compile_for(&bytes, isa).expect("compile");
    println!(
        "{} bytes: {:.2} ms per compile, {:.1} MB/s; {} bytes of machine code",
        bytes.len(),
        secs * 1e3,
        bytes.len() as f64 / secs / 1e6,
        code.len()
    );
}
