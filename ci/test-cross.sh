#!/usr/bin/env bash
# The workspace test suite on the foreign Linux targets, under qemu-user (the
# runners in .cargo/config.toml). Unit, integration and doc tests all run:
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
# Each target's run is bounded like the native one (ci/memory-bound.sh); qemu
# adds its translation cache to every process, hence the larger limit.
#
#   CI_CROSS_TARGETS="aarch64-unknown-linux-gnu"  run a subset
#
# zerocp-ffi (the C API) is not run here yet: its tests compile C programs
# with the host's `cc` against the library, which for a foreign target needs
# the target's C compiler (and, for musl, a musl one); running the C tests
# under qemu is the next step of the C API (ffi/README.md, the plan).
# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

read -r -a TARGETS <<<"${CI_CROSS_TARGETS:-aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf aarch64-unknown-linux-musl}"
export PROPTEST_CASES="${PROPTEST_CASES:-256}"
TEST_MEMORY_MIB=2048

target_args=()
for t in "${TARGETS[@]}"; do target_args+=(--target "$t"); done

NOT_CROSS=(--exclude zerocp-ffi)

step "build tests (${TARGETS[*]})" cargo test --workspace "${NOT_CROSS[@]}" --locked "${target_args[@]}" --no-run
for t in "${TARGETS[@]}"; do
    step_continue "cargo test --workspace --target $t (at most ${TEST_MEMORY_MIB} MiB)" \
        bash ci/memory-bound.sh "$TEST_MEMORY_MIB" \
        cargo test --workspace "${NOT_CROSS[@]}" --locked --no-fail-fast --target "$t" -- --skip live_view::
done
ci_finish
