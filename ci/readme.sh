#!/usr/bin/env bash
# The README's commands work verbatim, in the README's order, and each ends
# by itself:
#
# 1. the run command (the first `sh` block under "## Run", the demo), and
#    the `events` example the same section names;
# 2. the "By hand" block: daemon, subscriber, publisher, zerocpctl, stop;
# 3. the test command (the block under "## Test"): checked to be
#    `cargo test --workspace`, which ci/test-native.sh runs; README_RUN_TESTS=1
#    runs it here too.
#
# Each block is cut out of README.md with awk and run as it stands with
# `bash -e`, from the repository root, under a time limit
# (README_TIME_LIMIT seconds, default 120; `timeout` ends the whole process
# group) and a private ZEROCP_RUN_DIR. The binaries the blocks use
# are built first, in steps of their own, so the limit measures the commands
# and not the compiler; the blocks' own `cargo` lines then have nothing to do.
# Afterwards nothing may remain: no process of the run, no entry in the run
# directory, no /dev/shm/zerocp.<domain>.* of the blocks' domains.
#
# ZEROCP_RUN_DIR names a directory that does not exist yet (a subdirectory
# of a private temporary one), as /run/zerocp on a fresh machine: the daemon
# creates it and must remove it again at stop. README_FRESH_RUN_DIR=0 hands
# the blocks an existing empty directory instead, which must stay.
#
# The "By hand" block uses the fixed domain `demo`; if /dev/shm already holds
# that domain's segments (someone's daemon), the script stops before
# touching anything.
# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=ci/daemon-helpers.sh
source "$CI_ROOT/ci/daemon-helpers.sh"

README_TIME_LIMIT=${README_TIME_LIMIT:-120}
# The README's paths are target/release/...: build where they look.
unset CARGO_TARGET_DIR
# The run command must find no daemon and start its own on a private domain.
unset ZEROCP_DOMAIN

# readme_block PATTERN: the first ```sh block after the first line of
# README.md that matches the awk regex PATTERN.
readme_block() {
    awk -v pat="$1" '
        !found && $0 ~ pat { found = 1; next }
        found && !inside && /^```sh$/ { inside = 1; next }
        inside && /^```$/ { exit }
        inside { print }' README.md
}

RUN_BLOCK=$(readme_block '^## Run$')
BY_HAND_BLOCK=$(readme_block '^By hand')
TEST_BLOCK=$(readme_block '^## Test$')
for name in RUN_BLOCK BY_HAND_BLOCK TEST_BLOCK; do
    if [[ -z "${!name}" ]]; then
        echo "README.md: no \`\`\`sh block found for $name" >&2
        exit 1
    fi
done

