#!/usr/bin/env bash
# A short libFuzzer run of every cargo-fuzz target under fuzz/, if there is
# one: it proves the targets build and survive a first burst of inputs. Real
# fuzzing campaigns run for hours elsewhere; this only catches regressions
# that crash at once. FUZZ_SECONDS (default 30) is the time per target.
# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FUZZ_SECONDS="${FUZZ_SECONDS:-30}"

if [[ ! -f fuzz/Cargo.toml ]]; then
    ci_note "no fuzz/ crate yet: nothing to fuzz"
    exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    step "install cargo-fuzz" cargo install cargo-fuzz --locked
fi
mapfile -t FUZZ_TARGETS < <(cargo +nightly fuzz list)
if ((${#FUZZ_TARGETS[@]} == 0)); then
    ci_note "fuzz/ declares no fuzz targets"
    exit 0
fi
step "build fuzz targets" cargo +nightly fuzz build
for t in "${FUZZ_TARGETS[@]}"; do
    step "fuzz $t for ${FUZZ_SECONDS}s" \
        cargo +nightly fuzz run "$t" -- -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 -print_final_stats=1
done
