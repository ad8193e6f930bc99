#!/usr/bin/env bash
# CI fragment: builds the cargo-fuzz crate in fuzz/ (nightly toolchain, libFuzzer) and runs
# each target briefly, so the fuzzers cannot rot. Fails if the build fails or if any target
# finds a crash, panic or divergence (the input is left in fuzz/artifacts/<target>/).
# Called by .ci/run; also runnable alone: `bash .ci/fuzz.sh`. x86-64 Linux with rustup.
#
# Each target starts from a fresh corpus seeded with the committed regression inputs
# (fuzz/regressions/<target>/, except those listed in KNOWN_FAILURES) and runs for
# WAZERO_FUZZ_SECONDS (default 60) seconds. The build keeps libFuzzer's default profile
# (release + debug assertions, so integer overflows in the engine panic) and no sanitizer.
#
# Measured on the 2-core project VM, loaded 13-22, under nice -n 10: cold (fresh fuzz/target)
# 50m48s wall / 644 s CPU (build 7.7 min CPU); warm 3m20s wall / 126 s CPU (3 x ~65 s fuzzing). See fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${WAZERO_FUZZ_SECONDS:-60}
TARGETS="differential single_inst validate"
export CARGO_TERM_COLOR=never

t0=$SECONDS
step() { echo "=== [fuzz $((SECONDS - t0))s] $*"; }

if ! rustup toolchain list | grep -q '^nightly'; then
    step "rustup toolchain install nightly"
    rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    step "cargo install cargo-fuzz"
    cargo +nightly install cargo-fuzz --locked
fi

step "cargo +nightly fuzz build ($(cargo +nightly fuzz --version))"
cargo +nightly fuzz build --sanitizer=none

status=0
for t in $TARGETS; do
    corpus=fuzz/target/ci-corpus/$t
    rm -rf "$corpus"
    mkdir -p "$corpus" "fuzz/artifacts/$t"
    if [ -d "fuzz/regressions/$t" ]; then
        for f in "fuzz/regressions/$t"/*; do
            name=$(basename "$f")
            case "$name" in *.txt | *.md | '*') continue ;; esac
            grep -qE "^$t/$name( |$)" fuzz/regressions/KNOWN_FAILURES && continue
            cp "$f" "$corpus/"
        done
    fi
    step "fuzz $t for ${SECONDS_PER_TARGET}s (seeds: $(ls "$corpus" | wc -l))"
    # -timeout: a single input running this long is a hang (a failure too).
    if ! cargo +nightly fuzz run "$t" --sanitizer=none "$corpus" -- \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=30 -print_final_stats=1 2>&1 \
        | { grep -vE '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)' || true; }; then
        echo "=== fuzz $t FAILED: see fuzz/artifacts/$t/ and fuzz/README.md (Regressions)"
        status=1
    fi
done
step "done (status $status)"
exit $status
