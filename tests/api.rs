//! Tests of the public Rust API: modules, instances, calls, host functions, memories, tables,
//! globals, linking and traps.

use std::cell::Cell;
use std::rc::Rc;

use wazero::{
    Error, Extern, Func, FuncType, Global, GlobalType, Instance, Memory, MemoryType, Module, Store,
    Table, TableType, TrapKind, Val, ValType,
};

fn module(wat: &str) -> Module {
    Module::from_wat(wat).unwrap_or_else(|e| panic!("module should compile: {e}"))
}

fn instantiate(store: &Store, wat: &str, imports: &[Extern]) -> Instance {
    store
        .instantiate(&module(wat), imports)
        .unwrap_or_else(|e| panic!("instantiation failed: {e}"))
}

fn func(store: &Store, instance: Instance, name: &str) -> Func {
    match instance.export(store, name) {
        Some(Extern::Func(f)) => f,
        other => panic!("export {name:?} should be a function, got {other:?}"),
    }
}

fn memory(store: &Store, instance: Instance, name: &str) -> Memory {
    match instance.export(store, name) {
        Some(Extern::Memory(m)) => m,
        other => panic!("export {name:?} should be a memory, got {other:?}"),
    }
}

fn global(store: &Store, instance: Instance, name: &str) -> Global {
    match instance.export(store, name) {
        Some(Extern::Global(g)) => g,
        other => panic!("export {name:?} should be a global, got {other:?}"),
    }
}

fn table(store: &Store, instance: Instance, name: &str) -> Table {
    match instance.export(store, name) {
        Some(Extern::Table(t)) => t,
        other => panic!("export {name:?} should be a table, got {other:?}"),
    }
}

fn call(store: &Store, f: Func, args: &[Val]) -> Vec<Val> {
    f.call(store, args)
        .unwrap_or_else(|e| panic!("call failed: {e}"))
}

fn trap_kind(result: wazero::Result<Vec<Val>>) -> TrapKind {
    match result {
        Err(Error::Trap(t)) => t.kind,
        Err(e) => panic!("expected a trap, got error {e}"),
        Ok(v) => panic!("expected a trap, got {v:?}"),
    }
}

fn assert_link_error<T: std::fmt::Debug>(result: wazero::Result<T>) {
    match result {
        Err(Error::Link(_)) => {}
        other => panic!("expected a link error, got {other:?}"),
    }
}

fn assert_usage_error<T: std::fmt::Debug>(result: wazero::Result<T>) {
    match result {
        Err(Error::Usage(_)) => {}
        other => panic!("expected a usage error, got {other:?}"),
    }
}

#[test]
fn call_exports_of_all_value_types() {
    let store = Store::new();
    let inst = instantiate(
        &store,
        r#"(module
            (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
            (func (export "mul64") (param i64 i64) (result i64) (i64.mul (local.get 0) (local.get 1)))
            (func (export "neg32") (param f32) (result f32) (f32.neg (local.get 0)))
            (func (export "sqrt64") (param f64) (result f64) (f64.sqrt (local.get 0)))
            (func (export "swap") (param i32 i64) (result i64 i32) (local.get 1) (local.get 0))
            (func (export "nothing")))"#,
        &[],
    );
    assert_eq!(
        call(
            &store,
            func(&store, inst, "add"),
            &[Val::I32(40), Val::I32(2)]
        ),
        [Val::I32(42)]
    );
    assert_eq!(
        call(
            &store,
            func(&store, inst, "add"),
            &[Val::I32(i32::MAX), Val::I32(1)]
        ),
        [Val::I32(i32::MIN)]
    );
    assert_eq!(
        call(
            &store,
            func(&store, inst, "mul64"),
            &[Val::I64(1 << 40), Val::I64(3)]
        ),
        [Val::I64(3 << 40)]
    );
    // f32.neg only flips the sign bit, NaN payload included.
    assert_eq!(
        call(
            &store,
            func(&store, inst, "neg32"),
            &[Val::F32(0x7fa0_0001)]
        ),
        [Val::F32(0xffa0_0001)]
    );
    assert_eq!(
        call(
            &store,
            func(&store, inst, "sqrt64"),
            &[Val::F64(16f64.to_bits())]
        ),
        [Val::F64(4f64.to_bits())]
    );
    assert_eq!(
        call(
            &store,
            func(&store, inst, "swap"),
            &[Val::I32(7), Val::I64(-9)]
        ),
        [Val::I64(-9), Val::I32(7)]
    );
    assert_eq!(call(&store, func(&store, inst, "nothing"), &[]), []);
    assert_eq!(
        func(&store, inst, "swap").ty(&store).unwrap(),
        FuncType::new([ValType::I32, ValType::I64], [ValType::I64, ValType::I32])
    );
}

