#!/usr/bin/env python3
"""Writes meta-zerocp's zerocp-crates.inc from the workspace's Cargo.lock.

BitBake fetches nothing during the build: every crate cargo needs must be in
the recipe's SRC_URI as a `crate://crates.io/NAME/VERSION` entry with the
sha256 that Cargo.lock records, so that do_fetch downloads it and cargo
builds `--frozen` from the unpacked copies. This script lists every
crates.io package of Cargo.lock (cargo resolves the whole lock file, so
dev-only and other-platform crates are needed too), sorted by name and
version, one entry per version when a crate appears twice. Workspace
members (no `source`) are skipped; any other source (git, another
registry) is an error, since a crate:// URL cannot fetch it.

The layout follows OE-core's cargo-update-recipe-crates class: one
`SRC_URI +=` block whose entries carry `name=NAME-VERSION`, then one
`SRC_URI[NAME-VERSION.sha256sum]` line per entry (the crate fetcher's
default checksum name, unique even for two versions of one crate).

Usage: scripts/yocto-crates.py [--lock Cargo.lock] [--output FILE|-]
Run it after any Cargo.lock change and commit the result; ci/yocto.sh
fails when the committed file differs from what this script writes.
"""

import argparse
import pathlib
import re
import sys

try:
    import tomllib  # Python 3.11+ (Debian 12 ships 3.11)
except ModuleNotFoundError:
    sys.exit("yocto-crates.py needs Python 3.11 or newer (tomllib)")

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_LOCK = ROOT / "Cargo.lock"
DEFAULT_OUTPUT = ROOT / "targets/meta-zerocp/recipes-zerocp/zerocp/zerocp-crates.inc"
CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"
# Letters, digits, '-' and '_' only: crates.io's rule, and nothing that could
# break the quoting or the ';'-separated parameters of a SRC_URI entry.
SAFE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
SAFE_VERSION = re.compile(r"^[0-9A-Za-z.+-]+$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")

HEADER = """\
# Generated from Cargo.lock by scripts/yocto-crates.py: do not edit by hand.
# Every crates.io package of the lock file, so that do_fetch downloads them
# all and cargo builds offline (--frozen). After a Cargo.lock change, re-run
# the script and commit this file with it (ci/yocto.sh checks they agree).
"""


def version_key(version):
    """Orders semver strings: numeric release parts, a pre-release before
    its release, build metadata ignored."""
    release, _, pre = version.split("+", 1)[0].partition("-")
    numbers = tuple(int(p) if p.isdigit() else -1 for p in release.split("."))
    return (numbers, 0 if pre else 1, pre)


def registry_crates(lock_path):
    """Returns sorted (name, version, sha256) of every crates.io package."""
    try:
        with open(lock_path, "rb") as f:
            lock = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        sys.exit(f"cannot read {lock_path}: {e}")
    crates = []
    problems = []
    for pkg in lock.get("package", []):
        name, version = pkg.get("name", "?"), pkg.get("version", "?")
        source = pkg.get("source")
        if source is None:
            continue  # a workspace member or path dependency: in the tree
        if source != CRATES_IO:
            problems.append(f"{name} {version}: source {source!r} is not crates.io")
            continue
        checksum = pkg.get("checksum", "")
        if not SAFE_NAME.match(name) or not SAFE_VERSION.match(version):
            problems.append(f"{name!r} {version!r}: unexpected characters")
        elif not SHA256.match(checksum):
            problems.append(f"{name} {version}: no sha256 checksum in the lock file")
        else:
            crates.append((name, version, checksum))
    if problems:
        sys.exit(
            f"{lock_path}: cannot express these packages as crate:// entries:\n  "
            + "\n  ".join(problems)
        )
    if not crates:
        sys.exit(f"{lock_path}: no crates.io packages found (is it a Cargo.lock?)")
    return sorted(crates, key=lambda c: (c[0], version_key(c[1])))


def render(crates):
    # No space after the opening quote: `+=` adds one (oelint-adv flags it).
    lines = [HEADER, 'SRC_URI += "\\']
    for name, version, _ in crates:
        lines.append(f"    crate://crates.io/{name}/{version};name={name}-{version} \\")
    lines.append('"')
    lines.append("")
    for name, version, checksum in crates:
        lines.append(f'SRC_URI[{name}-{version}.sha256sum] = "{checksum}"')
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lock", type=pathlib.Path, default=DEFAULT_LOCK,
                        help="Cargo.lock to read (default: the workspace's)")
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT),
                        help="file to write, '-' for stdout (default: the layer's zerocp-crates.inc)")
    args = parser.parse_args()

    text = render(registry_crates(args.lock))
    if args.output == "-":
        sys.stdout.write(text)
    else:
        pathlib.Path(args.output).write_text(text)


if __name__ == "__main__":
    main()
