#!/usr/bin/env bash
# Checks the Yocto layer targets/meta-zerocp without bitbake (CI has no poky):
#  - zerocp-crates.inc is what scripts/yocto-crates.py makes of Cargo.lock;
#  - the licence files match LIC_FILES_CHKSUM, in the tree and at SRCREV;
#  - oelint-adv (pinned, in a venv under target/) reports no error and no
#    warning for each release in LAYERSERIES_COMPAT_zerocp.
# Needs python3 (3.11+, with venv) and PyPI; as root on Debian it installs
# python3 and python3-venv when they are missing.
#
# The functions run as `step` commands, i.e. in an `if` condition where bash
# suspends `set -e`: every command that can fail says `|| return`.
# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LAYER=targets/meta-zerocp
RECIPE=$LAYER/recipes-zerocp/zerocp/zerocp_git.bb
CRATES_INC=$LAYER/recipes-zerocp/zerocp/zerocp-crates.inc
# oelint-adv and the two packages that decide its findings, pinned so that a
# new upstream rule cannot fail a build that changed nothing.
OELINT_PACKAGES=(oelint-adv==9.11.2 oelint-parser==8.13.2 oelint-data==1.5.26)
VENV=target/ci-tools/oelint-venv

TMP=$(mktemp -d)
cleanup() {
    local rc=$?
    rm -rf "$TMP"
    ci_on_exit "$rc"
}
trap cleanup EXIT

# Value of the last `NAME = "..."` in the recipe or a conf file
# (continuation lines joined, quotes dropped).
bb_value() {
    local name=$1 file=$2
    sed -e ':a' -e '/\\$/{N;s/\\\n//;ba' -e '}' "$file" |
        sed -n "s/^${name}[[:space:]]*=[[:space:]]*\"\(.*\)\"[[:space:]]*\$/\1/p" | tail -n 1
}

crates_current() {
    python3 scripts/yocto-crates.py --output "$TMP/crates.inc" || return
    if ! diff -u "$CRATES_INC" "$TMP/crates.inc"; then
        echo "$CRATES_INC does not match Cargo.lock:" \
            "run scripts/yocto-crates.py and commit the result" >&2
        return 1
    fi
    ci_note "$CRATES_INC lists the $(grep -c 'crate://' "$CRATES_INC") crates.io packages of Cargo.lock"
}