#[test]
fn reference_values_round_trip() {
    let store = Store::new();
    let inst = instantiate(
        &store,
        r#"(module
            (func (export "ext") (param externref) (result externref) (local.get 0))
            (func (export "is_null") (param externref) (result i32) (ref.is_null (local.get 0)))
            (func $f (export "f") (result i32) (i32.const 5))
            (func (export "fref") (result funcref) (ref.func $f)))"#,
        &[],
    );
    for handle in [Some(0), Some(1), Some(u64::from(u32::MAX) + 1), Some(u64::MAX - 1), None] {
        assert_eq!(
            call(&store, func(&store, inst, "ext"), &[Val::ExternRef(handle)]),
            [Val::ExternRef(handle)]
        );
        let null = i32::from(handle.is_none());
        assert_eq!(
            call(&store, func(&store, inst, "is_null"), &[Val::ExternRef(handle)]),
            [Val::I32(null)]
        );
    }
    // u64::MAX is the one handle that cannot be represented: a clear error, never a null.
    assert_usage_error(func(&store, inst, "ext").call(&store, &[Val::ExternRef(Some(u64::MAX))]));
    let f = func(&store, inst, "f");
    match call(&store, func(&store, inst, "fref"), &[]).as_slice() {
        [Val::FuncRef(Some(r))] => assert_eq!(call(&store, *r, &[]), [Val::I32(5)]),
        other => panic!("expected a non-null funcref, got {other:?}"),
    }
    assert_eq!(call(&store, f, &[]), [Val::I32(5)]);
}

#[test]
#[ignore = "SIMD (v128) is not compiled yet: issue #5 turns this on"]
fn v128_values_round_trip() {
    let store = Store::new();
    let inst = instantiate(
        &store,
        r#"(module
            (func (export "v") (param v128) (result v128) (i32x4.add (local.get 0) (local.get 0))))"#,
        &[],
    );
    let lanes = |l: [u32; 4]| Val::V128(l.iter().rev().fold(0u128, |acc, x| (acc << 32) | u128::from(*x)));
    assert_eq!(
        call(&store, func(&store, inst, "v"), &[lanes([1, 2, 3, u32::MAX])]),
        [lanes([2, 4, 6, u32::MAX - 1])]
    );
}

#[test]
fn wrong_arguments_are_usage_errors() {
    let store = Store::new();
    let inst = instantiate(
        &store,
        r#"(module (func (export "f") (param i32 f64) (result i32) (local.get 0)))"#,
        &[],
    );
    let f = func(&store, inst, "f");
    assert_usage_error(f.call(&store, &[]));
    assert_usage_error(f.call(&store, &[Val::I32(1)]));
    assert_usage_error(f.call(&store, &[Val::I32(1), Val::F64(0), Val::I32(2)]));
    assert_usage_error(f.call(&store, &[Val::I64(1), Val::F64(0)]));
    assert_usage_error(f.call(&store, &[Val::I32(1), Val::F32(0)]));
    assert_usage_error(f.call(&store, &[Val::I32(1), Val::ExternRef(None)]));
    // The function is still fine afterwards.
    assert_eq!(call(&store, f, &[Val::I32(3), Val::F64(0)]), [Val::I32(3)]);
}

#[test]
fn unknown_export_is_none() {
    let store = Store::new();
    let inst = instantiate(
        &store,
        r#"(module (func (export "f")) (memory (export "m") 1))"#,
        &[],
    );
    assert!(inst.export(&store, "g").is_none());
    assert!(inst.export(&store, "").is_none());
    assert!(inst.export(&store, "F").is_none());
    assert!(matches!(inst.export(&store, "f"), Some(Extern::Func(_))));
    let names: Vec<String> = inst.exports(&store).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["f", "m"]);
}

