// Our own WASI programs (sources `tests/wasi/*.c`, built by `tests/wasi/build.sh`).
use super::*;

use std::io::Cursor;

use wazero::wasi::{exit_code, Output};
use wazero::{Extern, Val};

fn wasm(name: &str) -> PathBuf {
    own_dir().join(format!("{name}.wasm"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

type Check = fn() -> Result<(), String>;

fn ensure(cond: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(msg())
    }
}

fn run_simple(name: &str, config: &mut WasiConfig) -> Outcome {
    let (out, err) = (OutputBuffer::new(), OutputBuffer::new());
    config.stdout(out.output()).stderr(err.output());
    let config = std::mem::take(config);
    run_wasm(&wasm(name), config, out, err)
}

fn file_io() -> Result<(), String> {
    let scratch = Scratch::new("fileio");
    let data = scratch.0.join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("input.txt"), "from the host\n").unwrap();
    std::fs::create_dir(data.join("zdir")).unwrap();
    let mut config = WasiConfig::new();
    config.arg("fileio").preopen_dir(&data, "/data", false).unwrap();
    let o = run_simple("fileio", &mut config);
    ensure(o.exit == Ok(0), || format!("exit {:?}, stdout {}", o.exit, text(&o.stdout)))?;
    let want = "read 13 bytes: hello, world\nsize 13, tail world\ninput: from the host\n\
                listing: input.txt out zdir\ndone\n";
    ensure(text(&o.stdout) == want, || format!("stdout {:?}", text(&o.stdout)))?;
    // The program cleaned up after itself; the host file is untouched.
    let mut names: Vec<_> = std::fs::read_dir(&data).unwrap().map(|e| e.unwrap().file_name()).collect();
    names.sort();
    ensure(names == ["input.txt", "zdir"], || format!("left behind: {names:?}"))
}

fn stdin_to_stdout() -> Result<(), String> {
    let input: Vec<u8> = b"piped from rust bytes\n".repeat(1000);
    let mut config = WasiConfig::new();
    config.arg("cat").stdin(Stdin::Reader(Box::new(Cursor::new(input.clone()))));
    let o = run_simple("cat", &mut config);
    ensure(o.exit == Ok(0), || format!("exit {:?}", o.exit))?;
    ensure(o.stdout == input.to_ascii_uppercase(), || format!("stdout has {} bytes", o.stdout.len()))?;
    ensure(text(&o.stderr) == format!("{} bytes\n", input.len()), || format!("stderr {:?}", text(&o.stderr)))?;
    // Empty stdin: EOF at once.
    let mut config = WasiConfig::new();
    config.arg("cat");
    let o = run_simple("cat", &mut config);
    ensure(o.exit == Ok(0) && o.stdout.is_empty() && text(&o.stderr) == "0 bytes\n", || {
        format!("empty stdin: {:?} {:?}", o.exit, text(&o.stderr))
    })
}

fn exit_codes() -> Result<(), String> {
    for (args, code) in [(vec![], 0), (vec!["0"], 0), (vec!["3"], 3), (vec!["255"], 255)] {
        let mut config = WasiConfig::new();
        config.arg("exitcode.wasm").args(args.iter().copied()).env("GREETING", "hi there");
        let o = run_simple("exitcode", &mut config);
        ensure(o.exit == Ok(code), || format!("args {args:?}: exit {:?}, want {code}", o.exit))?;
        let mut want = String::from("argv[0]=exitcode.wasm\n");
        for (i, a) in args.iter().enumerate() {
            want += &format!("argv[{}]={a}\n", i + 1);
        }
        want += "GREETING=hi there\nHOME=(unset)\n";
        ensure(text(&o.stdout) == want, || format!("stdout {:?}", text(&o.stdout)))?;
    }
    // proc_exit from a plain call carries the status in the error.
    let store = Store::new();
    let module = Module::new(&std::fs::read(wasm("exitcode")).unwrap()).unwrap();
    let mut config = WasiConfig::new();
    config.args(["exitcode", "7"]);
    let ctx = WasiCtx::new(config);
    let inst = ctx.instantiate(&store, &module, |_, _| None).map_err(|e| e.to_string())?;
    let Some(Extern::Func(start)) = inst.export(&store, "_start") else { return Err("no _start".into()) };
    let err = start.call(&store, &[]).expect_err("proc_exit must end the call");
    ensure(exit_code(&err) == Some(7), || format!("error {err}"))
}

fn clocks_and_random() -> Result<(), String> {
    let mut config = WasiConfig::new();
    config.arg("clocks");
    let o = run_simple("clocks", &mut config);
    ensure(o.exit == Ok(0), || format!("exit {:?}", o.exit))?;
    let out = text(&o.stdout);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let rt: i64 = out
        .lines()
        .find_map(|l| l.strip_prefix("realtime "))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("stdout {out:?}"))?;
    ensure((rt - now).abs() <= 5, || format!("realtime {rt} vs host {now}"))?;
    for key in ["slept_enough 1", "res_ok 1", "random_differs 1", "random_not_zero 1"] {
        ensure(out.lines().any(|l| l == key), || format!("missing `{key}` in {out:?}"))?;
    }
    Ok(())
}

