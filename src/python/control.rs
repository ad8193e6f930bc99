//! Running Wasm from Python: lazy GIL release, timeouts, and Ctrl-C.
//!
//! **GIL.** Every entry into Wasm goes through [`run_wasm`]. Wasm starts running *with* the
//! GIL, so a short call pays no GIL traffic. On x86-64 the store's runtime is watched by the
//! yield ticker (`runtime::interrupt::watch`): once a call has run for a tick (1–2 ms, like
//! CPython's switch interval), its next loop header or function entry calls [`gil_yield`],
//! which releases the GIL (`PyEval_SaveThread`) and parks the thread state in [`RELEASED`];
//! the call then goes on GIL-free. Whatever needs Python again, a host function, a WASI stdio
//! object or the end of the call, goes through [`with_gil`] / [`reacquire`], which take the
//! GIL back only if it was released; host functions keep it until the next tick. Where the
//! generated code cannot resume after a yield (aarch64 for now), the GIL is released for
//! the whole call and host functions re-release it when they return.
//!
//! pyo3 is not told about the release (its GIL count stays as it was): between a release
//! and the re-acquire only Wasm code and this crate's Rust code run, which touch no Python
//! object; every path back into Python goes through [`with_gil`] first.
//!
//! This is sound because nothing the Wasm call touches is reachable from another thread: the
//! store and every object of a runtime sit behind `ThreadBound`, which refuses other threads
//! (and leaks rather than drops there), and the calling thread itself only runs Python code
//! inside host functions, which is the re-entrancy the store always supported. The one
//! exception is a `memoryview` of a `Memory` handed to another thread: reading it while Wasm
//! writes gives torn values, like any unsynchronised `bytearray`, but never a crash (the
//! mapping never moves or shrinks while a view is out).
//!
//! **Ctrl-C.** With the GIL released, or held by Wasm code, CPython's C-level SIGINT handler
//! only records the signal; the Python handler (raising `KeyboardInterrupt`) would run after
//! the call. So while Wasm runs on the main thread, the store's `VMRuntime` is published in
//! [`MAIN_RT`] (and left there after the call, see [`MAIN_OWNER`]) and a small handler
//! chained in front of CPython's triggers it (atomic stores only, which is
//! async-signal-safe) before calling CPython's handler as before. The Wasm code
//! stops at its next check; [`run_wasm`] then calls `PyErr_CheckSignals`, which runs the
//! Python handler and returns its exception (`KeyboardInterrupt`). The handler is installed
//! the first time Wasm runs on the main thread and re-checked every 32 later calls and at
//! every GIL release of a main-thread call (a `signal.signal(SIGINT, ...)` replaces it: until
//! the next check, Ctrl-C takes effect when the call returns); it is only installed while
//! Python handles SIGINT (not `SIG_DFL`/`SIG_IGN`). A watchdog thread would poll; a
//! `sigaction` on every call would cost a system call per call; this costs a few plain
//! atomic operations per call.

use std::cell::Cell;
use std::ptr::null_mut;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::prelude::*;

use super::errors::err;
use super::Shared;
use crate::error::{Error, TrapKind};
use crate::runtime::interrupt;
use crate::runtime::store::Store;
use crate::runtime::vmctx::VMRuntime;

thread_local! {
    /// This thread's Python thread state while a Wasm call released the GIL (null: the GIL
    /// is held, or no Wasm call runs).
    static RELEASED: Cell<*mut pyo3::ffi::PyThreadState> = const { Cell::new(null_mut()) };
    /// Set by a yield that saw other Python threads: the next host call pauses before taking
    /// the GIL back (see `with_gil`).
    static HAND_OVER: Cell<bool> = const { Cell::new(false) };
}

/// How long a host call after a yield leaves the GIL free when other Python threads exist:
/// long enough for a waiter woken by the release to take it.
const HAND_OVER_PAUSE: std::time::Duration = std::time::Duration::from_micros(100);

