//! Stopping running Wasm code from outside: interrupts and per-call deadlines.
//!
//! Generated code already checks two words of the store's [`VMRuntime`]: loop headers test
//! `interrupt != 0` and function prologues compare the stack pointer with `stack_limit`.
//! [`trigger`] stores the reason into `interrupt`, then `usize::MAX` into `stack_limit`
//! (which fails every prologue's check), so an endless loop and an endless loop-free chain of
//! calls both stop at their next check, at no extra cost in the generated code. Both words are
//! atomics written with atomic stores from any thread (or a signal handler); the generated
//! code's plain aligned loads of them are single-copy atomic on x86-64 and aarch64. The
//! outermost entry resets both (see `Store::invoke`), which then tells a real stack overflow
//! from an interrupt by looking at them.
//!
//! Deadlines are served by one timer thread per process that triggers the stores whose
//! deadline passed; a call registers its deadline on entry and removes it on exit, both under
//! the timer's lock, so a deadline never fires into a later call.
//!
//! **Yields.** Where the checks' slow paths can resume (x86-64, [`YIELDS_SUPPORTED`]), they
//! call [`wasm_yield`] through `VMRuntime::yield_entry` instead of trapping. A third reason,
//! [`REASON_YIELD`], set by the yield ticker ([`watch`]) into a call that has run for a
//! tick, makes it run the store's yield hook and go on; the Python bindings release the GIL
//! there. The ticker thread ticks every millisecond while watched calls run and parks after
//! 100 idle ticks (then only glancing at the watched runtimes every 500 ms, which bounds
//! the delay of a wake-up lost to a race); a call costs two plain stores and a load
//! ([`call_started`], [`call_ended`]), plus one wake-up of the ticker when it finds it parked.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

use crate::error::{Error, Result, TrapKind};
use crate::runtime::vmctx::VMRuntime;

/// `VMRuntime::interrupt` value: [`InterruptHandle::interrupt`] (or Ctrl-C in Python).
pub const REASON_INTERRUPT: u32 = 1;
/// `VMRuntime::interrupt` value: the call's deadline passed.
pub const REASON_TIMEOUT: u32 = 2;

/// Stops the Wasm code running in a store at its next loop header or function entry (it
/// traps with [`crate::TrapKind::Interrupted`]). `Send + Sync + Clone`: hand it to another
/// thread. An interrupt requested while no call runs has no effect: each outermost call
/// starts uninterrupted.
#[derive(Clone)]
pub struct InterruptHandle {
    rt: Arc<VMRuntime>,
}

impl InterruptHandle {
    pub(crate) fn new(rt: &Arc<VMRuntime>) -> InterruptHandle {
        InterruptHandle { rt: Arc::clone(rt) }
    }

    /// Requests the running call to stop. Callable from any thread, any number of times.
    pub fn interrupt(&self) {
        trigger(&self.rt, REASON_INTERRUPT);
    }

    /// Asks the running call to run the store's yield hook (`Store::set_yield_hook`) at its
    /// next loop header or function entry, then go on. Without a running call, or where
    /// yields are not supported ([`YIELDS_SUPPORTED`]), it has no effect.
    pub fn request_yield(&self) {
        if YIELDS_SUPPORTED {
            request_yield(&self.rt);
        }
    }
}

impl std::fmt::Debug for InterruptHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InterruptHandle")
    }
}

/// Makes the code running on `rt` stop at its next check with `reason`. Only atomic stores:
/// async-signal-safe.
pub fn trigger(rt: &VMRuntime, reason: u32) {
    rt.interrupt.store(reason, SeqCst);
    rt.stack_limit.store(usize::MAX, SeqCst);
}

// ---------------------------------------------------------------------------------------------
// Deadlines

struct TimerState {
    /// (deadline, registration id) -> the store to stop.
    entries: BTreeMap<(Instant, u64), Arc<VMRuntime>>,
    next_id: u64,
    /// Process id that started the timer thread (a forked child must start its own).
    thread_pid: Option<u32>,
}

struct Timer {
    state: Mutex<TimerState>,
    wake: Condvar,
}

fn timer() -> &'static Timer {
    static TIMER: OnceLock<Timer> = OnceLock::new();
    TIMER.get_or_init(|| Timer {
        state: Mutex::new(TimerState { entries: BTreeMap::new(), next_id: 0, thread_pid: None }),
        wake: Condvar::new(),
    })
}

fn lock(t: &Timer) -> MutexGuard<'_, TimerState> {
    // The lock guards plain data that no panic can leave inconsistent.
    t.state.lock().unwrap_or_else(|p| p.into_inner())
}

