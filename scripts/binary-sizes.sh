#!/usr/bin/env bash
# Prints the stripped sizes of zerocpd, zerocpctl and a minimal publisher
# (against a hello-world built the same way), and how many crates each pulls
# in, for one target in the release profile:
#
#   scripts/binary-sizes.sh [TARGET]     (default: the host)
#
# The minimal publisher and the hello-world are built in a scratch project
# under target/binary-sizes/, outside the workspace, the way an application
# depends on zerocp (by path). Crate counts are the distinct packages of
# `cargo tree -e normal` (the binary's own package included; build-time and
# dev-only crates excluded, since they add nothing to the binary).
# Strips with the target's binutils strip (aarch64-linux-gnu-strip,
# arm-linux-gnueabihf-strip) or the host's.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
TARGET=${1:-$(rustc -vV | awk '/^host:/ { print $2 }')}
SCRATCH="$ROOT/target/binary-sizes"
export CARGO_TARGET_DIR="$ROOT/target"

case "$TARGET" in
aarch64-*) STRIP=aarch64-linux-gnu-strip ;;
armv7-*) STRIP=arm-linux-gnueabihf-strip ;;
*) STRIP=strip ;;
esac

stripped_size() {
    local copy
    copy=$(mktemp)
    "$STRIP" -o "$copy" "$1"
    stat -c %s "$copy"
    rm -f "$copy"
}

crates() {
    cargo tree --locked -e normal --prefix none --no-dedupe --target "$TARGET" "$@" |
        sed 's/ (\*)$//; s/ (proc-macro)$//' | sort -u | wc -l
}

# The scratch application: a hello-world and a minimal publisher.
mkdir -p "$SCRATCH/src/bin"
cat >"$SCRATCH/Cargo.toml" <<TOML
[package]
name = "zerocp-size-probe"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
# No derive: the minimal publisher sends a u64, and the derive (a proc macro
# run by the compiler) adds nothing to a binary, only to the crate count.
zerocp = { path = "$ROOT/runtime", default-features = false }

[workspace]

[profile.release]
codegen-units = 1
lto = "thin"
TOML
cat >"$SCRATCH/src/bin/hello.rs" <<'RUST'
fn main() {
    println!("hello");
}
RUST
cat >"$SCRATCH/src/bin/minimal_publisher.rs" <<'RUST'
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rt = zerocp::Runtime::init("minimal")?;
    let svc = zerocp::ServiceDescription::new("Size", "Probe", "Counter")?;
    let publisher = rt.publisher::<u64>(&svc).create()?;
    publisher.loan_uninit()?.write(42).publish()?;
    Ok(())
}
RUST
cp Cargo.lock "$SCRATCH/Cargo.lock"

cargo build --locked --release --target "$TARGET" -p zerocp-daemon --bins >&2
(cd "$SCRATCH" && cargo build --release --target "$TARGET" --bins >&2)

out="$ROOT/target/$TARGET/release"
hello=$(stripped_size "$out/hello")
printf '%-20s %10s %8s   (%s, release, stripped)\n' binary bytes crates "$TARGET"
printf '%-20s %10d %8d\n' zerocpd "$(stripped_size "$out/zerocpd")" "$(crates -p zerocp-daemon)"
printf '%-20s %10d %8d\n' zerocpctl "$(stripped_size "$out/zerocpctl")" "$(crates -p zerocp-daemon)"
printf '%-20s %10d %8d\n' hello-world "$hello" 1
pub=$(stripped_size "$out/minimal_publisher")
printf '%-20s %10d %8d   (+%d over hello-world)\n' minimal-publisher "$pub" \
    "$(cd "$SCRATCH" && crates)" $((pub - hello))
