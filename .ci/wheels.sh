#!/usr/bin/env bash
# CI fragment (issue 9): for each CPython version given (e.g. `bash .ci/wheels.sh 3.9 3.13`),
# build the x86-64 wheel with maturin for that interpreter (dev profile, so the dependencies
# built by `cargo test --target x86_64-unknown-linux-gnu` are reused; only pyo3 and the
# wazero crate are rebuilt per version), `pip install` it with the `test` extra into a fresh
# venv `.venv-ci-VERSION`, and run the pytest suite against the installed package.
#
# The wheel is per version, not abi3: `Memory`'s buffer protocol needs the full C API below
# Python 3.11 (see README, "CI and platforms").
#
# A version that cannot be found fails the run (never skipped). Needs `.venv-ci/bin/maturin`
# (made by .ci/run) or $MATURIN. Exit status: 1 if anything failed; every version is tried.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/lib.sh
CI_TAG=wheels
MATURIN=${MATURIN:-.venv-ci/bin/maturin}
# Fewer collected Python tests than this fails the run (see tests/conftest.py).
export WAZERO_MIN_TESTS=${WAZERO_MIN_TESTS:-150}

status=0
for v in "$@"; do
    if ! py=$(find_python "$v"); then
        echo "=== ERROR: CPython $v not found (neither python$v on PATH nor ~/.pyenv/versions/$v.*)" >&2
        status=1
        continue
    fi
    out=target/ci-wheels/$v
    venv=.venv-ci-$v
    step "wheel for Python $v ($py)"
    rm -rf "$out"
    if ! "$MATURIN" build --locked --profile dev --target "$HOST" -i "$py" --out "$out"; then
        echo "=== ERROR: wheel build for $v FAILED" >&2
        status=1
        continue
    fi
    step "fresh venv $venv + pip install $(basename "$out"/*.whl)[test]"
    rm -rf "$venv"
    "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install -q "$(echo "$out"/*.whl)[test]"
    step "pytest on Python $v against the installed wheel"
    # From the repository root, which has no `wazero/` directory: this checks the import
    # really comes from the venv's site-packages.
    "$venv/bin/python" -c "import wazero, sys; assert '/$venv/' in wazero.__file__, wazero.__file__" \
        && "$venv/bin/python" -m pytest -q -p no:cacheprovider tests \
        || { status=1; echo "=== ERROR: pytest on Python $v FAILED" >&2; }
done
step ""
exit "$status"