#[test]
fn traps_are_reported_and_the_instance_keeps_working() {
    let store = Store::new();
    let inst = instantiate(
        &store,
        r#"(module
            (memory 1)
            (table 2 funcref)
            (elem (i32.const 0) $ok)
            (type $v (func))
            (func $ok (result i32) (i32.const 1))
            (func (export "ok") (result i32) (call $ok))
            (func (export "unreachable") (unreachable))
            (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
            (func (export "trunc") (param f32) (result i32) (i32.trunc_f32_s (local.get 0)))
            (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
            (func (export "indirect") (param i32) (call_indirect (type $v) (local.get 0))))"#,
        &[],
    );
    let ok = func(&store, inst, "ok");
    let div = func(&store, inst, "div");
    assert_eq!(
        trap_kind(func(&store, inst, "unreachable").call(&store, &[])),
        TrapKind::Unreachable
    );
    assert_eq!(call(&store, ok, &[]), [Val::I32(1)]);
    assert_eq!(
        trap_kind(div.call(&store, &[Val::I32(1), Val::I32(0)])),
        TrapKind::IntegerDivideByZero
    );
    assert_eq!(
        trap_kind(div.call(&store, &[Val::I32(i32::MIN), Val::I32(-1)])),
        TrapKind::IntegerOverflow
    );
    assert_eq!(
        call(&store, div, &[Val::I32(-7), Val::I32(2)]),
        [Val::I32(-3)]
    );
    let trunc = func(&store, inst, "trunc");
    assert_eq!(
        trap_kind(trunc.call(&store, &[Val::F32(f32::NAN.to_bits())])),
        TrapKind::InvalidConversion
    );
    assert_eq!(
        trap_kind(trunc.call(&store, &[Val::F32(3e9f32.to_bits())])),
        TrapKind::IntegerOverflow
    );
    let load = func(&store, inst, "load");
    assert_eq!(
        trap_kind(load.call(&store, &[Val::I32(65533)])),
        TrapKind::MemoryOutOfBounds
    );
    assert_eq!(
        trap_kind(load.call(&store, &[Val::I32(-1)])),
        TrapKind::MemoryOutOfBounds
    );
    assert_eq!(call(&store, load, &[Val::I32(65532)]), [Val::I32(0)]);
    let indirect = func(&store, inst, "indirect");
    assert_eq!(
        trap_kind(indirect.call(&store, &[Val::I32(0)])),
        TrapKind::IndirectCallTypeMismatch
    );
    assert_eq!(
        trap_kind(indirect.call(&store, &[Val::I32(1)])),
        TrapKind::UninitializedElement
    );
    assert_eq!(
        trap_kind(indirect.call(&store, &[Val::I32(2)])),
        TrapKind::UndefinedElement
    );
    assert_eq!(call(&store, ok, &[]), [Val::I32(1)]);
}

#[test]
fn raw_host_function_works_on_the_argument_area() {
    let store = Store::new();
    // (i32, i64, f64) -> (i64, f32): params in slots 0, 1, 2; results in slots 0, 1.
    let ty = FuncType::new([ValType::I32, ValType::I64, ValType::F64], [ValType::I64, ValType::F32]);
    let host = Func::new_host_raw(&store, ty, |_, slots| {
        assert_eq!(slots.len(), 3);
        let a = slots[0] as u32 as i32;
        let b = slots[1] as i64;
        let c = f64::from_bits(slots[2]);
        slots[0] = (i64::from(a) + b) as u64;
        slots[1] = ((c * 2.0) as f32).to_bits() as u64;
        Ok(())
    });
    let inst = instantiate(
        &store,
        r#"(module
            (import "env" "f" (func $f (param i32 i64 f64) (result i64 f32)))
            (func (export "run") (result i64 f32)
                (call $f (i32.const -3) (i64.const 10) (f64.const 1.25))))"#,
        &[Extern::Func(host)],
    );
    assert_eq!(
        call(&store, func(&store, inst, "run"), &[]),
        [Val::I64(7), Val::F32(2.5f32.to_bits())]
    );
}

