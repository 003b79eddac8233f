SUMMARY = "ZeroCP: zero-copy publish/subscribe over shared memory"
DESCRIPTION = "zerocpd (daemon) and zerocpctl (inspection CLI) for ZeroCP."
LICENSE = "Apache-2.0 | MIT"
LIC_FILES_CHKSUM = "file://README.md;md5=SKIP"

# Point SRC_URI at your mirror of the ZeroCP repository and pin SRCREV.
SRC_URI = "git://example.invalid/zerocp.git;protocol=https;branch=main \
           file://zerocpd.toml"
SRCREV = "${AUTOREV}"
S = "${WORKDIR}/git"

inherit cargo cargo-update-recipe-crates systemd

# Crate checksums: run `bitbake -c update_crates zerocp` after changing SRCREV.
require ${BPN}-crates.inc

CARGO_BUILD_FLAGS += "-p zerocp-daemon"

SYSTEMD_SERVICE:${PN} = "zerocpd.service"

do_install:append() {
    install -d ${D}${systemd_system_unitdir} ${D}${sysconfdir}/zerocp
    install -m 0644 ${S}/targets/systemd/zerocpd.service ${D}${systemd_system_unitdir}/
    install -m 0644 ${WORKDIR}/zerocpd.toml ${D}${sysconfdir}/zerocp/zerocpd.toml
}

FILES:${PN} += "${systemd_system_unitdir}/zerocpd.service ${sysconfdir}/zerocp"
