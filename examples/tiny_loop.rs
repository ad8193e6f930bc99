//! Compile + instantiate of a tiny module, again and again in one store: the steady-state
//! startup cost without Python (`benches/compare.py --parts startup` measures it through the
//! bindings). Counts heap allocations per iteration with a counting global allocator in this
//! binary only, and is the loop to profile:
//!
//!     cargo run --release --example tiny_loop -- [ITERATIONS] [FILE.wasm]
//!     valgrind --tool=callgrind target/release/examples/tiny_loop 2000
//!
//! Without a file it uses the harness's `add.wat` (an `add` and a `noop` export). Prints
//! `<ns> ns/iteration, <allocations> allocations/iteration`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

use wazero::{Module, Store, Val};

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call forwards to the system allocator unchanged; the counter only observes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        System.alloc_zeroed(l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        System.realloc(p, l, new)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const ADD_WAT: &str = r#"(module
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "noop")))"#;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(20_000, |a| a.parse().expect("ITERATIONS: a number"));
    let wasm = match args.next() {
        Some(path) => std::fs::read(path).expect("readable module file"),
        None => wat::parse_str(ADD_WAT).expect("valid text"),
    };
    let store = Store::new();
    let once = |check: bool| {
        let module = Module::new(&wasm).expect("module compiles");
        let instance = store.instantiate(&module, &[]).expect("module instantiates");
        if check {
            if let Some(wazero::Extern::Func(add)) = instance.export(&store, "add") {
                assert_eq!(add.call(&store, &[Val::I32(5), Val::I32(7)]).unwrap(), [Val::I32(12)]);
            }
        }
        store.release_instance(instance).expect("instance of this store");
    };
    once(true);
    let allocs = ALLOCS.load(Relaxed);
    let start = Instant::now();
    for _ in 0..n {
        once(false);
    }
    let ns = start.elapsed().as_nanos() as f64 / n as f64;
    let per = (ALLOCS.load(Relaxed) - allocs) as f64 / n as f64;
    println!("{ns:.0} ns/iteration, {per:.1} allocations/iteration");
}
