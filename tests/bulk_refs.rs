//! Bulk memory and reference types through the public Rust API: passive/active/declarative
//! segments, `memory.init`/`data.drop`/`table.init`/`elem.drop`, overlapping `memory.copy`,
//! and funcref values that leave Wasm.

use wazero::{
    Error, Extern, Func, FuncType, Global, GlobalType, Instance, Memory, Module, Store, Table,
    TrapKind, Val, ValType,
};

fn instantiate(store: &Store, wat: &str, imports: &[Extern]) -> Instance {
    let module = Module::from_wat(wat).unwrap_or_else(|e| panic!("module should compile: {e}"));
    store
        .instantiate(&module, imports)
        .unwrap_or_else(|e| panic!("instantiation failed: {e}"))
}

fn func(store: &Store, inst: Instance, name: &str) -> Func {
    match inst.export(store, name) {
        Some(Extern::Func(f)) => f,
        other => panic!("export {name:?} should be a function, got {other:?}"),
    }
}

fn memory(store: &Store, inst: Instance) -> Memory {
    match inst.export(store, "mem") {
        Some(Extern::Memory(m)) => m,
        other => panic!("export mem should be a memory, got {other:?}"),
    }
}

fn table(store: &Store, inst: Instance, name: &str) -> Table {
    match inst.export(store, name) {
        Some(Extern::Table(t)) => t,
        other => panic!("export {name:?} should be a table, got {other:?}"),
    }
}

fn call(store: &Store, f: Func, args: &[i32]) -> Result<Vec<Val>, TrapKind> {
    let args: Vec<Val> = args.iter().map(|&a| Val::I32(a)).collect();
    f.call(store, &args).map_err(|e| match e {
        Error::Trap(t) => t.kind,
        e => panic!("expected success or a trap, got {e}"),
    })
}

fn bytes(store: &Store, m: Memory, at: usize, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    m.read(store, at, &mut buf).unwrap();
    buf
}

#[test]
fn memory_init_and_data_drop() {
    let store = Store::new();
    let inst = instantiate(
        &store,
        r#"(module
            (memory (export "mem") 1)
            (data $passive "\01\02\03\04\05")
            (data $active (i32.const 100) "\aa\bb")
            (func (export "init") (param i32 i32 i32) (memory.init $passive (local.get 0) (local.get 1) (local.get 2)))
            (func (export "init_active") (param i32 i32 i32) (memory.init $active (local.get 0) (local.get 1) (local.get 2)))
            (func (export "drop") (data.drop $passive)))"#,
        &[],
    );
    let (init, init_active, drop) = (
        func(&store, inst, "init"),
        func(&store, inst, "init_active"),
        func(&store, inst, "drop"),
    );
    let mem = memory(&store, inst);
    assert_eq!(bytes(&store, mem, 100, 2), [0xaa, 0xbb]);

    assert_eq!(call(&store, init, &[10, 1, 3]), Ok(vec![]));
    assert_eq!(bytes(&store, mem, 9, 5), [0, 2, 3, 4, 0]);
    // Zero-length at the very ends of both ranges is fine; one past either end traps.
    assert_eq!(call(&store, init, &[65536, 5, 0]), Ok(vec![]));
    assert_eq!(
        call(&store, init, &[65537, 0, 0]),
        Err(TrapKind::MemoryOutOfBounds)
    );
    assert_eq!(
        call(&store, init, &[0, 6, 0]),
        Err(TrapKind::MemoryOutOfBounds)
    );
    // Out of range: nothing is written, not even the part that would fit.
    assert_eq!(
        call(&store, init, &[65534, 0, 3]),
        Err(TrapKind::MemoryOutOfBounds)
    );
    assert_eq!(bytes(&store, mem, 65534, 2), [0, 0]);
    assert_eq!(
        call(&store, init, &[20, 3, 3]),
        Err(TrapKind::MemoryOutOfBounds)
    );
    assert_eq!(bytes(&store, mem, 20, 3), [0, 0, 0]);
    // Huge operands must not wrap around.
    assert_eq!(
        call(&store, init, &[-1, 0, 1]),
        Err(TrapKind::MemoryOutOfBounds)
    );
    assert_eq!(
        call(&store, init, &[0, 1, -1]),
        Err(TrapKind::MemoryOutOfBounds)
    );

    // Active segments are dropped by instantiation; a dropped segment has length 0.
    assert_eq!(call(&store, init_active, &[0, 0, 0]), Ok(vec![]));
    assert_eq!(
        call(&store, init_active, &[0, 0, 1]),
        Err(TrapKind::MemoryOutOfBounds)
    );
    assert_eq!(call(&store, drop, &[]), Ok(vec![]));
    assert_eq!(
        call(&store, drop, &[]),
        Ok(vec![]),
        "dropping twice is allowed"
    );
    assert_eq!(call(&store, init, &[30, 0, 0]), Ok(vec![]));
    assert_eq!(
        call(&store, init, &[30, 0, 1]),
        Err(TrapKind::MemoryOutOfBounds)
    );
    assert_eq!(bytes(&store, mem, 30, 1), [0]);
}

