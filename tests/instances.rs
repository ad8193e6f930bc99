//! Instance lifetimes and lookups: which instances `Store::release_instance` may free (an
//! instance whose function, memory, table or global another instance imported is pinned),
//! export lookup by name, and what a failed instantiation leaves behind.

use wazero::{Extern, Func, Instance, Module, Store, Val};

fn module(wat: &str) -> Module {
    Module::from_wat(wat).unwrap_or_else(|e| panic!("module should compile: {e}"))
}

fn instantiate(store: &Store, wat: &str, imports: &[Extern]) -> Instance {
    store.instantiate(&module(wat), imports).unwrap_or_else(|e| panic!("instantiation failed: {e}"))
}

fn export(store: &Store, instance: Instance, name: &str) -> Extern {
    instance.export(store, name).unwrap_or_else(|| panic!("no export {name:?}"))
}

fn func(store: &Store, instance: Instance, name: &str) -> Func {
    match export(store, instance, name) {
        Extern::Func(f) => f,
        other => panic!("export {name:?} should be a function, got {other:?}"),
    }
}

fn call_i32(store: &Store, f: Func, args: &[Val]) -> i32 {
    match f.call(store, args).unwrap_or_else(|e| panic!("call failed: {e}")).as_slice() {
        [Val::I32(v)] => *v,
        other => panic!("expected one i32, got {other:?}"),
    }
}

/// Exports one object of each kind; `get` reads memory byte 0, the global and table slot 0.
const LIB: &str = r#"(module
  (memory (export "mem") 1)
  (global (export "g") (mut i32) (i32.const 5))
  (table (export "tab") 1 funcref)
  (func $seven (result i32) (i32.const 7))
  (elem (i32.const 0) $seven)
  (func (export "f") (result i32) (i32.const 11)))"#;

/// An importer of exactly one object of `kind` from the library, with a function that uses it.
fn importer(kind: &str) -> &'static str {
    match kind {
        "mem" => r#"(module (import "lib" "mem" (memory 1))
            (func (export "use") (result i32) (i32.store8 (i32.const 0) (i32.const 3)) (i32.load8_u (i32.const 0))))"#,
        "g" => r#"(module (import "lib" "g" (global $g (mut i32)))
            (func (export "use") (result i32) (global.set $g (i32.const 6)) (global.get $g)))"#,
        "tab" => r#"(module (import "lib" "tab" (table 1 funcref)) (type $t (func (result i32)))
            (func (export "use") (result i32) (call_indirect (type $t) (i32.const 0))))"#,
        "f" => r#"(module (import "lib" "f" (func $f (result i32)))
            (func (export "use") (result i32) (call $f)))"#,
        _ => unreachable!(),
    }
}

#[test]
fn an_instance_whose_object_was_imported_is_not_freed() {
    let store = Store::new();
    // Released instances before the library: the pin must find the library among them.
    for _ in 0..100 {
        let spare = instantiate(&store, LIB, &[]);
        assert!(store.release_instance(spare).unwrap());
    }
    for (kind, expected) in [("mem", 3), ("g", 6), ("tab", 7), ("f", 11)] {
        let lib = instantiate(&store, LIB, &[]);
        let app = instantiate(&store, importer(kind), &[export(&store, lib, kind)]);
        assert!(!store.release_instance(lib).unwrap(), "{kind}: the library was imported from, so it stays");
        assert_eq!(call_i32(&store, func(&store, app, "use"), &[]), expected, "{kind}");
        // Nothing was imported from the app: it is freed, unless it imported a table (its
        // own functions may have escaped into it), and the library still works.
        let freed = store.release_instance(app).unwrap();
        assert_eq!(freed, kind != "tab", "{kind}: whether the app was freed");
        assert_eq!(app.export(&store, "use").is_none(), freed, "{kind}: a freed instance has no exports");
        assert_eq!(call_i32(&store, func(&store, lib, "f"), &[]), 11, "{kind}");
    }
}

