//! Runs script files, each in a child process of this test binary, a few at a time.
//!
//! A child process per file isolates the run from crashes (a JIT bug can fault or corrupt
//! memory) and hangs (a timeout kills the child); whatever the child reported before it died
//! is kept, and the rest of its commands fail with the reason.

use std::io::Read;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::record::{self, FileReport};
use crate::runner::child_command;

/// Environment variable through which the parent tells a child which file to run.
pub const CHILD_ENV: &str = "WAZERO_SPEC_CHILD";

/// The `.wast` files of `dir`, sorted by name.
pub fn suite_files(dir: &Path) -> Result<Vec<String>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut files: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".wast"))
        .collect();
    files.sort();
    Ok(files)
}

/// Runs `files` of `dir` over `jobs` concurrent children; reports come back sorted by file.
pub fn run_files(dir: &Path, files: &[String], jobs: usize, timeout: Duration) -> Vec<FileReport> {
    let exe = std::env::current_exe().expect("cannot locate the test binary");
    let next = AtomicUsize::new(0);
    let reports = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(file) = files.get(i) else { break };
                let report = run_child(&exe, &dir.join(file), file, timeout);
                reports.lock().unwrap().push(report);
            });
        }
    });
    let mut reports = reports.into_inner().unwrap();
    reports.sort_by(|a, b| a.file.cmp(&b.file));
    reports
}

fn run_child(exe: &Path, path: &Path, file: &str, timeout: Duration) -> FileReport {
    let spawned = child_command(exe)
        .env(CHILD_ENV, path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            return record::parse_child_output(file, "", Some(&format!("cannot spawn child: {e}")))
        }
    };
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());

    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!("timed out after {}s", timeout.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => break Err(format!("cannot wait for child: {e}")),
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();

    let unfinished = match status {
        Ok(status) if status.success() => None,
        Ok(status) => Some(format!(
            "child process {}{}",
            describe(status),
            stderr_tail(&stderr)
        )),
        Err(why) => Some(why),
    };
    record::parse_child_output(file, &stdout, unfinished.as_deref())
}

/// Reads a pipe to the end on its own thread (so a chatty child never blocks on a full pipe).
fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn describe(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return format!("crashed with signal {sig}");
        }
    }
    format!("exited with {status}")
}

fn stderr_tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return String::new();
    }
    let tail = lines[lines.len().saturating_sub(3)..].join(" | ");
    format!(" (stderr: {})", truncate(&tail, 300))
}

/// `s` cut to at most `max` characters, marked with `...` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(max).collect::<String>())
    }
}