#[test]
fn host_function_is_called_from_wasm() {
    let store = Store::new();
    let seen = Rc::new(Cell::new(0i64));
    let seen2 = seen.clone();
    let host = Func::new_host(
        &store,
        FuncType::new([ValType::I32, ValType::I64], [ValType::I64]),
        move |_, args, results| {
            let (Val::I32(a), Val::I64(b)) = (args[0], args[1]) else {
                panic!("bad args {args:?}")
            };
            seen2.set(seen2.get() + 1);
            results[0] = Val::I64(i64::from(a) * b);
            Ok(())
        },
    );
    assert_eq!(
        host.ty(&store).unwrap(),
        FuncType::new([ValType::I32, ValType::I64], [ValType::I64])
    );
    let inst = instantiate(
        &store,
        r#"(module
            (import "env" "mul" (func $mul (param i32 i64) (result i64)))
            (func (export "twice") (param i32) (result i64)
                (i64.add (call $mul (local.get 0) (i64.const 10)) (call $mul (local.get 0) (i64.const 1)))))"#,
        &[Extern::Func(host)],
    );
    assert_eq!(
        call(&store, func(&store, inst, "twice"), &[Val::I32(3)]),
        [Val::I64(33)]
    );
    assert_eq!(seen.get(), 2);
    // A host function can also be called directly.
    assert_eq!(
        call(&store, host, &[Val::I32(2), Val::I64(5)]),
        [Val::I64(10)]
    );
    assert_eq!(seen.get(), 3);
}

#[test]
fn host_function_can_call_back_into_wasm() {
    let store = Store::new();
    let callee: Rc<Cell<Option<Func>>> = Rc::new(Cell::new(None));
    let callee2 = callee.clone();
    let host = Func::new_host(
        &store,
        FuncType::new([ValType::I32], [ValType::I32]),
        move |store, args, results| {
            let f = callee2.get().expect("callee set before the call");
            let r = f.call(store, &[args[0]])?;
            results[0] = r[0];
            Ok(())
        },
    );
    let inst = instantiate(
        &store,
        r#"(module
            (import "env" "host" (func $host (param i32) (result i32)))
            (func (export "double") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
            (func (export "run") (param i32) (result i32) (i32.add (call $host (local.get 0)) (i32.const 1))))"#,
        &[Extern::Func(host)],
    );
    callee.set(Some(func(&store, inst, "double")));
    assert_eq!(
        call(&store, func(&store, inst, "run"), &[Val::I32(20)]),
        [Val::I32(41)]
    );
}

#[derive(Debug, PartialEq)]
struct HostFailure(&'static str, u32);

#[test]
fn host_error_propagates_unchanged() {
    let store = Store::new();
    let host = Func::new_host(&store, FuncType::new([], []), |_, _, _| {
        Err(Error::Host(Box::new(HostFailure("boom", 7))))
    });
    let inst = instantiate(
        &store,
        r#"(module
            (import "env" "fail" (func $fail))
            (global $after (mut i32) (i32.const 0))
            (func (export "run") (call $fail) (global.set $after (i32.const 1)))
            (func (export "after") (result i32) (global.get $after)))"#,
        &[Extern::Func(host)],
    );
    match func(&store, inst, "run").call(&store, &[]) {
        Err(Error::Host(payload)) => {
            assert_eq!(
                payload.downcast_ref::<HostFailure>(),
                Some(&HostFailure("boom", 7))
            )
        }
        other => panic!("expected the host error, got {other:?}"),
    }
    // The Wasm code after the failing call did not run, and the instance still works.
    assert_eq!(
        call(&store, func(&store, inst, "after"), &[]),
        [Val::I32(0)]
    );
}

