//! Peak heap bytes of compiling a module file once (a counting global allocator in this
//! binary only): a memory-profiling aid for the compiler.
//!
//!     cargo run --release --example mem_probe -- FILE.wasm [THREADS]

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
    let threads: usize = args.next().map_or(1, |n| n.parse().expect("THREADS: a number"));
    let bytes = std::fs::read(&path).expect("read module file");
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    let module = wazero::Module::new_with_threads(&bytes, threads).expect("compile");
    let peak = PEAK.load(Relaxed) - base;
    let after = LIVE.load(Relaxed) - base;
    println!("{} wasm bytes: peak heap {} bytes, kept {} bytes", bytes.len(), peak, after);
    std::hint::black_box(&module);
}
