#!/usr/bin/env bash
# Formatting and clippy over the whole workspace, every target (lib, bins,
# tests, examples, benches); any clippy warning fails. The fuzz crate is a
# workspace of its own (nightly, libFuzzer): its formatting is checked here,
# its build in ci/fuzz-smoke.sh.
# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

step "rustfmt" cargo fmt --all --check
if [[ -f fuzz/Cargo.toml ]]; then
    step "rustfmt (fuzz/)" cargo fmt --manifest-path fuzz/Cargo.toml --all --check
fi
step "clippy" cargo clippy --workspace --all-targets --locked -- -D warnings
