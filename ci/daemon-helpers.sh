# Helpers for the ci/*.sh scripts that run a real zerocpd outside the test
# suites (ci/packages.sh, ci/readme.sh). Source it after ci/lib.sh.
#
# Every run gets a private run directory (ZEROCP_RUN_DIR) made by
# `zcp_make_run_dir`; processes are found again through that directory in
# their environment, so cleanup ends exactly the processes of this run, by
# pid, and nothing else on the machine.
# shellcheck shell=bash

# Seconds a daemon gets to start listening or to stop.
ZCP_DAEMON_DEADLINE=${ZCP_DAEMON_DEADLINE:-20}

# zcp_make_run_dir NAME: prints a fresh empty directory for ZEROCP_RUN_DIR.
# Named /tmp/zerocp-ci-NAME.*, which ci/check-leftovers.sh reports if a run
# forgets to remove it (and short enough for a socket path).
zcp_make_run_dir() {
    mktemp -d "${TMPDIR:-/tmp}/zerocp-ci-$1.XXXXXX"
}

# zcp_wait_socket SOCKET PID [SECONDS]: waits until SOCKET exists while
# process PID lives; fails when PID exits first or the deadline passes.
zcp_wait_socket() {
    local socket=$1 pid=$2 deadline=$((SECONDS + ${3:-$ZCP_DAEMON_DEADLINE}))
    until [[ -S "$socket" ]]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            ci_note "process $pid exited before $socket appeared"
            return 1
        fi
        if ((SECONDS >= deadline)); then
            ci_note "$socket did not appear within ${3:-$ZCP_DAEMON_DEADLINE} s"
            return 1
        fi
        sleep 0.02
    done
}

# zcp_wait_child PID [SECONDS]: waits for child PID of this shell to exit,
# at most SECONDS (then SIGKILL); returns its exit status, 124 on timeout.
zcp_wait_child() {
    local pid=$1 secs=${2:-$ZCP_DAEMON_DEADLINE} timer first rc=0
    # The deadline is a second child; whichever ends first decides.
    sleep "$secs" &
    timer=$!
    wait -n -p first "$pid" "$timer" || rc=$?
    if [[ "$first" == "$pid" ]]; then
        kill "$timer" 2>/dev/null || true
        wait "$timer" 2>/dev/null || true
        return "$rc"
    fi
    ci_note "process $pid did not exit within $secs s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    return 124
}

# zcp_run_dir_pids RUN_DIR: pids of the processes whose environment has
# ZEROCP_RUN_DIR=RUN_DIR (this run's daemons and applications).
zcp_run_dir_pids() {
    local dir=$1 p pid
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        [[ "$pid" == "$$" || "$pid" == "$BASHPID" ]] && continue
        if { tr '\0' '\n' <"$p/environ" | grep -qxF "ZEROCP_RUN_DIR=$dir"; } 2>/dev/null; then
            echo "$pid"
        fi
    done
}

# zcp_stop_run_dir_processes RUN_DIR: SIGTERM to this run's processes (a
# daemon then removes its files), SIGKILL to those still there after the
# deadline. Prints what it stopped; returns 1 if it had to stop anything.
zcp_stop_run_dir_processes() {
    local dir=$1 pids pid deadline=$((SECONDS + ZCP_DAEMON_DEADLINE))
    mapfile -t pids < <(zcp_run_dir_pids "$dir")
    ((${#pids[@]} == 0)) && return 0
    for pid in "${pids[@]}"; do
        ci_note "still running: pid $pid: $({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null)"
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    return 1
}

# zcp_leftovers DOMAIN RUN_DIR: prints this domain's shared memory and the
# entries of RUN_DIR; returns 1 if there are any.
zcp_leftovers() {
    local domain=$1 dir=$2 found
    found=$(
        shopt -s nullglob
        printf '%s\n' /dev/shm/zerocp."$domain".*
        if [[ -d "$dir" ]]; then find "$dir" -mindepth 1; fi
    )
    if [[ -n "$found" ]]; then
        ci_note "left behind:"
        local line
        while IFS= read -r line; do printf '      %s\n' "$line"; done <<<"$found"
        return 1
    fi
}
