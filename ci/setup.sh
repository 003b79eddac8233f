#!/usr/bin/env bash
# Installs everything the other CI scripts need on a fresh Debian 12 machine
# that has rustup (stable + nightly) and nothing else: cross compilers and
# sysroots, qemu-user, the Rust targets, miri, and qemu's binfmt_misc
# registration so foreign binaries spawned by tests run. Idempotent: each part
# is skipped when already in place. Needs root.
#
# The functions below run as `step` commands, i.e. in an `if` condition where
# bash suspends `set -e`: every command that can fail says `|| return`.
# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

APT_PACKAGES=(
    gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf
    g++-aarch64-linux-gnu g++-arm-linux-gnueabihf # zerocp-ffi's C++ tests under qemu
    libc6-dev-arm64-cross libc6-dev-armhf-cross
    qemu-user qemu-user-binfmt
    jq  # ci/lib.sh reads `cargo metadata` with it
    g++     # libfuzzer-sys (ci/fuzz-smoke.sh) compiles C++
    gcc libc6-dev # zerocp-ffi's tests compile ffi/examples/*.c against libzerocp_c.a
    cmake pkg-config # ci/cmake-package.sh installs ffi/ and builds against it
    systemd # systemd-analyze verify (ci/systemd.sh)
)
RUST_TARGETS=(aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf aarch64-unknown-linux-musl x86_64-unknown-linux-musl thumbv7em-none-eabihf)
NIGHTLY_COMPONENTS=(miri rust-src)
BINFMT_DIR=/proc/sys/fs/binfmt_misc

apt_install() {
    local missing=() p
    for p in "${APT_PACKAGES[@]}"; do
        if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" != "installed" ]]; then
            missing+=("$p")
        fi
    done
    if ((${#missing[@]} == 0)); then
        ci_note "all apt packages already installed"
        return 0
    fi
    ci_note "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || return
    apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
}

rust_targets() {
    local installed missing=() t
    installed=$(rustup target list --installed) || return
    for t in "${RUST_TARGETS[@]}"; do
        grep -qx "$t" <<<"$installed" || missing+=("$t")
    done
    if ((${#missing[@]} == 0)); then
        ci_note "all Rust targets already installed"
        return 0
    fi
    rustup target add "${missing[@]}"
}

nightly_components() {
    local installed missing=() c
    installed=$(rustup +nightly component list --installed) || return
    for c in "${NIGHTLY_COMPONENTS[@]}"; do
        # Installed components are listed with their host triple, except rust-src.
        grep -Eq "^${c}(-x86_64-unknown-linux-gnu)?\$" <<<"$installed" || missing+=("$c")
    done
    if ((${#missing[@]} == 0)); then
        ci_note "nightly components already installed: ${NIGHTLY_COMPONENTS[*]}"
        return 0
    fi
    rustup +nightly component add "${missing[@]}"
}

# Registers qemu-aarch64 and qemu-arm with binfmt_misc. The cargo runner
# (ci/qemu-run.sh) starts the test binary itself; binfmt is what runs the
# foreign binaries that the tests spawn (zerocpd, the test binary re-exec'd).
binfmt_register() {
    if ! mountpoint -q "$BINFMT_DIR"; then
        ci_note "mounting binfmt_misc on $BINFMT_DIR"
        mount -t binfmt_misc binfmt_misc "$BINFMT_DIR" || return
    fi
    local arch missing=()
    for arch in aarch64 arm; do
        [[ -e "$BINFMT_DIR/qemu-$arch" ]] || missing+=("$arch")
    done
    if ((${#missing[@]} == 0)); then
        ci_note "qemu-aarch64 and qemu-arm already registered"
    else
        # Without systemd running, systemd-binfmt still loads the given files;
        # update-binfmts (binfmt-support) is the fallback where it is absent.
        local confs=()
        for arch in "${missing[@]}"; do confs+=("/usr/lib/binfmt.d/qemu-$arch.conf"); done
        if [[ -x /lib/systemd/systemd-binfmt ]]; then
            /lib/systemd/systemd-binfmt "${confs[@]}" || return
        else
            for arch in "${missing[@]}"; do update-binfmts --enable "qemu-$arch" || return; done
        fi
    fi
    for arch in aarch64 arm; do
        if ! grep -qx enabled "$BINFMT_DIR/qemu-$arch"; then
            echo "binfmt entry qemu-$arch is not enabled" >&2
            return 1
        fi
    done
}

# Proves binfmt works the way the tests use it: a dynamically linked foreign
# binary executed directly (no runner), finding its loader via QEMU_LD_PREFIX.
binfmt_verify() {
    local dir
    dir=$(mktemp -d) || return
    printf '#include <stdio.h>\nint main(void) { puts("binfmt ok"); return 0; }\n' >"$dir/hello.c"
    aarch64-linux-gnu-gcc -O1 -o "$dir/hello-aarch64" "$dir/hello.c" || return
    arm-linux-gnueabihf-gcc -O1 -o "$dir/hello-arm" "$dir/hello.c" || return
    local aarch64_out arm_out
    aarch64_out=$(QEMU_LD_PREFIX=/usr/aarch64-linux-gnu "$dir/hello-aarch64" || true)
    arm_out=$(QEMU_LD_PREFIX=/usr/arm-linux-gnueabihf "$dir/hello-arm" || true)
    rm -rf "$dir"
    if [[ "$aarch64_out" != "binfmt ok" || "$arm_out" != "binfmt ok" ]]; then
        echo "foreign binaries did not run through binfmt_misc:" \
            "aarch64 printed '$aarch64_out', arm printed '$arm_out'" >&2
        return 1
    fi
    ci_note "aarch64 and armhf binaries run directly through binfmt_misc"
}

if [[ $(id -u) -ne 0 ]]; then
    echo "ci/setup.sh installs packages and registers binfmt handlers: run it as root" >&2
    exit 1
fi
step "apt packages" apt_install
step "rust targets" rust_targets
step "nightly components" nightly_components
step "binfmt_misc registration" binfmt_register
step "binfmt_misc check" binfmt_verify
step "toolchain versions" bash -c 'rustc --version; cargo --version; rustc +nightly --version; cargo nextest --version 2>/dev/null | head -1 || true; qemu-aarch64 --version | head -1'
