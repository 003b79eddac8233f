#!/usr/bin/env bash
# Model-checks zerocp-core's lock-free structures with loom: under `--cfg loom`
# `zerocp_core::sync` resolves to loom's atomics, and the `loom_*` integration
# tests explore the interleavings of the production code.
#
# `--cfg loom` changes every crate's fingerprint, so it builds in its own
# target dir (target/loom) instead of invalidating the main build.
# LOOM_MAX_PREEMPTIONS bounds the thread switches explored per execution; 3
# finds the classic ordering bugs (it is what loom's authors recommend for CI)
# while keeping the run in seconds to minutes. Override it from the environment.
# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}"
export RUSTFLAGS="${RUSTFLAGS:-} --cfg loom"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/loom"
# The release profile is tuned for shipping (thin LTO, one codegen unit), which
# made this build take 3 minutes on 2 cores; without them it takes 45 s and the
# models run about as fast. Debug assertions and overflow checks stay on, so
# every debug_assert! in the lock-free code is checked in every interleaving.
# Only this target dir sees these overrides.
export CARGO_PROFILE_RELEASE_LTO=false
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
export CARGO_PROFILE_RELEASE_DEBUG=line-tables-only
export CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true
export CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true

mapfile -t LOOM_TESTS < <(ci_targets zerocp-core test | grep '^loom_' || true)
if ((${#LOOM_TESTS[@]} == 0)); then
    ci_note "zerocp-core has no loom_* test targets yet: nothing to check"
    exit 0
fi
ci_note "loom models: ${LOOM_TESTS[*]} (LOOM_MAX_PREEMPTIONS=$LOOM_MAX_PREEMPTIONS)"

step "build loom models" cargo test -p zerocp-core --locked --release --test 'loom_*' --no-run
step "run loom models" cargo test -p zerocp-core --locked --release --test 'loom_*'
