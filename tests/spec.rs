//! The official WebAssembly spec-suite runner: `cargo test --test spec`.
//!
//! Runs every `.wast` script of `../shared/wasm-testsuite/core-2.0/` (relative to the crate
//! root; the run fails if the directory is missing) against wazero and compares the failures
//! with the allowed-failures list `tests/spec_allowed_failures.txt` (format in
//! `tests/spec/allowed.rs`). The run fails on any failure not listed, on any listed case that
//! now passes (stale entry), and on entries whose reason is not a feature group of this
//! milestone (`simd`, `bulk-memory`, `reference-types`) or does not fit the case.
//!
//! Each file runs in a child process of this binary (isolating crashes and hangs), on a
//! thread with a 64 MiB stack, with its own `Store`; a panic fails the rest of that file.
//!
//! Environment variables:
//! - `WAZERO_SPEC_FILTER=i32,memory_grow`: only run files whose name contains one of the
//!   comma-separated substrings (`i32.wast` for exactly that file); list entries of other
//!   files are neither checked nor rewritten.
//! - `WAZERO_SPEC_BLESS=1`: rewrite the allowed-failures list from the current failures,
//!   keeping existing reasons; new entries get their feature group, or `TODO`.
//! - `WAZERO_SPEC_SHOW=N|all`: how many unexpected failures to print (default 200).
//! - `WAZERO_SPEC_JOBS=N`: files run concurrently (default: available cores).
//! - `WAZERO_SPEC_TIMEOUT=SECS`: per-file time limit (default 300).
//!
//! Example: `WAZERO_SPEC_FILTER=i32 cargo test --test spec`.

#[path = "spec/allowed.rs"]
mod allowed;
#[path = "spec/driver.rs"]
mod driver;
#[path = "spec/features.rs"]
mod features;
#[path = "spec/panics.rs"]
mod panics;
#[path = "spec/record.rs"]
mod record;
#[path = "common/runner.rs"]
mod runner;
#[path = "spec/report.rs"]
mod report;
#[path = "spec/script.rs"]
mod script;
#[path = "spec/spectest.rs"]
mod spectest;
#[path = "spec/values.rs"]
mod values;

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use record::{emit, Command, Failure};

/// Stack of the thread a script runs on (`assert_exhaustion` recurses deeply).
const SCRIPT_STACK: usize = 64 << 20;

fn main() -> ExitCode {
    match std::env::var_os(driver::CHILD_ENV) {
        Some(path) => child_main(Path::new(&path)),
        None => parent_main(),
    }
}

/// Child: runs one script and reports on stdout (protocol in `tests/spec/record.rs`).
fn child_main(path: &Path) -> ExitCode {
    let src = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) => {
            println!(
                "{}",
                emit::error(&format!("cannot read {}: {e}", path.display()))
            );
            return ExitCode::SUCCESS;
        }
    };
    let worker = std::thread::Builder::new()
        .name("spec-script".into())
        .stack_size(SCRIPT_STACK)
        .spawn(move || script::run(&src, &mut StdoutSink));
    match worker.map(|w| w.join()) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}

struct StdoutSink;

impl StdoutSink {
    fn line(&self, line: String) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

impl script::Sink for StdoutSink {
    fn plan(&mut self, commands: &[Command]) {
        commands.iter().for_each(|c| self.line(emit::plan(c)));
    }
    fn result(&mut self, index: usize, failure: Option<&Failure>) {
        self.line(match failure {
            None => emit::pass(index),
            Some(f) => emit::fail(index, f),
        });
    }
    fn error(&mut self, reason: &str) {
        self.line(emit::error(reason));
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn parent_main() -> ExitCode {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let suite_dir = root.join("../shared/wasm-testsuite/core-2.0");
    let list_path = root.join("tests/spec_allowed_failures.txt");

    let all_files = match driver::suite_files(&suite_dir) {
        Ok(files) if !files.is_empty() => files,
        Ok(_) => return fatal(&format!("no .wast files in {}", suite_dir.display())),
        Err(e) => {
            return fatal(&format!(
                "spec suite missing: {e} (expected a copy of shared/ next to the crate)"
            ))
        }
    };
    let filters: Vec<String> = env("WAZERO_SPEC_FILTER")
        .map(|f| {
            f.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let files: Vec<String> = all_files
        .iter()
        .filter(|f| filters.is_empty() || filters.iter().any(|p| f.contains(p.as_str())))
        .cloned()
        .collect();
    if files.is_empty() {
        return fatal(&format!("WAZERO_SPEC_FILTER={filters:?} matches no file"));
    }
    let jobs = env("WAZERO_SPEC_JOBS")
        .and_then(|j| j.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let timeout = Duration::from_secs(
        env("WAZERO_SPEC_TIMEOUT")
            .and_then(|t| t.parse().ok())
            .unwrap_or(300),
    );
    let show = match env("WAZERO_SPEC_SHOW").as_deref() {
        Some("all") => usize::MAX,
        Some(n) => n.parse().unwrap_or(200),
        None => 200,
    };

    println!(
        "wazero spec suite: {} ({} of {} files, {} jobs)",
        suite_dir.display(),
        files.len(),
        all_files.len(),
        jobs
    );
    let reports = driver::run_files(&suite_dir, &files, jobs, timeout);

    let ran: HashSet<String> = files.iter().cloned().collect();
    let suite: HashSet<String> = all_files.iter().cloned().collect();
    let mut list = allowed::AllowedList::load(&list_path);
    if env("WAZERO_SPEC_BLESS").is_some_and(|v| v != "0") {
        let text = allowed::bless(&list, &reports, &ran);
        if let Err(e) = std::fs::write(&list_path, text) {
            return fatal(&format!("cannot write {}: {e}", list_path.display()));
        }
        println!("rewrote {}", list_path.display());
        list = allowed::AllowedList::load(&list_path);
    }
    let verdict = allowed::evaluate(&list, &reports, &ran, &suite);
    if report::print(&reports, &list, &verdict, show) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn fatal(msg: &str) -> ExitCode {
    eprintln!("spec: FATAL: {msg}");
    ExitCode::from(2)
}
