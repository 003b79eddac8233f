#!/usr/bin/env bash
# The README's test command on the host: unit, integration and doc tests of
# every workspace crate. The build is a separate step so its time shows;
# --no-fail-fast runs every test binary even after one fails.
#
# The run is bounded: it happens in a memory cgroup of its own limited to
# TEST_MEMORY_MIB (ci/memory-bound.sh), so a test that fills /dev/shm or
# leaks fails here instead of the kernel killing processes machine-wide.
# The suite peaks at about 120 MiB (page cache of a warm build excluded).
# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TEST_MEMORY_MIB=1024

step "build tests (host)" cargo test --workspace --locked --no-run
step "cargo test --workspace (host, at most ${TEST_MEMORY_MIB} MiB)" \
    bash ci/memory-bound.sh "$TEST_MEMORY_MIB" cargo test --workspace --locked --no-fail-fast
