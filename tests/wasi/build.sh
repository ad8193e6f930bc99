#!/usr/bin/env bash
# Rebuilds the test programs of tests/wasi/ (the .wasm files are committed so that CI does
# not need clang). Needs Debian's clang + lld + wasi-libc:
#   apt-get install -y --no-install-recommends clang lld wasi-libc libclang-rt-14-dev-wasm32
set -euo pipefail
cd "$(dirname "$0")"
for src in *.c; do
    model=""; [ "$src" = reactor.c ] && model="-mexec-model=reactor"
    clang --target=wasm32-wasi $model -O2 -Wall -Wno-unused-result -Wl,--strip-all -o "${src%.c}.wasm" "$src"
    echo "built ${src%.c}.wasm ($(stat -c %s "${src%.c}.wasm") bytes)"
done