/// Whether Wasm holds the GIL until a yield (true) or releases it for the whole call.
fn lazy() -> bool {
    interrupt::YIELDS_SUPPORTED
}

/// Releases the GIL unless this thread already did (the GIL is held otherwise: see the
/// module docs).
fn release() {
    RELEASED.with(|r| {
        if r.get().is_null() {
            // SAFETY: this thread holds the GIL (module docs); the thread state is kept for
            // `reacquire`, on this thread.
            r.set(unsafe { pyo3::ffi::PyEval_SaveThread() });
        }
    });
}

/// Takes the GIL back if this thread released it for Wasm.
#[inline]
pub(crate) fn reacquire() {
    RELEASED.with(|r| {
        let ts = r.replace(null_mut());
        if !ts.is_null() {
            // SAFETY: `ts` is this thread's state, saved by `release` on this thread.
            unsafe { pyo3::ffi::PyEval_RestoreThread(ts) };
        }
    });
}

/// Runs `f` with the GIL from inside a Wasm call (host functions, WASI stdio objects).
pub(crate) fn with_gil<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> R {
    let was_released = RELEASED.with(|r| !r.get().is_null());
    // CPython forces a GIL switch only when a waiter's request reaches the holder's eval
    // loop, and every re-take resets that request: a long call making host calls once per
    // microsecond would re-take the GIL after each yield before any waiter could. So the first
    // host call after a yield that saw other threads leaves the GIL free for a moment
    // (at most once per yield, i.e. per millisecond; never without other threads).
    if was_released && HAND_OVER.with(|h| h.replace(false)) {
        std::thread::sleep(HAND_OVER_PAUSE);
    }
    reacquire();
    // pyo3's own bookkeeping is right again now that a release by a yield is undone (cheap
    // when it counts the GIL as held).
    let r = Python::attach(f);
    if was_released && !lazy() {
        release();
    }
    r
}

/// The yield hook of watched runtimes: called by Wasm code about once per millisecond of a
/// long call (see `runtime::interrupt::wasm_yield`).
extern "C" fn gil_yield() {
    if !RELEASED.with(|r| r.get().is_null()) {
        return;
    }
    // SAFETY: pthread_self has no preconditions.
    if MAIN_THREAD.load(Relaxed) == unsafe { libc::pthread_self() } as usize {
        ensure_sigint_handler();
    }
    // SAFETY: this thread holds the GIL (checked above: not released), so the interpreter's
    // list of thread states cannot change while we read its first two entries.
    let others = unsafe {
        let head = pyo3::ffi::PyInterpreterState_ThreadHead(pyo3::ffi::PyInterpreterState_Get());
        !head.is_null() && !pyo3::ffi::PyThreadState_Next(head).is_null()
    };
    HAND_OVER.with(|h| h.set(others));
    release();
}

/// Prepares `store`'s runtime for [`run_wasm`]; returns whether its calls yield lazily.
pub(crate) fn watch(store: &Store) -> bool {
    match interrupt::watch(&store.runtime) {
        Ok(true) => {
            interrupt::set_yield_hook(&store.runtime, gil_yield);
            true
        }
        _ => false,
    }
}

/// Re-acquires the GIL when a call ends, also on unwinding: `always` after an eager
/// release, else only if the call's runtime yielded (the thread-local is only read then).
struct GilScope<'a> {
    rt: &'a VMRuntime,
    always: bool,
}

