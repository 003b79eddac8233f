#!/usr/bin/env bash
# The workspace test suite on the foreign Linux targets, under qemu-user (the
# runners in .cargo/config.toml), and on musl. Unit, integration and doc tests all run:
# since cargo 1.89 `cargo test --target` also cross-compiles the doc tests and
# runs them through the target's runner.
#
# All targets are compiled by one cargo invocation first, so the two cores stay
# busy across the targets' dependency graphs; then each target's suite runs,
# all of them even if one fails.
#
# Property tests run PROPTEST_CASES=256 cases here (proptest's own default;
# the proptest! macro lets the variable override a test's configured count):
# the cross runs look for what differs between architectures (32-bit layouts,
# atomics, syscall ABIs), and the native run already does the long searches at
# a fraction of the cost of emulation.
#
# The live view of `zerocpctl top` (the tests `live_view::`) is left out:
# qemu-user does not emulate the terminal-mode ioctl TCGETS2 that raw mode
# needs (every real kernel has it), so those tests are not run, rather than
# counted as passed; `top --once` and every other command run here.
#
# musl differs from glibc in the C library, not in the architecture, which
# the aarch64 glibc run already covers: the musl suite runs natively, for
# x86_64-unknown-linux-musl (static binaries, no qemu, a third of the time),
# and aarch64-unknown-linux-musl, the target musl-based images ship, is
# linked: its binaries (zerocpd, zerocpctl) are built, proving the static
# cross link that .cargo/config.toml sets up.
#
# Each target's run is bounded like the native one (ci/memory-bound.sh); qemu
# adds its translation cache to every process, hence the larger limit.
#
#   CI_CROSS_TARGETS="aarch64-unknown-linux-gnu"  run a subset
#   CI_LINK_TARGETS=""                             link nothing more
#
# zerocp-zenoh (the Zenoh bridge) runs on every target: its end-to-end tests
# start real daemons and bridge binaries under qemu and connect them over
# 127.0.0.1, as natively.
#
# zerocp-ffi (the C and C++ API) runs on the glibc targets: its tests compile
# the C and C++ programs with the target's Debian cross compilers
# (aarch64-linux-gnu-gcc/g++, arm-linux-gnueabihf-gcc/g++, which a process
# under qemu-user runs natively) and run them under qemu like every other
# child process. Not here: its sanitizer builds (the tests
# `..._under_sanitizers`; AddressSanitizer's shadow memory does not fit
# qemu-user's address space; they run natively), and the musl target, for
# which Debian has no cross C compiler.
# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

read -r -a TARGETS <<<"${CI_CROSS_TARGETS:-aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf x86_64-unknown-linux-musl}"
read -r -a LINK_TARGETS <<<"${CI_LINK_TARGETS-aarch64-unknown-linux-musl}"
export PROPTEST_CASES="${PROPTEST_CASES:-256}"
TEST_MEMORY_MIB=2048

# The packages a target leaves out (see above).
not_here() {
    case $1 in
    *-musl*) echo "--exclude zerocp-ffi" ;;
    esac
}

gnu_args=() musl_args=()
for t in "${TARGETS[@]}"; do
    case $t in
    *-musl*) musl_args+=(--target "$t") ;;
    *) gnu_args+=(--target "$t") ;;
    esac
done
if ((${#gnu_args[@]})); then
    step "build tests (${gnu_args[*]})" cargo test --workspace --locked "${gnu_args[@]}" --no-run
fi
if ((${#musl_args[@]})); then
    # shellcheck disable=SC2046 # not_here prints separate words on purpose
    step "build tests (${musl_args[*]})" \
        cargo test --workspace $(not_here "${musl_args[1]}") --locked "${musl_args[@]}" --no-run
fi
for t in "${LINK_TARGETS[@]}"; do
    # shellcheck disable=SC2046 # not_here prints separate words on purpose
    step_continue "link the binaries (--target $t)" \
        cargo build --workspace $(not_here "$t") --locked --bins --target "$t"
done
for t in "${TARGETS[@]}"; do
    # shellcheck disable=SC2046 # not_here prints separate words on purpose
    step_continue "cargo test --workspace --target $t (at most ${TEST_MEMORY_MIB} MiB)" \
        bash ci/memory-bound.sh "$TEST_MEMORY_MIB" \
        cargo test --workspace $(not_here "$t") --locked --no-fail-fast --target "$t" \
        -- --skip live_view:: --skip _under_sanitizers
done
ci_finish
