#!/usr/bin/env bash
# CI fragment: the whole Rust test suite (unit, compiler, api, cross-ISA and the spec suite of
# ../shared/wasm-testsuite/core-2.0 with the same allowed-failures list as x86-64) built for
# aarch64-unknown-linux-gnu and run under user-mode QEMU. Called by .ci/run; also runnable
# alone from a clean checkout: `bash .ci/aarch64.sh`. The cross linker and the qemu runner
# are configured in .cargo/config.toml.
#
# Measured on the 2-core project VM (shared): apt ~15 s; cold build of the aarch64 test
# binaries ~3-9 min (depends on load; proc-macros are shared with the host build); tests
# ~3 min under qemu (spec suite ~2.5 min, compiler tests ~40 s).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=aarch64-unknown-linux-gnu
export CARGO_TERM_COLOR=never CARGO_INCREMENTAL=0

t0=$SECONDS
step() { echo "=== [aarch64 $((SECONDS - t0))s] $*"; }

SUDO=
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

if ! command -v qemu-aarch64 >/dev/null || ! command -v aarch64-linux-gnu-gcc >/dev/null \
    || [ ! -d /usr/aarch64-linux-gnu/lib ]; then
    step "apt-get install cross toolchain + qemu-user"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user >/dev/null
fi

step "rustup target add $TARGET"
rustup target add "$TARGET" >/dev/null

step "cargo test --target $TARGET (under qemu-aarch64)"
cargo test --locked --no-fail-fast --target "$TARGET"

step "done"