#[test]
fn memory_read_write_grow() {
    let store = Store::new();
    let inst = instantiate(
        &store,
        r#"(module
            (memory (export "mem") 1 3)
            (data (i32.const 8) "\01\02\03\04")
            (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
            (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
            (func (export "size") (result i32) (memory.size))
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
        &[],
    );
    let mem = memory(&store, inst, "mem");
    assert_eq!(
        mem.ty(&store).unwrap(),
        MemoryType {
            min: 1,
            max: Some(3)
        }
    );
    assert_eq!(mem.size(&store).unwrap(), 1);
    assert_eq!(mem.data_size(&store).unwrap(), 65536);

    let mut buf = [0u8; 6];
    mem.read(&store, 7, &mut buf).unwrap();
    assert_eq!(buf, [0, 1, 2, 3, 4, 0]);

    mem.write(&store, 100, &0x1122_3344u32.to_le_bytes())
        .unwrap();
    assert_eq!(
        call(&store, func(&store, inst, "load"), &[Val::I32(100)]),
        [Val::I32(0x1122_3344)]
    );
    call(
        &store,
        func(&store, inst, "store"),
        &[Val::I32(200), Val::I32(-2)],
    );
    let mut word = [0u8; 4];
    mem.read(&store, 200, &mut word).unwrap();
    assert_eq!(i32::from_le_bytes(word), -2);

    assert_usage_error(mem.read(&store, 65533, &mut word));
    assert_usage_error(mem.write(&store, 65536, &[1]));
    assert_usage_error(mem.read(&store, usize::MAX, &mut word));

    assert_eq!(mem.grow(&store, 1).unwrap(), 1);
    assert_eq!(mem.size(&store).unwrap(), 2);
    assert_eq!(mem.data_size(&store).unwrap(), 2 * 65536);
    assert_eq!(call(&store, func(&store, inst, "size"), &[]), [Val::I32(2)]);
    // New pages are zeroed and reachable from Wasm.
    assert_eq!(
        call(&store, func(&store, inst, "load"), &[Val::I32(65536 + 16)]),
        [Val::I32(0)]
    );
    mem.write(&store, 2 * 65536 - 4, &[9, 9, 9, 9]).unwrap();

    assert!(
        mem.grow(&store, 2).is_err(),
        "growing past the maximum must fail"
    );
    assert_eq!(mem.size(&store).unwrap(), 2);
    assert_eq!(
        call(&store, func(&store, inst, "grow"), &[Val::I32(1)]),
        [Val::I32(2)]
    );
    assert_eq!(mem.size(&store).unwrap(), 3);
    assert_eq!(
        call(&store, func(&store, inst, "grow"), &[Val::I32(1)]),
        [Val::I32(-1)]
    );
}

#[test]
fn globals_get_set_and_immutability() {
    let store = Store::new();
    let inst = instantiate(
        &store,
        r#"(module
            (global (export "counter") (mut i64) (i64.const 5))
            (global (export "const") f32 (f32.const 1.5))
            (func (export "bump") (global.set 0 (i64.add (global.get 0) (i64.const 1))))
            (func (export "read") (result i64) (global.get 0)))"#,
        &[],
    );
    let counter = global(&store, inst, "counter");
    assert_eq!(
        counter.ty(&store).unwrap(),
        GlobalType {
            content: ValType::I64,
            mutable: true
        }
    );
    assert_eq!(counter.get(&store).unwrap(), Val::I64(5));
    call(&store, func(&store, inst, "bump"), &[]);
    assert_eq!(counter.get(&store).unwrap(), Val::I64(6));
    counter.set(&store, Val::I64(-100)).unwrap();
    assert_eq!(
        call(&store, func(&store, inst, "read"), &[]),
        [Val::I64(-100)]
    );
    assert_usage_error(counter.set(&store, Val::I32(1)));
    assert_eq!(counter.get(&store).unwrap(), Val::I64(-100));

    let constant = global(&store, inst, "const");
    assert_eq!(
        constant.ty(&store).unwrap(),
        GlobalType {
            content: ValType::F32,
            mutable: false
        }
    );
    assert_eq!(constant.get(&store).unwrap(), Val::F32(1.5f32.to_bits()));
    assert_usage_error(constant.set(&store, Val::F32(2.0f32.to_bits())));
    assert_eq!(constant.get(&store).unwrap(), Val::F32(1.5f32.to_bits()));

    // Host-created globals.
    let host = Global::new(
        &store,
        GlobalType {
            content: ValType::I32,
            mutable: true,
        },
        Val::I32(3),
    )
    .unwrap();
    host.set(&store, Val::I32(4)).unwrap();
    assert_eq!(host.get(&store).unwrap(), Val::I32(4));
    assert!(Global::new(
        &store,
        GlobalType {
            content: ValType::I32,
            mutable: false
        },
        Val::I64(3)
    )
    .is_err());
}

#[test]
fn start_function_runs_at_instantiation() {
    let store = Store::new();
    let inst = instantiate(
        &store,
        r#"(module
            (global $g (export "g") (mut i32) (i32.const 0))
            (memory (export "mem") 1)
            (func $start (global.set $g (i32.const 42)) (i32.store8 (i32.const 3) (i32.const 7)))
            (start $start))"#,
        &[],
    );
    assert_eq!(global(&store, inst, "g").get(&store).unwrap(), Val::I32(42));
    let mut b = [0u8; 1];
    memory(&store, inst, "mem").read(&store, 3, &mut b).unwrap();
    assert_eq!(b, [7]);

    let trapping = module(r#"(module (func $s (unreachable)) (start $s))"#);
    match store.instantiate(&trapping, &[]) {
        Err(Error::Trap(t)) => assert_eq!(t.kind, TrapKind::Unreachable),
        other => panic!("expected the start function to trap, got {other:?}"),
    }
}

#[test]
fn linking_memories_tables_globals_and_functions() {
    let store = Store::new();
    let provider = instantiate(
        &store,
        r#"(module
            (memory (export "mem") 1)
            (table (export "tab") 4 funcref)
            (global (export "g") (mut i32) (i32.const 10))
            (type $r (func (result i32)))
            (func (export "seven") (result i32) (i32.const 7))
            (func (export "call_slot") (param i32) (result i32) (call_indirect (type $r) (local.get 0)))
            (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0)))
            (func (export "get_g") (result i32) (global.get 0)))"#,
        &[],
    );
    let exports: Vec<Extern> = ["mem", "tab", "g", "seven"]
        .iter()
        .map(|n| provider.export(&store, n).unwrap())
        .collect();
    let user = instantiate(
        &store,
        r#"(module
            (import "p" "mem" (memory 1))
            (import "p" "tab" (table 2 funcref))
            (import "p" "g" (global $g (mut i32)))
            (import "p" "seven" (func $seven (result i32)))
            (func $eight (result i32) (i32.add (call $seven) (i32.const 1)))
            (elem (i32.const 1) $eight $seven)
            (data (i32.const 5) "\2a")
            (func (export "set_g") (param i32) (global.set $g (local.get 0))))"#,
        &exports,
    );
    // The data segment wrote into the provider's memory, the element segment into its table.
    assert_eq!(
        call(&store, func(&store, provider, "peek"), &[Val::I32(5)]),
        [Val::I32(42)]
    );
    let call_slot = func(&store, provider, "call_slot");
    assert_eq!(call(&store, call_slot, &[Val::I32(1)]), [Val::I32(8)]);
    assert_eq!(call(&store, call_slot, &[Val::I32(2)]), [Val::I32(7)]);
    assert_eq!(
        trap_kind(call_slot.call(&store, &[Val::I32(0)])),
        TrapKind::UninitializedElement
    );
    // The global is shared.
    call(&store, func(&store, user, "set_g"), &[Val::I32(99)]);
    assert_eq!(
        call(&store, func(&store, provider, "get_g"), &[]),
        [Val::I32(99)]
    );

    // The table is visible through the API too.
    let tab = table(&store, provider, "tab");
    assert_eq!(tab.size(&store).unwrap(), 4);
    assert!(matches!(tab.get(&store, 1), Ok(Val::FuncRef(Some(_)))));
    assert_eq!(tab.get(&store, 0).unwrap(), Val::FuncRef(None));
    assert_usage_error(tab.get(&store, 4));
    tab.set(
        &store,
        0,
        Val::FuncRef(Some(func(&store, provider, "seven"))),
    )
    .unwrap();
    assert_eq!(call(&store, call_slot, &[Val::I32(0)]), [Val::I32(7)]);
}