fn timer_thread(t: &'static Timer) {
    let mut st = lock(t);
    loop {
        let now = Instant::now();
        match st.entries.first_key_value().map(|(k, _)| *k) {
            None => st = t.wake.wait(st).unwrap_or_else(|p| p.into_inner()),
            Some(key) if key.0 <= now => {
                if let Some(rt) = st.entries.remove(&key) {
                    trigger(&rt, REASON_TIMEOUT);
                }
            }
            Some(key) => st = t.wake.wait_timeout(st, key.0 - now).unwrap_or_else(|p| p.into_inner()).0,
        }
    }
}

/// A registered deadline; dropping it (when the call returns) unregisters it.
pub(crate) struct Deadline {
    key: (Instant, u64),
}

/// Arranges for `rt` to be triggered with [`REASON_TIMEOUT`] at `at`, unless the returned
/// guard is dropped first.
pub(crate) fn arm(rt: &Arc<VMRuntime>, at: Instant) -> Result<Deadline> {
    install_fork_handlers();
    let t = timer();
    let mut st = lock(t);
    let pid = std::process::id();
    if st.thread_pid != Some(pid) {
        std::thread::Builder::new()
            .name("wazero-timer".into())
            .spawn(move || timer_thread(t))
            .map_err(|e| Error::Resource(format!("cannot start the timeout thread: {e}")))?;
        st.thread_pid = Some(pid);
    }
    let key = (at, st.next_id);
    st.next_id += 1;
    let earliest = st.entries.first_key_value().is_none_or(|(k, _)| key < *k);
    st.entries.insert(key, Arc::clone(rt));
    drop(st);
    if earliest {
        t.wake.notify_one();
    }
    Ok(Deadline { key })
}

impl Drop for Deadline {
    fn drop(&mut self) {
        lock(timer()).entries.remove(&self.key);
    }
}

// ---------------------------------------------------------------------------------------------
// Cooperative yields (the Python bindings' lazy GIL release)

/// `VMRuntime::interrupt` value: not a stop but a request to call the runtime's yield hook
/// and continue (see [`watch`]).
pub const REASON_YIELD: u32 = 3;

/// Whether this build's generated code resumes after a yield request (x86-64). Elsewhere
/// a yield request would stop the call, so [`watch`] refuses and callers release the GIL
/// for the whole call.
pub const YIELDS_SUPPORTED: bool = cfg!(target_arch = "x86_64");

/// Called by generated code (through the yield entry, all registers saved) when a loop
/// header saw `interrupt != 0` or a prologue failed its stack check. Returns 0 to resume,
/// or the trap code to stop with.
pub(crate) extern "C" fn wasm_yield(rt: *const VMRuntime) -> u32 {
    // SAFETY: the yield entry passes `[vmctx]`, the live runtime of the running store.
    let rt = unsafe { &*rt };
    match rt.interrupt.load(SeqCst) {
        // Only a prologue gets here without a request.
        0 => {
            // The ticker stores the `usize::MAX` limit after its exchange (`request_yield`),
            // so that store can land after the request was already served: with no request
            // pending, a MAX limit is stale. Restore the call's limit and resume; the
            // prologue's check runs again against it and catches a real overflow.
            if rt.stack_limit.load(SeqCst) == usize::MAX {
                restore_call_limit(rt);
                return 0;
            }
            TrapKind::StackOverflow as u32
        }
        REASON_YIELD => {
            if rt.interrupt.compare_exchange(REASON_YIELD, 0, SeqCst, SeqCst).is_err() {
                return TrapKind::Interrupted as u32; // a stop request replaced it
            }
            restore_call_limit(rt);
            let hook = rt.yield_hook.load(SeqCst);
            if hook != 0 {
                rt.yielded.store(true, Relaxed);
                // SAFETY: `yield_hook` only ever holds a `YieldHook` (see `set_yield_hook`).
                let hook: YieldHook = unsafe { std::mem::transmute::<usize, YieldHook>(hook) };
                hook();
            }
            0
        }
        // Interrupt or deadline: `Store::invoke` reports which.
        _ => TrapKind::Interrupted as u32,
    }
}

/// Puts back the running call's stack limit, unless a request or stop arrived meanwhile
/// (a `trigger` between the caller's exchange and this store keeps its `usize::MAX`).
fn restore_call_limit(rt: &VMRuntime) {
    rt.stack_limit.store(rt.call_stack_limit.load(SeqCst), SeqCst);
    if rt.interrupt.load(SeqCst) != 0 {
        rt.stack_limit.store(usize::MAX, SeqCst);
    }
}

/// What a yield runs on the Wasm thread (the Python bindings: release the GIL).
pub type YieldHook = extern "C" fn();

