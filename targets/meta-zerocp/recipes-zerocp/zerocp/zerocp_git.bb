# nooelint: oelint.var.bbclassextend
# No BBCLASSEXTEND: zerocpd is a target daemon (systemd unit, system user);
# a native or nativesdk build of it has no use.
SUMMARY = "ZeroCP zero-copy pub/sub over shared memory: daemon, C/C++ API, Zenoh bridge"
DESCRIPTION = "zerocpd, the ZeroCP daemon that owns the shared memory, \
               registers processes, routes services to subscribers and cleans \
               up after processes that die, and zerocpctl, which inspects a \
               running domain; libzerocp, the C and C++ API, with its \
               headers, CMake package and pkg-config file (an application \
               recipe says DEPENDS += \"zerocp\"); zerocp-zenoh, the \
               bridge that forwards chosen services to other machines over \
               Zenoh (package zerocp-zenoh). Rust applications build the \
               zerocp crate in their own recipes."
HOMEPAGE = "https://example.invalid/zerocp"
BUGTRACKER = "https://example.invalid/zerocp/issues"
SECTION = "utils"
LICENSE = "Apache-2.0 | MIT"
LIC_FILES_CHKSUM = "file://LICENSE-APACHE;md5=3b83ef96387f14655fc854ddc3c6bd57 \
                    file://LICENSE-MIT;md5=632225ce9712d45b6e8d0dc6b4886e43"
# The name cve-check looks the product up by (the default, ${BPN}, made explicit).
CVE_PRODUCT = "zerocp"

# cmake installs the C API as ffi/CMakeLists.txt installs it everywhere.
DEPENDS += "cmake-native"

PV = "0.1.0+git"
SRC_URI = "git://example.invalid/zerocp;protocol=https;branch=main \
           file://zerocpd.toml \
           file://zenoh.toml \
           "
# The ZeroCP commit bitbake fetches and builds. zerocp-crates.inc must list
# the crates of this commit's Cargo.lock: to move SRCREV (a release moves it
# to the tagged commit), check that commit out, run scripts/yocto-crates.py
# and commit the new SRCREV and zerocp-crates.inc together.
SRCREV = "5b714a6214321bca9ae55497d0961b40c4c4893a"

# S is left at its default, ${UNPACKDIR}/${BP}, where the git fetcher
# unpacks since whinlatter.

inherit cargo systemd useradd

# crate:// entries for every crates.io package of Cargo.lock, so that
# do_fetch gets them all and cargo builds offline.
require ${BPN}-crates.inc

CARGO_BUILD_FLAGS += "-p zerocp-daemon"

# The ZeroCP-Zenoh bridge (crate zerocp-zenoh) goes into the package
# ${PN}-zenoh, with its systemd unit (not enabled: /etc/zerocp/zenoh.toml
# must name the services and peers first) and its system user; an image
# that wants it says IMAGE_INSTALL:append = " zerocp-zenoh".
CARGO_BUILD_FLAGS += "-p zerocp-zenoh"

# zerocpd.service runs the daemon as the system user zerocp, without a
# login shell or a home directory.
USERADD_PACKAGES = "${PN} ${PN}-zenoh"
GROUPADD_PARAM:${PN} = "--system zerocp"
USERADD_PARAM:${PN} = "--system --gid zerocp --no-create-home --home-dir /nonexistent --shell ${base_sbindir}/nologin zerocp"
GROUPADD_PARAM:${PN}-zenoh = "--system zerocp-zenoh"
USERADD_PARAM:${PN}-zenoh = "--system --gid zerocp-zenoh --no-create-home --home-dir /nonexistent --shell ${base_sbindir}/nologin zerocp-zenoh"

SYSTEMD_PACKAGES = "${PN} ${PN}-zenoh"
SYSTEMD_SERVICE:${PN} = "zerocpd.service"
SYSTEMD_SERVICE:${PN}-zenoh = "zerocp-zenoh.service"
SYSTEMD_AUTO_ENABLE:${PN}-zenoh = "disable"

# The C API (crate zerocp-ffi) in its own cargo profile: the release
# profile with unwinding, so that no Rust panic crosses into C, and with
# the soname C programs link against. CARGO_BUILD_FLAGS carries --release,
# which cargo refuses beside --profile, hence the flags spelled out.
do_compile:append() {
    "${CARGO}" rustc -v --frozen --target ${RUST_HOST_SYS} \
        --manifest-path=${CARGO_MANIFEST_PATH} -p zerocp-ffi --lib --profile ffi \
        -- -C link-arg=-Wl,-soname,libzerocp.so.0
}

do_install:append() {
    install -d ${D}${systemd_system_unitdir} ${D}${sysconfdir}/zerocp
    install -m 0644 ${S}/targets/systemd/zerocpd.service ${D}${systemd_system_unitdir}/
    install -m 0644 ${UNPACKDIR}/zerocpd.toml ${D}${sysconfdir}/zerocp/zerocpd.toml
    install -m 0644 ${S}/targets/systemd/zerocp-zenoh.service ${D}${systemd_system_unitdir}/
    install -m 0644 ${UNPACKDIR}/zenoh.toml ${D}${sysconfdir}/zerocp/zenoh.toml

    # libzerocp.so.0 (in ${PN}), the .so link, headers, CMake package and
    # zerocp.pc (in ${PN}-dev) and libzerocp.a (in ${PN}-staticdev): the
    # default FILES of those packages hold them.
    cmake -S ${S}/ffi -B ${B}/ffi-install \
        -DZEROCP_PREBUILT_DIR=${B}/target/${RUST_HOST_SYS}/ffi \
        -DCMAKE_INSTALL_PREFIX=${prefix} \
        -DCMAKE_INSTALL_LIBDIR=${baselib} \
        -DCMAKE_INSTALL_INCLUDEDIR=include
    DESTDIR=${D} cmake --install ${B}/ffi-install
}

PACKAGES =+ "${PN}-zenoh"
FILES:${PN} += "${systemd_system_unitdir}/zerocpd.service"
CONFFILES:${PN} = "${sysconfdir}/zerocp/zerocpd.toml"
FILES:${PN}-zenoh += "${bindir}/zerocp-zenoh \
                     ${systemd_system_unitdir}/zerocp-zenoh.service \
                     ${sysconfdir}/zerocp/zenoh.toml"
CONFFILES:${PN}-zenoh = "${sysconfdir}/zerocp/zenoh.toml"
# The bridge registers with the daemon of ${PN}.
RDEPENDS:${PN}-zenoh = "${PN}"
