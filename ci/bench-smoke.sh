#!/usr/bin/env bash
# Type-checks every benchmark and runs the runtime's latency, throughput and restart
# benches at 1% of their normal work (ZEROCP_BENCH_SCALE=0.01): a smoke test that
# they still start, measure and finish. Numbers from this run mean nothing. Only
# the benches that run are built: building them all (the C API's bench links its
# static and shared library) took six minutes of a CI run that must stay under an
# hour.
# Benches that do not exist (yet) are skipped.
# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BENCH_PACKAGE=zerocp
SMOKE_BENCHES=(latency throughput restart)
export ZEROCP_BENCH_SCALE="${ZEROCP_BENCH_SCALE:-0.01}"
# Smoke numbers mean nothing, so skip what makes the bench profile slow to
# build (thin LTO, one codegen unit: 2m45s here on 2 cores); the code is still
# optimised (opt-level 3) and runs the same paths.
export CARGO_PROFILE_BENCH_LTO=false
export CARGO_PROFILE_BENCH_CODEGEN_UNITS=16
export CARGO_PROFILE_BENCH_DEBUG=line-tables-only

all_benches=$(cargo metadata --format-version 1 --no-deps |
    jq -r '.packages[].targets[] | select(.kind | index("bench")) | .name')
if [[ -z "$all_benches" ]]; then
    ci_note "the workspace has no bench targets yet: nothing to build"
    exit 0
fi
step "check all benches" cargo check --workspace --locked --benches

package_benches=$(ci_targets "$BENCH_PACKAGE" bench)
for b in "${SMOKE_BENCHES[@]}"; do
    if grep -qx "$b" <<<"$package_benches"; then
        step "bench $b (ZEROCP_BENCH_SCALE=$ZEROCP_BENCH_SCALE)" \
            cargo bench -p "$BENCH_PACKAGE" --locked --bench "$b"
    else
        ci_note "package $BENCH_PACKAGE has no bench '$b' yet: skipped"
    fi
done
