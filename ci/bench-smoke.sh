#!/usr/bin/env bash
# Type-checks every benchmark and runs the runtime's latency, throughput and restart
# benches at 1% of their normal work (ZEROCP_BENCH_SCALE=0.01): a smoke test that
# they still start, measure and finish. Numbers from this run mean nothing, but
# for one ratio: the busy-poll latency against the cache-line floor (below). Only
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
# The regression check of the busy-poll path: `zerocp` (busy-poll ping-pong)
# against the higher `floor` probe around it in the same run, a ratio, never
# an absolute time (CI machines differ, and a virtual machine's cost of moving
# a cache line between its two CPUs changes with the host's placement).
# FLOOR_RATIO is the ratio measured in this build profile on the CI's kind of
# machine at the fast placement, where it is highest (the work done on one
# core does not scale with the floor; docs/performance.md, "The CI's
# regression check"); a run fails when a median exceeds it by more than 25 %
# in each of three attempts: a busy neighbour can spoil one attempt, a real
# regression spoils all three. Another kind of machine sets its own ratio
# with ZEROCP_FLOOR_RATIO.
FLOOR_RATIO=${ZEROCP_FLOOR_RATIO:-6.0}
RATIO_LIMIT=$(awk -v r="$FLOOR_RATIO" 'BEGIN { printf "%.2f", r * 1.25 }')
floor_ratio_check() {
    local attempt
    for attempt in 1 2 3; do
        if ZEROCP_BENCH_SCALE=0.1 cargo bench -p "$BENCH_PACKAGE" --locked --bench latency -- \
            zerocp --sizes 64,4096,1048576 --max-floor-ratio "$RATIO_LIMIT"; then
            return 0
        fi
        ci_note "attempt $attempt: above ${RATIO_LIMIT}x the floor"
    done
    return 1
}

for b in "${SMOKE_BENCHES[@]}"; do
    if grep -qx "$b" <<<"$package_benches"; then
        step "bench $b (ZEROCP_BENCH_SCALE=$ZEROCP_BENCH_SCALE)" \
            cargo bench -p "$BENCH_PACKAGE" --locked --bench "$b"
    else
        ci_note "package $BENCH_PACKAGE has no bench '$b' yet: skipped"
    fi
done
step "busy-poll latency within ${RATIO_LIMIT}x the floor (${FLOOR_RATIO} + 25 %)" floor_ratio_check
