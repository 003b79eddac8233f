#!/usr/bin/env bash
# ZeroCP's C and C++ API installed and consumed the way C and C++ projects
# do it (ffi/README.md, "Install"):
#
# 1. ffi/CMakeLists.txt configures, builds (cargo, profile ffi, soname
#    libzerocp.so.0) and installs into a fresh prefix; the layout is
#    checked: the files, the symlinks, the soname, and that the shared
#    library exports exactly the functions zerocp.h declares;
# 2. ffi/examples/CMakeLists.txt builds the examples with
#    find_package(zerocp) against that prefix, once linking zerocp::zerocp
#    (shared, then installed: the installed programs find the library
#    through their runpath) and once zerocp::zerocp_static;
# 3. the C subscriber is compiled by hand with
#    `pkg-config --cflags --libs zerocp`;
# 4. against a real zerocpd on a private domain and run directory, the
#    static C publisher publishes COUNT counters and both the installed
#    shared C++ subscriber and the pkg-config C subscriber receive all of
#    them, in order; then the Rust publisher example (runtime/examples,
#    built by ci/readme.sh before this step) publishes COUNT more to a new
#    installed C++ subscriber; the daemon is stopped with SIGTERM and
#    nothing may remain (no /dev/shm/zerocp.<domain>.*, no run directory).
# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=ci/daemon-helpers.sh
source "$CI_ROOT/ci/daemon-helpers.sh"

COUNT=5
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps --locked | jq -r .target_directory)
WORK_DIR="$TARGET_DIR/cmake-package"
PREFIX="$WORK_DIR/prefix"
APPS="$WORK_DIR/apps"
DOMAIN="ci-cmake-$$"
TMP_DIR=""
RUN_DIR=""
PIDS=()

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            zcp_wait_child "$pid" || true
        fi
    done
    if [[ -n "$TMP_DIR" ]]; then
        zcp_stop_run_dir_processes "$RUN_DIR" || true
        rm -rf "$TMP_DIR"
    fi
    # This run's unique domain: nobody else's objects.
    rm -f /dev/shm/zerocp."$DOMAIN".*
}
trap 'rc=$?; cleanup; ci_on_exit "$rc"' EXIT

install_package() {
    rm -rf "$WORK_DIR"
    cmake -S ffi -B "$WORK_DIR/build" -DCMAKE_BUILD_TYPE=Release -DZEROCP_CARGO_TARGET_DIR="$TARGET_DIR" || return
    cmake --build "$WORK_DIR/build" || return
    cmake --install "$WORK_DIR/build" --prefix "$PREFIX"
}

check_layout() {
    local f lib="$PREFIX/lib"
    for f in lib/libzerocp.so.0 lib/libzerocp.so lib/libzerocp.a include/zerocp.h include/zerocp.hpp \
        include/zerocp/publisher.hpp lib/cmake/zerocp/zerocpConfig.cmake \
        lib/cmake/zerocp/zerocpConfigVersion.cmake lib/pkgconfig/zerocp.pc; do
        if [[ ! -e "$PREFIX/$f" ]]; then
            ci_note "not installed: $f"
            return 1
        fi
    done
    [[ -L "$lib/libzerocp.so" && $(readlink "$lib/libzerocp.so") == libzerocp.so.0 ]] || {
        ci_note "lib/libzerocp.so is not a symlink to libzerocp.so.0"
        return 1
    }
    readelf -d "$lib/libzerocp.so.0" | grep -q 'SONAME.*\[libzerocp\.so\.0\]' || {
        ci_note "libzerocp.so.0 has another soname: $(readelf -d "$lib/libzerocp.so.0" | grep SONAME)"
        return 1
    }
    local exported declared
    exported=$(nm -D --defined-only "$lib/libzerocp.so.0" | awk '{print $3}' | sort)
    declared=$(grep -oE '\bzerocp_[a-z_]+\(' "$PREFIX/include/zerocp.h" | tr -d '(' | sort -u)
    if [[ "$exported" != "$declared" ]]; then
        ci_note "exported symbols differ from zerocp.h's functions:"
        diff <(echo "$declared") <(echo "$exported") || true
        return 1
    fi
    ci_note "installed: $(find "$PREFIX" -type f -o -type l | sed "s|$PREFIX/||" | sort | tr '\n' ' ')"
}

