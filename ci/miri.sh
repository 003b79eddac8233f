#!/usr/bin/env bash
# zerocp-core's tests (unit, integration, doc) under miri, which detects
# undefined behaviour: out-of-bounds and misaligned accesses, use of uninitialised
# memory, aliasing violations (Stacked Borrows) and data races. cargo-miri
# keeps its artefacts in target/miri, apart from the normal build.
#
# MIRIFLAGS:
#   -Zmiri-strict-provenance  every pointer must be derived from a pointer,
#       never from an integer. Shared-memory code addresses objects by offset;
#       this makes sure it does so with pointer arithmetic on the mapping's
#       base pointer, which is what keeps it valid under the Rust memory model.
#   -Zmiri-env-forward=PROPTEST_*  isolation hides the host environment from
#       the program; these two variables are let through (see below).
# Isolation otherwise stays on (no host clock, files or real randomness), so
# each run is deterministic and a failure reproduces.
#
# Property tests run PROPTEST_CASES=4 cases (each case is interpreted) without
# failure files (they need the working directory, which isolation hides).
# Integration suites too slow for an interpreter opt out with
# `#![cfg(not(miri))]`; they still run natively and under qemu.
#
# `cargo miri setup` builds a miri sysroot from the nightly rust-src component
# (cached in ~/.cache/miri); it fetches the standard library's own
# dependencies from crates.io, nothing else.
# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export PROPTEST_CASES="${PROPTEST_CASES:-4}"
export PROPTEST_DISABLE_FAILURE_PERSISTENCE=1
export MIRIFLAGS="${MIRIFLAGS:--Zmiri-strict-provenance} -Zmiri-env-forward=PROPTEST_CASES -Zmiri-env-forward=PROPTEST_DISABLE_FAILURE_PERSISTENCE"

step "miri setup" cargo +nightly miri setup
step "miri test zerocp-core" cargo +nightly miri test -p zerocp-core --locked --no-fail-fast
