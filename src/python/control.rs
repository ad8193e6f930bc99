//! Running Wasm from Python: the GIL is released while Wasm runs, timeouts, and Ctrl-C.
//!
//! **GIL.** Every entry into Wasm goes through [`run_wasm`], which releases the GIL; host
//! functions (and WASI stdio objects) take it back with `Python::attach`. This is sound
//! because nothing the Wasm call touches is reachable from another thread: the store and
//! every object of a runtime sit behind `ThreadBound`, which refuses other threads (and leaks
//! rather than drops there), and the calling thread itself only runs Python code inside host
//! functions, which is the re-entrancy the store always supported. The one exception is a
//! `memoryview` of a `Memory` handed to another thread: reading it while Wasm writes gives
//! torn values, like any unsynchronised `bytearray`, but never a crash (the mapping never
//! moves or shrinks while a view is out).
//!
//! **Ctrl-C.** With the GIL released, CPython's C-level SIGINT handler only records the
//! signal; the Python handler (raising `KeyboardInterrupt`) would run after the call. So while
//! Wasm runs on the main thread, the store's `VMRuntime` is published in [`MAIN_RT`] and a
//! small handler chained in front of CPython's triggers it (atomic stores only, which is
//! async-signal-safe) before calling CPython's handler as before. The Wasm code stops at its
//! next check; [`run_wasm`] then calls `PyErr_CheckSignals`, which runs the Python handler
//! and returns its exception (`KeyboardInterrupt`). The handler is installed the first time
//! Wasm runs on the main thread and re-checked every 32 later calls (a
//! `signal.signal(SIGINT, ...)` replaces it: until the next check, Ctrl-C takes effect when
//! the call returns); it is only installed while Python handles SIGINT (not
//! `SIG_DFL`/`SIG_IGN`). A watchdog thread would poll; a `sigaction` on every call would
//! cost a system call per call; this costs a few plain atomic operations per call.

use std::ptr::null_mut;
use std::sync::atomic::Ordering::{Relaxed, Release, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize};
use std::time::Duration;

use pyo3::prelude::*;

use super::errors::err;
use super::Shared;
use crate::error::{Error, TrapKind};
use crate::runtime::interrupt;
use crate::runtime::store::Store;
use crate::runtime::vmctx::VMRuntime;

/// Moves a value into the GIL-free section although it is not `Send`.
struct Ungil<T>(T);
// SAFETY: `Python::detach` runs its closure on the calling thread; `Send` is only its way to
// keep Python-bound values out. The values wrapped here (the Wasm entry closure, its result)
// hold no GIL-bound references: host functions re-attach explicitly.
unsafe impl<T> Send for Ungil<T> {}

impl<T> Ungil<T> {
    fn into_inner(self) -> T {
        self.0
    }
}

/// Restores a store's state when a call ends, also on unwinding.
struct CallScope<'a> {
    store: &'a Store,
    shared: &'a Shared,
    saved_timeout: Option<Option<Duration>>,
}

impl Drop for CallScope<'_> {
    fn drop(&mut self) {
        self.shared.active_calls.set(self.shared.active_calls.get() - 1);
        if let Some(t) = self.saved_timeout {
            self.store.set_timeout(t);
        }
    }
}

/// Runs `f`, which enters Wasm code of `store`, with the GIL released. `timeout` overrides
/// the runtime's default deadline for this call. A Python exception raised by a signal
/// handler during the call (Ctrl-C: `KeyboardInterrupt`) is returned as the error.
pub(crate) fn run_wasm<T>(
    py: Python<'_>,
    store: &Store,
    shared: &Shared,
    timeout: Option<Duration>,
    f: impl FnOnce() -> crate::Result<T>,
) -> crate::Result<T> {
    shared.active_calls.set(shared.active_calls.get() + 1);
    let saved_timeout = timeout.map(|t| {
        let old = store.timeout();
        store.set_timeout(Some(t));
        old
    });
    let scope = CallScope { store, shared, saved_timeout };
    let main = MainCall::enter(py, store);
    let job = Ungil(f);
    let r = py.detach(move || Ungil(job.into_inner()())).into_inner();
    let on_main = main.is_some();
    drop(main);
    drop(scope);
    if on_main && matches!(&r, Err(Error::Trap(t)) if t.kind == TrapKind::Interrupted) {
        // SAFETY: we hold the GIL (after `detach`) and are on the main thread.
        if unsafe { pyo3::ffi::PyErr_CheckSignals() } != 0 {
            let e = PyErr::take(py).unwrap_or_else(|| err(py, "interrupted"));
            return Err(Error::Host(Box::new(e)));
        }
    }
    r
}

/// Parses a `timeout=` argument: positive seconds (`math.inf`: no deadline), or `None`.
pub(crate) fn parse_timeout(py: Python<'_>, seconds: Option<f64>) -> PyResult<Option<Duration>> {
    match seconds {
        None => Ok(None),
        Some(s) if s.is_nan() || s <= 0.0 => {
            Err(err(py, format!("timeout must be a positive number of seconds, got {s}")))
        }
        // Too far away to represent: no deadline (see `Store::invoke`).
        Some(s) => Ok(Some(Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX))),
    }
}

