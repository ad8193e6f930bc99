//! WASI preview1 tests: `cargo test --test wasi`.
//!
//! 1. The official WASI test suite from `../shared/wasi-testsuite/` (relative to the crate
//!    root; the run fails loudly if it is missing), run as its README specifies: every
//!    `*.wasm` of `{assemblyscript,c,rust}/wasm32-wasip1/` is a test; `NAME.json` (if any)
//!    gives `args`, `env`, `root`, `exit_code`, `stdout`/`stderr` (expected prefixes).
//!    argv = [`NAME.wasm`] + args; the environment is exactly `env`; `root` is copied to a
//!    fresh scratch folder which is preopened as `/` (fd 3); stdin is empty.
//!    Each test runs in a child process of this binary (crashes and hangs stay isolated) with a
//!    time limit. Failures are compared with `tests/wasi_allowed_failures.txt`
//!    (`NAME  REASON` per line): an unlisted failure or a listed test that passes fails
//!    the run. The list may only shrink; wasmtime passes every preview1 test, so it is empty.
//! 2. Our own C programs in `tests/wasi/` (sources next to the committed `.wasm`; rebuild
//!    with `tests/wasi/build.sh`): file I/O through a preopen, directory listing,
//!    stdin → stdout, exit codes, clocks, random, and the adversarial sandbox set.
//!
//! Environment: `WAZERO_WASI_FILTER=a,b` (substring filter on test names),
//! `WAZERO_WASI_JOBS=N` (parallel children, default: cores), `WAZERO_WASI_TIMEOUT=SECS`
//! (per test, default 60), `WAZERO_WASI_ERRNO_UNIX=1` (adds `ERRNO_MODE_UNIX=1` to the Rust
//! tests' environment: only Linux errno values are accepted).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use wazero::wasi::{OutputBuffer, Stdin, WasiConfig, WasiCtx};
use wazero::{Module, Store};

#[path = "common/runner.rs"]
mod runner;

const CHILD_ENV: &str = "WAZERO_WASI_CHILD";

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/wasi-testsuite")
}

fn own_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wasi")
}

/// A fresh, empty scratch directory (removed by `Scratch::drop`).
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "wazero-wasi-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            tag
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let ty = e.file_type().unwrap();
        let to = dst.join(e.file_name());
        if ty.is_dir() {
            copy_tree(&e.path(), &to);
        } else if ty.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(e.path()).unwrap(), &to).unwrap();
        } else {
            std::fs::copy(e.path(), &to).unwrap();
            // Fixtures are read-only in shared/; the tests write into them.
            let mut perm = std::fs::metadata(&to).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perm.set_readonly(false);
            std::fs::set_permissions(&to, perm).unwrap();
        }
    }
}

