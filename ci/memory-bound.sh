#!/usr/bin/env bash
# Runs a command inside a memory cgroup of its own with a hard limit, then
# prints the peak memory the cgroup used and fails if the limit was hit.
#
#   ci/memory-bound.sh LIMIT_MIB CMD [ARGS...]
#
# Shared memory (tmpfs pages in /dev/shm) is charged to the cgroup of the
# process that first touches it, so a test that fills /dev/shm runs into this
# limit: the kernel then kills a process of this cgroup (the test), not an
# arbitrary process of the machine, and this script reports it. The peak
# includes the page cache the tests read (binaries, sources), which the kernel
# reclaims before it kills anything; so the limit, not the peak, is the bound.
#
# cgroup v1 (a `memory` hierarchy, e.g. /sys/fs/cgroup/memory) and cgroup v2
# (a delegated subtree with the memory controller) both work. Where neither
# can be created (no root, no delegation) the script says so and fails,
# unless CI_MEMORY_BOUND=off, which runs the command unbounded with a warning.
# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if (($# < 2)); then
    echo "usage: $0 LIMIT_MIB CMD [ARGS...]" >&2
    exit 2
fi
LIMIT_MIB=$1
shift
LIMIT_BYTES=$((LIMIT_MIB * 1024 * 1024))
NAME="zerocp-ci-$$"

# cgroup_v1 / cgroup_v2: print the directory of a new cgroup for this run,
# with the limit set; return non-zero (leaving nothing) where none can be made.
cgroup_v1() {
    local own dir
    own=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
    [[ -n "$own" && -d /sys/fs/cgroup/memory ]] || return 1
    dir="/sys/fs/cgroup/memory${own%/}/$NAME"
    mkdir "$dir" 2>/dev/null || return 1
    # Swap counts too where the kernel accounts it.
    if ! echo "$LIMIT_BYTES" >"$dir/memory.limit_in_bytes" ||
        { [[ -w "$dir/memory.memsw.limit_in_bytes" ]] &&
            ! echo "$LIMIT_BYTES" >"$dir/memory.memsw.limit_in_bytes"; }; then
        rmdir "$dir"
        return 1
    fi
    echo "$dir"
}

cgroup_v2() {
    local own root=/sys/fs/cgroup parent dir
    [[ -f "$root/cgroup.controllers" ]] || root=/sys/fs/cgroup/unified
    own=$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)
    parent="$root${own%/}"
    [[ -f "$parent/cgroup.subtree_control" ]] || return 1
    grep -qw memory "$parent/cgroup.subtree_control" ||
        echo "+memory" >"$parent/cgroup.subtree_control" 2>/dev/null || return 1
    dir="$parent/$NAME"
    mkdir "$dir" 2>/dev/null || return 1
    if ! echo "$LIMIT_BYTES" >"$dir/memory.max"; then
        rmdir "$dir"
        return 1
    fi
    if [[ -w "$dir/memory.swap.max" ]]; then echo 0 >"$dir/memory.swap.max"; fi
    echo "$dir"
}

# Number of OOM kills inside the cgroup.
oom_kills() {
    local file=$1/memory.oom_control
    [[ $CG_VERSION == 2 ]] && file=$1/memory.events
    awk '$1 == "oom_kill" { print $2; found = 1 } END { if (!found) print 0 }' "$file"
}

peak_bytes() {
    if [[ $CG_VERSION == 1 ]]; then
        cat "$1/memory.max_usage_in_bytes"
    elif [[ -f "$1/memory.peak" ]]; then
        cat "$1/memory.peak"
    else
        echo 0
    fi
}

remove_cgroup() {
    local dir=$1 pid
    # A process a test forgot (a daemon) would keep the cgroup busy.
    while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done <"$dir/cgroup.procs"
    for _ in $(seq 50); do
        rmdir "$dir" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "cannot remove the cgroup $dir" >&2
}

if CG_DIR=$(cgroup_v1); then
    CG_VERSION=1
elif CG_DIR=$(cgroup_v2); then
    CG_VERSION=2
else
    if [[ "${CI_MEMORY_BOUND:-on}" == off ]]; then
        ci_note "WARNING: no memory cgroup could be made; running unbounded (CI_MEMORY_BOUND=off)"
        exec "$@"
    fi
    echo "cannot create a memory cgroup (needs root and cgroup v1, or a delegated v2 subtree);" \
        "set CI_MEMORY_BOUND=off to run unbounded" >&2
    exit 1
fi
# lib.sh's EXIT trap reports the exit code: keep it, after the clean-up.
trap 'rc_=$?; remove_cgroup "$CG_DIR"; ci_on_exit "$rc_"' EXIT
ci_note "running in memory cgroup v$CG_VERSION $CG_DIR, limit ${LIMIT_MIB} MiB"

rc=0
bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' bash "$CG_DIR" "$@" || rc=$?

peak_mib=$(($(peak_bytes "$CG_DIR") / 1024 / 1024))
kills=$(oom_kills "$CG_DIR")
ci_note "peak memory of the run: ${peak_mib} MiB (page cache included), limit ${LIMIT_MIB} MiB"
if ((kills > 0)); then
    echo "the run exceeded its memory limit of ${LIMIT_MIB} MiB: the kernel killed $kills" \
        "process(es) in it (a test that fills /dev/shm or leaks memory)" >&2
    ((rc != 0)) || rc=1
fi
exit "$rc"
