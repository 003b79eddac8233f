# Shared helpers for the ci/*.sh scripts. Source it; do not run it.
#
# It switches to the repository root, sets the environment every CI step
# shares, and provides `step NAME CMD...` (a header, the command, its elapsed
# time) plus `ci_note` for one-line messages. Each script still runs on its
# own: `bash ci/lint.sh` from anywhere in the tree.
# shellcheck shell=bash

set -euo pipefail

CI_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$CI_ROOT"

CI_SCRIPT=$(basename "${0}")
CI_SCRIPT_START=$(date +%s)

# Fresh CI builds gain nothing from incremental artefacts, which cost time and
# disk, nor from full debug info: line tables keep backtraces exact and cut
# the CPU time of a debug build by about a sixth (measured on the cross builds).
# A developer re-running a script locally keeps the normal dev profile.
if [[ "${CI:-}" == "true" ]]; then
    export CARGO_INCREMENTAL=0
    export CARGO_PROFILE_DEV_DEBUG="${CARGO_PROFILE_DEV_DEBUG:-line-tables-only}"
fi
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"

# Seconds since the epoch -> "1m05s".
ci_fmt_secs() {
    local s=$1
    if ((s >= 60)); then
        printf '%dm%02ds' $((s / 60)) $((s % 60))
    else
        printf '%ds' "$s"
    fi
}

ci_note() {
    printf '    [%s] %s\n' "$CI_SCRIPT" "$*"
}

# run_timed NAME CMD [ARGS...]: runs one command between a header and a footer
# with its elapsed time; returns the command's exit code.
run_timed() {
    local name=$1
    shift
    local start rc took
    start=$(date +%s)
    printf '\n==> [%s] %s\n    $ %s\n' "$CI_SCRIPT" "$name" "$*"
    if "$@"; then
        rc=0
    else
        rc=$?
    fi
    took=$(ci_fmt_secs $(($(date +%s) - start)))
    if ((rc == 0)); then
        printf '<== [%s] %s: ok (%s)\n' "$CI_SCRIPT" "$name" "$took"
    else
        printf '<== [%s] %s: FAILED with exit code %d (%s)\n' "$CI_SCRIPT" "$name" "$rc" "$took"
    fi
    return "$rc"
}

# step NAME CMD [ARGS...]: a step the rest of the script depends on; a failure
# ends the script with the command's exit code.
step() {
    local rc=0
    run_timed "$@" || rc=$?
    if ((rc != 0)); then exit "$rc"; fi
}

# step_continue NAME CMD [ARGS...]: a step independent of the ones after it; a
# failure is recorded and the script goes on. End with `ci_finish`.
CI_FAILED_STEPS=()
step_continue() {
    run_timed "$@" || CI_FAILED_STEPS+=("$1")
}

# ci_finish: exits 1 if a `step_continue` step failed, naming those steps.
ci_finish() {
    if ((${#CI_FAILED_STEPS[@]} > 0)); then
        printf '    [%s] failed steps:\n' "$CI_SCRIPT"
        printf '      - %s\n' "${CI_FAILED_STEPS[@]}"
        exit 1
    fi
}

# ci_on_exit [RC]: reports the script's exit code (RC where a script's own
# EXIT trap ran commands first, else $?).
ci_on_exit() {
    local rc=${1:-$?}
    printf '=== [%s] finished with exit code %d after %s\n' \
        "$CI_SCRIPT" "$rc" "$(ci_fmt_secs $(($(date +%s) - CI_SCRIPT_START)))"
}
trap ci_on_exit EXIT
# Killed by .ci/run's step timeout (SIGTERM) or ^C: exit with the usual code so
# the EXIT trap reports it.
trap 'exit 143' TERM
trap 'exit 130' INT

# ci_targets PACKAGE KIND: names of PACKAGE's targets of KIND
# ("bench", "test", ...), one per line, from `cargo metadata` (needs jq).
ci_targets() {
    local package=$1 kind=$2
    cargo metadata --format-version 1 --no-deps |
        jq -r --arg p "$package" --arg k "$kind" \
            '.packages[] | select(.name == $p) | .targets[] | select(.kind | index($k)) | .name'
}
