//! Re-executing the test binary in a child process, also under a cross-test runner.
//!
//! Included with `#[path]` by the test binaries that isolate their cases in child processes of
//! themselves (`tests/spec.rs`, `tests/wasi.rs`).

use std::path::Path;
use std::process::Command;

/// Environment variable holding a command prefix (e.g. `qemu-aarch64 -L /usr/aarch64-linux-gnu`)
/// that re-executes this binary, set by the cross-test runner in `.cargo/config.toml`: under
/// user-mode QEMU the host kernel cannot exec the (foreign) test binary itself.
pub const RUNNER_ENV: &str = "WAZERO_TEST_RUNNER";

/// The command that runs `exe`, through the runner of [`RUNNER_ENV`] when set.
pub fn child_command(exe: &Path) -> Command {
    let runner = std::env::var(RUNNER_ENV).unwrap_or_default();
    let mut words = runner.split_whitespace();
    match words.next() {
        Some(program) => {
            let mut cmd = Command::new(program);
            cmd.args(words).arg(exe);
            cmd
        }
        None => Command::new(exe),
    }
}
