"""WASI preview1 from Python: WasiConfig, instantiate(wasi=), run(), WasiExit, stdio, the CLI.

The programs are the C test programs of tests/wasi/ (built .wasm committed next to them).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

import wazero

WASI = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wasi")


def prog(name: str) -> str:
    return os.path.join(WASI, name + ".wasm")


@pytest.fixture
def runtime():
    with wazero.Runtime() as rt:
        yield rt


def test_run_returns_exit_code_and_captures_stdout(runtime):
    out = bytearray()
    config = wazero.WasiConfig(["exitcode.wasm", "5"], {"GREETING": "hey"}, stdout=out)
    module = runtime.instantiate_file(prog("exitcode"), wasi=config)
    assert module.run() == 5
    assert bytes(out) == b"argv[0]=exitcode.wasm\nargv[1]=5\nGREETING=hey\nHOME=(unset)\n"


def test_return_from_main_is_zero(runtime):
    module = runtime.instantiate_file(prog("exitcode"), wasi=wazero.WasiConfig(["x"]))
    assert module.run() == 0


def test_wasi_exit_from_plain_call(runtime):
    module = runtime.instantiate_file(prog("exitcode"), wasi=wazero.WasiConfig(["x", "9"]))
    with pytest.raises(wazero.WasiExit) as info:
        module.call("_start")
    assert info.value.code == 9
    assert isinstance(info.value, wazero.WazeroError)


@pytest.mark.parametrize("kind", ["bytes", "bytearray", "memoryview", "bytesio", "path"])
def test_stdin_sources(runtime, tmp_path, kind):
    data = b"piped from python\n" * 500
    if kind == "bytes":
        stdin = data
    elif kind == "bytearray":
        stdin = bytearray(data)
    elif kind == "memoryview":
        stdin = memoryview(data)
    elif kind == "bytesio":
        stdin = io.BytesIO(data)
    else:
        p = tmp_path / "in.txt"
        p.write_bytes(data)
        stdin = p
    out, err = io.BytesIO(), bytearray()
    module = runtime.instantiate_file(prog("cat"), wasi=wazero.WasiConfig(["cat"], stdin=stdin, stdout=out, stderr=err))
    assert module.run() == 0
    assert out.getvalue() == data.upper()
    assert bytes(err) == b"%d bytes\n" % len(data)


def test_no_stdin_is_empty_and_none_discards(runtime):
    module = runtime.instantiate_file(prog("cat"), wasi=wazero.WasiConfig(["cat"]))
    assert module.run() == 0


def test_text_streams_and_paths(runtime, tmp_path):
    text = io.StringIO()
    path = tmp_path / "err.txt"
    config = wazero.WasiConfig(["cat"], stdin="héllo wörld\n".encode(), stdout=text, stderr=str(path))
    assert runtime.instantiate_file(prog("cat"), wasi=config).run() == 0
    assert text.getvalue() == "HéLLO WöRLD\n"  # toupper leaves non-ASCII bytes alone
    assert path.read_bytes() == b"14 bytes\n"


def test_pytest_capture(runtime, capsys):
    config = wazero.WasiConfig(["cat"], stdin=b"captured\n", stdout=sys.stdout, stderr=sys.stderr)
    assert runtime.instantiate_file(prog("cat"), wasi=config).run() == 0
    captured = capsys.readouterr()
    assert captured.out == "CAPTURED\n"
    assert captured.err == "9 bytes\n"


def test_preopen_file_io(runtime, tmp_path):
    (tmp_path / "input.txt").write_text("from the host\n")
    out = bytearray()
    config = wazero.WasiConfig(["fileio"], preopens={"/data": tmp_path}, stdout=out)
    assert runtime.instantiate_file(prog("fileio"), wasi=config).run() == 0
    assert b"listing: input.txt out\n" in out
    assert sorted(os.listdir(tmp_path)) == ["input.txt"]


def test_readonly_preopen(runtime, tmp_path):
    (tmp_path / "input.txt").write_text("from the host\n")
    out = bytearray()
    config = wazero.WasiConfig(["fileio"], readonly_preopens={"/data": tmp_path}, stdout=out, stderr=out)
    assert runtime.instantiate_file(prog("fileio"), wasi=config).run() == 1  # mkdir is refused
    assert sorted(os.listdir(tmp_path)) == ["input.txt"]
    assert wazero.WasiConfig(readonly_preopens={"/d": tmp_path}).preopens == {"/d": (str(tmp_path), True)}


def test_reactor_initialised_at_instantiation(runtime):
    out = io.StringIO()
    module = runtime.instantiate_file(prog("reactor"), wasi=wazero.WasiConfig(env={"WHO": "py"}, stdout=out))
    assert module.call("bump") == [42]
    assert module.call("bump") == [43]
    assert out.getvalue() == "bump 42 py\nbump 43 py\n"


def test_missing_preopen_dir(runtime, tmp_path):
    config = wazero.WasiConfig(preopens={"/x": tmp_path / "nope"})
    with pytest.raises(FileNotFoundError):
        runtime.instantiate_file(prog("cat"), wasi=config)


def test_config_validation():
    with pytest.raises(TypeError):
        wazero.WasiConfig("not a list")
    with pytest.raises(ValueError):
        wazero.WasiConfig(env={"A=B": "c"})
    c = wazero.WasiConfig(["a", "b"], {"K": "V"})
    assert c.argv == ("a", "b") and c.env == {"K": "V"}


def test_non_wasi_imports_are_link_errors(runtime):
    wat = '(module (import "env" "f" (func)) (func (export "_start")))'
    with pytest.raises(wazero.LinkError):
        runtime.instantiate(wat, wasi=wazero.WasiConfig())


def cli(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wazero", "run", *args], input=stdin, capture_output=True, timeout=120
    )


def test_cli_run_exit_code_args_env():
    r = cli("--env", "GREETING=cli", prog("exitcode"), "42")
    assert r.returncode == 42
    assert r.stdout == b"argv[0]=exitcode.wasm\nargv[1]=42\nGREETING=cli\nHOME=(unset)\n"


def test_cli_run_stdio():
    r = cli(prog("cat"), stdin=b"through the cli\n")
    assert (r.returncode, r.stdout, r.stderr) == (0, b"THROUGH THE CLI\n", b"16 bytes\n")


def test_cli_run_dir(tmp_path):
    (tmp_path / "input.txt").write_text("from the host\n")
    r = cli("--dir", f"{tmp_path}:/data", prog("fileio"))
    assert r.returncode == 0, r.stderr
    assert b"input: from the host\n" in r.stdout


def test_cli_run_errors(tmp_path):
    r = cli("--env", "NOEQUALS", prog("cat"))
    assert r.returncode == 2 and b"KEY=VALUE" in r.stderr  # usage errors
    r = cli("--dir", str(tmp_path / "missing"), prog("cat"))
    assert r.returncode == 2 and b"not a directory" in r.stderr
    trap = tmp_path / "trap.wat"
    trap.write_text('(module (func (export "_start") unreachable))')
    r = cli(str(trap))
    assert r.returncode == 134 and b"trap:" in r.stderr


def test_stdio_exception_is_reraised(runtime):
    class Broken(io.RawIOBase):
        def writable(self):
            return True

        def write(self, b):
            raise RuntimeError("sink is broken")

    config = wazero.WasiConfig(["cat"], stdin=b"data\n", stdout=Broken())
    module = runtime.instantiate_file(prog("cat"), wasi=config)
    with pytest.raises(RuntimeError, match="sink is broken"):
        module.run()


def test_custom_imports_combined_with_wasi(runtime):
    wat = r"""(module
      (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
      (import "env" "twice" (func $twice (param i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 16) "combined\n")
      (func (export "_start")
        (i32.store (i32.const 0) (i32.const 16))
        (i32.store (i32.const 4) (call $twice (i32.const 4)))
        (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"""
    out = bytearray()
    module = runtime.instantiate(
        wat, {"env": {"twice": lambda x: 2 * x + 1}}, wasi=wazero.WasiConfig(stdout=out)
    )
    assert module.run() == 0
    assert bytes(out) == b"combined\n"
