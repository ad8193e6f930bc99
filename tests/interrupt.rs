//! Stopping runaway code through the Rust API (`Store::interrupt_handle`, `Store::set_timeout`)
//! and the store's memory and table limits.

use std::time::{Duration, Instant};

use wazero::{Error, Extern, Func, FuncType, Instance, Module, Store, TrapKind, Val};

/// `spin` loops forever; `fib` is exponential tree recursion without any loop (only function
/// entries can stop it); `deep` recurses without end (a genuine stack overflow); `answer`
/// returns 42. Shared with the Python tests.
const RUNAWAY: &str = include_str!("data/runaway.wat");

fn setup(store: &Store) -> Instance {
    let host = Func::new_host(store, FuncType::new(vec![], vec![]), |_, _, _| Ok(()));
    store.instantiate(&Module::from_wat(RUNAWAY).unwrap(), &[Extern::Func(host)]).unwrap()
}

fn func(store: &Store, instance: Instance, name: &str) -> Func {
    match instance.export(store, name) {
        Some(Extern::Func(f)) => f,
        other => panic!("{name}: {other:?}"),
    }
}

fn trap_kind(r: wazero::Result<Vec<Val>>) -> TrapKind {
    match r {
        Err(Error::Trap(t)) => t.kind,
        other => panic!("expected a trap, got {other:?}"),
    }
}

/// Interrupts `store` from another thread after `after`.
fn interrupt_later(store: &Store, after: Duration) -> std::thread::JoinHandle<()> {
    let handle = store.interrupt_handle();
    std::thread::spawn(move || {
        std::thread::sleep(after);
        handle.interrupt();
    })
}

#[test]
fn interrupt_stops_a_loop_and_the_store_stays_usable() {
    let store = Store::new();
    let inst = setup(&store);
    let t = interrupt_later(&store, Duration::from_millis(50));
    assert_eq!(trap_kind(func(&store, inst, "spin").call(&store, &[])), TrapKind::Interrupted);
    t.join().unwrap();
    assert_eq!(func(&store, inst, "answer").call(&store, &[]).unwrap(), vec![Val::I32(42)]);
}

#[test]
fn interrupt_stops_loop_free_recursion() {
    let store = Store::new();
    let inst = setup(&store);
    let t = interrupt_later(&store, Duration::from_millis(50));
    // fib(100) would take far longer than the test suite.
    assert_eq!(trap_kind(func(&store, inst, "fib").call(&store, &[Val::I64(100)])), TrapKind::Interrupted);
    t.join().unwrap();
    assert_eq!(func(&store, inst, "fib").call(&store, &[Val::I64(10)]).unwrap(), vec![Val::I64(55)]);
}

#[test]
fn an_interrupt_between_calls_is_dropped() {
    let store = Store::new();
    let inst = setup(&store);
    store.interrupt_handle().interrupt();
    assert_eq!(func(&store, inst, "answer").call(&store, &[]).unwrap(), vec![Val::I32(42)]);
    assert_eq!(func(&store, inst, "fib").call(&store, &[Val::I64(20)]).unwrap(), vec![Val::I64(6765)]);
}

#[test]
fn a_real_stack_overflow_is_still_one() {
    let store = Store::new();
    let inst = setup(&store);
    assert_eq!(trap_kind(func(&store, inst, "deep").call(&store, &[])), TrapKind::StackOverflow);
}

#[test]
fn timeout_stops_loops_and_recursion() {
    let store = Store::new();
    let inst = setup(&store);
    store.set_timeout(Some(Duration::from_millis(100)));
    let start = Instant::now();
    assert_eq!(trap_kind(func(&store, inst, "spin").call(&store, &[])), TrapKind::Timeout);
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(100) && took < Duration::from_secs(5), "{took:?}");
    assert_eq!(trap_kind(func(&store, inst, "fib").call(&store, &[Val::I64(100)])), TrapKind::Timeout);
    // Short calls finish; a deadline never leaks into a later call.
    for _ in 0..1000 {
        assert_eq!(func(&store, inst, "answer").call(&store, &[]).unwrap(), vec![Val::I32(42)]);
    }
    store.set_timeout(None);
    let t = interrupt_later(&store, Duration::from_millis(300));
    assert_eq!(trap_kind(func(&store, inst, "spin").call(&store, &[])), TrapKind::Interrupted);
    t.join().unwrap();
}

#[test]
fn timeouts_of_many_stores_on_many_threads() {
    let threads: Vec<_> = (0..4u64)
        .map(|i| {
            std::thread::spawn(move || {
                let store = Store::new();
                let inst = setup(&store);
                store.set_timeout(Some(Duration::from_millis(50 + 40 * i)));
                let start = Instant::now();
                assert_eq!(trap_kind(func(&store, inst, "spin").call(&store, &[])), TrapKind::Timeout);
                start.elapsed()
            })
        })
        .collect();
    for (i, t) in threads.into_iter().enumerate() {
        let took = t.join().unwrap();
        assert!(took >= Duration::from_millis(50 + 40 * i as u64), "{i}: {took:?}");
    }
}

#[test]
fn memory_limit() {
    let store = Store::new();
    store.set_max_memory_bytes(4 * 65536);
    let m = Module::from_wat(
        r#"(module (memory (export "m") 2)
             (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
    )
    .unwrap();
    let inst = store.instantiate(&m, &[]).unwrap();
    let grow = func(&store, inst, "grow");
    assert_eq!(grow.call(&store, &[Val::I32(2)]).unwrap(), vec![Val::I32(2)]);
    assert_eq!(grow.call(&store, &[Val::I32(1)]).unwrap(), vec![Val::I32(-1)]);
    let big = Module::from_wat("(module (memory 5 10))").unwrap();
    let e = store.instantiate(&big, &[]).unwrap_err().to_string();
    assert!(e.contains("max_memory_bytes=262144") && e.contains("5 pages"), "{e}");
}

#[test]
fn table_limit() {
    let store = Store::new();
    store.set_max_table_elements(10);
    let m = Module::from_wat(
        r#"(module (table 4 funcref)
             (func (export "grow") (param i32) (result i32) (table.grow (ref.null func) (local.get 0))))"#,
    )
    .unwrap();
    let inst = store.instantiate(&m, &[]).unwrap();
    let grow = func(&store, inst, "grow");
    assert_eq!(grow.call(&store, &[Val::I32(6)]).unwrap(), vec![Val::I32(4)]);
    assert_eq!(grow.call(&store, &[Val::I32(1)]).unwrap(), vec![Val::I32(-1)]);
    let big = Module::from_wat("(module (table 11 funcref))").unwrap();
    let e = store.instantiate(&big, &[]).unwrap_err().to_string();
    assert!(e.contains("max_table_elements=10"), "{e}");
}