#[test]
fn host_memory_table_and_global_can_be_imported() {
    let store = Store::new();
    let mem = Memory::new(
        &store,
        MemoryType {
            min: 1,
            max: Some(2),
        },
    )
    .unwrap();
    let tab = Table::new(
        &store,
        TableType {
            element: ValType::FuncRef,
            min: 2,
            max: None,
        },
        Val::FuncRef(None),
    )
    .unwrap();
    let g = Global::new(
        &store,
        GlobalType {
            content: ValType::F64,
            mutable: false,
        },
        Val::F64(2.5f64.to_bits()),
    )
    .unwrap();
    mem.write(&store, 0, &[0x11]).unwrap();
    let inst = instantiate(
        &store,
        r#"(module
            (import "h" "mem" (memory 1 2))
            (import "h" "tab" (table 2 funcref))
            (import "h" "g" (global f64))
            (func $f (result f64) (global.get 0))
            (elem (i32.const 0) $f)
            (func (export "load") (result i32) (i32.load8_u (i32.const 0)))
            (func (export "grow") (result i32) (memory.grow (i32.const 1))))"#,
        &[Extern::Memory(mem), Extern::Table(tab), Extern::Global(g)],
    );
    assert_eq!(
        call(&store, func(&store, inst, "load"), &[]),
        [Val::I32(0x11)]
    );
    assert_eq!(call(&store, func(&store, inst, "grow"), &[]), [Val::I32(1)]);
    assert_eq!(mem.size(&store).unwrap(), 2);
    match tab.get(&store, 0) {
        Ok(Val::FuncRef(Some(f))) => assert_eq!(call(&store, f, &[]), [Val::F64(2.5f64.to_bits())]),
        other => panic!("expected the element segment's function, got {other:?}"),
    }
}

