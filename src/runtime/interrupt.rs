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

use std::collections::BTreeMap;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use crate::error::{Error, Result};
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
