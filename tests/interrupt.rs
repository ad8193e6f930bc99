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

/// Live values in registers and frame slots of every class (i64, i32, f64, f32, v128)
/// across a loop header: a yield there must preserve all of them.
const MIX: &str = r#"
(module
  (func (export "mix") (param $n i32) (result i64)
    (local $a i64) (local $b i64) (local $c i32) (local $x f64) (local $y f32) (local $v v128)
    (local.set $a (i64.const 1))
    (local.set $x (f64.const 0.5))
    (local.set $y (f32.const 1.5))
    (local.set $v (v128.const i32x4 1 2 3 4))
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $a (i64.add (i64.mul (local.get $a) (i64.const 6364136223846793005))
                               (i64.extend_i32_u (local.get $n))))
        (local.set $b (i64.xor (local.get $b) (i64.shr_u (local.get $a) (i64.const 17))))
        (local.set $c (i32.add (local.get $c) (i32.wrap_i64 (local.get $b))))
        (local.set $x (f64.add (f64.mul (local.get $x) (f64.const 0.999999))
                               (f64.convert_i32_u (i32.and (local.get $n) (i32.const 7)))))
        (local.set $y (f32.add (local.get $y) (f32.const 0.25)))
        (local.set $v (i32x4.add (local.get $v) (i32x4.splat (local.get $c))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (i64.add (i64.add (local.get $a) (local.get $b))
      (i64.add (i64.extend_i32_u (local.get $c))
        (i64.add (i64.trunc_sat_f64_s (f64.mul (local.get $x) (f64.const 1000)))
          (i64.add (i64.trunc_sat_f32_s (local.get $y))
                   (i64.extend_i32_u (i32x4.extract_lane 2 (local.get $v)))))))))
"#;

static YIELDS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

extern "C" fn count_yield() {
    YIELDS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    // A real hook (CPython's PyEval_SaveThread) may overwrite every caller-saved register:
    // do so, so that the test fails if the yield entry forgets one.
    #[cfg(target_arch = "x86_64")]
    // SAFETY: writes only registers declared as clobbered; no memory or stack access.
    unsafe {
        std::arch::asm!(
            "mov rax, -1", "mov rcx, -1", "mov rdx, -1", "mov rsi, -1", "mov rdi, -1",
            "mov r8, -1", "mov r9, -1", "mov r10, -1", "mov r11, -1",
            "pcmpeqd xmm0, xmm0", "pcmpeqd xmm1, xmm1", "pcmpeqd xmm2, xmm2", "pcmpeqd xmm3, xmm3",
            "pcmpeqd xmm4, xmm4", "pcmpeqd xmm5, xmm5", "pcmpeqd xmm6, xmm6", "pcmpeqd xmm7, xmm7",
            "pcmpeqd xmm8, xmm8", "pcmpeqd xmm9, xmm9", "pcmpeqd xmm10, xmm10", "pcmpeqd xmm11, xmm11",
            "pcmpeqd xmm12, xmm12", "pcmpeqd xmm13, xmm13", "pcmpeqd xmm14, xmm14", "pcmpeqd xmm15, xmm15",
            out("rax") _, out("rcx") _, out("rdx") _, out("rsi") _, out("rdi") _,
            out("r8") _, out("r9") _, out("r10") _, out("r11") _,
            out("xmm0") _, out("xmm1") _, out("xmm2") _, out("xmm3") _, out("xmm4") _, out("xmm5") _,
            out("xmm6") _, out("xmm7") _, out("xmm8") _, out("xmm9") _, out("xmm10") _, out("xmm11") _,
            out("xmm12") _, out("xmm13") _, out("xmm14") _, out("xmm15") _,
            options(nomem, nostack),
        );
    }
}

/// Calls `f` while another thread requests a yield every 100 µs; returns its result.
fn with_yield_requests<T>(store: &Store, f: impl FnOnce() -> T) -> T {
    let handle = store.interrupt_handle();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let t = std::thread::spawn(move || {
        while !stop2.load(std::sync::atomic::Ordering::SeqCst) {
            handle.request_yield();
            std::thread::sleep(Duration::from_micros(100));
        }
    });
    let r = f();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    t.join().unwrap();
    r
}

#[test]
fn yields_resume_loops_and_calls_with_every_value_intact() {
    let store = Store::new();
    if !store.set_yield_hook(count_yield) {
        return; // this ISA's code cannot resume after a yield: none is ever requested
    }
    let mix = store.instantiate(&Module::from_wat(MIX).unwrap(), &[]).unwrap();
    let mix = func(&store, mix, "mix");
    let n = Val::I32(30_000_000);
    let expected = mix.call(&store, std::slice::from_ref(&n)).unwrap();
    let before = YIELDS.load(std::sync::atomic::Ordering::SeqCst);
    let got = with_yield_requests(&store, || mix.call(&store, std::slice::from_ref(&n)).unwrap());
    assert_eq!(got, expected);
    let after_loop = YIELDS.load(std::sync::atomic::Ordering::SeqCst);
    assert!(after_loop > before, "no yield ran during the loop");

    // Loop-free recursion yields at function entries.
    let inst = setup(&store);
    let fib = func(&store, inst, "fib");
    let got = with_yield_requests(&store, || fib.call(&store, &[Val::I64(32)]).unwrap());
    assert_eq!(got, vec![Val::I64(2_178_309)]);
    assert!(YIELDS.load(std::sync::atomic::Ordering::SeqCst) > after_loop, "no yield ran during fib");

    // Interrupts and deadlines still stop a call that also gets yield requests.
    let t = interrupt_later(&store, Duration::from_millis(50));
    let r = with_yield_requests(&store, || func(&store, inst, "spin").call(&store, &[]));
    assert_eq!(trap_kind(r), TrapKind::Interrupted);
    t.join().unwrap();
    store.set_timeout(Some(Duration::from_millis(50)));
    let r = with_yield_requests(&store, || fib.call(&store, &[Val::I64(100)]));
    assert_eq!(trap_kind(r), TrapKind::Timeout);
    store.set_timeout(None);
    // A genuine stack overflow is still one.
    let r = with_yield_requests(&store, || func(&store, inst, "deep").call(&store, &[]));
    assert_eq!(trap_kind(r), TrapKind::StackOverflow);
}

/// Tree recursion whose parameters of every class travel in registers to the direct entry
/// (first call) or in the argument area to the area entry (second call, `call_indirect`):
/// a yield at either prologue's stack check must resume with all of them intact.
const MIXREC: &str = r#"
(module
  (type $t (func (param i32 i64 f64 f32 i32) (result i64)))
  (table 1 funcref) (elem (i32.const 0) $r)
  (func $r (export "r") (type $t) (param $n i32) (param $a i64) (param $x f64) (param $y f32) (param $b i32) (result i64)
    (if (result i64) (i32.lt_s (local.get $n) (i32.const 2))
      (then (i64.add (i64.add (local.get $a) (i64.extend_i32_u (local.get $b)))
                     (i64.add (i64.trunc_sat_f64_s (local.get $x)) (i64.trunc_sat_f32_s (local.get $y)))))
      (else (i64.add
        (call $r (i32.sub (local.get $n) (i32.const 1)) (i64.add (local.get $a) (i64.const 3))
                 (f64.add (local.get $x) (f64.const 0.5)) (f32.add (local.get $y) (f32.const 2))
                 (i32.xor (local.get $b) (local.get $n)))
        (i64.mul
          (call_indirect (type $t) (i32.sub (local.get $n) (i32.const 2)) (i64.mul (local.get $a) (i64.const 7))
                   (local.get $x) (f32.const 1) (local.get $n) (i32.const 0))
          (i64.const 31)))))))
"#;

#[test]
fn yields_at_function_entries_keep_register_parameters() {
    let store = Store::new();
    if !store.set_yield_hook(count_yield) {
        return; // this ISA's code cannot resume after a yield: none is ever requested
    }
    let inst = store.instantiate(&Module::from_wat(MIXREC).unwrap(), &[]).unwrap();
    let r = func(&store, inst, "r");
    let args = [Val::I32(31), Val::I64(5), Val::F64(1.25f64.to_bits()), Val::F32(3.0f32.to_bits()), Val::I32(9)];
    let expected = r.call(&store, &args).unwrap();
    for _ in 0..3 {
        let before = YIELDS.load(std::sync::atomic::Ordering::SeqCst);
        let got = with_yield_requests(&store, || r.call(&store, &args).unwrap());
        assert_eq!(got, expected);
        assert!(YIELDS.load(std::sync::atomic::Ordering::SeqCst) > before, "no yield ran");
    }
}