fn reactor() -> Result<(), String> {
    let store = Store::new();
    let module = Module::new(&std::fs::read(wasm("reactor")).unwrap()).unwrap();
    let out = OutputBuffer::new();
    let mut config = WasiConfig::new();
    config.env("WHO", "reactor").stdout(out.output());
    let ctx = WasiCtx::new(config);
    let inst = ctx.instantiate(&store, &module, |_, _| None).map_err(|e| e.to_string())?;
    let Some(Extern::Func(bump)) = inst.export(&store, "bump") else { return Err("no bump".into()) };
    let r1 = bump.call(&store, &[]).map_err(|e| e.to_string())?;
    let r2 = bump.call(&store, &[]).map_err(|e| e.to_string())?;
    ensure(r1 == [Val::I32(42)] && r2 == [Val::I32(43)], || format!("results {r1:?} {r2:?}"))?;
    ensure(text(&out.contents()) == "bump 42 reactor\nbump 43 reactor\n", || text(&out.contents()))?;
    ensure(ctx.run(&store, &inst).is_err(), || "a reactor has no _start".into())
}

/// Snapshot of a directory tree: relative path → (kind, contents or link target, mtime).
fn snapshot(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let mtime = m.modified().unwrap().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
            if m.file_type().is_symlink() {
                out.insert(rel, format!("link {}", std::fs::read_link(&p).unwrap().display()));
            } else if m.is_dir() {
                out.insert(rel.clone(), "dir".into());
                walk(root, &p, out);
            } else {
                let c = std::fs::read(&p).unwrap();
                out.insert(rel, format!("file {} {mtime} nlink {}", text(&c), std::os::unix::fs::MetadataExt::nlink(&m)));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn sandbox() -> Result<(), String> {
    let scratch = Scratch::new("sandbox");
    let root = &scratch.0;
    let secret = root.join("secret.txt");
    std::fs::write(&secret, "top secret").unwrap();
    let sb = root.join("sandbox");
    std::fs::create_dir_all(sb.join("sub")).unwrap();
    std::fs::write(sb.join("inside.txt"), "inside").unwrap();
    std::os::unix::fs::symlink("../secret.txt", sb.join("link_out_rel")).unwrap();
    std::os::unix::fs::symlink(&secret, sb.join("link_out_abs")).unwrap();
    std::os::unix::fs::symlink("..", sb.join("link_dir_out")).unwrap();
    let ro = root.join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::write(ro.join("ro.txt"), "read only").unwrap();
    let outside_before: BTreeMap<_, _> =
        snapshot(root).into_iter().filter(|(k, _)| !k.starts_with("sandbox/")).collect();
    let sandbox_before = snapshot(&sb);

    let mut config = WasiConfig::new();
    config.arg("sandbox").preopen_dir(&sb, "/sandbox", false).unwrap().preopen_dir(&ro, "/ro", true).unwrap();
    let o = run_simple("sandbox", &mut config);
    let out = text(&o.stdout);
    ensure(o.exit == Ok(0), || {
        let fails: Vec<&str> = out.lines().filter(|l| !l.starts_with("ok ")).collect();
        format!("exit {:?}: {}", o.exit, fails.join(" | "))
    })?;
    ensure(out.lines().filter(|l| l.starts_with("ok ")).count() >= 60, || format!("too few checks ran: {out}"))?;
    let outside_after: BTreeMap<_, _> =
        snapshot(root).into_iter().filter(|(k, _)| !k.starts_with("sandbox/")).collect();
    ensure(outside_after == outside_before, || format!("outside changed: {outside_before:?} -> {outside_after:?}"))?;
    ensure(snapshot(&sb) == sandbox_before, || format!("sandbox not restored: {:?}", snapshot(&sb)))
}

/// Imports other than WASI can be combined with it; unknown imports are link errors.
fn combined_imports() -> Result<(), String> {
    use wazero::{Func, FuncType, ValType};
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
        (import "env" "twice" (func $twice (param i32) (result i32)))
        (memory (export "memory") 1)
        (data (i32.const 16) "combined\n")
        (func (export "_start")
            (i32.store (i32.const 0) (i32.const 16))
            (i32.store (i32.const 4) (call $twice (i32.const 4)))
            (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
            (drop (call $w (i32.const 1) (i32.const 65530) (i32.const 1) (i32.const 8)))))"#;
    let store = Store::new();
    let module = Module::from_wat(wat).map_err(|e| e.to_string())?;
    let out = OutputBuffer::new();
    let mut config = WasiConfig::new();
    config.stdout(Output::Writer(Box::new(out.clone())));
    let ctx = WasiCtx::new(config);
    let twice = Func::new_host(&store, FuncType::new([ValType::I32], [ValType::I32]), |_, a, r| {
        let Val::I32(x) = a[0] else { unreachable!() };
        r[0] = Val::I32(2 * x + 1);
        Ok(())
    });
    let inst = ctx
        .instantiate(&store, &module, |m, n| (m == "env" && n == "twice").then_some(Extern::Func(twice)))
        .map_err(|e| e.to_string())?;
    let r = ctx.run(&store, &inst).map_err(|e| e.to_string());
    ensure(r == Ok(0), || format!("run: {r:?}"))?;
    ensure(out.contents() == b"combined\n", || text(&out.contents()))?;
    let ctx = WasiCtx::new(WasiConfig::new());
    let err = ctx.instantiate(&store, &module, |_, _| None).expect_err("env.twice is missing");
    ensure(err.to_string().contains("env.twice"), || err.to_string())
}

pub fn run_all() -> (usize, usize, Vec<String>) {
    let checks: &[(&str, Check)] = &[
        ("file_io", file_io),
        ("stdin_to_stdout", stdin_to_stdout),
        ("exit_codes", exit_codes),
        ("clocks_and_random", clocks_and_random),
        ("reactor", reactor),
        ("sandbox", sandbox),
        ("combined_imports", combined_imports),
    ];
    let (mut passed, mut failed, mut problems) = (0, 0, Vec::new());
    for (name, f) in checks {
        if !filter_matches(name) {
            continue;
        }
        match std::panic::catch_unwind(f) {
            Ok(Ok(())) => {
                passed += 1;
                println!("own {name} ... ok");
            }
            Ok(Err(e)) => {
                failed += 1;
                println!("own {name} ... FAILED");
                problems.push(format!("own {name}: {e}"));
            }
            Err(_) => {
                failed += 1;
                problems.push(format!("own {name}: panicked"));
            }
        }
    }
    (passed, failed, problems)
}
