# Helpers sourced by the CI scripts (.ci/run, .ci/aarch64.sh, .ci/wheels.sh): step timing and
# locating Python interpreters. Not executable on its own.

export CARGO_TERM_COLOR=never CARGO_INCREMENTAL=0
# CI builds keep file:line in backtraces but no full debug info (variables, types): less
# codegen and much smaller test binaries to link, for every dev build of the run (x86-64 and
# aarch64 tests, wheels). Overridable.
export CARGO_PROFILE_DEV_DEBUG=${CARGO_PROFILE_DEV_DEBUG:-line-tables-only}
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_PROGRESS_BAR=off
HOST=x86_64-unknown-linux-gnu
A64=aarch64-unknown-linux-gnu

# Start of the whole run, in epoch seconds (inherited by the scripts .ci/run calls).
CI_T0=${CI_T0:-$(date +%s)}
export CI_T0

# CPU seconds (user + system, x100) used by the finished children of this script's shell
# (fields cutime and cstime of /proc/PID/stat, in clock ticks).
_cpu_ticks() { awk '{print $16 + $17}' "/proc/$$/stat"; }
_hz=$(getconf CLK_TCK)

# `step NAME`: prints the time since the start of the run and names the next step; the
# previous step of the same script (if any) is closed with its own wall and CPU time, also
# appended (start, wall, CPU, name) to $CI_STEPS_FILE when set. `step ""` closes the last step.
# A background job's CPU time is counted where it is waited for.
_step_name=
_step_t=0
_step_cpu=0
step() {
    local now cpu
    now=$(($(date +%s) - CI_T0))
    cpu=$(_cpu_ticks)
    if [ -n "$_step_name" ]; then
        local wall=$((now - _step_t)) used
        used=$(awk "BEGIN { printf \"%.1f\", ($cpu - $_step_cpu) / $_hz }")
        echo "=== [${now}s] ${CI_TAG:-ci}: '$_step_name' took ${wall}s (CPU ${used}s)"
        if [ -n "${CI_STEPS_FILE:-}" ]; then
            printf '%6ss %6ss %6ss  %s: %s\n' "$_step_t" "$wall" "$used" "${CI_TAG:-ci}" \
                "$_step_name" >>"$CI_STEPS_FILE"
        fi
    fi
    _step_name=$*
    _step_t=$now
    _step_cpu=$cpu
    if [ -n "$*" ]; then echo "=== [${now}s] ${CI_TAG:-ci}: $*"; fi
}

# `find_python 3.9` prints the path of a CPython 3.9 (python3.9 on PATH, else pyenv's), or
# returns 1. Never picks a different version.
find_python() {
    local v=$1 p
    for p in "$(command -v "python$v" || true)" "$HOME"/.pyenv/versions/"$v".*/bin/"python$v"; do
        if [ -n "$p" ] && [ -x "$p" ] && "$p" -c \
            "import sys, venv; sys.exit('%d.%d' % sys.version_info[:2] != '$v')" 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}