#[test]
fn an_instance_nobody_imported_from_is_freed_once() {
    let store = Store::new();
    let lib = instantiate(&store, LIB, &[]);
    let f = func(&store, lib, "f");
    let mem = export(&store, lib, "mem");
    assert!(store.release_instance(lib).unwrap());
    assert!(!store.release_instance(lib).unwrap(), "already freed");
    assert!(f.call(&store, &[]).is_err(), "a freed function reports an error");
    // Importing an object of a freed instance fails cleanly.
    let r = store.instantiate(&module(importer("mem")), &[mem]);
    assert!(r.is_err(), "importing a freed memory should fail");
}

#[test]
fn a_reexported_import_pins_its_definer_only() {
    let store = Store::new();
    let lib = instantiate(&store, LIB, &[]);
    // `middle` imports the library's memory and exports it again.
    let middle = instantiate(
        &store,
        r#"(module (import "lib" "mem" (memory $m 1)) (export "mem" (memory $m)))"#,
        &[export(&store, lib, "mem")],
    );
    let app = instantiate(&store, importer("mem"), &[export(&store, middle, "mem")]);
    // `middle` defines nothing the app uses: it may go; the library may not.
    assert!(store.release_instance(middle).unwrap());
    assert!(!store.release_instance(lib).unwrap());
    assert_eq!(call_i32(&store, func(&store, app, "use"), &[]), 3);
}

/// A module with `n` exported functions `f0..`, each returning its index.
fn many_exports(n: usize) -> String {
    let mut wat = String::from("(module");
    for i in 0..n {
        wat.push_str(&format!(" (func (export \"f{i}\") (result i32) (i32.const {i}))"));
    }
    wat.push_str(" (memory (export \"mem\") 1))");
    wat
}

#[test]
fn exports_are_found_by_name_in_small_and_large_modules() {
    let store = Store::new();
    // Few exports are scanned, many go through a map built on first lookup: both must agree.
    for n in [0, 3, 15, 16, 17, 40] {
        let instance = instantiate(&store, &many_exports(n), &[]);
        for i in (0..n).rev() {
            assert_eq!(call_i32(&store, func(&store, instance, &format!("f{i}")), &[]), i as i32, "{n} exports");
        }
        assert!(matches!(instance.export(&store, "mem"), Some(Extern::Memory(_))), "{n} exports");
        assert!(instance.export(&store, "missing").is_none(), "{n} exports");
        assert!(instance.export(&store, &format!("f{n}")).is_none(), "{n} exports");
        let names: Vec<String> = instance.exports(&store).into_iter().map(|(name, _)| name).collect();
        let mut expected: Vec<String> = (0..n).map(|i| format!("f{i}")).collect();
        expected.push("mem".into());
        assert_eq!(names, expected, "declaration order");
    }
}

#[test]
fn a_failed_instantiation_keeps_the_element_words_its_functions_use() {
    let store = Store::new();
    let lib = instantiate(&store, r#"(module (table (export "tab") 2 funcref) (memory (export "mem") 1))"#, &[]);
    let (tab, mem) = (export(&store, lib, "tab"), export(&store, lib, "mem"));
    // The element segment puts $init into the shared table, then the data segment is out of
    // bounds: instantiation fails, but $init stays reachable through the table, and its
    // `table.init` reads the passive segment's words.
    let failing = module(
        r#"(module
          (import "lib" "tab" (table 2 funcref))
          (import "lib" "mem" (memory 1))
          (func $init (table.init 0 (i32.const 1) (i32.const 0) (i32.const 1)))
          (func $answer (result i32) (i32.const 42))
          (elem funcref (ref.func $answer))
          (elem (i32.const 0) func $init)
          (data (i32.const 65536) "x"))"#,
    );
    assert!(store.instantiate(&failing, &[tab, mem]).is_err(), "the data segment is out of bounds");
    let Extern::Table(table) = tab else { unreachable!() };
    let get = |i| match table.get(&store, i).unwrap() {
        Val::FuncRef(Some(f)) => f,
        other => panic!("table slot {i} should hold a function, got {other:?}"),
    };
    get(0).call(&store, &[]).unwrap();
    assert_eq!(call_i32(&store, get(1), &[]), 42);
}