#[test]
fn missing_or_mismatched_imports_are_link_errors() {
    let store = Store::new();
    let importer = module(
        r#"(module
            (import "m" "f" (func (param i32) (result i32)))
            (import "m" "g" (global (mut i64)))
            (import "m" "mem" (memory 2))
            (import "m" "tab" (table 1 funcref)))"#,
    );
    let good_f = Func::new_host(
        &store,
        FuncType::new([ValType::I32], [ValType::I32]),
        |_, a, r| {
            r[0] = a[0];
            Ok(())
        },
    );
    let bad_f = Func::new_host(
        &store,
        FuncType::new([ValType::I64], [ValType::I32]),
        |_, _, _| Ok(()),
    );
    let good_g = Global::new(
        &store,
        GlobalType {
            content: ValType::I64,
            mutable: true,
        },
        Val::I64(0),
    )
    .unwrap();
    let immutable_g = Global::new(
        &store,
        GlobalType {
            content: ValType::I64,
            mutable: false,
        },
        Val::I64(0),
    )
    .unwrap();
    let i32_g = Global::new(
        &store,
        GlobalType {
            content: ValType::I32,
            mutable: true,
        },
        Val::I32(0),
    )
    .unwrap();
    let good_mem = Memory::new(&store, MemoryType { min: 2, max: None }).unwrap();
    let small_mem = Memory::new(&store, MemoryType { min: 1, max: None }).unwrap();
    let good_tab = Table::new(
        &store,
        TableType {
            element: ValType::FuncRef,
            min: 1,
            max: None,
        },
        Val::FuncRef(None),
    )
    .unwrap();
    let extern_tab = Table::new(
        &store,
        TableType {
            element: ValType::ExternRef,
            min: 1,
            max: None,
        },
        Val::ExternRef(None),
    )
    .unwrap();

    let good = [
        Extern::Func(good_f),
        Extern::Global(good_g),
        Extern::Memory(good_mem),
        Extern::Table(good_tab),
    ];
    store
        .instantiate(&importer, &good)
        .expect("matching imports link");

    // Missing imports.
    assert_link_error(store.instantiate(&importer, &[]));
    assert_link_error(store.instantiate(&importer, &good[..3]));
    // Each import mismatched in turn.
    let mismatches = [
        (0, Extern::Func(bad_f)),
        (0, Extern::Memory(good_mem)),
        (1, Extern::Global(immutable_g)),
        (1, Extern::Global(i32_g)),
        (2, Extern::Memory(small_mem)),
        (2, Extern::Table(good_tab)),
        (3, Extern::Table(extern_tab)),
        (3, Extern::Func(good_f)),
    ];
    for (slot, wrong) in mismatches {
        let mut imports = good;
        imports[slot] = wrong;
        assert_link_error(store.instantiate(&importer, &imports));
    }
}

