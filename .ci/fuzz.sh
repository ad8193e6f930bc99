#!/usr/bin/env bash
# CI fragment: builds the cargo-fuzz crate in fuzz/ (nightly toolchain, libFuzzer) and runs
# each target briefly, so the fuzzers cannot rot. Fails if the build fails or if any target
# finds a crash, panic or divergence (the input is left in fuzz/artifacts/<target>/).
# Called by .ci/run; also runnable alone: `bash .ci/fuzz.sh`. x86-64 Linux with rustup.
#
# Each target starts from a fresh corpus seeded with the committed regression inputs
# (fuzz/regressions/<target>/, except those listed in KNOWN_FAILURES) and runs for
# WAZERO_FUZZ_SECONDS (default 60) seconds, WAZERO_FUZZ_JOBS (default 2) targets at a time.
# The build is cargo fuzz's release profile with debug assertions (integer overflows in the
# engine panic), lowered to opt-level 1 without debug info (see below), and no sanitizer.
#
# Measured on the 2-core project VM, loaded 13-22, under nice -n 10: cold (fresh fuzz/target)
# 50m48s wall / 644 s CPU (build 7.7 min CPU); warm 3m20s wall / 126 s CPU (3 x ~65 s fuzzing). See fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${WAZERO_FUZZ_SECONDS:-60}
# Targets fuzzed at the same time (each libFuzzer process is single-threaded).
JOBS=${WAZERO_FUZZ_JOBS:-2}
TARGETS="differential single_inst validate"
export CARGO_TERM_COLOR=never
# A smoke test, not a campaign: the release profile at opt-level 1 without debug info
# (expected to compile in about half the CPU time of the crate's own opt-level 3, debug = 1;
# not yet measured cold) still keeps debug assertions (cargo fuzz). Set WAZERO_FUZZ_FULL_OPT=1 for the crate's profile.
# Both `fuzz build` and `fuzz run` see these, so `run` does not rebuild.
if [ "${WAZERO_FUZZ_FULL_OPT:-0}" != 1 ]; then
    export CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=0
fi

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

# `fuzz_one T`: fuzzes target T from a fresh corpus seeded with its committed regressions;
# its output goes to fuzz/target/ci-logs/T.log. Exit status 1 on a finding.
fuzz_one() {
    local t=$1 corpus=fuzz/target/ci-corpus/$1 f name
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
    echo "fuzz $t for ${SECONDS_PER_TARGET}s (seeds: $(ls "$corpus" | wc -l))"
    # -timeout: a single input running this long is a hang (a failure too).
    cargo +nightly fuzz run "$t" --sanitizer=none "$corpus" -- \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=30 -print_final_stats=1 2>&1 \
        | { grep -vE '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)' || true; }
}

status=0
mkdir -p fuzz/target/ci-logs
set -- $TARGETS
while [ "$#" -gt 0 ]; do
    batch=()
    while [ "$#" -gt 0 ] && [ "${#batch[@]}" -lt "$JOBS" ]; do batch+=("$1"); shift; done
    step "fuzz ${batch[*]} (${SECONDS_PER_TARGET}s, $JOBS at a time)"
    pids=()
    for t in "${batch[@]}"; do
        fuzz_one "$t" >"fuzz/target/ci-logs/$t.log" 2>&1 &
        pids+=($!)
    done
    for i in "${!batch[@]}"; do
        t=${batch[$i]}
        if wait "${pids[$i]}"; then r=0; else r=1; fi
        cat "fuzz/target/ci-logs/$t.log"
        if [ "$r" != 0 ]; then
            echo "=== fuzz $t FAILED: see fuzz/artifacts/$t/ and fuzz/README.md (Regressions)"
            status=1
        fi
    done
done
step "done (status $status)"
exit $status
