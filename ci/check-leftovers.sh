#!/usr/bin/env bash
# Fails if the tests left ZeroCP's OS objects behind: shared-memory segments
# (/dev/shm/zerocp.*), entries in the run directories (/run/zerocp,
# $XDG_RUNTIME_DIR/zerocp, /tmp/zerocp-*) or processes still running from this
# build tree (a daemon a test forgot to stop, a qemu child).
#
# An empty run directory is not a leftover: the daemon creates it once and may
# keep it, as /run directories are. Everything inside it is, and so is any
# other /tmp/zerocp-* path (a test's temporary directory), empty or not.
#
#   ci/check-leftovers.sh --snapshot FILE   record what exists now
#   ci/check-leftovers.sh [--baseline FILE] list leftovers, ignoring FILE's
#                                           entries; exit 1 if there are any
# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The run directories a daemon may use (docs/architecture.md, "Names"; the /tmp one per uid); any
# other /tmp/zerocp-* path is a test's temporary and must be gone entirely.
is_run_dir() {
    [[ "$1" == /run/zerocp || "$1" == "${XDG_RUNTIME_DIR:-/nonexistent}/zerocp" || "$1" =~ ^/tmp/zerocp-[0-9]+$ ]]
}

list_objects() {
    shopt -s nullglob
    local p dirs=(/run/zerocp /tmp/zerocp-*)
    if [[ -n "${XDG_RUNTIME_DIR:-}" ]]; then dirs+=("$XDG_RUNTIME_DIR/zerocp"); fi
    for p in /dev/shm/zerocp.*; do echo "shm     $p"; done
    for p in "${dirs[@]}"; do
        if [[ -d "$p" && ! -L "$p" ]] && is_run_dir "$p"; then
            find "$p" -mindepth 1 -printf 'run-dir %p\n'
        elif [[ -e "$p" || -L "$p" ]]; then
            echo "run-dir $p"
        fi
    done
    # Processes whose command line names a binary of this build tree.
    local cmd pid
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        [[ "$pid" == "$$" || "$pid" == "$BASHPID" ]] && continue
        # The process may be gone by now; skip it then.
        cmd=$({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null) || continue
        if [[ "$cmd" == *"$CI_ROOT/target/"* ]]; then
            echo "process $pid: $cmd"
        fi
    done
}

case "${1:-}" in
--snapshot)
    list_objects | { grep -v '^process ' || true; } >"$2"
    exit 0
    ;;
--baseline) baseline=$2 ;;
"") baseline=/dev/null ;;
*)
    echo "usage: $0 [--snapshot FILE | --baseline FILE]" >&2
    exit 2
    ;;
esac

leftovers=$(list_objects | grep -vxF -f "$baseline" || true)
if [[ -n "$leftovers" ]]; then
    echo "The tests left these behind:" >&2
    echo "$leftovers" >&2
    exit 1
fi
ci_note "no shared memory, run-dir entries or processes left behind"
