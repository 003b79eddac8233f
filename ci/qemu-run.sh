#!/bin/sh
# Cargo `runner` for foreign-architecture targets (see .cargo/config.toml).
#
#   ci/qemu-run.sh <qemu-arch> <sysroot|-> <binary> [args...]
#
# Runs <binary> under qemu-user. The sysroot goes into QEMU_LD_PREFIX rather
# than qemu's `-L` flag: the environment variable is inherited by every child
# process, so a test that spawns another binary of the same target (zerocpd, or
# itself re-exec'd) is started through binfmt_misc with the same sysroot and
# finds its dynamic loader. `-` means "no sysroot" (static musl binaries).
set -eu
if [ "$#" -lt 3 ]; then
    echo "usage: $0 <qemu-arch> <sysroot|-> <binary> [args...]" >&2
    exit 2
fi
arch=$1
sysroot=$2
shift 2
if [ "$sysroot" != "-" ]; then
    QEMU_LD_PREFIX=$sysroot
    export QEMU_LD_PREFIX
fi
exec "qemu-$arch" "$@"
