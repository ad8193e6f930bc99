//! Catching panics (e.g. `todo!()` in an unfinished runtime) as ordinary command failures.

use std::cell::RefCell;
use std::panic::{self, UnwindSafe};
use std::sync::Once;

thread_local! {
    /// Message and location of the last panic caught on this thread by [`catch`].
    static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
    /// Whether this thread is inside [`catch`] (then the hook stays quiet).
    static CATCHING: RefCell<bool> = const { RefCell::new(false) };
}

/// Runs `f`; a panic becomes `Err("message at file:line:col")` instead of unwinding further.
pub fn catch<T>(f: impl FnOnce() -> T + UnwindSafe) -> Result<T, String> {
    install_hook();
    CATCHING.with(|c| *c.borrow_mut() = true);
    let result = panic::catch_unwind(f);
    CATCHING.with(|c| *c.borrow_mut() = false);
    result.map_err(|payload| {
        LAST.with(|l| l.borrow_mut().take()).unwrap_or_else(|| {
            payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(non-string panic payload)".to_string())
        })
    })
}

fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !CATCHING.with(|c| *c.borrow()) {
                return default(info);
            }
            let payload = info.payload();
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(non-string panic payload)".to_string());
            let at = info
                .location()
                .map(|l| format!(" at {}:{}:{}", l.file(), l.line(), l.column()));
            LAST.with(|l| *l.borrow_mut() = Some(format!("{msg}{}", at.unwrap_or_default())));
        }));
    });
}