#[test]
fn invalid_modules_are_compile_errors() {
    for wat in [
        r#"(module (func (result i32) (i64.const 0)))"#,
        r#"(module (func (local.get 0)))"#,
        r#"(module (func (call 5)))"#,
    ] {
        assert!(
            matches!(Module::from_wat(wat), Err(Error::Compile { .. })),
            "{wat} must not compile"
        );
    }
    assert!(matches!(
        Module::new(b"\0asm\x02\0\0\0"),
        Err(Error::Compile { .. })
    ));
    assert!(matches!(
        Module::new(b"not wasm"),
        Err(Error::Compile { .. })
    ));
    assert!(
        Module::new(b"\0asm\x01\0\0\0").is_ok(),
        "the empty module is valid"
    );
}

#[test]
fn deep_recursion_is_a_stack_overflow_trap() {
    // Run on a thread with a small stack: the runtime must respect the thread's real bounds.
    let result = std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(|| {
            let store = Store::new();
            let inst = instantiate(
                &store,
                r#"(module
                    (func $inf (export "inf") (param i64) (result i64)
                        (i64.add (call $inf (i64.add (local.get 0) (i64.const 1))) (i64.const 1)))
                    (func $fac (export "fac") (param i64) (result i64)
                        (if (result i64) (i64.eqz (local.get 0))
                            (then (i64.const 1))
                            (else (i64.mul (local.get 0) (call $fac (i64.sub (local.get 0) (i64.const 1))))))))"#,
                &[],
            );
            let overflow = trap_kind(func(&store, inst, "inf").call(&store, &[Val::I64(0)]));
            // The store is usable after unwinding from the overflow, and moderate recursion works.
            let fac = call(&store, func(&store, inst, "fac"), &[Val::I64(20)]);
            let again = trap_kind(func(&store, inst, "inf").call(&store, &[Val::I64(0)]));
            (overflow, fac, again)
        })
        .expect("spawn")
        .join()
        .expect("the thread must not crash");
    assert_eq!(result.0, TrapKind::StackOverflow);
    assert_eq!(result.1, [Val::I64(2_432_902_008_176_640_000)]);
    assert_eq!(result.2, TrapKind::StackOverflow);
}

#[test]
fn max_wasm_stack_bounds_recursion_depth() {
    let result = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(|| {
            let store = Store::new();
            let inst = instantiate(
                &store,
                r#"(module
                    (func $depth (export "depth") (param i32) (result i32)
                        (if (result i32) (i32.eqz (local.get 0))
                            (then (i32.const 0))
                            (else (i32.add (call $depth (i32.sub (local.get 0) (i32.const 1)))
                                           (i32.const 1))))))"#,
                &[],
            );
            let depth = func(&store, inst, "depth");
            // 4000 frames fit the default 1 MiB budget...
            let deep = depth
                .call(&store, &[Val::I32(4000)])
                .map_err(|e| e.to_string());
            // ...but not 32 KiB: every frame takes at least a return address and a saved word.
            store.set_max_wasm_stack(32 << 10);
            let limited = trap_kind(depth.call(&store, &[Val::I32(4000)]));
            let shallow = depth
                .call(&store, &[Val::I32(10)])
                .map_err(|e| e.to_string());
            (deep, limited, shallow)
        })
        .expect("spawn")
        .join()
        .expect("the thread must not crash");
    assert_eq!(result.0, Ok(vec![Val::I32(4000)]));
    assert_eq!(result.1, TrapKind::StackOverflow);
    assert_eq!(result.2, Ok(vec![Val::I32(10)]));
}
