#!/usr/bin/env bash
# Every crate on its own, the way a user or crates.io sees it, not through
# the workspace (where `cargo build --workspace` unifies features and hides a
# crate that forgot one of its dependencies' features):
#
# 1. for each workspace package: `cargo check -p P` with its default
#    features, with `--no-default-features` and with each feature alone
#    (except the host exclusions below), then `cargo check -p P --tests`
#    (its tests type-check with the package's own features; ci/test-native.sh
#    builds and runs them through the workspace);
# 2. an application outside the workspace (ci/outside-app/, copied into a
#    fresh target/outside-app/ with its own [workspace] table) that depends
#    on the runtime by path, built as a user's project and run against a real
#    zerocpd on a private domain and run directory; the daemon is stopped
#    with SIGTERM and nothing may remain (no /dev/shm/zerocp.<domain>.*, no
#    run directory: it did not exist before, so the daemon removes it);
# 3. `cargo package --workspace --locked`, which checks every manifest's
#    metadata and builds each packaged crate against the others as they would
#    be published.
#
# Features that only make sense on bare metal are left to ci/nostd.sh; see
# HOST_EXCLUDED.
# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=ci/daemon-helpers.sh
source "$CI_ROOT/ci/daemon-helpers.sh"

# package/feature -> why it is not built for the host.
declare -A HOST_EXCLUDED=(
    ["zerocp-core/unsafe-assume-single-core"]="portable-atomic refuses it on a hosted target (it disables interrupts); ci/nostd.sh builds it for thumbv7em-none-eabihf"
)

METADATA=$(cargo metadata --format-version 1 --no-deps --locked)
TARGET_DIR=$(jq -r .target_directory <<<"$METADATA")
mapfile -t PACKAGES < <(jq -r '.packages[].name' <<<"$METADATA")

features_of() {
    jq -r --arg p "$1" '.packages[] | select(.name == $p) | .features | keys[] | select(. != "default")' \
        <<<"$METADATA"
}

# --- 1. each package alone --------------------------------------------------

for package in "${PACKAGES[@]}"; do
    step_continue "$package: check" cargo check -p "$package" --locked
    mapfile -t features < <(features_of "$package")
    if ((${#features[@]} > 0)); then
        step_continue "$package: check, no default features" \
            cargo check -p "$package" --locked --no-default-features
    fi
    for feature in "${features[@]}"; do
        if [[ -n "${HOST_EXCLUDED[$package/$feature]:-}" ]]; then
            ci_note "$package: feature $feature not built here: ${HOST_EXCLUDED[$package/$feature]}"
            continue
        fi
        step_continue "$package: check, feature $feature alone" \
            cargo check -p "$package" --locked --no-default-features --features "$feature"
    done
    step_continue "$package: check tests" cargo check -p "$package" --locked --tests
done

# --- 2. an application outside the workspace --------------------------------

APP_DIR="$TARGET_DIR/outside-app"
DOMAIN="ci-outside-$$"
# A private temporary directory; the daemon's run directory is TMP_DIR/run,
# which it creates and must remove again at stop.
TMP_DIR=""
RUN_DIR=""
DAEMON_PID=""

cleanup() {
    if [[ -n "$DAEMON_PID" ]] && kill -0 "$DAEMON_PID" 2>/dev/null; then
        kill -TERM "$DAEMON_PID" 2>/dev/null || true
        zcp_wait_child "$DAEMON_PID" || true
    fi
    if [[ -n "$TMP_DIR" ]]; then
        zcp_stop_run_dir_processes "$RUN_DIR" || true
        rm -rf "$TMP_DIR"
    fi
    # This run's unique domain: nobody else's objects.
    rm -f /dev/shm/zerocp."$DOMAIN".*
}
trap 'rc=$?; cleanup; ci_on_exit "$rc"' EXIT

build_outside_app() {
    rm -rf "$APP_DIR"
    mkdir -p "$APP_DIR/src" || return
    sed "s|@RUNTIME@|$CI_ROOT/runtime|" ci/outside-app/Cargo.toml.in >"$APP_DIR/Cargo.toml" || return
    cp ci/outside-app/src/main.rs "$APP_DIR/src/" || return
    # The versions this workspace is tested with; cargo adds the app itself.
    cp Cargo.lock "$APP_DIR/" || return
    # Its own directory, as a user would: no --manifest-path from the repo.
    (cd "$APP_DIR" && cargo build --target-dir "$TARGET_DIR")
}

# Starts zerocpd on DOMAIN in a fresh run directory, runs the app, stops the
# daemon with SIGTERM and checks that it exited 0 and left nothing.
run_outside_app() {
    TMP_DIR=$(zcp_make_run_dir outside) || return
    RUN_DIR=$TMP_DIR/run
    ZEROCP_RUN_DIR="$RUN_DIR" "$TARGET_DIR/debug/zerocpd" --domain "$DOMAIN" &
    DAEMON_PID=$!
    zcp_wait_socket "$RUN_DIR/$DOMAIN.sock" "$DAEMON_PID" || return
    local rc=0
    ZEROCP_DOMAIN="$DOMAIN" ZEROCP_RUN_DIR="$RUN_DIR" \
        timeout 60 "$TARGET_DIR/debug/zerocp-outside-app" || rc=$?
    kill -TERM "$DAEMON_PID"
    local daemon_rc=0
    zcp_wait_child "$DAEMON_PID" || daemon_rc=$?
    DAEMON_PID=""
    if ((daemon_rc != 0)); then
        ci_note "zerocpd exited with $daemon_rc after SIGTERM"
        return 1
    fi
    zcp_leftovers "$DOMAIN" "$TMP_DIR" || return
    ci_note "zerocpd stopped; no /dev/shm/zerocp.$DOMAIN.*, its run directory $RUN_DIR gone"
    rmdir "$TMP_DIR" && TMP_DIR=""
    return "$rc"
}

step "build zerocpd" cargo build -p zerocp-daemon --bin zerocpd --locked
step "build an application outside the workspace ($APP_DIR)" build_outside_app
step "run it against zerocpd on domain $DOMAIN" run_outside_app

# --- 3. the packages as crates.io would get them ----------------------------

# cargo package verifies each crate against the others through a local
# registry (target/package/tmp-registry) and unpacks them into
# $CARGO_HOME/registry/src/-<hash>/NAME-VERSION. A later run reuses such an
# unpacked copy of the same name and version even when the sources changed
# since (a fresh clone at the same path too) and then verifies against stale
# code. So the unpacked copies of this workspace's crates go first. Only
# local registries have a directory whose name starts with "-"; crates.io's
# is index.crates.io-<hash>.
clear_unpacked_workspace_crates() {
    local home=${CARGO_HOME:-$HOME/.cargo} name version dir
    while read -r name version; do
        for dir in "$home"/registry/src/-*/"$name-$version"; do
            if [[ -d "$dir" ]]; then
                ci_note "removing an unpacked copy an earlier run left: $dir"
                rm -rf "$dir"
            fi
        done
    done < <(jq -r '.packages[] | "\(.name) \(.version)"' <<<"$METADATA")
}

# A run on a work tree with uncommitted edits packages those edits (CI's
# clone is clean, so there the flag changes nothing).
dirty=()
if [[ -n "$(git status --porcelain 2>/dev/null)" ]]; then
    ci_note "uncommitted changes: packaging them (--allow-dirty)"
    dirty=(--allow-dirty)
fi
clear_unpacked_workspace_crates
step_continue "cargo package --workspace" cargo package --workspace --locked "${dirty[@]}"

ci_finish