struct Outcome {
    exit: Result<i32, String>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Runs a WASI command in-process.
fn run_wasm(wasm: &Path, config: WasiConfig, stdout: OutputBuffer, stderr: OutputBuffer) -> Outcome {
    let exit = (|| {
        let bytes = std::fs::read(wasm).map_err(|e| format!("read {}: {e}", wasm.display()))?;
        let store = Store::new();
        let module = Module::new(&bytes).map_err(|e| format!("compile: {e}"))?;
        let ctx = WasiCtx::new(config);
        let instance = ctx.instantiate(&store, &module, |_, _| None).map_err(|e| format!("instantiate: {e}"))?;
        ctx.run(&store, &instance).map_err(|e| format!("run: {e}"))
    })();
    Outcome { exit, stdout: stdout.contents(), stderr: stderr.contents() }
}

// ------------------------------------------------------------------ the official suite

struct SuiteTest {
    name: String,
    wasm: PathBuf,
    spec: serde_json::Value,
}

fn discover() -> Vec<SuiteTest> {
    let root = suite_dir();
    if !root.is_dir() {
        panic!(
            "the WASI test suite is missing: expected it at {} (../shared/wasi-testsuite relative to the crate)",
            root.display()
        );
    }
    let mut tests = Vec::new();
    for lang in ["assemblyscript", "c", "rust"] {
        let dir = root.join(lang).join("wasm32-wasip1");
        let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
            .collect();
        names.sort();
        for wasm in names {
            let name = wasm.file_stem().unwrap().to_string_lossy().into_owned();
            let json = wasm.with_extension("json");
            let spec = if json.exists() {
                serde_json::from_slice(&std::fs::read(&json).unwrap())
                    .unwrap_or_else(|e| panic!("{}: {e}", json.display()))
            } else {
                serde_json::json!({})
            };
            tests.push(SuiteTest { name, wasm, spec });
        }
    }
    assert!(tests.len() >= 72, "expected the 72 preview1 tests, found {}", tests.len());
    tests
}

/// Runs one suite test in this process: `Ok(())` on pass, `Err(reason)` otherwise.
fn run_suite_test(t: &SuiteTest) -> Result<(), String> {
    let spec = &t.spec;
    let mut config = WasiConfig::new();
    config.arg(format!("{}.wasm", t.name));
    if let Some(args) = spec.get("args").and_then(|a| a.as_array()) {
        config.args(args.iter().map(|a| a.as_str().unwrap().to_string()));
    }
    if let Some(env) = spec.get("env").and_then(|e| e.as_object()) {
        for (k, v) in env {
            config.env(k.clone(), v.as_str().unwrap().to_string());
        }
    }
    // Stricter errno checks (Linux values only) for the Rust tests, on request.
    if std::env::var_os("WAZERO_WASI_ERRNO_UNIX").is_some() && t.wasm.to_string_lossy().contains("/rust/") {
        config.env("ERRNO_MODE_UNIX", "1");
    }
    let scratch = Scratch::new(&t.name);
    if let Some(root) = spec.get("root").and_then(|r| r.as_str()) {
        let src = t.wasm.parent().unwrap().join(root);
        let dst = scratch.0.join("root");
        copy_tree(&src, &dst);
        config.preopen_dir(&dst, "/", false).map_err(|e| e.to_string())?;
    }
    config.stdin(Stdin::Empty);
    let (out, err) = (OutputBuffer::new(), OutputBuffer::new());
    config.stdout(out.output()).stderr(err.output());
    let o = run_wasm(&t.wasm, config, out, err);
    let tail = |b: &[u8]| {
        let s = String::from_utf8_lossy(b);
        let s = s.trim_end();
        s[s.len().saturating_sub(600)..].to_string()
    };
    let expected = spec.get("exit_code").and_then(|c| c.as_i64()).unwrap_or(0) as i32;
    match &o.exit {
        Ok(code) if *code == expected => {}
        Ok(code) => return Err(format!("exit code {code}, expected {expected}; stderr: {}", tail(&o.stderr))),
        Err(e) => return Err(format!("{e}; stderr: {}", tail(&o.stderr))),
    }
    for (key, got) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
        if let Some(want) = spec.get(key).and_then(|s| s.as_str()) {
            if !got.starts_with(want.as_bytes()) {
                return Err(format!("{key} {:?} does not start with {want:?}", String::from_utf8_lossy(got)));
            }
        }
    }
    Ok(())
}

/// Child mode: run the one suite test named in `CHILD_ENV`, print `PASS` or `FAIL <reason>`.
fn child(name: &str) {
    let t = discover().into_iter().find(|t| t.name == name).expect("unknown test");
    match run_suite_test(&t) {
        Ok(()) => println!("\nPASS"),
        Err(e) => println!("\nFAIL {}", e.replace('\n', " | ")),
    }
}

