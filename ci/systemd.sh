#!/usr/bin/env bash
# Checks the systemd units targets/systemd/zerocpd.service and
# zerocp-zenoh.service with `systemd-analyze verify` (package systemd,
# installed by ci/setup.sh): every key known and every value parsed, for the
# systemd of this machine. Each unit's ExecStart names /usr/bin/<binary>;
# the check points it at the binary just built, since verify also checks
# that it exists. systemd only warns about unknown keys and bad values
# (exit 0), so any output fails.
# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# verify_unit BINARY: targets/systemd/BINARY.service.
verify_unit() {
    local binary=$1 dir out
    local unit=targets/systemd/$binary.service
    dir=$(mktemp -d) || return
    sed "s#/usr/bin/$binary#$CI_ROOT/target/debug/$binary#" "$unit" >"$dir/$binary.service"
    out=$(systemd-analyze verify --man=no "$dir/$binary.service" 2>&1) || {
        echo "$out"
        rm -rf "$dir"
        return 1
    }
    rm -rf "$dir"
    if [[ -n "$out" ]]; then
        echo "systemd-analyze verify $unit reported:" >&2
        echo "$out" >&2
        return 1
    fi
    ci_note "$unit: no warnings ($(systemd-analyze --version | head -1))"
}

step "build zerocpd and zerocp-zenoh" cargo build --locked -p zerocp-daemon --bin zerocpd \
    -p zerocp-zenoh --bin zerocp-zenoh
step "systemd-analyze verify zerocpd.service" verify_unit zerocpd
step "systemd-analyze verify zerocp-zenoh.service" verify_unit zerocp-zenoh