# LIC_FILES_CHKSUM's md5s against the files in the tree and in the SRCREV
# commit (what bitbake checks in do_populate_lic). zerocp-crates.inc follows
# the tree's Cargo.lock and SRCREV moves at releases (targets/README.md), so
# crates of SRCREV's Cargo.lock missing from it give a note, not a failure.
licences_and_srcrev() {
    local chksum srcrev entry file md5 failed=0
    chksum=$(bb_value LIC_FILES_CHKSUM "$RECIPE")
    srcrev=$(bb_value SRCREV "$RECIPE")
    [[ -n "$chksum" ]] || { echo "no LIC_FILES_CHKSUM in $RECIPE" >&2; return 1; }
    if ! git cat-file -e "${srcrev}^{commit}" 2>/dev/null; then
        if [[ "$(git rev-parse --is-shallow-repository)" == true ]]; then
            ci_note "shallow clone: cannot check SRCREV $srcrev"
            srcrev=""
        else
            echo "SRCREV $srcrev in $RECIPE is not a commit of this repository" >&2
            return 1
        fi
    fi
    for entry in $chksum; do
        file=${entry#file://}
        file=${file%%;*}
        md5=$(sed -n 's/.*;md5=\([0-9a-f]*\).*/\1/p' <<<"$entry")
        if [[ "$(md5sum <"$file" | cut -d' ' -f1)" != "$md5" ]]; then
            echo "$file: md5 differs from LIC_FILES_CHKSUM ($md5)" >&2
            failed=1
        fi
        if [[ -n "$srcrev" && "$(git show "$srcrev:$file" 2>/dev/null | md5sum | cut -d' ' -f1)" != "$md5" ]]; then
            echo "$file at SRCREV $srcrev: missing, or md5 differs from LIC_FILES_CHKSUM ($md5)" >&2
            failed=1
        fi
    done
    ((failed == 0)) || return 1
    ci_note "licence files match LIC_FILES_CHKSUM${srcrev:+ in the tree and at SRCREV ${srcrev:0:12}}"
    [[ -n "$srcrev" ]] || return 0
    git show "$srcrev:Cargo.lock" >"$TMP/srcrev.lock" || return
    python3 scripts/yocto-crates.py --lock "$TMP/srcrev.lock" --output "$TMP/srcrev.inc" || return
    local missing
    missing=$(comm -23 <(grep -o 'crate://[^;]*' "$TMP/srcrev.inc" | sort) \
        <(grep -o 'crate://[^;]*' "$CRATES_INC" | sort) | sed 's|crate://crates.io/||')
    if [[ -n "$missing" ]]; then
        ci_note "NOTE: SRCREV ${srcrev:0:12}'s Cargo.lock has crates that zerocp-crates.inc lacks" \
            "($(paste -sd ' ' <<<"$missing")): a bitbake build of the layer fails in do_compile" \
            "until a release moves SRCREV to a commit with the tree's Cargo.lock"
    fi
}

# python3 3.11+ (tomllib, for scripts/yocto-crates.py) with venv and
# ensurepip: on a fresh Debian 12, as root, apt installs python3 and
# python3-venv (Debian's python3 has no ensurepip without the latter).
python_ready() {
    if ! python3 -c 'import ensurepip, tomllib, venv' 2>/dev/null; then
        if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
            echo "need python3 >= 3.11 with venv: install python3 and python3-venv" >&2
            return 1
        fi
        ci_note "installing python3 python3-venv"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq || return
        apt-get install -y -qq --no-install-recommends python3 python3-venv </dev/null || return
        python3 -c 'import ensurepip, tomllib, venv' || return
    fi
    ci_note "$(python3 --version) at $(command -v python3)"
}

# The pinned packages in a venv under target/, reused while the pins match.
oelint_install() {
    local pins="${OELINT_PACKAGES[*]}"
    if [[ -x "$VENV/bin/oelint-adv" && "$(cat "$VENV/.pins" 2>/dev/null)" == "$pins" ]]; then
        ci_note "$pins already in $VENV"
        return 0
    fi
    rm -rf "$VENV"
    python3 -m venv "$VENV" || return
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "${OELINT_PACKAGES[@]}" || return
    echo "$pins" >"$VENV/.pins"
    ci_note "installed $pins in $VENV"
}

# oelint.vars.homepageping is suppressed: it fetches HOMEPAGE over the
# network, so its verdict depends on the CI machine rather than on the layer
# (and the project's placeholder URL, example.invalid, never resolves).
# Info findings are printed but do not fail; a kept one is explained in the
# recipe next to its `# nooelint:` comment.
oelint() {
    local release files=() out cmd
    mapfile -t files < <(find "$LAYER" -name '*.bb' -o -name '*.bbappend' -o -name '*.conf' | sort)
    for release in $(bb_value LAYERSERIES_COMPAT_zerocp "$LAYER/conf/layer.conf"); do
        out="$TMP/oelint-$release.txt"
        cmd=(oelint-adv --quiet --exit-zero --relpaths --release "$release" --mode all
            --suppress oelint.vars.homepageping --output "$out" "${files[@]}")
        printf '    $ %s\n' "${cmd[*]}"
        "$VENV/bin/${cmd[0]}" "${cmd[@]:1}" || return
        cat "$out"
        if grep -Eq ':(error|warning):' "$out"; then
            echo "oelint-adv --release $release: errors or warnings above" >&2
            return 1
        fi
        ci_note "oelint-adv --release $release: no error, no warning ($(grep -c ':info:' "$out") info)"
    done
}

step "python3 and venv" python_ready
step "zerocp-crates.inc matches Cargo.lock" crates_current
step "licence checksums and SRCREV" licences_and_srcrev
step "install oelint-adv" oelint_install
step "oelint-adv" oelint
