//! Peak heap bytes of compiling a module file once: a counting global allocator in this
//! binary only (the library keeps the system allocator). Used by `benches/scaling.py`; also
//! a memory-profiling aid (`heaptrack target/release/examples/mem_probe FILE`).
//!
//!     cargo run --release --example mem_probe -- FILE.wasm [THREADS]
//!
//! Prints one line: `<wasm bytes> wasm bytes: peak heap <bytes> bytes, code <bytes> bytes`.
//! Bytes are counted as requested (a `Vec`'s capacity, touched or not), a `realloc` as old
//! and new block both live (what a moving `realloc` holds at its peak); the executable code
//! (its own pages, not heap; measured by a second compile) is printed beside.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    let live = LIVE.fetch_add(n, Relaxed) + n;
    PEAK.fetch_max(live, Relaxed);
}

// SAFETY: every call forwards to the system allocator unchanged; the counters only observe.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        grew(l.size());
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Relaxed);
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        // Counted as the worst case (old and new both live), as a moving realloc is.
        grew(new);
        let q = System.realloc(p, l, new);
        LIVE.fetch_sub(l.size(), Relaxed);
        q
    }
}

#[global_allocator]
static A: Counting = Counting;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: mem_probe FILE [THREADS]");
    let threads: usize = args
        .next()
        .map_or_else(wazero::compiler::parallel::default_threads, |n| n.parse().expect("THREADS: a number"));
    let bytes = std::fs::read(&path).expect("read module file");
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    let module = wazero::Module::new_with_threads(&bytes, threads).expect("compile");
    let peak = PEAK.load(Relaxed) - base;
    drop(module);
    // The code size from a second compile, outside the measurement.
    let isa = wazero::compiler::Isa::host().expect("a supported host");
    let code = wazero::module::compile_for(&bytes, isa).expect("compile").0.len();
    println!("{} wasm bytes: peak heap {peak} bytes, code {code} bytes", bytes.len());
}
