//! Parallel compilation: the code of a large module does not depend on the thread count
//! (both ISAs), calls between functions compiled on different threads are linked right, and
//! the reported error is the one a serial compile reports.

use wazero::compiler::Isa;
use wazero::module::compile_for_with_threads;
use wazero::{Extern, Module, Store, Val};

/// Functions in the generated module; with [`filler`] this is far above the size below
/// which a module compiles on one thread.
const FUNCS: u32 = 700;

/// Straight-line work on a local that does not change the result, to make bodies large.
fn filler(k: u32) -> String {
    let mut s = String::new();
    for j in 0..12 {
        s.push_str(&format!(
            "(local.set $t (i32.xor (i32.mul (local.get $t) (i32.const {})) (i32.rotl (local.get $x) (i32.const {}))))\n",
            k * 13 + j,
            j
        ));
    }
    s
}

/// `f0(x) = x + 1`, `fk(x) = f(k-1)(x) * 3 + k`; `fk` for odd `k` also calls a function
/// *after* it (`g(k)`, defined last) whose result is 0, so calls go forward and backward.
fn generated_module() -> String {
    let mut wat = String::from("(module\n");
    wat.push_str("(func $f0 (param $x i32) (result i32) (local $t i32) local.get $x i32.const 1 i32.add)\n");
    for k in 1..FUNCS {
        let forward = if k % 2 == 1 { "(call $zero (local.get $x)) i32.add" } else { "" };
        wat.push_str(&format!(
            "(func $f{k} (param $x i32) (result i32) (local $t i32)\n{}\
             (i32.add (i32.mul (call $f{} (local.get $x)) (i32.const 3)) (i32.const {k})) {forward})\n",
            filler(k),
            k - 1
        ));
    }
    wat.push_str("(func $zero (param $x i32) (result i32) (i32.sub (local.get $x) (local.get $x)))\n");
    wat.push_str(&format!("(export \"last\" (func $f{})))\n", FUNCS - 1));
    wat
}

fn expected(x: u32) -> u32 {
    (1..FUNCS).fold(x.wrapping_add(1), |v, k| v.wrapping_mul(3).wrapping_add(k))
}

#[test]
fn code_is_the_same_whatever_the_thread_count() {
    let bytes = wat::parse_str(generated_module()).unwrap();
    assert!(bytes.len() > wazero::compiler::parallel::PARALLEL_MIN_BYTES, "module too small to go parallel");
    for isa in [Isa::X64, Isa::Aarch64] {
        let serial = compile_for_with_threads(&bytes, isa, 1).unwrap();
        for threads in [2, 3, 8] {
            let parallel = compile_for_with_threads(&bytes, isa, threads).unwrap();
            assert_eq!(parallel.1, serial.1, "{isa:?}, {threads} threads: function offsets differ");
            assert!(parallel.0 == serial.0, "{isa:?}, {threads} threads: code differs");
        }
    }
}

#[test]
fn calls_across_threads_are_linked() {
    let bytes = wat::parse_str(generated_module()).unwrap();
    for threads in [1, 4] {
        let module = Module::new_with_threads(&bytes, threads).unwrap();
        let store = Store::new();
        let instance = store.instantiate(&module, &[]).unwrap();
        let Some(Extern::Func(last)) = instance.export(&store, "last") else { panic!("export") };
        for x in [0u32, 7, 0xffff_fff0] {
            let got = last.call(&store, &[Val::I32(x as i32)]).unwrap();
            assert_eq!(got, [Val::I32(expected(x) as i32)], "{threads} threads, x = {x}");
        }
    }
}

#[test]
fn the_first_error_wins() {
    let mut wat = generated_module();
    // Two bad bodies far apart (in different chunks): an i64 result where i32 is expected.
    for k in [150, 600] {
        let from = format!("(func $f{k} (param $x i32) (result i32) (local $t i32)\n");
        let to = format!("(func $f{k} (param $x i32) (result i32) (local $t i32)\n(drop (i32.eqz (i64.const 1)))\n");
        assert!(wat.contains(&from));
        wat = wat.replace(&from, &to);
    }
    let bytes = wat::parse_str(wat).unwrap();
    let serial = compile_for_with_threads(&bytes, Isa::X64, 1).unwrap_err().to_string();
    for threads in [2, 4, 8] {
        let parallel = compile_for_with_threads(&bytes, Isa::X64, threads).unwrap_err().to_string();
        assert_eq!(parallel, serial, "{threads} threads");
    }
    assert!(serial.contains("type mismatch"), "{serial}");
}