fn run_in_child(name: &str, timeout: Duration) -> Result<(), String> {
    let exe = std::env::current_exe().unwrap();
    let mut c = runner::child_command(&exe)
        .env(CHILD_ENV, name)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn: {e}"))?;
    let start = Instant::now();
    loop {
        if let Some(status) = c.try_wait().unwrap() {
            let out = c.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            let last = stdout.lines().rev().find(|l| !l.is_empty()).unwrap_or("");
            return if last == "PASS" {
                Ok(())
            } else if let Some(r) = last.strip_prefix("FAIL ") {
                Err(r.to_string())
            } else {
                let err = String::from_utf8_lossy(&out.stderr);
                Err(format!("child crashed ({status}): {}", &err[err.len().saturating_sub(400)..]))
            };
        }
        if start.elapsed() > timeout {
            let _ = c.kill();
            let _ = c.wait();
            return Err(format!("timed out after {}s", timeout.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The suite's own expectations (`expectations/wasmtime/linux.toml`, see the suite README)
/// list no preview1 test that wasmtime fails on Linux: our list may not be longer.
const MAX_ALLOWED_FAILURES: usize = 0;

fn allowed_failures() -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wasi_allowed_failures.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, reason) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        assert!(!reason.trim().is_empty(), "{}: entry `{name}` has no reason", path.display());
        out.insert(name.to_string(), reason.trim().to_string());
    }
    #[allow(clippy::absurd_extreme_comparisons)]
    let within = out.len() <= MAX_ALLOWED_FAILURES;
    assert!(
        within,
        "{}: {} entries, but wasmtime is expected to pass every preview1 test (at most {MAX_ALLOWED_FAILURES})",
        path.display(),
        out.len()
    );
    out
}

fn filter_matches(name: &str) -> bool {
    match std::env::var("WAZERO_WASI_FILTER") {
        Ok(f) if !f.is_empty() => f.split(',').any(|p| name.contains(p)),
        _ => true,
    }
}

/// Returns (passed, failed, problems).
fn run_suite() -> (usize, usize, Vec<String>) {
    let tests: Vec<SuiteTest> = discover().into_iter().filter(|t| filter_matches(&t.name)).collect();
    let allowed = allowed_failures();
    let jobs = std::env::var("WAZERO_WASI_JOBS")
        .ok()
        .and_then(|j| j.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2));
    let timeout =
        Duration::from_secs(std::env::var("WAZERO_WASI_TIMEOUT").ok().and_then(|t| t.parse().ok()).unwrap_or(60));
    let results = Mutex::new(BTreeMap::new());
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(t) = tests.get(i) else { break };
                let r = run_in_child(&t.name, timeout);
                results.lock().unwrap().insert(t.name.clone(), r);
            });
        }
    });
    let results = results.into_inner().unwrap();
    let (mut passed, mut failed, mut problems) = (0, 0, Vec::new());
    for (name, r) in &results {
        match (r, allowed.get(name)) {
            (Ok(()), None) => {
                passed += 1;
                println!("suite {name} ... ok");
            }
            (Ok(()), Some(_)) => {
                passed += 1;
                problems.push(format!("{name}: passes but is listed in wasi_allowed_failures.txt (remove it)"));
            }
            (Err(e), Some(reason)) => {
                failed += 1;
                println!("suite {name} ... allowed failure ({reason}): {e}");
            }
            (Err(e), None) => {
                failed += 1;
                problems.push(format!("{name}: {e}"));
            }
        }
    }
    for name in allowed.keys() {
        if !results.contains_key(name) && filter_matches(name) && !tests.iter().any(|t| &t.name == name) {
            problems.push(format!("{name}: listed in wasi_allowed_failures.txt but no such test"));
        }
    }
    (passed, failed, problems)
}

// ------------------------------------------------------------------ our own C programs

#[path = "wasi/own.rs"]
mod own;

fn main() {
    if let Ok(name) = std::env::var(CHILD_ENV) {
        child(&name);
        return;
    }
    // Accept and ignore libtest arguments (e.g. `--nocapture`, filters are env-based).
    let t0 = Instant::now();
    let (mut passed, mut failed, mut problems) = run_suite();
    println!("wasi-testsuite: {passed} passed, {failed} failed ({:.1}s)", t0.elapsed().as_secs_f64());
    let (p, f, pr) = own::run_all();
    passed += p;
    failed += f;
    problems.extend(pr);
    if !problems.is_empty() {
        println!("\nunexpected results:");
        for p in &problems {
            println!("  {p}");
        }
    }
    println!("\nwasi: {passed} passed, {} failed", problems.len());
    let _ = failed;
    if !problems.is_empty() {
        std::process::exit(1);
    }
}