/// Sets the function run on yields of `rt`.
pub fn set_yield_hook(rt: &VMRuntime, hook: YieldHook) {
    rt.yield_hook.store(hook as usize, SeqCst);
}

/// Ticks of the yield ticker, in milliseconds.
const TICK: Duration = Duration::from_millis(1);
/// Idle ticks (no watched call running) after which the ticker parks.
const IDLE_TICKS_BEFORE_PARK: u32 = 100;
/// A parked ticker still looks this often (a call that started exactly while it parked may
/// miss the wake-up: see [`call_started`]).
const PARKED_POLL: Duration = Duration::from_millis(500);

struct Ticker {
    watched: Mutex<Vec<Weak<VMRuntime>>>,
    wake: Condvar,
    /// Guards parking; holds the id of the process that started the ticker thread (a forked
    /// child must start its own).
    park_lock: Mutex<Option<u32>>,
}

fn ticker() -> &'static Ticker {
    static T: OnceLock<Ticker> = OnceLock::new();
    T.get_or_init(|| Ticker {
        watched: Mutex::new(Vec::new()),
        wake: Condvar::new(),
        park_lock: Mutex::new(None),
    })
}

/// Asks the code running on `rt` to call its yield hook at its next check and go on.
fn request_yield(rt: &VMRuntime) {
    if rt.interrupt.compare_exchange(0, REASON_YIELD, SeqCst, SeqCst).is_ok() {
        rt.stack_limit.store(usize::MAX, SeqCst);
    }
}

/// Watches `rt`: a call bracketed by [`call_started`]/[`call_ended`] that runs for more than
/// one tick (1–2 ms) gets a yield request every tick, so its hook runs about once per
/// millisecond. Returns false where yields are not supported ([`YIELDS_SUPPORTED`]).
pub fn watch(rt: &Arc<VMRuntime>) -> Result<bool> {
    if !YIELDS_SUPPORTED {
        return Ok(false);
    }
    let t = ticker();
    {
        let mut w = t.watched.lock().unwrap_or_else(|p| p.into_inner());
        w.retain(|r| r.strong_count() > 0);
        w.push(Arc::downgrade(rt));
    }
    install_fork_handlers();
    let mut started = t.park_lock.lock().unwrap_or_else(|p| p.into_inner());
    start_ticker_here(t, &mut started)?;
    Ok(true)
}