build_examples() {
    cmake -S ffi/examples -B "$WORK_DIR/examples" -DCMAKE_PREFIX_PATH="$PREFIX" -DZEROCP_EXAMPLES_WERROR=ON || return
    cmake --build "$WORK_DIR/examples" || return
    cmake --install "$WORK_DIR/examples" --prefix "$APPS" || return
    cmake -S ffi/examples -B "$WORK_DIR/examples-static" -DCMAKE_PREFIX_PATH="$PREFIX" \
        -DZEROCP_EXAMPLES_WERROR=ON -DZEROCP_EXAMPLES_STATIC=ON || return
    cmake --build "$WORK_DIR/examples-static" || return
    if readelf -d "$WORK_DIR/examples-static/c_publisher" | grep -q 'NEEDED.*libzerocp'; then
        ci_note "the static c_publisher needs libzerocp.so"
        return 1
    fi
}

build_with_pkg_config() {
    local flags
    flags=$(PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig" pkg-config --cflags --libs zerocp) || return
    ci_note "pkg-config --cflags --libs zerocp: $flags"
    # shellcheck disable=SC2086 # the flags are words
    cc -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror ffi/examples/c_subscriber.c $flags \
        -Wl,-rpath,"$PREFIX/lib" -o "$WORK_DIR/pkg-config-c_subscriber"
}

# wait_exit PID: waits for child PID of this shell to exit, at most
# ZCP_DAEMON_DEADLINE seconds (then SIGKILL); returns its exit status, 124 on
# timeout. Unlike zcp_wait_child (`wait -n`), it also returns at once for a
# child that has exited already: bash keeps that status for `wait PID`.
wait_exit() {
    local deadline=$((SECONDS + ZCP_DAEMON_DEADLINE))
    while kill -0 "$1" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            ci_note "process $1 did not exit within $ZCP_DAEMON_DEADLINE s; killing it"
            kill -KILL "$1" 2>/dev/null || true
            wait "$1" 2>/dev/null || true
            return 124
        fi
        sleep 0.02
    done
    wait "$1"
}

# wait_ready FILE PID: waits until FILE has the line "ready" while PID lives.
wait_ready() {
    local deadline=$((SECONDS + ZCP_DAEMON_DEADLINE))
    until grep -qx ready "$1" 2>/dev/null; do
        if ! kill -0 "$2" 2>/dev/null || ((SECONDS >= deadline)); then
            ci_note "$1: no \"ready\" line: $(cat "$1" 2>/dev/null)"
            return 1
        fi
        sleep 0.02
    done
}

# expect_counters FILE TEXT: FILE is "ready" and COUNT counters, in order,
# counter i with the text TEXT (a regex; @ stands for i).
expect_counters() {
    local i line lines
    mapfile -t lines <"$1"
    if ((${#lines[@]} != COUNT + 1)) || [[ "${lines[0]}" != ready ]]; then
        ci_note "$1: not \"ready\" and $COUNT counters: $(cat "$1")"
        return 1
    fi
    for ((i = 0; i < COUNT; i++)); do
        line=${lines[i + 1]}
        if ! [[ "$line" =~ ^count=$i\ text=${2//@/$i}\ seq=$i$ ]]; then
            ci_note "$1: counter $i is \"$line\""
            return 1
        fi
    done
}

# rust_publisher_to_cpp ENV...: the Rust publisher example's counters reach
# a new installed C++ subscriber.
rust_publisher_to_cpp() {
    local out="$WORK_DIR/cpp_subscriber-rust.out" sub ok=0
    "$@" "$APPS/bin/cpp_subscriber" "$COUNT" >"$out" &
    sub=$!
    PIDS+=("$sub")
    wait_ready "$out" "$sub" || return
    "$@" "$TARGET_DIR/release/examples/publisher" --count "$COUNT" --interval-ms 0 --history "$COUNT" \
        >"$WORK_DIR/rust_publisher.out" || { ci_note "the Rust publisher example failed"; ok=1; }
    wait_exit "$sub" || { ci_note "cpp_subscriber failed"; ok=1; }
    expect_counters "$out" 'hello #@ from pid [0-9]+' || ok=1
    return "$ok"
}

run_programs() {
    TMP_DIR=$(zcp_make_run_dir cmake) || return
    RUN_DIR=$TMP_DIR/run
    local env=(env ZEROCP_DOMAIN="$DOMAIN" ZEROCP_RUN_DIR="$RUN_DIR")
    "${env[@]}" "$TARGET_DIR/debug/zerocpd" --domain "$DOMAIN" &
    local daemon=$!
    PIDS+=("$daemon")
    zcp_wait_socket "$RUN_DIR/$DOMAIN.sock" "$daemon" || return

    "${env[@]}" "$APPS/bin/cpp_subscriber" "$COUNT" >"$WORK_DIR/cpp_subscriber.out" &
    local cpp_sub=$!
    "${env[@]}" "$WORK_DIR/pkg-config-c_subscriber" "$COUNT" >"$WORK_DIR/c_subscriber.out" &
    local c_sub=$!
    PIDS+=("$cpp_sub" "$c_sub")
    wait_ready "$WORK_DIR/cpp_subscriber.out" "$cpp_sub" || return
    wait_ready "$WORK_DIR/c_subscriber.out" "$c_sub" || return

    # The publisher keeps its port until its stdin closes: a fifo held open
    # here until both subscribers are done.
    local fifo="$WORK_DIR/publisher.in" pub_in
    mkfifo "$fifo" || return
    "${env[@]}" "$WORK_DIR/examples-static/c_publisher" "$COUNT" <"$fifo" >"$WORK_DIR/c_publisher.out" &
    local pub=$!
    PIDS+=("$pub")
    exec {pub_in}>"$fifo"
    local ok=0
    wait_exit "$cpp_sub" || { ci_note "cpp_subscriber failed"; ok=1; }
    wait_exit "$c_sub" || { ci_note "the pkg-config c_subscriber failed"; ok=1; }
    exec {pub_in}>&-
    wait_exit "$pub" || { ci_note "c_publisher failed"; ok=1; }
    expect_counters "$WORK_DIR/cpp_subscriber.out" 'hello from C #@' || ok=1
    expect_counters "$WORK_DIR/c_subscriber.out" 'hello from C #@' || ok=1
    [[ "$(cat "$WORK_DIR/c_publisher.out")" == "published $COUNT" ]] || { ci_note "c_publisher said: $(cat "$WORK_DIR/c_publisher.out")"; ok=1; }
    rust_publisher_to_cpp "${env[@]}" || ok=1

    kill -TERM "$daemon"
    wait_exit "$daemon" || { ci_note "zerocpd did not exit 0 after SIGTERM"; ok=1; }
    zcp_leftovers "$DOMAIN" "$TMP_DIR" || ok=1
    if ((ok == 0)); then
        ci_note "$COUNT counters from the static C publisher reached the C++ and the pkg-config C subscriber," \
            "$COUNT from the Rust publisher example the C++ subscriber; nothing left"
        rm -rf "$TMP_DIR" && TMP_DIR=""
    fi
    return "$ok"
}

step "build zerocpd" cargo build -p zerocp-daemon --bin zerocpd --locked
step "build the Rust publisher example" cargo build --release -p zerocp --example publisher --locked
step "configure, build and install ffi/ into $PREFIX" install_package
step "check the installed layout" check_layout
step "build ffi/examples with find_package(zerocp), shared and static" build_examples
step "build the C subscriber with pkg-config" build_with_pkg_config
step "run the installed programs against zerocpd on domain $DOMAIN" run_programs
step "remove $WORK_DIR" rm -rf "$WORK_DIR"
