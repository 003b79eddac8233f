# Run by `cmake --install` (see ../CMakeLists.txt): writes zerocp.pc for
# the prefix being installed to and installs it into lib/pkgconfig. The
# caller sets ZEROCP_PC_TEMPLATE, ZEROCP_PC_OUT, ZEROCP_PC_LIBDIR,
# ZEROCP_PC_INCLUDEDIR, ZEROCP_PC_VERSION and ZEROCP_PC_PRIVATE_LIBS.
set(ZEROCP_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
configure_file("${ZEROCP_PC_TEMPLATE}" "${ZEROCP_PC_OUT}" @ONLY)
file(INSTALL "${ZEROCP_PC_OUT}" DESTINATION "${CMAKE_INSTALL_PREFIX}/${ZEROCP_PC_LIBDIR}/pkgconfig")
