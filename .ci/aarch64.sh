#!/usr/bin/env bash
# CI fragment for aarch64-unknown-linux-gnu under user-mode QEMU (issue 6). The cross linker
# and the qemu runner are configured in .cargo/config.toml. `.ci/run` calls its parts in its
# own order; also runnable alone from a clean checkout:
#   bash .ci/aarch64.sh                  = setup rust wheel pytest
#   bash .ci/aarch64.sh setup rust       (any subset, run in the order given)
#
# - setup: gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-user from apt if missing,
#   `rustup target add`, and Debian's arm64 CPython 3.11 extracted into target/a64-python/root
#   (apt with a private state directory: the system's apt configuration is not changed).
# - rust: `cargo test --target aarch64-unknown-linux-gnu`: every Rust test (unit, api,
#   compiler, cross-ISA, fuzz regressions, the WASI suite, and the spec suite of
#   ../shared/wasm-testsuite/core-2.0 with the same allowed-failures list as x86-64), each
#   binary run by qemu-aarch64; the spec and WASI runners re-execute their children through
#   qemu too ($WAZERO_TEST_RUNNER, set by the runner in .cargo/config.toml).
# - wheel: the Python wheel for aarch64 (per-version cp311, dev profile), unpacked into
#   target/a64-python/pylib with pytest and numpy for arm64. Uses .venv-ci/bin/maturin
#   (made by .ci/run; made here if missing) or $MATURIN.
# - pytest: the pytest suite under qemu with that CPython. test_resources.py (RSS leak
#   loops of 10,000 cycles each; not ISA-specific) is skipped: far too slow under emulation.
#
# Measured times: see the budget at the top of .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/lib.sh
CI_TAG=aarch64

R=$PWD/target/a64-python
A64_PY=python3.11

part_setup() {
    local sudo=
    if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
    if ! command -v qemu-aarch64 >/dev/null || ! command -v aarch64-linux-gnu-gcc >/dev/null \
        || [ ! -d /usr/aarch64-linux-gnu/lib ]; then
        echo "apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
            gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user >/dev/null
    fi
    rustup target add "$A64" >/dev/null 2>&1
    if [ ! -x "$R/root/usr/bin/$A64_PY" ]; then
        echo "arm64 CPython into $R/root"
        local a=(-o APT::Architecture=arm64 -o APT::Architectures::=arm64
                 -o "Dir::State::Lists=$R/lists" -o "Dir::Cache=$R/cache"
                 -o "Dir::State::status=$R/status")
        mkdir -p "$R"/{lists/partial,cache/archives/partial,root}
        touch "$R/status"
        apt-get "${a[@]}" update -qq
        apt-get "${a[@]}" install --download-only --no-install-recommends -y -qq \
            "$A64_PY-minimal" "lib$A64_PY-stdlib" >/dev/null
        local d
        for d in "$R"/cache/archives/*.deb; do dpkg-deb -x "$d" "$R/root"; done
    fi
    # sys.executable must be runnable by subprocesses (the CLI tests): qemu's -0 sets argv[0]
    # to this host-side wrapper.
    cat > "$R/python3" <<WRAP
#!/bin/sh
exec qemu-aarch64 -0 "\$0" -L "$R/root" "$R/root/usr/bin/$A64_PY" "\$@"
WRAP
    chmod +x "$R/python3"
}

part_rust() {
    cargo test --locked --no-fail-fast --target "$A64"
}

part_wheel() {
    local maturin=${MATURIN:-.venv-ci/bin/maturin}
    if [ ! -x "$maturin" ]; then
        python3 -m venv .venv-ci
        .venv-ci/bin/python -m pip install -q 'maturin>=1.16,<2.0'
    fi
    rm -rf "$R/wheels" "$R/pylib"
    "$maturin" build --locked --profile dev --target "$A64" -i "$A64_PY" --out "$R/wheels"
    python3 -m zipfile -e "$R"/wheels/wazero-*.whl "$R/pylib"
    python3 -m pip install -q --target "$R/pylib" --only-binary=:all: \
        --platform manylinux2014_aarch64 --implementation cp --python-version 3.11 \
        'pytest>=8' numpy
}

part_pytest() {
    local root=$PWD
    echo "pytest under qemu: $("$R/python3" -c 'import platform; print(platform.machine(), platform.python_version())')"
    (cd "$R" && WAZERO_EMULATED=1 PYTHONPATH="$R/pylib" "$R/python3" -m pytest -q -p no:cacheprovider \
        --ignore="$root/tests/test_resources.py" "$root/tests")
}

[ "$#" -gt 0 ] || set -- setup rust wheel pytest
for part in "$@"; do
    case $part in
        setup) step "setup (apt, rustup target, arm64 CPython)" ;;
        rust) step "cargo test --target $A64 (under qemu-aarch64)" ;;
        wheel) step "wheel for $A64" ;;
        pytest) step "pytest under qemu-aarch64" ;;
        *) echo "unknown part '$part' (setup, rust, wheel, pytest)" >&2; exit 2 ;;
    esac
    "part_$part"
done
step ""
