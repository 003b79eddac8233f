#!/usr/bin/env bash
# Removes iceoryx2 files left behind by an iox2-throughput run that was
# killed hard (SIGKILL, crash): /dev/shm/iox2tp_* and /tmp/iceoryx2/**/iox2tp_*,
# then empty directories under /tmp/iceoryx2. A normal or Ctrl-C'd run cleans
# up after itself. Refuses while any iox2-throughput process is alive.
set -euo pipefail
if pgrep -x iox2-throughput >/dev/null; then
    echo "clean.sh: an iox2-throughput process is running; not cleaning" >&2
    exit 1
fi
rm -f /dev/shm/iox2tp_* 2>/dev/null || true
if [ -d /tmp/iceoryx2 ]; then
    find /tmp/iceoryx2 -name 'iox2tp_*' -delete 2>/dev/null || true
    find /tmp/iceoryx2 -mindepth 1 -type d -empty -delete 2>/dev/null || true
    rmdir /tmp/iceoryx2 2>/dev/null || true
fi
