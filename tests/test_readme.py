"""The README's ```python examples run (and type-check with mypy against the stubs)."""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

from conftest import ADD_WASM

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.M | re.S)


def test_readme_has_examples():
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, tmp_path, monkeypatch, capsys):
    code = BLOCKS[index]
    if "numpy" in code:
        pytest.importorskip("numpy", reason="numpy not installed")
    (tmp_path / "add.wasm").write_bytes(ADD_WASM)  # for the quick-start example
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"README.md[python block {index + 1}]", "exec"), {"__name__": "__readme__"})


def test_readme_examples_type_check(tmp_path):
    if shutil.which("mypy") is None and not _has_module("mypy"):
        pytest.skip("mypy not installed (pip install '.[test]')")
    for i, code in enumerate(BLOCKS):
        (tmp_path / f"readme_{i + 1}.py").write_text(code, encoding="utf-8")
    r = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--allow-untyped-globals",
         "--disable-error-code=type-arg", "--disable-error-code=no-any-return", *sorted(str(p) for p in tmp_path.glob("*.py"))],
        capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "MYPYPATH": ""},
    )
    assert r.returncode == 0, r.stdout + r.stderr


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
