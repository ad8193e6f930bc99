//! Catching panics (e.g. `todo!()` in an unfinished runtime) as ordinary command failures.

use std::cell::RefCell;
use std::fmt;
use std::panic::{self, UnwindSafe};
use std::sync::Once;

/// A caught panic.
#[derive(Clone, Debug)]
pub struct Panic {
    pub message: String,
    /// `file:line:col` of the panic, when known.
    pub location: Option<String>,
}

impl fmt::Display for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(at) => write!(f, "{} at {at}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

thread_local! {
    /// Message and location of the last panic caught on this thread by [`catch`].
    static LAST: RefCell<Option<Panic>> = const { RefCell::new(None) };
    /// Whether this thread is inside [`catch`] (then the hook stays quiet).
    static CATCHING: RefCell<bool> = const { RefCell::new(false) };
}

/// Runs `f`; a panic becomes `Err` instead of unwinding further.
pub fn catch<T>(f: impl FnOnce() -> T + UnwindSafe) -> Result<T, Panic> {
    install_hook();
    CATCHING.with(|c| *c.borrow_mut() = true);
    let result = panic::catch_unwind(f);
    CATCHING.with(|c| *c.borrow_mut() = false);
    result.map_err(|payload| {
        LAST.with(|l| l.borrow_mut().take())
            .unwrap_or_else(|| Panic {
                message: payload_message(payload.as_ref()),
                location: None,
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
            let panic = Panic {
                message: payload_message(info.payload()),
                location: info
                    .location()
                    .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column())),
            };
            LAST.with(|l| *l.borrow_mut() = Some(panic));
        }));
    });
}

fn payload_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(non-string panic payload)".to_string())
}
