#!/usr/bin/env bash
# The README's test command on the host: unit, integration and doc tests of
# every workspace crate. The build is a separate step so its time shows;
# --no-fail-fast runs every test binary even after one fails.
# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

step "build tests (host)" cargo test --workspace --locked --no-run
step "cargo test --workspace (host)" cargo test --workspace --locked --no-fail-fast
