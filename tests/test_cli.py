"""`python -m wazero`: call, inspect, --version and error reporting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

import wazero
from conftest import ADD_WASM, DATA, KITCHEN_WAT
from runaway import SPIN_WAT

ADD_WAT = os.path.join(DATA, "add.wat")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wazero", *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def kitchen_file(tmp_path_factory) -> str:
    p = tmp_path_factory.mktemp("cli") / "kitchen.wat"
    p.write_text(KITCHEN_WAT)
    return str(p)


def test_call_readme_example():
    r = run("call", ADD_WAT, "add", "5", "7")
    assert (r.returncode, r.stdout, r.stderr) == (0, "12\n", "")


def test_call_binary(tmp_path):
    p = tmp_path / "add.wasm"
    p.write_bytes(ADD_WASM)
    r = run("call", str(p), "add", "-5", "0x10")
    assert (r.returncode, r.stdout) == (0, "11\n"), r.stderr


def test_call_types(kitchen_file):
    assert run("call", kitchen_file, "id_f64", "2.5").stdout == "2.5\n"
    assert run("call", kitchen_file, "id_f64", "-inf").stdout == "-inf\n"
    assert run("call", kitchen_file, "id_f64", "nan").stdout == "nan\n"
    assert run("call", kitchen_file, "id_f64", "0x1p-3").stdout == "0.125\n"
    assert run("call", kitchen_file, "id_f32", "0.1").stdout == "0.10000000149011612\n"
    assert run("call", kitchen_file, "id_i64", "18446744073709551615").stdout == "-1\n"
    assert run("call", kitchen_file, "swap", "1", "2").stdout == "2 1\n"
    assert run("call", kitchen_file, "three").stdout == "-1 2.5 -3\n"
    assert run("call", kitchen_file, "nothing").stdout == "\n"


def test_call_trap(kitchen_file):
    r = run("call", kitchen_file, "div_s", "1", "0")
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr.startswith("trap: integer divide by zero")
    assert "'div_s'" in r.stderr


@pytest.mark.parametrize(
    "args, needle, status",
    [
        (("add", "1"), "takes 2 argument", 2),
        (("add", "1", "x"), "cannot parse 'x' as i32", 2),
        (("add", "1", "1.5"), "cannot parse '1.5' as i32", 2),
        (("add", "1", str(2**32)), "out of range", 1),
        (("nope",), "no export named 'nope'", 1),
    ],
)
def test_call_errors(args, needle, status):
    r = run("call", ADD_WAT, *args)
    assert r.returncode == status
    assert r.stdout == ""
    assert needle in r.stderr
    assert "Traceback" not in r.stderr


def test_call_non_function(kitchen_file):
    r = run("call", kitchen_file, "memory")
    assert r.returncode == 1 and "not a function" in r.stderr


def test_call_missing_file(tmp_path):
    r = run("call", str(tmp_path / "missing.wasm"), "f")
    assert r.returncode == 1 and r.stderr.startswith("error:")


def test_call_invalid_module(tmp_path):
    p = tmp_path / "bad.wasm"
    p.write_bytes(b"\0asm\x02\0\0\0")
    r = run("call", str(p), "f")
    assert r.returncode == 1 and "offset" in r.stderr and "Traceback" not in r.stderr


def test_call_module_with_imports(tmp_path):
    p = tmp_path / "imp.wat"
    p.write_text('(module (import "env" "f" (func)) (func (export "g")))')
    r = run("call", str(p), "g")
    assert r.returncode == 1 and "env.f" in r.stderr


def test_inspect(kitchen_file, tmp_path):
    r = run("inspect", kitchen_file)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "imports (0):"
    assert "  add: func (param i32 i32) (result i32)" in lines
    assert "  memory: memory 1" in lines
    assert "  answer: global i32" in lines
    assert "  table: table 4 funcref" in lines
    assert "  nothing: func" in lines
    p = tmp_path / "imp.wat"
    p.write_text('(module (import "env" "f" (func (param i64))) (import "env" "m" (memory 1 2)))')
    r = run("inspect", str(p))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[:3] == ["imports (2):", "  env.f: func (param i64)", "  env.m: memory 1 2"]


def test_version():
    r = run("--version")
    assert (r.returncode, r.stdout.strip()) == (0, f"wazero {wazero.version()}")


def test_usage_errors():
    r = run()
    assert r.returncode == 2 and "usage" in r.stderr
    r = run("frobnicate")
    assert r.returncode == 2


def test_main_in_process(capsys):
    from wazero._cli import main

    assert main(["call", ADD_WAT, "add", "2", "3"]) == 0
    assert capsys.readouterr().out == "5\n"


@pytest.fixture(scope="module")
def spin_file(tmp_path_factory) -> str:
    p = tmp_path_factory.mktemp("cli") / "spin.wat"
    p.write_text(SPIN_WAT)
    return str(p)


def test_inspect_types_and_sections(kitchen_file):
    r = run("inspect", ADD_WAT)
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert out[out.index("types (1):") + 1] == "  0: func (param i32 i32) (result i32)"
    sections = out[out.index("sections (4):") + 1 :]
    assert [line.split(":")[0].strip() for line in sections] == ["type", "function", "export", "code"]
    assert sections[0] == "  type: 7 bytes at offset 10"
    r = run("inspect", kitchen_file)
    assert "  memory: " in r.stdout and "  element: " in r.stdout


def test_inspect_binary_with_custom_section(tmp_path):
    p = tmp_path / "named.wasm"
    p.write_bytes(ADD_WASM + b"\x00\x06\x04note\x2a")
    r = run("inspect", str(p))
    assert r.returncode == 0, r.stderr
    assert '  custom "note": 6 bytes at offset 43' in r.stdout


@pytest.mark.parametrize("command", ["call", "inspect", "run"])
def test_help(command):
    r = run(command, "--help")
    assert r.returncode == 0 and r.stdout.startswith("usage: python -m wazero " + command), r.stdout
    r = run("--help")
    assert r.returncode == 0 and command in r.stdout


def test_call_timeout(spin_file):
    start = time.monotonic()
    r = run("call", "--timeout", "0.3", spin_file, "spin")
    assert r.returncode == 1, r.stderr
    assert r.stderr.startswith("trap: timed out") and "'spin'" in r.stderr
    assert time.monotonic() - start < 60
    assert run("call", "--timeout", "5", spin_file, "answer").stdout == "42\n"
    r = run("call", "--timeout", "-1", spin_file, "answer")
    assert r.returncode == 2 and "positive number" in r.stderr


def test_run_timeout(tmp_path):
    p = tmp_path / "spin_start.wat"
    p.write_text('(module (memory (export "memory") 1) (func (export "_start") (loop $l (br $l))))')
    r = run("run", "--timeout", "0.3", str(p))
    assert r.returncode == 134 and r.stderr.startswith("trap: timed out"), r.stderr


def test_run_exit_code(tmp_path):
    p = tmp_path / "exit.wat"
    p.write_text(
        '(module (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))'
        ' (memory (export "memory") 1) (func (export "_start") (call $exit (i32.const 7))))'
    )
    r = run("run", str(p))
    assert (r.returncode, r.stderr) == (7, "")


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")
def test_ctrl_c_stops_a_running_call(spin_file):
    p = subprocess.Popen(
        [sys.executable, "-m", "wazero", "call", "--timeout", "60", spin_file, "spin"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        # A shell running this suite in the background ignores SIGINT, and children inherit
        # that (the CLI then rightly ignores Ctrl-C): give the child the default disposition.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        # Wait until the child spins in Wasm (start-up takes CPU too: wait for more).
        # Under emulation (WAZERO_EMULATED=1, .ci/aarch64.sh) Python's start-up alone takes
        # seconds of CPU: a signal before its handler exists would kill the child outright.
        startup_cpu = 8.0 if os.environ.get("WAZERO_EMULATED") == "1" else 1.0
        deadline = time.monotonic() + 120
        while _cpu_seconds(p.pid) < startup_cpu and time.monotonic() < deadline:
            assert p.poll() is None, p.communicate()
            time.sleep(0.05)
        sent = time.monotonic()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        p.kill()
    assert (p.returncode, out, err) == (130, "", "interrupted\n")
    assert took < 10, took
