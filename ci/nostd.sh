#!/usr/bin/env bash
# zerocp-core on bare metal (thumbv7em-none-eabihf: Cortex-M4F/M7, no OS, no
# native 64-bit atomics), once per way of providing 64-bit atomics. The target
# ships no `std`, so these builds prove nothing pulls std in. It does ship
# `alloc`, so the last step rebuilds with a sysroot that contains `core` only
# (nightly -Zbuild-std=core): any `extern crate alloc` in zerocp-core or in a
# dependency fails to resolve there.
# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TARGET=thumbv7em-none-eabihf

step "core, critical-section" \
    cargo build -p zerocp-core --locked --target "$TARGET" --features critical-section
step "core, unsafe-assume-single-core" \
    cargo build -p zerocp-core --locked --target "$TARGET" --features unsafe-assume-single-core
step "core, no features" \
    cargo build -p zerocp-core --locked --target "$TARGET" --no-default-features
step "core, critical-section + defmt" \
    cargo build -p zerocp-core --locked --target "$TARGET" --features critical-section,defmt
step "core, core-only sysroot (no alloc)" \
    env CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/build-std" \
    cargo +nightly build -p zerocp-core --locked --target "$TARGET" --no-default-features \
    --features critical-section -Zbuild-std=core
