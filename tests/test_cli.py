"""`python -m wazero`: call, inspect, --version and error reporting."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import wazero
from conftest import ADD_WASM, DATA, KITCHEN_WAT

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
    "args, needle",
    [
        (("add", "1"), "takes 2 argument"),
        (("add", "1", "x"), "cannot parse 'x' as i32"),
        (("add", "1", "1.5"), "cannot parse '1.5' as i32"),
        (("add", "1", str(2**32)), "out of range"),
        (("nope",), "no export named 'nope'"),
    ],
)
def test_call_errors(args, needle):
    r = run("call", ADD_WAT, *args)
    assert r.returncode == 1
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