shopt -s nullglob
taken=(/dev/shm/zerocp.demo.*)
shopt -u nullglob
if ((${#taken[@]} > 0)); then
    echo "domain demo is in use on this machine (${taken[*]}); stop that daemon first" >&2
    exit 1
fi

WORK_DIR="$CI_ROOT/target/readme"
RUN_DIR=$(zcp_make_run_dir readme)
# What the blocks get as ZEROCP_RUN_DIR: a subdirectory the daemon has to
# create (and remove), or RUN_DIR itself.
BLOCK_RUN_DIR=$RUN_DIR/run
if [[ "${README_FRESH_RUN_DIR:-1}" == 0 ]]; then
    BLOCK_RUN_DIR=$RUN_DIR
fi
rm -rf "$WORK_DIR"
mkdir -p "$WORK_DIR"

cleanup() {
    if ! zcp_stop_run_dir_processes "$BLOCK_RUN_DIR"; then
        ci_note "stopped processes a README block left running"
    fi
    rm -rf "$RUN_DIR"
    # Checked free at the start: anything of domain demo now is this run's.
    rm -f /dev/shm/zerocp.demo.*
}
trap 'rc=$?; cleanup; ci_on_exit "$rc"' EXIT

# run_block NAME TEXT: runs TEXT with bash -e from the root, with the private
# run directory and the time limit; its output goes to the terminal and to
# $WORK_DIR/NAME.log.
run_block() {
    local name=$1 text=$2 rc=0
    printf '%s\n' "$text" >"$WORK_DIR/$name.sh"
    ci_note "running, verbatim:"
    sed 's/^/      | /' "$WORK_DIR/$name.sh"
    ZEROCP_RUN_DIR="$BLOCK_RUN_DIR" timeout --kill-after=10 "$README_TIME_LIMIT" \
        bash -e "$WORK_DIR/$name.sh" </dev/null 2>&1 | tee "$WORK_DIR/$name.log" || rc=${PIPESTATUS[0]}
    if ((rc == 124)); then
        ci_note "$name did not end within $README_TIME_LIMIT s"
    fi
    return "$rc"
}

# expect_line NAME REGEX: the block's output has a line matching REGEX.
expect_line() {
    if ! grep -qE "$2" "$WORK_DIR/$1.log"; then
        ci_note "$1: no line matching /$2/ in its output"
        return 1
    fi
}

# nothing_left DOMAIN: no process of this run, no entry in the run
# directory, no shared memory of DOMAIN. What it finds it reports and then
# removes, so the next block starts clean.
nothing_left() {
    local ok=0
    zcp_stop_run_dir_processes "$BLOCK_RUN_DIR" || ok=1
    if ! zcp_leftovers "$1" "$RUN_DIR"; then
        ok=1
        find "$RUN_DIR" -mindepth 1 -delete
        rm -f /dev/shm/zerocp."$1".*
    fi
    if ((ok == 0)); then
        ci_note "nothing left: no process, nothing in $RUN_DIR, no /dev/shm/zerocp.$1.*"
    fi
    return "$ok"
}

# Each block's checks all run, and its leftovers are cleared, even when the
# block itself failed.
readme_run_command() {
    local ok=0 domain
    run_block run-command "$RUN_BLOCK" || ok=1
    expect_line run-command '^demo: all 10 messages went through shared memory' || ok=1
    domain=$(sed -n 's/^demo: starting zerocpd on private domain \([^ ]*\) .*/\1/p' "$WORK_DIR/run-command.log")
    if [[ -z "$domain" ]]; then
        ci_note "the demo did not say which domain it started zerocpd on"
        ok=1
    fi
    nothing_left "$domain" || ok=1
    return "$ok"
}

# The events example, run as the README names it, like the run command:
# it ends by itself and leaves nothing behind.
readme_events_example() {
    local ok=0 domain
    run_block events-example "cargo run --release -p zerocp --example events" || ok=1
    expect_line events-example '^events: done, every id reached the listener' || ok=1
    domain=$(sed -n 's/^events: starting zerocpd on private domain \([^ ]*\) .*/\1/p' "$WORK_DIR/events-example.log")
    if [[ -z "$domain" ]]; then
        ci_note "the events example did not say which domain it started zerocpd on"
        ok=1
    fi
    nothing_left "$domain" || ok=1
    return "$ok"
}

readme_by_hand() {
    local ok=0
    run_block by-hand "$BY_HAND_BLOCK" || ok=1
    expect_line by-hand '^publisher: done, 10 messages sent$' || ok=1
    expect_line by-hand '^subscriber: done, 10 messages received, 0 dropped$' || ok=1
    nothing_left demo || ok=1
    return "$ok"
}

# The self-running examples beside the demo: each starts its own zerocpd on
# a private domain (<example>-<pid>), says it is done, exits 0, leaves nothing.
example_run() {
    local name=$1 done_line=$2 ok=0 domain
    run_block "example-$name" "cargo run --release -p zerocp --example $name" || ok=1
    expect_line "example-$name" "$done_line" || ok=1
    domain=$(sed -n "s/^$name: starting zerocpd on private domain \([^ ]*\).*/\1/p" "$WORK_DIR/example-$name.log")
    if [[ -z "$domain" ]]; then
        ci_note "the $name example did not say which domain it started zerocpd on"
        ok=1
    fi
    nothing_left "$domain" || ok=1
    return "$ok"
}

readme_test_command() {
    if [[ "$TEST_BLOCK" != "cargo test --workspace" ]]; then
        ci_note "the README's test command is now: $TEST_BLOCK; update ci/test-native.sh and this check"
        return 1
    fi
    if [[ "${README_RUN_TESTS:-0}" == 1 ]]; then
        run_block test-command "$TEST_BLOCK"
    else
        ci_note "\"$TEST_BLOCK\" is what ci/test-native.sh runs (README_RUN_TESTS=1 runs it here)"
    fi
}

# Every example the blocks run, built as they build them: each package on
# its own (`-p`), with its own features, so the blocks' cargo lines find
# them built.
step "build the run command's binaries" cargo build --release -p zerocp --examples --locked
step "build the By hand binaries" cargo build --release -p zerocp-daemon --locked
step_continue "README run command (at most ${README_TIME_LIMIT}s)" readme_run_command
step_continue "events example (at most ${README_TIME_LIMIT}s)" readme_events_example
step_continue "README By hand (at most ${README_TIME_LIMIT}s)" readme_by_hand
step_continue "example waitset (at most ${README_TIME_LIMIT}s)" example_run waitset '^waitset: done: '
step_continue "example request_response (at most ${README_TIME_LIMIT}s)" example_run request_response '^request_response: done, every response went zero-copy'
step_continue "example epoll_tcp (at most ${README_TIME_LIMIT}s)" example_run epoll_tcp '^epoll_tcp: done: 5 ZeroCP messages and 5 TCP lines'
step_continue "example slices (at most ${README_TIME_LIMIT}s)" example_run slices '^slices: done: 6 frames, each of its own length'
step_continue "example discovery (at most ${README_TIME_LIMIT}s)" example_run discovery '^discovery: done: '
step_continue "README test command" readme_test_command
ci_finish
