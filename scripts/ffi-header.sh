#!/bin/sh
# Regenerates ffi/include/zerocp.h, the C API's header, from the zerocp-ffi
# crate with cbindgen (ffi/cbindgen.toml). CI checks that the checked-in
# header is current by running the same test without ZEROCP_BLESS_HEADER.
set -eu
cd "$(dirname "$0")/.."
ZEROCP_BLESS_HEADER=1 cargo test -p zerocp-ffi --test header --quiet
echo "wrote ffi/include/zerocp.h"
