#!/usr/bin/env python3
"""Machine code size of a module under wasmtime's Winch and Cranelift (wazero benches).

    benches/.venv/bin/python benches/code_size.py FILE.wasm|FILE.wat

``Module.serialize()`` is an ELF image; its ``.text`` section holds the compiled functions
(plus wasmtime's few per-signature trampolines), so its size is the fair number to set beside
wazero's code size (``cargo run --release --example compile_file -- FILE 1`` prints the bytes
of machine code wazero generates for the same module; wazero has no trampolines per module).
"""

import struct
import sys

import wasmtime
from wasmtime import _ffi as ffi


def text_size(elf: bytes) -> int:
    """Size of the ``.text`` section of a little-endian ELF64 image."""
    assert elf[:4] == b"\x7fELF" and elf[4] == 2 and elf[5] == 1, "ELF64 little-endian expected"
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)

    def section(i):
        # name, type, flags, addr, offset, size
        return struct.unpack_from("<IIQQQQ", elf, shoff + i * shentsize)

    names_offset = section(shstrndx)[4]
    for i in range(shnum):
        name, _, _, _, _, size = section(i)
        end = elf.index(b"\0", names_offset + name)
        if elf[names_offset + name:end] == b".text":
            return size
    raise ValueError("no .text section")


def compiled_text(wasm: bytes, winch: bool) -> int:
    cfg = wasmtime.Config()
    if winch:
        ffi.wasmtime_config_strategy_set(cfg.ptr(), 2)  # WASMTIME_STRATEGY_WINCH
    else:
        cfg.strategy = "cranelift"
    module = wasmtime.Module(wasmtime.Engine(cfg), wasm)
    return text_size(module.serialize())


def main():
    path = sys.argv[1]
    data = open(path, "rb").read()
    wasm = data if data[:4] == b"\0asm" else wasmtime.wat2wasm(data.decode())
    print(f"{path}: {len(wasm)} bytes of Wasm")
    for name, winch in (("Winch", True), ("Cranelift", False)):
        print(f"  wasmtime {name}: .text {compiled_text(wasm, winch)} bytes")


if __name__ == "__main__":
    main()