/// Starts the ticker thread unless this process already has one (`started` holds the id of
/// the process that started it: a forked child inherits the value but not the thread).
fn start_ticker_here(t: &'static Ticker, started: &mut Option<u32>) -> Result<()> {
    let pid = std::process::id();
    if *started != Some(pid) {
        std::thread::Builder::new()
            .name("wazero-yield".into())
            .spawn(move || ticker_thread(t))
            .map_err(|e| Error::Resource(format!("cannot start the yield thread: {e}")))?;
        *started = Some(pid);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// fork()

/// The locks of the timer and the ticker, held by the forking thread across `fork()`.
struct ForkGuards {
    timer: Option<MutexGuard<'static, TimerState>>,
    park: Option<MutexGuard<'static, Option<u32>>>,
    watched: Option<MutexGuard<'static, Vec<Weak<VMRuntime>>>>,
}

thread_local! {
    static FORK_GUARDS: std::cell::RefCell<ForkGuards> =
        const { std::cell::RefCell::new(ForkGuards { timer: None, park: None, watched: None }) };
}

/// Registers the `fork()` handlers once per process. A child has only the forking thread: a
/// lock that the timer or ticker thread held at that instant would stay locked in the child
/// forever (its next timeout or yield would hang or never come). So the forking thread takes
/// every such lock before `fork()` and releases it after, in the parent and in the child.
fn install_fork_handlers() {
    static AT_FORK: std::sync::Once = std::sync::Once::new();
    AT_FORK.call_once(|| {
        // SAFETY: registers plain `extern "C"` functions taking no arguments. The child's
        // handler only unlocks mutexes (an atomic swap and at most a futex wake) and stores to
        // an atomic, which is async-signal-safe as a forked child requires.
        unsafe {
            libc::pthread_atfork(Some(lock_before_fork), Some(unlock_in_parent), Some(unlock_in_child))
        };
    });
}

/// Lock order: timer, then the ticker's park lock, then its watch list (the order the ticker
/// itself nests them in; nothing holds a ticker lock while taking the timer's).
extern "C" fn lock_before_fork() {
    let (timer, ticker) = (timer(), ticker());
    let guards = ForkGuards {
        timer: Some(lock(timer)),
        park: Some(ticker.park_lock.lock().unwrap_or_else(|p| p.into_inner())),
        watched: Some(ticker.watched.lock().unwrap_or_else(|p| p.into_inner())),
    };
    FORK_GUARDS.with(|g| *g.borrow_mut() = guards);
}

fn unlock_after_fork() {
    FORK_GUARDS.with(|g| {
        let mut g = g.borrow_mut();
        g.watched = None;
        g.park = None;
        g.timer = None;
    });
}

extern "C" fn unlock_in_parent() {
    unlock_after_fork();
}

/// In the child the timer and ticker threads are gone: the next deadline starts a timer
/// thread (`arm` compares process ids); the ticker is marked parked, so the child's next
/// call goes through [`unpark`], which starts a ticker of the child's own.
extern "C" fn unlock_in_child() {
    unlock_after_fork();
    TICKER_PARKED.store(true, SeqCst);
}

/// Marks the start of an outermost call on a watched runtime (two plain stores and a load:
/// the hot path).
#[inline]
pub fn call_started(rt: &VMRuntime) {
    let s = rt.call_seq.load(Relaxed);
    rt.call_seq.store(s | 1, Relaxed);
    // Pairs with the fence in `ticker_thread` before it parks: either this call sees the
    // ticker parked (and wakes it), or the ticker sees this call running (and stays up).
    std::sync::atomic::fence(SeqCst);
    if ticker_parked() {
        unpark();
    }
}

/// Marks the end of the call started by [`call_started`].
#[inline]
pub fn call_ended(rt: &VMRuntime) {
    let s = rt.call_seq.load(Relaxed);
    rt.call_seq.store((s | 1) + 1, Relaxed);
}

#[inline]
fn ticker_parked() -> bool {
    // Relaxed: a stale `false` is caught by the parked ticker's poll (`PARKED_POLL`).
    TICKER_PARKED.load(Relaxed)
}

static TICKER_PARKED: AtomicBool = AtomicBool::new(false);

#[cold]
fn unpark() {
    let t = ticker();
    let mut started = t.park_lock.lock().unwrap_or_else(|p| p.into_inner());
    // Without a thread (this process is a forked child), calls simply never yield: keep
    // the flag set so a later call tries again.
    if start_ticker_here(t, &mut started).is_err() {
        return;
    }
    TICKER_PARKED.store(false, SeqCst);
    t.wake.notify_one();
}

fn ticker_thread(t: &'static Ticker) {
    let mut seen: Vec<(Weak<VMRuntime>, u64)> = Vec::new();
    let mut live: Vec<Arc<VMRuntime>> = Vec::new();
    let mut idle = 0u32;
    loop {
        std::thread::sleep(TICK);
        let mut busy = false;
        {
            // Only a snapshot under the lock: `watch` and a `fork()` never wait long.
            let mut w = t.watched.lock().unwrap_or_else(|p| p.into_inner());
            w.retain(|r| r.strong_count() > 0);
            live.extend(w.iter().filter_map(Weak::upgrade));
        }
        seen.retain(|(r, _)| r.strong_count() > 0);
        for rt in live.drain(..) {
            let seq = rt.call_seq.load(Relaxed);
            let pos = seen.iter().position(|(s, _)| std::ptr::eq(s.as_ptr(), Arc::as_ptr(&rt)));
            let last = match pos {
                Some(i) => std::mem::replace(&mut seen[i].1, seq),
                None => {
                    seen.push((Arc::downgrade(&rt), seq));
                    u64::MAX
                }
            };
            // Running, or ran since the last tick.
            busy |= seq & 1 == 1 || seq != last;
            // The same call as one tick ago: it has run for at least a tick.
            if seq & 1 == 1 && seq == last {
                request_yield(&rt);
            }
        }
        idle = if busy { 0 } else { idle + 1 };
        if idle >= IDLE_TICKS_BEFORE_PARK {
            let mut g = t.park_lock.lock().unwrap_or_else(|p| p.into_inner());
            TICKER_PARKED.store(true, SeqCst);
            // Pairs with the fence in `call_started`: a call that started just now and did
            // not see the flag is seen here, and the ticker stays up.
            std::sync::atomic::fence(SeqCst);
            if any_call_running(t) {
                TICKER_PARKED.store(false, SeqCst);
            }
            while TICKER_PARKED.load(SeqCst) {
                let (g2, res) = t.wake.wait_timeout(g, PARKED_POLL).unwrap_or_else(|p| p.into_inner());
                g = g2;
                if res.timed_out() && any_call_running(t) {
                    TICKER_PARKED.store(false, SeqCst);
                }
            }
            idle = 0;
        }
    }
}

fn any_call_running(t: &Ticker) -> bool {
    let w = t.watched.lock().unwrap_or_else(|p| p.into_inner());
    w.iter().filter_map(|r| r.upgrade()).any(|rt| rt.call_seq.load(Relaxed) & 1 == 1)
}