// ---------------------------------------------------------------------------------------------
// Ctrl-C

/// The `VMRuntime` of the store whose Wasm code runs on the main thread (null: none).
static MAIN_RT: AtomicPtr<VMRuntime> = AtomicPtr::new(null_mut());
/// Number of [`on_sigint`] invocations between reading [`MAIN_RT`] and their last use of it.
static IN_HANDLER: AtomicUsize = AtomicUsize::new(0);
/// The handler we chain to (leaked: a running handler may still read an old one).
static PREV_ACTION: AtomicPtr<libc::sigaction> = AtomicPtr::new(null_mut());
/// Set while [`on_sigint`] runs the previous handler.
static CHAINING: AtomicBool = AtomicBool::new(false);
/// Main-thread calls so far (only the main thread touches it).
static MAIN_CALLS: AtomicU64 = AtomicU64::new(0);
/// Every this many main-thread calls, check that our handler is still installed (a
/// `sigaction` system call; reading a clock costs one too on some VMs).
const RECHECK_CALLS: u64 = 32;

thread_local! {
    /// Whether this is CPython's main thread (where signal handlers run), once known.
    static IS_MAIN: std::cell::Cell<Option<bool>> = const { std::cell::Cell::new(None) };
}

fn is_main_thread(py: Python<'_>) -> bool {
    IS_MAIN.with(|c| {
        if let Some(v) = c.get() {
            return v;
        }
        let v = (|| -> PyResult<bool> {
            let threading = py.import("threading")?;
            Ok(threading.call_method0("main_thread")?.is(&threading.call_method0("current_thread")?))
        })()
        .unwrap_or(false);
        c.set(Some(v));
        v
    })
}

extern "C" fn on_sigint(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    IN_HANDLER.fetch_add(1, SeqCst);
    let rt = MAIN_RT.load(SeqCst);
    if !rt.is_null() {
        // SAFETY: `MainCall` publishes a live store's runtime and, before that store may go
        // away, unpublishes it and waits until no handler is between its load and here.
        interrupt::trigger(unsafe { &*rt }, interrupt::REASON_INTERRUPT);
    }
    IN_HANDLER.fetch_sub(1, SeqCst);
    let prev = PREV_ACTION.load(SeqCst);
    // A handler installed over ours that chains back to us would otherwise recurse forever.
    if prev.is_null() || CHAINING.swap(true, SeqCst) {
        return;
    }
    // SAFETY: `prev` is a leaked copy of the function handler we replaced (never SIG_DFL or
    // SIG_IGN); it is called the way its flags say it expects.
    unsafe {
        let prev = &*prev;
        if prev.sa_flags & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                std::mem::transmute(prev.sa_sigaction);
            f(sig, info, ctx);
        } else {
            let f: extern "C" fn(libc::c_int) = std::mem::transmute(prev.sa_sigaction);
            f(sig);
        }
    }
    CHAINING.store(false, SeqCst);
}

/// Puts [`on_sigint`] in front of the current SIGINT handler unless it is already there or
/// SIGINT is not handled by a function (default action or ignored).
fn ensure_sigint_handler() {
    let ours = on_sigint as *const () as libc::sighandler_t;
    // SAFETY: plain sigaction(2) calls with valid pointers; the previous action is copied to
    // a leaked box before our handler (which reads it) is installed.
    unsafe {
        let mut cur: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGINT, std::ptr::null(), &mut cur) != 0 {
            return;
        }
        if cur.sa_sigaction == ours || cur.sa_sigaction == libc::SIG_DFL || cur.sa_sigaction == libc::SIG_IGN {
            return;
        }
        PREV_ACTION.store(Box::into_raw(Box::new(cur)), SeqCst);
        let mut new: libc::sigaction = cur;
        new.sa_sigaction = ours;
        new.sa_flags = cur.sa_flags | libc::SA_SIGINFO;
        libc::sigaction(libc::SIGINT, &new, null_mut());
    }
}

/// While alive, SIGINT interrupts the Wasm code of the store it was made for.
struct MainCall {
    prev: *mut VMRuntime,
}

impl MainCall {
    fn enter(py: Python<'_>, store: &Store) -> Option<MainCall> {
        if !is_main_thread(py) {
            return None;
        }
        let n = MAIN_CALLS.load(Relaxed);
        MAIN_CALLS.store(n.wrapping_add(1), Relaxed);
        if n.is_multiple_of(RECHECK_CALLS) {
            ensure_sigint_handler();
        }
        // Only the main thread writes MAIN_RT: a load and a store make the swap.
        let prev = MAIN_RT.load(Relaxed);
        MAIN_RT.store(store.runtime_ptr(), Release);
        Some(MainCall { prev })
    }
}

impl Drop for MainCall {
    fn drop(&mut self) {
        // `prev` is the runtime of an enclosing call, still running.
        MAIN_RT.store(self.prev, SeqCst);
        // A handler that read our runtime before the store above is counted in IN_HANDLER
        // (SeqCst orders its increment before its load); wait until it is done with it.
        while IN_HANDLER.load(SeqCst) != 0 {
            std::hint::spin_loop();
        }
    }
}
