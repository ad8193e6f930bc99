"""The ``python -m wazero`` (or ``wazero``) command line.

Commands::

    python -m wazero call [--timeout S] FILE FUNC [ARGS...]   # prints the results
    python -m wazero inspect FILE      # imports, exports, types and sections
    python -m wazero run [--timeout S] [--dir HOST[:GUEST]]... [--env K=V]... FILE [ARGS...]
                                       # runs a WASI preview1 command
    python -m wazero --version

``FILE`` is a ``.wasm`` binary or ``.wat`` text file (decided by content). Arguments are
parsed according to the function's parameter types: integers in decimal or ``0x`` hex
(i32/i64, signed or unsigned range), floats as Python ``float()`` accepts them (``1.5``,
``-inf``, ``nan``) or as C99 hex floats (``0x1.8p1``).

Exit status: 0 on success; 1 for an error (message on stderr: ``error: ...``, or
``trap: ...`` when the WebAssembly code trapped, including ``--timeout``); 2 for a usage
error (bad options, wrong number of arguments, unparsable arguments); 130 after Ctrl-C
(``interrupted`` on stderr).

``run`` behaves like ``wasmtime run`` for preview1 programs: stdio is inherited, argv is
``[FILE's base name] + ARGS``, the environment holds only the ``--env`` pairs, each ``--dir``
preopens a host directory (under GUEST, default the same path; ``--dir .`` gives the guest a
working directory), and the program's exit status becomes the command's (a trap or
timeout: 134).
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import List, Optional, Sequence, Union

import os

from ._errors import Trap, WasiExit, WazeroError
from ._wazero import CompiledModule, Function, Runtime, WasiConfig, _inspect, version

__all__ = ["main"]


class _UsageError(Exception):
    pass


def _parse_arg(text: str, ty: str, index: int) -> Union[int, float, None]:
    try:
        if ty in ("i32", "i64", "v128"):
            return int(text, 0)
        if ty in ("f32", "f64"):
            try:
                return float(text)
            except ValueError:
                return float.fromhex(text)
        if ty in ("funcref", "externref") and text in ("null", "None"):
            return None
    except ValueError:
        pass
    raise _UsageError(f"argument {index + 1}: cannot parse {text!r} as {ty}")


def _format_result(value: Union[int, float, None]) -> str:
    if value is None:
        return "null"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan" if math.copysign(1.0, value) > 0 else "-nan"
        return repr(value)
    return str(value)


def _cmd_call(path: str, func: str, raw_args: Sequence[str], timeout: Optional[float]) -> int:
    with Runtime(timeout=timeout) as runtime:
        with runtime.instantiate_file(path) as module:
            export = module.exports.get(func)
            if export is None:
                raise WazeroError(f"no export named '{func}'")
            if not isinstance(export, Function):
                raise WazeroError(f"export '{func}' is not a function ({export.type})")
            ty = export.type
            if len(raw_args) != len(ty.params):
                raise _UsageError(
                    f"'{func}' takes {len(ty.params)} argument(s) ({ty}), {len(raw_args)} given"
                )
            args = [_parse_arg(a, t, i) for i, (a, t) in enumerate(zip(raw_args, ty.params))]
            results = module.call(func, *args)
    print(" ".join(_format_result(r) for r in results))
    return 0


def _cmd_inspect(path: str) -> int:
    compiled = CompiledModule.from_file(path)
    with open(path, "rb") as f:
        types, sections = _inspect(f.read())
    imports = compiled.imports
    exports = compiled.exports
    print(f"imports ({len(imports)}):")
    for module, name, ty in imports:
        print(f"  {module}.{name}: {ty}")
    print(f"exports ({len(exports)}):")
    for name, ty in exports:
        print(f"  {name}: {ty}")
    print(f"types ({len(types)}):")
    for i, text in enumerate(types):
        print(f"  {i}: {text}")
    print(f"sections ({len(sections)}):")
    for name, offset, size in sections:
        print(f"  {name}: {size} bytes at offset {offset}")
    return 0


def _cmd_run(
    path: str, args: Sequence[str], dirs: Sequence[str], envs: Sequence[str], timeout: Optional[float]
) -> int:
    env = {}
    for pair in envs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise _UsageError(f"--env {pair!r}: expected KEY=VALUE")
        env[key] = value
    preopens = {}
    for spec in dirs:
        host, sep, guest = spec.partition(":")
        if not sep:
            guest = host
        if not os.path.isdir(host):
            raise _UsageError(f"--dir {spec!r}: {host!r} is not a directory")
        preopens[guest] = host
    config = WasiConfig(
        [os.path.basename(path)] + list(args),
        env,
        stdin="inherit",
        stdout="inherit",
        stderr="inherit",
        preopens=preopens,
    )
    sys.stdout.flush()
    sys.stderr.flush()
    with Runtime(timeout=timeout) as runtime:
        try:
            with runtime.instantiate_file(path, wasi=config) as module:
                if "_start" not in dict(module.exports):
                    raise WazeroError("the module has no '_start' function (not a WASI command)")
                return module.run()
        except WasiExit as e:  # proc_exit while instantiating (e.g. in _initialize)
            return e.code
        except Trap as e:
            print(f"trap: {e}", file=sys.stderr)
            return 134


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m wazero",
        description="Run and inspect WebAssembly modules with wazero.",
    )
    p.add_argument("--version", action="version", version=f"wazero {version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    timeout_help = "stop the WebAssembly code after SECONDS (a trap)"
    c = sub.add_parser(
        "call",
        help="call an exported function and print its results",
        description="Call an exported function and print its results, space-separated.",
    )
    c.add_argument("--timeout", metavar="SECONDS", type=_timeout, help=timeout_help)
    c.add_argument("file", metavar="FILE", help=".wasm or .wat file")
    c.add_argument("func", metavar="FUNC", help="name of the exported function")
    c.add_argument(
        "args",
        metavar="ARGS",
        nargs=argparse.REMAINDER,
        help="arguments, parsed according to the parameter types",
    )
    i = sub.add_parser(
        "inspect",
        help="list imports, exports, types and sections",
        description="List a module's imports, exports (with their types), type section and sections.",
    )
    i.add_argument("file", metavar="FILE", help=".wasm or .wat file")
    r = sub.add_parser(
        "run",
        help="run a WASI preview1 command; its exit status is ours",
        description="Run a WASI preview1 command (its _start); exit with its exit status.",
    )
    r.add_argument("--timeout", metavar="SECONDS", type=_timeout, help=timeout_help)
    r.add_argument(
        "--dir",
        metavar="HOST[:GUEST]",
        action="append",
        default=[],
        help="preopen the host directory HOST as GUEST (default: the same path); repeatable",
    )
    r.add_argument(
        "--env", metavar="K=V", action="append", default=[], help="set a guest environment variable; repeatable"
    )
    r.add_argument("file", metavar="FILE", help=".wasm or .wat file")
    r.add_argument("args", metavar="ARGS", nargs=argparse.REMAINDER, help="arguments for the program")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    """Runs the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    parser = _parser()
    ns = parser.parse_args(argv)
    try:
        if ns.command == "call":
            return _cmd_call(ns.file, ns.func, ns.args, ns.timeout)
        if ns.command == "run":
            return _cmd_run(ns.file, ns.args, ns.dir, ns.env, ns.timeout)
        return _cmd_inspect(ns.file)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Trap as e:
        print(f"trap: {e}", file=sys.stderr)
        return 1
    except _UsageError as e:
        print(f"{parser.prog} {ns.command}: error: {e}", file=sys.stderr)
        return 2
    except (WazeroError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