#[test]
fn segment_state_is_per_instance() {
    let store = Store::new();
    let wat = r#"(module
        (memory (export "mem") 1)
        (data $d "xyz")
        (func (export "init") (param i32 i32 i32) (memory.init $d (local.get 0) (local.get 1) (local.get 2)))
        (func (export "drop") (data.drop $d)))"#;
    let a = instantiate(&store, wat, &[]);
    let b = instantiate(&store, wat, &[]);
    assert_eq!(call(&store, func(&store, a, "drop"), &[]), Ok(vec![]));
    assert_eq!(
        call(&store, func(&store, a, "init"), &[0, 0, 3]),
        Err(TrapKind::MemoryOutOfBounds)
    );
    assert_eq!(
        call(&store, func(&store, b, "init"), &[0, 0, 3]),
        Ok(vec![])
    );
    assert_eq!(bytes(&store, memory(&store, b), 0, 3), b"xyz");
}

#[test]
fn table_init_elem_drop_and_multiple_tables() {
    let store = Store::new();
    let inst = instantiate(
        &store,
        r#"(module
            (type $r (func (result i32)))
            (table $t0 (export "t0") 4 funcref)
            (table $t1 (export "t1") 3 funcref)
            (func $a (result i32) (i32.const 10))
            (func $b (result i32) (i32.const 20))
            (func $c (result i32) (i32.const 30))
            (elem $passive funcref (ref.func $a) (ref.null func) (ref.func $b) (ref.func $c))
            (elem $active (table $t0) (i32.const 0) func $c)
            (elem $declared declare func $a)
            (func (export "init1") (param i32 i32 i32) (table.init $t1 $passive (local.get 0) (local.get 1) (local.get 2)))
            (func (export "init_active") (param i32 i32 i32) (table.init $t0 $active (local.get 0) (local.get 1) (local.get 2)))
            (func (export "init_declared") (param i32 i32 i32) (table.init $t0 $declared (local.get 0) (local.get 1) (local.get 2)))
            (func (export "drop") (elem.drop $passive))
            (func (export "call1") (param i32) (result i32) (call_indirect $t1 (type $r) (local.get 0)))
            (func (export "call0") (param i32) (result i32) (call_indirect $t0 (type $r) (local.get 0))))"#,
        &[],
    );
    let f = |name| func(&store, inst, name);
    let t1 = table(&store, inst, "t1");
    assert_eq!(call(&store, f("call0"), &[0]), Ok(vec![Val::I32(30)]));

    assert_eq!(call(&store, f("init1"), &[0, 1, 3]), Ok(vec![]));
    assert_eq!(t1.get(&store, 0).unwrap(), Val::FuncRef(None));
    assert_eq!(call(&store, f("call1"), &[1]), Ok(vec![Val::I32(20)]));
    assert_eq!(call(&store, f("call1"), &[2]), Ok(vec![Val::I32(30)]));
    assert_eq!(
        call(&store, f("call1"), &[0]),
        Err(TrapKind::UninitializedElement)
    );
    // Out of range: nothing written.
    assert_eq!(
        call(&store, f("init1"), &[2, 0, 2]),
        Err(TrapKind::TableOutOfBounds)
    );
    assert_eq!(call(&store, f("call1"), &[2]), Ok(vec![Val::I32(30)]));
    assert_eq!(
        call(&store, f("init1"), &[0, 2, 3]),
        Err(TrapKind::TableOutOfBounds)
    );
    assert_eq!(call(&store, f("init1"), &[3, 4, 0]), Ok(vec![]));
    assert_eq!(
        call(&store, f("init1"), &[4, 0, 0]),
        Err(TrapKind::TableOutOfBounds)
    );

    // Active and declarative segments are dropped by instantiation.
    for name in ["init_active", "init_declared"] {
        assert_eq!(call(&store, f(name), &[0, 0, 0]), Ok(vec![]));
        assert_eq!(
            call(&store, f(name), &[0, 0, 1]),
            Err(TrapKind::TableOutOfBounds),
            "{name}"
        );
    }
    assert_eq!(call(&store, f("drop"), &[]), Ok(vec![]));
    assert_eq!(call(&store, f("init1"), &[0, 0, 0]), Ok(vec![]));
    assert_eq!(
        call(&store, f("init1"), &[0, 0, 1]),
        Err(TrapKind::TableOutOfBounds)
    );
}

