#!/usr/bin/env bash
# Checks the systemd unit targets/systemd/zerocpd.service with
# `systemd-analyze verify` (package systemd, installed by ci/setup.sh): every
# key known and every value parsed, for the systemd of this machine. The
# unit's ExecStart names /usr/bin/zerocpd; the check points it at the zerocpd
# just built, since verify also checks that the binary exists. systemd only
# warns about unknown keys and bad values (exit 0), so any output fails.
# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

UNIT=targets/systemd/zerocpd.service

verify_unit() {
    local dir out
    dir=$(mktemp -d) || return
    sed "s#/usr/bin/zerocpd#$CI_ROOT/target/debug/zerocpd#" "$UNIT" >"$dir/zerocpd.service"
    out=$(systemd-analyze verify --man=no "$dir/zerocpd.service" 2>&1) || {
        echo "$out"
        rm -rf "$dir"
        return 1
    }
    rm -rf "$dir"
    if [[ -n "$out" ]]; then
        echo "systemd-analyze verify $UNIT reported:" >&2
        echo "$out" >&2
        return 1
    fi
    ci_note "$UNIT: no warnings ($(systemd-analyze --version | head -1))"
}

step "build zerocpd" cargo build --locked -p zerocp-daemon --bin zerocpd
step "systemd-analyze verify" verify_unit
