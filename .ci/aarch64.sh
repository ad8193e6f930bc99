#!/usr/bin/env bash
# CI fragment: the whole Rust test suite (unit, compiler, api, cross-ISA and the spec suite of
# ../shared/wasm-testsuite/core-2.0 with the same allowed-failures list as x86-64) built for
# aarch64-unknown-linux-gnu and run under user-mode QEMU. Called by .ci/run; also runnable
# alone from a clean checkout: `bash .ci/aarch64.sh`. The cross linker and the qemu runner
# are configured in .cargo/config.toml.
#
# With WAZERO_CI_A64_PYTHON=1 it also builds the Python wheel for aarch64 (abi3, dev
# profile) and runs the pytest suite under qemu with Debian's arm64 CPython, extracted into
# a private root (no change to the system's apt configuration).
#
# Measured on the 2-core project VM while shared with other builds (load ~10): apt ~15 s;
# cold build of the aarch64 test binaries 9 min (3 min CPU); tests under qemu 1.5-2.5 min
# (spec suite 1-2.5 min, compiler tests 15-40 s); incremental re-run 1m40s. Python part:
# wheel build 9 min (3.5 min CPU; pyo3 is built for the target), pytest ~5.5 min under qemu
# (test_resources.py, the RSS leak loops of 10,000 cycles each, is skipped: far too slow
# under emulation and not ISA-specific).
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

if [ "${WAZERO_CI_A64_PYTHON:-0}" = 1 ]; then
    R=$PWD/target/a64-python
    A="-o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o Dir::State::Lists=$R/lists
       -o Dir::Cache=$R/cache -o Dir::State::status=$R/status"
    if [ ! -x "$R/root/usr/bin/python3.11" ]; then
        step "arm64 CPython into $R/root"
        mkdir -p "$R"/{lists/partial,cache/archives/partial,root}
        touch "$R/status"
        # shellcheck disable=SC2086
        apt-get $A update -qq
        # shellcheck disable=SC2086
        apt-get $A install --download-only --no-install-recommends -y -qq \
            python3.11-minimal libpython3.11-stdlib >/dev/null
        for d in "$R"/cache/archives/*.deb; do dpkg-deb -x "$d" "$R/root"; done
    fi
    # sys.executable must be runnable by subprocesses (the CLI tests): qemu's -0 sets argv[0]
    # to this host-side wrapper.
    cat > "$R/python3" <<WRAP
#!/bin/sh
exec qemu-aarch64 -0 "\$0" -L "$R/root" "$R/root/usr/bin/python3.11" "\$@"
WRAP
    chmod +x "$R/python3"

    MATURIN=$(command -v maturin || true)
    if [ -z "$MATURIN" ]; then
        step "venv with maturin"
        python3 -m venv "$R/venv"
        "$R/venv/bin/python" -m pip install -q 'maturin>=1.16,<2.0'
        MATURIN=$R/venv/bin/maturin
    fi
    step "maturin build --target $TARGET"
    rm -rf "$R/wheels" "$R/pylib"
    "$MATURIN" build --profile dev --target "$TARGET" --out "$R/wheels"
    python3 -m zipfile -e "$R"/wheels/wazero-*.whl "$R/pylib"
    python3 -m pip install -q --target "$R/pylib" 'pytest>=8'

    step "pytest under qemu ($("$R/python3" -c 'import platform; print(platform.machine())'))"
    (cd "$R" && PYTHONPATH="$R/pylib" "$R/python3" -m pytest -q -p no:cacheprovider \
        --ignore="$OLDPWD/tests/test_resources.py" "$OLDPWD/tests")
fi

step "done"