#[test]
fn externref_segments_come_from_imported_globals() {
    let store = Store::new();
    let g = Global::new(
        &store,
        GlobalType {
            content: ValType::ExternRef,
            mutable: false,
        },
        Val::ExternRef(Some(42)),
    )
    .unwrap();
    let inst = instantiate(
        &store,
        r#"(module
            (import "host" "g" (global $g externref))
            (table $t (export "t") 3 externref)
            (elem $e externref (global.get $g) (ref.null extern) (global.get $g))
            (func (export "init") (param i32 i32 i32) (table.init $t $e (local.get 0) (local.get 1) (local.get 2))))"#,
        &[Extern::Global(g)],
    );
    let t = table(&store, inst, "t");
    assert_eq!(
        call(&store, func(&store, inst, "init"), &[0, 0, 3]),
        Ok(vec![])
    );
    let got: Vec<Val> = (0..3).map(|i| t.get(&store, i).unwrap()).collect();
    assert_eq!(
        got,
        [
            Val::ExternRef(Some(42)),
            Val::ExternRef(None),
            Val::ExternRef(Some(42))
        ]
    );
}

#[test]
fn ref_func_of_an_import_is_the_imported_function() {
    let store = Store::new();
    let host = Func::new_host(&store, FuncType::new([], [ValType::I32]), |_, _, out| {
        out[0] = Val::I32(7);
        Ok(())
    });
    let inst = instantiate(
        &store,
        r#"(module
            (import "host" "f" (func $f (result i32)))
            (elem declare func $f)
            (func (export "get") (result funcref) (ref.func $f)))"#,
        &[Extern::Func(host)],
    );
    let got = func(&store, inst, "get").call(&store, &[]).unwrap();
    match got.as_slice() {
        [Val::FuncRef(Some(f))] => {
            assert_eq!(*f, host);
            assert_eq!(f.call(&store, &[]).unwrap(), [Val::I32(7)]);
        }
        other => panic!("expected the imported function, got {other:?}"),
    }
}

#[test]
fn memory_copy_matches_memmove_for_every_overlap() {
    let store = Store::new();
    let inst = instantiate(
        &store,
        r#"(module
            (memory (export "mem") 1)
            (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2))))"#,
        &[],
    );
    let (copy, mem) = (func(&store, inst, "copy"), memory(&store, inst));
    let pattern: Vec<u8> = (0..128u32).map(|i| (i * 7 + 1) as u8).collect();
    for len in [0usize, 1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 64] {
        for src in [0usize, 3, 8, 32] {
            for dst in (0..48).step_by(1) {
                mem.write(&store, 0, &pattern).unwrap();
                let mut expected = pattern.clone();
                expected.copy_within(src..src + len, dst);
                call(&store, copy, &[dst as i32, src as i32, len as i32]).unwrap();
                assert_eq!(
                    bytes(&store, mem, 0, 128),
                    expected,
                    "dst {dst} src {src} len {len}"
                );
            }
        }
    }
}
