//! Where Wasm code must stop using the native stack.
//!
//! Wasm runs on the calling thread's own stack. Each outermost entry computes a limit that
//! function prologues compare the stack pointer against; it leaves room below for the Rust
//! and Python frames of host calls, even on threads with small stacks.

/// Bytes kept free below the Wasm frames for host calls and trap handling.
const HOST_HEADROOM: usize = 96 * 1024;

thread_local! {
    /// Lowest usable address of this thread's stack (0 = unknown).
    static STACK_LOW: usize = thread_stack_low();
}

fn thread_stack_low() -> usize {
    // SAFETY: pthread_getattr_np fills `attr` for the calling thread; we destroy it after
    // reading the stack range. On failure we report "unknown".
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return 0;
        }
        let mut addr: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let ok = libc::pthread_attr_getstack(&attr, &mut addr, &mut size) == 0;
        libc::pthread_attr_destroy(&mut attr);
        if ok { addr as usize } else { 0 }
    }
}

/// An approximation of the current stack pointer.
#[inline(never)]
fn current_sp() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// The stack limit for an outermost entry made from the current thread.
pub fn wasm_stack_limit(max_wasm_stack: usize) -> usize {
    let sp = current_sp();
    let by_budget = sp.saturating_sub(max_wasm_stack);
    let low = STACK_LOW.with(|l| *l);
    let by_thread = if low == 0 { 0 } else { low + HOST_HEADROOM };
    // Never above the current sp: a thread with almost no stack left gets an immediate
    // stack-overflow trap instead of a crash.
    by_budget.max(by_thread).min(sp)
}
