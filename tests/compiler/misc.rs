//! Host re-entry, real-world modules, debugging and benchmark aids.

use super::harness::*;
use wazero::{Module, TrapKind};

/// Debug aid: `WAZERO_DUMP=file.wat cargo test --test compiler dump_code -- --nocapture`
/// writes the module's machine code to `/tmp/wazero-dump.bin` (disassemble with
/// `objdump -D -b binary -mi386:x86-64 /tmp/wazero-dump.bin`).
#[test]
fn dump_code() {
    let Ok(path) = std::env::var("WAZERO_DUMP") else {
        return;
    };
    let bytes = wat::parse_file(&path).expect("wat");
    let (_, code) = compile(&bytes).expect("compile");
    // SAFETY: the code memory is readable for `len` bytes.
    let text = unsafe { std::slice::from_raw_parts(code.code.as_ptr(), code.code.len()) };
    std::fs::write("/tmp/wazero-dump.bin", text).unwrap();
    eprintln!("function offsets: {:x?}", code.func_offsets);
}

/// Timings of the shared benchmark kernels:
/// `cargo test --release --test compiler bench_kernels -- --ignored --nocapture`.
#[test]
#[ignore = "a timing aid, not a test: speed is judged by benches/, never by timed unit tests"]
fn bench_kernels() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/bench");
    let cases: &[(&str, &str, &[u64])] = &[
        ("fib", "fib", &[34]),
        ("loop", "loop", &[300_000_000]),
        ("sum", "sum", &[500_000_000]),
        ("sieve", "sieve", &[16_777_216]),
        ("matmul", "matmul", &[200, 30]),
    ];
    for (file, export, args) in cases {
        let wat = std::fs::read_to_string(format!("{dir}/{file}.wat")).unwrap();
        let mut inst = Instance::new(&wat);
        let start = std::time::Instant::now();
        let r = inst.call(export, args);
        eprintln!("{file}: {:?} in {:.3}s", r, start.elapsed().as_secs_f64());
    }
}

#[test]
fn host_can_reenter_wasm_and_nested_traps_unwind_one_level() {
    use std::cell::Cell;
    use std::rc::Rc;
    let wat = r#"(module
      (import "env" "reenter" (func $reenter (param i32) (result i32)))
      (func $inner (export "inner") (param i32) (result i32)
        (if (i32.eqz (local.get 0)) (then unreachable))
        (i32.add (local.get 0) (i32.const 1)))
      (func (export "outer") (param i32) (result i32)
        (i32.mul (call $reenter (local.get 0)) (i32.const 10)))
    )"#;
    // (code, vmctx) of "inner", filled in once the instance exists.
    let target: Rc<Cell<(usize, usize)>> = Rc::new(Cell::new((0, 0)));
    let t = target.clone();
    let reenter: HostFn = Box::new(move |args: &mut [u64]| {
        let (code, vmctx) = t.get();
        let mut area = [args[0]];
        // SAFETY: `code`/`vmctx` are the funcref of a live instance's function of type
        // (i32) -> i32, whose argument area has one slot.
        let status = unsafe { entry_trampoline()(vmctx as *mut u8, code as *const u8, area.as_mut_ptr(), 1) };
        if status != 0 {
            return status; // propagate the inner trap as this host call's trap
        }
        args[0] = area[0];
        0
    });
    let mut inst = Instance::with_hosts(wat, vec![reenter]);
    let f = inst.func_index("inner");
    let off = inst.info.vm_offsets().func(f) as usize;
    // SAFETY: the funcref was written by `build`.
    let fr = unsafe { *((inst.vmctx.as_ptr() as *const u8).add(off) as *const VMFuncRef) };
    target.set((fr.code as usize, fr.vmctx as usize));
    assert_eq!(inst.call("outer", &[4]), Ok(50));
    assert_eq!(inst.call("outer", &[0]), Err(TrapKind::Unreachable));
    assert_eq!(inst.runtime.entry_sp.load(std::sync::atomic::Ordering::Relaxed), 0);
    assert_eq!(inst.call("outer", &[1]), Ok(20));
}

/// Every real-world module of the WASI test suite compiles (or reports a clean
/// "unsupported" error), and compilation speed is reported.
#[test]
fn wasi_testsuite_modules_compile() {
    let dir = "/work/shared/wasi-testsuite";
    if !std::path::Path::new(dir).exists() {
        return;
    }
    let mut files = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(dir)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "wasm") {
                files.push(p);
            }
        }
    }
    let (mut bytes_total, mut unsupported) = (0usize, Vec::new());
    let start = std::time::Instant::now();
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        bytes_total += bytes.len();
        match Module::new(&bytes) {
            Ok(_) => {}
            Err(wazero::Error::Compile { message, .. }) if message.starts_with("unsupported") => {
                unsupported.push(format!("{}: {message}", f.display()))
            }
            Err(e) => panic!("{}: {e}", f.display()),
        }
    }
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "{} modules, {} KiB in {secs:.3}s ({:.1} MB/s)",
        files.len(),
        bytes_total / 1024,
        bytes_total as f64 / secs / 1e6
    );
    for u in unsupported.iter().take(10) {
        eprintln!("  {u}");
    }
}
