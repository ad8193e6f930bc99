//! Saves the current fuzz input when the process dies from a signal that libFuzzer can't
//! report, e.g. JIT code overflowing the native stack: libFuzzer's SIGSEGV handler then has no
//! stack to run on, the process is killed, and no `crash-*` artifact is written.
//!
//! `install` puts a handler on an alternate signal stack for SIGSEGV/SIGBUS/SIGILL/SIGFPE; it
//! writes the input being run to `<dir>/signal-<pid>`, restores the previous handler and
//! returns, so the fault happens again and is handled (or kills the process) as before.

use std::ffi::CString;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::OnceLock;

static INPUT: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
static INPUT_LEN: AtomicUsize = AtomicUsize::new(0);
static PATH: OnceLock<CString> = OnceLock::new();
const SIGNALS: [libc::c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];
static mut OLD: [std::mem::MaybeUninit<libc::sigaction>; 4] = [std::mem::MaybeUninit::uninit(); 4];

/// Runs `f` with `data` registered as the input to save on a fatal signal.
pub fn with_input<R>(data: &[u8], f: impl FnOnce() -> R) -> R {
    INPUT.store(data.as_ptr() as *mut u8, Ordering::SeqCst);
    INPUT_LEN.store(data.len(), Ordering::SeqCst);
    let r = f();
    INPUT_LEN.store(0, Ordering::SeqCst);
    r
}

extern "C" fn handler(sig: libc::c_int, _info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // Only async-signal-safe calls below.
    unsafe {
        if let Some(path) = PATH.get() {
            let len = INPUT_LEN.load(Ordering::SeqCst);
            let ptr = INPUT.load(Ordering::SeqCst);
            let fd = libc::open(path.as_ptr(), libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC, 0o644);
            if fd >= 0 {
                if len > 0 && !ptr.is_null() {
                    libc::write(fd, ptr as *const libc::c_void, len);
                }
                libc::close(fd);
            }
            let msg = b"\n==wazero-fuzz== fatal signal: input saved to the signal-<pid> file in the crash directory\n";
            libc::write(2, msg.as_ptr() as *const libc::c_void, msg.len());
        }
        for (i, &s) in SIGNALS.iter().enumerate() {
            if s == sig {
                libc::sigaction(s, (*std::ptr::addr_of!(OLD))[i].as_ptr(), std::ptr::null_mut());
            }
        }
    }
}

/// Installs the handler (once per process) writing to `dir/signal-<pid>`.
pub fn install(dir: &str) {
    if PATH.get().is_some() {
        return;
    }
    let _ = std::fs::create_dir_all(dir);
    let path = format!("{dir}/signal-{}", std::process::id());
    let _ = PATH.set(CString::new(path).unwrap());
    unsafe {
        let size = 256 * 1024;
        let stack = libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if stack == libc::MAP_FAILED {
            return;
        }
        let ss = libc::stack_t { ss_sp: stack, ss_flags: 0, ss_size: size };
        libc::sigaltstack(&ss, std::ptr::null_mut());
        for (i, &s) in SIGNALS.iter().enumerate() {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = handler as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(s, &sa, (*std::ptr::addr_of_mut!(OLD))[i].as_mut_ptr());
        }
    }
}