impl Drop for GilScope<'_> {
    fn drop(&mut self) {
        if self.always || self.rt.yielded.load(Relaxed) {
            self.rt.yielded.store(false, Relaxed);
            reacquire();
        }
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

/// Runs `f`, which enters Wasm code of `store` (the GIL: see the module docs). `timeout` overrides
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
    let outermost = shared.active_calls.get() == 1;
    let scope = CallScope { store, shared, saved_timeout };
    let main = MainCall::enter(py, store);
    let watched = shared.yields && outermost;
    if watched {
        interrupt::call_started(&store.runtime);
    }
    let gil = GilScope { rt: &store.runtime, always: !shared.yields };
    if !shared.yields {
        release();
    }
    let r = f();
    drop(gil);
    if watched {
        interrupt::call_ended(&store.runtime);
    }
    let on_main = main.is_some();
    drop(main);
    drop(scope);
    if on_main && matches!(&r, Err(Error::Trap(t)) if t.kind == TrapKind::Interrupted) {
        // SAFETY: we hold the GIL (`GilScope` re-acquired it) and are on the main thread.
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

/// `pthread_self()` of CPython's main thread (where signal handlers run), 0 until known.
static MAIN_THREAD: AtomicUsize = AtomicUsize::new(0);

fn is_main_thread(py: Python<'_>) -> bool {
    // SAFETY: pthread_self has no preconditions (and no thread-local lookup).
    let me = unsafe { libc::pthread_self() } as usize;
    let main = MAIN_THREAD.load(Relaxed);
    if main != 0 {
        return me == main;
    }
    // CPython's thread ident is the pthread_t of the thread.
    let main = (|| -> PyResult<usize> { py.import("threading")?.call_method0("main_thread")?.getattr("ident")?.extract() })()
        .unwrap_or(usize::MAX);
    MAIN_THREAD.store(main, Relaxed);
    me == main
}

extern "C" fn on_sigint(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    IN_HANDLER.fetch_add(1, SeqCst);
    let rt = MAIN_RT.load(SeqCst);
    if !rt.is_null() {
        // SAFETY: `MainCall` publishes a runtime kept alive (by a running call or by
        // MAIN_OWNER) and, before it may go away, unpublishes it and waits until no handler
        // is between its load and here.
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

/// Depth of nested Wasm calls on the main thread (only the main thread touches it).
static MAIN_DEPTH: AtomicU32 = AtomicU32::new(0);
/// Keeps the runtime left in [`MAIN_RT`] after the outermost main-thread call alive (its
/// store may close): [`MAIN_RT`] stays published between calls, so that back-to-back calls
/// into the same runtime do not write it at all. A SIGINT between calls then triggers an
/// interrupt of no running call, which the next outermost call clears.
static MAIN_OWNER: Mutex<Option<Arc<VMRuntime>>> = Mutex::new(None);

/// While alive, SIGINT interrupts the Wasm code of the store it was made for.
struct MainCall {
    /// The runtime to publish again at the end (nested calls into another runtime).
    restore: Option<*mut VMRuntime>,
}

/// Waits until no SIGINT handler is between its load of [`MAIN_RT`] and its use of the
/// runtime it read (call after changing [`MAIN_RT`], before the old runtime may go away).
fn wait_for_handlers() {
    // A handler that read the old runtime before the store to MAIN_RT is counted in
    // IN_HANDLER (SeqCst orders its increment before its load).
    while IN_HANDLER.load(SeqCst) != 0 {
        std::hint::spin_loop();
    }
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
        let depth = MAIN_DEPTH.load(Relaxed);
        MAIN_DEPTH.store(depth + 1, Relaxed);
        // Only the main thread writes MAIN_RT.
        let cur = MAIN_RT.load(Relaxed);
        let mine = store.runtime_ptr();
        if cur == mine {
            return Some(MainCall { restore: None });
        }
        if depth > 0 {
            // `cur` belongs to an enclosing call, still running: publish ours until we return.
            MAIN_RT.store(mine, SeqCst);
            return Some(MainCall { restore: Some(cur) });
        }
        let mut owner = MAIN_OWNER.lock().unwrap_or_else(|p| p.into_inner());
        let old = owner.replace(Arc::clone(&store.runtime));
        MAIN_RT.store(mine, SeqCst);
        wait_for_handlers();
        drop(old);
        Some(MainCall { restore: None })
    }
}

impl Drop for MainCall {
    fn drop(&mut self) {
        MAIN_DEPTH.store(MAIN_DEPTH.load(Relaxed) - 1, Relaxed);
        if let Some(prev) = self.restore {
            MAIN_RT.store(prev, SeqCst);
            wait_for_handlers();
        }
    }
}
